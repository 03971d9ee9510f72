/* test_logfile.c - the k8s-file log line parser and tail reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lcd/logfile.h"

static int parse(const char *s, lcd_logline_t *l)
{
        return lcd_logline_parse(s, strlen(s), l);
}

static void test_parse(void **state)
{
        lcd_logline_t l;
        assert_int_equal(parse("2026-11-29T10:27:09.560998780+00:00 stdout F hello world", &l), 0);
        assert_int_equal(l.time_len, strlen("2026-11-29T10:27:09.560998780+00:00"));
        assert_string_equal(l.stream, "stdout");
        assert_false(l.partial);
        assert_int_equal(l.text_len, 11);
        assert_memory_equal(l.text, "hello world", 11);
        assert_int_equal(parse("2026-11-29T10:27:09Z stderr P part", &l), 0);
        assert_true(l.partial);
        assert_string_equal(l.stream, "stderr");
        assert_int_equal(parse("2026-11-29T10:27:09Z stdout F", &l), 0); /* an empty line */
        assert_int_equal(l.text_len, 0);
        const char *bad[] = {"",
                             "no-spaces",
                             "2026 stdin F x",
                             "2026 stdout X x",
                             "2026 stdout Fx",
                             "bad<time stdout F x",
                             " stdout F x",
                             "2026 stdout",
                             NULL};
        for (int i = 0; bad[i]; i++)
                if (parse(bad[i], &l) == 0)
                        fail_msg("accepted '%s'", bad[i]);
        /* never reads past len: cut before the F, the line is incomplete */
        char buf[] = "2026 stdout F abc";
        assert_int_equal(lcd_logline_parse(buf, 12, &l), -EINVAL);
        assert_int_equal(lcd_logline_parse(buf, 13, &l), 0);
        assert_int_equal(l.text_len, 0);
}

static char *write_tmp(const char *text)
{
        static char path[32];
        snprintf(path, sizeof path, "/tmp/lcd-log-XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

static const char *text_at(json_object *a, size_t i)
{
        return json_object_get_string(json_object_object_get(json_object_array_get_idx(a, i), "text"));
}

static void test_tail(void **state)
{
        const char *log = "2026-01-01T00:00:00Z stdout F one\n"
                          "garbage line\n"
                          "2026-01-01T00:00:01Z stderr P tw\n"
                          "2026-01-01T00:00:01Z stdout P thr\n"
                          "2026-01-01T00:00:02Z stderr F o\n"
                          "2026-01-01T00:00:03Z stdout F ee\n"
                          "2026-01-01T00:00:04Z stdout P unfinished\n";
        char *path = write_tmp(log);
        lcd_error_t *err = NULL;
        json_object *a = lcd_logfile_tail(path, 100, 1 << 20, NULL, &err);
        assert_non_null(a);
        assert_non_null(a);
        assert_int_equal(json_object_array_length(a), 4);
        assert_string_equal(text_at(a, 0), "one");
        assert_string_equal(text_at(a, 1), "two"); /* P + F joined */
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(a, 1), "stream")),
                            "stderr");
        assert_string_equal(text_at(a, 2), "three"); /* its parts around the stderr line */
        assert_string_equal(text_at(a, 3), "unfinished");
        json_object_put(a);
        a = lcd_logfile_tail(path, 2, 1 << 20, NULL, &err);
        assert_non_null(a);
        assert_int_equal(json_object_array_length(a), 2);
        assert_string_equal(text_at(a, 0), "three");
        json_object_put(a);
        /* a byte budget that starts inside a line skips to the next one */
        a = lcd_logfile_tail(path, 100, 60, NULL, &err);
        assert_non_null(a);
        assert_non_null(a);
        for (size_t i = 0; i < json_object_array_length(a); i++)
                assert_string_not_equal(text_at(a, i), "");
        json_object_put(a);
        unlink(path);
        a = lcd_logfile_tail("/nonexistent/log", 10, 100, NULL, &err);
        assert_non_null(a);
        assert_non_null(a);
        assert_int_equal(json_object_array_length(a), 0);
        json_object_put(a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse), cmocka_unit_test(test_tail)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}

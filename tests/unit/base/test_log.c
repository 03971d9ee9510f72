/* test_log.c - a log line is one line whatever the message holds (control
 * bytes and invalid UTF-8 escaped), and the rate limit holds back a flood
 * and says how much it held back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lcd/log.h"

/* What one lcd_log call writes to stderr. */
static void capture(char *out, size_t cap, const char *msg)
{
        int p[2];
        assert_int_equal(pipe(p), 0);
        int saved = dup(STDERR_FILENO);
        dup2(p[1], STDERR_FILENO);
        lcd_log(LCD_LOG_WARN, "refused %s", msg);
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(p[1]);
        ssize_t n = read(p[0], out, cap - 1);
        close(p[0]);
        assert_true(n > 0);
        out[n] = '\0';
}

static void test_one_line_escaped(void **state)
{
        char line[4096];
        capture(line, sizeof line, "GET /\x1b[31mred\r\nfake 2026 error x\xff\xc3\xa9");
        const char *msg = strstr(line, " warn  refused ");
        assert_non_null(msg);
        assert_string_equal(msg, " warn  refused GET /\\x1b[31mred  fake 2026 error x\\xff\xc3\xa9\n");
        assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1); /* one line */
        assert_null(strchr(line, '\x1b'));
}

static void test_long_message_cut_on_a_code_point(void **state)
{
        char big[5000], line[4096];
        for (size_t i = 0; i + 2 < sizeof big; i += 2)
                memcpy(big + i, "\xc3\xa9", 2);
        big[sizeof big - 2] = '\0';
        capture(line, sizeof line, big);
        assert_null(strstr(line, "\\x")); /* nothing half-cut to escape */
        assert_int_equal(line[strlen(line) - 1], '\n');
}

static void test_ratelimit(void **state)
{
        lcd_ratelimit_t rl = {0};
        unsigned suppressed = 99, logged = 0;
        for (int i = 0; i < 100; i++)
                if (lcd_ratelimit(&rl, 5, 200, &suppressed))
                        logged++;
        assert_int_equal(logged, 5);
        assert_int_equal(suppressed, 0);
        usleep(250 * 1000); /* the next window: the count of what was held back comes out once */
        assert_true(lcd_ratelimit(&rl, 5, 200, &suppressed));
        assert_int_equal(suppressed, 95);
        assert_true(lcd_ratelimit(&rl, 5, 200, &suppressed));
        assert_int_equal(suppressed, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_one_line_escaped),
                                           cmocka_unit_test(test_long_message_cut_on_a_code_point),
                                           cmocka_unit_test(test_ratelimit)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}

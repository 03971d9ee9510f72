/* test_cgroup.c - reading cgroup.procs for the one-by-one kill (kernels
 * without cgroup.kill): every pid whole, also past the 4 KiB read size,
 * where the old reader took a pid cut in two and killed that number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/engine/cgroup.h"

struct seen {
        long pids[4000];
        size_t n;
};

static void collect(long pid, void *arg)
{
        struct seen *s = arg;
        if (s->n < 4000)
                s->pids[s->n++] = pid;
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_every_pid_whole(void **state)
{
        char path[] = "/tmp/lcd-procs-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        /* 1500 pids of 7 digits: 12 KB, read in 4 KiB chunks */
        size_t cap = 1500 * 9 + 1;
        char *text = calloc(1, cap);
        assert_non_null(text);
        for (long i = 0; i < 1500; i++)
                snprintf(text + strlen(text), cap - strlen(text), "%ld\n", 1000000 + i * 7);
        write_file(path, text);
        static struct seen s;
        s.n = 0;
        assert_int_equal(lcd_cgroup_each_pid(path, collect, &s), 0);
        assert_int_equal(s.n, 1500);
        for (long i = 0; i < 1500; i++)
                assert_int_equal(s.pids[i], 1000000 + i * 7);
        /* the last line without its newline still counts; junk does not */
        write_file(path, "12\nabc\n\n34");
        s.n = 0;
        assert_int_equal(lcd_cgroup_each_pid(path, collect, &s), 0);
        assert_int_equal(s.n, 2);
        assert_int_equal(s.pids[0], 12);
        assert_int_equal(s.pids[1], 34);
        unlink(path);
        free(text);
        assert_int_equal(lcd_cgroup_each_pid("/nonexistent/cgroup.procs", collect, &s), -2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_pid_whole)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}

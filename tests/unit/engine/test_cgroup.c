/* test_cgroup.c - reading cgroup.procs for the one-by-one kill (kernels
 * without cgroup.kill): every pid whole, also past the 4 KiB read size,
 * where the old reader took a pid cut in two and killed that number; and
 * the numbers container.stats reads from a cgroup's files. */
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

static void test_read_stat(void **state)
{
        char dir[] = "/tmp/lcd-cg-XXXXXX", path[64];
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/cpu.stat", dir);
        write_file(path, "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n");
        snprintf(path, sizeof path, "%s/memory.current", dir);
        write_file(path, "4096\n");
        long long v = -1;
        assert_int_equal(lcd_cgroup_read_stat(dir, "cpu.stat", "usage_usec", &v), 0);
        assert_int_equal(v, 1234);
        assert_int_equal(lcd_cgroup_read_stat(dir, "cpu.stat", "system_usec", &v), 0);
        assert_int_equal(v, 234);
        assert_int_equal(lcd_cgroup_read_stat(dir, "memory.current", NULL, &v), 0);
        assert_int_equal(v, 4096);
        /* a key only as a prefix of another, a missing key, a missing file */
        assert_int_equal(lcd_cgroup_read_stat(dir, "cpu.stat", "usage", &v), -ENOENT);
        assert_int_equal(lcd_cgroup_read_stat(dir, "cpu.stat", "nr_periods", &v), -ENOENT);
        assert_int_equal(lcd_cgroup_read_stat(dir, "pids.current", NULL, &v), -ENOENT);
        /* a file without a number */
        snprintf(path, sizeof path, "%s/pids.current", dir);
        write_file(path, "max\n");
        assert_int_equal(lcd_cgroup_read_stat(dir, "pids.current", NULL, &v), -ENOENT);
        unlink(path);
        snprintf(path, sizeof path, "%s/cpu.stat", dir);
        unlink(path);
        snprintf(path, sizeof path, "%s/memory.current", dir);
        unlink(path);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_pid_whole), cmocka_unit_test(test_read_stat)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}

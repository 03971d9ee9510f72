/* test_fsutil.c - the file helpers on a real directory: rm -rf that empties
 * read-only directories but never follows a symlink out, atomic writes
 * that never write through a planted link, bounded reads and JSON files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lcd/fsutil.h"

static char dir[256];

static int setup(void **state)
{
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/lcd-fsutil-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
        return lcd_rmtree(dir);
}

/* dir/leaf, in one of four rotating buffers (two may be in one call) */
static const char *at(const char *leaf)
{
        static char paths[4][512];
        static unsigned next;
        char *path = paths[next++ % 4];
        snprintf(path, sizeof paths[0], "%s/%s", dir, leaf);
        return path;
}

static bool exists(const char *leaf)
{
        struct stat st;
        return lstat(at(leaf), &st) == 0;
}

static void test_mkdir_p(void **state)
{
        assert_int_equal(lcd_mkdir_p(at("a/b/c"), 0700), 0);
        assert_int_equal(lcd_mkdir_p(at("a/b/c"), 0700), 0); /* already there */
        struct stat st;
        assert_int_equal(stat(at("a/b/c"), &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(lcd_write_small(at("a/b/c"), "x") < 0, 1); /* a directory is no control file */
        assert_int_equal(lcd_rmtree(at("a")), 0);
        assert_false(exists("a"));
}

static void test_rmtree_empties_read_only_dirs_and_stays_inside(void **state)
{
        /* outside/ must survive: the tree holds a symlink to it */
        assert_int_equal(lcd_mkdir_p(at("outside"), 0700), 0);
        assert_int_equal(lcd_write_atomic(at("outside/keep"), "k", 1, 0600), 0);
        assert_int_equal(lcd_mkdir_p(at("t/ro/deeper"), 0700), 0);
        assert_int_equal(lcd_write_atomic(at("t/ro/deeper/f"), "f", 1, 0600), 0);
        assert_int_equal(symlink(at("outside"), at("t/link")), 0);
        assert_int_equal(chmod(at("t/ro/deeper"), 0500), 0); /* as umoci's rootless unpack leaves them */
        assert_int_equal(chmod(at("t/ro"), 0), 0);
        assert_int_equal(lcd_rmtree(at("t")), 0);
        assert_false(exists("t"));
        assert_true(exists("outside/keep"));
        assert_int_equal(lcd_rmtree(at("not-there")), 0);
}

static void test_write_atomic_replaces_and_never_follows_a_link(void **state)
{
        char buf[64];
        assert_int_equal(lcd_write_atomic(at("f"), "one", 3, 0640), 0);
        assert_int_equal(lcd_write_atomic(at("f"), "two!", 4, 0640), 0);
        assert_int_equal(lcd_read_small(at("f"), buf, sizeof buf), 4);
        assert_string_equal(buf, "two!");
        struct stat st;
        assert_int_equal(stat(at("f"), &st), 0);
        assert_int_equal(st.st_mode & 0777, 0640);
        /* a symlink planted where the file goes: replaced, its target untouched */
        assert_int_equal(lcd_write_atomic(at("target"), "safe", 4, 0600), 0);
        assert_int_equal(symlink(at("target"), at("planted")), 0);
        assert_int_equal(lcd_write_atomic(at("planted"), "evil", 4, 0600), 0);
        assert_int_equal(lcd_read_small(at("target"), buf, sizeof buf), 4);
        assert_string_equal(buf, "safe");
        assert_int_equal(lstat(at("planted"), &st), 0);
        assert_true(S_ISREG(st.st_mode));
}

static void test_read_small_is_bounded(void **state)
{
        char buf[4];
        assert_int_equal(lcd_write_atomic(at("long"), "abcdefgh", 8, 0600), 0);
        assert_int_equal(lcd_read_small(at("long"), buf, sizeof buf), 3);
        assert_string_equal(buf, "abc");
        assert_int_equal(lcd_read_small(at("absent"), buf, sizeof buf), -ENOENT);
}

static void test_json_read(void **state)
{
        assert_int_equal(lcd_write_atomic(at("j"), "{\"a\":[1,2]}", 11, 0600), 0);
        json_object *o = lcd_json_read(at("j"), 64);
        assert_non_null(o);
        assert_int_equal(json_object_array_length(json_object_object_get(o, "a")), 2);
        json_object_put(o);
        errno = 0;
        assert_null(lcd_json_read(at("j"), 10)); /* larger than max */
        assert_int_equal(errno, EFBIG);
        assert_int_equal(lcd_write_atomic(at("bad"), "{\"a\":", 5, 0600), 0);
        errno = 0;
        assert_null(lcd_json_read(at("bad"), 64));
        assert_int_equal(errno, EINVAL);
        errno = 0;
        assert_null(lcd_json_read(at("absent"), 64));
        assert_int_equal(errno, ENOENT);
}

static void test_find_on_path(void **state)
{
        char buf[4096];
        assert_int_equal(lcd_find_on_path("sh", buf, sizeof buf), 0);
        assert_true(buf[0] == '/' && access(buf, X_OK) == 0);
        assert_int_equal(lcd_find_on_path("no-such-tool-anywhere", buf, sizeof buf), -ENOENT);
        assert_true(lcd_fs_free(dir) > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mkdir_p),
                cmocka_unit_test(test_rmtree_empties_read_only_dirs_and_stays_inside),
                cmocka_unit_test(test_write_atomic_replaces_and_never_follows_a_link),
                cmocka_unit_test(test_read_small_is_bounded),
                cmocka_unit_test(test_json_read),
                cmocka_unit_test(test_find_on_path),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_strv.c - NULL-terminated string arrays: a deep copy, NULL in and
 * out, and an allocation failure reported as -ENOMEM with nothing left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lcd/alloc.h"
#include "lcd/strv.h"

static void test_dup(void **state)
{
        const char *const v[] = {"sh", "-c", "echo hi", NULL};
        char **d = NULL;
        assert_int_equal(lcd_strv_dup(v, &d), 0);
        assert_non_null(d);
        assert_int_equal(lcd_strv_len((const char *const *)d), 3);
        for (size_t i = 0; i < 3; i++) {
                assert_string_equal(d[i], v[i]);
                assert_ptr_not_equal(d[i], v[i]);
        }
        assert_null(d[3]);
        lcd_strv_free(d);
}

static void test_null_and_empty(void **state)
{
        char **d = (char **)&d; /* overwritten */
        assert_int_equal(lcd_strv_dup(NULL, &d), 0);
        assert_null(d);
        const char *const empty[] = {NULL};
        assert_int_equal(lcd_strv_dup(empty, &d), 0);
        assert_non_null(d);
        assert_null(d[0]);
        lcd_strv_free(d);
        lcd_strv_free(NULL);
}

static void test_nomem(void **state)
{
        const char *const v[] = {"a", "b", NULL};
        for (unsigned long k = 1; k <= 3; k++) {
                char **d = (char **)&d;
                lcd_alloc_fail_at(k);
                assert_int_equal(lcd_strv_dup(v, &d), -ENOMEM);
                assert_null(d);
                lcd_alloc_fail_at(0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dup),
                cmocka_unit_test(test_null_and_empty),
                cmocka_unit_test(test_nomem),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_runner.c - the real posix_spawn runner: output and status, the
 * stderr tail, the output cap, and the deadline -- also for a child that
 * closes its stdout and stderr and then hangs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lcd/runner.h"
#include "lcd/timeutil.h"

static int run(const char *script, int timeout_ms, size_t cap, lcd_run_result_t *res, lcd_error_t **err)
{
        lcd_runner_t *r = lcd_runner_spawn_new();
        assert_non_null(r);
        const char *argv[] = {"/bin/sh", "-c", script, NULL};
        lcd_run_spec_t spec = {.argv = argv, .timeout_ms = timeout_ms, .pass_fd = -1, .out_cap = cap};
        int rc = r->run(r, &spec, res, err);
        lcd_runner_free(r);
        return rc;
}

static void test_output_and_status(void **state)
{
        lcd_run_result_t res;
        lcd_error_t *err = NULL;
        assert_int_equal(run("echo out; echo err >&2; exit 3", 5000, 0, &res, &err), 0);
        assert_int_equal(res.status, 3);
        assert_string_equal(res.out, "out\n");
        assert_string_equal(res.err, "err\n");
        lcd_run_result_clear(&res);
        assert_int_equal(run("kill -TERM $$", 5000, 0, &res, &err), 0);
        assert_int_equal(res.status, 128 + SIGTERM);
        lcd_run_result_clear(&res);
}

static void test_output_cap(void **state)
{
        lcd_run_result_t res;
        lcd_error_t *err = NULL;
        assert_int_equal(run("i=0; while [ $i -lt 100 ]; do echo 0123456789; i=$((i+1)); done", 5000, 25, &res, &err),
                         0);
        assert_int_equal(res.out_len, 25);
        assert_true(res.out_truncated);
        lcd_run_result_clear(&res);
}

/* How long the run took, and that it was killed for the deadline. */
static void expect_timeout(const char *script, int timeout_ms)
{
        lcd_run_result_t res;
        lcd_error_t *err = NULL;
        int64_t t0 = lcd_now_ms();
        assert_int_equal(run(script, timeout_ms, 0, &res, &err), LCD_ERR);
        int64_t took = lcd_now_ms() - t0;
        assert_non_null(err);
        assert_int_equal(err->kind, LCD_E_TIMEOUT);
        assert_true(took >= timeout_ms && took < timeout_ms + 1000);
        lcd_error_free(err);
        lcd_run_result_clear(&res);
}

static void test_timeout(void **state)
{
        expect_timeout("sleep 4", 300);
        /* it closes the pipes first: the old runner then blocked in waitpid for 4 s */
        expect_timeout("exec >/dev/null 2>&1; sleep 4", 500);
}

static void test_missing_tool(void **state)
{
        lcd_runner_t *r = lcd_runner_spawn_new();
        const char *argv[] = {"lcd-no-such-tool", NULL};
        lcd_run_spec_t spec = {.argv = argv, .timeout_ms = 1000, .pass_fd = -1};
        lcd_run_result_t res;
        lcd_error_t *err = NULL;
        assert_int_equal(r->run(r, &spec, &res, &err), LCD_ERR);
        assert_int_equal(err->kind, LCD_E_TOOL_FAILED);
        assert_non_null(strstr(err->msg, "not found on PATH"));
        lcd_error_free(err);
        lcd_run_result_clear(&res);
        lcd_runner_free(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_output_and_status), cmocka_unit_test(test_output_cap),
                                           cmocka_unit_test(test_timeout), cmocka_unit_test(test_missing_tool)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}

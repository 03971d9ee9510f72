/* test_streamstatus.c - the exec stream's status frame: a metav1.Status
 * exactly as Kubernetes clients read it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../../src/api/streamstatus.h"
#include "lcd/alloc.h"

static void test_success_is_bare(void **state)
{
        (void)state;
        char *t = lcd_stream_status_exit(0, "");
        assert_string_equal(t, "{\"metadata\":{},\"status\":\"Success\"}");
        lcd_free(t);
}

static void test_an_exit_code_is_the_cause(void **state)
{
        (void)state;
        char *t = lcd_stream_status_exit(42, "");
        assert_string_equal(t, "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero "
                               "exit code: exit code 42\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{"
                               "\"reason\":\"ExitCode\",\"message\":\"42\"}]}}");
        lcd_free(t);
        t = lcd_stream_status_exit(127, "executable file `x` not found");
        assert_non_null(strstr(t, "non-zero exit code: executable file `x` not found, exit code 127\""));
        assert_non_null(strstr(t, "\"message\":\"127\""));
        lcd_free(t);
}

static void test_a_start_failure_has_no_details(void **state)
{
        (void)state;
        char *t = lcd_stream_status_error(LCD_E_CONFLICT, "not running");
        assert_string_equal(t, "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"not running\",\"reason\":"
                               "\"Conflict\"}");
        lcd_free(t);
        t = lcd_stream_status_error(LCD_E_BAD_REQUEST, "too big");
        assert_non_null(strstr(t, "\"reason\":\"BadRequest\""));
        lcd_free(t);
        t = lcd_stream_status_error(LCD_E_TOOL_FAILED, "crun");
        assert_non_null(strstr(t, "\"reason\":\"InternalError\""));
        lcd_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_success_is_bare),
                cmocka_unit_test(test_an_exit_code_is_the_cause),
                cmocka_unit_test(test_a_start_failure_has_no_details),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

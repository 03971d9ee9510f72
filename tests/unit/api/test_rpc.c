/* test_rpc.c - the JSON-RPC codec and parameter validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lcd/alloc.h"
#include "../../../src/api/rpc.h"

static int decode(const char *text, lcd_rpc_request_t *req, lcd_error_t **err)
{
        return lcd_rpc_decode(text, strlen(text), 0, req, err);
}

static void test_decode_ok(void **state)
{
        lcd_rpc_request_t req;
        lcd_error_t *err = NULL;
        assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"system.ping\"}", &req, &err), 0);
        assert_null(err);
        assert_string_equal(req.method, "system.ping");
        assert_true(req.has_id);
        assert_int_equal(json_object_get_int(req.id), 7);
        assert_null(req.params);
        lcd_rpc_request_clear(&req);

        assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"a\":1}}  \n", &req, &err), 0);
        assert_false(req.has_id); /* a notification */
        assert_non_null(req.params);
        lcd_rpc_request_clear(&req);
}

static void expect_fail(const char *text, lcd_errkind_t kind, bool id_kept)
{
        lcd_rpc_request_t req;
        lcd_error_t *err = NULL;
        if (decode(text, &req, &err) == 0)
                fail_msg("accepted: %s", text);
        assert_non_null(err);
        if (err->kind != kind)
                fail_msg("%s: kind %d (%s), want %d", text, err->kind, err->msg, kind);
        assert_int_equal(req.id != NULL, id_kept);
        lcd_error_free(err);
        lcd_rpc_request_clear(&req);
}

static void test_decode_errors(void **state)
{
        expect_fail("", LCD_E_PARSE, false);
        expect_fail("{", LCD_E_PARSE, false);
        expect_fail("{\"jsonrpc\":\"2.0\"} x", LCD_E_PARSE, false);
        expect_fail("[1,2]", LCD_E_BAD_REQUEST, false);
        expect_fail("42", LCD_E_BAD_REQUEST, false);
        expect_fail("{\"id\":3,\"method\":\"x\"}", LCD_E_BAD_REQUEST, true);
        expect_fail("{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"x\"}", LCD_E_BAD_REQUEST, true);
        expect_fail("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":5}", LCD_E_BAD_REQUEST, true);
        expect_fail("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}", LCD_E_BAD_REQUEST, false);
        expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":[1]}", LCD_E_INVALID, true);
        expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"extra\":1}", LCD_E_BAD_REQUEST, true);
        /* an id is copied into every pending reply: at most 256 bytes */
        char id[600];
        snprintf(id, sizeof id, "{\"jsonrpc\":\"2.0\",\"id\":\"%0257d\",\"method\":\"x\"}", 0);
        expect_fail(id, LCD_E_BAD_REQUEST, false);
        snprintf(id, sizeof id, "{\"jsonrpc\":\"2.0\",\"id\":\"%0256d\",\"method\":\"x\"}", 0);
        lcd_rpc_request_t r1;
        lcd_error_t *e1 = NULL;
        assert_int_equal(lcd_rpc_decode(id, strlen(id), 0, &r1, &e1), 0);
        assert_int_equal(json_object_get_string_len(r1.id), 256);
        lcd_rpc_request_clear(&r1);
        /* a smaller depth limit is honoured */
        lcd_rpc_request_t r2;
        lcd_error_t *e2 = NULL;
        const char *nested = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"a\":{\"b\":{}}}}";
        assert_int_equal(lcd_rpc_decode(nested, strlen(nested), 3, &r2, &e2), LCD_ERR);
        lcd_error_free(e2);
        lcd_rpc_request_clear(&r2);
        e2 = NULL;
        assert_int_equal(lcd_rpc_decode(nested, strlen(nested), 4, &r2, &e2), 0);
        lcd_rpc_request_clear(&r2);
        /* nesting deeper than the limit */
        char deep[200] = "";
        for (int i = 0; i < 40; i++)
                strcat(deep, "[");
        expect_fail(deep, LCD_E_PARSE, false);
}

static void test_oversize(void **state)
{
        size_t n = LCD_RPC_MAX_MESSAGE_HARD + 10;
        char *big = lcd_malloc(n + 1);
        assert_non_null(big);
        memset(big, ' ', n);
        big[n] = '\0';
        lcd_rpc_request_t req;
        lcd_error_t *err = NULL;
        assert_int_equal(lcd_rpc_decode(big, n, 0, &req, &err), LCD_ERR);
        assert_int_equal(err->kind, LCD_E_BAD_REQUEST);
        lcd_error_free(err);
        lcd_rpc_request_clear(&req);
        lcd_free(big);
}

static void test_error_envelope(void **state)
{
        lcd_error_t *err = NULL;
        lcd_error_tool(&err, "skopeo", "manifest unknown\n", "pull x: skopeo exited with status 1");
        json_object *id = json_object_new_string("abc");
        json_object *o = lcd_rpc_error(id, err);
        assert_non_null(o);
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        assert_non_null(strstr(s, "\"code\":-32004"));
        assert_non_null(strstr(s, "\"reason\":\"tool_failed\""));
        assert_non_null(strstr(s, "\"tool\":\"skopeo\""));
        assert_non_null(strstr(s, "\"id\":\"abc\""));
        json_object_put(o);
        json_object_put(id);
        lcd_error_free(err);
        /* a null id stays null */
        err = NULL;
        lcd_error_set(&err, LCD_E_PARSE, "bad");
        o = lcd_rpc_error(NULL, err);
        assert_non_null(strstr(json_object_to_json_string(o), "\"id\": null"));
        json_object_put(o);
        lcd_error_free(err);
}

static void test_error_codes(void **state)
{
        assert_int_equal(lcd_errkind_code(LCD_E_NOT_FOUND), -32001);
        assert_int_equal(lcd_errkind_code(LCD_E_CONFLICT), -32002);
        assert_int_equal(lcd_errkind_code(LCD_E_BUSY), -32003);
        assert_int_equal(lcd_errkind_code(LCD_E_TOOL_FAILED), -32004);
        assert_int_equal(lcd_errkind_code(LCD_E_UNSUPPORTED), -32007);
        assert_int_equal(lcd_errkind_code(LCD_E_TIMEOUT), -32008);
        assert_int_equal(lcd_errkind_code(LCD_E_NOMEM), -32603);
        assert_string_equal(lcd_errkind_reason(LCD_E_INVALID), "invalid");
}

static json_object *params(const char *text)
{
        return json_tokener_parse(text);
}

static void test_params(void **state)
{
        lcd_error_t *err = NULL;
        json_object *p = params("{\"name\":\"web\",\"tag\":\"1.0\",\"n\":5,\"b\":true,\"v\":[\"a\",\"b\"]}");
        const char *name, *tag;
        assert_int_equal(lcd_rpc_get_key(p, &name, &tag, &err), 0);
        assert_string_equal(name, "web");
        static const char *const keys[] = {"name", "tag", "n", "b", "v", NULL};
        assert_int_equal(lcd_rpc_check_keys(p, keys, &err), 0);
        static const char *const fewer[] = {"name", "tag", NULL};
        assert_int_equal(lcd_rpc_check_keys(p, fewer, &err), LCD_ERR);
        assert_non_null(strstr(err->msg, "unknown parameter"));
        lcd_error_free(err);
        err = NULL;
        bool present;
        int64_t n;
        assert_int_equal(lcd_rpc_get_int(p, "n", 0, 10, &present, &n, &err), 0);
        assert_true(present);
        assert_int_equal(n, 5);
        assert_int_equal(lcd_rpc_get_int(p, "n", 6, 10, &present, &n, &err), LCD_ERR);
        lcd_error_free(err);
        err = NULL;
        assert_int_equal(lcd_rpc_get_int(p, "missing", 0, 1, &present, &n, &err), 0);
        assert_false(present);
        const char **v;
        assert_int_equal(lcd_rpc_get_strv(p, "v", 2, 10, &v, &err), 0);
        assert_string_equal(v[1], "b");
        assert_null(v[2]);
        lcd_free(v);
        assert_int_equal(lcd_rpc_get_strv(p, "v", 1, 10, &v, &err), LCD_ERR);
        lcd_error_free(err);
        err = NULL;
        json_object_put(p);

        /* bad names and tags never pass */
        const char *bad[] = {
                "{\"name\":\"../x\",\"tag\":\"a\"}", "{\"name\":\"x\",\"tag\":\"../a\"}", "{\"name\":\"x\"}",
                "{\"name\":5,\"tag\":\"a\"}",        "{\"name\":\"X\",\"tag\":\"a\"}",    NULL};
        for (int i = 0; bad[i]; i++) {
                p = params(bad[i]);
                assert_int_equal(lcd_rpc_get_key(p, &name, &tag, &err), LCD_ERR);
                assert_int_equal(err->kind, LCD_E_INVALID);
                lcd_error_free(err);
                err = NULL;
                json_object_put(p);
        }
        /* embedded NUL */
        p = json_object_new_object();
        json_object_object_add(p, "s", json_object_new_string_len("a\0b", 3));
        const char *s;
        assert_int_equal(lcd_rpc_get_string(p, "s", true, 10, &s, &err), LCD_ERR);
        lcd_error_free(err);
        json_object_put(p);
}

/* The error.data object of the envelope for err, parsed back from its text
 * as a client reads it (a new reference). */
static json_object *wire_data(const lcd_error_t *err)
{
        json_object *o = lcd_rpc_error(NULL, err);
        assert_non_null(o);
        json_object *back = json_tokener_parse(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        assert_non_null(back);
        json_object *e = NULL, *data = NULL;
        assert_true(json_object_object_get_ex(back, "error", &e));
        assert_true(json_object_object_get_ex(e, "data", &data));
        json_object_get(data);
        json_object_put(back);
        return data;
}

/* The param a failed getter named, as the client reads it (NULL: none). */
static const char *param_of(lcd_error_t *err, char *buf, size_t len)
{
        assert_non_null(err);
        assert_int_equal(err->kind, LCD_E_INVALID);
        json_object *data = wire_data(err);
        json_object *v = NULL;
        const char *r = NULL;
        if (data == NULL || lcd_alloc_fail_hit()) { /* torture: nothing to compare */
                json_object_put(data);
                lcd_error_free(err);
                return NULL;
        }
        assert_string_equal(json_object_get_string(json_object_object_get(data, "reason")), "invalid");
        if (json_object_object_get_ex(data, "param", &v)) {
                snprintf(buf, len, "%s", json_object_get_string(v));
                r = buf;
        }
        json_object_put(data);
        lcd_error_free(err);
        return r;
}

/* Under the torture harness (every allocation failing in turn) an error
 * may have become out_of_memory by the time it is encoded: then there is
 * no parameter to compare, and only a crash or a sanitizer report counts. */
static void expect_param(lcd_error_t *err, const char *want)
{
        char buf[128];
        if (lcd_alloc_fail_hit()) {
                lcd_error_free(err);
                return;
        }
        const char *got = param_of(err, buf, sizeof buf);
        if (lcd_alloc_fail_hit())
                return;
        assert_non_null(got);
        assert_string_equal(got, want);
}

static void test_error_param(void **state)
{
        char buf[128];
        lcd_error_t *err = NULL;
        json_object *p = params("{\"name\":\"web\",\"tag\":\"1.0\",\"memoryLimit\":5,\"force\":\"yes\","
                                "\"cmd\":[\"sh\",7],\"env\":\"A=1\",\"image\":\"\",\"typo\":1}");
        bool present, b;
        int64_t n;
        const char *str, **v, *name, *tag;

        assert_int_equal(lcd_rpc_get_int(p, "memoryLimit", 4 << 20, INT64_MAX, &present, &n, &err), LCD_ERR);
        expect_param(err, "memoryLimit");
        err = NULL;
        assert_int_equal(lcd_rpc_get_int(p, "force", 0, 1, &present, &n, &err), LCD_ERR);
        expect_param(err, "force");
        err = NULL;
        assert_int_equal(lcd_rpc_get_bool(p, "force", &present, &b, &err), LCD_ERR);
        expect_param(err, "force");
        err = NULL;
        assert_int_equal(lcd_rpc_get_string(p, "missing", true, 10, &str, &err), LCD_ERR);
        expect_param(err, "missing");
        err = NULL;
        assert_int_equal(lcd_rpc_get_string(p, "name", true, 2, &str, &err), LCD_ERR);
        expect_param(err, "name");
        err = NULL;
        /* an item of an array names the array: the field, not its index */
        assert_int_equal(lcd_rpc_get_strv(p, "cmd", 8, 10, &v, &err), LCD_ERR);
        assert_non_null(strstr(err->msg, "cmd[1]"));
        expect_param(err, "cmd");
        err = NULL;
        assert_int_equal(lcd_rpc_get_strv(p, "env", 8, 10, &v, &err), LCD_ERR);
        expect_param(err, "env");
        err = NULL;
        static const char *const keys[] = {"name", "tag", "memoryLimit", "force", "cmd", "env", "image", NULL};
        assert_int_equal(lcd_rpc_check_keys(p, keys, &err), LCD_ERR);
        expect_param(err, "typo");
        err = NULL;
        json_object_put(p);

        p = params("{\"name\":\"Bad Name\",\"tag\":\"1\"}");
        assert_int_equal(lcd_rpc_get_key(p, &name, &tag, &err), LCD_ERR);
        expect_param(err, "name");
        err = NULL;
        json_object_put(p);
        p = params("{\"name\":\"ok\",\"tag\":\"../1\"}");
        assert_int_equal(lcd_rpc_get_key(p, &name, &tag, &err), LCD_ERR);
        expect_param(err, "tag");
        err = NULL;
        json_object_put(p);

        /* a long key is named by its first LCD_ERROR_PARAM_MAX bytes, on a code point */
        char text[300], key[200];
        memset(key, 'k', sizeof key);
        memcpy(key + LCD_ERROR_PARAM_MAX - 1, "\xc3\xa9", 2); /* é across the cut */
        key[150] = '\0';
        snprintf(text, sizeof text, "{\"%s\":1}", key);
        p = params(text);
        assert_int_equal(lcd_rpc_check_keys(p, keys, &err), LCD_ERR);
        const char *cut = param_of(err, buf, sizeof buf);
        if (!lcd_alloc_fail_hit())
                assert_int_equal(strlen(cut), LCD_ERROR_PARAM_MAX - 1);
        err = NULL;
        json_object_put(p);

        /* errors that are about no parameter carry none; the other data stays */
        lcd_error_set(&err, LCD_E_INVALID, "params must be an object");
        assert_null(param_of(err, buf, sizeof buf));
        err = NULL;
        lcd_error_tool(&err, "skopeo", "manifest unknown", "pull x: skopeo exited with status 1");
        json_object *data = wire_data(err);
        assert_null(json_object_object_get(data, "param"));
        if (!lcd_alloc_fail_hit()) { /* torture: the error may be out_of_memory by now */
                assert_string_equal(json_object_get_string(json_object_object_get(data, "tool")), "skopeo");
                assert_string_equal(json_object_get_string(json_object_object_get(data, "stderr")), "manifest unknown");
        }
        json_object_put(data);
        lcd_error_free(err);
        err = NULL;

        /* wrapping keeps the name; failing to copy it is out of memory */
        lcd_error_invalid(&err, "pidsLimit", "pidsLimit must be between 1 and 4194304");
        lcd_error_wrap(&err, "create %s", "web");
        if (!lcd_alloc_fail_hit())
                assert_string_equal(err->msg, "create web: pidsLimit must be between 1 and 4194304");
        expect_param(err, "pidsLimit");
        err = NULL;
        lcd_alloc_fail_at(3); /* the error, its message, then its param */
        assert_int_equal(lcd_error_invalid(&err, "tag", "bad tag"), LCD_ERR);
        lcd_alloc_fail_at(0);
        assert_int_equal(err->kind, LCD_E_NOMEM);
        lcd_error_free(err);
}

static void test_error_wrap_and_nomem(void **state)
{
        lcd_error_t *err = NULL;
        lcd_error_set(&err, LCD_E_TOOL_FAILED, "exit 1");
        lcd_error_wrap(&err, "pull %s", "busybox");
        assert_string_equal(err->msg, "pull busybox: exit 1");
        lcd_error_free(err);
        /* allocation failure while building an error gives the static one */
        err = NULL;
        lcd_alloc_fail_at(1);
        assert_int_equal(lcd_error_set(&err, LCD_E_INVALID, "x"), LCD_ERR);
        lcd_alloc_fail_at(0);
        assert_non_null(err);
        assert_int_equal(err->kind, LCD_E_NOMEM);
        lcd_error_free(err); /* must not free the static error */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decode_ok),   cmocka_unit_test(test_decode_errors),
                cmocka_unit_test(test_oversize),    cmocka_unit_test(test_error_envelope),
                cmocka_unit_test(test_error_codes), cmocka_unit_test(test_params),
                cmocka_unit_test(test_error_param), cmocka_unit_test(test_error_wrap_and_nomem),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* rpc.c - see rpc.h. */
#include "rpc.h"

#include "lcd/alloc.h"
#include "lcd/utf8.h"
#include "lcd/jsonwrite.h"
#include "lcd/ident.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void lcd_rpc_request_clear(lcd_rpc_request_t *req)
{
        json_object_put(req->root);
        memset(req, 0, sizeof *req);
}

int lcd_rpc_decode(const char *text, size_t len, unsigned max_depth, lcd_rpc_request_t *req, lcd_error_t **err)
{
        memset(req, 0, sizeof *req);
        if (len > LCD_RPC_MAX_MESSAGE_HARD)
                return lcd_error_set(err, LCD_E_BAD_REQUEST, "message larger than %d bytes", LCD_RPC_MAX_MESSAGE_HARD);
        struct json_tokener *tok = json_tokener_new_ex(max_depth ? (int)max_depth : LCD_RPC_MAX_DEPTH);
        if (tok == NULL)
                return lcd_error_nomem(err);
        json_object *root = json_tokener_parse_ex(tok, text, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t used = (size_t)tok->char_offset;
        if (root == NULL && jerr == json_tokener_continue) {
                /* a bare number ("42") needs a terminator to be complete */
                root = json_tokener_parse_ex(tok, " ", 1);
                jerr = json_tokener_get_error(tok);
                used = len;
        }
        json_tokener_free(tok);
        if (root == NULL || jerr != json_tokener_success) {
                json_object_put(root);
                if (jerr == json_tokener_continue)
                        return lcd_error_set(err, LCD_E_PARSE, "parse error: incomplete JSON");
                return lcd_error_set(err, LCD_E_PARSE, "parse error: %s", json_tokener_error_desc(jerr));
        }
        for (; used < len; used++)
                if (!strchr(" \t\r\n", text[used])) {
                        json_object_put(root);
                        return lcd_error_set(err, LCD_E_PARSE, "parse error: trailing data after the JSON value");
                }
        req->root = root;
        if (json_object_is_type(root, json_type_array))
                return lcd_error_set(err, LCD_E_BAD_REQUEST, "batch requests are not supported");
        if (!json_object_is_type(root, json_type_object))
                return lcd_error_set(err, LCD_E_BAD_REQUEST, "a request must be a JSON object");
        json_object *id = NULL;
        if (json_object_object_get_ex(root, "id", &id)) {
                json_type t = json_object_get_type(id);
                if (t != json_type_null && t != json_type_string && t != json_type_int && t != json_type_double)
                        return lcd_error_set(err, LCD_E_BAD_REQUEST, "id must be a string, a number or null");
                /* every pending reply keeps a copy: a bounded one */
                if (t == json_type_string && json_object_get_string_len(id) > LCD_RPC_MAX_ID)
                        return lcd_error_set(err, LCD_E_BAD_REQUEST, "id must be at most %d bytes", LCD_RPC_MAX_ID);
                req->has_id = true;
                req->id = id;
        }
        json_object *v = NULL;
        if (!json_object_object_get_ex(root, "jsonrpc", &v) || !json_object_is_type(v, json_type_string) ||
            strcmp(json_object_get_string(v), "2.0") != 0)
                return lcd_error_set(err, LCD_E_BAD_REQUEST, "jsonrpc must be \"2.0\"");
        if (!json_object_object_get_ex(root, "method", &v) || !json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) == 0)
                return lcd_error_set(err, LCD_E_BAD_REQUEST, "method must be a non-empty string");
        req->method = json_object_get_string(v);
        if (json_object_object_get_ex(root, "params", &v)) {
                if (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_null))
                        return lcd_error_set(err, LCD_E_INVALID, "params must be an object");
                req->params = json_object_is_type(v, json_type_null) ? NULL : v;
        }
        json_object_object_foreach (root, key, val) {
                (void)val;
                if (strcmp(key, "jsonrpc") && strcmp(key, "method") && strcmp(key, "params") && strcmp(key, "id"))
                        return lcd_error_set(err, LCD_E_BAD_REQUEST, "unknown member '%.*s' in request",
                                             lcd_utf8_clip(key, 64), key);
        }
        return 0;
}

static json_object *envelope(json_object *id)
{
        json_object *idc = NULL;
        if (id != NULL && json_object_deep_copy(id, &idc, NULL) != 0)
                return NULL;
        json_object *o = json_object_new_object();
        if (o == NULL || lcd_json_set(o, "jsonrpc", json_object_new_string("2.0")) < 0 ||
            json_object_object_add(o, "id", idc) != 0) {
                json_object_put(idc);
                json_object_put(o);
                return NULL;
        }
        return o;
}

json_object *lcd_rpc_result(json_object *id, json_object *result)
{
        json_object *o = envelope(id);
        if (o == NULL || json_object_object_add(o, "result", result) != 0) {
                json_object_put(result);
                json_object_put(o);
                return NULL;
        }
        return o;
}

json_object *lcd_rpc_error(json_object *id, const lcd_error_t *err)
{
        json_object *o = envelope(id);
        json_object *e = json_object_new_object();
        json_object *data = json_object_new_object();
        if (o == NULL || e == NULL || data == NULL)
                goto fail;
        if (lcd_json_set(data, "reason", json_object_new_string(lcd_errkind_reason(err->kind))) < 0 ||
            (err->param != NULL && lcd_json_set(data, "param", json_object_new_string(err->param)) < 0) ||
            (err->tool != NULL && lcd_json_set(data, "tool", json_object_new_string(err->tool)) < 0) ||
            (err->stderr_tail != NULL && lcd_json_set(data, "stderr", json_object_new_string(err->stderr_tail)) < 0) ||
            (err->oldest_seq > 0 && lcd_json_set(data, "oldestSeq", json_object_new_int64(err->oldest_seq)) < 0) ||
            lcd_json_set(e, "code", json_object_new_int(lcd_errkind_code(err->kind))) < 0 ||
            lcd_json_set(e, "message", json_object_new_string(err->msg)) < 0)
                goto fail;
        int r = lcd_json_set(e, "data", data);
        data = NULL; /* owned by e now, or released */
        if (r < 0)
                goto fail;
        if (lcd_json_set(o, "error", e) < 0) {
                e = NULL;
                goto fail;
        }
        return o;
fail:
        json_object_put(data);
        json_object_put(e);
        json_object_put(o);
        return NULL;
}

json_object *lcd_rpc_notification(const char *method, json_object *params)
{
        json_object *o = json_object_new_object();
        if (o == NULL || lcd_json_set(o, "jsonrpc", json_object_new_string("2.0")) < 0 ||
            lcd_json_set(o, "method", json_object_new_string(method)) < 0) {
                json_object_put(o);
                json_object_put(params);
                return NULL;
        }
        if (lcd_json_set(o, "params", params) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

int lcd_rpc_check_keys(json_object *params, const char *const *allowed, lcd_error_t **err)
{
        if (params == NULL)
                return 0;
        if (!json_object_is_type(params, json_type_object))
                return lcd_error_set(err, LCD_E_INVALID, "params must be an object");
        json_object_object_foreach (params, key, val) {
                (void)val;
                bool ok = false;
                for (size_t i = 0; allowed[i] != NULL && !ok; i++)
                        ok = strcmp(key, allowed[i]) == 0;
                if (!ok)
                        return lcd_error_invalid(err, key, "unknown parameter '%.*s'", lcd_utf8_clip(key, 64), key);
        }
        return 0;
}

static json_object *lookup(json_object *params, const char *key)
{
        json_object *v = NULL;
        if (params == NULL || !json_object_object_get_ex(params, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        return v;
}

/* v, the value of parameter key (what: "key" or "key[i]"), is a string of
 * at most max_len bytes without a NUL. */
static int check_string(json_object *v, const char *key, const char *what, size_t max_len, lcd_error_t **err)
{
        if (!json_object_is_type(v, json_type_string))
                return lcd_error_invalid(err, key, "%s must be a string", what);
        size_t len = (size_t)json_object_get_string_len(v);
        if (len > max_len)
                return lcd_error_invalid(err, key, "%s is longer than %zu bytes", what, max_len);
        if (strlen(json_object_get_string(v)) != len)
                return lcd_error_invalid(err, key, "%s contains a NUL byte", what);
        return 0;
}

int lcd_rpc_get_string(json_object *params, const char *key, bool required, size_t max_len, const char **out,
                       lcd_error_t **err)
{
        *out = NULL;
        json_object *v = lookup(params, key);
        if (v == NULL)
                return required ? lcd_error_invalid(err, key, "missing parameter '%s'", key) : 0;
        if (check_string(v, key, key, max_len, err) < 0)
                return LCD_ERR;
        *out = json_object_get_string(v);
        return 0;
}

int lcd_rpc_get_strv(json_object *params, const char *key, size_t max_items, size_t max_len, const char ***out,
                     lcd_error_t **err)
{
        *out = NULL;
        json_object *v = lookup(params, key);
        if (v == NULL)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return lcd_error_invalid(err, key, "%s must be an array of strings", key);
        size_t n = json_object_array_length(v);
        if (n > max_items)
                return lcd_error_invalid(err, key, "%s has more than %zu items", key, max_items);
        const char **a = lcd_calloc(n + 1, sizeof *a);
        if (a == NULL)
                return lcd_error_nomem(err);
        for (size_t i = 0; i < n; i++) {
                json_object *s = json_object_array_get_idx(v, i);
                char what[80];
                snprintf(what, sizeof what, "%s[%zu]", key, i);
                if (check_string(s, key, what, max_len, err) < 0) {
                        lcd_free(a);
                        return LCD_ERR;
                }
                a[i] = json_object_get_string(s);
        }
        *out = a;
        return 0;
}

int lcd_rpc_get_int(json_object *params, const char *key, int64_t min, int64_t max, bool *present, int64_t *out,
                    lcd_error_t **err)
{
        *present = false;
        json_object *v = lookup(params, key);
        if (v == NULL)
                return 0;
        if (!json_object_is_type(v, json_type_int))
                return lcd_error_invalid(err, key, "%s must be an integer", key);
        errno = 0;
        int64_t x = json_object_get_int64(v);
        if (errno != 0 || x < min || x > max)
                return lcd_error_invalid(err, key, "%s must be between %lld and %lld", key, (long long)min,
                                         (long long)max);
        *present = true;
        *out = x;
        return 0;
}

int lcd_rpc_get_bool(json_object *params, const char *key, bool *present, bool *out, lcd_error_t **err)
{
        *present = false;
        json_object *v = lookup(params, key);
        if (v == NULL)
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return lcd_error_invalid(err, key, "%s must be true or false", key);
        *present = true;
        *out = json_object_get_boolean(v);
        return 0;
}

int lcd_rpc_get_key(json_object *params, const char **name, const char **tag, lcd_error_t **err)
{
        if (lcd_rpc_get_string(params, "name", true, 256, name, err) < 0 ||
            lcd_rpc_get_string(params, "tag", true, 256, tag, err) < 0)
                return LCD_ERR;
        if (!lcd_name_valid(*name))
                return lcd_error_invalid(err, "name", "name must match [a-z0-9][a-z0-9_.-]{0,62}");
        if (!lcd_tag_valid(*tag))
                return lcd_error_invalid(err, "tag", "tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
        return 0;
}

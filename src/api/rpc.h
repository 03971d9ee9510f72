/* rpc.h - the JSON-RPC 2.0 codec and parameter validation.
 *
 * DESIGN: pure functions over json-c, used on the service thread (and by
 * the fuzzers later). lcd_rpc_decode() turns one WebSocket text message into
 * a request or an error that still carries the request's id when one could
 * be read, so the reply can be matched. Parameter getters validate type,
 * length and alphabet and name the parameter in their error (err->param,
 * sent as error.data.param beside the reason word); handlers list
 * their allowed keys so a misspelt parameter is an error, not a silent
 * default. Batches are not supported (answered with invalid_request).
 */
#ifndef LCD_RPC_H
#define LCD_RPC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lcd/api.h" /* the limits' defaults */
#include "lcd/error.h"

#define LCD_RPC_MAX_ID 256 /* bytes of a string id */

typedef struct {
        json_object *root;   /* owned: the parsed message */
        json_object *id;     /* borrowed from root; NULL when absent or null */
        bool has_id;         /* false: a notification (no reply is sent) */
        const char *method;  /* borrowed from root */
        json_object *params; /* borrowed from root; NULL when absent */
} lcd_rpc_request_t;

/* Decode one message, nested at most max_depth deep (0: the default). 0 on
 * success; LCD_ERR with err (parse_error or invalid_request) and
 * req->id/has_id set when the id was readable. Always call
 * lcd_rpc_request_clear(). */
int lcd_rpc_decode(const char *text, size_t len, unsigned max_depth, lcd_rpc_request_t *req, lcd_error_t **err);
void lcd_rpc_request_clear(lcd_rpc_request_t *req);

/* Envelopes. result and the copied id are consumed/copied; NULL on
 * allocation failure (result is released either way). */
json_object *lcd_rpc_result(json_object *id, json_object *result);
/* {"code","message","data":{"reason","param"?,"tool"?,"stderr"?,"oldestSeq"?}}
 * from err (borrowed). */
json_object *lcd_rpc_error(json_object *id, const lcd_error_t *err);
/* {"jsonrpc":"2.0","method":m,"params":params}; params consumed. */
json_object *lcd_rpc_notification(const char *method, json_object *params);

/* Fails with `invalid` naming the first key of params not in allowed
 * (NULL-terminated). params may be NULL (no keys). A non-object params is
 * invalid too. */
int lcd_rpc_check_keys(json_object *params, const char *const *allowed, lcd_error_t **err);
/* String parameter: absent -> *out = NULL (error when required). Length <=
 * max_len, no NUL bytes. */
int lcd_rpc_get_string(json_object *params, const char *key, bool required, size_t max_len, const char **out,
                       lcd_error_t **err);
/* Array of strings, at most max_items, each <= max_len. *out is a new
 * NULL-terminated array of borrowed pointers (lcd_free it), NULL if absent. */
int lcd_rpc_get_strv(json_object *params, const char *key, size_t max_items, size_t max_len, const char ***out,
                     lcd_error_t **err);
/* Integer in [min,max]; *present false when absent. */
int lcd_rpc_get_int(json_object *params, const char *key, int64_t min, int64_t max, bool *present, int64_t *out,
                    lcd_error_t **err);
int lcd_rpc_get_bool(json_object *params, const char *key, bool *present, bool *out, lcd_error_t **err);
/* The "name" and "tag" pair every container method takes, both required
 * and validated against the name/tag rules. */
int lcd_rpc_get_key(json_object *params, const char **name, const char **tag, lcd_error_t **err);

#endif

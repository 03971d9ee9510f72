/* error.h - the one error convention of light-containerd.
 *
 * DESIGN: a function that can fail for a reason worth telling a user
 * returns LCD_ERR (-1) and fills `lcd_error_t **err` with a kind and a
 * message; callers add context on the way up with lcd_error_wrap()
 * ("pull busybox: skopeo exited 1"). Functions with no message to give
 * return 0 or a negative errno. One X-macro table (LCD_ERROR_KINDS) maps
 * each kind to its JSON-RPC code and stable reason word, so the API layer
 * never invents codes. An error about one request parameter names it
 * (`param`), which the API sends as error.data.param so that a client can
 * point at the field without reading the message. Building an error
 * allocates; if that allocation
 * fails the caller gets a static out-of-memory error instead, which
 * lcd_error_free() knows not to free. Errors are owned by whoever holds
 * the pointer; any thread.
 */
#ifndef LCD_ERROR_H
#define LCD_ERROR_H

#include <stddef.h>
#include <stdint.h>

#define LCD_OK 0
#define LCD_ERR (-1)

#define LCD_ERROR_PARAM_MAX 64 /* bytes of a parameter's name kept in an error */

/*      kind           json-rpc  reason word        */
#define LCD_ERROR_KINDS(X)                                                                                             \
        X(PARSE, -32700, "parse_error")                                                                                \
        X(BAD_REQUEST, -32600, "invalid_request")                                                                      \
        X(NO_METHOD, -32601, "method_not_found")                                                                       \
        X(INVALID, -32602, "invalid")                                                                                  \
        X(NOT_FOUND, -32001, "not_found")                                                                              \
        X(CONFLICT, -32002, "conflict")                                                                                \
        X(BUSY, -32003, "busy")                                                                                        \
        X(TOOL_FAILED, -32004, "tool_failed")                                                                          \
        X(GONE, -32005, "gone")                                                                                        \
        X(UNAUTHORIZED, -32006, "unauthorized")                                                                        \
        X(UNSUPPORTED, -32007, "unsupported")                                                                          \
        X(TIMEOUT, -32008, "timeout")                                                                                  \
        X(FORBIDDEN, -32009, "forbidden")                                                                              \
        X(TOO_LARGE, -32010, "too_large")                                                                              \
        X(INTERNAL, -32603, "internal")                                                                                \
        X(NOMEM, -32603, "out_of_memory")

typedef enum {
#define LCD_X_ENUM(kind, code, word) LCD_E_##kind,
        LCD_ERROR_KINDS(LCD_X_ENUM)
#undef LCD_X_ENUM
                LCD_E__COUNT
} lcd_errkind_t;

typedef struct lcd_error {
        lcd_errkind_t kind;
        char *msg;          /* human message, never NULL */
        char *param;        /* the request parameter at fault ("memoryLimit"), else NULL */
        char *tool;         /* tool_failed: the tool's name, else NULL */
        char *stderr_tail;  /* tool_failed: last bytes of its stderr, else NULL */
        int64_t oldest_seq; /* gone: the oldest event still retained, else 0 */
} lcd_error_t;

/* Set *err (which must be NULL) to a new error; returns LCD_ERR. */
int lcd_error_set(lcd_error_t **err, lcd_errkind_t kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* invalid, naming the request parameter at fault: its name as the client
 * spelt it ("env" for a bad env[2]), copied, at most LCD_ERROR_PARAM_MAX
 * bytes kept (cut on a code point boundary). Returns LCD_ERR. */
int lcd_error_invalid(lcd_error_t **err, const char *param, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* tool_failed with the tool name and the tail of its stderr (both copied). */
int lcd_error_tool(lcd_error_t **err, const char *tool, const char *stderr_tail, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* The static out-of-memory error; returns LCD_ERR. */
int lcd_error_nomem(lcd_error_t **err);
/* Prefix the message with context: "ctx: old message". Keeps the kind.
 * Returns LCD_ERR so callers can `return lcd_error_wrap(...)`. */
int lcd_error_wrap(lcd_error_t **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lcd_error_free(lcd_error_t *err);
static inline void lcd_error_freep(lcd_error_t **e)
{
        lcd_error_free(*e);
}
#define cleanup_error __attribute__((cleanup(lcd_error_freep)))

int lcd_errkind_code(lcd_errkind_t kind);
const char *lcd_errkind_reason(lcd_errkind_t kind);

#endif

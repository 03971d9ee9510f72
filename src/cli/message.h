/* message.h - one message lightctl received from the daemon, decoded
 * (message.c). Private to the cli wing.
 *
 * DESIGN: the daemon sends three kinds of text message: the reply to a
 * request (matched by its "id", with a "result" or an "error"), and
 * notifications ("method" and "params": events, log lines, log.end). Every
 * command reads them through ctl_msg_decode, which is pure (no I/O, no
 * globals) so that a fuzzer can drive it with anything a peer could send:
 * it never fails, and a field the message lacks, or holds as the wrong
 * type, reads as NULL (or absent). The strings point into m->root.
 */
#ifndef LCD_CLI_MESSAGE_H
#define LCD_CLI_MESSAGE_H

#include <json-c/json.h>
#include <stdbool.h>

typedef enum {
        CTL_MSG_JUNK,   /* not JSON: skipped */
        CTL_MSG_REPLY,  /* has an "id": the reply to a request */
        CTL_MSG_NOTICE, /* no "id": a notification (or something else to skip) */
} ctl_msg_kind_t;

typedef struct {
        ctl_msg_kind_t kind;
        json_object *root; /* the parsed message, owned (ctl_msg_free); NULL for junk */
        long long id;      /* a reply's id as json-c reads it (a number, or a string of one) */
        /* a reply that failed: "error" is present (even as null) */
        bool failed;
        json_object *error;                       /* the error object (NULL if null) */
        const char *error_message, *error_reason; /* its message and data.reason; NULL if absent */
        json_object *result;                      /* a reply's "result" */
        /* a notification */
        const char *method; /* NULL if absent or null */
        json_object *params;
        const char *type; /* params.type: an event's kind (heartbeat, container.state, image.progress ...) */
} ctl_msg_t;

/* Decode text (NUL-terminated, as lcd_ws_recv gives it) into *m; always
 * succeeds (junk is a kind). Pure. The caller frees m with ctl_msg_free. */
ctl_msg_kind_t ctl_msg_decode(const char *text, ctl_msg_t *m);
void ctl_msg_free(ctl_msg_t *m);

/* Whether m is the reply to request id. */
bool ctl_msg_is_reply_to(const ctl_msg_t *m, long long id);
/* A string member of o: NULL when o is not an object, or the member is
 * absent or null; any other type as json-c prints it. */
const char *ctl_str(json_object *o, const char *key);
/* What a log line (container.logs' lines, a "log" notification's params)
 * goes to: true for "stderr", false for anything else (stdout). */
bool ctl_msg_log_is_stderr(json_object *line);

#endif

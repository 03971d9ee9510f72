/* pending.h - a request the engine answers later, and the mailbox that
 * brings the answer back to the service thread.
 *
 * DESIGN: a pending reply is made on the service thread (it takes a
 * session reference and counts as one of the session's requests in
 * flight), handed to the engine as the `ctx` of lcd_pending_done(), filled
 * by a worker and pushed onto the mailbox -- a list under mail_mu, the
 * only lock of the api wing, held for a push or a pop -- after which the
 * worker wakes the service loop. lcd_pending_deliver(), on the service
 * thread, takes the whole list, runs each reply's `then`, counts it for
 * /metrics and queues the reply on its session if that is still open.
 * Workers never touch a session.
 */
#ifndef LCD_PENDING_H
#define LCD_PENDING_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "api-internal.h"
#include "rpc.h"
#include "session.h"

typedef struct lcd_pending {
        struct lcd_pending *next;
        lcd_api_t *api;
        lcd_session_t *session; /* holds a reference */
        json_object *id;        /* a copy; NULL: null id */
        bool has_id;
        int method; /* index in the method table, for metrics */
        /* service thread, before the reply goes out (may edit p->result) */
        void (*then)(struct lcd_pending *p);
        char key_name[LCD_NAME_MAX + 1], key_tag[LCD_TAG_MAX + 1];
        int64_t start_us;    /* when the request came in */
        json_object *result; /* set by the worker */
        lcd_error_t *err;    /* set by the worker */
} lcd_pending_t;

/* A pending reply to req on s (service thread); NULL when out of memory. */
lcd_pending_t *lcd_pending_new(lcd_session_t *s, lcd_rpc_request_t *req);
/* Free a reply that was never handed to the engine, or was delivered. */
void lcd_pending_free(lcd_pending_t *p);
/* The engine's done callback (lcd_engine_done_fn; a worker thread): takes
 * result and err, mails p back and wakes the service loop. */
void lcd_pending_done(void *ctx, json_object *result, lcd_error_t *err);
/* Deliver every mailed reply (service thread). */
void lcd_pending_deliver(lcd_api_t *api);

#endif

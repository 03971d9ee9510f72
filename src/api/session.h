/* session.h - one client connection: its send queue and the messages on it.
 *
 * DESIGN: service thread only. A session lives in its own allocation
 * (lws frees its per-connection data at close while replies may still be
 * in flight): the connection holds one reference, each pending reply,
 * parked wait and log follow another. Messages are serialised once and
 * shared by reference between the sessions they go to. The send queue is
 * a ring grown on demand up to --send-queue messages and
 * LCD_SESSION_QUEUE_BYTES; a client that lets it fill is killed. Nothing
 * here knows what is above it: the features call down into it, and the
 * server ends a closing session's subscription, waits and follows before
 * lcd_session_close().
 */
#ifndef LCD_SESSION_H
#define LCD_SESSION_H

#include <json-c/json.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api-internal.h"

/* A message ready for lws_write: LWS_PRE bytes of headroom, then the text. */
typedef struct lcd_msg {
        unsigned refs;
        size_t len;
        unsigned char data[]; /* LWS_PRE + len + 1 */
} lcd_msg_t;

/* What a subscriber receives (subscribe.c fills it). */
typedef struct {
        char **names;   /* container names, NULL: all (owned) */
        unsigned types; /* bit (1 << lcd_event_type_t) per type, 0: all */
} lcd_sub_filter_t;

typedef struct lcd_session {
        unsigned refs;   /* the connection's, plus one per pending reply, wait and follow */
        struct lws *wsi; /* NULL once closed, or for a detached session (no socket) */
        bool open;       /* messages may be queued: not closed, not being killed */
        bool closed;     /* lcd_session_close() ran */
        lcd_api_t *api;
        lcd_msg_t **queue; /* a ring of q_cap slots, grown on demand up to --send-queue */
        unsigned q_cap, q_head, q_count;
        size_t q_bytes;
        int64_t last_sent_ms; /* monotonic: when a message was last queued (heartbeats) */
        char *rx;             /* a message being reassembled from fragments */
        size_t rx_len;
        bool rx_binary;     /* the message being received is binary: refused */
        unsigned inflight;  /* requests accepted and not yet answered, parked waits and active log follows */
        unsigned n_follows; /* active log follows (at most LCD_SESSION_FOLLOWS; follow.c) */
        /* subscribe.c */
        bool subscribed;
        uint64_t sub_after;      /* events with seq > sub_after are sent */
        lcd_sub_filter_t filter; /* which events */
        struct lcd_session *next_sub, *prev_sub;
} lcd_session_t;

/* A message holding o's text (o is not consumed), one reference; NULL
 * when out of memory. */
lcd_msg_t *lcd_msg_from_json(json_object *o);
void lcd_msg_unref(lcd_msg_t *m);

/* A session for a connection (wsi), or a detached one (wsi NULL) whose
 * queue its driver reads. NULL when out of memory. */
lcd_session_t *lcd_session_new(lcd_api_t *api, struct lws *wsi);
/* The connection is gone: nothing more is queued. Idempotent; the caller
 * still drops its reference. */
void lcd_session_close(lcd_session_t *s);
void lcd_session_unref(lcd_session_t *s);
/* Queue m (a new reference is taken), keeping `room` slots free after it:
 * 0 (also when the session no longer takes messages: dropped quietly),
 * -ENOSPC when it does not fit, -ENOMEM when the queue cannot grow. */
int lcd_session_push(lcd_session_t *s, lcd_msg_t *m, unsigned room);
/* Stop taking messages and close the connection with reason why (a
 * detached session's driver closes it). Idempotent. */
void lcd_session_kill(lcd_session_t *s, const char *why);
/* Queue a JSON value (consumed; NULL: its building ran out of memory) / an
 * error reply. What cannot be queued kills the session, saying why. */
void lcd_session_send_json(lcd_session_t *s, json_object *msg);
void lcd_session_send_error(lcd_session_t *s, json_object *id, const lcd_error_t *err);
/* Write queued messages while the socket takes them (a bounded batch).
 * The lws writable callback's answer: 0, or -1 to close. */
int lcd_session_write(lcd_session_t *s, struct lws *wsi);

#endif

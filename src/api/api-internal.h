/* api-internal.h - what the api wing's files share (server.c, methods.c,
 * http.c, subscribe.c, waiters.c, follow.c): sessions and their queues,
 * pending replies, the mailbox. A hub, not a noun: to be split by noun.
 * Service thread only, except where a field says otherwise. */
#ifndef LCD_API_INTERNAL_H
#define LCD_API_INTERNAL_H

#include <json-c/json.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "access.h"
#include "lcd/api.h"
#include "lcd/log.h"
#include "rpc.h"
#include "lcd/events.h"

#define LCD_MAX_FDS 8192                           /* listeners + client connections, at most */
#define LCD_SESSION_QUEUE 1024                     /* default --send-queue: messages waiting to be written */
#define LCD_SESSION_QUEUE_BYTES (16 * 1024 * 1024) /* and their bytes */
#define LCD_MAX_WAITERS 4096                       /* container.wait requests parked at once, daemon-wide */
#define LCD_MAX_FOLLOWERS 1024                     /* log follows at once, daemon-wide */
#define LCD_SESSION_FOLLOWS 16                     /* log follows of one connection */
#define LCD_HANDSHAKE_TIMEOUT_S 10                 /* a connection's request headers must be in by then */
#define LCD_SESSION_EVENT_ROOM 8                   /* slots kept free for replies */

/* A message ready for lws_write: LWS_PRE bytes of headroom, then the text.
 * Shared between the sessions that send it (refs: service thread only). */
typedef struct lcd_msg {
        unsigned refs;
        size_t len;
        unsigned char data[]; /* LWS_PRE + len + 1 */
} lcd_msg_t;

/* What a subscriber receives. */
typedef struct {
        char **names;   /* container names, NULL: all (owned) */
        unsigned types; /* bit (1 << lcd_event_type_t) per type, 0: all */
} lcd_sub_filter_t;

/* An events.subscribe request, validated by methods.c. */
typedef struct {
        bool has_since;
        uint64_t since;
        bool initial;
        lcd_sub_filter_t filter; /* ownership of names moves to the session */
} lcd_sub_request_t;

typedef struct lcd_session {
        unsigned refs;   /* the connection's, plus one per pending reply */
        struct lws *wsi; /* NULL once closed, or for a detached session (no socket) */
        bool open;       /* messages may be queued: not closed, not being killed */
        bool closed;     /* lcd_session_close() ran */
        lcd_api_t *api;
        lcd_msg_t **queue; /* a ring of q_cap slots, grown on demand up to --send-queue */
        unsigned q_cap, q_head, q_count;
        size_t q_bytes;
        bool subscribed;
        uint64_t sub_after;      /* events with seq > sub_after are sent */
        lcd_sub_filter_t filter; /* which events */
        int64_t last_sent_ms;    /* monotonic: when a message was last queued (heartbeats) */
        char *rx;                /* a message being reassembled from fragments */
        size_t rx_len;
        bool rx_binary;     /* the message being received is binary: refused */
        unsigned inflight;  /* requests accepted and not yet answered, parked waits and active log follows */
        unsigned n_follows; /* active log follows (at most LCD_SESSION_FOLLOWS) */
        struct lcd_session *next_sub, *prev_sub; /* the subscriber list */
} lcd_session_t;

/* An accepted asynchronous request. Allocated on the service thread before
 * the engine is called; filled by a worker (result/err) and handed back
 * through the mailbox. */
typedef struct lcd_waiter lcd_waiter_t;
typedef struct lcd_follower lcd_follower_t;

#define LCD_RPC_METHODS 32 /* slots for per-method counters (one more for unknown) */
#define LCD_RPC_BUCKETS 10

/* RPC counters for /metrics (service thread only). */
typedef struct {
        uint64_t requests[LCD_RPC_METHODS + 1], errors[LCD_RPC_METHODS + 1];
        uint64_t bucket[LCD_RPC_BUCKETS], count;
        double sum_s;
} lcd_rpc_metrics_t;

/* A plain HTTP response being written (per connection). */
typedef struct {
        char *body;
        size_t len, off;
} lcd_http_t;

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

struct lcd_api {
        struct lws_context *ctx;
        lcd_engine_t *engine;
        lcd_events_t *events;
        char boot_id[33];
        uint64_t delivered;    /* last event seq fanned out */
        uint64_t lagged_count; /* subscriptions ended for lagging */
        lcd_rpc_metrics_t metrics;
        lcd_api_limits_t limits;
        unsigned n_sessions;       /* WebSocket connections open */
        lcd_waiter_t *waiters;     /* parked container.wait requests */
        lcd_follower_t *followers; /* log follows */
        unsigned n_followers;
        int follow_fd;          /* inotify on followed logs; -1: none */
        struct lws *follow_wsi; /* its lws wrapper */
        unsigned waiter_count;
        int heartbeat_s;
        lws_sorted_usec_list_t heartbeat;
        lcd_session_t *subscribers;
        pthread_mutex_t mail_mu; /* guards mail_head/mail_tail */
        lcd_pending_t *mail_head, *mail_tail;
        int tcp_port;
        unsigned tcp_pending;        /* TCP connections that have not shown the token yet (--max-pending) */
        char dashboard[300];         /* its URL without the token, "" without a TCP listener */
        char *token_path;            /* a copy, or NULL */
        struct lws_vhost *tcp_vhost; /* NULL: no TCP listener */
        lcd_access_t access;
        lcd_ratelimit_t refusal_log; /* refusals are logged at a bounded rate */
        const lcd_check_t *checks;
        size_t n_checks;
};

/* Dispatch one decoded request; replies now or later. */
void lcd_methods_dispatch(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req);
/* The engine's done callback for pending replies (worker thread). */
void lcd_api_pending_done(void *ctx, json_object *result, lcd_error_t *err);
lcd_pending_t *lcd_api_pending_new(lcd_session_t *s, lcd_rpc_request_t *req);
void lcd_api_pending_free(lcd_pending_t *p);

/* Queue a JSON value (consumed) / an error reply on a session. A value
 * that cannot be queued closes the session (it is not reading). */
void lcd_session_send_json(lcd_session_t *s, json_object *msg);
void lcd_session_send_error(lcd_session_t *s, json_object *id, const lcd_error_t *err);
/* Messages and sessions (server.c). */
lcd_msg_t *lcd_msg_from_json(json_object *o);
void lcd_msg_unref(lcd_msg_t *m);
/* Queue m (a new reference is taken), keeping `room` slots free after it.
 * 0, -ENOSPC when it does not fit, or -ENOMEM when the queue cannot grow. */
int lcd_session_push(lcd_session_t *s, lcd_msg_t *m, unsigned room);
void lcd_session_kill(lcd_session_t *s, const char *why);
/* A session for a connection (wsi), or a detached one (wsi NULL) whose
 * queue the caller reads (in-process drivers: the allocation-failure
 * harness, the fuzzer). NULL when out of memory. */
lcd_session_t *lcd_session_new(lcd_api_t *api, struct lws *wsi);
/* The connection is gone: end its subscription, waits and follows. The
 * caller still drops its reference (lcd_session_unref). Idempotent. */
void lcd_session_close(lcd_session_t *s);
void lcd_session_unref(lcd_session_t *s);
/* One complete text message from the client: decode, dispatch, reply. */
void lcd_session_receive(lcd_session_t *s, const char *text, size_t len);
/* What the service thread does when woken: deliver finished requests and
 * new events. */
void lcd_api_service(lcd_api_t *api);
/* An API without listeners or lws context, for in-process drivers: they
 * call lcd_api_service() themselves. No heartbeats, no log follows. */
lcd_api_t *lcd_api_new_detached(const lcd_api_config_t *cfg, lcd_error_t **err);

/* Subscriptions and event fan-out (subscribe.c). */
/* Subscribe (see docs/API.md: since, initial, names, types): sends the
 * reply to id itself (none for a notification), then any replay or initial snapshot. LCD_ERR (gone,
 * out of memory) with nothing sent. req->filter.names is taken over. */
int lcd_session_subscribe(lcd_session_t *s, bool has_id, json_object *id, lcd_sub_request_t *req, lcd_error_t **err);
void lcd_session_unsubscribe(lcd_session_t *s);
/* Send every published event not yet fanned out to its subscribers. */
void lcd_events_fan_out(lcd_api_t *api);
/* container.wait (waiters.c): answer now or park until the exit event. */
int lcd_waiters_add(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, const char *name, const char *tag,
                    lcd_error_t **err);
void lcd_waiters_on_event(lcd_api_t *api, const lcd_event_t *e);
void lcd_waiters_drop_session(lcd_api_t *api, const lcd_session_t *s);
/* Log follow (follow.c). */
int lcd_follow_init(lcd_api_t *api, struct lws_vhost *vh);
void lcd_follow_free(lcd_api_t *api);
int lcd_follow_start(lcd_api_t *api, lcd_session_t *s, const char *name, const char *tag, const char *path,
                     off_t offset, lcd_error_t **err);
/* End s's follows of name:tag, telling the client reason. Returns how many. */
int lcd_follow_end(lcd_api_t *api, const lcd_session_t *s, const char *name, const char *tag, const char *reason);
/* Mark s's follows of name:tag to end (reason) once the replies queued now
 * are out: lcd_follow_run_deferred() ends them. */
void lcd_follow_end_later(lcd_api_t *api, const lcd_session_t *s, const char *name, const char *tag,
                          const char *reason);
void lcd_follow_run_deferred(lcd_api_t *api);
void lcd_follow_drop_session(lcd_api_t *api, const lcd_session_t *s);
void lcd_follow_on_event(lcd_api_t *api, const lcd_event_t *e);
void lcd_follow_readable(lcd_api_t *api);

/* Plain HTTP (http.c): answer a GET (the access check already passed);
 * write the next chunk when writable. Both return lws callback codes. */
int lcd_http_request(lcd_api_t *api, struct lws *wsi, lcd_http_t *h, const char *uri);
int lcd_http_writable(struct lws *wsi, lcd_http_t *h);
void lcd_http_clear(lcd_http_t *h);
/* Refuse a request (a handshake or a GET): HTTP/1.1 with the status of
 * kind and the body {"error": msg, "reason": word}, written in one piece
 * (lws's own status helper answers HTTP/1.0 during an upgrade), and the
 * connection closed once it is out. Returns -1, the callback's answer. */
int lcd_http_refuse(struct lws *wsi, lcd_errkind_t kind, const char *msg);
/* Metrics: count one finished request (method index, error?) and its time. */
void lcd_metrics_rpc(lcd_api_t *api, int method, bool error, int64_t start_us);
/* system.info: the engine's object plus the API's own fields
 * ("dashboard", "tokenFile"). NULL with err. */
json_object *lcd_api_info(lcd_api_t *api, lcd_error_t **err);
/* The method table's name for an index (methods.c). */
const char *lcd_methods_name(int method);
/* Heartbeats on idle subscriptions every interval_s seconds (0: none). */
void lcd_heartbeat_start(lcd_api_t *api, int interval_s);

#endif

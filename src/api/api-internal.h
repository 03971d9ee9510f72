/* api-internal.h - the state every api file reads: struct lcd_api.
 *
 * DESIGN: data, no calls. The api wing is a stack, bottom up: the codec
 * (rpc.c) and access.c; this state (api.c makes it); session.c (messages,
 * send queues, kill); metrics.c (counters); pending.c (replies a worker
 * completes, the mailbox); the features -- follow.c, waiters.c,
 * subscribe.c, methods.c, http.c, each calling only what is below it;
 * server.c (the libwebsockets glue) on top. A lower file never calls a
 * higher one. Each field says who writes it; everything is service-thread
 * only except mail_mu and what it guards.
 */
#ifndef LCD_API_INTERNAL_H
#define LCD_API_INTERNAL_H

#include <libwebsockets.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lcd/api.h"
#include "lcd/events.h"
#include "lcd/log.h"

#define LCD_MAX_FDS 8192                           /* listeners + client connections, at most */
#define LCD_SESSION_QUEUE 1024                     /* default --send-queue: messages waiting to be written */
#define LCD_SESSION_QUEUE_BYTES (16 * 1024 * 1024) /* and their bytes */
#define LCD_MAX_WAITERS 4096                       /* container.wait requests parked at once, daemon-wide */
#define LCD_MAX_FOLLOWERS 1024                     /* log follows at once, daemon-wide */
#define LCD_SESSION_FOLLOWS 16                     /* log follows of one connection */
#define LCD_HANDSHAKE_TIMEOUT_S 10                 /* a connection's request headers must be in by then */
#define LCD_SESSION_EVENT_ROOM 8                   /* slots kept free for replies */

#define LCD_RPC_METHODS 32 /* slots for per-method counters (one more for unknown) */
#define LCD_RPC_BUCKETS 10

/* RPC counters for /metrics (metrics.c). */
typedef struct {
        uint64_t requests[LCD_RPC_METHODS + 1], errors[LCD_RPC_METHODS + 1];
        uint64_t bucket[LCD_RPC_BUCKETS], count;
        double sum_s;
} lcd_rpc_metrics_t;

struct lcd_session;
struct lcd_pending;
struct lcd_waiter;
struct lcd_follower;

struct lcd_api {
        struct lws_context *ctx; /* server.c; NULL for a detached API */
        lcd_engine_t *engine;
        lcd_events_t *events;
        char boot_id[33];
        lcd_api_limits_t limits;
        lcd_access_t access;
        const lcd_check_t *checks;
        size_t n_checks;
        char *token_path; /* a copy, or NULL */
        /* session.c */
        unsigned n_sessions; /* WebSocket connections open */
        /* metrics.c */
        lcd_rpc_metrics_t metrics;
        /* pending.c: the mailbox, the one structure workers write */
        pthread_mutex_t mail_mu; /* guards mail_head/mail_tail */
        struct lcd_pending *mail_head, *mail_tail;
        /* subscribe.c */
        struct lcd_session *subscribers;
        uint64_t delivered;    /* last event seq fanned out */
        uint64_t lagged_count; /* subscriptions ended for lagging */
        int heartbeat_s;
        lws_sorted_usec_list_t heartbeat;
        /* waiters.c */
        struct lcd_waiter *waiters; /* parked container.wait requests */
        unsigned waiter_count;
        /* follow.c */
        struct lcd_follower *followers;
        unsigned n_followers;
        int follow_fd;          /* inotify on followed logs; -1: none */
        struct lws *follow_wsi; /* its lws wrapper */
        /* stream.c: exec streams, and those a worker has started (under mail_mu) */
        struct lcd_stream *streams;
        unsigned n_streams;
        struct lcd_stream *stream_mail;
        bool streams_stopping; /* the context is being destroyed: no stream timers */
        /* server.c */
        int tcp_port;
        unsigned tcp_pending;        /* TCP connections that have not shown the token yet (--max-pending) */
        char dashboard[300];         /* its URL without the token, "" without a TCP listener */
        struct lws_vhost *tcp_vhost; /* NULL: no TCP listener */
        lcd_ratelimit_t refusal_log; /* refusals are logged at a bounded rate */
};

/* The state without listeners or lws context: what lcd_api_new() builds
 * on, and what in-process drivers (the allocation-failure harness, the
 * fuzzer) use directly, calling lcd_api_service() themselves. NULL with
 * err. Free with lcd_api_free(). */
lcd_api_t *lcd_api_new_detached(const lcd_api_config_t *cfg, lcd_error_t **err);
/* What lcd_api_free() releases last, once nothing refers to the state. */
void lcd_api_release(lcd_api_t *api);

#endif

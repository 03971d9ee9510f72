/* api.h - the v1 API: JSON-RPC 2.0 over WebSocket at /v1/ws, served by
 * libwebsockets on a Unix socket and an optional TCP listener.
 *
 * DESIGN: one service thread runs lws_service() and alone touches sockets
 * and sessions. Workers finish requests by pushing a completion onto a
 * mailbox (mutex + list) and calling lws_cancel_service(); the service
 * thread then drains the mailbox and the event ring and queues messages
 * on each session's bounded send queue. See docs/ARCHITECTURE.md (the api
 * wing is a stack) and src/api/api-internal.h.
 */
#ifndef LCD_API_H
#define LCD_API_H

#include <signal.h>
#include <stddef.h>
#include <stdbool.h>

#include "lcd/doctor.h"
#include "lcd/engine.h"
#include "lcd/error.h"
#include "lcd/events.h"

typedef struct lcd_api lcd_api_t;

/* Defaults and bounds of the request limits (the daemon's flags). */
#define LCD_RPC_MAX_MESSAGE (1024 * 1024)           /* default bytes in one request (--max-message) */
#define LCD_RPC_MAX_MESSAGE_HARD (16 * 1024 * 1024) /* what --max-message may be set to */
#define LCD_RPC_MAX_DEPTH 16                        /* default JSON nesting (--max-depth) */

/* Who may talk to the daemon (src/api/access.c decides each connection). */
#define LCD_TOKEN_HEX 64 /* 256 bits */

typedef struct {
        const char *token;                /* hex; NULL: no token required anywhere */
        const char *const *allow_hosts;   /* NULL-terminated extra Host names (host or host:port) */
        const char *const *allow_origins; /* NULL-terminated extra origins ("https://ui.example") */
} lcd_access_t;

/* A new random token, LCD_TOKEN_HEX hex digits + NUL. 0 or -errno. */
int lcd_token_new(char out[LCD_TOKEN_HEX + 1]);

/* Per-client bounds, each a daemon flag. */
typedef struct {
        size_t max_message;    /* bytes in one request; over it the connection is closed (1009) */
        unsigned max_clients;  /* WebSocket connections; beyond, the upgrade answers 503 */
        unsigned max_inflight; /* requests accepted and unanswered per connection; beyond: busy */
        unsigned max_depth;    /* JSON nesting of a request */
        unsigned send_queue;   /* messages queued per connection (> LCD_SESSION_EVENT_ROOM) */
        unsigned max_pending;  /* TCP connections not authenticated yet; beyond, closed at accept */
} lcd_api_limits_t;

typedef struct {
        const char *socket_path; /* Unix socket, created mode 0600 */
        const char *listen_addr; /* TCP address, NULL: no TCP listener */
        int listen_port;
        lcd_engine_t *engine;           /* borrowed */
        lcd_events_t *events;           /* borrowed */
        int heartbeat_s;                /* heartbeat on idle subscriptions; 0: none */
        lcd_access_t access;            /* token, allowed hosts and origins (borrowed strings) */
        const char *tls_cert, *tls_key; /* PEM files for the TCP listener, or NULL */
        lcd_api_limits_t limits;
        const lcd_check_t *checks; /* the doctor's results at start (system.check) */
        size_t n_checks;
        const char *token_path; /* where the token is (system.info tells the daemon's user) */
} lcd_api_config_t;

/* Create the listeners. NULL with err on failure. Service thread. */
lcd_api_t *lcd_api_new(const lcd_api_config_t *cfg, lcd_error_t **err);
/* The TCP port actually bound (useful with port 0), or 0. */
int lcd_api_tcp_port(lcd_api_t *api);
/* The dashboard's address without the token ("http://127.0.0.1:7780/"),
 * or "" without a TCP listener. */
const char *lcd_api_dashboard_url(lcd_api_t *api);
/* Serve until *stop becomes non-zero. */
void lcd_api_run(lcd_api_t *api, const volatile sig_atomic_t *stop);
/* Wake the service thread (any thread, async-signal-safe). */
void lcd_api_wake(void *api);
/* Deliver what is pending (events published during shutdown) and free. */
void lcd_api_free(lcd_api_t *api);

#endif

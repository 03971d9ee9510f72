/* server.c - the libwebsockets glue: the context and its listeners, the
 * callback that routes each connection's events, the service loop.
 *
 * DESIGN: the top of the api wing's stack (api-internal.h): it calls every
 * file below and nothing calls it. Everything here runs on the one service
 * thread except lcd_api_wake(), which workers and the signal handler call.
 * A connection's WebSocket messages are reassembled here (at most
 * --max-message bytes, else close code 1009) and handed to methods.c;
 * writes go out from the session's queue when lws says the socket is
 * writable. Who may connect is decided in access.c (token on TCP, Host and
 * Origin checks) when the HTTP upgrade is confirmed, before any message is
 * read; plain GETs are http.c's.
 */
#include "api-internal.h"

#include "access.h"
#include "execquery.h"
#include "follow.h"
#include "http.h"
#include "lcd/alloc.h"
#include "lcd/log.h"
#include "methods.h"
#include "pending.h"
#include "server.h"
#include "session.h"
#include "stream.h"
#include "subscribe.h"
#include "ui.h"
#include "waiters.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LCD_WS_PATH "/v1/ws"

struct pss {
        lcd_session_t *s; /* WebSocket connections */
        lcd_http_t http;  /* plain HTTP requests */
};

/* The context lcd_api_wake(NULL) wakes: the signal handler's way in (it
 * has no api pointer). Set once the context exists and cleared first thing
 * in lcd_api_free, by the service thread; read by the stop signals'
 * handler, which runs on the service thread too (main.c blocks those
 * signals in every other thread), so it never sees a context being
 * destroyed. Atomic all the same (lock-free on the targets, safe in a
 * handler): workers call lcd_api_wake(api) with their own pointer, and a
 * driver may take signals elsewhere. */
static struct lws_context *_Atomic wake_ctx;

void lcd_api_service(lcd_api_t *api)
{
        lcd_subscribe_fan_out(api);
        lcd_pending_deliver(api);
        lcd_stream_deliver(api);
        lcd_follow_run_deferred(api);
        lcd_subscribe_fan_out(api);
}

void lcd_api_end_session(lcd_session_t *s)
{
        if (s->closed)
                return;
        lcd_subscribe_stop(s);
        lcd_waiters_drop_session(s->api, s);
        lcd_follow_drop_session(s->api, s);
        lcd_session_close(s);
}

/* ---- lws callbacks ---- */

/* Copy a header into buf; NULL when absent (or too long to be honest). */
static const char *header(struct lws *wsi, enum lws_token_indexes t, char *buf, int len)
{
        int n = lws_hdr_total_length(wsi, t);
        if (n <= 0 || n >= len || lws_hdr_copy(wsi, buf, len, t) < 0)
                return NULL;
        return buf;
}

/* Log a refusal. A client can cause them at will, so at most
 * REFUSALS_LOGGED lines per REFUSALS_WINDOW_MS, then one line with the
 * count held back. */
#define REFUSALS_LOGGED 10
#define REFUSALS_WINDOW_MS 10000
__attribute__((format(printf, 2, 3))) static void log_refusal(lcd_api_t *api, const char *fmt, ...)
{
        unsigned held;
        bool now = lcd_ratelimit(&api->refusal_log, REFUSALS_LOGGED, REFUSALS_WINDOW_MS, &held);
        if (held > 0)
                lcd_warn("%u more refusals were not logged (at most %d per %d s)", held, REFUSALS_LOGGED,
                         REFUSALS_WINDOW_MS / 1000);
        if (!now)
                return;
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        lcd_warn("%s", msg);
}

/* A TCP connection leaves the count of those not authenticated (it showed
 * the token, or it is gone). Idempotent. */
static void authenticated(lcd_api_t *api, struct lws *wsi)
{
        if (lws_get_opaque_user_data(wsi) == &api->tcp_pending) {
                lws_set_opaque_user_data(wsi, NULL);
                api->tcp_pending--;
        }
}

/* Who may connect (access.h). 0: go on; -1: refused (answered, the
 * connection closes). public: a dashboard file, served without the token
 * (the Host rules hold). */
static int check_access(lcd_api_t *api, struct lws *wsi, bool upgrade, bool public)
{
        char host[256], origin[512], authz[256], protos[512], query[512];
        const char *q = NULL;
        if (!upgrade && lws_hdr_copy(wsi, query, sizeof query, WSI_TOKEN_HTTP_URI_ARGS) > 0)
                q = query;
        lcd_error_t *err = NULL;
        bool tcp = lws_get_vhost(wsi) == api->tcp_vhost;
        if (lcd_access_check(&api->access, tcp && !public, header(wsi, WSI_TOKEN_HOST, host, sizeof host),
                             header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof origin),
                             header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, authz, sizeof authz),
                             upgrade ? header(wsi, WSI_TOKEN_PROTOCOL, protos, sizeof protos) : NULL, q, &err) == 0) {
                if (tcp && !public) /* a dashboard file proves nothing: it needs no token */
                        authenticated(api, wsi);
                return 0;
        }
        log_refusal(api, "refused a %s request (%s): %s", tcp ? "TCP" : "Unix socket", lcd_errkind_reason(err->kind),
                    err->msg);
        int r = lcd_http_refuse(wsi, err->kind, err->msg);
        lcd_error_free(err);
        return r;
}

/* An exec's or an attach's upgrade (execquery.h): its query, then the
 * engine's checks (lcd_stream_start, lcd_stream_attach). 0 go on, -1
 * refused (answered). */
static int confirm_exec(lcd_api_t *api, struct lws *wsi, lcd_exec_query_t *q)
{
        lcd_error_t *err = NULL;
        lcd_stream_t *st = NULL;
        if (lcd_exec_query_parse(wsi, q, &err) == 0)
                st = q->attach ? lcd_stream_attach(api, wsi, &q->attach_req, q->want_out, q->want_err, &err)
                               : lcd_stream_start(api, wsi, &q->req, &err);
        lcd_exec_query_clear(q);
        if (st == NULL) {
                log_refusal(api, "refused an %s in %s:%s: %s", q->attach ? "attach" : "exec", q->name, q->tag,
                            err->msg);
                int r = lcd_http_refuse_reason(wsi, err->kind, err->kind == LCD_E_CONFLICT ? "wrong_state" : NULL,
                                               err->msg);
                lcd_error_free(err);
                return r;
        }
        lws_set_opaque_user_data(wsi, st); /* for the stream protocol's ESTABLISHED, or WSI_DESTROY */
        return 0;
}

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: 0 go on, -1 refused (answered). */
static int confirm_upgrade(lcd_api_t *api, struct lws *wsi)
{
        char uri[512];
        lcd_exec_query_t q; /* some 8 KiB, on the service thread's stack */
        bool exec = false;
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
            (strcmp(uri, LCD_WS_PATH) != 0 && !(exec = lcd_exec_query_path(uri, &q)))) {
                log_refusal(api, "refused a WebSocket handshake for path %s (the API is at %s)", uri, LCD_WS_PATH);
                return lcd_http_refuse(wsi, LCD_E_NOT_FOUND, "the API is a WebSocket at " LCD_WS_PATH);
        }
        if (!exec && api->n_sessions >= api->limits.max_clients) {
                log_refusal(api, "refused a connection: %u clients already (--max-clients)", api->n_sessions);
                return lcd_http_refuse(wsi, LCD_E_BUSY, "too many clients (--max-clients)");
        }
        if (check_access(api, wsi, true, false) < 0)
                return -1;
        return exec ? confirm_exec(api, wsi, &q) : 0;
}

/* The stream that an exec's upgrade left on wsi (see confirm_exec), taken. */
static lcd_stream_t *take_stream(lcd_api_t *api, struct lws *wsi)
{
        void *p = lws_get_opaque_user_data(wsi);
        if (p == NULL || p == &api->tcp_pending)
                return NULL;
        lws_set_opaque_user_data(wsi, NULL);
        return p;
}

/* Assemble a message from its fragments and dispatch it. -1 closes the
 * connection (a message over the limit: close code 1009). */
static int on_receive(lcd_session_t *s, struct lws *wsi, const char *in, size_t len)
{
        lcd_api_t *api = s->api;
        if (lws_frame_is_binary(wsi) && lws_is_first_fragment(wsi) && s->rx_len == 0)
                s->rx_binary = true; /* discarded, answered below */
        if (!s->rx_binary) {
                if (s->rx_len + len > api->limits.max_message) {
                        static const char why[] = "message too large";
                        lcd_warn("closing a connection: a message over %zu bytes", api->limits.max_message);
                        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why, sizeof why - 1);
                        return -1;
                }
                if (len > 0) {
                        char *grown = lcd_realloc(s->rx, s->rx_len + len + 1);
                        if (grown == NULL) {
                                lcd_session_kill(s, "out of memory receiving a message");
                                return 0;
                        }
                        s->rx = grown;
                        memcpy(s->rx + s->rx_len, in, len);
                        s->rx_len += len;
                        s->rx[s->rx_len] = '\0';
                }
        }
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
                return 0;
        lcd_error_t *err = NULL;
        if (s->rx_binary) {
                lcd_error_set(&err, LCD_E_BAD_REQUEST, "binary messages are not supported; send text");
                lcd_session_send_error(s, NULL, err);
                lcd_error_free(err);
        } else {
                lcd_methods_receive(s, s->rx ? s->rx : "", s->rx_len);
        }
        lcd_free(s->rx);
        s->rx = NULL;
        s->rx_len = 0;
        s->rx_binary = false;
        return 0;
}

/* LWS_CALLBACK_ADD_HEADERS, in a WebSocket handshake's 101 response.
 * libwebsockets 4.4.0 and 4.4.1 (the one nixpkgs ships) leave the
 * Sec-WebSocket-Accept line unterminated when the client asked for no
 * subprotocol, so the client waits for the end of the headers until it
 * gives up (fixed upstream in 4.4.2, "ws: server: fix failed ext neg
 * CRLF"). End the line here; where it is already ended, add nothing. */
static int end_handshake_line(struct lws *wsi, struct lws_process_html_args *args)
{
        if (args == NULL || args->p == NULL || lws_hdr_total_length(wsi, WSI_TOKEN_KEY) <= 0)
                return 0;
        if (args->p[-2] == '\r' && args->p[-1] == '\n')
                return 0;
        if (args->max_len < 2)
                return -1;
        memcpy(args->p, "\r\n", 2);
        args->p += 2;
        args->max_len -= 2;
        return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
        struct pss *pss = user;
        lcd_api_t *api = lws_context_user(lws_get_context(wsi));
        switch (reason) {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
                if (api != NULL)
                        lcd_api_service(api);
                return 0;
        case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
                if (api == NULL)
                        return 0;
                /* on TCP, a bounded number of connections that have not shown the token */
                if (lws_get_vhost(wsi) == api->tcp_vhost) {
                        if (api->tcp_pending < api->limits.max_pending)
                                return 0;
                        log_refusal(api, "refused a TCP connection: %u are not authenticated yet (--max-pending)",
                                    api->tcp_pending);
                        return -1;
                }
                /* before anything is read: on the Unix socket, only the daemon's own uid */
                lcd_error_t *err = NULL;
                unsigned uid;
                if (lcd_access_peer((int)(intptr_t)in, &uid, &err) == 0)
                        return 0;
                log_refusal(api, "refused a Unix socket connection from uid %u: %s", uid, err->msg);
                lcd_error_free(err);
                return -1;
        }
        case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
                if (api != NULL && lws_get_vhost(wsi) == api->tcp_vhost) {
                        lws_set_opaque_user_data(wsi, &api->tcp_pending); /* counted until it shows the token */
                        api->tcp_pending++;
                }
                return 0;
        case LWS_CALLBACK_WSI_DESTROY:
                if (api != NULL) {
                        authenticated(api, wsi);
                        lcd_stream_gone(take_stream(api, wsi), wsi); /* an exec whose handshake failed */
                }
                return 0;
        case LWS_CALLBACK_HTTP:
                if (api == NULL || check_access(api, wsi, false, in != NULL && lcd_ui_find(in) != NULL) < 0)
                        return -1;
                return lcd_http_request(api, wsi, &pss->http, in ? (const char *)in : "");
        case LWS_CALLBACK_RAW_RX_FILE:
                if (api != NULL && wsi == api->follow_wsi)
                        lcd_follow_readable(api);
                return 0;
        case LWS_CALLBACK_RAW_CLOSE_FILE:
                if (api != NULL && wsi == api->follow_wsi)
                        api->follow_wsi = NULL;
                return 0;
        case LWS_CALLBACK_HTTP_WRITEABLE:
                return pss ? lcd_http_writable(wsi, &pss->http) : 0;
        case LWS_CALLBACK_CLOSED_HTTP: /* also for connections that never got per-session data (a failed TLS
                                        * handshake) */
                if (pss != NULL)
                        lcd_http_clear(&pss->http);
                return 0;
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
                return api ? confirm_upgrade(api, wsi) : -1;
        case LWS_CALLBACK_ADD_HEADERS:
                return end_handshake_line(wsi, in);
        case LWS_CALLBACK_ESTABLISHED: {
                lcd_stream_t *st = take_stream(api, wsi);
                if (st != NULL) { /* an exec path with this API's subprotocol */
                        lcd_stream_gone(st, wsi);
                        return -1;
                }
                pss->s = lcd_session_new(api, wsi);
                if (pss->s == NULL) {
                        lcd_error_log("out of memory accepting a connection");
                        return -1;
                }
                return 0;
        }
        case LWS_CALLBACK_RECEIVE:
                return pss && pss->s ? on_receive(pss->s, wsi, in, len) : 0;
        case LWS_CALLBACK_SERVER_WRITEABLE:
                return pss && pss->s ? lcd_session_write(pss->s, wsi) : 0;
        case LWS_CALLBACK_CLOSED:
                if (pss != NULL && pss->s != NULL) {
                        lcd_api_end_session(pss->s);
                        lcd_session_unref(pss->s);
                        pss->s = NULL;
                }
                return 0;
        default:
                return lws_callback_http_dummy(wsi, reason, user, in, len);
        }
}

/* The stream protocols' callback: an exec's WebSocket (the stream comes
 * from its upgrade, confirm_exec) and the exec's raw descriptors. */
static int stream_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
        lcd_stream_t **pst = user;
        lcd_api_t *api = lws_context_user(lws_get_context(wsi));
        switch (reason) {
        case LWS_CALLBACK_ESTABLISHED:
                if (api == NULL || (*pst = take_stream(api, wsi)) == NULL)
                        return -1; /* not an exec path: the API is light-containerd.v1 at /v1/ws */
                return lcd_stream_established(*pst);
        case LWS_CALLBACK_RECEIVE:
                return pst && *pst ? lcd_stream_receive(*pst, wsi, in, len) : 0;
        case LWS_CALLBACK_SERVER_WRITEABLE:
                return pst && *pst ? lcd_stream_writable(*pst, wsi) : 0;
        case LWS_CALLBACK_CLOSED:
                if (pst != NULL) {
                        lcd_stream_gone(*pst, wsi);
                        *pst = NULL;
                }
                return 0;
        case LWS_CALLBACK_RAW_RX_FILE:
        case LWS_CALLBACK_RAW_WRITEABLE_FILE:
        case LWS_CALLBACK_RAW_CLOSE_FILE:
                return lcd_stream_raw(wsi, reason);
        case LWS_CALLBACK_WSI_DESTROY: /* as in callback() */
                if (api != NULL)
                        lcd_stream_gone(take_stream(api, wsi), wsi);
                return 0;
        default:
                return lws_callback_http_dummy(wsi, reason, user, in, len);
        }
}

static const struct lws_protocols protocols[] = {
        {"light-containerd.v1", callback, sizeof(struct pss), 65536, 0, NULL, 0},
        {LCD_STREAM_PROTOCOL, stream_callback, sizeof(lcd_stream_t *), 65536, 0, NULL, 0},
        {"v4.channel.k8s.io", stream_callback, sizeof(lcd_stream_t *), 65536, 0, NULL, 0},
        {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_emit(int level, const char *line)
{
        lcd_log(level == LLL_ERR ? LCD_LOG_ERROR : level == LLL_WARN ? LCD_LOG_WARN : LCD_LOG_DEBUG, "lws: %s", line);
}

void lcd_api_wake(void *arg)
{
        lcd_api_t *api = arg;
        struct lws_context *ctx = api ? api->ctx : atomic_load_explicit(&wake_ctx, memory_order_acquire);
        if (ctx != NULL)
                lws_cancel_service(ctx);
}

lcd_api_t *lcd_api_new(const lcd_api_config_t *cfg, lcd_error_t **err)
{
        lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
        lcd_api_t *api = lcd_api_new_detached(cfg, err);
        if (api == NULL)
                return NULL;
        struct lws_context_creation_info info;
        memset(&info, 0, sizeof info);
        info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6 |
                       (cfg->tls_cert ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
        /* lws sizes its fd tables by this: connections are bounded here */
        info.fd_limit_per_thread = LCD_MAX_FDS;
        info.user = api;
        info.gid = (gid_t)-1;
        info.uid = (uid_t)-1;
        api->ctx = lws_create_context(&info);
        if (api->ctx == NULL) {
                lcd_error_set(err, LCD_E_INTERNAL, "cannot create the libwebsockets context");
                goto fail;
        }
        atomic_store_explicit(&wake_ctx, api->ctx, memory_order_release);

        /* the Unix socket: mode 0600 from the start (umask), no stale file */
        struct stat st;
        if (lstat(cfg->socket_path, &st) == 0 && S_ISSOCK(st.st_mode))
                unlink(cfg->socket_path);
        memset(&info, 0, sizeof info);
        info.options = LWS_SERVER_OPTION_UNIX_SOCK | LWS_SERVER_OPTION_DISABLE_IPV6;
        info.iface = cfg->socket_path;
        info.protocols = protocols;
        info.vhost_name = "unix";
        info.timeout_secs_ah_idle = LCD_HANDSHAKE_TIMEOUT_S;
        mode_t old = umask(0177);
        struct lws_vhost *vh = lws_create_vhost(api->ctx, &info);
        umask(old);
        if (vh == NULL) {
                lcd_error_set(err, LCD_E_INTERNAL, "cannot listen on %s", cfg->socket_path);
                goto fail;
        }
        if (lcd_follow_init(api, vh) < 0)
                lcd_warn("log follow is unavailable: no inotify descriptor for the service loop");
        if (chmod(cfg->socket_path, 0600) < 0) {
                lcd_error_set(err, LCD_E_INTERNAL, "chmod %s: %s", cfg->socket_path, strerror(errno));
                goto fail;
        }
        if (cfg->listen_addr != NULL) {
                memset(&info, 0, sizeof info);
                info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
                info.iface = cfg->listen_addr;
                info.port = cfg->listen_port;
                info.protocols = protocols;
                info.vhost_name = "tcp";
                info.timeout_secs_ah_idle = LCD_HANDSHAKE_TIMEOUT_S; /* a request's headers, at most this long */
                if (cfg->tls_cert != NULL) /* lws serves TLS on a vhost only with this option on it too */
                        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
                info.ssl_cert_filepath = cfg->tls_cert;
                info.ssl_private_key_filepath = cfg->tls_key;
                vh = lws_create_vhost(api->ctx, &info);
                if (vh == NULL) {
                        lcd_error_set(err, LCD_E_INTERNAL, "cannot listen on %s:%d", cfg->listen_addr,
                                      cfg->listen_port);
                        goto fail;
                }
                api->tcp_port = lws_get_vhost_listen_port(vh);
                api->tcp_vhost = vh;
                bool any = strcmp(cfg->listen_addr, "0.0.0.0") == 0;
                snprintf(api->dashboard, sizeof api->dashboard, "%s://%s:%d/", cfg->tls_cert ? "https" : "http",
                         any ? "127.0.0.1" : cfg->listen_addr, api->tcp_port);
        }
        lcd_subscribe_heartbeats(api, cfg->heartbeat_s);
        return api;
fail:
        lcd_api_free(api);
        return NULL;
}

void lcd_api_run(lcd_api_t *api, const volatile sig_atomic_t *stop)
{
        while (!*stop)
                if (lws_service(api->ctx, 0) < 0)
                        break;
}

static bool subscribers_have_output(lcd_api_t *api)
{
        for (lcd_session_t *s = api->subscribers; s != NULL; s = s->next_sub)
                if (s->q_count > 0 && s->open)
                        return true;
        return false;
}

void lcd_api_free(lcd_api_t *api)
{
        if (api == NULL)
                return;
        if (api->ctx != NULL) {
                struct lws_context *mine = api->ctx; /* no more wakes from signals */
                atomic_compare_exchange_strong_explicit(&wake_ctx, &mine, NULL, memory_order_acq_rel,
                                                        memory_order_acquire);
                lcd_subscribe_fan_out(api);
                lcd_pending_deliver(api);
                lcd_follow_run_deferred(api);
                /* give queued messages a bounded last chance to reach their
                 * clients: each round wakes the loop and runs one service pass */
                for (int i = 0; i < 50 && subscribers_have_output(api); i++) {
                        lws_cancel_service(api->ctx);
                        lws_service(api->ctx, 0);
                }
                lcd_follow_free(api);
                lws_sul_cancel(&api->heartbeat);
                lcd_stream_stop_all(api);
                lws_context_destroy(api->ctx);
                lcd_stream_deliver(api); /* execs started meanwhile: no client any more */
                lcd_stream_free_all(api);
        }
        lcd_pending_deliver(api);
        lcd_api_release(api);
}

/* server.c - libwebsockets listeners, sessions, the mailbox and event fan-out.
 *
 * DESIGN: everything here runs on the one service thread except
 * lcd_api_pending_done() and lcd_api_wake(), which workers (and the signal
 * handler) call. Workers never touch a session: a pending reply holds a
 * session reference taken on the service thread and is returned through
 * the mailbox, whose only lock is mail_mu (held for a list push/pop).
 * Sessions live in their own allocation because lws frees its
 * per-connection data at close while replies may still be in flight.
 *
 * Bounds: a request is at most LCD_RPC_MAX_MESSAGE bytes (larger ones get
 * an error and are discarded); a session's send queue holds at most
 * --send-queue messages (LCD_SESSION_QUEUE) / LCD_SESSION_QUEUE_BYTES. A subscriber whose
 * queue is nearly full is sent a "lagged" event and unsubscribed; a client
 * whose queue overflows with replies is disconnected.
 *
 * Who may connect is decided in access.c (token on TCP, Host and Origin
 * checks) when the HTTP upgrade is confirmed, before any message is read.
 */
#include "api-internal.h"

#include "access.h"
#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/log.h"
#include "lcd/strv.h"
#include "lcd/timeutil.h"
#include "ui.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define LCD_WS_PATH "/v1/ws"

struct pss {
        lcd_session_t *s; /* WebSocket connections */
        lcd_http_t http;  /* plain HTTP requests */
};

/* The context lcd_api_wake(NULL) wakes: the signal handler's way in (it
 * has no api pointer). Set once the context exists and cleared first thing
 * in lcd_api_free, by the service thread; read by the handler on whatever
 * thread takes the signal, so atomic (lock-free on the targets: safe in a
 * handler). Left open: a handler on another thread that loaded it just
 * before lcd_api_free cleared it may still wake the context while it is
 * destroyed (a window of a few instructions, for a second signal during
 * shutdown); closing it needs the signals taken by one thread only. */
static struct lws_context *_Atomic wake_ctx;

#define WRITE_BATCH 64 /* messages written per writable callback, at most */

/* ---- messages and sessions ---- */

lcd_msg_t *lcd_msg_from_json(json_object *o)
{
        size_t len = 0;
        lcd_msg_t *m = (lcd_msg_t *)lcd_json_write(o, offsetof(lcd_msg_t, data) + LWS_PRE, 0, &len);
        if (m == NULL)
                return NULL;
        m->refs = 1;
        m->len = len;
        return m;
}

void lcd_msg_unref(lcd_msg_t *m)
{
        if (m != NULL && --m->refs == 0)
                lcd_free(m);
}

void lcd_session_unref(lcd_session_t *s)
{
        if (--s->refs > 0)
                return;
        while (s->q_count > 0) {
                lcd_msg_unref(s->queue[s->q_head]);
                s->q_head = (s->q_head + 1) % s->q_cap;
                s->q_count--;
        }
        lcd_free(s->queue);
        lcd_free(s->rx);
        lcd_strv_free(s->filter.names);
        lcd_free(s);
}

/* Queue m (a new reference is taken). room: slots that must stay free
 * after it. -ENOSPC when it does not fit, -ENOMEM when the queue cannot
 * grow. */
int lcd_session_push(lcd_session_t *s, lcd_msg_t *m, unsigned room)
{
        if (!s->open)
                return 0; /* closed: drop quietly */
        unsigned max = s->api->limits.send_queue;
        if (s->q_count + 1 + room > max || s->q_bytes + m->len > LCD_SESSION_QUEUE_BYTES)
                return -ENOSPC;
        if (s->q_count == s->q_cap) { /* grow the ring (idle sessions stay small) */
                unsigned cap = s->q_cap ? s->q_cap * 2 : 8;
                if (cap > max)
                        cap = max;
                lcd_msg_t **q = lcd_malloc(cap * sizeof *q);
                if (q == NULL)
                        return -ENOMEM;
                for (unsigned i = 0; i < s->q_count; i++)
                        q[i] = s->queue[(s->q_head + i) % s->q_cap];
                lcd_free(s->queue);
                s->queue = q;
                s->q_cap = cap;
                s->q_head = 0;
        }
        m->refs++;
        s->queue[(s->q_head + s->q_count) % s->q_cap] = m;
        s->q_count++;
        s->q_bytes += m->len;
        s->last_sent_ms = lcd_now_ms();
        if (s->wsi != NULL)
                lws_callback_on_writable(s->wsi);
        return 0;
}

void lcd_session_kill(lcd_session_t *s, const char *why)
{
        if (!s->open)
                return;
        lcd_warn("closing a client connection: %s", why);
        lcd_session_unsubscribe(s);
        if (s->wsi == NULL) { /* detached: nothing more is queued; its driver closes it */
                s->open = false;
                return;
        }
        lws_close_reason(s->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, strlen(why));
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

lcd_session_t *lcd_session_new(lcd_api_t *api, struct lws *wsi)
{
        lcd_session_t *s = lcd_calloc(1, sizeof *s);
        if (s == NULL)
                return NULL;
        s->refs = 1;
        s->open = true;
        s->wsi = wsi;
        s->api = api;
        api->n_sessions++;
        return s;
}

void lcd_session_close(lcd_session_t *s)
{
        if (s->closed)
                return;
        s->closed = true;
        s->api->n_sessions--;
        lcd_session_unsubscribe(s);
        lcd_waiters_drop_session(s->api, s);
        lcd_follow_drop_session(s->api, s);
        s->open = false;
        s->wsi = NULL;
#ifdef __GLIBC__
        if (s->api->n_sessions == 0) /* the last client went: give what their queues took back to the system */
                malloc_trim(0);
#endif
}

void lcd_session_send_json(lcd_session_t *s, json_object *msg)
{
        if (msg == NULL) {
                lcd_session_kill(s, "out of memory building a reply");
                return;
        }
        lcd_msg_t *m = lcd_msg_from_json(msg);
        json_object_put(msg);
        if (m == NULL) {
                lcd_session_kill(s, "out of memory building a reply");
                return;
        }
        int r = lcd_session_push(s, m, 0);
        if (r == -ENOSPC)
                lcd_session_kill(s, "send queue full: the client is not reading");
        else if (r < 0)
                lcd_session_kill(s, "out of memory queueing a reply");
        lcd_msg_unref(m);
}

void lcd_session_send_error(lcd_session_t *s, json_object *id, const lcd_error_t *err)
{
        lcd_session_send_json(s, lcd_rpc_error(id, err));
}

/* ---- pending replies and the mailbox ---- */

lcd_pending_t *lcd_api_pending_new(lcd_session_t *s, lcd_rpc_request_t *req)
{
        lcd_pending_t *p = lcd_calloc(1, sizeof *p);
        if (p == NULL)
                return NULL;
        if (req->id != NULL && json_object_deep_copy(req->id, &p->id, NULL) != 0) {
                lcd_free(p);
                return NULL;
        }
        p->has_id = req->has_id;
        p->api = s->api;
        p->method = -1;
        p->start_us = lcd_wall_us();
        p->session = s;
        s->refs++;
        s->inflight++;
        return p;
}

void lcd_api_pending_free(lcd_pending_t *p)
{
        if (p == NULL)
                return;
        json_object_put(p->id);
        json_object_put(p->result);
        lcd_error_free(p->err);
        p->session->inflight--;
        lcd_session_unref(p->session);
        lcd_free(p);
}

void lcd_api_pending_done(void *ctx, json_object *result, lcd_error_t *err)
{
        lcd_pending_t *p = ctx;
        lcd_api_t *api = p->api;
        p->result = result;
        p->err = err;
        pthread_mutex_lock(&api->mail_mu);
        if (api->mail_tail)
                api->mail_tail->next = p;
        else
                api->mail_head = p;
        api->mail_tail = p;
        pthread_mutex_unlock(&api->mail_mu);
        if (api->ctx != NULL)
                lws_cancel_service(api->ctx);
}

static void drain_mailbox(lcd_api_t *api)
{
        pthread_mutex_lock(&api->mail_mu);
        lcd_pending_t *p = api->mail_head;
        api->mail_head = api->mail_tail = NULL;
        pthread_mutex_unlock(&api->mail_mu);
        while (p != NULL) {
                lcd_pending_t *next = p->next;
                if (p->then != NULL && p->err == NULL)
                        p->then(p);
                lcd_metrics_rpc(api, p->method, p->err != NULL, p->start_us);
                if (p->has_id && p->session->open) {
                        if (p->err != NULL)
                                lcd_session_send_error(p->session, p->id, p->err);
                        else {
                                lcd_session_send_json(p->session, lcd_rpc_result(p->id, p->result));
                                p->result = NULL;
                        }
                }
                lcd_api_pending_free(p);
                p = next;
        }
        lcd_follow_run_deferred(api);
}

void lcd_api_service(lcd_api_t *api)
{
        lcd_events_fan_out(api);
        drain_mailbox(api);
        lcd_events_fan_out(api);
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
        const char *why;
        bool tcp = lws_get_vhost(wsi) == api->tcp_vhost;
        int code = lcd_access_check(&api->access, tcp && !public, header(wsi, WSI_TOKEN_HOST, host, sizeof host),
                                    header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof origin),
                                    header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, authz, sizeof authz),
                                    upgrade ? header(wsi, WSI_TOKEN_PROTOCOL, protos, sizeof protos) : NULL, q, &why);
        if (code == 0) {
                if (tcp && !public) /* a dashboard file proves nothing: it needs no token */
                        authenticated(api, wsi);
                return 0;
        }
        log_refusal(api, "refused a %s request (%d): %s", tcp ? "TCP" : "Unix socket", code, why);
        return lcd_http_refuse(wsi, code == 401 ? LCD_E_UNAUTHORIZED : LCD_E_FORBIDDEN, why);
}

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: 0 go on, -1 refused (answered). */
static int confirm_upgrade(lcd_api_t *api, struct lws *wsi)
{
        char uri[128];
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, LCD_WS_PATH) != 0) {
                log_refusal(api, "refused a WebSocket handshake for path %s (the API is at %s)", uri, LCD_WS_PATH);
                return lcd_http_refuse(wsi, LCD_E_NOT_FOUND, "the API is a WebSocket at " LCD_WS_PATH);
        }
        if (api->n_sessions >= api->limits.max_clients) {
                log_refusal(api, "refused a connection: %u clients already (--max-clients)", api->n_sessions);
                return lcd_http_refuse(wsi, LCD_E_BUSY, "too many clients (--max-clients)");
        }
        return check_access(api, wsi, true, false);
}

void lcd_session_receive(lcd_session_t *s, const char *text, size_t len)
{
        lcd_error_t *err = NULL;
        lcd_rpc_request_t req;
        if (lcd_rpc_decode(text, len, s->api->limits.max_depth, &req, &err) < 0) {
                lcd_session_send_error(s, req.id, err);
                lcd_error_free(err);
        } else {
                lcd_methods_dispatch(s->api, s, &req);
        }
        lcd_rpc_request_clear(&req);
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
                lcd_session_receive(s, s->rx ? s->rx : "", s->rx_len);
        }
        lcd_free(s->rx);
        s->rx = NULL;
        s->rx_len = 0;
        s->rx_binary = false;
        return 0;
}

/* Write queued messages while the socket takes them (a bounded batch per
 * callback): one poll round trip per message would cap event fan-out at
 * a fraction of what the service thread can do. */
static int on_writable(lcd_session_t *s, struct lws *wsi)
{
        for (int k = 0; k < WRITE_BATCH && s->q_count > 0; k++) {
                if (k > 0 && lws_send_pipe_choked(wsi))
                        break;
                lcd_msg_t *m = s->queue[s->q_head];
                s->q_head = (s->q_head + 1) % s->q_cap;
                s->q_count--;
                s->q_bytes -= m->len;
                int n = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
                lcd_msg_unref(m);
                if (n < 0)
                        return -1;
        }
        if (s->q_count > 0)
                lws_callback_on_writable(wsi);
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
                const char *why;
                unsigned uid;
                if (lcd_access_peer((int)(intptr_t)in, &uid, &why) == 0)
                        return 0;
                log_refusal(api, "refused a Unix socket connection from uid %u: %s", uid, why);
                return -1;
        }
        case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
                if (api != NULL && lws_get_vhost(wsi) == api->tcp_vhost) {
                        lws_set_opaque_user_data(wsi, &api->tcp_pending); /* counted until it shows the token */
                        api->tcp_pending++;
                }
                return 0;
        case LWS_CALLBACK_WSI_DESTROY:
                if (api != NULL)
                        authenticated(api, wsi);
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
        case LWS_CALLBACK_ESTABLISHED:
                pss->s = lcd_session_new(api, wsi);
                if (pss->s == NULL) {
                        lcd_error_log("out of memory accepting a connection");
                        return -1;
                }
                return 0;
        case LWS_CALLBACK_RECEIVE:
                return pss && pss->s ? on_receive(pss->s, wsi, in, len) : 0;
        case LWS_CALLBACK_SERVER_WRITEABLE:
                return pss && pss->s ? on_writable(pss->s, wsi) : 0;
        case LWS_CALLBACK_CLOSED:
                if (pss != NULL && pss->s != NULL) {
                        lcd_session_close(pss->s);
                        lcd_session_unref(pss->s);
                        pss->s = NULL;
                }
                return 0;
        default:
                return lws_callback_http_dummy(wsi, reason, user, in, len);
        }
}

static const struct lws_protocols protocols[] = {
        {"light-containerd.v1", callback, sizeof(struct pss), 65536, 0, NULL, 0},
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

lcd_api_t *lcd_api_new_detached(const lcd_api_config_t *cfg, lcd_error_t **err)
{
        lcd_api_t *api = lcd_calloc(1, sizeof *api);
        if (api == NULL) {
                lcd_error_nomem(err);
                return NULL;
        }
        api->engine = cfg->engine;
        api->access = cfg->access;
        api->checks = cfg->checks;
        api->limits = cfg->limits;
        api->n_checks = cfg->n_checks;
        api->events = cfg->events;
        api->delivered = lcd_events_latest(cfg->events);
        api->follow_fd = -1;
        if (cfg->token_path != NULL && (api->token_path = lcd_strdup(cfg->token_path)) == NULL) {
                lcd_free(api);
                lcd_error_nomem(err);
                return NULL;
        }
        unsigned char rnd[16];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
                memset(rnd, 0, sizeof rnd);
        for (size_t i = 0; i < sizeof rnd; i++)
                snprintf(api->boot_id + 2 * i, 3, "%02x", rnd[i]);
        pthread_mutex_init(&api->mail_mu, NULL);
        return api;
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
        lcd_heartbeat_start(api, cfg->heartbeat_s);
        return api;
fail:
        lcd_api_free(api);
        return NULL;
}

int lcd_api_tcp_port(lcd_api_t *api)
{
        return api->tcp_port;
}

const char *lcd_api_dashboard_url(lcd_api_t *api)
{
        return api->dashboard;
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
                lcd_events_fan_out(api);
                drain_mailbox(api);
                /* give queued messages a bounded last chance to reach their
                 * clients: each round wakes the loop and runs one service pass */
                for (int i = 0; i < 50 && subscribers_have_output(api); i++) {
                        lws_cancel_service(api->ctx);
                        lws_service(api->ctx, 0);
                }
                lcd_follow_free(api);
                lws_sul_cancel(&api->heartbeat);
                lws_context_destroy(api->ctx);
        }
        drain_mailbox(api);
        pthread_mutex_destroy(&api->mail_mu);
        lcd_free(api->token_path);
        lcd_free(api);
}

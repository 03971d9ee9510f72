/* wsclient.c - see wsclient.h. */
#include "wsclient.h"

#include "lcd/compiler.h"
#include "lcd/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLOSE_WAIT_MS 1000 /* for the server's close frame */

/* A received message, queued until lcd_ws_recv takes it. */
typedef struct rxmsg {
        struct rxmsg *next;
        size_t len;
        bool binary;
        char data[]; /* len + NUL */
} rxmsg_t;

struct lcd_ws {
        struct lws_context *ctx;
        struct lws *wsi; /* NULL once closed */
        bool open, ended;
        char err[300];
        char auth[LCD_WS_HOST_MAX + 32]; /* "Bearer <token>", or "" */
        /* receiving: the message being assembled, and the queue */
        char *acc;
        size_t acc_len;
        bool acc_binary;
        rxmsg_t *head, *tail;
        size_t queued;
        bool paused, too_large;
        /* sending: one message at a time */
        unsigned char *out; /* LWS_PRE + len */
        size_t out_len;
        bool out_binary, closing;
        /* the deadline of the current wait */
        lws_sorted_usec_list_t timer;
        bool timed_out;
        /* lcd_ws_watch: a descriptor of the caller's, adopted (a dup of it) */
        struct lws *watched;
        bool woken;
};

/* ---- the lws side ---- */

static void fail(lcd_ws_t *ws, const char *fmt, const char *arg)
{
        if (ws->err[0] == '\0')
                snprintf(ws->err, sizeof ws->err, fmt, arg);
}

static const char *refusal_hint(unsigned status)
{
        switch (status) {
        case 401:
                return "the daemon wants its token (--token-file, $LIGHTCTL_TOKEN)";
        case 403:
                return "the daemon does not accept this Host or Origin (--allow-host, --allow-origin)";
        case 400:
                return "the daemon did not take the request: a bad parameter";
        case 404:
                return "no such container, or not light-containerd's API path";
        case 409:
                return "the container is not running";
        case 503:
                return "the daemon has too many clients or is short of memory; try again";
        default:
                return "not a light-containerd WebSocket endpoint?";
        }
}

static void queue_message(lcd_ws_t *ws)
{
        rxmsg_t *m = lcd_malloc(sizeof *m + ws->acc_len + 1);
        if (m == NULL) {
                fail(ws, "out of memory receiving a message%s", "");
                ws->too_large = true; /* ends the connection: a message is lost */
                return;
        }
        m->next = NULL;
        m->len = ws->acc_len;
        m->binary = ws->acc_binary;
        if (ws->acc_len > 0)
                memcpy(m->data, ws->acc, ws->acc_len);
        m->data[ws->acc_len] = '\0';
        if (ws->tail)
                ws->tail->next = m;
        else
                ws->head = m;
        ws->tail = m;
        ws->queued += m->len;
        lcd_free(ws->acc);
        ws->acc = NULL;
        ws->acc_len = 0;
}

static int on_receive(lcd_ws_t *ws, struct lws *wsi, const void *in, size_t len)
{
        if (ws->acc_len == 0 && lws_is_first_fragment(wsi))
                ws->acc_binary = lws_frame_is_binary(wsi);
        /* len is at most lws' receive buffer: no sum here can wrap */
        if (len > LCD_WS_MAX_MESSAGE - ws->acc_len) {
                static const char why[] = "message too large";
                fail(ws, "the daemon sent a message over %s bytes", "16 MiB");
                ws->too_large = true;
                lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why, sizeof why - 1);
                return -1;
        }
        if (len > 0) {
                char *grown = lcd_realloc(ws->acc, ws->acc_len + len + 1);
                if (grown == NULL) {
                        fail(ws, "out of memory receiving a message%s", "");
                        ws->too_large = true;
                        return -1;
                }
                ws->acc = grown;
                memcpy(ws->acc + ws->acc_len, in, len);
                ws->acc_len += len;
        }
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
                queue_message(ws);
                if (ws->too_large)
                        return -1;
                if (ws->queued > LCD_WS_MAX_QUEUED && !ws->paused) { /* until the caller takes some */
                        lws_rx_flow_control(wsi, 0);
                        ws->paused = true;
                }
        }
        return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user LCD_UNUSED, void *in, size_t len)
{
        lcd_ws_t *ws = lws_get_opaque_user_data(wsi);
        if (ws == NULL)
                return 0;
        if (wsi == ws->watched) {
                if (reason == LWS_CALLBACK_RAW_RX_FILE) {
                        ws->woken = true;
                        lws_rx_flow_control(wsi, 0); /* until the caller has read it */
                } else if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
                        ws->watched = NULL;
                }
                return 0;
        }
        switch (reason) {
        case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
                if (ws->auth[0] != '\0') {
                        unsigned char **p = in, *end = *p + len;
                        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                                         (const unsigned char *)ws->auth, (int)strlen(ws->auth), p,
                                                         end))
                                return -1;
                }
                return 0;
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
                ws->open = true;
                return 0;
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
                unsigned status = lws_http_client_http_response(wsi);
                if (status >= 200) {
                        char msg[200];
                        snprintf(msg, sizeof msg, "the daemon refused the connection: HTTP %u (%s)", status,
                                 refusal_hint(status));
                        fail(ws, "%s", msg);
                } else {
                        fail(ws, "%s", in ? (const char *)in : "connection failed");
                }
                ws->ended = true;
                ws->wsi = NULL;
                return 0;
        }
        case LWS_CALLBACK_CLIENT_RECEIVE:
                return on_receive(ws, wsi, in, len);
        case LWS_CALLBACK_CLIENT_WRITEABLE:
                if (ws->closing) {
                        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
                        return -1;
                }
                if (ws->out != NULL) {
                        int n = lws_write(wsi, ws->out + LWS_PRE, ws->out_len,
                                          ws->out_binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
                        lcd_free(ws->out);
                        ws->out = NULL;
                        if (n < (int)ws->out_len) {
                                fail(ws, "write to the daemon failed%s", "");
                                return -1;
                        }
                }
                return 0;
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
                const unsigned char *p = in;
                if (len >= 2) {
                        char msg[200];
                        snprintf(msg, sizeof msg, "the daemon closed the connection: %u %.*s",
                                 (unsigned)(p[0] << 8 | p[1]), (int)(len - 2 < 120 ? len - 2 : 120),
                                 (const char *)p + 2);
                        fail(ws, "%s", msg);
                }
                return 0;
        }
        case LWS_CALLBACK_CLIENT_CLOSED:
                fail(ws, "the daemon closed the connection%s", "");
                ws->ended = true;
                ws->wsi = NULL;
                return 0;
        default:
                return 0;
        }
}

static const struct lws_protocols protocols[] = {
        {"light-containerd.v1", callback, 0, 65536, 0, NULL, 0},
        {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_timer(lws_sorted_usec_list_t *sul)
{
        lcd_ws_t *ws = lws_container_of(sul, lcd_ws_t, timer);
        ws->timed_out = true;
}

/* Service the connection until done(ws), the end of the connection or the
 * deadline (timeout_ms < 0: none). 0, -ETIMEDOUT or -ECONNRESET. */
static int run_until(lcd_ws_t *ws, bool (*done)(const lcd_ws_t *), int timeout_ms)
{
        ws->timed_out = false;
        if (timeout_ms >= 0)
                lws_sul_schedule(ws->ctx, 0, &ws->timer, on_timer, (lws_usec_t)timeout_ms * LWS_US_PER_MS);
        int r = 0;
        while (!done(ws)) {
                if (ws->ended || ws->too_large) {
                        r = -ECONNRESET;
                        break;
                }
                if (ws->timed_out) {
                        r = -ETIMEDOUT;
                        break;
                }
                if (lws_service(ws->ctx, 0) < 0) {
                        fail(ws, "the event loop failed%s", "");
                        r = -ECONNRESET;
                        break;
                }
        }
        lws_sul_cancel(&ws->timer);
        return r;
}

static bool is_open(const lcd_ws_t *ws)
{
        return ws->open;
}

static bool has_message(const lcd_ws_t *ws)
{
        return ws->head != NULL || ws->woken;
}

static bool sent(const lcd_ws_t *ws)
{
        return ws->out == NULL;
}

static bool gone(const lcd_ws_t *ws)
{
        return ws->ended;
}

static void quiet_log(int level, const char *line)
{
        (void)level;
        (void)line;
}

/* A socket of another user: the daemon would close the connection unread
 * (SO_PEERCRED), so say why here. */
static bool foreign_socket(const char *path, char *errbuf, size_t errlen)
{
        struct stat st;
        if (stat(path, &st) != 0 || st.st_uid == geteuid())
                return false;
        char pwbuf[1024];
        struct passwd pw, *found = NULL;
        getpwuid_r(st.st_uid, &pw, pwbuf, sizeof pwbuf, &found);
        const char *name = found ? found->pw_name : NULL;
        snprintf(errbuf, errlen,
                 "%s belongs to %s (uid %u): light-containerd lets only its own user in; run lightctl as that user "
                 "(e.g. runuser -u %s -- lightctl ...)",
                 path, name ? name : "another user", (unsigned)st.st_uid, name ? name : "USER");
        return true;
}

/* Whether lws' connection error is the TLS handshake's: libwebsockets 4.1
 * says "SSL ...", 4.4 "server's cert didn't look good, tls=... X509_V_ERR". */
static bool tls_failure(const char *why)
{
        return strstr(why, "SSL") != NULL || strstr(why, "tls=") != NULL || strstr(why, "X509") != NULL ||
               strstr(why, "cert") != NULL;
}

lcd_ws_t *lcd_ws_connect(const lcd_ws_opts_t *o, char *errbuf, size_t errlen)
{
        lcd_ws_target_t t;
        if (lcd_ws_parse_target(o->target, &t, errbuf, errlen) < 0)
                return NULL;
        if (t.is_unix && foreign_socket(t.path, errbuf, errlen))
                return NULL;
        if (o->token != NULL && strlen(o->token) > LCD_WS_HOST_MAX) {
                snprintf(errbuf, errlen, "the token is too long");
                return NULL;
        }
        if (o->cacert != NULL && access(o->cacert, R_OK) != 0) {
                snprintf(errbuf, errlen, "cannot read --cacert %s: %s", o->cacert, strerror(errno));
                return NULL;
        }
        lcd_ws_t *ws = lcd_calloc(1, sizeof *ws);
        if (ws == NULL) {
                snprintf(errbuf, errlen, "out of memory");
                return NULL;
        }
        if (o->token != NULL)
                snprintf(ws->auth, sizeof ws->auth, "Bearer %s", o->token);
        lws_set_log_level(0, quiet_log);
        struct lws_context_creation_info info;
        memset(&info, 0, sizeof info);
        info.port = CONTEXT_PORT_NO_LISTEN;
        info.protocols = protocols;
        info.gid = (gid_t)-1;
        info.uid = (uid_t)-1;
        info.fd_limit_per_thread = 16; /* one connection */
        if (t.tls) {
                info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
                info.client_ssl_ca_filepath = o->cacert;
        }
        ws->ctx = lws_create_context(&info);
        if (ws->ctx == NULL) {
                snprintf(errbuf, errlen, "cannot set up the connection (libwebsockets context%s)",
                         o->cacert ? "; is --cacert a readable PEM file?" : "");
                lcd_free(ws);
                return NULL;
        }
        char address[sizeof t.path + 1];
        snprintf(address, sizeof address, "+%s", t.path); /* lws' notation for a Unix socket */
        struct lws_client_connect_info ci;
        memset(&ci, 0, sizeof ci);
        ci.context = ws->ctx;
        ci.address = t.is_unix ? address : t.host;
        ci.port = t.is_unix ? 0 : t.port;
        ci.path = o->path;
        ci.host = t.host_header;
        ci.local_protocol_name = protocols[0].name;
        ci.protocol = o->protocol;
        ci.opaque_user_data = ws;
        ci.pwsi = &ws->wsi;
        if (t.tls)
                ci.ssl_connection = LCCSCF_USE_SSL |
                                    (o->insecure ? LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                                           LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE
                                                 : 0);
        if (lws_client_connect_via_info(&ci) == NULL)
                fail(ws, "connection failed%s", "");
        int r = ws->err[0] ? -ECONNRESET : run_until(ws, is_open, o->timeout_ms);
        if (r < 0) {
                if (r == -ETIMEDOUT)
                        snprintf(errbuf, errlen, "no answer from %s within %d ms", o->target, o->timeout_ms);
                else if (t.tls && tls_failure(ws->err)) /* lws' own words say little more */
                        snprintf(errbuf, errlen,
                                 "cannot connect to %s: the TLS handshake failed: the daemon's certificate is not "
                                 "signed by %s, or not for %s (--cacert FILE names the CA to trust; --insecure "
                                 "skips the check)",
                                 o->target, o->cacert ? o->cacert : "a CA this system trusts", t.host);
                else if (strncmp(ws->err, "the daemon ", 11) == 0) /* it answered: refused, or closed */
                        snprintf(errbuf, errlen, "cannot connect to %s: %s", o->target, ws->err);
                else
                        snprintf(errbuf, errlen, "cannot connect to %s: %s (is light-containerd running there?)",
                                 o->target, ws->err[0] ? ws->err : "connection failed");
                lcd_ws_close(ws);
                return NULL;
        }
        return ws;
}

int lcd_ws_send(lcd_ws_t *ws, const void *data, size_t len, bool binary, int timeout_ms)
{
        if (ws->wsi == NULL || ws->ended)
                return -ECONNRESET;
        if (len > LCD_WS_MAX_MESSAGE)
                return -EMSGSIZE;
        ws->out = lcd_malloc(LWS_PRE + len + 1);
        if (ws->out == NULL)
                return -ENOMEM;
        if (len > 0)
                memcpy(ws->out + LWS_PRE, data, len);
        ws->out_len = len;
        ws->out_binary = binary;
        lws_callback_on_writable(ws->wsi);
        int r = run_until(ws, sent, timeout_ms);
        if (r < 0) {
                lcd_free(ws->out);
                ws->out = NULL;
        }
        return r;
}

int lcd_ws_watch(lcd_ws_t *ws, int fd)
{
        if (ws->watched != NULL) {
                struct lws *w = ws->watched;
                ws->watched = NULL;
                lws_set_opaque_user_data(w, NULL);
                lws_set_timeout(w, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC); /* closes the dup */
        }
        ws->woken = false;
        if (fd < 0)
                return 0;
        if (ws->wsi == NULL)
                return -ECONNRESET;
        lws_sock_file_fd_type d = {.filefd = fcntl(fd, F_DUPFD_CLOEXEC, 3)};
        if (d.filefd < 0)
                return -errno;
        ws->watched =
                lws_adopt_descriptor_vhost(lws_get_vhost(ws->wsi), LWS_ADOPT_RAW_FILE_DESC, d, protocols[0].name, NULL);
        if (ws->watched == NULL) /* lws closed the dup */
                return -ENOMEM;
        lws_set_opaque_user_data(ws->watched, ws);
        return 0;
}

int lcd_ws_recv(lcd_ws_t *ws, char **msg, size_t *len, bool *binary, int timeout_ms)
{
        if (ws->woken && ws->head == NULL && ws->watched != NULL) { /* the caller has read it: watch again */
                ws->woken = false;
                lws_rx_flow_control(ws->watched, 1);
        }
        int r = ws->head ? 0 : run_until(ws, has_message, timeout_ms);
        if (r == 0 && ws->head == NULL) /* woken */
                return -EAGAIN;
        if (r < 0 && ws->head == NULL)
                return ws->too_large && strstr(ws->err, "over") ? -EMSGSIZE : r;
        rxmsg_t *m = ws->head;
        ws->head = m->next;
        if (ws->head == NULL)
                ws->tail = NULL;
        ws->queued -= m->len;
        if (ws->paused && ws->queued <= LCD_WS_MAX_QUEUED / 2 && ws->wsi != NULL) {
                lws_rx_flow_control(ws->wsi, 1);
                ws->paused = false;
        }
        /* hand out the data in place: the header is moved away */
        size_t n = m->len;
        bool bin = m->binary;
        memmove(m, m->data, n + 1);
        *msg = (char *)m;
        *len = n;
        if (binary != NULL)
                *binary = bin;
        return 0;
}

const char *lcd_ws_error(const lcd_ws_t *ws)
{
        return ws->err;
}

void lcd_ws_close(lcd_ws_t *ws)
{
        if (ws == NULL)
                return;
        if (ws->wsi != NULL && !ws->ended) {
                ws->closing = true;
                lws_callback_on_writable(ws->wsi);
                run_until(ws, gone, CLOSE_WAIT_MS);
        }
        lws_context_destroy(ws->ctx);
        while (ws->head != NULL) {
                rxmsg_t *m = ws->head;
                ws->head = m->next;
                lcd_free(m);
        }
        lcd_free(ws->acc);
        lcd_free(ws->out);
        lcd_free(ws);
}

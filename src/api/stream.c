/* stream.c - see stream.h: an exec's WebSocket in the Kubernetes channel
 * protocol.
 *
 * DESIGN: service thread only, except lcd_stream_ready (a worker), which
 * mails the started exec back under mail_mu, as pending.c does for
 * replies. Every descriptor of the exec -- stdin's pipe, stdout's and
 * stderr's (or a terminal's master), crun's pidfd -- is adopted by lws as
 * a raw file, so the service loop polls them beside the sockets and
 * nothing here blocks. Output becomes frames [channel][bytes] in a queue
 * of at most STREAM_OUT_MAX bytes; beyond it the outputs are not read (the
 * process blocks on its writes), and a client that takes none of it for
 * STREAM_STALL_S is dropped. Stdin waits in a buffer of at most
 * 2 x STREAM_FRAME_MAX bytes: beyond one frame's worth the WebSocket is not
 * read. The exec's end is crun's (its pidfd): what the pipes still hold is
 * sent, then the status frame, then the close. A client that leaves first
 * gets its process signalled (SIGHUP with a terminal, else SIGTERM), then
 * SIGKILLed after STREAM_GRACE_MS. A stream is freed when its WebSocket,
 * its worker and its exec are all done with it.
 */
#include "stream.h"

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define STREAM_FRAME_MAX 65536      /* a client's frame, at most (stdin, resize) */
#define STREAM_READ 32768           /* bytes read from an output into one frame */
#define STREAM_OUT_MAX (256 * 1024) /* output queued for the client */
#define STREAM_STALL_S 30           /* a client that takes no output for this long is dropped */
#define STREAM_GRACE_MS 2000        /* a client gone: from the first signal to SIGKILL */

enum { CH_STDIN, CH_STDOUT, CH_STDERR, CH_STATUS, CH_RESIZE, CH_CLOSE = 255 };

struct frame {
        struct frame *next;
        size_t len;          /* of the frame: channel byte and payload */
        unsigned char buf[]; /* LWS_PRE, then the frame */
};

struct lcd_stream {
        lcd_api_t *api;
        struct lws *wsi; /* the WebSocket; NULL once it is gone */
        struct lws_vhost *vh;
        bool established;
        bool tty, want_stdin;
        bool job;                       /* the worker has not mailed the exec back yet */
        lcd_exec_t *x;                  /* the exec once started */
        struct lws *raw[LCD_EXEC__FDS]; /* its descriptors, adopted */
        /* mailed by the worker (under mail_mu) */
        lcd_exec_t *ready_x;
        lcd_error_t *ready_err;
        struct lcd_stream *next_mail;
        /* the client's message being assembled */
        unsigned char *rx;
        size_t rx_len;
        /* output for the client */
        struct frame *head, *tail;
        size_t out_bytes;
        bool paused;      /* outputs not read: the queue is full */
        int64_t moved_ms; /* the last time the client took a frame */
        /* stdin not yet written */
        char *in;
        size_t in_len;
        bool in_eof, rx_held;
        /* the end */
        bool exited, status_queued, closing, signalled;
        unsigned term_tries;
        int code;
        lws_sorted_usec_list_t sul; /* stall checks while the client is there, else the kill's grace */
        struct lcd_stream *next, *prev;
};

static void maybe_free(lcd_stream_t *st);
static void maybe_finish(lcd_stream_t *st);

/* ---- output ---- */

static int queue_frame(lcd_stream_t *st, int channel, const void *data, size_t len)
{
        struct frame *f = lcd_malloc(sizeof *f + LWS_PRE + 1 + len);
        if (f == NULL)
                return -ENOMEM;
        f->next = NULL;
        f->len = 1 + len;
        f->buf[LWS_PRE] = (unsigned char)channel;
        if (len > 0)
                memcpy(f->buf + LWS_PRE + 1, data, len);
        if (st->tail != NULL) {
                st->tail->next = f;
        } else {
                st->head = f;
                st->moved_ms = lcd_now_ms(); /* the stall clock starts with the queue's first frame */
        }
        st->tail = f;
        st->out_bytes += f->len;
        if (st->wsi != NULL && st->established)
                lws_callback_on_writable(st->wsi);
        return 0;
}

/* Drop the client: its WebSocket closes, and with it the process. */
static void drop_client(lcd_stream_t *st, const char *why)
{
        if (st->wsi == NULL || st->closing)
                return;
        lcd_warn("closing an exec stream: %s", why);
        st->closing = true;
        lws_close_reason(st->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, strlen(why));
        lws_set_timeout(st->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/* The status frame (channel 3, a metav1.Status), after which the daemon closes. */
static void queue_status(lcd_stream_t *st, const char *reason, const char *message, int code)
{
        if (st->status_queued)
                return;
        json_object *o = json_object_new_object();
        int rc = lcd_json_set(o, "metadata", json_object_new_object());
        rc |= lcd_json_set_str(o, "status", reason == NULL ? "Success" : "Failure");
        if (reason != NULL) {
                rc |= lcd_json_set_str(o, "message", message);
                rc |= lcd_json_set_str(o, "reason", reason);
        }
        if (reason != NULL && code >= 0) {
                char num[16];
                snprintf(num, sizeof num, "%d", code);
                json_object *cause = json_object_new_object(), *causes = json_object_new_array(),
                            *details = json_object_new_object();
                rc |= lcd_json_set_str(cause, "reason", "ExitCode");
                rc |= lcd_json_set_str(cause, "message", num);
                rc |= lcd_json_append(causes, cause);
                rc |= lcd_json_set(details, "causes", causes);
                rc |= lcd_json_set(o, "details", details);
        }
        size_t len = 0;
        char *text = rc == 0 ? lcd_json_write(o, 0, 0, &len) : NULL;
        json_object_put(o);
        st->status_queued = true;
        if (text == NULL || queue_frame(st, CH_STATUS, text, len) < 0)
                drop_client(st, "out of memory writing the status");
        lcd_free(text);
}

static void status_of_exit(lcd_stream_t *st)
{
        if (st->code == 0) {
                queue_status(st, NULL, NULL, -1);
                return;
        }
        char msg[512];
        const char *why = lcd_exec_why(st->x);
        snprintf(msg, sizeof msg, "command terminated with non-zero exit code: %s%sexit code %d", why,
                 why[0] ? ", " : "", st->code);
        queue_status(st, "NonZeroExitCode", msg, st->code);
}

static const char *status_reason(lcd_errkind_t k)
{
        switch (k) {
        case LCD_E_NOT_FOUND:
                return "NotFound";
        case LCD_E_CONFLICT:
                return "Conflict";
        case LCD_E_BUSY:
                return "ServiceUnavailable";
        case LCD_E_INVALID:
                return "BadRequest";
        default:
                return "InternalError";
        }
}

/* Read one frame's worth from output i (LCD_EXEC_STDOUT, _STDERR): 1 read,
 * 0 nothing now, -1 at its end (closed). */
static int read_output(lcd_stream_t *st, int i)
{
        unsigned char buf[STREAM_READ];
        int fd = lws_get_socket_fd(st->raw[i]);
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) /* the end, or EIO: a terminal whose other side closed */
                return -1;
        if (st->wsi != NULL && queue_frame(st, i == LCD_EXEC_STDERR ? CH_STDERR : CH_STDOUT, buf, (size_t)n) < 0)
                drop_client(st, "out of memory queueing output");
        return 1;
}

static void set_paused(lcd_stream_t *st, bool paused)
{
        if (st->paused == paused)
                return;
        st->paused = paused;
        for (int i = LCD_EXEC_STDOUT; i <= LCD_EXEC_STDERR; i++)
                if (st->raw[i] != NULL)
                        lws_rx_flow_control(st->raw[i], !paused);
}

static void close_raw(lcd_stream_t *st, int i)
{
        if (st->raw[i] != NULL) {
                struct lws *w = st->raw[i];
                st->raw[i] = NULL;
                lws_set_opaque_user_data(w, NULL);
                lws_set_timeout(w, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC); /* lws closes the fd */
        }
}

/* ---- input ---- */

static void write_stdin(lcd_stream_t *st)
{
        struct lws *w = st->raw[LCD_EXEC_STDIN];
        if (w == NULL) {
                st->in_len = 0;
                return;
        }
        while (st->in_len > 0) {
                ssize_t n = write(lws_get_socket_fd(w), st->in, st->in_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        lws_callback_on_writable(w);
                        break;
                }
                if (n < 0) { /* the process closed its stdin */
                        st->in_len = 0;
                        close_raw(st, LCD_EXEC_STDIN);
                        break;
                }
                memmove(st->in, st->in + n, st->in_len - (size_t)n);
                st->in_len -= (size_t)n;
        }
        if (st->in_len == 0 && st->in_eof)
                close_raw(st, LCD_EXEC_STDIN);
        if (st->rx_held && st->in_len <= STREAM_FRAME_MAX && st->wsi != NULL) {
                st->rx_held = false;
                lws_rx_flow_control(st->wsi, 1);
        }
}

static void on_stdin(lcd_stream_t *st, const unsigned char *p, size_t len)
{
        if (!st->want_stdin || st->in_eof)
                return;
        if (st->in == NULL && (st->in = lcd_malloc(2 * STREAM_FRAME_MAX)) == NULL) {
                drop_client(st, "out of memory buffering stdin");
                return;
        }
        if (st->in_len + len > 2 * STREAM_FRAME_MAX) { /* the WebSocket is held beyond one frame's worth */
                drop_client(st, "stdin over its bound while the WebSocket was held");
                return;
        }
        memcpy(st->in + st->in_len, p, len);
        st->in_len += len;
        if (st->in_len > STREAM_FRAME_MAX && st->wsi != NULL) {
                st->rx_held = true;
                lws_rx_flow_control(st->wsi, 0);
        }
        if (st->x != NULL)
                write_stdin(st);
}

static void on_resize(lcd_stream_t *st, const unsigned char *p, size_t len)
{
        char text[256];
        if (len >= sizeof text || st->x == NULL)
                return;
        memcpy(text, p, len);
        text[len] = '\0';
        json_object *o = json_tokener_parse(text), *w = NULL, *h = NULL;
        if (o != NULL && json_object_object_get_ex(o, "Width", &w) && json_object_object_get_ex(o, "Height", &h)) {
                int64_t width = json_object_get_int64(w), height = json_object_get_int64(h);
                if (width > 0 && width <= 10000 && height > 0 && height <= 10000)
                        lcd_exec_resize(st->x, (unsigned)width, (unsigned)height);
        }
        json_object_put(o);
}

static void on_message(lcd_stream_t *st, const unsigned char *p, size_t len)
{
        if (len == 0)
                return;
        switch (p[0]) {
        case CH_STDIN:
                on_stdin(st, p + 1, len - 1);
                break;
        case CH_RESIZE:
                on_resize(st, p + 1, len - 1);
                break;
        case CH_CLOSE: /* v5: [255, channel] half-closes it; only stdin is the client's */
                if (len >= 2 && p[1] == CH_STDIN) {
                        st->in_eof = true;
                        if (st->x != NULL)
                                write_stdin(st);
                }
                break;
        default:
                break;
        }
}

/* ---- the exec's end ---- */

#define SIGNAL_RETRY_MS 20 /* crun not yet telling the process's pid: try again */

/* Run cb on st's timer in ms; nothing once the context is being destroyed. */
static void schedule(lcd_stream_t *st, sul_cb_t cb, int ms)
{
        if (!st->api->streams_stopping)
                lws_sul_schedule(st->api->ctx, 0, &st->sul, cb, (lws_usec_t)ms * LWS_US_PER_MS);
}

static void kill_cb(lws_sorted_usec_list_t *sul)
{
        lcd_stream_t *st = lws_container_of(sul, lcd_stream_t, sul);
        if (st->x != NULL && !st->exited && lcd_exec_signal(st->x, SIGKILL) == -EAGAIN)
                schedule(st, kill_cb, SIGNAL_RETRY_MS);
}

/* The first signal (SIGHUP with a terminal, else SIGTERM), then SIGKILL
 * after the grace. */
static void term_cb(lws_sorted_usec_list_t *sul)
{
        lcd_stream_t *st = lws_container_of(sul, lcd_stream_t, sul);
        if (st->x == NULL || st->exited)
                return;
        if (lcd_exec_signal(st->x, st->tty ? SIGHUP : SIGTERM) == -EAGAIN &&
            st->term_tries++ < STREAM_GRACE_MS / SIGNAL_RETRY_MS) {
                schedule(st, term_cb, SIGNAL_RETRY_MS);
                return;
        }
        schedule(st, kill_cb, STREAM_GRACE_MS);
}

/* The client is gone: end the process, gently first. */
static void end_process(lcd_stream_t *st)
{
        if (st->x == NULL || st->exited || st->signalled)
                return;
        st->signalled = true;
        close_raw(st, LCD_EXEC_STDIN);
        term_cb(&st->sul);
}

static void stall_cb(lws_sorted_usec_list_t *sul)
{
        lcd_stream_t *st = lws_container_of(sul, lcd_stream_t, sul);
        if (st->wsi == NULL)
                return;
        if (st->head != NULL && lcd_now_ms() - st->moved_ms >= STREAM_STALL_S * 1000) {
                char why[64];
                snprintf(why, sizeof why, "the client took no output for %d s", STREAM_STALL_S);
                drop_client(st, why);
                return;
        }
        schedule(st, stall_cb, 1000);
}

/* After the exit: send what the outputs still hold, then the status. */
static void maybe_finish(lcd_stream_t *st)
{
        if (!st->exited || st->status_queued)
                return;
        for (int i = LCD_EXEC_STDOUT; i <= LCD_EXEC_STDERR; i++)
                while (st->raw[i] != NULL) {
                        if (st->out_bytes >= STREAM_OUT_MAX && st->wsi != NULL)
                                return; /* the rest once the client has taken some */
                        if (read_output(st, i) <= 0)
                                close_raw(st, i); /* empty: what a background child writes later is not ours */
                }
        if (st->wsi != NULL)
                status_of_exit(st);
}

static void exec_ended(lcd_stream_t *st)
{
        int code;
        if (lcd_exec_reap(st->x, &code) == 0)
                return;
        st->exited = true;
        st->code = code;
        if (st->wsi != NULL) /* no kill pending: the timer watches for a stalled client again */
                schedule(st, stall_cb, 1000);
        else if (!st->api->streams_stopping)
                lws_sul_cancel(&st->sul);
        close_raw(st, LCD_EXEC_PIDFD);
        close_raw(st, LCD_EXEC_STDIN);
        maybe_finish(st);
        maybe_free(st);
}

/* ---- life ---- */

lcd_stream_t *lcd_stream_new(lcd_api_t *api, struct lws *wsi, bool tty, bool want_stdin)
{
        lcd_stream_t *st = lcd_calloc(1, sizeof *st);
        if (st == NULL)
                return NULL;
        st->api = api;
        st->wsi = wsi;
        st->vh = lws_get_vhost(wsi);
        st->tty = tty;
        st->want_stdin = want_stdin;
        st->job = true;
        st->moved_ms = lcd_now_ms();
        st->next = api->streams;
        if (st->next != NULL)
                st->next->prev = st;
        api->streams = st;
        api->n_streams++;
        return st;
}

void lcd_stream_ready(void *ctx, lcd_exec_t *x, lcd_error_t *err)
{
        lcd_stream_t *st = ctx;
        lcd_api_t *api = st->api;
        st->ready_x = x;
        st->ready_err = err;
        pthread_mutex_lock(&api->mail_mu);
        st->next_mail = api->stream_mail;
        api->stream_mail = st;
        pthread_mutex_unlock(&api->mail_mu);
        lcd_api_wake(api);
}

/* Adopt the exec's descriptors and tell the client it may go. */
static void start(lcd_stream_t *st)
{
        struct lws_vhost *vh = st->vh;
        for (int i = 0; i < LCD_EXEC__FDS; i++) {
                int fd = lcd_exec_take_fd(st->x, i);
                if (fd < 0)
                        continue;
                lws_sock_file_fd_type d = {.filefd = fd};
                st->raw[i] = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, d, LCD_STREAM_PROTOCOL, NULL);
                if (st->raw[i] == NULL) { /* lws closed fd */
                        drop_client(st, "cannot watch the exec's descriptors");
                        continue;
                }
                lws_set_opaque_user_data(st->raw[i], st);
                if (i == LCD_EXEC_STDIN) /* writable only when asked */
                        lws_rx_flow_control(st->raw[i], 0);
        }
        if (st->raw[LCD_EXEC_PIDFD] == NULL) { /* nothing would tell its end: end it now */
                lcd_exec_free(st->x);
                st->x = NULL;
                drop_client(st, "cannot watch the exec's end");
                return;
        }
        if (st->wsi == NULL || st->closing) {
                end_process(st);
                return;
        }
        queue_frame(st, CH_STDOUT, NULL, 0); /* ready, as kubelet says it */
        if (st->in_len > 0 || st->in_eof)
                write_stdin(st);
        schedule(st, stall_cb, 1000);
}

void lcd_stream_deliver(lcd_api_t *api)
{
        pthread_mutex_lock(&api->mail_mu);
        lcd_stream_t *st = api->stream_mail;
        api->stream_mail = NULL;
        pthread_mutex_unlock(&api->mail_mu);
        while (st != NULL) {
                lcd_stream_t *next = st->next_mail;
                st->job = false;
                if (st->ready_err != NULL) {
                        if (st->wsi != NULL)
                                queue_status(st, status_reason(st->ready_err->kind), st->ready_err->msg, -1);
                        lcd_error_free(st->ready_err);
                        st->ready_err = NULL;
                } else {
                        st->x = st->ready_x;
                        start(st);
                }
                maybe_free(st);
                st = next;
        }
}

static void maybe_free(lcd_stream_t *st)
{
        if (st->wsi != NULL || st->job)
                return;
        if (st->x != NULL && !st->exited) {
                end_process(st);
                return;
        }
        for (int i = 0; i < LCD_EXEC__FDS; i++)
                close_raw(st, i);
        if (!st->api->streams_stopping)
                lws_sul_cancel(&st->sul);
        lcd_exec_free(st->x);
        for (struct frame *f = st->head, *n; f != NULL; f = n) {
                n = f->next;
                lcd_free(f);
        }
        if (st->prev != NULL)
                st->prev->next = st->next;
        else
                st->api->streams = st->next;
        if (st->next != NULL)
                st->next->prev = st->prev;
        st->api->n_streams--;
        lcd_free(st->rx);
        lcd_free(st->in);
        lcd_free(st);
}

void lcd_stream_gone(lcd_stream_t *st, const struct lws *wsi)
{
        if (st == NULL || st->wsi == NULL || st->wsi != wsi)
                return;
        st->wsi = NULL;
        set_paused(st, false); /* read and drop: a process blocked on a full pipe must see its signal */
        maybe_free(st);
}

void lcd_stream_stop_all(lcd_api_t *api)
{
        for (lcd_stream_t *st = api->streams; st != NULL; st = st->next)
                lws_sul_cancel(&st->sul);
        api->streams_stopping = true;
}

void lcd_stream_free_all(lcd_api_t *api)
{
        while (api->streams != NULL) {
                lcd_stream_t *st = api->streams;
                st->wsi = NULL;
                st->job = false;
                for (int i = 0; i < LCD_EXEC__FDS; i++)
                        st->raw[i] = NULL; /* the context is gone, and with it these */
                st->exited = true;         /* lcd_exec_free kills and waits for what still runs */
                maybe_free(st);
        }
}

/* ---- lws events ---- */

int lcd_stream_established(lcd_stream_t *st)
{
        st->established = true;
        if (st->head != NULL)
                lws_callback_on_writable(st->wsi);
        return 0;
}

int lcd_stream_receive(lcd_stream_t *st, struct lws *wsi, const void *in, size_t len)
{
        if (st->closing)
                return 0; /* the end is on its way: what comes now is dropped */
        if (st->rx_len + len > STREAM_FRAME_MAX + 1) {
                queue_status(st, "BadRequest", "a frame over 65537 bytes (stdin goes in frames of at most 64 KiB)", -1);
                st->closing = true;
                return 0;
        }
        if (st->rx == NULL && (st->rx = lcd_malloc(STREAM_FRAME_MAX + 1)) == NULL) {
                drop_client(st, "out of memory receiving a frame");
                return 0;
        }
        memcpy(st->rx + st->rx_len, in, len);
        st->rx_len += len;
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
                return 0;
        if (!st->closing)
                on_message(st, st->rx, st->rx_len);
        st->rx_len = 0;
        return 0;
}

int lcd_stream_writable(lcd_stream_t *st, struct lws *wsi)
{
        struct frame *f = st->head;
        if (f != NULL) {
                if (lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_BINARY) < (int)f->len)
                        return -1;
                st->head = f->next;
                if (st->head == NULL)
                        st->tail = NULL;
                st->out_bytes -= f->len;
                lcd_free(f);
                st->moved_ms = lcd_now_ms();
        }
        if (st->out_bytes < STREAM_OUT_MAX / 2)
                set_paused(st, false);
        maybe_finish(st);
        if (st->head != NULL) {
                lws_callback_on_writable(wsi);
                return 0;
        }
        if (st->status_queued || st->closing) { /* all sent */
                lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
                return -1;
        }
        return 0;
}

int lcd_stream_raw(struct lws *w, enum lws_callback_reasons reason)
{
        lcd_stream_t *st = lws_get_opaque_user_data(w);
        if (st == NULL)
                return reason == LWS_CALLBACK_RAW_CLOSE_FILE ? 0 : -1;
        int i = 0;
        while (i < LCD_EXEC__FDS && st->raw[i] != w)
                i++;
        if (i == LCD_EXEC__FDS)
                return -1;
        switch (reason) {
        case LWS_CALLBACK_RAW_RX_FILE:
                if (i == LCD_EXEC_PIDFD) {
                        exec_ended(st);
                        return 0;
                }
                if (i == LCD_EXEC_STDIN)
                        return 0;
                if (st->out_bytes >= STREAM_OUT_MAX && st->wsi != NULL) {
                        set_paused(st, true);
                        return 0;
                }
                if (read_output(st, i) < 0) {
                        close_raw(st, i);
                        maybe_finish(st);
                }
                return 0;
        case LWS_CALLBACK_RAW_WRITEABLE_FILE:
                if (i == LCD_EXEC_STDIN)
                        write_stdin(st);
                return 0;
        case LWS_CALLBACK_RAW_CLOSE_FILE:
                /* lws closes an output at its hang-up, maybe before it was read to the end: read
                 * the rest now (at most a pipe's or a terminal's buffer, beyond the queue's bound) */
                while ((i == LCD_EXEC_STDOUT || i == LCD_EXEC_STDERR) && read_output(st, i) > 0)
                        ;
                st->raw[i] = NULL;
                maybe_finish(st);
                maybe_free(st);
                return 0;
        default:
                return 0;
        }
}

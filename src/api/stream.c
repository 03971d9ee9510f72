/* stream.c - see stream.h: an exec's WebSocket in the Kubernetes channel
 * protocol.
 *
 * DESIGN: service thread only, except the exec's ready callback (a worker), which
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
#include "stream-internal.h"
#include "streamstatus.h"

#include "lcd/alloc.h"
#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void maybe_free(lcd_stream_t *st);
static void maybe_finish(lcd_stream_t *st);

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
        lcd_stream_close_raw(st, LCD_EXEC_STDIN);
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
                lcd_stream_drop_client(st, why);
                return;
        }
        schedule(st, stall_cb, 1000);
}

/* An attach's wait is over: for conmon's close after the exit (what it
 * still sends is dropped), or for the exit's event after its close. */
static void attach_end_cb(lws_sorted_usec_list_t *sul)
{
        lcd_stream_t *st = lws_container_of(sul, lcd_stream_t, end_sul);
        st->end_armed = false;
        if (!st->exited) {
                st->exited = true;
                st->code = -1;
        }
        lcd_stream_close_raw(st, LCD_EXEC_STDOUT);
        lcd_stream_close_raw(st, LCD_EXEC_STDIN);
        maybe_finish(st);
}

static void attach_wait(lcd_stream_t *st, int ms)
{
        if (!st->end_armed && !st->api->streams_stopping) {
                st->end_armed = true;
                lws_sul_schedule(st->api->ctx, 0, &st->end_sul, attach_end_cb, (lws_usec_t)ms * LWS_US_PER_MS);
        }
}

/* The status of an attach: its container's exit code, or its removal. */
static char *attach_status(const lcd_stream_t *st)
{
        if (st->code >= 0)
                return lcd_stream_status_exit(st->code, "");
        return lcd_stream_status_error(LCD_E_NOT_FOUND, "the container was removed, or its monitor ended");
}

/* After the exit: send what the outputs still hold, then the status. An
 * attach's outputs are conmon's socket, which conmon closes after its
 * last output: its close and the exit's event, in either order, end it. */
static void maybe_finish(lcd_stream_t *st)
{
        if (st->status_queued)
                return;
        if (st->a != NULL) {
                if (st->exited && st->raw[LCD_EXEC_STDOUT] != NULL)
                        attach_wait(st, ATTACH_DRAIN_MS);
                else if (!st->exited && st->raw[LCD_EXEC_STDOUT] == NULL)
                        attach_wait(st, ATTACH_EXIT_WAIT_MS);
                else if (st->exited && st->wsi != NULL) {
                        if (st->end_armed && !st->api->streams_stopping)
                                lws_sul_cancel(&st->end_sul);
                        st->end_armed = false;
                        lcd_stream_queue_status(st, attach_status(st));
                }
                return;
        }
        if (!st->exited)
                return;
        for (int i = LCD_EXEC_STDOUT; i <= LCD_EXEC_STDERR; i++)
                while (st->raw[i] != NULL) {
                        if (st->out_bytes >= STREAM_OUT_MAX && st->wsi != NULL)
                                return; /* the rest once the client has taken some */
                        if (lcd_stream_read_output(st, i) <=
                            0) /* empty: what a background child writes later is not ours */
                                lcd_stream_close_raw(st, i);
                }
        if (st->wsi != NULL)
                lcd_stream_queue_status(st, lcd_stream_status_exit(st->code, lcd_exec_why(st->x)));
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
        lcd_stream_close_raw(st, LCD_EXEC_PIDFD);
        lcd_stream_close_raw(st, LCD_EXEC_STDIN);
        maybe_finish(st);
        maybe_free(st);
}

/* ---- life ---- */

/* lcd_exec_ready_fn: mail the exec (or its error) back. A worker. */
static void exec_ready(void *ctx, lcd_exec_t *x, lcd_error_t *err)
{
        lcd_stream_t *st = ctx;
        lcd_api_t *api = st->api;
        st->ready_x = x;
        st->ready_err = err;
        pthread_mutex_lock(&api->mail_mu);
        st->next_mail = api->stream_mail;
        api->stream_mail = st;
        pthread_mutex_unlock(&api->mail_mu);
        if (api->ctx != NULL) /* as pending.c wakes the loop for a reply */
                lws_cancel_service(api->ctx);
}

/* Link a new stream in. */
static void link_stream(lcd_api_t *api, lcd_stream_t *st)
{
        st->next = api->streams;
        if (st->next != NULL)
                st->next->prev = st;
        api->streams = st;
        api->n_streams++;
}

lcd_stream_t *lcd_stream_start(lcd_api_t *api, struct lws *wsi, const lcd_exec_req_t *req, lcd_error_t **err)
{
        lcd_stream_t *st = lcd_calloc(1, sizeof *st);
        if (st == NULL) {
                lcd_error_nomem(err);
                return NULL;
        }
        st->api = api;
        st->wsi = wsi;
        st->vh = lws_get_vhost(wsi);
        st->tty = req->tty;
        st->want_stdin = req->stdin;
        st->moved_ms = lcd_now_ms();
        if (lcd_engine_exec(api->engine, req, exec_ready, st, err) < 0) { /* refused: no job, nothing holds st */
                lcd_free(st);
                return NULL;
        }
        st->job = true; /* its mail comes on this thread's next delivery at the earliest */
        link_stream(api, st);
        return st;
}

/* Have the service loop watch fd as st's raw descriptor i. 0, or -1
 * (fd closed, the client dropped). */
static int adopt(lcd_stream_t *st, int i, int fd)
{
        if (fd < 0)
                return 0;
        lws_sock_file_fd_type d = {.filefd = fd};
        st->raw[i] = lws_adopt_descriptor_vhost(st->vh, LWS_ADOPT_RAW_FILE_DESC, d, LCD_STREAM_PROTOCOL, NULL);
        if (st->raw[i] == NULL) { /* lws closed fd */
                lcd_stream_drop_client(st, "cannot watch the stream's descriptors");
                return -1;
        }
        lws_set_opaque_user_data(st->raw[i], st);
        if (i == LCD_EXEC_STDIN) /* writable only when asked */
                lws_rx_flow_control(st->raw[i], 0);
        return 0;
}

/* Adopt the exec's descriptors and tell the client it may go. */
static void start(lcd_stream_t *st)
{
        for (int i = 0; i < LCD_EXEC__FDS; i++)
                adopt(st, i, lcd_exec_take_fd(st->x, i));
        if (st->raw[LCD_EXEC_PIDFD] == NULL) { /* nothing would tell its end: end it now */
                lcd_exec_free(st->x);
                st->x = NULL;
                lcd_stream_drop_client(st, "cannot watch the exec's end");
                return;
        }
        if (st->wsi == NULL || st->closing) {
                end_process(st);
                return;
        }
        lcd_stream_queue_frame(st, CH_STDOUT, NULL, 0); /* ready, as kubelet says it */
        if (st->in_len > 0 || st->in_eof)
                lcd_stream_write_stdin(st);
        schedule(st, stall_cb, 1000);
}

lcd_stream_t *lcd_stream_attach(lcd_api_t *api, struct lws *wsi, const lcd_attach_req_t *req, bool want_out,
                                bool want_err, lcd_error_t **err)
{
        lcd_stream_t *st = lcd_calloc(1, sizeof *st);
        if (st == NULL) {
                lcd_error_nomem(err);
                return NULL;
        }
        if (lcd_engine_attach(api->engine, req, &st->a, err) < 0) {
                lcd_free(st);
                return NULL;
        }
        st->api = api;
        st->wsi = wsi;
        st->vh = lws_get_vhost(wsi);
        st->tty = lcd_attach_tty(st->a);
        st->want_stdin = req->stdin;
        st->want_out = want_out;
        st->want_err = want_err;
        st->moved_ms = lcd_now_ms();
        link_stream(api, st);
        if (adopt(st, LCD_EXEC_STDOUT, lcd_attach_take_fd(st->a, LCD_ATTACH_OUTPUT)) == 0 &&
            adopt(st, LCD_EXEC_STDIN, lcd_attach_take_fd(st->a, LCD_ATTACH_INPUT)) == 0) {
                lcd_stream_queue_frame(st, CH_STDOUT, NULL, 0); /* ready */
                schedule(st, stall_cb, 1000);
        }
        return st;
}

void lcd_stream_on_event(lcd_api_t *api, const lcd_event_t *ev)
{
        for (lcd_stream_t *st = api->streams, *next; st != NULL; st = next) {
                next = st->next;
                int code;
                if (st->a == NULL || st->exited || !lcd_attach_ended_by(st->a, ev, &code))
                        continue;
                st->exited = true;
                st->code = code;
                if (st->end_armed) { /* conmon closed first: the wait is over */
                        lws_sul_cancel(&st->end_sul);
                        st->end_armed = false;
                }
                maybe_finish(st);
        }
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
                                lcd_stream_queue_status(
                                        st, lcd_stream_status_error(st->ready_err->kind, st->ready_err->msg));
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
                lcd_stream_close_raw(st, i);
        if (!st->api->streams_stopping) {
                lws_sul_cancel(&st->sul);
                lws_sul_cancel(&st->end_sul);
        }
        lcd_exec_free(st->x);
        lcd_attach_free(st->a);
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
        lcd_stream_set_paused(st, false); /* read and drop: a process blocked on a full pipe must see its signal */
        maybe_free(st);
}

void lcd_stream_stop_all(lcd_api_t *api)
{
        for (lcd_stream_t *st = api->streams; st != NULL; st = st->next) {
                lws_sul_cancel(&st->sul);
                lws_sul_cancel(&st->end_sul);
        }
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
                lcd_stream_queue_status(st, lcd_stream_status_error(LCD_E_BAD_REQUEST,
                                                                    "a frame over 65537 bytes (stdin "
                                                                    "goes in frames of at most 64 KiB)"));
                st->closing = true;
                return 0;
        }
        if (st->rx == NULL && (st->rx = lcd_malloc(STREAM_FRAME_MAX + 1)) == NULL) {
                lcd_stream_drop_client(st, "out of memory receiving a frame");
                return 0;
        }
        memcpy(st->rx + st->rx_len, in, len);
        st->rx_len += len;
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
                return 0;
        if (!st->closing)
                lcd_stream_on_message(st, st->rx, st->rx_len);
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
                lcd_stream_set_paused(st, false);
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
                if (i == LCD_EXEC_PIDFD && st->x != NULL) {
                        exec_ended(st);
                        return 0;
                }
                if (i == LCD_EXEC_STDIN)
                        return 0;
                if (st->out_bytes >= STREAM_OUT_MAX && st->wsi != NULL) {
                        lcd_stream_set_paused(st, true);
                        return 0;
                }
                if (lcd_stream_read_output(st, i) < 0) {
                        lcd_stream_close_raw(st, i);
                        maybe_finish(st);
                }
                return 0;
        case LWS_CALLBACK_RAW_WRITEABLE_FILE:
                if (i == LCD_EXEC_STDIN)
                        lcd_stream_write_stdin(st);
                return 0;
        case LWS_CALLBACK_RAW_CLOSE_FILE:
                /* lws closes an output at its hang-up, maybe before it was read to the end: read
                 * the rest now (at most a pipe's or a terminal's buffer, beyond the queue's bound) */
                while ((i == LCD_EXEC_STDOUT || i == LCD_EXEC_STDERR) && lcd_stream_read_output(st, i) > 0)
                        ;
                st->raw[i] = NULL;
                lws_set_opaque_user_data(w, NULL); /* its WSI_DESTROY comes after st may be freed */
                maybe_finish(st);
                maybe_free(st);
                return 0;
        default:
                return 0;
        }
}

/* stream-io.c - see stream-internal.h: an exec stream's bytes. Output
 * becomes frames in a queue the WebSocket drains; stdin waits in a buffer
 * the pipe drains; the client's messages are taken apart here. */
#include "stream-internal.h"

#include "lcd/alloc.h"
#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int lcd_stream_queue_frame(lcd_stream_t *st, int channel, const void *data, size_t len)
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
void lcd_stream_drop_client(lcd_stream_t *st, const char *why)
{
        if (st->wsi == NULL || st->closing)
                return;
        lcd_warn("closing an exec stream: %s", why);
        st->closing = true;
        lws_close_reason(st->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, strlen(why));
        lws_set_timeout(st->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/* The status frame (channel 3; text from streamstatus.c), after which the
 * daemon closes. text NULL: out of memory. */
void lcd_stream_queue_status(lcd_stream_t *st, char *text)
{
        if (!st->status_queued) {
                st->status_queued = true;
                if (text == NULL || lcd_stream_queue_frame(st, CH_STATUS, text, strlen(text)) < 0)
                        lcd_stream_drop_client(st, "out of memory writing the status");
        }
        lcd_free(text);
}

/* Read one frame's worth from output i (LCD_EXEC_STDOUT, _STDERR): 1 read,
 * 0 nothing now, -1 at its end (closed). */
int lcd_stream_read_output(lcd_stream_t *st, int i)
{
        unsigned char buf[STREAM_READ];
        int fd = lws_get_socket_fd(st->raw[i]);
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) /* the end, or EIO: a terminal whose other side closed */
                return -1;
        int ch = i == LCD_EXEC_STDERR ? CH_STDERR : CH_STDOUT;
        const unsigned char *p = buf;
        size_t len = (size_t)n;
        if (st->a != NULL) { /* conmon's packet: [2 stdout | 3 stderr][bytes] */
                ch = buf[0] == 3 ? CH_STDERR : CH_STDOUT;
                p++;
                len--;
                if (len == 0 || !(ch == CH_STDOUT ? st->want_out : st->want_err))
                        return 1; /* an empty frame would say "ready" */
        }
        if (st->wsi != NULL && lcd_stream_queue_frame(st, ch, p, len) < 0)
                lcd_stream_drop_client(st, "out of memory queueing output");
        return 1;
}

void lcd_stream_set_paused(lcd_stream_t *st, bool paused)
{
        if (st->paused == paused)
                return;
        st->paused = paused;
        for (int i = LCD_EXEC_STDOUT; i <= LCD_EXEC_STDERR; i++)
                if (st->raw[i] != NULL)
                        lws_rx_flow_control(st->raw[i], !paused);
}

void lcd_stream_close_raw(lcd_stream_t *st, int i)
{
        if (st->raw[i] != NULL) {
                struct lws *w = st->raw[i];
                st->raw[i] = NULL;
                lws_set_opaque_user_data(w, NULL);
                lws_set_timeout(w, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC); /* lws closes the fd */
        }
}

void lcd_stream_write_stdin(lcd_stream_t *st)
{
        struct lws *w = st->raw[LCD_EXEC_STDIN];
        if (w == NULL) {
                st->in_len = 0;
                return;
        }
        while (st->in_len > 0) {
                /* to conmon, packets it takes whole */
                size_t chunk = st->a != NULL && st->in_len > LCD_ATTACH_PACKET_MAX ? LCD_ATTACH_PACKET_MAX : st->in_len;
                ssize_t n = write(lws_get_socket_fd(w), st->in, chunk);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        lws_callback_on_writable(w);
                        break;
                }
                if (n < 0) { /* the process closed its stdin */
                        st->in_len = 0;
                        lcd_stream_close_raw(st, LCD_EXEC_STDIN);
                        break;
                }
                memmove(st->in, st->in + n, st->in_len - (size_t)n);
                st->in_len -= (size_t)n;
        }
        if (st->in_len == 0 && st->in_eof && st->raw[LCD_EXEC_STDIN] != NULL) {
                if (st->a != NULL) /* the socket lives on for the output: conmon sees stdin's end */
                        shutdown(lws_get_socket_fd(w), SHUT_WR);
                lcd_stream_close_raw(st, LCD_EXEC_STDIN);
        }
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
                lcd_stream_drop_client(st, "out of memory buffering stdin");
                return;
        }
        if (st->in_len + len > 2 * STREAM_FRAME_MAX) { /* the WebSocket is held beyond one frame's worth */
                lcd_stream_drop_client(st, "stdin over its bound while the WebSocket was held");
                return;
        }
        memcpy(st->in + st->in_len, p, len);
        st->in_len += len;
        if (st->in_len > STREAM_FRAME_MAX && st->wsi != NULL) {
                st->rx_held = true;
                lws_rx_flow_control(st->wsi, 0);
        }
        if (st->x != NULL || st->a != NULL)
                lcd_stream_write_stdin(st);
}

static void on_resize(lcd_stream_t *st, const unsigned char *p, size_t len)
{
        char text[256];
        if (len >= sizeof text || (st->x == NULL && st->a == NULL))
                return;
        memcpy(text, p, len);
        text[len] = '\0';
        json_object *o = json_tokener_parse(text), *w = NULL, *h = NULL;
        if (o != NULL && json_object_object_get_ex(o, "Width", &w) && json_object_object_get_ex(o, "Height", &h)) {
                int64_t width = json_object_get_int64(w), height = json_object_get_int64(h);
                if (width > 0 && width <= 10000 && height > 0 && height <= 10000) {
                        if (st->a != NULL)
                                lcd_attach_resize(st->a, (unsigned)width, (unsigned)height);
                        else
                                lcd_exec_resize(st->x, (unsigned)width, (unsigned)height);
                }
        }
        json_object_put(o);
}

void lcd_stream_on_message(lcd_stream_t *st, const unsigned char *p, size_t len)
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
                        if (st->x != NULL || st->a != NULL)
                                lcd_stream_write_stdin(st);
                }
                break;
        default:
                break;
        }
}

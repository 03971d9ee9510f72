/* stream-internal.h - what stream.c and stream-io.c share: the stream
 * object, its bounds, and the byte-moving half (stream-io.c: frames out,
 * stdin in, the client's messages) that stream.c's life and end stand on.
 * Service thread. */
#ifndef LCD_STREAM_INTERNAL_H
#define LCD_STREAM_INTERNAL_H

#include "stream.h"

#include "lcd/attach.h"

#include <stdint.h>

#define STREAM_FRAME_MAX 65536      /* a client's frame, at most (stdin, resize) */
#define STREAM_READ 32768           /* bytes read from an output into one frame */
#define STREAM_OUT_MAX (256 * 1024) /* output queued for the client */
#define STREAM_STALL_S 30           /* a client that takes no output for this long is dropped */
#define STREAM_GRACE_MS 2000        /* a client gone: from the first signal to SIGKILL */
#define ATTACH_DRAIN_MS 2000        /* an attach's container ended: conmon's last output and close, at most */
#define ATTACH_EXIT_WAIT_MS 10000   /* conmon closed an attach: the exit's event, at most */

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
        lcd_attach_t *a;                /* an attach's instead (no exec, no job); raw[STDOUT] its socket */
        bool want_out, want_err;        /* an attach's outputs the client asked for */
        bool end_armed;                 /* an attach's end_sul is set */
        lws_sorted_usec_list_t end_sul; /* an attach's wait for its last output, or for its exit */
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

/* Queue a frame [channel][data] for the client; 0 or -ENOMEM. */
int lcd_stream_queue_frame(lcd_stream_t *st, int channel, const void *data, size_t len);
/* Drop the client: its WebSocket closes, and with it the process. */
void lcd_stream_drop_client(lcd_stream_t *st, const char *why);
/* The status frame (text from streamstatus.c, NULL: out of memory; taken),
 * once; the daemon closes after it. */
void lcd_stream_queue_status(lcd_stream_t *st, char *text);
/* One frame's worth from output i (LCD_EXEC_STDOUT, _STDERR): 1 read, 0
 * nothing now, -1 at its end. Dropped once the client is gone. */
int lcd_stream_read_output(lcd_stream_t *st, int i);
/* Stop (or resume) reading the outputs: the queue is full. */
void lcd_stream_set_paused(lcd_stream_t *st, bool paused);
/* Stop watching raw descriptor i; lws closes it. */
void lcd_stream_close_raw(lcd_stream_t *st, int i);
/* Write what stdin holds, as the pipe takes it (and close it at its end). */
void lcd_stream_write_stdin(lcd_stream_t *st);
/* A whole message of the client: stdin, a resize, stdin's end. */
void lcd_stream_on_message(lcd_stream_t *st, const unsigned char *p, size_t len);

#endif

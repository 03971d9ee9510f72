/* stream.h - lightctl's side of an exec or attach stream (stream.c): the
 * terminal, and the loop between the daemon's frames and stdin/stdout. */
#ifndef LCD_CLI_STREAM_H
#define LCD_CLI_STREAM_H

#include <stdbool.h>

#include "wsclient.h"

#define CTL_EXIT_NOT_STARTED 125 /* docker's code for "the daemon's error" */
#define CTL_STREAM_DETACHED (-2) /* ctl_stream_run: the user typed the detach keys */

typedef struct {
        lcd_ws_t *ws;     /* the stream's WebSocket (the caller closes it) */
        bool interactive; /* stdin is read and sent, its end as [255, 0] */
        bool tty;         /* the terminal's size is sent at the start and on SIGWINCH */
        bool detach_keys; /* ctrl-p ctrl-q leaves without ending anything (attach) */
        /* Once the daemon says the stream is ready and the size is sent:
         * 0 to go on, else the exit status to end with (may be NULL). */
        int (*on_ready)(void *arg);
        void *arg;
} ctl_stream_t;

/* A terminal with stdin needs stdin to be a terminal (a pipe's end could
 * not end a terminal's input): 0, or EXIT_USAGE after saying so, as
 * docker does. */
int ctl_stream_check_input(bool interactive, bool tty);
/* With a terminal on stdin: raw mode (restored on every way out, signals
 * included) and SIGWINCH watched. 0, or -errno (a warning said why). */
int ctl_stream_terminal(void);
/* Run the stream to its status frame: the process's exit code (0 on
 * Success), CTL_EXIT_NOT_STARTED (the daemon's error, said),
 * EXIT_CONNECT (a lost stream, said) or CTL_STREAM_DETACHED. The terminal
 * is restored before it returns. */
int ctl_stream_run(const ctl_stream_t *s);

#endif

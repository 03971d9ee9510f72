/* stream.c - see stream.h: lightctl's end of the daemon's exec and attach
 * streams (docs/API.md, Streams).
 *
 * DESIGN: one loop: frames from the daemon go to stdout and stderr; the
 * terminal (or a pipe) is read when lcd_ws_recv says it is readable
 * (lcd_ws_watch) -- only once the daemon's ready frame came and the
 * terminal's size was sent -- and sent as stdin frames, its end as
 * [255, 0]. With a terminal in raw mode (typed keys, ^C included, go to
 * the process), the terminal is restored on every way out: the status
 * frame, a lost connection, SIGTERM, SIGHUP, SIGQUIT (a handler that
 * restores and re-raises); SIGWINCH sends the new size within
 * WINCH_POLL_MS. With detach keys, ctrl-p ctrl-q (docker's) leaves: a
 * ctrl-p is held back until the next key says whether it was one.
 */
#include "stream.h"

#include "client.h"

#include "lcd/alloc.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define STDIN_CHUNK 32768
#define WINCH_POLL_MS 200 /* how soon a resize of the terminal is sent */
#define KEY_CTRL_P 0x10
#define KEY_CTRL_Q 0x11

static struct termios saved;
static volatile sig_atomic_t raw_on, winched;

static void restore_terminal(void)
{
        if (raw_on) {
                tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
                raw_on = 0;
        }
}

static void on_fatal(int sig)
{
        restore_terminal();
        signal(sig, SIG_DFL);
        raise(sig);
}

static void on_winch(int sig)
{
        (void)sig;
        winched = 1;
}

int ctl_stream_check_input(bool interactive, bool tty)
{
        if (!interactive || !tty || isatty(STDIN_FILENO))
                return 0;
        fprintf(stderr, "lightctl: the input device is not a TTY: -t with -i needs a terminal "
                        "(for a pipe, leave out -t)\n");
        return EXIT_USAGE;
}

int ctl_stream_terminal(void)
{
        if (!isatty(STDIN_FILENO))
                return -ENOTTY;
        if (tcgetattr(STDIN_FILENO, &saved) < 0)
                goto fail;
        struct termios t = saved;
        cfmakeraw(&t);
        if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) < 0)
                goto fail;
        raw_on = 1;
        atexit(restore_terminal);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGQUIT, &sa, NULL);
        sa.sa_handler = on_winch; /* the loop sends the size within WINCH_POLL_MS */
        sa.sa_flags = SA_RESTART;
        sigaction(SIGWINCH, &sa, NULL);
        return 0;
fail:;
        int e = errno;
        fprintf(stderr, "lightctl: warning: cannot put the terminal in raw mode: %s\n", strerror(e));
        return -e;
}

static int send_frame(lcd_ws_t *ws, int channel, const void *data, size_t len)
{
        unsigned char buf[1 + STDIN_CHUNK];
        buf[0] = (unsigned char)channel;
        if (len > 0)
                memcpy(buf + 1, data, len);
        return lcd_ws_send(ws, buf, 1 + len, true, ctl.timeout_ms);
}

static void send_size(lcd_ws_t *ws)
{
        struct winsize w;
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &w) < 0 || w.ws_col == 0 || w.ws_row == 0)
                return;
        char json[64];
        int n = snprintf(json, sizeof json, "{\"Width\":%u,\"Height\":%u}", w.ws_col, w.ws_row);
        send_frame(ws, 4, json, (size_t)n);
}

static int write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -1;
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/* The exit status the status frame gives (0 on Success). */
static int status_code(const char *text)
{
        json_object *o = json_tokener_parse(text);
        json_object *st = NULL, *details = NULL, *causes = NULL, *msg = NULL;
        int code = CTL_EXIT_NOT_STARTED;
        if (o != NULL && json_object_object_get_ex(o, "status", &st) &&
            strcmp(json_object_get_string(st), "Success") == 0) {
                code = 0;
        } else if (o != NULL && json_object_object_get_ex(o, "details", &details) &&
                   json_object_object_get_ex(details, "causes", &causes) && json_object_array_length(causes) > 0) {
                code = atoi(json_object_get_string(
                        json_object_object_get(json_object_array_get_idx(causes, 0), "message")));
                json_object *m = json_object_object_get(o, "message"); /* crun's words, when it could not run it */
                if ((code == 126 || code == 127) && m != NULL)
                        fprintf(stderr, "lightctl: %s\r\n", json_object_get_string(m));
        } else {
                json_object_object_get_ex(o, "message", &msg);
                fprintf(stderr, "lightctl: %s\r\n",
                        msg ? json_object_get_string(msg) : "the stream ended without a status");
        }
        json_object_put(o);
        return code;
}

/* Send n typed bytes, the detach keys taken out: 1 when they were typed. */
static int send_typed(const ctl_stream_t *s, const char *buf, size_t n, bool *held)
{
        char out[STDIN_CHUNK + 1];
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)buf[i];
                if (s->detach_keys && *held) {
                        *held = false;
                        if (c == KEY_CTRL_Q)
                                return 1;
                        out[k++] = KEY_CTRL_P; /* it was not the sequence: the ctrl-p goes after all */
                }
                if (s->detach_keys && c == KEY_CTRL_P)
                        *held = true;
                else
                        out[k++] = (char)c;
        }
        if (k > 0)
                send_frame(s->ws, 0, out, k);
        return 0;
}

int ctl_stream_run(const ctl_stream_t *s)
{
        bool reading = false; /* stdin is read once the process runs and has been told the terminal's size */
        bool held = false;    /* a ctrl-p typed last, held back */
        for (;;) {
                if (winched) {
                        winched = 0;
                        send_size(s->ws);
                }
                char *msg = NULL;
                size_t len = 0;
                bool binary = false;
                int r = lcd_ws_recv(s->ws, &msg, &len, &binary, WINCH_POLL_MS);
                if (r == -ETIMEDOUT)
                        continue;
                if (r == -EAGAIN) {
                        if (!reading)
                                continue;
                        char buf[STDIN_CHUNK];
                        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
                        if (n > 0) {
                                if (send_typed(s, buf, (size_t)n, &held) == 1) {
                                        restore_terminal();
                                        return CTL_STREAM_DETACHED;
                                }
                        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                                reading = false;
                                lcd_ws_watch(s->ws, -1);
                                static const unsigned char end = 0;
                                send_frame(s->ws, 255, &end, 1);
                        }
                        continue;
                }
                if (r < 0) {
                        restore_terminal();
                        fprintf(stderr, "lightctl: the stream ended: %s\n", ctl_recv_error(r));
                        return EXIT_CONNECT;
                }
                int code = -1;
                if (binary && len >= 1) {
                        unsigned char ch = (unsigned char)msg[0];
                        if (ch == 1 && len == 1) { /* ready: our size first, then what is typed */
                                if (s->tty)
                                        send_size(s->ws);
                                int st = s->on_ready ? s->on_ready(s->arg) : 0;
                                if (st != 0)
                                        code = st;
                                reading = st == 0 && s->interactive && lcd_ws_watch(s->ws, STDIN_FILENO) == 0;
                        } else if (ch == 1 || ch == 2) {
                                write_all(ch == 1 ? STDOUT_FILENO : STDERR_FILENO, msg + 1, len - 1);
                        } else if (ch == 3) {
                                code = status_code(msg + 1);
                        }
                }
                lcd_free(msg);
                if (code >= 0) {
                        restore_terminal();
                        return code;
                }
        }
}

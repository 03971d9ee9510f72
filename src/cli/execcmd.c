/* execcmd.c - lightctl exec: a process in a running container, over the
 * daemon's exec stream (docs/API.md, Streams).
 *
 * DESIGN: the command connects to /v1/containers/NAME/TAG/exec itself
 * (subprotocol v5.channel.k8s.io) rather than to /v1/ws, and runs one loop:
 * frames from the daemon go to stdout and stderr; the terminal (or a pipe)
 * is read when lcd_ws_recv says it is readable (lcd_ws_watch), and sent as
 * stdin frames, its end as [255, 0]. With -t on a terminal, the terminal is
 * in raw mode (typed keys, ^C included, go to the process) and is restored
 * on every way out: the process's end, a lost connection, SIGTERM, SIGHUP
 * (a handler that restores and re-raises); SIGWINCH sends the new size.
 * lightctl exits with the process's exit code; 125 when the exec could not
 * start (docker's code for "the daemon's error").
 */
#include "execcmd.h"

#include "client.h"

#include "lcd/alloc.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define EXIT_NOT_STARTED 125
#define PATH_MAX_LEN 8192 /* the request line: the daemon takes at most its header limit anyway */
#define STDIN_CHUNK 32768
#define WINCH_POLL_MS 200 /* how soon a resize of the terminal is sent */

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

static int raw_mode(void)
{
        if (tcgetattr(STDIN_FILENO, &saved) < 0)
                return -errno;
        struct termios t = saved;
        cfmakeraw(&t);
        if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) < 0)
                return -errno;
        raw_on = 1;
        atexit(restore_terminal);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGQUIT, &sa, NULL);
        return 0;
}

/* Append s percent-encoded (all but RFC 3986's unreserved) to buf. */
static int append_encoded(char *buf, size_t len, size_t *used, const char *key, const char *s)
{
        int n = snprintf(buf + *used, len - *used, "%s%s=", *used > 0 && buf[*used - 1] != '?' ? "&" : "", key);
        if (n < 0 || (size_t)n >= len - *used)
                return -1;
        *used += (size_t)n;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                             c == '.' || c == '_' || c == '~';
                if (*used + 4 >= len)
                        return -1;
                *used += (size_t)(plain ? snprintf(buf + *used, 2, "%c", c) : snprintf(buf + *used, 4, "%%%02X", c));
        }
        return 0;
}

static int send_frame(int channel, const void *data, size_t len)
{
        unsigned char buf[1 + STDIN_CHUNK];
        buf[0] = (unsigned char)channel;
        if (len > 0)
                memcpy(buf + 1, data, len);
        return lcd_ws_send(ctl.ws, buf, 1 + len, true, ctl.timeout_ms);
}

static void send_size(void)
{
        struct winsize w;
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &w) < 0 || w.ws_col == 0 || w.ws_row == 0)
                return;
        char json[64];
        int n = snprintf(json, sizeof json, "{\"Width\":%u,\"Height\":%u}", w.ws_col, w.ws_row);
        send_frame(4, json, (size_t)n);
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
        int code = EXIT_NOT_STARTED;
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
                fprintf(stderr, "lightctl: exec failed: %s\r\n", msg ? json_object_get_string(msg) : "(no status)");
        }
        json_object_put(o);
        return code;
}

static int run(bool interactive, bool tty)
{
        bool reading = false; /* stdin is read once the process runs and has been told the terminal's size */
        for (;;) {
                if (winched) {
                        winched = 0;
                        send_size();
                }
                char *msg = NULL;
                size_t len = 0;
                bool binary = false;
                int r = lcd_ws_recv(ctl.ws, &msg, &len, &binary, WINCH_POLL_MS);
                if (r == -ETIMEDOUT)
                        continue;
                if (r == -EAGAIN) {
                        if (!reading)
                                continue;
                        char buf[STDIN_CHUNK];
                        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
                        if (n > 0) {
                                send_frame(0, buf, (size_t)n);
                        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                                reading = false;
                                lcd_ws_watch(ctl.ws, -1);
                                static const unsigned char end = 0;
                                send_frame(255, &end, 1);
                        }
                        continue;
                }
                if (r < 0) {
                        restore_terminal();
                        fprintf(stderr, "lightctl: the exec stream ended: %s\n", ctl_recv_error(r));
                        return EXIT_CONNECT;
                }
                int code = -1;
                if (binary && len >= 1) {
                        unsigned char ch = (unsigned char)msg[0];
                        if (ch == 1 && len == 1) { /* ready: it runs; our size first, then what is typed */
                                if (tty)
                                        send_size();
                                reading = interactive && lcd_ws_watch(ctl.ws, STDIN_FILENO) == 0;
                        } else if (ch == 1 || ch == 2)
                                write_all(ch == 1 ? STDOUT_FILENO : STDERR_FILENO, msg + 1, len - 1);
                        else if (ch == 3)
                                code = status_code(msg + 1);
                }
                lcd_free(msg);
                if (code >= 0) {
                        restore_terminal();
                        return code;
                }
        }
}

int ctl_cmd_exec(int argc, char **argv)
{
        bool interactive = false, tty = false;
        static const struct option opts[] = {
                {"interactive", no_argument, NULL, 'i'}, {"tty", no_argument, NULL, 't'},
                {"env", required_argument, NULL, 'e'},   {"workdir", required_argument, NULL, 'w'},
                {"user", required_argument, NULL, 'u'},  {NULL, 0, NULL, 0}};
        static char path[PATH_MAX_LEN];
        char query[PATH_MAX_LEN] = "";
        size_t q = 0;
        optind = 1;
        int c;
        bool fits = true; /* the request within PATH_MAX_LEN */
        while ((c = getopt_long(argc, argv, "+ite:w:u:", opts, NULL)) != -1) {
                if (c == 'i')
                        interactive = true;
                else if (c == 't')
                        tty = true;
                else if (c == 'e' || c == 'w' || c == 'u')
                        fits = fits && append_encoded(query, sizeof query, &q,
                                                      c == 'e'   ? "env"
                                                      : c == 'w' ? "workdir"
                                                                 : "user",
                                                      optarg) == 0;
                else
                        return ctl_bad_usage("exec: bad option%s", "");
        }
        if (argc - optind < 2)
                return ctl_bad_usage("exec needs NAME[:TAG] and a command%s", "");
        char name[256];
        const char *tag = ctl_split_key(argv[optind], name, sizeof name);
        for (int i = optind + 1; i < argc; i++)
                fits = fits && append_encoded(query, sizeof query, &q, "command", argv[i]) == 0;
        fits = fits && (!interactive || append_encoded(query, sizeof query, &q, "stdin", "1") == 0) &&
               (!tty || append_encoded(query, sizeof query, &q, "tty", "1") == 0);
        int n = snprintf(path, sizeof path, "/v1/containers/%s/%s/exec?%s", name, tag, query);
        if (!fits || n < 0 || (size_t)n >= sizeof path)
                return ctl_bad_usage("exec: the request is over %s bytes", "8192");
        if (ctl_connect_to(path, "v5.channel.k8s.io") < 0)
                return EXIT_CONNECT;
        if (tty && interactive && isatty(STDIN_FILENO)) {
                if (raw_mode() < 0)
                        fprintf(stderr, "lightctl: warning: cannot put the terminal in raw mode: %s\n",
                                strerror(errno));
                struct sigaction sa;
                memset(&sa, 0, sizeof sa);
                sa.sa_handler = on_winch; /* the loop sends the size within WINCH_POLL_MS */
                sa.sa_flags = SA_RESTART;
                sigaction(SIGWINCH, &sa, NULL);
        }
        return run(interactive, tty);
}

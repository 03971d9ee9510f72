/* client.c - lightctl's side of the conversation with the daemon: the
 * token it shows on TCP, the connection, and one call at a time (the
 * request out, notifications skipped or drawn as a progress line on a
 * terminal, the reply or the error it carries), and the stream that
 * follows a subscription (ctl_follow: events, logs -f). Every message is
 * read through ctl_msg_decode (message.c).
 *
 * DESIGN: one connection per run, one request in flight; a call waits at
 * most --timeout. Requests are built with the checked JSON builders and
 * written with the daemon's own writer: a failed allocation is an error
 * (exit 3: nothing was sent), never a truncated message.
 */
#include "client.h"

#include "lcd/alloc.h"
#include "lcd/dirs.h"
#include "lcd/jsonwrite.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

lcd_ctl_t ctl = {.timeout_ms = 600 * 1000, .next_id = 1};

/* A token from a file (its first line), never through a symlink. 0, or
 * -1 after saying why. */
int ctl_read_token_file(const char *path, char *token, size_t len)
{
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        ssize_t n = -1;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
                n = read(fd, token, len - 1);
        if (fd >= 0)
                close(fd);
        if (n <= 0) {
                fprintf(stderr, "lightctl: cannot read the API token from %s (use --token-file)\n", path);
                return -1;
        }
        token[n] = '\0';
        token[strcspn(token, "\r\n")] = '\0';
        return 0;
}

/* The daemon's token file in the default runtime dir. */
static void default_token_path(char *path, size_t len)
{
        char rt[PATH_MAX];
        bool fallback;
        if (lcd_dirs_runtime_default(rt, sizeof rt, &fallback) < 0)
                rt[0] = '\0';
        snprintf(path, len, "%s/token", rt);
}

/* On TCP the daemon wants its token: --token-file, $LIGHTCTL_TOKEN, or the
 * daemon's token file in the default runtime dir. */
static int load_token(const lcd_ws_target_t *t)
{
        ctl.token[0] = '\0';
        if (t->is_unix)
                return 0;
        const char *env = getenv("LIGHTCTL_TOKEN");
        if (ctl.token_file == NULL && env != NULL) {
                snprintf(ctl.token, sizeof ctl.token, "%s", env);
                return 0;
        }
        char path[PATH_MAX + 8];
        if (ctl.token_file != NULL)
                snprintf(path, sizeof path, "%s", ctl.token_file);
        else
                default_token_path(path, sizeof path);
        return ctl_read_token_file(path, ctl.token, sizeof ctl.token);
}

int ctl_connect(void)
{
        return ctl_connect_to("/v1/ws", NULL);
}

int ctl_connect_to(const char *path, const char *protocol)
{
        char err[512];
        lcd_ws_target_t t;
        if (lcd_ws_parse_target(ctl.target, &t, err, sizeof err) < 0) {
                fprintf(stderr, "lightctl: %s\n", err);
                return -1;
        }
        if (load_token(&t) < 0)
                return -1;
        if (ctl.insecure && t.tls)
                fprintf(stderr, "lightctl: warning: --insecure: the daemon's certificate is not checked; anyone on "
                                "the path could pose as it and read the token\n");
        lcd_ws_opts_t o = {.target = ctl.target,
                           .path = path,
                           .protocol = protocol,
                           .token = ctl.token[0] ? ctl.token : NULL,
                           .cacert = ctl.cacert,
                           .insecure = ctl.insecure,
                           .timeout_ms = 10000};
        ctl.ws = lcd_ws_connect(&o, err, sizeof err);
        if (ctl.ws == NULL) {
                fprintf(stderr, "lightctl: %s\n", err);
                return -1;
        }
        return 0;
}

const char *ctl_split_key(const char *arg, char *name, size_t len)
{
        snprintf(name, len, "%s", arg);
        char *colon = strchr(name, ':');
        if (colon == NULL)
                return "latest";
        *colon = '\0';
        return colon + 1;
}

/* Why a receive failed, for a message. */
const char *ctl_recv_error(int r)
{
        if (r == -ETIMEDOUT)
                return "timed out";
        const char *why = lcd_ws_error(ctl.ws);
        return why[0] ? why : strerror(-r);
}

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The progress line of a pull: the phase and reference of the latest
 * image.progress event, a spinner and the time spent, redrawn in place. */
struct progress {
        int64_t started;
        char line[200];
        unsigned ticks;
        bool drawn;
};

static void progress_draw(struct progress *pr)
{
        static const char spin[] = "|/-\\";
        double s = (double)(mono_ms() - pr->started) / 1000.0;
        fprintf(stderr, "\r\033[K%c %s  %.1fs", spin[pr->ticks++ % 4], pr->line[0] ? pr->line : "waiting", s);
        fflush(stderr);
        pr->drawn = true;
}

static void progress_clear(struct progress *pr)
{
        if (pr->drawn)
                fputs("\r\033[K", stderr);
        pr->drawn = false;
}

/* A notification while waiting: an image.progress event updates the line. */
static void progress_note(struct progress *pr, const ctl_msg_t *m)
{
        if (m->type == NULL || strcmp(m->type, "image.progress") != 0)
                return;
        const char *phase = ctl_str(m->params, "phase"), *ref = ctl_str(m->params, "ref");
        snprintf(pr->line, sizeof pr->line, "%s %.150s", phase ? phase : "?", ref ? ref : "");
        progress_draw(pr);
}

/* The next message, decoded into *m (the caller frees it), waiting up to
 * timeout_ms (< 0: for ever). 0, or lcd_ws_recv's error. */
static int recv_message(int timeout_ms, ctl_msg_t *m)
{
        char *text;
        size_t len;
        int r = lcd_ws_recv(ctl.ws, &text, &len, NULL, timeout_ms);
        if (r < 0)
                return r;
        ctl_msg_decode(text, m);
        lcd_free(text);
        return 0;
}

/* Send a request and wait for its reply, skipping notifications. Returns
 * the reply object (caller puts) or NULL after printing why; *status gets
 * the exit status to use. */
json_object *ctl_call(const char *method, json_object *params, int *status)
{
        long id = ctl.next_id++;
        json_object *req = json_object_new_object();
        bool built = lcd_json_set_str(req, "jsonrpc", "2.0") == 0 &&
                     lcd_json_set(req, "id", json_object_new_int64(id)) == 0 &&
                     lcd_json_set_str(req, "method", method) == 0;
        if (params != NULL && built)
                built = lcd_json_set(req, "params", params) == 0; /* params consumed either way */
        else if (params != NULL)
                json_object_put(params);
        size_t len = 0;
        char *text = built ? lcd_json_write(req, 0, 0, &len) : NULL;
        json_object_put(req);
        int r = text ? lcd_ws_send(ctl.ws, text, len, false, ctl.timeout_ms) : -ENOMEM;
        lcd_free(text);
        if (r < 0) {
                fprintf(stderr, "lightctl: send: %s\n", ctl_recv_error(r));
                *status = EXIT_CONNECT;
                return NULL;
        }
        struct progress pr = {.started = mono_ms()};
        int64_t deadline = mono_ms() + ctl.timeout_ms;
        for (;;) {
                ctl_msg_t m;
                int64_t left = deadline - mono_ms();
                /* on a terminal, redraw the progress line every 200 ms while waiting */
                r = recv_message(ctl.progress && left > 200 ? 200 : (int)(left > 0 ? left : 0), &m);
                if (r == -ETIMEDOUT && ctl.progress && mono_ms() < deadline) {
                        progress_draw(&pr);
                        continue;
                }
                if (r < 0) {
                        progress_clear(&pr);
                        fprintf(stderr, "lightctl: no reply to %s: %s\n", method, ctl_recv_error(r));
                        *status = EXIT_CONNECT;
                        return NULL;
                }
                if (!ctl_msg_is_reply_to(&m, id)) {
                        if (ctl.progress)
                                progress_note(&pr, &m);
                        ctl_msg_free(&m);
                        continue;
                }
                progress_clear(&pr);
                if (m.failed) {
                        if (ctl.json)
                                printf("%s\n", json_object_to_json_string_ext(m.error, JSON_C_TO_STRING_PRETTY));
                        fprintf(stderr, "lightctl: %s: %s (%s)\n", method, m.error_message ? m.error_message : "error",
                                m.error_reason ? m.error_reason : "?");
                        ctl_msg_free(&m);
                        *status = EXIT_ERROR;
                        return NULL;
                }
                *status = 0;
                return m.root; /* the caller's now */
        }
}

int ctl_follow(const char *what, int (*each)(const ctl_msg_t *m, void *arg), void *arg)
{
        for (;;) {
                ctl_msg_t m;
                int r = recv_message(-1, &m);
                if (r < 0) {
                        fprintf(stderr, "lightctl: %s stream ended: %s\n", what, ctl_recv_error(r));
                        return EXIT_CONNECT;
                }
                int done = each(&m, arg);
                ctl_msg_free(&m);
                if (done)
                        return 0;
        }
}

json_object *ctl_result(json_object *reply)
{
        return json_object_object_get(reply, "result");
}

/* On a terminal (and without --json), show the daemon's image.progress
 * events while the next call waits: subscribe to them first. */
void ctl_watch_progress(void)
{
        if (ctl.json || !isatty(STDERR_FILENO))
                return;
        json_object *p = json_object_new_object(), *types = json_object_new_array();
        if (lcd_json_append(types, json_object_new_string("image.progress")) < 0 ||
            lcd_json_set(p, "types", types) < 0) {
                json_object_put(p);
                return; /* no progress line: the call still goes ahead */
        }
        int status;
        json_object *reply = ctl_call("events.subscribe", p, &status);
        ctl.progress = reply != NULL;
        json_object_put(reply);
}

int ctl_bad_usage(const char *fmt, const char *arg)
{
        fprintf(stderr, "lightctl: ");
        fprintf(stderr, fmt, arg);
        fputs("\n(lightctl --help lists every command and its arguments)\n", stderr);
        return EXIT_USAGE;
}

int ctl_out_of_memory(json_object *a, json_object *b)
{
        json_object_put(a);
        json_object_put(b);
        fprintf(stderr, "lightctl: out of memory\n");
        return EXIT_ERROR;
}

/* A whole number in [min, max], or say what is wrong: 0, or EXIT_USAGE. */
int ctl_parse_num(const char *what, const char *text, long long min, long long max, long long *out)
{
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
                char msg[160];
                snprintf(msg, sizeof msg, "%s takes a whole number from %lld to %lld, not '%%s'", what, min, max);
                return ctl_bad_usage(msg, text);
        }
        *out = v;
        return 0;
}

void ctl_print_json(json_object *o)
{
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

void ctl_print_json_line(json_object *o)
{
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

int ctl_simple(const char *method, json_object *params, void (*print)(json_object *))
{
        int status;
        json_object *reply = ctl_call(method, params, &status);
        if (reply == NULL)
                return status;
        if (ctl.json || print == NULL)
                ctl_print_json(ctl_result(reply));
        else
                print(ctl_result(reply));
        json_object_put(reply);
        return 0;
}

json_object *ctl_call_key(const char *method, const char *key, int *status)
{
        json_object *p = ctl_key_params(key);
        if (p == NULL) {
                *status = ctl_out_of_memory(NULL, NULL);
                return NULL;
        }
        return ctl_call(method, p, status);
}

json_object *ctl_key_params(const char *arg)
{
        char name[256];
        const char *tag = ctl_split_key(arg, name, sizeof name);
        json_object *p = json_object_new_object();
        if (lcd_json_set_str(p, "name", name) < 0 || lcd_json_set_str(p, "tag", tag) < 0) {
                json_object_put(p);
                return NULL;
        }
        return p;
}

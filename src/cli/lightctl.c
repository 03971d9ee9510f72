/* lightctl.c - the command-line client: one JSON-RPC call per command over
 * the daemon's WebSocket API (events: a subscription that prints until
 * interrupted). Tables by default, --json for machines. Exit status: 0 ok,
 * 1 the daemon answered with an error, 2 usage, 3 cannot reach the daemon.
 */
#include "lcd/alloc.h"
#include "lcd/dirs.h"
#include "wsclient.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_ERROR 1
#define EXIT_USAGE 2
#define EXIT_CONNECT 3

static const char usage_text[] =
        "usage: lightctl [--socket PATH | --host ws[s]://HOST:PORT [--token-file PATH] [--cacert PEM | --insecure]]\n"
        "                [--json] [--timeout SECONDS] COMMAND [ARGS]\n"
        "\n"
        "commands:\n"
        "  ps                                   list containers\n"
        "  inspect NAME[:TAG]                   show one container\n"
        "  pull IMAGE                           fetch an image (a progress line on a terminal)\n"
        "  images                               list cached images\n"
        "  rmi IMAGE...                         remove cached images\n"
        "  create [--name N] [--tag T] [--env K=V]... [--workdir DIR] IMAGE [CMD [ARG...]]\n"
        "  start | pause | resume NAME[:TAG]...\n"
        "  stop [--time SECONDS] NAME[:TAG]...\n"
        "  kill [--signal SIG] NAME[:TAG]...\n"
        "  rm [--force] NAME[:TAG]...\n"
        "  restart [--time SECONDS] NAME[:TAG]...\n"
        "  logs [-f] [--tail N] NAME[:TAG]      the container's output (stdout and stderr); -f follows\n"
        "  wait NAME[:TAG]                      wait until it exits; exits with its exit code\n"
        "  stats NAME[:TAG]                     CPU time, memory and pids from its cgroup\n"
        "  events [--since SEQ] [--initial] [--type TYPE]... [--count N]\n"
        "                                       print container events as they happen\n"
        "  run [create options] IMAGE [CMD...]  create and start; --rm removes it after it exits,\n"
        "      [--rm] [--wait]                  --wait waits for the exit and exits with its code\n"
        "  info                                 show the daemon's system information\n"
        "  check                                what the host lacks for rootless containers, with fixes\n"
        "  ping                                 check that the daemon answers\n"
        "  dashboard [--open]                   print the dashboard's URL with the token (--open: xdg-open it)\n"
        "\n"
        "NAME without :TAG means NAME:latest. The socket defaults to\n"
        "$XDG_RUNTIME_DIR/light-containerd/api.sock (or $LIGHTCTL_SOCKET). Over TCP the\n"
        "token comes from --token-file, $LIGHTCTL_TOKEN or the daemon's token file. wss://\n"
        "checks the daemon's certificate against the system's CAs or --cacert; --insecure\n"
        "skips that check (encryption without knowing who answers).\n";

static struct {
        const char *target;
        const char *token_file;
        const char *cacert; /* wss: the CA to trust */
        bool insecure;      /* wss: do not verify the certificate */
        char token[256];    /* the token sent on TCP ("" on the Unix socket) */
        bool json;
        int timeout_ms;
        lcd_ws_t *ws;
        long next_id;
        bool progress; /* draw image.progress events on stderr while waiting (a TTY) */
} g = {.timeout_ms = 600 * 1000, .next_id = 1};

static int usage(const char *fmt, const char *arg)
{
        if (fmt != NULL) {
                fprintf(stderr, "lightctl: ");
                fprintf(stderr, fmt, arg);
                fputc('\n', stderr);
        }
        fputs(usage_text, stderr);
        return EXIT_USAGE;
}

static bool is_tcp(const char *target)
{
        return strncmp(target, "ws://", 5) == 0 || strncmp(target, "wss://", 6) == 0;
}

/* A token from a file (its first line), never through a symlink. 0, or
 * -1 after saying why. */
static int read_token_file(const char *path, char *token, size_t len)
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
static int load_token(void)
{
        g.token[0] = '\0';
        if (!is_tcp(g.target))
                return 0;
        const char *env = getenv("LIGHTCTL_TOKEN");
        if (g.token_file == NULL && env != NULL) {
                snprintf(g.token, sizeof g.token, "%s", env);
                return 0;
        }
        char path[PATH_MAX + 8];
        if (g.token_file != NULL)
                snprintf(path, sizeof path, "%s", g.token_file);
        else
                default_token_path(path, sizeof path);
        return read_token_file(path, g.token, sizeof g.token);
}

static int connect_daemon(void)
{
        char err[512];
        lcd_ws_target_t t;
        if (lcd_ws_parse_target(g.target, &t, err, sizeof err) < 0) {
                fprintf(stderr, "lightctl: %s\n", err);
                return -1;
        }
        if (load_token() < 0)
                return -1;
        if (g.insecure && strncmp(g.target, "wss://", 6) == 0)
                fprintf(stderr, "lightctl: warning: --insecure: the daemon's certificate is not checked; anyone on "
                                "the path could pose as it and read the token\n");
        lcd_ws_opts_t o = {.target = g.target,
                           .path = "/v1/ws",
                           .token = g.token[0] ? g.token : NULL,
                           .cacert = g.cacert,
                           .insecure = g.insecure,
                           .timeout_ms = 10000};
        g.ws = lcd_ws_connect(&o, err, sizeof err);
        if (g.ws == NULL) {
                fprintf(stderr, "lightctl: %s\n", err);
                return -1;
        }
        return 0;
}

/* Why a receive failed, for a message. */
static const char *recv_error(int r)
{
        if (r == -ETIMEDOUT)
                return "timed out";
        const char *why = lcd_ws_error(g.ws);
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
static void progress_note(struct progress *pr, json_object *msg)
{
        json_object *params = json_object_object_get(msg, "params");
        json_object *type = params ? json_object_object_get(params, "type") : NULL;
        if (type == NULL || strcmp(json_object_get_string(type), "image.progress") != 0)
                return;
        json_object *phase = json_object_object_get(params, "phase"), *ref = json_object_object_get(params, "ref");
        snprintf(pr->line, sizeof pr->line, "%s %.150s", phase ? json_object_get_string(phase) : "?",
                 ref ? json_object_get_string(ref) : "");
        progress_draw(pr);
}

/* Send a request and wait for its reply, skipping notifications. Returns
 * the reply object (caller puts) or NULL after printing why; *status gets
 * the exit status to use. */
static json_object *call(const char *method, json_object *params, int *status)
{
        long id = g.next_id++;
        json_object *req = json_object_new_object();
        json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
        json_object_object_add(req, "id", json_object_new_int64(id));
        json_object_object_add(req, "method", json_object_new_string(method));
        if (params != NULL)
                json_object_object_add(req, "params", params);
        size_t len;
        const char *text = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
        int r = text ? lcd_ws_send(g.ws, text, len, false, g.timeout_ms) : -ENOMEM;
        json_object_put(req);
        if (r < 0) {
                fprintf(stderr, "lightctl: send: %s\n", recv_error(r));
                *status = EXIT_CONNECT;
                return NULL;
        }
        struct progress pr = {.started = mono_ms()};
        int64_t deadline = mono_ms() + g.timeout_ms;
        for (;;) {
                char *msg;
                size_t mlen;
                int64_t left = deadline - mono_ms();
                /* on a terminal, redraw the progress line every 200 ms while waiting */
                r = lcd_ws_recv(g.ws, &msg, &mlen, NULL, g.progress && left > 200 ? 200 : (int)(left > 0 ? left : 0));
                if (r == -ETIMEDOUT && g.progress && mono_ms() < deadline) {
                        progress_draw(&pr);
                        continue;
                }
                if (r < 0) {
                        progress_clear(&pr);
                        fprintf(stderr, "lightctl: no reply to %s: %s\n", method, recv_error(r));
                        *status = EXIT_CONNECT;
                        return NULL;
                }
                json_object *reply = json_tokener_parse(msg);
                lcd_free(msg);
                json_object *rid = NULL;
                if (reply == NULL || !json_object_object_get_ex(reply, "id", &rid) ||
                    json_object_get_int64(rid) != id) {
                        if (g.progress && reply != NULL)
                                progress_note(&pr, reply);
                        json_object_put(reply);
                        continue;
                }
                progress_clear(&pr);
                json_object *e = NULL;
                if (json_object_object_get_ex(reply, "error", &e)) {
                        json_object *m = json_object_object_get(e, "message");
                        json_object *d = json_object_object_get(e, "data");
                        json_object *reason = d ? json_object_object_get(d, "reason") : NULL;
                        if (g.json)
                                printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PRETTY));
                        fprintf(stderr, "lightctl: %s: %s (%s)\n", method, m ? json_object_get_string(m) : "error",
                                reason ? json_object_get_string(reason) : "?");
                        json_object_put(reply);
                        *status = EXIT_ERROR;
                        return NULL;
                }
                *status = 0;
                return reply;
        }
}

static json_object *result_of(json_object *reply)
{
        return json_object_object_get(reply, "result");
}

static const char *str(json_object *o, const char *key)
{
        json_object *v = json_object_object_get(o, key);
        return v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : NULL;
}

/* "name[:tag]" -> params {"name","tag"} */
static json_object *key_params(const char *arg)
{
        char name[256];
        snprintf(name, sizeof name, "%s", arg);
        char *colon = strchr(name, ':');
        const char *tag = "latest";
        if (colon != NULL) {
                *colon = '\0';
                tag = colon + 1;
        }
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name));
        json_object_object_add(p, "tag", json_object_new_string(tag));
        return p;
}

static void print_json(json_object *o)
{
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void print_table(json_object *list)
{
        printf("%-20s %-12s %-9s %-8s %-5s %-14s %s\n", "NAME", "TAG", "STATE", "PID", "EXIT", "ID", "IMAGE");
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *c = json_object_array_get_idx(list, i);
                const char *pid = str(c, "pid"), *exit_code = str(c, "exitCode"), *id = str(c, "id");
                printf("%-20s %-12s %-9s %-8s %-5s %-14.12s %s\n", str(c, "name"), str(c, "tag"), str(c, "state"),
                       pid ? pid : "-", exit_code ? exit_code : "-", id ? id : "-", str(c, "image"));
        }
}

static void print_container_line(json_object *c)
{
        if (g.json) {
                print_json(c);
                return;
        }
        const char *exit_code = str(c, "exitCode");
        printf("%s:%s %s%s%s\n", str(c, "name"), str(c, "tag"), str(c, "state"), exit_code ? " exit " : "",
               exit_code ? exit_code : "");
}

/* On a terminal (and without --json), show the daemon's image.progress
 * events while the next call waits: subscribe to them first. */
static void watch_progress(void)
{
        if (g.json || !isatty(STDERR_FILENO))
                return;
        json_object *p = json_object_new_object(), *types = json_object_new_array();
        json_object_array_add(types, json_object_new_string("image.progress"));
        json_object_object_add(p, "types", types);
        int status;
        json_object *reply = call("events.subscribe", p, &status);
        g.progress = reply != NULL;
        json_object_put(reply);
}

static int cmd_simple(const char *method, json_object *params, void (*print)(json_object *))
{
        int status;
        json_object *reply = call(method, params, &status);
        if (reply == NULL)
                return status;
        if (g.json || print == NULL)
                print_json(result_of(reply));
        else
                print(result_of(reply));
        json_object_put(reply);
        return 0;
}

/* start/stop/kill/pause/resume/rm over several containers: go on after an
 * error, exit non-zero if any failed (like docker). */
static int cmd_each(const char *method, int argc, char **argv, json_object *extra)
{
        if (argc < 1)
                return usage("%s needs at least one NAME[:TAG]", method);
        int worst = 0;
        for (int i = 0; i < argc; i++) {
                json_object *p = key_params(argv[i]);
                json_object_object_foreach (extra, k, v)
                        json_object_object_add(p, k, json_object_get(v));
                int status;
                json_object *reply = call(method, p, &status);
                if (reply == NULL) {
                        if (status > worst)
                                worst = status;
                        continue;
                }
                json_object *res = result_of(reply);
                if (json_object_is_type(res, json_type_object) && json_object_object_get(res, "state"))
                        print_container_line(res);
                else if (g.json)
                        print_json(res);
                else
                        printf("%s removed\n", argv[i]);
                json_object_put(reply);
        }
        return worst;
}

/* Send container.create from create's command line; *out gets the container
 * (caller puts). 0 or an exit status. */
static int create_container(int argc, char **argv, json_object **out)
{
        json_object *p = json_object_new_object(), *env = json_object_new_array();
        static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                             {"tag", required_argument, NULL, 't'},
                                             {"env", required_argument, NULL, 'e'},
                                             {"workdir", required_argument, NULL, 'w'},
                                             {NULL, 0, NULL, 0}};
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "+n:t:e:w:", opts, NULL)) != -1) {
                switch (c) {
                case 'n':
                        json_object_object_add(p, "name", json_object_new_string(optarg));
                        break;
                case 't':
                        json_object_object_add(p, "tag", json_object_new_string(optarg));
                        break;
                case 'e':
                        json_object_array_add(env, json_object_new_string(optarg));
                        break;
                case 'w':
                        json_object_object_add(p, "workdir", json_object_new_string(optarg));
                        break;
                default:
                        json_object_put(p);
                        json_object_put(env);
                        return usage("create: bad option", "");
                }
        }
        if (optind >= argc) {
                json_object_put(p);
                json_object_put(env);
                return usage("create needs an IMAGE%s", "");
        }
        json_object_object_add(p, "image", json_object_new_string(argv[optind++]));
        if (json_object_array_length(env) > 0)
                json_object_object_add(p, "env", env);
        else
                json_object_put(env);
        if (optind < argc) {
                json_object *cmd = json_object_new_array();
                for (; optind < argc; optind++)
                        json_object_array_add(cmd, json_object_new_string(argv[optind]));
                json_object_object_add(p, "cmd", cmd);
        }
        int status;
        watch_progress(); /* the create may pull */
        json_object *reply = call("container.create", p, &status);
        g.progress = false;
        if (reply == NULL)
                return status;
        *out = json_object_get(result_of(reply));
        json_object_put(reply);
        return 0;
}

static int cmd_create(int argc, char **argv)
{
        json_object *ct = NULL;
        int status = create_container(argc, argv, &ct);
        if (status == 0)
                print_container_line(ct);
        json_object_put(ct);
        return status;
}

/* run = create + start [+ wait] [+ remove] */
static int cmd_run(int argc, char **argv)
{
        bool rm = false, wait = false;
        char **args = lcd_calloc((size_t)argc + 1, sizeof *args);
        if (args == NULL)
                return EXIT_ERROR;
        int n = 0;
        args[n++] = argv[0];
        int i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) { /* run's own flags first, then create's */
                if (strcmp(argv[i], "--rm") == 0)
                        rm = true;
                else if (strcmp(argv[i], "--wait") == 0)
                        wait = true;
                else
                        break;
        }
        for (; i < argc; i++)
                args[n++] = argv[i];
        json_object *ct = NULL;
        int status = create_container(n, args, &ct);
        lcd_free(args);
        if (status != 0)
                return status;
        char key[512];
        snprintf(key, sizeof key, "%s:%s", str(ct, "name"), str(ct, "tag"));
        json_object_put(ct);
        json_object *reply = call("container.start", key_params(key), &status);
        if (reply == NULL)
                return status;
        json_object_put(reply);
        int code = 0;
        if (wait || rm) {
                reply = call("container.wait", key_params(key), &status);
                if (reply == NULL)
                        return status;
                json_object *ec = json_object_object_get(result_of(reply), "exitCode");
                code = ec ? json_object_get_int(ec) : 0;
                json_object_put(reply);
        }
        if (rm) {
                reply = call("container.remove", key_params(key), &status);
                if (reply == NULL)
                        return status;
                json_object_put(reply);
        }
        if (!wait && !rm)
                printf("%s running\n", key);
        return wait ? code : 0;
}

static int cmd_events(int argc, char **argv)
{
        long count = -1;
        json_object *sub = json_object_new_object();
        json_object *types = json_object_new_array();
        static const struct option opts[] = {{"count", required_argument, NULL, 'c'},
                                             {"since", required_argument, NULL, 's'},
                                             {"initial", no_argument, NULL, 'i'},
                                             {"type", required_argument, NULL, 't'},
                                             {NULL, 0, NULL, 0}};
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "+c:s:it:", opts, NULL)) != -1) {
                if (c == 'c')
                        count = strtol(optarg, NULL, 10);
                else if (c == 's')
                        json_object_object_add(sub, "since", json_object_new_int64(strtoll(optarg, NULL, 10)));
                else if (c == 'i')
                        json_object_object_add(sub, "initial", json_object_new_boolean(1));
                else if (c == 't')
                        json_object_array_add(types, json_object_new_string(optarg));
                else {
                        json_object_put(types);
                        json_object_put(sub);
                        return usage("events: bad option%s", "");
                }
        }
        if (json_object_array_length(types) > 0)
                json_object_object_add(sub, "types", types);
        else
                json_object_put(types);
        int status;
        json_object *reply = call("events.subscribe", sub, &status);
        if (reply == NULL)
                return status;
        /* on stderr, so stdout stays pure events (and a script can wait for it) */
        json_object *seq = json_object_object_get(result_of(reply), "seq");
        fprintf(stderr, "lightctl: watching events after seq %s\n", seq ? json_object_get_string(seq) : "?");
        json_object_put(reply);
        fflush(stdout);
        for (long n = 0; count < 0 || n < count;) {
                char *msg;
                size_t len;
                int r = lcd_ws_recv(g.ws, &msg, &len, NULL, -1);
                if (r < 0) {
                        fprintf(stderr, "lightctl: event stream ended: %s\n", recv_error(r));
                        return EXIT_CONNECT;
                }
                json_object *o = json_tokener_parse(msg);
                lcd_free(msg);
                json_object *params = o ? json_object_object_get(o, "params") : NULL;
                const char *type = params ? str(params, "type") : NULL;
                if (type != NULL && strcmp(type, "heartbeat") == 0) { /* keep-alive, not a change */
                        json_object_put(o);
                        continue;
                }
                if (params != NULL) {
                        if (g.json) {
                                printf("%s\n", json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN));
                        } else {
                                const char *st = str(params, "state"), *prev = str(params, "previous"),
                                           *code = str(params, "exitCode"), *error = str(params, "error");
                                printf("%s %-6s %-18s %s:%s %s%s%s%s%s%s\n", str(params, "time"), str(params, "seq"),
                                       str(params, "type"), str(params, "name") ? str(params, "name") : "-",
                                       str(params, "tag") ? str(params, "tag") : "-", prev ? prev : "",
                                       prev ? " -> " : "", st ? st : "", code ? " exit " : "", code ? code : "",
                                       error ? error : "");
                        }
                        fflush(stdout);
                        n++;
                }
                json_object_put(o);
        }
        return 0;
}

static int cmd_logs(int argc, char **argv)
{
        long tail = -1;
        bool follow = false;
        static const struct option opts[] = {
                {"tail", required_argument, NULL, 'n'}, {"follow", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "+n:f", opts, NULL)) != -1) {
                if (c == 'n')
                        tail = strtol(optarg, NULL, 10);
                else if (c == 'f')
                        follow = true;
                else
                        return usage("logs: bad option%s", "");
        }
        if (optind + 1 != argc)
                return usage("logs takes one NAME[:TAG]%s", "");
        json_object *p = key_params(argv[optind]);
        if (tail >= 0)
                json_object_object_add(p, "tail", json_object_new_int64(tail));
        if (follow)
                json_object_object_add(p, "follow", json_object_new_boolean(1));
        int status;
        json_object *reply = call("container.logs", p, &status);
        if (reply == NULL)
                return status;
        json_object *lines = json_object_object_get(result_of(reply), "lines");
        if (g.json) {
                print_json(lines);
        } else {
                for (size_t i = 0; i < json_object_array_length(lines); i++) {
                        json_object *l = json_object_array_get_idx(lines, i);
                        FILE *f = strcmp(str(l, "stream"), "stderr") == 0 ? stderr : stdout;
                        fprintf(f, "%s\n", str(l, "text"));
                }
        }
        json_object_put(reply);
        while (follow) { /* log notifications until log.end */
                char *msg;
                size_t len;
                int r = lcd_ws_recv(g.ws, &msg, &len, NULL, -1);
                if (r < 0) {
                        fprintf(stderr, "lightctl: log stream ended: %s\n", recv_error(r));
                        return EXIT_CONNECT;
                }
                json_object *o = json_tokener_parse(msg);
                lcd_free(msg);
                const char *method = o ? str(o, "method") : NULL;
                json_object *params = o ? json_object_object_get(o, "params") : NULL;
                if (method != NULL && strcmp(method, "log") == 0) {
                        if (g.json)
                                printf("%s\n", json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN));
                        else
                                fprintf(strcmp(str(params, "stream"), "stderr") == 0 ? stderr : stdout, "%s\n",
                                        str(params, "text"));
                        fflush(stdout);
                } else if (method != NULL && strcmp(method, "log.end") == 0) {
                        follow = false;
                }
                json_object_put(o);
        }
        return 0;
}

static void print_images(json_object *list)
{
        printf("%-60s %-20s %10s  %s\n", "REF", "DIGEST", "SIZE", "CREATED");
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *im = json_object_array_get_idx(list, i);
                const char *created = str(im, "createdAt");
                printf("%-60s %-20.19s %9.1fM  %s\n", str(im, "ref"), str(im, "digest"),
                       (double)json_object_get_int64(json_object_object_get(im, "size")) / (1024.0 * 1024.0),
                       created ? created : "-");
        }
}

static void print_checks(json_object *list)
{
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *c = json_object_array_get_idx(list, i);
                bool ok = json_object_get_boolean(json_object_object_get(c, "ok"));
                bool req = json_object_get_boolean(json_object_object_get(c, "required"));
                printf("%s %-18s %s\n", ok ? "ok  " : req ? "FAIL" : "warn", str(c, "check"), str(c, "detail"));
                if (!ok)
                        printf("     %-18s fix: %s\n", "", str(c, "fix"));
        }
}

/* The dashboard's URL with the token in its fragment (which browsers never
 * send to a server); --open hands it to xdg-open. The daemon never logs
 * it: the token is the whole API. */
static int cmd_dashboard(int argc, char **argv)
{
        bool open_it = argc == 2 && strcmp(argv[1], "--open") == 0;
        if (argc > 2 || (argc == 2 && !open_it))
                return usage("dashboard takes only --open%s", "");
        int status;
        json_object *reply = call("system.info", NULL, &status);
        if (reply == NULL)
                return status;
        const char *base = str(result_of(reply), "dashboard"), *file = str(result_of(reply), "tokenFile");
        char token[256] = "", url[1024];
        if (base == NULL) {
                fprintf(stderr, "lightctl: the daemon has no TCP listener (it was started with --listen none): the "
                                "dashboard is served there\n");
                status = EXIT_ERROR;
        } else if (g.token[0] == '\0' && (file == NULL || read_token_file(file, token, sizeof token) < 0)) {
                status = EXIT_ERROR;
        } else {
                snprintf(url, sizeof url, "%s#token=%s", base, g.token[0] ? g.token : token);
                printf("%s\n", url);
                fflush(stdout);
        }
        json_object_put(reply);
        if (status != 0 || !open_it)
                return status;
        const char *const args[] = {"xdg-open", url, NULL};
        extern char **environ;
        pid_t pid;
        int r = posix_spawnp(&pid, args[0], NULL, NULL, (char *const *)args, environ);
        int ws = 0;
        if (r != 0) {
                fprintf(stderr, "lightctl: cannot run xdg-open: %s (open the URL above yourself)\n", strerror(r));
                return EXIT_ERROR;
        }
        if (waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
                fprintf(stderr, "lightctl: xdg-open failed (open the URL above yourself)\n");
                return EXIT_ERROR;
        }
        return 0;
}

static int cmd_wait(int argc, char **argv)
{
        if (argc != 2)
                return usage("wait takes one NAME[:TAG]%s", "");
        int status;
        json_object *reply = call("container.wait", key_params(argv[1]), &status);
        if (reply == NULL)
                return status;
        json_object *code = json_object_object_get(result_of(reply), "exitCode");
        int rc = code ? json_object_get_int(code) : 0;
        if (g.json)
                print_json(result_of(reply));
        else
                printf("%s\n", code ? json_object_get_string(code) : "null");
        json_object_put(reply);
        return rc; /* the container's exit code */
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"socket", required_argument, NULL, 's'},     {"url", required_argument, NULL, 'u'},
                {"host", required_argument, NULL, 'u'},       {"json", no_argument, NULL, 'j'},
                {"timeout", required_argument, NULL, 't'},    {"help", no_argument, NULL, 'h'},
                {"token-file", required_argument, NULL, 'T'}, {"cacert", required_argument, NULL, 'C'},
                {"insecure", no_argument, NULL, 'k'},         {NULL, 0, NULL, 0}};
        char sock[PATH_MAX];
        const char *env_sock = getenv("LIGHTCTL_SOCKET");
        char rt[PATH_MAX];
        bool fallback;
        if (env_sock != NULL)
                snprintf(sock, sizeof sock, "%s", env_sock);
        else if (lcd_dirs_runtime_default(rt, sizeof rt, &fallback) == 0)
                snprintf(sock, sizeof sock, "%s/api.sock", rt);
        else
                sock[0] = '\0';
        g.target = sock;
        int c;
        while ((c = getopt_long(argc, argv, "+hj", opts, NULL)) != -1) {
                switch (c) {
                case 's':
                        g.target = optarg;
                        break;
                case 'u':
                        g.target = optarg;
                        break;
                case 'T':
                        g.token_file = optarg;
                        break;
                case 'C':
                        g.cacert = optarg;
                        break;
                case 'k':
                        g.insecure = true;
                        break;
                case 'j':
                        g.json = true;
                        break;
                case 't': {
                        char *end;
                        long t = strtol(optarg, &end, 10);
                        if (*end || t <= 0 || t > 86400)
                                return usage("--timeout takes seconds (1..86400), not '%s'", optarg);
                        g.timeout_ms = (int)t * 1000;
                        break;
                }
                case 'h':
                        fputs(usage_text, stdout);
                        return 0;
                default:
                        return usage("unknown option%s", "");
                }
        }
        if (optind >= argc)
                return usage("missing COMMAND%s", "");
        const char *cmd = argv[optind];
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        static const char *const known[] = {"ps",     "inspect", "pull",   "create",    "start",  "stop",
                                            "kill",   "pause",   "resume", "rm",        "events", "info",
                                            "ping",   "restart", "logs",   "wait",      "stats",  "check",
                                            "images", "rmi",     "run",    "dashboard", NULL};
        bool ok = false;
        for (int i = 0; known[i] && !ok; i++)
                ok = strcmp(cmd, known[i]) == 0;
        if (!ok)
                return usage("unknown command '%s'", cmd);
        if (connect_daemon() < 0)
                return EXIT_CONNECT;
        int status = 0;
        json_object *extra = json_object_new_object();
        if (strcmp(cmd, "ps") == 0)
                status = cmd_simple("container.list", NULL, print_table);
        else if (strcmp(cmd, "images") == 0)
                status = cmd_simple("image.list", NULL, print_images);
        else if (strcmp(cmd, "rmi") == 0) {
                if (sub_argc < 2)
                        status = usage("rmi takes IMAGE...%s", "");
                for (int i = 1; i < sub_argc; i++) {
                        json_object *p = json_object_new_object();
                        json_object_object_add(p, "ref", json_object_new_string(sub_argv[i]));
                        int st = cmd_simple("image.remove", p, NULL);
                        if (st > status)
                                status = st;
                }
        } else if (strcmp(cmd, "check") == 0)
                status = cmd_simple("system.check", NULL, print_checks);
        else if (strcmp(cmd, "info") == 0)
                status = cmd_simple("system.info", NULL, NULL);
        else if (strcmp(cmd, "ping") == 0)
                status = cmd_simple("system.ping", NULL, NULL);
        else if (strcmp(cmd, "inspect") == 0)
                status = sub_argc == 2 ? cmd_simple("container.inspect", key_params(sub_argv[1]), NULL)
                                       : usage("inspect takes one NAME[:TAG]%s", "");
        else if (strcmp(cmd, "pull") == 0) {
                if (sub_argc != 2)
                        status = usage("pull takes one IMAGE%s", "");
                else {
                        json_object *p = json_object_new_object();
                        json_object_object_add(p, "ref", json_object_new_string(sub_argv[1]));
                        watch_progress();
                        status = cmd_simple("image.pull", p, NULL);
                        g.progress = false;
                }
        } else if (strcmp(cmd, "create") == 0)
                status = cmd_create(sub_argc, sub_argv);
        else if (strcmp(cmd, "events") == 0)
                status = cmd_events(sub_argc, sub_argv);
        else if (strcmp(cmd, "run") == 0)
                status = cmd_run(sub_argc, sub_argv);
        else if (strcmp(cmd, "logs") == 0)
                status = cmd_logs(sub_argc, sub_argv);
        else if (strcmp(cmd, "wait") == 0)
                status = cmd_wait(sub_argc, sub_argv);
        else if (strcmp(cmd, "dashboard") == 0)
                status = cmd_dashboard(sub_argc, sub_argv);
        else if (strcmp(cmd, "stats") == 0)
                status = sub_argc == 2 ? cmd_simple("container.stats", key_params(sub_argv[1]), NULL)
                                       : usage("stats takes one NAME[:TAG]%s", "");
        else {
                /* per-container commands with their options */
                static const struct option sopts[] = {{"time", required_argument, NULL, 't'},
                                                      {"signal", required_argument, NULL, 's'},
                                                      {"force", no_argument, NULL, 'f'},
                                                      {NULL, 0, NULL, 0}};
                optind = 1;
                int o;
                while ((o = getopt_long(sub_argc, sub_argv, "+t:s:f", sopts, NULL)) != -1) {
                        if (o == 't' && (strcmp(cmd, "stop") == 0 || strcmp(cmd, "restart") == 0))
                                json_object_object_add(extra, "timeout", json_object_new_int(atoi(optarg)));
                        else if (o == 's' && strcmp(cmd, "kill") == 0)
                                json_object_object_add(extra, "signal", json_object_new_string(optarg));
                        else if (o == 'f' && strcmp(cmd, "rm") == 0)
                                json_object_object_add(extra, "force", json_object_new_boolean(1));
                        else {
                                json_object_put(extra);
                                lcd_ws_close(g.ws);
                                return usage("%s: unknown option", cmd);
                        }
                }
                char method[64];
                snprintf(method, sizeof method, "container.%s", strcmp(cmd, "rm") == 0 ? "remove" : cmd);
                status = cmd_each(method, sub_argc - optind, sub_argv + optind, extra);
        }
        json_object_put(extra);
        lcd_ws_close(g.ws);
        return status;
}

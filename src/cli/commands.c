/* commands.c - lightctl's command table (ctl_commands) and global options
 * (ctl_global_options): the usage text, the dispatch in lightctl.c and the
 * completion script (completion.c) come from them; the image, event and
 * system commands and completion, and what every command shares. Each is
 * a handler of (argc, argv) with argv[0] its name; the container commands
 * are in containers.c.
 *
 * DESIGN: a handler turns its arguments into one or a few calls (client.c)
 * and prints the result: a table or a line by default, the JSON with
 * --json. Its return is the exit status. Parameters are built with the
 * checked JSON builders; numbers are parsed whole and bounded.
 */
#include "commands.h"

#include "client.h"
#include "completion.h"
#include "containers.h"
#include "attachcmd.h"
#include "execcmd.h"

#include "lcd/compiler.h"
#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* How many events cmd_events has printed, and is to print (-1: no end). */
struct event_count {
        long printed, wanted;
};

/* One message of the event stream: print an event (not a heartbeat); 1
 * once the count is reached. */
static int print_event(const ctl_msg_t *m, void *arg)
{
        struct event_count *n = arg;
        json_object *params = m->params;
        if (params == NULL || (m->type != NULL && strcmp(m->type, "heartbeat") == 0)) /* keep-alive, not a change */
                return 0;
        if (ctl.json) {
                ctl_print_json_line(params);
        } else {
                const char *st = ctl_str(params, "state"), *prev = ctl_str(params, "previous"),
                           *code = ctl_str(params, "exitCode"), *error = ctl_str(params, "error");
                printf("%s %-6s %-18s %s:%s %s%s%s%s%s%s\n", ctl_str(params, "time"), ctl_str(params, "seq"),
                       ctl_str(params, "type"), ctl_str(params, "name") ? ctl_str(params, "name") : "-",
                       ctl_str(params, "tag") ? ctl_str(params, "tag") : "-", prev ? prev : "", prev ? " -> " : "",
                       st ? st : "", code ? " exit " : "", code ? code : "", error ? error : "");
        }
        fflush(stdout);
        return ++n->printed == n->wanted;
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
                long long v = 0;
                int bad = 0; /* an exit status, or -1: out of memory */
                if (c == 'c' && (bad = ctl_parse_num("--count", optarg, 0, LONG_MAX, &v)) == 0)
                        count = (long)v;
                else if (c == 's' && (bad = ctl_parse_num("--since", optarg, 0, LLONG_MAX, &v)) == 0)
                        bad = lcd_json_set(sub, "since", json_object_new_int64(v));
                else if (c == 'i')
                        bad = lcd_json_set(sub, "initial", json_object_new_boolean(1));
                else if (c == 't')
                        bad = lcd_json_append(types, json_object_new_string(optarg));
                else if (c != 'c' && c != 's')
                        bad = ctl_bad_usage("events: bad option%s", "");
                if (bad != 0) {
                        json_object_put(types);
                        json_object_put(sub);
                        return bad < 0 ? ctl_out_of_memory(NULL, NULL) : bad;
                }
        }
        if (json_object_array_length(types) == 0)
                json_object_put(types);
        else if (lcd_json_set(sub, "types", types) < 0)
                return ctl_out_of_memory(sub, NULL);
        int status;
        json_object *reply = ctl_call("events.subscribe", sub, &status);
        if (reply == NULL)
                return status;
        /* on stderr, so stdout stays pure events (and a script can wait for it) */
        json_object *seq = json_object_object_get(ctl_result(reply), "seq");
        fprintf(stderr, "lightctl: watching events after seq %s\n", seq ? json_object_get_string(seq) : "?");
        json_object_put(reply);
        fflush(stdout);
        if (count == 0)
                return 0;
        struct event_count n = {0, count};
        return ctl_follow("event", print_event, &n);
}

static void print_images(json_object *list)
{
        printf("%-60s %-20s %10s  %s\n", "REF", "DIGEST", "SIZE", "CREATED");
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *im = json_object_array_get_idx(list, i);
                const char *created = ctl_str(im, "createdAt");
                printf("%-60s %-20.19s %9.1fM  %s\n", ctl_str(im, "ref"), ctl_str(im, "digest"),
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
                printf("%s %-18s %s\n", ok ? "ok  " : req ? "FAIL" : "warn", ctl_str(c, "check"), ctl_str(c, "detail"));
                if (!ok)
                        printf("     %-18s fix: %s\n", "", ctl_str(c, "fix"));
        }
}

/* The dashboard's URL with the token in its fragment (which browsers never
 * send to a server); --open hands it to xdg-open. The daemon never logs
 * it: the token is the whole API. */
static int cmd_dashboard(int argc, char **argv)
{
        bool open_it = argc == 2 && strcmp(argv[1], "--open") == 0;
        if (argc > 2 || (argc == 2 && !open_it))
                return ctl_bad_usage("dashboard takes only --open%s", "");
        int status;
        json_object *reply = ctl_call("system.info", NULL, &status);
        if (reply == NULL)
                return status;
        const char *base = ctl_str(ctl_result(reply), "dashboard"), *file = ctl_str(ctl_result(reply), "tokenFile");
        char token[256] = "", url[1024];
        if (base == NULL) {
                fprintf(stderr, "lightctl: the daemon has no TCP listener (it was started with --listen none): the "
                                "dashboard is served there\n");
                status = EXIT_ERROR;
        } else if (ctl.token[0] == '\0' && (file == NULL || ctl_read_token_file(file, token, sizeof token) < 0)) {
                status = EXIT_ERROR;
        } else {
                snprintf(url, sizeof url, "%s#token=%s", base, ctl.token[0] ? ctl.token : token);
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

static int cmd_images(int argc LCD_UNUSED, char **argv LCD_UNUSED)
{
        return ctl_simple("image.list", NULL, print_images);
}

static int cmd_rmi(int argc, char **argv)
{
        if (argc < 2)
                return ctl_bad_usage("rmi takes IMAGE...%s", "");
        int worst = 0;
        for (int i = 1; i < argc; i++) {
                json_object *p = json_object_new_object();
                int st = lcd_json_set_str(p, "ref", argv[i]) < 0 ? ctl_out_of_memory(p, NULL)
                                                                 : ctl_simple("image.remove", p, NULL);
                if (st > worst)
                        worst = st;
        }
        return worst;
}

static int cmd_pull(int argc, char **argv)
{
        if (argc != 2)
                return ctl_bad_usage("pull takes one IMAGE%s", "");
        json_object *p = json_object_new_object();
        if (lcd_json_set_str(p, "ref", argv[1]) < 0)
                return ctl_out_of_memory(p, NULL);
        ctl_watch_progress();
        int status = ctl_simple("image.pull", p, NULL);
        ctl.progress = false;
        return status;
}

static int cmd_check(int argc LCD_UNUSED, char **argv LCD_UNUSED)
{
        return ctl_simple("system.check", NULL, print_checks);
}

static int cmd_info(int argc LCD_UNUSED, char **argv LCD_UNUSED)
{
        return ctl_simple("system.info", NULL, NULL);
}

static int cmd_ping(int argc LCD_UNUSED, char **argv LCD_UNUSED)
{
        return ctl_simple("system.ping", NULL, NULL);
}

/* The completion script for a shell, made from the tables below. */
static int cmd_completion(int argc, char **argv)
{
        if (argc != 2 || (strcmp(argv[1], "bash") != 0 && strcmp(argv[1], "zsh") != 0))
                return ctl_bad_usage("completion takes bash or zsh%s", "");
        int r = ctl_completion_write(stdout, argv[1], ctl_commands, ctl_global_options);
        if (r < 0) {
                fprintf(stderr, "lightctl: cannot write the completion script: %s\n", strerror(-r));
                return EXIT_ERROR;
        }
        return 0;
}

const struct option ctl_global_options[] = {
        {"socket", required_argument, NULL, 's'},     {"url", required_argument, NULL, 'u'},
        {"host", required_argument, NULL, 'u'},       {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},    {"help", no_argument, NULL, 'h'},
        {"token-file", required_argument, NULL, 'T'}, {"cacert", required_argument, NULL, 'C'},
        {"insecure", no_argument, NULL, 'k'},         {NULL, 0, NULL, 0}};

/* create's options, which run takes too */
#define CREATE_OPTIONS                                                                                                 \
        "[-i] [-t] [--name N] [--tag T] [--env K=V]... [--workdir DIR] [--network private|none|host|container:N:T] "   \
        "[-p [IP:]HOST:CONTAINER[/PROTO]]... [--hostname H] [--allow-host-loopback]"

const ctl_command_t ctl_commands[] = {
        {"ps", "", "list containers", ctl_cmd_ps, false},
        {"inspect", "NAME[:TAG]", "show one container", ctl_cmd_inspect, false},
        {"port", "NAME[:TAG]", "its published ports: CONTAINER/PROTO -> HOSTIP:HOSTPORT", ctl_cmd_port, false},
        {"pull", "IMAGE", "fetch an image (a progress line on a terminal)", cmd_pull, false},
        {"images", "", "list cached images", cmd_images, false},
        {"rmi", "IMAGE...", "remove cached images", cmd_rmi, false},
        {"create", CREATE_OPTIONS " IMAGE [CMD [ARG...]]", "make a container (pulling its image if needed)",
         ctl_cmd_create, false},
        {"start", "NAME[:TAG]...", "start containers", ctl_cmd_lifecycle, false},
        {"pause", "NAME[:TAG]...", "freeze their processes", ctl_cmd_lifecycle, false},
        {"resume", "NAME[:TAG]...", "thaw them", ctl_cmd_lifecycle, false},
        {"stop", "[--time SECONDS] NAME[:TAG]...", "SIGTERM, then SIGKILL after SECONDS (default 10)",
         ctl_cmd_lifecycle, false},
        {"kill", "[--signal SIG] NAME[:TAG]...", "send a signal (default KILL)", ctl_cmd_lifecycle, false},
        {"rm", "[--force] NAME[:TAG]...", "remove containers (--force: running ones too)", ctl_cmd_lifecycle, false},
        {"restart", "[--time SECONDS] NAME[:TAG]...", "stop, then start again", ctl_cmd_lifecycle, false},
        {"logs", "[-f] [--tail N] NAME[:TAG]", "the container's output (stdout and stderr); -f follows", ctl_cmd_logs,
         false},
        {"wait", "NAME[:TAG]", "wait until it exits; exits with its exit code", ctl_cmd_wait, false},
        {"exec", "[-i] [-t] [-e K=V]... [-w DIR] [-u UID[:GID]] NAME[:TAG] CMD [ARG...]",
         "run a process in a running container (-i: stdin, -t: a terminal); exits with its code", ctl_cmd_exec, true},
        {"stats", "NAME[:TAG]", "CPU time, memory and pids from its cgroup", ctl_cmd_stats, false},
        {"events", "[--since SEQ] [--initial] [--type TYPE]... [--count N]", "print container events as they happen",
         cmd_events, false},
        {"run", "[--rm] [--wait] " CREATE_OPTIONS " IMAGE [CMD...]",
         "create and start it; -i/-t: attached (stdin, a terminal; ctrl-p ctrl-q detaches); --rm: remove it once it "
         "exits; --wait: exit with its code",
         ctl_cmd_run, false},
        {"attach", "[--no-stdin] NAME[:TAG]",
         "its output live, and its stdin when it has one; ctrl-p ctrl-q detaches; exits with its code", ctl_cmd_attach,
         false},
        {"info", "", "show the daemon's system information", cmd_info, false},
        {"check", "", "what the host lacks for rootless containers, with fixes", cmd_check, false},
        {"ping", "", "check that the daemon answers", cmd_ping, false},
        {"dashboard", "[--open]", "print the dashboard's URL with the token (--open: xdg-open it)", cmd_dashboard,
         false},
        {"completion", "bash|zsh", "a shell completion script (source <(lightctl completion bash))", cmd_completion,
         true},
        {NULL, NULL, NULL, NULL, false},
};

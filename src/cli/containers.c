/* containers.c - lightctl's container commands: ps, inspect, create, run,
 * start ... rm over several containers, logs (and -f), wait, stats.
 *
 * DESIGN: as commands.c; run is create + start (+ wait, + remove) in one
 * connection, and a command over several containers goes on after an
 * error and exits with the worst status (like docker).
 */
#include "containers.h"

#include "attachcmd.h"

#include "lcd/compiler.h"
#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "portspec.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "name[:tag]" -> params {"name","tag"}; NULL when out of memory */
/* "0.0.0.0:8080->80/tcp, ..." as docker ps shows them; "host"/"none" for those networks. */
static void ports_text(json_object *c, char *buf, size_t len)
{
        json_object *ports = json_object_object_get(c, "ports");
        const char *net = ctl_str(c, "network");
        size_t used = 0;
        buf[0] = '\0';
        if (net != NULL && strcmp(net, "private") != 0) {
                snprintf(buf, len, "(%s)", net);
                return;
        }
        for (size_t i = 0; i < json_object_array_length(ports) && used < len; i++) {
                json_object *o = json_object_array_get_idx(ports, i);
                const char *ip = ctl_str(o, "hostIp");
                int n = snprintf(buf + used, len - used, "%s%s%s%s:%s->%s/%s", i ? ", " : "",
                                 ip && strchr(ip, ':') ? "[" : "", ip ? ip : "", ip && strchr(ip, ':') ? "]" : "",
                                 ctl_str(o, "hostPort"), ctl_str(o, "containerPort"), ctl_str(o, "protocol"));
                used += n > 0 ? (size_t)n : 0;
        }
}

static void print_table(json_object *list)
{
        printf("%-20s %-12s %-9s %-8s %-5s %-14s %-30s %s\n", "NAME", "TAG", "STATE", "PID", "EXIT", "ID", "IMAGE",
               "PORTS");
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *c = json_object_array_get_idx(list, i);
                const char *pid = ctl_str(c, "pid"), *exit_code = ctl_str(c, "exitCode"), *id = ctl_str(c, "id");
                char ports[512];
                ports_text(c, ports, sizeof ports);
                printf("%-20s %-12s %-9s %-8s %-5s %-14.12s %-30s %s\n", ctl_str(c, "name"), ctl_str(c, "tag"),
                       ctl_str(c, "state"), pid ? pid : "-", exit_code ? exit_code : "-", id ? id : "-",
                       ctl_str(c, "image"), ports);
        }
}

/* port NAME[:TAG]: "80/tcp -> 0.0.0.0:8080", a line per mapping (docker port). */
static void print_ports(json_object *c)
{
        json_object *ports = json_object_object_get(c, "ports");
        if (ctl.json) {
                ctl_print_json(ports);
                return;
        }
        for (size_t i = 0; i < json_object_array_length(ports); i++) {
                json_object *o = json_object_array_get_idx(ports, i);
                const char *ip = ctl_str(o, "hostIp");
                bool v6 = ip != NULL && strchr(ip, ':') != NULL;
                printf("%s/%s -> %s%s%s:%s\n", ctl_str(o, "containerPort"), ctl_str(o, "protocol"), v6 ? "[" : "",
                       ip ? ip : "", v6 ? "]" : "", ctl_str(o, "hostPort"));
        }
}

int ctl_cmd_port(int argc, char **argv)
{
        if (argc != 2)
                return ctl_bad_usage("port needs NAME[:TAG]%s", "");
        json_object *p = ctl_key_params(argv[1]);
        return p ? ctl_simple("container.inspect", p, print_ports) : ctl_out_of_memory(NULL, NULL);
}

static void print_container_line(json_object *c)
{
        if (ctl.json) {
                ctl_print_json(c);
                return;
        }
        const char *exit_code = ctl_str(c, "exitCode");
        printf("%s:%s %s%s%s\n", ctl_str(c, "name"), ctl_str(c, "tag"), ctl_str(c, "state"), exit_code ? " exit " : "",
               exit_code ? exit_code : "");
}

/* start/stop/kill/pause/resume/rm over several containers: go on after an
 * error, exit non-zero if any failed (like docker). */
static int cmd_each(const char *method, int argc, char **argv, json_object *extra)
{
        if (argc < 1)
                return ctl_bad_usage("%s needs at least one NAME[:TAG]", method);
        int worst = 0;
        for (int i = 0; i < argc; i++) {
                json_object *p = ctl_key_params(argv[i]);
                json_object_object_foreach (extra, k, v)
                        if (p != NULL && json_object_object_add(p, k, json_object_get(v)) != 0) {
                                json_object_put(v);
                                json_object_put(p);
                                p = NULL;
                        }
                if (p == NULL)
                        return ctl_out_of_memory(NULL, NULL);
                int status;
                json_object *reply = ctl_call(method, p, &status);
                if (reply == NULL) {
                        if (status > worst)
                                worst = status;
                        continue;
                }
                json_object *res = ctl_result(reply);
                if (json_object_is_type(res, json_type_object) && json_object_object_get(res, "state"))
                        print_container_line(res);
                else if (ctl.json)
                        ctl_print_json(res);
                else
                        printf("%s removed\n", argv[i]);
                json_object_put(reply);
        }
        return worst;
}

/* One -p into p's "ports": 0, -EINVAL with why, or -ENOMEM. */
static int add_port(json_object *p, const char *spec, char *why, size_t len)
{
        ctl_port_t port;
        if (ctl_portspec_parse(spec, &port, why, len) < 0)
                return -EINVAL;
        json_object *ports = json_object_object_get(p, "ports");
        if (ports == NULL && lcd_json_set(p, "ports", ports = json_object_new_array()) < 0)
                return -ENOMEM;
        json_object *o = json_object_new_object();
        int rc = lcd_json_set(o, "hostPort", json_object_new_int((int)port.host_port));
        rc |= lcd_json_set(o, "containerPort", json_object_new_int((int)port.container_port));
        rc |= lcd_json_set_str(o, "protocol", port.udp ? "udp" : "tcp");
        if (port.host_ip[0] != '\0')
                rc |= lcd_json_set_str(o, "hostIp", port.host_ip);
        if (rc < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        return lcd_json_append(ports, o) < 0 ? -ENOMEM : 0;
}

/* Send container.create from create's command line; *out gets the container
 * (caller puts). 0 or an exit status. */
static int create_container(int argc, char **argv, json_object **out)
{
        json_object *p = json_object_new_object(), *env = json_object_new_array();
        static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                             {"tag", required_argument, NULL, 'g'},
                                             {"interactive", no_argument, NULL, 'i'},
                                             {"tty", no_argument, NULL, 't'},
                                             {"env", required_argument, NULL, 'e'},
                                             {"workdir", required_argument, NULL, 'w'},
                                             {"network", required_argument, NULL, 'N'},
                                             {"publish", required_argument, NULL, 'p'},
                                             {"hostname", required_argument, NULL, 'H'},
                                             {"allow-host-loopback", no_argument, NULL, 'L'},
                                             {NULL, 0, NULL, 0}};
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "+itn:e:w:p:", opts, NULL)) != -1) {
                switch (c) {
                case 'i':
                case 't':
                        if (lcd_json_set(p, c == 'i' ? "stdin" : "tty", json_object_new_boolean(1)) < 0)
                                return ctl_out_of_memory(p, env);
                        break;
                case 'n':
                case 'g':
                case 'w':
                case 'N':
                case 'H': {
                        const char *key = c == 'n'   ? "name"
                                          : c == 'g' ? "tag"
                                          : c == 'w' ? "workdir"
                                          : c == 'N' ? "network"
                                                     : "hostname";
                        if (lcd_json_set_str(p, key, optarg) < 0)
                                return ctl_out_of_memory(p, env);
                        break;
                }
                case 'L':
                        if (lcd_json_set(p, "allowHostLoopback", json_object_new_boolean(1)) < 0)
                                return ctl_out_of_memory(p, env);
                        break;
                case 'p': {
                        char why[256];
                        int r = add_port(p, optarg, why, sizeof why);
                        if (r == -ENOMEM)
                                return ctl_out_of_memory(p, env);
                        if (r < 0) {
                                json_object_put(p);
                                json_object_put(env);
                                return ctl_bad_usage("%s", why);
                        }
                        break;
                }
                case 'e':
                        if (lcd_json_append(env, json_object_new_string(optarg)) < 0)
                                return ctl_out_of_memory(p, env);
                        break;
                default:
                        json_object_put(p);
                        json_object_put(env);
                        return ctl_bad_usage("create: bad option", "");
                }
        }
        if (optind >= argc) {
                json_object_put(p);
                json_object_put(env);
                return ctl_bad_usage("create needs an IMAGE%s", "");
        }
        if (lcd_json_set_str(p, "image", argv[optind++]) < 0)
                return ctl_out_of_memory(p, env);
        if (json_object_array_length(env) == 0)
                json_object_put(env);
        else if (lcd_json_set(p, "env", env) < 0)
                return ctl_out_of_memory(p, NULL);
        if (optind < argc) {
                json_object *cmd = json_object_new_array();
                for (; optind < argc; optind++)
                        if (lcd_json_append(cmd, json_object_new_string(argv[optind])) < 0)
                                return ctl_out_of_memory(p, cmd);
                if (lcd_json_set(p, "cmd", cmd) < 0)
                        return ctl_out_of_memory(p, NULL);
        }
        int status;
        ctl_watch_progress(); /* the create may pull */
        json_object *reply = ctl_call("container.create", p, &status);
        ctl.progress = false;
        if (reply == NULL)
                return status;
        *out = json_object_get(ctl_result(reply));
        json_object_put(reply);
        return 0;
}

int ctl_cmd_create(int argc, char **argv)
{
        json_object *ct = NULL;
        int status = create_container(argc, argv, &ct);
        if (status == 0)
                print_container_line(ct);
        json_object_put(ct);
        return status;
}

/* run = create + start [+ wait] [+ remove] */
int ctl_cmd_run(int argc, char **argv)
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
        snprintf(key, sizeof key, "%s:%s", ctl_str(ct, "name"), ctl_str(ct, "tag"));
        json_object *t = NULL, *in = NULL;
        bool tty = json_object_object_get_ex(ct, "tty", &t) && json_object_get_boolean(t);
        bool interactive = json_object_object_get_ex(ct, "stdin", &in) && json_object_get_boolean(in);
        json_object_put(ct);
        if (tty || interactive) /* docker's -i/-t: attached, started, to its end */
                return ctl_run_attached(key, interactive, tty, rm);
        json_object *reply = ctl_call_key("container.start", key, &status);
        if (reply == NULL)
                return status;
        json_object_put(reply);
        int code = 0;
        if (wait || rm) {
                reply = ctl_call_key("container.wait", key, &status);
                if (reply == NULL)
                        return status;
                json_object *ec = json_object_object_get(ctl_result(reply), "exitCode");
                code = ec ? json_object_get_int(ec) : 0;
                json_object_put(reply);
        }
        if (rm) {
                reply = ctl_call_key("container.remove", key, &status);
                if (reply == NULL)
                        return status;
                json_object_put(reply);
        }
        if (!wait && !rm)
                printf("%s running\n", key);
        return wait ? code : 0;
}

/* A log line to its stream: {"stream", "text"}. */
static void print_log_line(json_object *line)
{
        fprintf(ctl_msg_log_is_stderr(line) ? stderr : stdout, "%s\n", ctl_str(line, "text"));
}

/* One message while following a log: print a line; 1 at log.end. */
static int print_log_notice(const ctl_msg_t *m, void *arg LCD_UNUSED)
{
        if (m->method != NULL && strcmp(m->method, "log") == 0) {
                if (ctl.json)
                        ctl_print_json_line(m->params);
                else
                        print_log_line(m->params);
                fflush(stdout);
        }
        return m->method != NULL && strcmp(m->method, "log.end") == 0;
}

int ctl_cmd_logs(int argc, char **argv)
{
        long tail = -1;
        bool follow = false;
        static const struct option opts[] = {
                {"tail", required_argument, NULL, 'n'}, {"follow", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "+n:f", opts, NULL)) != -1) {
                long long v;
                if (c == 'n') {
                        int bad = ctl_parse_num("--tail", optarg, 0, 1000000, &v);
                        if (bad != 0)
                                return bad;
                        tail = (long)v;
                } else if (c == 'f')
                        follow = true;
                else
                        return ctl_bad_usage("logs: bad option%s", "");
        }
        if (optind + 1 != argc)
                return ctl_bad_usage("logs takes one NAME[:TAG]%s", "");
        json_object *p = ctl_key_params(argv[optind]);
        if (p == NULL || (tail >= 0 && lcd_json_set(p, "tail", json_object_new_int64(tail)) < 0) ||
            (follow && lcd_json_set(p, "follow", json_object_new_boolean(1)) < 0))
                return ctl_out_of_memory(p, NULL);
        int status;
        json_object *reply = ctl_call("container.logs", p, &status);
        if (reply == NULL)
                return status;
        json_object *lines = json_object_object_get(ctl_result(reply), "lines");
        if (ctl.json) {
                ctl_print_json(lines);
        } else {
                for (size_t i = 0; i < json_object_array_length(lines); i++)
                        print_log_line(json_object_array_get_idx(lines, i));
        }
        json_object_put(reply);
        return follow ? ctl_follow("log", print_log_notice, NULL) : 0;
}

int ctl_cmd_wait(int argc, char **argv)
{
        if (argc != 2)
                return ctl_bad_usage("wait takes one NAME[:TAG]%s", "");
        int status;
        json_object *reply = ctl_call_key("container.wait", argv[1], &status);
        if (reply == NULL)
                return status;
        json_object *code = json_object_object_get(ctl_result(reply), "exitCode");
        int rc = code ? json_object_get_int(code) : 0;
        if (ctl.json)
                ctl_print_json(ctl_result(reply));
        else
                printf("%s\n", code ? json_object_get_string(code) : "null");
        json_object_put(reply);
        return rc; /* the container's exit code */
}

/* A command that takes one NAME[:TAG] and prints the result. */
static int one_container(const char *method, int argc, char **argv)
{
        if (argc != 2)
                return ctl_bad_usage("%s takes one NAME[:TAG]", argv[0]);
        json_object *p = ctl_key_params(argv[1]);
        return p ? ctl_simple(method, p, NULL) : ctl_out_of_memory(NULL, NULL);
}

int ctl_cmd_ps(int argc LCD_UNUSED, char **argv LCD_UNUSED)
{
        return ctl_simple("container.list", NULL, print_table);
}

int ctl_cmd_inspect(int argc, char **argv)
{
        return one_container("container.inspect", argc, argv);
}

int ctl_cmd_stats(int argc, char **argv)
{
        return one_container("container.stats", argc, argv);
}

/* start, pause, resume, stop, restart, kill, rm: each over several
 * containers, with the options that command has. */
int ctl_cmd_lifecycle(int argc, char **argv)
{
        const char *cmd = argv[0];
        static const struct option opts[] = {{"time", required_argument, NULL, 't'},
                                             {"signal", required_argument, NULL, 's'},
                                             {"force", no_argument, NULL, 'f'},
                                             {NULL, 0, NULL, 0}};
        bool timed = strcmp(cmd, "stop") == 0 || strcmp(cmd, "restart") == 0;
        json_object *extra = json_object_new_object();
        if (extra == NULL)
                return ctl_out_of_memory(NULL, NULL);
        optind = 1;
        int o;
        while ((o = getopt_long(argc, argv, "+t:s:f", opts, NULL)) != -1) {
                long long secs;
                int bad;
                if (o == 't' && timed) {
                        if ((bad = ctl_parse_num("--time", optarg, 0, 3600, &secs)) != 0) {
                                json_object_put(extra);
                                return bad;
                        }
                        bad = lcd_json_set(extra, "timeout", json_object_new_int((int)secs));
                } else if (o == 's' && strcmp(cmd, "kill") == 0) {
                        bad = lcd_json_set_str(extra, "signal", optarg);
                } else if (o == 'f' && strcmp(cmd, "rm") == 0) {
                        bad = lcd_json_set(extra, "force", json_object_new_boolean(1));
                } else {
                        json_object_put(extra);
                        return ctl_bad_usage("%s: unknown option", cmd);
                }
                if (bad < 0)
                        return ctl_out_of_memory(extra, NULL);
        }
        char method[64];
        snprintf(method, sizeof method, "container.%s", strcmp(cmd, "rm") == 0 ? "remove" : cmd);
        int status = cmd_each(method, argc - optind, argv + optind, extra);
        json_object_put(extra);
        return status;
}

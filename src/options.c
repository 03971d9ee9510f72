/* options.c - the daemon's command line, parsed and checked into one
 * struct: bounds, formats and the combinations that cannot work (a TCP
 * listener off loopback without TLS) are refused here, with the flag's
 * name and range, before anything is started. See options.h.
 *
 * DESIGN: every numeric flag is one row of `numeric[]` (its name, the
 * field it sets, its default, its bounds and its help): the row drives the
 * parsing, the error message ("--workers must be 1..64, not 'x'"), the
 * synopsis and the --help lines, so a flag cannot be parsed without being
 * documented or the reverse. The other flags (paths, lists, switches) are
 * cases of one switch. Called once, on the main thread, before start-up.
 */
#include "options.h"

#include "lcd/api.h"
#include "lcd/engine.h"
#include "lcd/exec.h"
#include "lcd/log.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_HISTORY 4096 /* default --event-history */
#define SYNOPSIS_WIDTH 110 /* where the synopsis wraps */
#define HELP_INDENT 25     /* the column the help text starts at */

/* A numeric flag: an unsigned count or seconds, or a size in bytes with an
 * optional k, M or G suffix (parse_bytes). */
typedef struct {
        const char *name; /* without the dashes */
        const char *arg;  /* N, SECONDS or BYTES */
        enum { NUM_UINT, NUM_BYTES } kind;
        size_t field;            /* offsetof lcd_options_t: an unsigned (NUM_UINT) or a long long (NUM_BYTES) */
        long long def, min, max; /* the default and the bounds, inclusive */
        const char *unit;        /* after the range in the error message: "", " seconds", " bytes" */
        const char *must;        /* NUM_BYTES: what the error message says the value must be */
        const char *help;        /* --help; a '\n' continues on the next line */
} numeric_flag_t;

#define UINT_FLAG(n, a, f, d, lo, hi, u, h)                                                                            \
        {                                                                                                              \
                n, a, NUM_UINT, offsetof(lcd_options_t, f), d, lo, hi, u, NULL, h                                      \
        }
#define BYTES_FLAG(n, f, d, lo, hi, m, h)                                                                              \
        {                                                                                                              \
                n, "BYTES", NUM_BYTES, offsetof(lcd_options_t, f), d, lo, hi, "", m, h                                 \
        }

static const numeric_flag_t numeric[] = {
        UINT_FLAG("workers", "N", workers, 4, 1, 64, "", "worker threads running the tools"),
        UINT_FLAG("pull-workers", "N", pull_workers, 2, 1, 16, "", "threads for pulls (and creates that pull), apart"),
        UINT_FLAG("queue", "N", queue, 64, 1, 65536, "", "queued operations before 'busy'"),
        UINT_FLAG("max-containers", "N", max_containers, 1024, 1, 65536, "", "containers at most"),
        UINT_FLAG("event-history", "N", history, EVENT_HISTORY, 16, 1048576, "",
                  "events kept for replay with events.subscribe since"),
        UINT_FLAG("heartbeat", "SECONDS", heartbeat, 15, 0, 3600, " seconds",
                  "heartbeat events on idle subscriptions, 0: none"),
        UINT_FLAG("network-spares", "N", network_spares, 1, 0, LCD_NETWORK_SPARES_MAX, "",
                  "private networks kept ready (each an idle pasta, some 30 MiB), so a\n"
                  "create with the default network need not wait for one; 0: none"),
        UINT_FLAG("max-execs", "N", max_execs, LCD_EXECS_DEFAULT, 1, 4096, "",
                  "exec sessions at once (each a crun and the process it runs); beyond: 503"),
        UINT_FLAG("max-clients", "N", max_clients, 256, 1, 8000, "", "WebSocket connections at once; beyond: HTTP 503"),
        UINT_FLAG("max-message", "BYTES", max_message, LCD_RPC_MAX_MESSAGE, 1024, LCD_RPC_MAX_MESSAGE_HARD, " bytes",
                  "largest request; a larger one closes the connection with 1009"),
        UINT_FLAG("max-pending", "N", max_pending, 256, 1, 4096, "",
                  "TCP connections that have not shown the token yet; beyond: closed\n"
                  "at once; each has 10 s to send its request headers"),
        UINT_FLAG("max-inflight", "N", max_inflight, 64, 1, 65536, "",
                  "unanswered requests per connection; beyond: busy"),
        UINT_FLAG("max-depth", "N", max_depth, LCD_RPC_MAX_DEPTH, 2, 64, "", "JSON nesting of a request"),
        UINT_FLAG("send-queue", "N", send_queue, 1024, 16, 65536, " messages",
                  "messages queued for a slow client; a subscriber past it gets\n"
                  "'lagged', a client not reading its replies is dropped"),
        UINT_FLAG("pull-timeout", "SECONDS", pull_timeout, 600, 1, 86400, " seconds",
                  "each skopeo run of a pull (the size check, the copy) is killed after\nthis long"),
        UINT_FLAG("tool-timeout", "SECONDS", tool_timeout, 60, 1, 3600, " seconds",
                  "any other tool run (umoci, conmon, crun) is killed after this long;\n"
                  "an unpack gets ten times as long"),
        BYTES_FLAG("log-max", log_max, LCD_LOG_MAX_DEFAULT, 64 * 1024, 1LL << 40, NULL,
                   "each container's log at most (k, M, G suffixes); past it conmon starts\n"
                   "the log afresh and the older output is gone"),
        BYTES_FLAG("max-image-size", max_image, LCD_IMAGE_MAX_DEFAULT, 1, 1LL << 50, "a size in bytes (k, M, G)",
                   "a pulled image's layers at most, compressed"),
};
#define N_NUMERIC (sizeof numeric / sizeof numeric[0])

/* The synopsis of the flags that are not numeric; the numeric ones follow
 * it, from the table. */
static const char usage_head[] =
        "usage: light-containerd doctor [--json]\n"
        "       light-containerd [--socket PATH] [--listen ADDR:PORT|none] [--data-dir DIR] [--runtime-dir DIR]\n"
        "                        [--insecure-registry HOST[:PORT]]... [--log-level error|warn|info|debug]\n"
        "                        [--allow-host HOST]... [--allow-origin ORIGIN]... [--tls-cert PEM --tls-key PEM]\n"
        "                        [--no-new-keyring] [--allow-root] [--version] [--help]\n";

static void print_synopsis(FILE *f)
{
        fputs(usage_head, f);
        int col = 0;
        for (size_t i = 0; i < N_NUMERIC; i++) {
                int w = (int)(strlen(numeric[i].name) + strlen(numeric[i].arg)) + 6; /* " [--NAME ARG]" */
                if (col == 0 || col + w > SYNOPSIS_WIDTH) {
                        fprintf(f, "%s%23s", col ? "\n" : "", "");
                        col = 23;
                }
                col += fprintf(f, " [--%s %s]", numeric[i].name, numeric[i].arg);
        }
        fputc('\n', f);
}

/* A size as the flags write it: 16M, 64k, 8G, or bytes. */
static void format_bytes(long long v, char *buf, size_t len)
{
        static const char units[] = "GMk";
        for (int i = 0; i < 3; i++) {
                long long scale = 1LL << (10 * (3 - i));
                if (v >= scale && v % scale == 0) {
                        snprintf(buf, len, "%lld%c", v / scale, units[i]);
                        return;
                }
        }
        snprintf(buf, len, "%lld", v);
}

static void format_value(const numeric_flag_t *n, long long v, char *buf, size_t len)
{
        if (n->kind == NUM_BYTES)
                format_bytes(v, buf, len);
        else
                snprintf(buf, len, "%lld", v);
}

/* "  --NAME ARG   help (default D, MIN..MAX)", continued lines indented. */
static void print_numeric_help(FILE *f, const numeric_flag_t *n)
{
        char flag[64], def[32], lo[32], hi[32];
        snprintf(flag, sizeof flag, "--%s %s", n->name, n->arg);
        format_value(n, n->def, def, sizeof def);
        format_value(n, n->min, lo, sizeof lo);
        format_value(n, n->max, hi, sizeof hi);
        fprintf(f, "  %-*s", HELP_INDENT - 3, flag);
        for (const char *p = n->help; *p != '\0';) {
                size_t line = strcspn(p, "\n");
                fprintf(f, " %.*s", (int)line, p);
                p += line;
                if (*p == '\n') {
                        fprintf(f, "\n%*s", HELP_INDENT - 1, "");
                        p++;
                }
        }
        fprintf(f, " (default %s, %s..%s)\n", def, lo, hi);
}

static void help(void)
{
        print_synopsis(stdout);
        fputs("\nA rootless OCI container engine serving JSON-RPC 2.0 over WebSocket at /v1/ws.\n\n"
              "  --socket PATH          Unix socket (default <runtime-dir>/api.sock, mode 0600)\n"
              "  --listen ADDR:PORT     TCP listener (default 127.0.0.1:7780); 'none' disables it\n"
              "  --data-dir DIR         image store and bundles (default $XDG_DATA_HOME/light-containerd)\n"
              "  --runtime-dir DIR      runtime state (default $XDG_RUNTIME_DIR/light-containerd)\n"
              "  --insecure-registry H  allow plain HTTP / unverified TLS for registry H (repeatable)\n"
              "  --log-level LEVEL      error, warn, info (default) or debug\n"
              "  --allow-host HOST      also accept this Host header (default: loopback names only)\n"
              "  --allow-origin ORIGIN  also accept WebSocket upgrades from this Origin (e.g. https://ui.example)\n"
              "  --tls-cert, --tls-key  serve the TCP listener over TLS (required off loopback)\n",
              stdout);
        for (size_t i = 0; i < N_NUMERIC; i++)
                print_numeric_help(stdout, &numeric[i]);
        fputs("  --no-new-keyring       containers share the daemon's session keyring instead of one each\n"
              "                         (a user's key quota, kernel.keys.maxkeys, allows ~200 keyrings)\n"
              "  --allow-root           run as root anyway (not rootless; at your own risk)\n",
              stdout);
}

static int bad_usage(const char *fmt, const char *arg)
{
        fprintf(stderr, "light-containerd: ");
        fprintf(stderr, fmt, arg);
        fputs("\n", stderr);
        print_synopsis(stderr);
        return 2;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
                return -1;
        *out = (unsigned)v;
        return 0;
}

/* A size in bytes with an optional binary suffix: 512k, 16M, 8G. */
static int parse_bytes(const char *s, long long min, long long max, long long *out)
{
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || s[0] == '-')
                return -1;
        int shift = 0;
        if (*end != '\0') {
                const char *units = "kKmMgG";
                const char *u = strchr(units, *end);
                if (u == NULL || end[1] != '\0')
                        return -1;
                shift = 10 * (int)((u - units) / 2 + 1);
        }
        if (v > (max >> shift))
                return -1;
        v <<= shift;
        if (v < min)
                return -1;
        *out = v;
        return 0;
}

/* Set o's field for the numeric flag n from text: 0, or the usage error's
 * exit status. */
static int set_numeric(const numeric_flag_t *n, const char *text, lcd_options_t *o)
{
        char *field = (char *)o + n->field;
        if (n->kind == NUM_UINT) {
                unsigned v;
                if (parse_uint(text, (unsigned)n->min, (unsigned)n->max, &v) == 0) {
                        memcpy(field, &v, sizeof v);
                        return 0;
                }
        } else {
                long long v;
                if (parse_bytes(text, n->min, n->max, &v) == 0) {
                        memcpy(field, &v, sizeof v);
                        return 0;
                }
        }
        char lo[32], hi[32], fmt[200];
        format_value(n, n->min, lo, sizeof lo);
        format_value(n, n->max, hi, sizeof hi);
        if (n->must != NULL)
                snprintf(fmt, sizeof fmt, "--%s must be %s, not '%%s'", n->name, n->must);
        else
                snprintf(fmt, sizeof fmt, "--%s must be %s..%s%s%s, not '%%s'", n->name, lo, hi,
                         n->kind == NUM_BYTES ? " bytes" : "", n->unit);
        return bad_usage(fmt, text);
}

static void set_defaults(lcd_options_t *o)
{
        *o = (lcd_options_t){0};
        for (size_t i = 0; i < N_NUMERIC; i++) {
                char *field = (char *)o + numeric[i].field;
                if (numeric[i].kind == NUM_UINT) {
                        unsigned v = (unsigned)numeric[i].def;
                        memcpy(field, &v, sizeof v);
                } else {
                        memcpy(field, &numeric[i].def, sizeof numeric[i].def);
                }
        }
}

/* The value getopt_long returns for numeric[i]. */
#define O_NUMERIC 1000

/* Where the listener goes: "ADDR:PORT" or "none". 0, or the exit status. */
static int set_listen(const char *listen, lcd_options_t *o)
{
        o->listen_addr[0] = '\0';
        o->port = 0;
        if (strcmp(listen, "none") == 0)
                return 0;
        const char *colon = strrchr(listen, ':');
        if (colon == NULL || colon == listen || (size_t)(colon - listen) >= sizeof o->listen_addr ||
            parse_uint(colon + 1, 0, 65535, &o->port) < 0)
                return bad_usage("--listen takes ADDR:PORT or none, not '%s'", listen);
        snprintf(o->listen_addr, sizeof o->listen_addr, "%.*s", (int)(colon - listen), listen);
        return 0;
}

int lcd_options_parse(int argc, char **argv, lcd_options_t *out)
{
        lcd_options_t o;
        set_defaults(&o);
        const char *listen = "127.0.0.1:7780";
        size_t n_insecure = 0, n_hosts = 0, n_origins = 0;
        enum {
                O_SOCKET = 256,
                O_LISTEN,
                O_DATA,
                O_RUNTIME,
                O_INSECURE,
                O_LOG,
                O_ROOT,
                O_KEYRING,
                O_ALLOW_HOST,
                O_ALLOW_ORIGIN,
                O_TLS_CERT,
                O_TLS_KEY,
        };
        static const struct option named[] = {
                {"socket", required_argument, NULL, O_SOCKET},
                {"listen", required_argument, NULL, O_LISTEN},
                {"data-dir", required_argument, NULL, O_DATA},
                {"runtime-dir", required_argument, NULL, O_RUNTIME},
                {"insecure-registry", required_argument, NULL, O_INSECURE},
                {"log-level", required_argument, NULL, O_LOG},
                {"allow-root", no_argument, NULL, O_ROOT},
                {"no-new-keyring", no_argument, NULL, O_KEYRING},
                {"allow-host", required_argument, NULL, O_ALLOW_HOST},
                {"allow-origin", required_argument, NULL, O_ALLOW_ORIGIN},
                {"tls-cert", required_argument, NULL, O_TLS_CERT},
                {"tls-key", required_argument, NULL, O_TLS_KEY},
                {"version", no_argument, NULL, 'V'},
                {"help", no_argument, NULL, 'h'},
        };
        /* getopt's table: the named flags, then one entry per numeric flag */
        struct option opts[sizeof named / sizeof named[0] + N_NUMERIC + 1];
        memcpy(opts, named, sizeof named);
        for (size_t i = 0; i < N_NUMERIC; i++)
                opts[sizeof named / sizeof named[0] + i] =
                        (struct option){numeric[i].name, required_argument, NULL, O_NUMERIC + (int)i};
        opts[sizeof opts / sizeof opts[0] - 1] = (struct option){NULL, 0, NULL, 0};
        opterr = 0;
        int c, status;
        while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
                if (c >= O_NUMERIC && c < O_NUMERIC + (int)N_NUMERIC) {
                        if ((status = set_numeric(&numeric[c - O_NUMERIC], optarg, &o)) != 0)
                                return status;
                        continue;
                }
                switch (c) {
                case O_SOCKET:
                        o.socket_path = optarg;
                        break;
                case O_LISTEN:
                        listen = optarg;
                        break;
                case O_DATA:
                        o.data_dir = optarg;
                        break;
                case O_RUNTIME:
                        o.runtime_dir = optarg;
                        break;
                case O_INSECURE:
                        if (n_insecure == LCD_OPTIONS_MAX_LIST)
                                return bad_usage("at most 32 --insecure-registry options%s", "");
                        if (optarg[0] == '\0' || optarg[0] == '-' || strchr(optarg, '/'))
                                return bad_usage("--insecure-registry takes HOST[:PORT], not '%s'", optarg);
                        o.insecure[n_insecure++] = optarg;
                        break;
                case O_LOG: {
                        lcd_log_level_t lvl;
                        if (lcd_log_parse_level(optarg, &lvl) < 0)
                                return bad_usage("--log-level must be error, warn, info or debug, not '%s'", optarg);
                        lcd_log_set_level(lvl);
                        break;
                }
                case O_ROOT:
                        o.allow_root = true;
                        break;
                case O_KEYRING:
                        o.shared_keyring = true;
                        break;
                case O_ALLOW_HOST:
                        if (n_hosts == LCD_OPTIONS_MAX_LIST || optarg[0] == '\0' || strchr(optarg, '/'))
                                return bad_usage("--allow-host takes HOST[:PORT] (at most 32), not '%s'", optarg);
                        o.allow_hosts[n_hosts++] = optarg;
                        break;
                case O_ALLOW_ORIGIN:
                        if (n_origins == LCD_OPTIONS_MAX_LIST ||
                            (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0))
                                return bad_usage("--allow-origin takes http[s]://HOST[:PORT] (at most 32), not '%s'",
                                                 optarg);
                        o.allow_origins[n_origins++] = optarg;
                        break;
                case O_TLS_CERT:
                        o.tls_cert = optarg;
                        break;
                case O_TLS_KEY:
                        o.tls_key = optarg;
                        break;
                case 'V':
                        printf("light-containerd %s\n", LCD_VERSION);
                        return 0;
                case 'h':
                        help();
                        return 0;
                default:
                        return bad_usage("unknown or incomplete option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return bad_usage("unexpected argument '%s'", argv[optind]);
        if ((status = set_listen(listen, &o)) != 0)
                return status;
        if ((o.tls_cert == NULL) != (o.tls_key == NULL))
                return bad_usage("--tls-cert and --tls-key go together%s", "");
        if (o.listen_addr[0] && o.tls_cert == NULL && strcmp(o.listen_addr, "127.0.0.1") != 0 &&
            strcmp(o.listen_addr, "localhost") != 0 && strcmp(o.listen_addr, "::1") != 0) {
                fprintf(stderr,
                        "light-containerd: refusing to listen on %s without TLS: give --tls-cert and --tls-key "
                        "(or listen on 127.0.0.1)\n",
                        o.listen_addr);
                return 2;
        }
        *out = o;
        return -1;
}

/* options.c - the daemon's command line, parsed and checked into one
 * struct: bounds, formats and the combinations that cannot work (a TCP
 * listener off loopback without TLS) are refused here, with the flag's
 * name and range, before anything is started. See options.h.
 */
#include "options.h"

#include "lcd/api.h"
#include "lcd/engine.h"
#include "lcd/log.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_HISTORY 4096 /* default --event-history */

static const char usage_line[] =
        "usage: light-containerd doctor [--json]\n"
        "       light-containerd [--socket PATH] [--listen ADDR:PORT|none] [--data-dir DIR] [--runtime-dir DIR]\n"
        "                        [--workers N] [--pull-workers N] [--queue N] [--max-containers N] "
        "[--insecure-registry HOST[:PORT]]...\n"
        "                        [--log-level error|warn|info|debug] [--event-history N] [--heartbeat SECONDS]\n"
        "                        [--allow-host HOST]... [--allow-origin ORIGIN]... [--tls-cert PEM --tls-key PEM]\n"
        "                        [--max-clients N] [--max-pending N] [--max-message BYTES] [--max-inflight N] "
        "[--max-depth N]\n"
        "                        [--send-queue N] [--pull-timeout SECONDS] [--tool-timeout SECONDS]\n"
        "                        [--log-max BYTES] [--max-image-size BYTES]\n"
        "                        [--no-new-keyring] [--allow-root] [--version] [--help]\n";

static void help(void)
{
        fputs(usage_line, stdout);
        fputs("\nA rootless OCI container engine serving JSON-RPC 2.0 over WebSocket at /v1/ws.\n\n"
              "  --socket PATH          Unix socket (default <runtime-dir>/api.sock, mode 0600)\n"
              "  --listen ADDR:PORT     TCP listener (default 127.0.0.1:7780); 'none' disables it\n"
              "  --data-dir DIR         image store and bundles (default $XDG_DATA_HOME/light-containerd)\n"
              "  --runtime-dir DIR      runtime state (default $XDG_RUNTIME_DIR/light-containerd)\n"
              "  --workers N            worker threads running the tools (default 4, 1..64)\n"
              "  --pull-workers N       threads for pulls (and creates that pull), apart (default 2, 1..16)\n"
              "  --queue N              queued operations before 'busy' (default 64, 1..65536)\n"
              "  --max-containers N     containers at most (default 1024, 1..65536)\n"
              "  --insecure-registry H  allow plain HTTP / unverified TLS for registry H (repeatable)\n"
              "  --log-level LEVEL      error, warn, info (default) or debug\n"
              "  --event-history N      events kept for replay with events.subscribe since (default 4096)\n"
              "  --heartbeat SECONDS    heartbeat events on idle subscriptions (default 15, 0: none)\n"
              "  --allow-host HOST      also accept this Host header (default: loopback names only)\n"
              "  --allow-origin ORIGIN  also accept WebSocket upgrades from this Origin (e.g. https://ui.example)\n"
              "  --tls-cert, --tls-key  serve the TCP listener over TLS (required off loopback)\n"
              "  --max-clients N        WebSocket connections at once (default 256; beyond: HTTP 503)\n"
              "  --max-message BYTES    largest request (default 1048576; larger: the connection is closed, 1009)\n"
              "  --max-pending N        TCP connections that have not shown the token yet (default 256; beyond:\n"
              "                         closed at once); each has 10 s to send its request headers\n"
              "  --max-inflight N       unanswered requests per connection (default 64; beyond: busy)\n"
              "  --max-depth N          JSON nesting of a request (default 16)\n"
              "  --send-queue N         messages queued for a slow client (default 1024; a subscriber past it\n"
              "                         gets 'lagged', a client not reading its replies is dropped)\n"
              "  --pull-timeout SECONDS each skopeo run of a pull (the size check, the copy) is killed after this\n"
              "                         long (default 600)\n"
              "  --tool-timeout SECONDS any other tool run (umoci, conmon, crun) is killed after this long\n"
              "                         (default 60; an unpack gets ten times as long)\n"
              "  --log-max BYTES        each container's log at most (default 16M; k, M, G suffixes); past it\n"
              "                         conmon starts the log afresh and the older output is gone\n"
              "  --max-image-size BYTES a pulled image's layers at most, compressed (default 8G)\n"
              "  --no-new-keyring       containers share the daemon's session keyring instead of one each\n"
              "                         (a user's key quota, kernel.keys.maxkeys, allows ~200 keyrings)\n"
              "  --allow-root           run as root anyway (not rootless; at your own risk)\n",
              stdout);
}

static int bad_usage(const char *fmt, const char *arg)
{
        fprintf(stderr, "light-containerd: ");
        fprintf(stderr, fmt, arg);
        fputs("\n", stderr);
        fputs(usage_line, stderr);
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

int lcd_options_parse(int argc, char **argv, lcd_options_t *out)
{
        const char *socket_path = NULL, *listen = "127.0.0.1:7780", *data_dir = NULL, *runtime_dir = NULL;
        unsigned workers = 4, pull_workers = 2, queue = 64, max_containers = 1024, history = EVENT_HISTORY,
                 heartbeat = 15;
        unsigned pull_timeout = 600, tool_timeout = 60;
        long long log_max = LCD_LOG_MAX_DEFAULT, max_image = LCD_IMAGE_MAX_DEFAULT;
        const char *insecure[LCD_OPTIONS_MAX_LIST + 1] = {0};
        size_t n_insecure = 0;
        const char *allow_hosts[LCD_OPTIONS_MAX_LIST + 1] = {0}, *allow_origins[LCD_OPTIONS_MAX_LIST + 1] = {0};
        size_t n_hosts = 0, n_origins = 0;
        const char *tls_cert = NULL, *tls_key = NULL;
        unsigned max_clients = 256, max_message = LCD_RPC_MAX_MESSAGE, max_inflight = 64, max_depth = LCD_RPC_MAX_DEPTH,
                 send_queue = 1024, max_pending = 256;
        bool allow_root = false, shared_keyring = false;
        enum {
                O_SOCKET = 256,
                O_LISTEN,
                O_DATA,
                O_RUNTIME,
                O_WORKERS,
                O_QUEUE,
                O_MAX,
                O_INSECURE,
                O_LOG,
                O_ROOT,
                O_KEYRING,
                O_HISTORY,
                O_HEARTBEAT,
                O_ALLOW_HOST,
                O_ALLOW_ORIGIN,
                O_TLS_CERT,
                O_TLS_KEY,
                O_MAX_CLIENTS,
                O_MAX_MESSAGE,
                O_MAX_INFLIGHT,
                O_MAX_DEPTH,
                O_SEND_QUEUE,
                O_PULL_TIMEOUT,
                O_TOOL_TIMEOUT,
                O_LOG_MAX,
                O_MAX_IMAGE,
                O_PULL_WORKERS,
                O_MAX_PENDING
        };
        static const struct option opts[] = {
                {"socket", required_argument, NULL, O_SOCKET},
                {"listen", required_argument, NULL, O_LISTEN},
                {"data-dir", required_argument, NULL, O_DATA},
                {"runtime-dir", required_argument, NULL, O_RUNTIME},
                {"workers", required_argument, NULL, O_WORKERS},
                {"queue", required_argument, NULL, O_QUEUE},
                {"max-containers", required_argument, NULL, O_MAX},
                {"insecure-registry", required_argument, NULL, O_INSECURE},
                {"log-level", required_argument, NULL, O_LOG},
                {"allow-root", no_argument, NULL, O_ROOT},
                {"no-new-keyring", no_argument, NULL, O_KEYRING},
                {"event-history", required_argument, NULL, O_HISTORY},
                {"heartbeat", required_argument, NULL, O_HEARTBEAT},
                {"allow-host", required_argument, NULL, O_ALLOW_HOST},
                {"allow-origin", required_argument, NULL, O_ALLOW_ORIGIN},
                {"tls-cert", required_argument, NULL, O_TLS_CERT},
                {"tls-key", required_argument, NULL, O_TLS_KEY},
                {"max-clients", required_argument, NULL, O_MAX_CLIENTS},
                {"max-message", required_argument, NULL, O_MAX_MESSAGE},
                {"max-inflight", required_argument, NULL, O_MAX_INFLIGHT},
                {"max-depth", required_argument, NULL, O_MAX_DEPTH},
                {"send-queue", required_argument, NULL, O_SEND_QUEUE},
                {"pull-timeout", required_argument, NULL, O_PULL_TIMEOUT},
                {"tool-timeout", required_argument, NULL, O_TOOL_TIMEOUT},
                {"log-max", required_argument, NULL, O_LOG_MAX},
                {"pull-workers", required_argument, NULL, O_PULL_WORKERS},
                {"max-pending", required_argument, NULL, O_MAX_PENDING},
                {"max-image-size", required_argument, NULL, O_MAX_IMAGE},
                {"version", no_argument, NULL, 'V'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
                switch (c) {
                case O_SOCKET:
                        socket_path = optarg;
                        break;
                case O_LISTEN:
                        listen = optarg;
                        break;
                case O_DATA:
                        data_dir = optarg;
                        break;
                case O_RUNTIME:
                        runtime_dir = optarg;
                        break;
                case O_WORKERS:
                        if (parse_uint(optarg, 1, 64, &workers) < 0)
                                return bad_usage("--workers must be 1..64, not '%s'", optarg);
                        break;
                case O_QUEUE:
                        if (parse_uint(optarg, 1, 65536, &queue) < 0)
                                return bad_usage("--queue must be 1..65536, not '%s'", optarg);
                        break;
                case O_MAX:
                        if (parse_uint(optarg, 1, 65536, &max_containers) < 0)
                                return bad_usage("--max-containers must be 1..65536, not '%s'", optarg);
                        break;
                case O_INSECURE:
                        if (n_insecure == LCD_OPTIONS_MAX_LIST)
                                return bad_usage("at most 32 --insecure-registry options%s", "");
                        if (optarg[0] == '\0' || optarg[0] == '-' || strchr(optarg, '/'))
                                return bad_usage("--insecure-registry takes HOST[:PORT], not '%s'", optarg);
                        insecure[n_insecure++] = optarg;
                        break;
                case O_LOG: {
                        lcd_log_level_t lvl;
                        if (lcd_log_parse_level(optarg, &lvl) < 0)
                                return bad_usage("--log-level must be error, warn, info or debug, not '%s'", optarg);
                        lcd_log_set_level(lvl);
                        break;
                }
                case O_ROOT:
                        allow_root = true;
                        break;
                case O_KEYRING:
                        shared_keyring = true;
                        break;
                case O_HISTORY:
                        if (parse_uint(optarg, 16, 1048576, &history) < 0)
                                return bad_usage("--event-history must be 16..1048576, not '%s'", optarg);
                        break;
                case O_ALLOW_HOST:
                        if (n_hosts == LCD_OPTIONS_MAX_LIST || optarg[0] == '\0' || strchr(optarg, '/'))
                                return bad_usage("--allow-host takes HOST[:PORT] (at most 32), not '%s'", optarg);
                        allow_hosts[n_hosts++] = optarg;
                        break;
                case O_ALLOW_ORIGIN:
                        if (n_origins == LCD_OPTIONS_MAX_LIST ||
                            (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0))
                                return bad_usage("--allow-origin takes http[s]://HOST[:PORT] (at most 32), not '%s'",
                                                 optarg);
                        allow_origins[n_origins++] = optarg;
                        break;
                case O_TLS_CERT:
                        tls_cert = optarg;
                        break;
                case O_TLS_KEY:
                        tls_key = optarg;
                        break;
                case O_MAX_CLIENTS:
                        if (parse_uint(optarg, 1, 8000, &max_clients) < 0)
                                return bad_usage("--max-clients must be 1..8000, not '%s'", optarg);
                        break;
                case O_MAX_MESSAGE:
                        if (parse_uint(optarg, 1024, LCD_RPC_MAX_MESSAGE_HARD, &max_message) < 0)
                                return bad_usage("--max-message must be 1024..16777216 bytes, not '%s'", optarg);
                        break;
                case O_MAX_INFLIGHT:
                        if (parse_uint(optarg, 1, 65536, &max_inflight) < 0)
                                return bad_usage("--max-inflight must be 1..65536, not '%s'", optarg);
                        break;
                case O_SEND_QUEUE:
                        if (parse_uint(optarg, 16, 65536, &send_queue) < 0)
                                return bad_usage("--send-queue must be 16..65536 messages, not '%s'", optarg);
                        break;
                case O_MAX_DEPTH:
                        if (parse_uint(optarg, 2, 64, &max_depth) < 0)
                                return bad_usage("--max-depth must be 2..64, not '%s'", optarg);
                        break;
                case O_HEARTBEAT:
                        if (parse_uint(optarg, 0, 3600, &heartbeat) < 0)
                                return bad_usage("--heartbeat must be 0..3600 seconds, not '%s'", optarg);
                        break;
                case O_PULL_TIMEOUT:
                        if (parse_uint(optarg, 1, 86400, &pull_timeout) < 0)
                                return bad_usage("--pull-timeout must be 1..86400 seconds, not '%s'", optarg);
                        break;
                case O_TOOL_TIMEOUT:
                        if (parse_uint(optarg, 1, 3600, &tool_timeout) < 0)
                                return bad_usage("--tool-timeout must be 1..3600 seconds, not '%s'", optarg);
                        break;
                case O_MAX_PENDING:
                        if (parse_uint(optarg, 1, 4096, &max_pending) < 0)
                                return bad_usage("--max-pending must be 1..4096, not '%s'", optarg);
                        break;
                case O_PULL_WORKERS:
                        if (parse_uint(optarg, 1, 16, &pull_workers) < 0)
                                return bad_usage("--pull-workers must be 1..16, not '%s'", optarg);
                        break;
                case O_LOG_MAX:
                        if (parse_bytes(optarg, 64 * 1024, 1LL << 40, &log_max) < 0)
                                return bad_usage("--log-max must be 64k..1024G bytes, not '%s'", optarg);
                        break;
                case O_MAX_IMAGE:
                        if (parse_bytes(optarg, 1, 1LL << 50, &max_image) < 0)
                                return bad_usage("--max-image-size must be a size in bytes (k, M, G), not '%s'",
                                                 optarg);
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

        char listen_addr[256] = "";
        unsigned port = 0;
        if (strcmp(listen, "none") != 0) {
                const char *colon = strrchr(listen, ':');
                if (colon == NULL || colon == listen || (size_t)(colon - listen) >= sizeof listen_addr ||
                    parse_uint(colon + 1, 0, 65535, &port) < 0)
                        return bad_usage("--listen takes ADDR:PORT or none, not '%s'", listen);
                snprintf(listen_addr, sizeof listen_addr, "%.*s", (int)(colon - listen), listen);
        }
        if ((tls_cert == NULL) != (tls_key == NULL))
                return bad_usage("--tls-cert and --tls-key go together%s", "");
        if (listen_addr[0] && tls_cert == NULL && strcmp(listen_addr, "127.0.0.1") != 0 &&
            strcmp(listen_addr, "localhost") != 0 && strcmp(listen_addr, "::1") != 0) {
                fprintf(stderr,
                        "light-containerd: refusing to listen on %s without TLS: give --tls-cert and --tls-key "
                        "(or listen on 127.0.0.1)\n",
                        listen_addr);
                return 2;
        }

        *out = (lcd_options_t){
                .socket_path = socket_path,
                .data_dir = data_dir,
                .runtime_dir = runtime_dir,
                .port = port,
                .workers = workers,
                .pull_workers = pull_workers,
                .queue = queue,
                .max_containers = max_containers,
                .history = history,
                .heartbeat = heartbeat,
                .pull_timeout = pull_timeout,
                .tool_timeout = tool_timeout,
                .log_max = log_max,
                .max_image = max_image,
                .tls_cert = tls_cert,
                .tls_key = tls_key,
                .max_clients = max_clients,
                .max_message = max_message,
                .max_inflight = max_inflight,
                .max_depth = max_depth,
                .send_queue = send_queue,
                .max_pending = max_pending,
                .allow_root = allow_root,
                .shared_keyring = shared_keyring,
        };
        snprintf(out->listen_addr, sizeof out->listen_addr, "%s", listen_addr);
        memcpy(out->insecure, insecure, sizeof insecure);
        memcpy(out->allow_hosts, allow_hosts, sizeof allow_hosts);
        memcpy(out->allow_origins, allow_origins, sizeof allow_origins);
        return -1;
}

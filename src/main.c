/* main.c - the light-containerd daemon: options, start-up order, signals.
 *
 * Start-up order matters: the engine moves the process between cgroups
 * before any thread exists, then starts its workers; the API comes last.
 * Shutdown runs in reverse: the service loop ends, the engine stops and
 * removes every container (their events still reach the clients), then
 * the listeners close.
 */
#include "lcd/alloc.h"
#include "lcd/dirs.h"
#include "lcd/doctor.h"
#include "lcd/sdnotify.h"
#include "lcd/api.h"
#include "lcd/engine.h"
#include "lcd/error.h"
#include "lcd/events.h"
#include "lcd/fsutil.h"
#include "lcd/log.h"
#include "lcd/reaper.h"
#include "lcd/runner.h"
#include "lcd/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INSECURE 32
#define EVENT_HISTORY 4096 /* default --event-history */

static volatile sig_atomic_t stop_requested;

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

static void on_signal(int sig)
{
        (void)sig;
        stop_requested = 1;
        lcd_api_wake(NULL);
}

/* light-containerd doctor [--json] */
static int doctor(int argc, char **argv)
{
        bool json = argc == 3 && strcmp(argv[2], "--json") == 0;
        if (argc > 3 || (argc == 3 && !json)) {
                fprintf(stderr, "usage: light-containerd doctor [--json]\n");
                return 2;
        }
        lcd_runner_t *runner = lcd_runner_spawn_new();
        if (runner == NULL) {
                fprintf(stderr, "light-containerd: out of memory\n");
                return 1;
        }
        lcd_check_t checks[LCD_DOCTOR_MAX];
        size_t n = lcd_doctor_run(runner, checks);
        lcd_runner_free(runner);
        int bad = 0;
        for (size_t i = 0; i < n; i++)
                bad |= !checks[i].ok && checks[i].required;
        if (json) {
                json_object *a = lcd_doctor_json(checks, n);
                printf("%s\n", a ? json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY) : "null");
                json_object_put(a);
                return bad;
        }
        return lcd_doctor_print(checks, n);
}

int main(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "doctor") == 0)
                return doctor(argc, argv);
        const char *socket_path = NULL, *listen = "127.0.0.1:7780", *data_dir = NULL, *runtime_dir = NULL;
        unsigned workers = 4, pull_workers = 2, queue = 64, max_containers = 1024, history = EVENT_HISTORY,
                 heartbeat = 15;
        unsigned pull_timeout = 600, tool_timeout = 60;
        long long log_max = LCD_LOG_MAX_DEFAULT, max_image = LCD_IMAGE_MAX_DEFAULT;
        const char *insecure[MAX_INSECURE + 1] = {0};
        size_t n_insecure = 0;
        const char *allow_hosts[MAX_INSECURE + 1] = {0}, *allow_origins[MAX_INSECURE + 1] = {0};
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
                        if (n_insecure == MAX_INSECURE)
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
                        if (n_hosts == MAX_INSECURE || optarg[0] == '\0' || strchr(optarg, '/'))
                                return bad_usage("--allow-host takes HOST[:PORT] (at most 32), not '%s'", optarg);
                        allow_hosts[n_hosts++] = optarg;
                        break;
                case O_ALLOW_ORIGIN:
                        if (n_origins == MAX_INSECURE ||
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
        if (geteuid() == 0 && !allow_root) {
                fprintf(stderr, "light-containerd: refusing to run as root: it is a rootless engine. Run it as an "
                                "unprivileged user with /etc/subuid and /etc/subgid ranges (see README), or pass "
                                "--allow-root at your own risk.\n");
                return 1;
        }

        char rt[PATH_MAX], data[PATH_MAX], sock[PATH_MAX];
        bool rt_fallback = false;
        if (runtime_dir)
                snprintf(rt, sizeof rt, "%s", runtime_dir);
        else if (lcd_dirs_runtime_default(rt, sizeof rt, &rt_fallback) < 0)
                return bad_usage("the runtime dir's path is too long: give --runtime-dir%s", "");
        if (rt_fallback)
                lcd_warn("XDG_RUNTIME_DIR is not set; using %s", rt);
        if (data_dir)
                snprintf(data, sizeof data, "%s", data_dir);
        else if (lcd_dirs_data_default(data, sizeof data) < 0) {
                fprintf(stderr, "light-containerd: set --data-dir, XDG_DATA_HOME or HOME\n");
                return 1;
        }
        snprintf(sock, sizeof sock, "%s", socket_path ? socket_path : rt);
        if (!socket_path)
                snprintf(sock, sizeof sock, "%s/api.sock", rt);
        if (strlen(sock) >= 108) {
                fprintf(stderr, "light-containerd: socket path too long (max 107 bytes): %s\n", sock);
                return 1;
        }
        /* private to this user, or refused: the token and every container live there */
        lcd_error_t *derr = NULL;
        if (lcd_dir_private(rt, true, &derr) < 0 || lcd_dir_private(data, true, &derr) < 0) {
                fprintf(stderr, "light-containerd: %s\n", derr->msg);
                lcd_error_free(derr);
                return 1;
        }
        char lockpath[PATH_MAX + 16];
        snprintf(lockpath, sizeof lockpath, "%s/daemon.lock", rt);
        int lockfd = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        struct stat lst;
        if (lockfd < 0 || fstat(lockfd, &lst) < 0 || !S_ISREG(lst.st_mode)) {
                fprintf(stderr, "light-containerd: cannot open %s: %s\n", lockpath,
                        lockfd < 0 ? strerror(errno) : "not a regular file");
                return 1;
        }
        if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
                fprintf(stderr, "light-containerd: another light-containerd is running with runtime dir %s\n", rt);
                return 1;
        }

        /* room for many clients: the soft open-file limit up to the hard one,
         * and at most what the service thread's tables are sized for */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
                setrlimit(RLIMIT_NOFILE, &rl);
        }

        /* orphaned conmon processes, and whatever a tool leaves running,
         * become our children: every one is reaped (reaper.h), even where
         * PID 1 does not reap */
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        int rr = lcd_reaper_init();
        if (rr < 0) {
                fprintf(stderr, "light-containerd: cannot set up reaping: %s\n", strerror(-rr));
                return 1;
        }

        /* the TCP listener's token, readable by this user only */
        static char token[LCD_TOKEN_HEX + 1];
        char tokenpath[PATH_MAX + 16];
        snprintf(tokenpath, sizeof tokenpath, "%s/token", rt);
        if (lcd_token_new(token) < 0 || lcd_write_atomic(tokenpath, token, strlen(token), 0600) < 0) {
                fprintf(stderr, "light-containerd: cannot write the API token to %s\n", tokenpath);
                return 1;
        }

        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        int status = 1;
        lcd_error_t *err = NULL;
        lcd_api_t *api = NULL;
        lcd_engine_t *engine = NULL;
        lcd_runner_t *runner = lcd_runner_spawn_new();
        lcd_events_t *events = lcd_events_new(history, lcd_api_wake, NULL);
        if (runner == NULL || events == NULL) {
                lcd_error_log("out of memory at start-up");
                goto out;
        }
        /* the host as this user sees it, for system.check (and tool versions) */
        static lcd_check_t checks[LCD_DOCTOR_MAX];
        size_t n_checks = lcd_doctor_run(runner, checks);
        for (size_t i = 0; i < n_checks; i++)
                if (!checks[i].ok)
                        lcd_log(checks[i].required ? LCD_LOG_ERROR : LCD_LOG_WARN, "check %s: %s (fix: %s)",
                                checks[i].check, checks[i].detail, checks[i].fix);

        /* before any thread: our own user and mount namespace */
        static lcd_userns_t userns;
        if (lcd_userns_enter(&userns, &err) < 0)
                goto out;
        lcd_info("user namespace: %s", userns.desc);
        lcd_engine_config_t ecfg = {
                .userns = &userns,
                .checks = checks,
                .n_checks = n_checks,
                .shared_keyring = shared_keyring,
                .data_dir = data,
                .runtime_dir = rt,
                .workers = workers,
                .pull_workers = pull_workers,
                .queue = queue,
                .max_containers = max_containers,
                .insecure_registries = insecure,
                .runner = runner,
                .events = events,
                .pull_timeout_ms = (int)pull_timeout * 1000,
                .tool_timeout_ms = (int)tool_timeout * 1000,
                .log_max_bytes = log_max,
                .max_image_bytes = max_image,
        };
        engine = lcd_engine_new(&ecfg, &err);
        if (engine == NULL)
                goto out;
        lcd_api_config_t acfg = {
                .socket_path = sock,
                .listen_addr = listen_addr[0] ? listen_addr : NULL,
                .listen_port = (int)port,
                .engine = engine,
                .events = events,
                .heartbeat_s = (int)heartbeat,
                .checks = checks,
                .n_checks = n_checks,
                .access = {.token = token, .allow_hosts = allow_hosts, .allow_origins = allow_origins},
                .tls_cert = tls_cert,
                .tls_key = tls_key,
                .limits = {max_message, max_clients, max_inflight, max_depth, send_queue, max_pending},
                .token_path = tokenpath,
        };
        api = lcd_api_new(&acfg, &err);
        if (api == NULL)
                goto out;
        lcd_events_set_wake(events, lcd_api_wake, api);
        if (listen_addr[0]) {
                lcd_info("light-containerd %s listening on unix:%s and %s://%s:%d/v1/ws (token in %s)", LCD_VERSION,
                         sock, tls_cert ? "wss" : "ws", listen_addr, lcd_api_tcp_port(api), tokenpath);
                /* never in the log (a journal others may read): on the terminal only, else lightctl dashboard */
                if (isatty(STDERR_FILENO))
                        fprintf(stderr, "dashboard: %s#token=%s\n", lcd_api_dashboard_url(api), token);
                lcd_info("dashboard at %s (the URL with the token: lightctl dashboard)", lcd_api_dashboard_url(api));
        } else
                lcd_info("light-containerd %s listening on unix:%s (path /v1/ws)", LCD_VERSION, sock);
        if (lcd_sd_notify("READY=1") < 0) /* Type=notify units start once this arrives */
                lcd_warn("cannot tell the service manager we are ready ($NOTIFY_SOCKET)");
        lcd_api_run(api, &stop_requested);
        lcd_sd_notify("STOPPING=1");
        lcd_info("shutting down: stopping and removing every container");
        status = 0;
out:
        if (err != NULL) {
                lcd_error_log("%s", err->msg);
                lcd_error_free(err);
        }
        if (engine != NULL)
                lcd_engine_shutdown(engine);
        if (events != NULL)
                lcd_events_set_wake(events, NULL, NULL); /* the API goes first */
        lcd_api_free(api);
        lcd_engine_free(engine);
        lcd_events_free(events);
        lcd_runner_free(runner);
        unlink(tokenpath);
        if (lockfd >= 0) {
                unlink(lockpath);
                close(lockfd);
        }
        if (status == 0)
                lcd_info("stopped");
        return status;
}

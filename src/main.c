/* main.c - the light-containerd daemon: options, start-up order, signals.
 *
 * Start-up order matters: the engine moves the process between cgroups
 * before any thread exists, then starts its workers; the API comes last.
 * Shutdown runs in reverse: the service loop ends, the engine stops and
 * removes every container (their events still reach the clients), then
 * the listeners close.
 */
#include "options.h"

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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

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

/* Where the daemon works: its dirs, socket, lock and token. */
typedef struct {
        char rt[PATH_MAX], data[PATH_MAX], sock[PATH_MAX];
        char lockpath[PATH_MAX + 16], tokenpath[PATH_MAX + 16];
        char token[LCD_TOKEN_HEX + 1];
        int lockfd; /* -1 until the lock is ours */
} daemon_dirs_t;

/* The runtime and data dirs (private to this user, or refused: the token
 * and every container live there) and the socket's path. 0 or the exit
 * status, said. */
static int find_dirs(const lcd_options_t *o, daemon_dirs_t *d)
{
        bool rt_fallback = false;
        if (o->runtime_dir) {
                snprintf(d->rt, sizeof d->rt, "%s", o->runtime_dir);
        } else if (lcd_dirs_runtime_default(d->rt, sizeof d->rt, &rt_fallback) < 0) {
                fprintf(stderr, "light-containerd: the runtime dir's path is too long: give --runtime-dir\n");
                return 2;
        }
        if (rt_fallback)
                lcd_warn("XDG_RUNTIME_DIR is not set; using %s", d->rt);
        if (o->data_dir) {
                snprintf(d->data, sizeof d->data, "%s", o->data_dir);
        } else if (lcd_dirs_data_default(d->data, sizeof d->data) < 0) {
                fprintf(stderr, "light-containerd: set --data-dir, XDG_DATA_HOME or HOME\n");
                return 1;
        }
        if (o->socket_path)
                snprintf(d->sock, sizeof d->sock, "%s", o->socket_path);
        else
                snprintf(d->sock, sizeof d->sock, "%s/api.sock", d->rt);
        if (strlen(d->sock) >= 108) {
                fprintf(stderr, "light-containerd: socket path too long (max 107 bytes): %s\n", d->sock);
                return 1;
        }
        lcd_error_t *derr = NULL;
        if (lcd_dir_private(d->rt, true, &derr) < 0 || lcd_dir_private(d->data, true, &derr) < 0) {
                fprintf(stderr, "light-containerd: %s\n", derr->msg);
                lcd_error_free(derr);
                return 1;
        }
        return 0;
}

/* One daemon per runtime dir: an flock on daemon.lock. 0 or 1, said. */
static int take_lock(daemon_dirs_t *d)
{
        snprintf(d->lockpath, sizeof d->lockpath, "%s/daemon.lock", d->rt);
        int fd = open(d->lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        struct stat lst;
        if (fd < 0 || fstat(fd, &lst) < 0 || !S_ISREG(lst.st_mode)) {
                fprintf(stderr, "light-containerd: cannot open %s: %s\n", d->lockpath,
                        fd < 0 ? strerror(errno) : "not a regular file");
                if (fd >= 0)
                        close(fd);
                return 1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) { /* another daemon's: leave its file alone */
                fprintf(stderr, "light-containerd: another light-containerd is running with runtime dir %s\n", d->rt);
                close(fd);
                return 1;
        }
        d->lockfd = fd;
        return 0;
}

/* The process itself: room for many clients (the soft open-file limit up
 * to the hard one, at most what the service thread's tables are sized
 * for), and every orphan reaped: orphaned conmon processes, and whatever a
 * tool leaves running, become our children (reaper.h), even where PID 1
 * does not reap. 0 or 1, said. */
static int prepare_process(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        int rr = lcd_reaper_init();
        if (rr < 0) {
                fprintf(stderr, "light-containerd: cannot set up reaping: %s\n", strerror(-rr));
                return 1;
        }
        return 0;
}

/* The TCP listener's token, in a file readable by this user only. 0 or 1. */
static int write_token(daemon_dirs_t *d)
{
        snprintf(d->tokenpath, sizeof d->tokenpath, "%s/token", d->rt);
        if (lcd_token_new(d->token) < 0 || lcd_write_atomic(d->tokenpath, d->token, strlen(d->token), 0600) < 0) {
                fprintf(stderr, "light-containerd: cannot write the API token to %s\n", d->tokenpath);
                return 1;
        }
        return 0;
}

static void catch_signals(void)
{
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
}

/* The daemon proper: the host checked, our own user namespace, the engine,
 * the API; serve until a signal; then stop and remove every container and
 * close. The exit status. */
static int serve(const lcd_options_t *o, daemon_dirs_t *d)
{
        int status = 1;
        lcd_error_t *err = NULL;
        lcd_api_t *api = NULL;
        lcd_engine_t *engine = NULL;
        lcd_runner_t *runner = lcd_runner_spawn_new();
        lcd_events_t *events = lcd_events_new(o->history, lcd_api_wake, NULL);
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
                .shared_keyring = o->shared_keyring,
                .network_spares = o->network_spares,
                .max_execs = o->max_execs,
                .data_dir = d->data,
                .runtime_dir = d->rt,
                .workers = o->workers,
                .pull_workers = o->pull_workers,
                .queue = o->queue,
                .max_containers = o->max_containers,
                .insecure_registries = o->insecure,
                .runner = runner,
                .events = events,
                .pull_timeout_ms = (int)o->pull_timeout * 1000,
                .tool_timeout_ms = (int)o->tool_timeout * 1000,
                .log_max_bytes = o->log_max,
                .max_image_bytes = o->max_image,
        };
        /* the engine's threads start with the stop signals blocked, so
         * their handler runs on this thread only: the service thread, the
         * one that takes the API's wake pointer away at the end (server.c) */
        sigset_t stops, old;
        sigemptyset(&stops);
        sigaddset(&stops, SIGTERM);
        sigaddset(&stops, SIGINT);
        pthread_sigmask(SIG_BLOCK, &stops, &old);
        engine = lcd_engine_new(&ecfg, &err);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (engine == NULL)
                goto out;
        lcd_api_config_t acfg = {
                .socket_path = d->sock,
                .listen_addr = o->listen_addr[0] ? o->listen_addr : NULL,
                .listen_port = (int)o->port,
                .engine = engine,
                .events = events,
                .heartbeat_s = (int)o->heartbeat,
                .checks = checks,
                .n_checks = n_checks,
                .access = {.token = d->token, .allow_hosts = o->allow_hosts, .allow_origins = o->allow_origins},
                .tls_cert = o->tls_cert,
                .tls_key = o->tls_key,
                .limits = {o->max_message, o->max_clients, o->max_inflight, o->max_depth, o->send_queue,
                           o->max_pending},
                .token_path = d->tokenpath,
        };
        api = lcd_api_new(&acfg, &err);
        if (api == NULL)
                goto out;
        lcd_events_set_wake(events, lcd_api_wake, api);
        if (o->listen_addr[0]) {
                lcd_info("light-containerd %s listening on unix:%s and %s://%s:%d/v1/ws (token in %s)", LCD_VERSION,
                         d->sock, o->tls_cert ? "wss" : "ws", o->listen_addr, lcd_api_tcp_port(api), d->tokenpath);
                /* never in the log (a journal others may read): on the terminal only, else lightctl dashboard */
                if (isatty(STDERR_FILENO))
                        fprintf(stderr, "dashboard: %s#token=%s\n", lcd_api_dashboard_url(api), d->token);
                lcd_info("dashboard at %s (the URL with the token: lightctl dashboard)", lcd_api_dashboard_url(api));
        } else
                lcd_info("light-containerd %s listening on unix:%s (path /v1/ws)", LCD_VERSION, d->sock);
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
        return status;
}

int main(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "doctor") == 0)
                return doctor(argc, argv);
        lcd_options_t o;
        int status = lcd_options_parse(argc, argv, &o);
        if (status >= 0)
                return status;
        if (geteuid() == 0 && !o.allow_root) {
                fprintf(stderr, "light-containerd: refusing to run as root: it is a rootless engine. Run it as an "
                                "unprivileged user with /etc/subuid and /etc/subgid ranges (see README), or pass "
                                "--allow-root at your own risk.\n");
                return 1;
        }
        static daemon_dirs_t d = {.lockfd = -1};
        status = find_dirs(&o, &d);
        if (status == 0)
                status = take_lock(&d);
        if (status == 0)
                status = prepare_process();
        if (status == 0)
                status = write_token(&d);
        if (status == 0) {
                catch_signals();
                status = serve(&o, &d);
                unlink(d.tokenpath);
        }
        if (d.lockfd >= 0) {
                unlink(d.lockpath);
                close(d.lockfd);
        }
        if (status == 0)
                lcd_info("stopped");
        return status;
}

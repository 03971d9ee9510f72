/* conmon.c - see conmon.h. Workers (start, kill) and the exit watcher
 * (the pid).
 */
#include "conmon.h"

#include "lcd/alloc.h"
#include "lcd/fsutil.h"
#include "lcd/strv.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PIDFILE "conmon.pid" /* conmon's own pid, in the bundle */

/* Read conmon's sync-pipe message {"data": pid} or {"data": -1, "message": ...}. */
static int read_sync(int fd, int timeout_ms, int *pid, char *msg, size_t msglen)
{
        char buf[4096];
        size_t got = 0;
        int64_t deadline = lcd_now_ms() + timeout_ms;
        msg[0] = '\0';
        for (;;) {
                int64_t left = deadline - lcd_now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int n = poll(&p, 1, (int)left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n == 0 ? -ETIMEDOUT : -errno;
                ssize_t rd = read(fd, buf + got, sizeof buf - 1 - got);
                if (rd < 0 && errno == EINTR)
                        continue;
                if (rd <= 0)
                        break;
                got += (size_t)rd;
                buf[got] = '\0';
                json_object *o = json_tokener_parse(buf);
                if (o != NULL) {
                        json_object *d = NULL, *m = NULL;
                        int r = -EPROTO;
                        if (json_object_object_get_ex(o, "data", &d)) {
                                *pid = json_object_get_int(d);
                                r = 0;
                        }
                        if (json_object_object_get_ex(o, "message", &m))
                                snprintf(msg, msglen, "%s", json_object_get_string(m));
                        json_object_put(o);
                        return r;
                }
                if (got == sizeof buf - 1)
                        break;
        }
        return -EPIPE;
}

int lcd_conmon_start(const lcd_conmon_opts_t *o, int *pid, lcd_error_t **err)
{
        char crun_path[PATH_MAX];
        if (lcd_find_on_path("crun", crun_path, sizeof crun_path) < 0)
                return lcd_error_tool(err, "crun", NULL, "crun not found on PATH");
        char pidfile[PATH_MAX + 16], cpidfile[PATH_MAX + 16], log[PATH_MAX + 16], out[PATH_MAX + 16];
        snprintf(pidfile, sizeof pidfile, "%s/pidfile", o->bundle);
        snprintf(cpidfile, sizeof cpidfile, "%s/" PIDFILE, o->bundle);
        snprintf(out, sizeof out, "%s/conmon.log", o->bundle);
        snprintf(log, sizeof log, "k8s-file:%s", o->log_path);
        char exit_file[PATH_MAX + 80], logmax[32];
        snprintf(exit_file, sizeof exit_file, "%s/%s", o->exit_dir, o->id);
        snprintf(logmax, sizeof logmax, "%lld", (long long)o->log_max_bytes);
        unlink(exit_file);
        unlink(out);
        const char *argv[] = {"conmon",
                              "--api-version",
                              "1",
                              "-c",
                              o->id,
                              "-u",
                              o->id,
                              "-n",
                              o->name,
                              "-r",
                              crun_path,
                              "-b",
                              o->bundle,
                              "-p",
                              pidfile,
                              "-P",
                              cpidfile,
                              "-l",
                              log,
                              "--exit-dir",
                              o->exit_dir,
                              "--socket-dir-path",
                              o->sock_dir,
                              "--runtime-arg",
                              "--root",
                              "--runtime-arg",
                              o->crun_root,
                              "--runtime-arg",
                              "--cgroup-manager=cgroupfs",
                              "--log-level",
                              "warning",
                              "--log-size-max",
                              logmax,
                              NULL,
                              NULL,
                              NULL,
                              NULL,
                              NULL};
        size_t extra = sizeof argv / sizeof argv[0] - 5; /* the first NULL */
        if (o->shared_keyring)
                argv[extra++] = "--no-new-keyring";
        if (o->tty)
                argv[extra++] = "-t";
        if (o->stdin)
                argv[extra++] = "-i";
        if (o->tty && o->stdin) /* a client's leaving must not end the terminal's input for the next */
                argv[extra++] = "--leave-stdin-open";
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "pipe: %s", strerror(errno));
        static const char sync_env[] = "_OCI_SYNCPIPE=3";
        extern char **environ;
        size_t n = lcd_strv_len((const char *const *)environ);
        const char **envp = lcd_calloc(n + 2, sizeof *envp);
        if (envp == NULL) {
                close(pipefd[0]);
                close(pipefd[1]);
                return lcd_error_nomem(err);
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "_OCI_", 5) != 0 && strncmp(environ[i], "NOTIFY_SOCKET=", 14) != 0)
                        envp[k++] = environ[i];
        envp[k++] = sync_env;
        lcd_run_spec_t spec = {
                .argv = argv, .envp = envp, .timeout_ms = o->timeout_ms, .output_path = out, .pass_fd = pipefd[1]};
        lcd_run_result_t res;
        int r = o->runner->run(o->runner, &spec, &res, err);
        lcd_run_result_clear(&res);
        lcd_free(envp);
        close(pipefd[1]);
        if (r < 0) {
                close(pipefd[0]);
                return lcd_error_wrap(err, "create");
        }
        char msg[1024];
        int cpid = -1;
        int s = res.status == 0 ? read_sync(pipefd[0], o->timeout_ms, &cpid, msg, sizeof msg) : -EPIPE;
        close(pipefd[0]);
        if (s == 0 && cpid > 0) {
                *pid = cpid;
                return 0;
        }
        char tail[LCD_RUN_ERR_TAIL];
        ssize_t tn = lcd_read_small(out, tail, sizeof tail);
        if (tn < 0)
                tail[0] = '\0';
        if (msg[0] == '\0')
                snprintf(msg, sizeof msg, "%s",
                         s == -ETIMEDOUT ? "no answer from conmon in time" : "conmon reported no container pid");
        if (s == -ETIMEDOUT)
                return lcd_error_set(err, LCD_E_TIMEOUT, "create: %s", msg);
        if (strstr(msg, "keyring") != NULL && strstr(msg, "quota") != NULL) {
                size_t end = strcspn(msg, "\n");
                snprintf(msg + end, sizeof msg - end,
                         " (each container gets a session keyring and this user's key "
                         "quota is full: raise the sysctl kernel.keys.maxkeys, or start "
                         "the daemon with --no-new-keyring)");
        }
        return lcd_error_tool(err, "conmon", tail[0] ? tail : msg, "create: %s", msg);
}

pid_t lcd_conmon_pid(const char *bundle)
{
        char path[PATH_MAX + 16], buf[32];
        snprintf(path, sizeof path, "%s/" PIDFILE, bundle);
        if (lcd_read_small(path, buf, sizeof buf) <= 0)
                return -1;
        long pid = strtol(buf, NULL, 10);
        return pid > 1 && pid < INT_MAX ? (pid_t)pid : -1;
}

/* The daemon is a child subreaper: an orphaned conmon is our child and
 * must be reaped here (bounded wait); ECHILD when it is not ours. */
static void reap_if_ours(pid_t pid)
{
        int64_t deadline = lcd_now_ms() + 2000;
        for (;;) {
                pid_t w = waitpid(pid, NULL, WNOHANG);
                if (w == pid || (w < 0 && errno != EINTR) || lcd_now_ms() > deadline)
                        break;
                usleep(5 * 1000);
        }
}

/* Is pid a conmon of container id? (Its pid may have been reaped and
 * reused since the pid file was written.) */
static bool is_conmon_of(pid_t pid, const char *id)
{
        char path[64], cmd[4096];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        if (lcd_read_small(path, cmd, sizeof cmd) <= 0 || strncmp(cmd, "conmon", 6) != 0)
                return false;
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
        ssize_t n = lcd_read_small(path, cmd, sizeof cmd);
        for (ssize_t i = 0; i < n; i++) /* NUL-separated arguments: one of them is the id */
                if ((i == 0 || cmd[i - 1] == '\0') && strcmp(cmd + i, id) == 0)
                        return true;
        return false;
}

void lcd_conmon_kill(const char *bundle, const char *id)
{
        pid_t pid = lcd_conmon_pid(bundle);
        if (pid < 0)
                return;
        if (!is_conmon_of(pid, id))
                return; /* gone (the exit watcher reaps conmons as they end) */
        kill(pid, SIGKILL);
        reap_if_ours(pid);
}

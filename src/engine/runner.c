/* runner.c - the posix_spawn runner (see runner.h).
 *
 * The child gets a new process group so a timeout kills everything it
 * started; all our descriptors above 2 (or 3 with pass_fd) are closed in
 * it. Waiting uses a pidfd in the same poll() as the output pipes, so one
 * deadline bounds the whole run, also for a child that closes its output
 * early: nothing here waits without a timeout.
 */
#include "lcd/compiler.h"
#include "lcd/runner.h"

#include "lcd/alloc.h"
#include "lcd/log.h"
#include "lcd/reaper.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void append_tail(char *tail, size_t cap, const char *data, size_t n)
{
        size_t cur = strlen(tail);
        if (n >= cap - 1) {
                memcpy(tail, data + n - (cap - 1), cap - 1);
                tail[cap - 1] = '\0';
                return;
        }
        if (cur + n > cap - 1) {
                size_t drop = cur + n - (cap - 1);
                memmove(tail, tail + drop, cur - drop);
                cur -= drop;
        }
        memcpy(tail + cur, data, n);
        tail[cur + n] = '\0';
}

int lcd_spawnattr_clean(posix_spawnattr_t *attr)
{
        int r = posix_spawnattr_init(attr);
        if (r != 0)
                return r;
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(attr, &none);
        posix_spawnattr_setsigdefault(attr, &all);
        posix_spawnattr_setpgroup(attr, 0);
        posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        return 0;
}

static int spawn_child(const lcd_run_spec_t *spec, int out_w, int err_w, pid_t *pid)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        int r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return r;
        r = lcd_spawnattr_clean(&attr);
        if (r != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return r;
        }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (spec->pass_fd >= 0)
                posix_spawn_file_actions_adddup2(&fa, spec->pass_fd, 3);
        if (spec->output_path != NULL) {
                posix_spawn_file_actions_addopen(&fa, 1, spec->output_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW,
                                                 0600);
                posix_spawn_file_actions_adddup2(&fa, 1, 2);
        } else {
                posix_spawn_file_actions_adddup2(&fa, out_w, 1);
                posix_spawn_file_actions_adddup2(&fa, err_w, 2);
        }
        posix_spawn_file_actions_addclosefrom_np(&fa, spec->pass_fd >= 0 ? 4 : 3);
        char *const *envp = spec->envp ? (char *const *)spec->envp : environ;
        r = posix_spawnp(pid, spec->argv[0], &fa, &attr, (char *const *)spec->argv, envp);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        return r;
}

static int spawn_run(lcd_runner_t *self LCD_UNUSED, const lcd_run_spec_t *spec, lcd_run_result_t *res,
                     lcd_error_t **err)
{
        const char *tool = spec->argv[0];
        size_t cap = spec->out_cap ? spec->out_cap : LCD_RUN_OUT_CAP;
        memset(res, 0, sizeof *res);
        res->out = lcd_malloc(1);
        if (res->out == NULL)
                return lcd_error_nomem(err);
        res->out[0] = '\0';

        int outp[2] = {-1, -1}, errp[2] = {-1, -1};
        if (spec->output_path == NULL && (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)) {
                int e = errno;
                for (int i = 0; i < 2; i++) {
                        if (outp[i] >= 0)
                                close(outp[i]);
                        if (errp[i] >= 0)
                                close(errp[i]);
                }
                return lcd_error_set(err, LCD_E_INTERNAL, "start %s: pipe: %s", tool, strerror(e));
        }
        pid_t pid;
        int64_t t0 = lcd_now_ms();
        lcd_reaper_claim_t claim = {0}; /* the daemon's reaper leaves this child to us */
        lcd_reaper_spawn_begin();
        int r = spawn_child(spec, outp[1], errp[1], &pid);
        lcd_reaper_spawn_end(&claim, r == 0 ? pid : -1);
        if (outp[1] >= 0) {
                close(outp[1]);
                close(errp[1]);
        }
        if (r != 0) {
                if (outp[0] >= 0) {
                        close(outp[0]);
                        close(errp[0]);
                }
                if (r == ENOENT)
                        return lcd_error_tool(err, tool, NULL, "%s not found on PATH", tool);
                return lcd_error_tool(err, tool, NULL, "cannot start %s: %s", tool, strerror(r));
        }
        lcd_debug("spawned %s pid %d", tool, (int)pid);
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        int64_t deadline = t0 + spec->timeout_ms;
        bool timed_out = false, exited = false, child_done = false;
        int wstatus = 0;
        char buf[8192];
        /* never a blocking waitpid: a child that closed its stdout and stderr
         * early is still bound by the deadline (the pidfd says when it ends;
         * without one, it is polled every 20 ms) */
        while (!exited) {
                struct pollfd fds[3];
                int nfds = 0, out_i = -1, err_i = -1, pid_i = -1;
                if (outp[0] >= 0) {
                        out_i = nfds;
                        fds[nfds++] = (struct pollfd){.fd = outp[0], .events = POLLIN};
                }
                if (errp[0] >= 0) {
                        err_i = nfds;
                        fds[nfds++] = (struct pollfd){.fd = errp[0], .events = POLLIN};
                }
                if (pidfd >= 0) {
                        pid_i = nfds;
                        fds[nfds++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
                }
                int64_t left = deadline - lcd_now_ms();
                if (left <= 0) {
                        timed_out = true;
                        break;
                }
                bool pipes_done = outp[0] < 0 && errp[0] < 0;
                int step_ms = pidfd < 0 && !child_done && pipes_done ? 20 : 1000;
                int wait_ms = (int)(left < step_ms ? left : step_ms);
                int n = nfds ? poll(fds, (nfds_t)nfds, wait_ms) : (usleep((useconds_t)wait_ms * 1000), 0);
                if (n < 0 && errno != EINTR)
                        break;
                for (int i = 0; n > 0 && i < nfds; i++) {
                        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        if (i == pid_i) { /* exited: stop polling it, reap below */
                                close(pidfd);
                                pidfd = -1;
                                child_done = true;
                                continue;
                        }
                        int *fd = i == out_i ? &outp[0] : &errp[0];
                        ssize_t got = read(*fd, buf, sizeof buf);
                        if (got <= 0) {
                                if (got < 0 && errno == EINTR)
                                        continue;
                                close(*fd);
                                *fd = -1;
                                continue;
                        }
                        if (i == err_i) {
                                append_tail(res->err, sizeof res->err, buf, (size_t)got);
                        } else if (res->out_len < cap) {
                                size_t keep = (size_t)got;
                                if (res->out_len + keep > cap) {
                                        keep = cap - res->out_len;
                                        res->out_truncated = true;
                                }
                                char *grown = lcd_realloc(res->out, res->out_len + keep + 1);
                                if (grown == NULL) {
                                        res->out_truncated = true;
                                        continue;
                                }
                                res->out = grown;
                                memcpy(res->out + res->out_len, buf, keep);
                                res->out_len += keep;
                                res->out[res->out_len] = '\0';
                        } else {
                                res->out_truncated = true;
                        }
                }
                /* reap once the output is drained and the child has ended */
                if (outp[0] < 0 && errp[0] < 0 && (child_done || pidfd < 0)) {
                        pid_t w = waitpid(pid, &wstatus, WNOHANG);
                        if (w == pid)
                                exited = true;
                        else if (w < 0 && errno != EINTR)
                                break;
                }
        }
        if (timed_out) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                waitpid(pid, &wstatus, 0);
        }
        lcd_reaper_release(&claim);
        if (outp[0] >= 0)
                close(outp[0]);
        if (errp[0] >= 0)
                close(errp[0]);
        if (pidfd >= 0)
                close(pidfd);
        lcd_debug("%s pid %d finished in %lld ms", tool, (int)pid, (long long)(lcd_now_ms() - t0));
        if (timed_out)
                return lcd_error_set(err, LCD_E_TIMEOUT, "%s did not finish within %d ms and was killed", tool,
                                     spec->timeout_ms);
        if (!exited)
                return lcd_error_set(err, LCD_E_INTERNAL, "wait for %s: %s", tool, strerror(errno));
        res->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
        return 0;
}

static void spawn_destroy(lcd_runner_t *self)
{
        lcd_free(self);
}

lcd_runner_t *lcd_runner_spawn_new(void)
{
        lcd_runner_t *r = lcd_calloc(1, sizeof *r);
        if (r == NULL)
                return NULL;
        r->run = spawn_run;
        r->destroy = spawn_destroy;
        return r;
}

void lcd_runner_free(lcd_runner_t *r)
{
        if (r != NULL)
                r->destroy(r);
}

void lcd_run_result_clear(lcd_run_result_t *res)
{
        lcd_free(res->out);
        res->out = NULL;
        res->out_len = 0;
}

/* Trim a stderr tail to its last few lines for an error message. */
static const char *last_line(const char *s)
{
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
                n--;
        size_t i = n;
        while (i > 0 && s[i - 1] != '\n')
                i--;
        return s + i;
}

int lcd_run_tool(lcd_runner_t *r, const lcd_run_spec_t *spec, lcd_run_result_t *res, const char *what,
                 lcd_error_t **err)
{
        if (r->run(r, spec, res, err) < 0)
                return lcd_error_wrap(err, "%s", what);
        if (res->status == 0)
                return 0;
        char line[256];
        snprintf(line, sizeof line, "%s", last_line(res->err));
        char *nl = strchr(line, '\n');
        if (nl != NULL)
                *nl = '\0';
        lcd_warn("%s: %s exited %d: %s", what, spec->argv[0], res->status, res->err);
        return lcd_error_tool(err, spec->argv[0], res->err, "%s: %s exited with status %d%s%s", what, spec->argv[0],
                              res->status, line[0] ? ": " : "", line);
}

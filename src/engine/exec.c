/* exec.c - see lcd/exec.h: a process run in a running container.
 *
 * DESIGN: `crun exec` in the foreground rather than conmon's --exec: crun
 * is then the process's parent and exits with its status, so one spawn
 * (no conmon between, no start and attach pipes) gives the descriptors and
 * the end, and an exec costs what a bare `crun exec` costs. crun is the
 * daemon's own child, claimed from the reaper (reaper.h) from its spawn to
 * its reaping here, so its status is never taken by another. The exec's
 * files live in <runtime>/exec/<id>/: process.json, crun's pid file (the
 * process's pid, for signals: checked to be still crun's child) and its
 * log (crun's own errors, JSON: "executable file not found" makes the exit
 * 127, as docker's). A terminal's master comes over the console socket
 * there, within the tool timeout. The count of execs is the engine's
 * (--max-execs): taken when a request is accepted, given back when it
 * fails or when its lcd_exec_t is freed.
 */
#include "engine-internal.h"

#include "spec.h"

#include "lcd/alloc.h"
#include "lcd/exec.h"
#include "lcd/fsutil.h"
#include "lcd/ident.h"
#include "lcd/log.h"
#include "lcd/reaper.h"
#include "lcd/runner.h"
#include "lcd/strv.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define ARG_MAX_BYTES 4096 /* one argument, env entry, workdir */
#define FREE_WAIT_MS 2000  /* lcd_exec_free: for a killed process to end */

struct lcd_exec {
        lcd_engine_t *e;
        char id[LCD_EXEC_ID_LEN + 1];
        char name[LCD_NAME_MAX + 1], tag[LCD_TAG_MAX + 1];
        char dir[PATH_MAX];
        int fd[LCD_EXEC__FDS];
        int master; /* a tty's, kept for resizes; -1 */
        pid_t crun;
        lcd_reaper_claim_t claim;
        bool reaped;
        char why[256]; /* crun's own error, once reaped; "" */
};

struct exec_job {
        lcd_engine_t *e;
        char cid[LCD_ID_LEN + 1];
        char name[LCD_NAME_MAX + 1], tag[LCD_TAG_MAX + 1];
        char **cmd, **env;
        char *workdir;
        lcd_exec_process_t proc;
        bool tty, stdin;
        lcd_exec_ready_fn ready;
        void *ctx;
        int64_t accepted_us; /* wall clock, for the debug log's timings */
};

static void job_free(struct exec_job *j)
{
        lcd_strv_free(j->cmd);
        lcd_strv_free(j->env);
        lcd_free(j->workdir);
        lcd_free(j);
}

/* "UID[:GID]", numbers only (names are the image's to resolve: not yet). */
static int parse_user(const char *s, unsigned *uid, unsigned *gid)
{
        char *end;
        errno = 0;
        unsigned long u = strtoul(s, &end, 10), g = 0;
        if (errno != 0 || end == s || *s < '0' || *s > '9' || u > UINT32_MAX - 1)
                return -1;
        if (*end == ':') {
                const char *gs = end + 1;
                g = strtoul(gs, &end, 10);
                if (errno != 0 || end == gs || *gs < '0' || *gs > '9' || g > UINT32_MAX - 1)
                        return -1;
        }
        if (*end != '\0')
                return -1;
        *uid = (unsigned)u;
        *gid = (unsigned)g;
        return 0;
}

/* The request's rules; its user's ids into *uid, *gid (when it names one). */
static int validate(const lcd_exec_req_t *req, unsigned *uid, unsigned *gid, lcd_error_t **err)
{
        size_t n = req->cmd ? lcd_strv_len(req->cmd) : 0;
        if (n == 0)
                return lcd_error_invalid(err, "command", "give the command to run (command=...)");
        if (n > LCD_EXEC_ARGS_MAX)
                return lcd_error_invalid(err, "command", "at most %d arguments", LCD_EXEC_ARGS_MAX);
        for (size_t i = 0; i < n; i++)
                if (strlen(req->cmd[i]) > ARG_MAX_BYTES)
                        return lcd_error_invalid(err, "command", "argument %zu is over %d bytes", i, ARG_MAX_BYTES);
        if (req->cmd[0][0] == '\0')
                return lcd_error_invalid(err, "command", "the command is empty");
        size_t ne = req->env ? lcd_strv_len(req->env) : 0;
        if (ne > LCD_EXEC_ENV_MAX)
                return lcd_error_invalid(err, "env", "at most %d entries", LCD_EXEC_ENV_MAX);
        for (size_t i = 0; i < ne; i++)
                if (!lcd_env_valid(req->env[i]) || strlen(req->env[i]) > ARG_MAX_BYTES)
                        return lcd_error_invalid(err, "env", "entry %zu is not KEY=VALUE (KEY [A-Za-z_][A-Za-z0-9_]*)",
                                                 i);
        if (req->workdir != NULL &&
            (req->workdir[0] != '/' || strlen(req->workdir) > ARG_MAX_BYTES || strstr(req->workdir, "/../") != NULL))
                return lcd_error_invalid(err, "workdir", "an absolute path without '..'");
        if (req->user != NULL && parse_user(req->user, uid, gid) < 0)
                return lcd_error_invalid(err, "user", "UID[:GID], numbers (names are not resolved yet)");
        return 0;
}

static void publish(lcd_engine_t *e, const char *name, const char *tag, const char *id, lcd_event_type_t type, int code)
{
        lcd_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = type;
        ev.state = ev.previous = -1;
        snprintf(ev.name, sizeof ev.name, "%s", name);
        snprintf(ev.tag, sizeof ev.tag, "%s", tag);
        snprintf(ev.exec_id, sizeof ev.exec_id, "%s", id);
        ev.has_exit_code = type == LCD_EV_EXEC_EXITED;
        ev.exit_code = code;
        lcd_events_publish(e->ev, &ev);
}

/* The console socket crun connects to: a listener at path. fd or -errno. */
static int console_listen(const char *path)
{
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof a.sun_path)
                return -ENAMETOOLONG;
        snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

/* The terminal's master from crun over the listener, within timeout_ms;
 * -ECHILD when crun ends first. fd or -errno. */
static int console_receive(int lfd, int pidfd, int timeout_ms)
{
        int64_t deadline = lcd_now_ms() + timeout_ms;
        struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        for (;;) {
                int64_t left = deadline - lcd_now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                int n = poll(p, 2, (int)left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (p[0].revents & POLLIN)
                        break;
                if (p[1].revents)
                        return -ECHILD;
        }
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return -errno;
        char data[64];
        char ctl[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
        struct pollfd cp = {.fd = c, .events = POLLIN};
        int64_t left = deadline - lcd_now_ms();
        ssize_t r = left > 0 && poll(&cp, 1, (int)left) == 1 ? recvmsg(c, &m, MSG_CMSG_CLOEXEC) : -1;
        int e = errno;
        close(c);
        if (r < 0)
                return left > 0 ? -e : -ETIMEDOUT;
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        if (h == NULL || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
                return -EPROTO;
        int fd;
        memcpy(&fd, CMSG_DATA(h), sizeof fd);
        return fd;
}

/* crun's own error from its log (JSON lines), if it wrote one. */
static bool crun_error(const lcd_exec_t *x, char *msg, size_t len)
{
        char path[PATH_MAX + 16], buf[4096];
        snprintf(path, sizeof path, "%s/log", x->dir);
        ssize_t n = lcd_read_small(path, buf, sizeof buf);
        const char *m = n > 0 ? strstr(buf, "\"msg\":\"") : NULL;
        if (m == NULL)
                return false;
        m += 7;
        snprintf(msg, len, "%.*s", (int)strcspn(m, "\""), m);
        return true;
}

static void close_fds(int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0) {
                        close(fds[i]);
                        fds[i] = -1;
                }
}

/* Spawn crun exec for j into x: x->crun, x->fd[], x->master. 0 or LCD_ERR. */
static int spawn(struct exec_job *j, lcd_exec_t *x, lcd_error_t **err)
{
        char crun_path[PATH_MAX], process[PATH_MAX + 16], pidfile[PATH_MAX + 16], log[PATH_MAX + 24],
                sock[PATH_MAX + 16];
        if (lcd_find_on_path("crun", crun_path, sizeof crun_path) < 0)
                return lcd_error_tool(err, "crun", NULL, "crun not found on PATH");
        snprintf(process, sizeof process, "%s/process.json", x->dir);
        snprintf(pidfile, sizeof pidfile, "%s/pid", x->dir);
        snprintf(log, sizeof log, "file:%s/log", x->dir);
        snprintf(sock, sizeof sock, "%s/console", x->dir);
        int lfd = -1;
        if (j->tty && (lfd = console_listen(sock)) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "console socket %s: %s", sock, strerror(-lfd));
        const char *argv[20];
        size_t n = 0;
        argv[n++] = "crun";
        argv[n++] = "--root";
        argv[n++] = lcd_runtime_crun_root(j->e->rt);
        argv[n++] = "--log";
        argv[n++] = log;
        argv[n++] = "--log-format=json";
        argv[n++] = "exec";
        argv[n++] = "--process";
        argv[n++] = process;
        argv[n++] = "--pid-file";
        argv[n++] = pidfile;
        if (j->tty) {
                argv[n++] = "--tty";
                argv[n++] = "--console-socket";
                argv[n++] = sock;
        }
        argv[n++] = j->cid;
        argv[n] = NULL;
        /* ours: 0 stdin's write end, 1 stdout's read end, 2 stderr's read end; theirs beside */
        int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
        int rc = LCD_ERR;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_t attr;
        if (lcd_spawnattr_clean(&attr) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                close_fds(&lfd, 1);
                return lcd_error_nomem(err);
        }
        bool pipes_ok = j->tty || ((!j->stdin || pipe2(in, O_CLOEXEC) == 0) && pipe2(out, O_CLOEXEC) == 0 &&
                                   pipe2(errp, O_CLOEXEC) == 0);
        if (!pipes_ok) {
                lcd_error_set(err, LCD_E_INTERNAL, "pipe: %s", strerror(errno));
                goto out;
        }
        if (in[0] >= 0)
                posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        else
                posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (out[1] >= 0) {
                posix_spawn_file_actions_adddup2(&fa, out[1], 1);
                posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
        } else { /* a tty: crun's own errors are in its log */
                posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
                posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        }
        posix_spawn_file_actions_addclosefrom_np(&fa, 3); /* none of the daemon's descriptors, CLOEXEC or not */
        extern char **environ;
        lcd_reaper_spawn_begin();
        pid_t pid;
        int s = posix_spawn(&pid, crun_path, &fa, &attr, (char *const *)argv, environ);
        lcd_reaper_spawn_end(&x->claim, s == 0 ? pid : 0);
        if (s != 0) {
                lcd_error_tool(err, "crun", NULL, "spawn crun: %s", strerror(s));
                goto out;
        }
        x->crun = pid;
        x->fd[LCD_EXEC_PIDFD] = (int)syscall(SYS_pidfd_open, pid, 0);
        if (x->fd[LCD_EXEC_PIDFD] < 0) { /* kill and reap it here: nothing could tell its end */
                lcd_error_set(err, LCD_E_INTERNAL, "pidfd_open: %s", strerror(errno));
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                lcd_reaper_release(&x->claim);
                x->reaped = true;
                goto out;
        }
        if (j->tty) {
                int m = console_receive(lfd, x->fd[LCD_EXEC_PIDFD], j->e->cfg.tool_timeout_ms);
                if (m < 0) { /* crun ended first (its error is in the log), or no answer */
                        char why[256] = "";
                        if (!crun_error(x, why, sizeof why))
                                snprintf(why, sizeof why, "%s", m == -ECHILD ? "it ended" : strerror(-m));
                        lcd_error_tool(err, "crun", NULL, "exec: no terminal from crun: %s", why);
                        goto out; /* the caller frees x: kills and reaps crun */
                }
                x->master = m;
                x->fd[LCD_EXEC_STDOUT] = fcntl(m, F_DUPFD_CLOEXEC, 3);
                x->fd[LCD_EXEC_STDIN] = j->stdin ? fcntl(m, F_DUPFD_CLOEXEC, 3) : -1;
                if (x->fd[LCD_EXEC_STDOUT] < 0 || (j->stdin && x->fd[LCD_EXEC_STDIN] < 0)) {
                        lcd_error_set(err, LCD_E_INTERNAL, "dup: %s", strerror(errno));
                        goto out;
                }
        } else {
                x->fd[LCD_EXEC_STDIN] = in[1];
                x->fd[LCD_EXEC_STDOUT] = out[0];
                x->fd[LCD_EXEC_STDERR] = errp[0];
                in[1] = out[0] = errp[0] = -1;
        }
        for (int i = 0; i < LCD_EXEC_PIDFD; i++)
                if (x->fd[i] >= 0)
                        fcntl(x->fd[i], F_SETFL, fcntl(x->fd[i], F_GETFL) | O_NONBLOCK);
        rc = 0;
out:
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        int mine[] = {in[0], in[1], out[0], out[1], errp[0], errp[1], lfd};
        close_fds(mine, sizeof mine / sizeof mine[0]);
        if (j->tty)
                unlink(sock);
        return rc;
}

static void exec_job(void *arg)
{
        struct exec_job *j = arg;
        lcd_engine_t *e = j->e;
        lcd_error_t *err = NULL;
        int64_t begun_us = lcd_wall_us();
        lcd_exec_t *x = lcd_calloc(1, sizeof *x);
        if (x == NULL) {
                atomic_fetch_sub(&e->execs, 1);
                lcd_error_nomem(&err);
                goto out;
        }
        x->e = e;
        x->master = -1;
        for (int i = 0; i < LCD_EXEC__FDS; i++)
                x->fd[i] = -1;
        snprintf(x->name, sizeof x->name, "%s", j->name);
        snprintf(x->tag, sizeof x->tag, "%s", j->tag);
        unsigned char rnd[LCD_EXEC_ID_LEN / 2];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
                lcd_error_set(&err, LCD_E_INTERNAL, "getrandom: %s", strerror(errno));
                goto fail;
        }
        for (size_t i = 0; i < sizeof rnd; i++)
                snprintf(x->id + 2 * i, 3, "%02x", rnd[i]);
        snprintf(x->dir, sizeof x->dir, "%s/%s", lcd_runtime_exec_dir(e->rt), x->id);
        if (mkdir(x->dir, 0700) < 0) {
                lcd_error_set(&err, LCD_E_INTERNAL, "mkdir %s: %s", x->dir, strerror(errno));
                x->dir[0] = '\0';
                goto fail;
        }
        char config[PATH_MAX], process[PATH_MAX + 16];
        lcd_runtime_bundle_file(e->rt, j->cid, "config.json", config, sizeof config);
        snprintf(process, sizeof process, "%s/process.json", x->dir);
        if (lcd_spec_write_exec(process, config, &j->proc, &err) < 0)
                goto fail;
        int64_t spec_us = lcd_wall_us();
        if (spawn(j, x, &err) < 0)
                goto fail;
        publish(e, x->name, x->tag, x->id, LCD_EV_EXEC_STARTED, 0);
        lcd_debug("exec %s in %s:%s: crun pid %d (queued %lld us, spec %lld us, spawn %lld us)", x->id, x->name, x->tag,
                  (int)x->crun, (long long)(begun_us - j->accepted_us), (long long)(spec_us - begun_us),
                  (long long)(lcd_wall_us() - spec_us));
        j->ready(j->ctx, x, NULL);
        job_free(j);
        return;
fail:
        lcd_exec_free(x); /* gives the count back */
        x = NULL;
out:
        j->ready(j->ctx, NULL, err);
        job_free(j);
}

int lcd_engine_exec(lcd_engine_t *e, const lcd_exec_req_t *req, lcd_exec_ready_fn ready, void *ctx, lcd_error_t **err)
{
        unsigned uid = 0, gid = 0;
        if (validate(req, &uid, &gid, err) < 0)
                return LCD_ERR;
        lcd_mapitem_t *it = lcd_statemap_get(e->map, req->name, req->tag);
        if (it == NULL)
                return lcd_error_set(err, LCD_E_NOT_FOUND, "no container %s:%s", req->name, req->tag);
        lcd_container_t *c = lcd_container_from_item(it);
        lcd_cstate_t st = lcd_container_state(c);
        if (st != LCD_CS_RUNNING) {
                lcd_mapitem_unref(it);
                return lcd_error_set(err, LCD_E_CONFLICT, "container %s:%s is %s, not running", req->name, req->tag,
                                     lcd_cstate_name(st));
        }
        unsigned max = e->cfg.max_execs ? e->cfg.max_execs : LCD_EXECS_DEFAULT;
        if (atomic_fetch_add(&e->execs, 1) >= max) {
                atomic_fetch_sub(&e->execs, 1);
                lcd_mapitem_unref(it);
                return lcd_error_set(err, LCD_E_BUSY, "%u execs run already (--max-execs)", max);
        }
        struct exec_job *j = lcd_calloc(1, sizeof *j);
        int rc = LCD_ERR;
        if (j == NULL || lcd_strv_dup(req->cmd, &j->cmd) < 0 || (req->env && lcd_strv_dup(req->env, &j->env) < 0) ||
            (req->workdir && (j->workdir = lcd_strdup(req->workdir)) == NULL)) {
                lcd_error_nomem(err);
                goto out;
        }
        j->e = e;
        snprintf(j->cid, sizeof j->cid, "%s", c->id);
        snprintf(j->name, sizeof j->name, "%s", req->name);
        snprintf(j->tag, sizeof j->tag, "%s", req->tag);
        j->tty = req->tty;
        j->stdin = req->stdin;
        j->ready = ready;
        j->ctx = ctx;
        j->accepted_us = lcd_wall_us();
        j->proc = (lcd_exec_process_t){.args = (const char *const *)j->cmd,
                                       .env = (const char *const *)j->env,
                                       .cwd = j->workdir,
                                       .has_user = req->user != NULL,
                                       .uid = uid,
                                       .gid = gid,
                                       .tty = req->tty};
        if (atomic_load(&e->shutting_down) || lcd_pool_submit(e->pool, exec_job, j) < 0) {
                lcd_error_set(err, LCD_E_BUSY, "the daemon is busy or shutting down; try again later");
                goto out;
        }
        j = NULL;
        rc = 0;
out:
        if (j != NULL)
                job_free(j);
        if (rc < 0)
                atomic_fetch_sub(&e->execs, 1);
        lcd_mapitem_unref(it);
        return rc;
}

const char *lcd_exec_id(const lcd_exec_t *x)
{
        return x->id;
}

int lcd_exec_take_fd(lcd_exec_t *x, int which)
{
        if (which < 0 || which >= LCD_EXEC__FDS)
                return -1;
        int fd = x->fd[which];
        x->fd[which] = -1;
        return fd;
}

int lcd_exec_resize(lcd_exec_t *x, unsigned width, unsigned height)
{
        if (x->master < 0)
                return -ENOTTY;
        struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
        return ioctl(x->master, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

/* The process's pid from crun's pid file, if it is still crun's child. */
static pid_t process_pid(const lcd_exec_t *x)
{
        char path[PATH_MAX + 16], buf[512];
        snprintf(path, sizeof path, "%s/pid", x->dir);
        if (lcd_read_small(path, buf, sizeof buf) <= 0)
                return -1;
        long pid = strtol(buf, NULL, 10);
        if (pid <= 1 || pid >= INT_MAX)
                return -1;
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        ssize_t n = lcd_read_small(path, buf, sizeof buf);
        const char *rp = n > 0 ? strrchr(buf, ')') : NULL; /* "pid (comm) S ppid ..." */
        char state;
        long ppid;
        if (rp == NULL || sscanf(rp + 1, " %c %ld", &state, &ppid) != 2 || ppid != x->crun)
                return -1;
        return (pid_t)pid;
}

int lcd_exec_signal(lcd_exec_t *x, int sig)
{
        if (x->reaped)
                return -ECHILD;
        pid_t pid = process_pid(x);
        if (pid <= 0)
                return -EAGAIN; /* crun has not written the pid yet */
        return kill(pid, sig) < 0 ? -errno : 0;
}

int lcd_exec_reap(lcd_exec_t *x, int *code)
{
        if (x->reaped)
                return 1;
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)x->crun, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                return 0;
        lcd_reaper_release(&x->claim);
        x->reaped = true;
        int c = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        const char *msg = x->why;
        if (c == 255 && crun_error(x, x->why, sizeof x->why)) /* crun's, not the process's */
                c = strstr(msg, "not found") != NULL                                           ? 127
                    : strstr(msg, "ermission denied") != NULL || strstr(msg, "format") != NULL ? 126
                                                                                               : 125;
        *code = c;
        publish(x->e, x->name, x->tag, x->id, LCD_EV_EXEC_EXITED, c);
        lcd_debug("exec %s in %s:%s exited: %d", x->id, x->name, x->tag, c);
        return 1;
}

const char *lcd_exec_why(const lcd_exec_t *x)
{
        return x->why;
}

void lcd_exec_free(lcd_exec_t *x)
{
        if (x == NULL)
                return;
        if (x->crun > 0 && !x->reaped) {
                lcd_exec_signal(x, SIGKILL);
                struct pollfd p = {.fd = x->fd[LCD_EXEC_PIDFD], .events = POLLIN};
                if (p.fd < 0 || poll(&p, 1, FREE_WAIT_MS) != 1)
                        kill(x->crun, SIGKILL); /* the process lives on, orphaned, until the container stops */
                int code;
                for (int i = 0; i < FREE_WAIT_MS && lcd_exec_reap(x, &code) == 0; i++)
                        usleep(1000); /* SIGKILLed: a moment */
        }
        close_fds(x->fd, LCD_EXEC__FDS);
        if (x->master >= 0)
                close(x->master);
        if (x->dir[0] != '\0')
                lcd_rmtree(x->dir);
        atomic_fetch_sub(&x->e->execs, 1);
        lcd_free(x);
}

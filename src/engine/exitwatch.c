/* exitwatch.c - the exit watcher: one thread that waits on inotify for
 * conmon's exit files and records each exit in the state map, and watches
 * each conmon itself.
 *
 * DESIGN: conmon writes <runtime>/exits/<id> when a container's process
 * ends. The watcher wakes on IN_CLOSE_WRITE / IN_MOVED_TO, reads the code
 * and hands it to lcd_exitwatch_record(), which finds the container with
 * the lookup callback given at start (engine.c passes its state map's),
 * moves it to `exited` (publishing the event) and resumes the job parked
 * on it (park.h) -- pushed, never polled. Its state is an
 * lcd_exitwatch_t (exitwatch.h) the engine embeds; what it needs (the
 * runtime, the event ring, the parked jobs, the lookup) is passed in at
 * start, so it calls no function of engine.c. After an inotify
 * queue overflow it rescans the directory once. A pipe stops the thread.
 * Each conmon is also watched through a pidfd in the same epoll set: a
 * conmon that exits without an exit file died (killed, crashed), leaving
 * its container unmonitored, so the watcher kills the container (through a
 * pidfd: the pid cannot have been reused), reaps it (it was handed to the
 * daemon, a child subreaper) and records it as exited without a code.
 * The same loop keeps the parked jobs' deadlines (its epoll timeout; the
 * parks' wake fd makes it recompute it) and reaps every other orphan the
 * daemon inherits (reaper.h). Lock order: conmons_mu is taken alone.
 * Memory order: busy is seq_cst (read by lcd_exitwatch_pending only).
 */
#include "exitwatch.h"

#include "lcd/alloc.h"
#include "lcd/log.h"
#include "lcd/reaper.h"
#include "lcd/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The states in which a container has a conmon (and its network a pasta). */
#define LIVE_STATES (LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_LIVE)

/* One watched conmon or pasta: owned by w->conmons until its pidfd fires. */
typedef struct lcd_conmon_watch {
        struct lcd_conmon_watch *next;
        int pidfd;
        pid_t pid;
        bool pasta; /* the container's pasta, not its conmon */
        char id[LCD_ID_LEN + 1];
} lcd_conmon_watch_t;

static int pidfd_open_(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

struct exit_info {
        int code;
        bool has_code;
        lcd_runtime_t *rt;
};

/* Under c->mu, before `exited` is visible: the network goes first, so a
 * start that follows the exit finds its ports free. */
static void set_exit(lcd_container_t *c, void *arg)
{
        struct exit_info *x = arg;
        c->has_exit_code = x->has_code;
        c->exit_code = x->code;
        c->finished_at = lcd_wall_ms();
        if (c->net_mode == LCD_NET_PRIVATE || c->net_mode == LCD_NET_NONE)
                lcd_runtime_net_down(x->rt, c->id);
        c->ip_address[0] = '\0';
}

void lcd_exitwatch_record(lcd_exitwatch_t *w, const char *id)
{
        lcd_container_t *c = w->lookup(w->lookup_ctx, id);
        if (c == NULL)
                return; /* removed already (its exit file goes with it) */
        struct exit_info x = {0, false, w->rt};
        x.has_code = lcd_runtime_exit_code(w->rt, id, &x.code) == 0;
        if (!x.has_code) {
                /* a stale notice (the file went with a re-create): nothing to record */
                lcd_debug("no exit file for %s:%s", c->item.name, c->item.tag);
                lcd_container_unref(c);
                return;
        }
        pthread_mutex_lock(&c->mu);
        if (c->starting) {
                /* the start job records RUNNING first, then this exit */
                c->exit_pending = true; /* the code is read again from its file then */
                pthread_mutex_unlock(&c->mu);
                lcd_container_unref(c);
                return;
        }
        pthread_mutex_unlock(&c->mu);
        const unsigned live = LIVE_STATES;
        if (lcd_container_transition(c, w->ev, live, LCD_CS_EXITED, set_exit, &x, NULL) == 0) {
                lcd_info("container %s:%s exited with %d", c->item.name, c->item.tag, x.has_code ? x.code : -1);
                lcd_park_exited(w->parks, c);
        }
        lcd_container_unref(c);
}

/* A watched conmon exited. With an exit file it is the ordinary end
 * (lcd_exitwatch_record is idempotent); without one it died. */
static void conmon_gone(lcd_exitwatch_t *w, const lcd_conmon_watch_t *cw)
{
        siginfo_t si;
        waitid(P_PIDFD, (id_t)cw->pidfd, &si, WEXITED | WNOHANG); /* ours when orphaned; ECHILD otherwise */
        lcd_container_t *c = w->lookup(w->lookup_ctx, cw->id);
        if (c == NULL)
                return; /* removed: its conmon went with it */
        int code;
        const unsigned live = LIVE_STATES;
        if (lcd_runtime_conmon_pid(w->rt, cw->id) != cw->pid) {
                lcd_container_unref(c); /* an earlier conmon of a container started again */
                return;
        }
        if (lcd_runtime_exit_code(w->rt, cw->id, &code) == 0) {
                lcd_exitwatch_record(w, cw->id); /* the ordinary end (idempotent) */
                lcd_container_unref(c);
                return;
        }
        /* died: its container (if still live: its pid is current) is now the daemon's child */
        pthread_mutex_lock(&c->mu);
        pid_t pid = (LCD_CS_BIT(lcd_container_state(c)) & live) ? c->pid : -1;
        pthread_mutex_unlock(&c->mu);
        if (pid <= 0) {
                lcd_container_unref(c);
                return;
        }
        lcd_warn("conmon of container %s:%s died; killing the container, which nothing monitors now", c->item.name,
                 c->item.tag);
        int pfd = pidfd_open_(pid);
        if (pfd >= 0) {
                syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
                struct pollfd p = {.fd = pfd, .events = POLLIN};
                poll(&p, 1, 5000);
                waitid(P_PIDFD, (id_t)pfd, &si, WEXITED | WNOHANG);
                close(pfd);
        }
        struct exit_info x = {0, false, w->rt};
        if (lcd_container_transition(c, w->ev, live, LCD_CS_EXITED, set_exit, &x, NULL) == 0)
                lcd_park_exited(w->parks, c);
        lcd_container_unref(c);
}

/* A watched pasta ended. Its own network's teardown removes the pid file
 * before it kills pasta, so a pasta that is still the container's
 * (same pid in the file) while the container is live died on its own. */
static void pasta_gone(lcd_exitwatch_t *w, const lcd_conmon_watch_t *cw)
{
        lcd_container_t *c = w->lookup(w->lookup_ctx, cw->id);
        if (c == NULL)
                return;
        const unsigned live = LIVE_STATES;
        pthread_mutex_lock(&c->mu);
        bool lost = (LCD_CS_BIT(lcd_container_state(c)) & live) && lcd_runtime_net_pid(w->rt, cw->id) == cw->pid;
        if (lost) {
                c->net_lost = true;
                c->ip_address[0] = '\0';
        }
        pthread_mutex_unlock(&c->mu);
        if (lost) {
                lcd_warn("pasta of container %s:%s exited: it has no outbound network (its published ports still "
                         "answer)",
                         c->item.name, c->item.tag);
                lcd_container_publish(c, w->ev, LCD_EV_NETWORK,
                                      "pasta exited: the container has no outbound network and no DNS; its published "
                                      "ports still answer (a start after a stop makes a new network)");
        }
        lcd_container_unref(c);
}

static void watch_pid(lcd_exitwatch_t *w, lcd_container_t *c, pid_t pid, bool pasta)
{
        const char *what = pasta ? "pasta" : "conmon";
        if (pid <= 0) {
                lcd_debug("no %s pid for %s:%s", what, c->item.name, c->item.tag);
                return;
        }
        lcd_conmon_watch_t *cw = lcd_calloc(1, sizeof *cw);
        if (cw == NULL || w->epoll_fd < 0 || (cw->pidfd = pidfd_open_(pid)) < 0) {
                lcd_warn("cannot watch the %s of %s:%s: its death would go unnoticed", what, c->item.name, c->item.tag);
                lcd_free(cw);
                return;
        }
        cw->pid = pid;
        cw->pasta = pasta;
        snprintf(cw->id, sizeof cw->id, "%s", c->id);
        pthread_mutex_lock(&w->conmons_mu);
        cw->next = w->conmons;
        w->conmons = cw;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cw};
        if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, cw->pidfd, &ev) < 0) {
                w->conmons = cw->next;
                close(cw->pidfd);
                lcd_free(cw);
        }
        pthread_mutex_unlock(&w->conmons_mu);
}

void lcd_exitwatch_conmon(lcd_exitwatch_t *w, lcd_container_t *c)
{
        watch_pid(w, c, lcd_runtime_conmon_pid(w->rt, c->id), false);
        if (c->net_mode == LCD_NET_PRIVATE)
                watch_pid(w, c, lcd_runtime_net_pid(w->rt, c->id), true);
}

/* Take cw out of the list (the watcher thread, when its pidfd fired). */
static void conmon_unlist(lcd_exitwatch_t *w, lcd_conmon_watch_t *cw)
{
        pthread_mutex_lock(&w->conmons_mu);
        for (lcd_conmon_watch_t **pp = &w->conmons; *pp != NULL; pp = &(*pp)->next)
                if (*pp == cw) {
                        *pp = cw->next;
                        break;
                }
        epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, cw->pidfd, NULL);
        pthread_mutex_unlock(&w->conmons_mu);
}

static void scan_all(lcd_exitwatch_t *w)
{
        DIR *d = opendir(lcd_runtime_exit_dir(w->rt));
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
                if (de->d_name[0] != '.')
                        lcd_exitwatch_record(w, de->d_name);
        if (d != NULL)
                closedir(d);
}

static void read_exit_files(lcd_exitwatch_t *w)
{
        char buf[16 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t len = read(w->watch_fd, buf, sizeof buf);
        for (char *ptr = buf; len > 0 && ptr < buf + len;) {
                struct inotify_event *ie = (struct inotify_event *)ptr;
                if (ie->mask & IN_Q_OVERFLOW)
                        scan_all(w);
                else if (ie->len > 0 && ie->name[0] != '.')
                        lcd_exitwatch_record(w, ie->name);
                ptr += sizeof *ie + ie->len;
        }
}

static char reaper_tag; /* the epoll tag of the reaper's pipe (reaper.h) */
static char park_tag;   /* ... of the parked jobs' wake fd (park.h) */

static void *watch_main(void *arg)
{
        lcd_exitwatch_t *w = arg;
        bool reap_again = false;
        int park_ms = -1; /* until the next parked job's deadline */
        for (;;) {
                struct epoll_event evs[16];
                int timeout =
                        reap_again && (park_ms < 0 || park_ms > LCD_REAPER_RETRY_MS) ? LCD_REAPER_RETRY_MS : park_ms;
                atomic_store(&w->busy, false);
                int n = epoll_wait(w->epoll_fd, evs, 16, timeout);
                atomic_store(&w->busy, true); /* before the notices are read (see lcd_exitwatch_pending) */
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                bool stop = false, reap = reap_again && n == 0;
                /* exit files first: a conmon that wrote one and exited is an ordinary exit */
                for (int i = 0; i < n; i++)
                        if (evs[i].data.ptr == &w->watch_fd)
                                read_exit_files(w);
                        else if (evs[i].data.ptr == &w->stop_pipe)
                                stop = true;
                        else if (evs[i].data.ptr == &reaper_tag)
                                reap = true;
                        else if (evs[i].data.ptr == &park_tag)
                                lcd_park_drain(w->parks); /* a job parked: the timeout below is recomputed */
                for (int i = 0; i < n && !stop; i++) {
                        lcd_conmon_watch_t *cw = evs[i].data.ptr;
                        if (cw == (void *)&w->watch_fd || cw == (void *)&w->stop_pipe || cw == (void *)&reaper_tag ||
                            cw == (void *)&park_tag)
                                continue;
                        conmon_unlist(w, cw);
                        if (cw->pasta)
                                pasta_gone(w, cw);
                        else
                                conmon_gone(w, cw);
                        close(cw->pidfd);
                        lcd_free(cw);
                }
                if (stop)
                        break;
                park_ms = lcd_park_expire(w->parks); /* each wake-up: cheap, one pass over the parked */
                /* after the conmon watches: they read their conmon's status first */
                if (reap) {
                        int k = lcd_reaper_reap(&reap_again);
                        if (k > 0)
                                lcd_debug("reaped %d orphaned process%s", k, k == 1 ? "" : "es");
                }
        }
        atomic_store(&w->busy, false);
        return NULL;
}

void lcd_exitwatch_init(lcd_exitwatch_t *w)
{
        memset(w, 0, sizeof *w);
        w->watch_fd = w->stop_pipe[0] = w->stop_pipe[1] = w->epoll_fd = -1;
        pthread_mutex_init(&w->conmons_mu, NULL);
}

int lcd_exitwatch_start(lcd_exitwatch_t *w, const lcd_exitwatch_opts_t *opts, lcd_error_t **err)
{
        w->rt = opts->rt;
        w->ev = opts->ev;
        w->parks = opts->parks;
        w->lookup = opts->lookup;
        w->lookup_ctx = opts->lookup_ctx;
        w->watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (w->watch_fd < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "inotify: %s", strerror(errno));
        if (inotify_add_watch(w->watch_fd, lcd_runtime_exit_dir(w->rt), IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "watch %s: %s", lcd_runtime_exit_dir(w->rt), strerror(errno));
        if (pipe2(w->stop_pipe, O_CLOEXEC) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "pipe: %s", strerror(errno));
        w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event wf = {.events = EPOLLIN, .data.ptr = &w->watch_fd};
        struct epoll_event s = {.events = EPOLLIN, .data.ptr = &w->stop_pipe};
        if (w->epoll_fd < 0 || epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->watch_fd, &wf) < 0 ||
            epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->stop_pipe[0], &s) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "epoll: %s", strerror(errno));
        struct epoll_event pp = {.events = EPOLLIN, .data.ptr = &park_tag};
        if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, lcd_park_wake_fd(w->parks), &pp) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "park pipe: %s", strerror(errno));
        struct epoll_event rp = {.events = EPOLLIN, .data.ptr = &reaper_tag};
        if (lcd_reaper_fd() >= 0 && epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, lcd_reaper_fd(), &rp) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "epoll: %s", strerror(errno));
        if (pthread_create(&w->thread, NULL, watch_main, w) != 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "cannot start the exit watcher thread");
        w->started = true;
        return 0;
}

bool lcd_exitwatch_pending(lcd_exitwatch_t *w)
{
        /* a notice not read yet keeps the inotify descriptor readable; one read is being recorded while busy */
        struct pollfd pfd = {.fd = w->watch_fd, .events = POLLIN};
        return atomic_load(&w->busy) || (w->watch_fd >= 0 && poll(&pfd, 1, 0) > 0);
}

void lcd_exitwatch_stop(lcd_exitwatch_t *w)
{
        if (w->started) {
                close(w->stop_pipe[1]);
                w->stop_pipe[1] = -1;
                pthread_join(w->thread, NULL);
                w->started = false;
        }
        for (int i = 0; i < 2; i++)
                if (w->stop_pipe[i] >= 0) {
                        close(w->stop_pipe[i]);
                        w->stop_pipe[i] = -1;
                }
        if (w->watch_fd >= 0) {
                close(w->watch_fd);
                w->watch_fd = -1;
        }
        pthread_mutex_lock(&w->conmons_mu);
        while (w->conmons != NULL) {
                lcd_conmon_watch_t *cw = w->conmons;
                w->conmons = cw->next;
                close(cw->pidfd);
                lcd_free(cw);
        }
        pthread_mutex_unlock(&w->conmons_mu);
        if (w->epoll_fd >= 0) {
                close(w->epoll_fd);
                w->epoll_fd = -1;
        }
}

void lcd_exitwatch_destroy(lcd_exitwatch_t *w)
{
        lcd_exitwatch_stop(w);
        pthread_mutex_destroy(&w->conmons_mu);
}

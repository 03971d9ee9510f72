/* exitwatch.c - the exit watcher: one thread that waits on inotify for
 * conmon's exit files and records each exit in the state map, and watches
 * each conmon itself.
 *
 * DESIGN: conmon writes <runtime>/exits/<id> when a container's process
 * ends. The watcher wakes on IN_CLOSE_WRITE / IN_MOVED_TO, reads the code
 * and hands it to lcd_exitwatch_record(), which finds the container with
 * the lookup callback given at start (engine.c passes its state map's) and
 * moves it to `exited` (publishing the event) -- pushed, never polled. The
 * watcher calls no function of engine.c. After an inotify
 * queue overflow it rescans the directory once. A pipe stops the thread.
 * Each conmon is also watched through a pidfd in the same epoll set: a
 * conmon that exits without an exit file died (killed, crashed), leaving
 * its container unmonitored, so the watcher kills the container (through a
 * pidfd: the pid cannot have been reused), reaps it (it was handed to the
 * daemon, a child subreaper) and records it as exited without a code.
 * The same loop reaps every other orphan the daemon inherits (reaper.h).
 */
#include "engine-internal.h"

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

/* One watched conmon: owned by e->conmons until its pidfd fires. */
typedef struct lcd_conmon_watch {
        struct lcd_conmon_watch *next;
        int pidfd;
        pid_t pid;
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
        if (c->net_mode == LCD_NET_PRIVATE)
                lcd_runtime_net_down(x->rt, c->id);
        c->ip_address[0] = '\0';
}

void lcd_exitwatch_record(lcd_engine_t *e, const char *id)
{
        lcd_container_t *c = e->lookup(e->lookup_ctx, id);
        if (c == NULL)
                return; /* removed already (its exit file goes with it) */
        struct exit_info x = {0, false, e->rt};
        x.has_code = lcd_runtime_exit_code(e->rt, id, &x.code) == 0;
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
        unsigned live = LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_BIT(LCD_CS_RUNNING) | LCD_CS_BIT(LCD_CS_PAUSED) |
                        LCD_CS_BIT(LCD_CS_STOPPING);
        if (lcd_container_transition(c, e->ev, live, LCD_CS_EXITED, set_exit, &x, NULL) == 0) {
                lcd_info("container %s:%s exited with %d", c->item.name, c->item.tag, x.has_code ? x.code : -1);
                lcd_park_exited(e, c);
        }
        lcd_container_unref(c);
}

/* A watched conmon exited. With an exit file it is the ordinary end
 * (lcd_exitwatch_record is idempotent); without one it died. */
static void conmon_gone(lcd_engine_t *e, const lcd_conmon_watch_t *w)
{
        siginfo_t si;
        waitid(P_PIDFD, (id_t)w->pidfd, &si, WEXITED | WNOHANG); /* ours when orphaned; ECHILD otherwise */
        lcd_container_t *c = e->lookup(e->lookup_ctx, w->id);
        if (c == NULL)
                return; /* removed: its conmon went with it */
        int code;
        unsigned live = LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_BIT(LCD_CS_RUNNING) | LCD_CS_BIT(LCD_CS_PAUSED) |
                        LCD_CS_BIT(LCD_CS_STOPPING);
        if (lcd_runtime_conmon_pid(e->rt, w->id) != w->pid) {
                lcd_container_unref(c); /* an earlier conmon of a container started again */
                return;
        }
        if (lcd_runtime_exit_code(e->rt, w->id, &code) == 0) {
                lcd_exitwatch_record(e, w->id); /* the ordinary end (idempotent) */
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
        struct exit_info x = {0, false, e->rt};
        if (lcd_container_transition(c, e->ev, live, LCD_CS_EXITED, set_exit, &x, NULL) == 0)
                lcd_park_exited(e, c);
        lcd_container_unref(c);
}

void lcd_exitwatch_conmon(lcd_engine_t *e, lcd_container_t *c)
{
        pid_t pid = lcd_runtime_conmon_pid(e->rt, c->id);
        if (pid <= 0) {
                lcd_debug("no conmon pid for %s:%s", c->item.name, c->item.tag);
                return;
        }
        lcd_conmon_watch_t *w = lcd_calloc(1, sizeof *w);
        if (w == NULL || e->epoll_fd < 0 || (w->pidfd = pidfd_open_(pid)) < 0) {
                lcd_warn("cannot watch the conmon of %s:%s: its death would go unnoticed", c->item.name, c->item.tag);
                lcd_free(w);
                return;
        }
        w->pid = pid;
        snprintf(w->id, sizeof w->id, "%s", c->id);
        pthread_mutex_lock(&e->conmons_mu);
        w->next = e->conmons;
        e->conmons = w;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
        if (epoll_ctl(e->epoll_fd, EPOLL_CTL_ADD, w->pidfd, &ev) < 0) {
                e->conmons = w->next;
                close(w->pidfd);
                lcd_free(w);
        }
        pthread_mutex_unlock(&e->conmons_mu);
}

/* Take w out of the list (the watcher thread, when its pidfd fired). */
static void conmon_unlist(lcd_engine_t *e, lcd_conmon_watch_t *w)
{
        pthread_mutex_lock(&e->conmons_mu);
        for (lcd_conmon_watch_t **pp = &e->conmons; *pp != NULL; pp = &(*pp)->next)
                if (*pp == w) {
                        *pp = w->next;
                        break;
                }
        epoll_ctl(e->epoll_fd, EPOLL_CTL_DEL, w->pidfd, NULL);
        pthread_mutex_unlock(&e->conmons_mu);
}

static void scan_all(lcd_engine_t *e)
{
        DIR *d = opendir(lcd_runtime_exit_dir(e->rt));
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
                if (de->d_name[0] != '.')
                        lcd_exitwatch_record(e, de->d_name);
        if (d != NULL)
                closedir(d);
}

static void read_exit_files(lcd_engine_t *e)
{
        char buf[16 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t len = read(e->watch_fd, buf, sizeof buf);
        for (char *ptr = buf; len > 0 && ptr < buf + len;) {
                struct inotify_event *ie = (struct inotify_event *)ptr;
                if (ie->mask & IN_Q_OVERFLOW)
                        scan_all(e);
                else if (ie->len > 0 && ie->name[0] != '.')
                        lcd_exitwatch_record(e, ie->name);
                ptr += sizeof *ie + ie->len;
        }
}

static char reaper_tag; /* the epoll tag of the reaper's pipe (reaper.h) */

static void *watch_main(void *arg)
{
        lcd_engine_t *e = arg;
        bool reap_again = false;
        int park_ms = -1; /* until the next parked job's deadline */
        for (;;) {
                struct epoll_event evs[16];
                int timeout =
                        reap_again && (park_ms < 0 || park_ms > LCD_REAPER_RETRY_MS) ? LCD_REAPER_RETRY_MS : park_ms;
                atomic_store(&e->watcher_busy, false);
                int n = epoll_wait(e->epoll_fd, evs, 16, timeout);
                atomic_store(&e->watcher_busy, true); /* before the notices are read (see lcd_engine_counters) */
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                bool stop = false, reap = reap_again && n == 0;
                /* exit files first: a conmon that wrote one and exited is an ordinary exit */
                for (int i = 0; i < n; i++)
                        if (evs[i].data.ptr == &e->watch_fd)
                                read_exit_files(e);
                        else if (evs[i].data.ptr == &e->stop_pipe)
                                stop = true;
                        else if (evs[i].data.ptr == &reaper_tag)
                                reap = true;
                        else if (evs[i].data.ptr == &e->park_pipe) {
                                char buf[64];
                                while (read(e->park_pipe[0], buf, sizeof buf) > 0)
                                        ;
                        }
                for (int i = 0; i < n && !stop; i++) {
                        lcd_conmon_watch_t *w = evs[i].data.ptr;
                        if (w == (void *)&e->watch_fd || w == (void *)&e->stop_pipe || w == (void *)&reaper_tag ||
                            w == (void *)&e->park_pipe)
                                continue;
                        conmon_unlist(e, w);
                        conmon_gone(e, w);
                        close(w->pidfd);
                        lcd_free(w);
                }
                if (stop)
                        break;
                park_ms = lcd_park_expire(e); /* each wake-up: cheap, one pass over the parked */
                /* after the conmon watches: they read their conmon's status first */
                if (reap) {
                        int k = lcd_reaper_reap(&reap_again);
                        if (k > 0)
                                lcd_debug("reaped %d orphaned process%s", k, k == 1 ? "" : "es");
                }
        }
        atomic_store(&e->watcher_busy, false);
        return NULL;
}

int lcd_exitwatch_start(lcd_engine_t *e, lcd_exitwatch_lookup_fn lookup, void *ctx, lcd_error_t **err)
{
        e->lookup = lookup;
        e->lookup_ctx = ctx;
        e->watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (e->watch_fd < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "inotify: %s", strerror(errno));
        if (inotify_add_watch(e->watch_fd, lcd_runtime_exit_dir(e->rt), IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "watch %s: %s", lcd_runtime_exit_dir(e->rt), strerror(errno));
        if (pipe2(e->stop_pipe, O_CLOEXEC) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "pipe: %s", strerror(errno));
        e->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event w = {.events = EPOLLIN, .data.ptr = &e->watch_fd};
        struct epoll_event s = {.events = EPOLLIN, .data.ptr = &e->stop_pipe};
        if (e->epoll_fd < 0 || epoll_ctl(e->epoll_fd, EPOLL_CTL_ADD, e->watch_fd, &w) < 0 ||
            epoll_ctl(e->epoll_fd, EPOLL_CTL_ADD, e->stop_pipe[0], &s) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "epoll: %s", strerror(errno));
        struct epoll_event pp = {.events = EPOLLIN, .data.ptr = &e->park_pipe};
        if (pipe2(e->park_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
            epoll_ctl(e->epoll_fd, EPOLL_CTL_ADD, e->park_pipe[0], &pp) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "park pipe: %s", strerror(errno));
        struct epoll_event rp = {.events = EPOLLIN, .data.ptr = &reaper_tag};
        if (lcd_reaper_fd() >= 0 && epoll_ctl(e->epoll_fd, EPOLL_CTL_ADD, lcd_reaper_fd(), &rp) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "epoll: %s", strerror(errno));
        if (pthread_create(&e->watcher, NULL, watch_main, e) != 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "cannot start the exit watcher thread");
        e->watcher_started = true;
        return 0;
}

void lcd_exitwatch_stop(lcd_engine_t *e)
{
        if (e->watcher_started) {
                close(e->stop_pipe[1]);
                e->stop_pipe[1] = -1;
                pthread_join(e->watcher, NULL);
                e->watcher_started = false;
        }
        for (int i = 0; i < 2; i++) {
                if (e->stop_pipe[i] >= 0) {
                        close(e->stop_pipe[i]);
                        e->stop_pipe[i] = -1;
                }
                if (e->park_pipe[i] >= 0) {
                        close(e->park_pipe[i]);
                        e->park_pipe[i] = -1;
                }
        }
        if (e->watch_fd >= 0) {
                close(e->watch_fd);
                e->watch_fd = -1;
        }
        pthread_mutex_lock(&e->conmons_mu);
        while (e->conmons != NULL) {
                lcd_conmon_watch_t *w = e->conmons;
                e->conmons = w->next;
                close(w->pidfd);
                lcd_free(w);
        }
        pthread_mutex_unlock(&e->conmons_mu);
        if (e->epoll_fd >= 0) {
                close(e->epoll_fd);
                e->epoll_fd = -1;
        }
}

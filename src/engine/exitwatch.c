/* exitwatch.c - the exit watcher: one thread that waits on inotify for
 * conmon's exit files and records each exit in the state map.
 *
 * DESIGN: conmon writes <runtime>/exits/<id> when a container's process
 * ends. The watcher wakes on IN_CLOSE_WRITE / IN_MOVED_TO, reads the code
 * and hands it to lcd_engine_on_exit(), which moves the container to
 * `exited` (publishing the event) -- pushed, never polled. After an inotify
 * queue overflow it rescans the directory once. A pipe stops the thread.
 */
#include "engine-internal.h"

#include "lcd/alloc.h"
#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

struct exit_info {
        int code;
        bool has_code;
};

static void set_exit(lcd_container_t *c, void *arg)
{
        struct exit_info *x = arg;
        c->has_exit_code = x->has_code;
        c->exit_code = x->code;
        c->finished_at = lcd_wall_ms();
}

void lcd_engine_on_exit(lcd_engine_t *e, const char *id)
{
        lcd_container_t *c = lcd_engine_find_id(e, id);
        if (c == NULL)
                return; /* removed already (its exit file goes with it) */
        struct exit_info x = {0, false};
        x.has_code = lcd_runtime_exit_code(e->rt, id, &x.code) == 0;
        pthread_mutex_lock(&c->mu);
        if (c->starting) {
                /* the start job records RUNNING first, then this exit */
                c->exit_pending = true;
                c->pending_code = x.has_code ? x.code : -1;
                pthread_mutex_unlock(&c->mu);
                lcd_container_unref(c);
                return;
        }
        pthread_mutex_unlock(&c->mu);
        unsigned live = LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_BIT(LCD_CS_RUNNING) | LCD_CS_BIT(LCD_CS_PAUSED) |
                        LCD_CS_BIT(LCD_CS_STOPPING);
        if (lcd_container_transition(c, e->ev, live, LCD_CS_EXITED, set_exit, &x, NULL) == 0)
                lcd_info("container %s:%s exited with %d", c->item.name, c->item.tag, x.has_code ? x.code : -1);
        lcd_container_unref(c);
}

static void scan_all(lcd_engine_t *e)
{
        DIR *d = opendir(lcd_runtime_exit_dir(e->rt));
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
                if (de->d_name[0] != '.')
                        lcd_engine_on_exit(e, de->d_name);
        if (d != NULL)
                closedir(d);
}

static void *watch_main(void *arg)
{
        lcd_engine_t *e = arg;
        char buf[16 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
        for (;;) {
                struct pollfd p[2] = {{.fd = e->watch_fd, .events = POLLIN}, {.fd = e->stop_pipe[0], .events = POLLIN}};
                int n = poll(p, 2, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || (p[1].revents & (POLLIN | POLLHUP)))
                        break;
                ssize_t len = read(e->watch_fd, buf, sizeof buf);
                if (len <= 0)
                        continue;
                for (char *ptr = buf; ptr < buf + len;) {
                        struct inotify_event *ie = (struct inotify_event *)ptr;
                        if (ie->mask & IN_Q_OVERFLOW)
                                scan_all(e);
                        else if (ie->len > 0 && ie->name[0] != '.')
                                lcd_engine_on_exit(e, ie->name);
                        ptr += sizeof *ie + ie->len;
                }
        }
        return NULL;
}

int lcd_exitwatch_start(lcd_engine_t *e, lcd_error_t **err)
{
        e->watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (e->watch_fd < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "inotify: %s", strerror(errno));
        if (inotify_add_watch(e->watch_fd, lcd_runtime_exit_dir(e->rt), IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "watch %s: %s", lcd_runtime_exit_dir(e->rt), strerror(errno));
        if (pipe2(e->stop_pipe, O_CLOEXEC) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "pipe: %s", strerror(errno));
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
        for (int i = 0; i < 2; i++)
                if (e->stop_pipe[i] >= 0) {
                        close(e->stop_pipe[i]);
                        e->stop_pipe[i] = -1;
                }
        if (e->watch_fd >= 0) {
                close(e->watch_fd);
                e->watch_fd = -1;
        }
}

/* attach.c - see lcd/attach.h: a client on conmon's attach socket.
 *
 * DESIGN: the socket is <bundle>/attach (conmon.h), whose full path may
 * be beyond sun_path's 108 bytes, so it is reached through the bundle
 * opened O_PATH: /proc/self/fd/N/attach, as conmon binds it. stdin is a
 * second descriptor of the same socket, so that the caller can poll its
 * writability apart from the output's readability. The attach remembers
 * the latest event's seq, read with the container's state under its lock
 * (which its changes are published under): only an event after it ends
 * the attach, never an earlier run's exit or an earlier container's
 * removal that the API has not fanned out yet.
 */
#include "engine-internal.h"

#include "lcd/alloc.h"
#include "lcd/attach.h"
#include "lcd/exec.h" /* LCD_EXECS_DEFAULT */
#include "lcd/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct lcd_attach {
        lcd_engine_t *e;
        char name[LCD_NAME_MAX + 1], tag[LCD_TAG_MAX + 1];
        int fd[LCD_ATTACH__FDS];
        int ctl; /* the terminal's control fifo; -1 */
        bool tty;
        uint64_t seq; /* the latest event's when the attach began */
};

/* Connect to the attach socket in bundle: fd or -errno. */
static int connect_socket(const char *bundle)
{
        int dir = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/attach", dir);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int r = fd < 0 ? -errno : 0;
        if (r == 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) /* a Unix socket's connect does not wait */
                r = -errno;
        close(dir);
        if (r < 0) {
                if (fd >= 0)
                        close(fd);
                return r;
        }
        return fd;
}

static void release(lcd_attach_t *a)
{
        for (int i = 0; i < LCD_ATTACH__FDS; i++)
                if (a->fd[i] >= 0)
                        close(a->fd[i]);
        if (a->ctl >= 0)
                close(a->ctl);
        atomic_fetch_sub(&a->e->attaches, 1);
        lcd_free(a);
}

int lcd_engine_attach(lcd_engine_t *e, const lcd_attach_req_t *req, lcd_attach_t **out, lcd_error_t **err)
{
        if (!lcd_name_valid(req->name) || !lcd_tag_valid(req->tag))
                return lcd_error_invalid(err, "name", "not a container's name and tag");
        lcd_mapitem_t *it = lcd_statemap_get(e->map, req->name, req->tag);
        if (it == NULL)
                return lcd_error_set(err, LCD_E_NOT_FOUND, "no container %s:%s", req->name, req->tag);
        lcd_container_t *c = lcd_container_from_item(it);
        int rc = LCD_ERR;
        lcd_attach_t *a = NULL;
        pthread_mutex_lock(&c->mu);
        lcd_cstate_t st = lcd_container_state(c);
        uint64_t seq = lcd_events_latest(e->ev);
        pthread_mutex_unlock(&c->mu);
        if (!(LCD_CS_BIT(st) & (LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_LIVE))) {
                lcd_error_set(err, LCD_E_CONFLICT, "container %s:%s is %s: attach to a created or running one",
                              req->name, req->tag, lcd_cstate_name(st));
                goto out;
        }
        if (req->stdin && !c->stdin) {
                lcd_error_invalid(err, "stdin",
                                  "container %s:%s was created without stdin (create it with stdin: true)", req->name,
                                  req->tag);
                goto out;
        }
        unsigned max = e->cfg.max_execs ? e->cfg.max_execs : LCD_EXECS_DEFAULT;
        if (atomic_fetch_add(&e->attaches, 1) >= max) {
                atomic_fetch_sub(&e->attaches, 1);
                lcd_error_set(err, LCD_E_BUSY, "%u clients are attached already (--max-execs)", max);
                goto out;
        }
        a = lcd_calloc(1, sizeof *a);
        if (a == NULL) {
                atomic_fetch_sub(&e->attaches, 1);
                lcd_error_nomem(err);
                goto out;
        }
        a->e = e;
        a->fd[0] = a->fd[1] = a->ctl = -1;
        a->tty = c->tty;
        snprintf(a->name, sizeof a->name, "%s", req->name);
        snprintf(a->tag, sizeof a->tag, "%s", req->tag);
        a->seq = seq;
        char bundle[PATH_MAX], ctl[PATH_MAX];
        lcd_runtime_bundle_file(e->rt, c->id, NULL, bundle, sizeof bundle);
        lcd_runtime_bundle_file(e->rt, c->id, "ctl", ctl, sizeof ctl);
        a->fd[LCD_ATTACH_OUTPUT] = connect_socket(bundle);
        if (a->fd[LCD_ATTACH_OUTPUT] < 0) {
                int r = -a->fd[LCD_ATTACH_OUTPUT];
                a->fd[LCD_ATTACH_OUTPUT] = -1;
                lcd_error_tool(err, "conmon", NULL, "attach to %s:%s: its monitor's socket: %s", req->name, req->tag,
                               strerror(r));
                goto out;
        }
        if (req->stdin && (a->fd[LCD_ATTACH_INPUT] = fcntl(a->fd[LCD_ATTACH_OUTPUT], F_DUPFD_CLOEXEC, 3)) < 0) {
                lcd_error_set(err, LCD_E_INTERNAL, "dup: %s", strerror(errno));
                goto out;
        }
        /* conmon holds the fifo open for reading: a writer's non-blocking open succeeds at once */
        if (a->tty && (a->ctl = open(ctl, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
                lcd_warn("attach to %s:%s: no resizes (%s: %s)", req->name, req->tag, ctl, strerror(errno));
        lcd_debug("attached to %s:%s (%s)%s", req->name, req->tag, c->id, req->stdin ? " with stdin" : "");
        *out = a;
        a = NULL;
        rc = 0;
out:
        if (a != NULL)
                release(a);
        lcd_mapitem_unref(it);
        return rc;
}

int lcd_attach_take_fd(lcd_attach_t *a, int which)
{
        if (which < 0 || which >= LCD_ATTACH__FDS)
                return -1;
        int fd = a->fd[which];
        a->fd[which] = -1;
        return fd;
}

bool lcd_attach_tty(const lcd_attach_t *a)
{
        return a->tty;
}

int lcd_attach_resize(lcd_attach_t *a, unsigned width, unsigned height)
{
        if (a->ctl < 0)
                return -ENOTTY;
        char line[64];
        int n = snprintf(line, sizeof line, "1 %u %u\n", height, width); /* type 1: a resize, rows then columns */
        ssize_t w = write(a->ctl, line, (size_t)n); /* shorter than PIPE_BUF: whole or not at all */
        return w == n ? 0 : w < 0 ? -errno : -EIO;
}

bool lcd_attach_ended_by(const lcd_attach_t *a, const lcd_event_t *ev, int *code)
{
        if (ev->seq <= a->seq || strcmp(ev->name, a->name) != 0 || strcmp(ev->tag, a->tag) != 0)
                return false;
        *code = ev->has_exit_code ? ev->exit_code : -1;
        return ev->type == LCD_EV_REMOVED || (ev->type == LCD_EV_STATE && ev->state == LCD_CS_EXITED);
}

void lcd_attach_free(lcd_attach_t *a)
{
        if (a != NULL)
                release(a);
}

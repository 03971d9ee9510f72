/* relay-tcp.c - the relay's TCP connections (relay.h): accept, copy both
 * ways through the two buffers, half-close, reset. The relay thread calls
 * these with the relay's mutex held. */
#include "relay-tcp.h"

#include "lcd/alloc.h"
#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPTS_PER_WAKE 16
#define PAUSE_MS 100  /* a listener out of descriptors rests this long */
#define PUMP_ROUNDS 4 /* reads per wake and direction: a busy connection does not starve the others */

static void reset_close(int fd)
{
        struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* an RST: the peer sees a refusal, not an empty reply */
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
}

void lcd_relay_conn_close(lcd_relay_t *r, struct relay_conn *c, bool reset)
{
        if (c->dead)
                return;
        for (int s = 0; s < 2; s++) {
                epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd[s], NULL);
                if (reset)
                        reset_close(c->fd[s]);
                else
                        close(c->fd[s]);
        }
        c->dead = true;
        for (struct relay_conn **p = &r->conns; *p != NULL; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        c->next = r->dead_conns;
        r->dead_conns = c;
        r->counts.conns_open--;
}

/* Move what fd[s] has to fd[!s]: 0, or -1 when the connection failed. */
static int pump(struct relay_conn *c, int s)
{
        struct relay_half *h = &c->dir[s];
        for (int round = 0; round < PUMP_ROUNDS && !h->shut; round++) {
                if (h->len == 0 && !h->eof) {
                        ssize_t n = recv(c->fd[s], h->buf, LCD_RELAY_BUF, 0);
                        if (n < 0)
                                return errno == EAGAIN || errno == EINTR ? 0 : -1;
                        h->eof = n == 0;
                        h->len = (size_t)n;
                        h->off = 0;
                }
                while (h->len > 0) {
                        ssize_t w = send(c->fd[!s], h->buf + h->off, h->len, MSG_NOSIGNAL);
                        if (w < 0)
                                return errno == EAGAIN || errno == EINTR ? 0 : -1;
                        h->off += (size_t)w;
                        h->len -= (size_t)w;
                }
                if (h->eof) {
                        shutdown(c->fd[!s], SHUT_WR);
                        h->shut = true;
                }
        }
        return 0;
}

/* Register what each end waits for now; close the connection once both
 * directions are shut. */
static void conn_update(lcd_relay_t *r, struct relay_conn *c)
{
        if (c->dir[0].shut && c->dir[1].shut) {
                lcd_relay_conn_close(r, c, false);
                return;
        }
        for (int s = 0; s < 2; s++) {
                uint32_t want;
                if (c->connecting)
                        want = s == 1 ? EPOLLOUT : 0;
                else
                        want = (c->dir[s].len == 0 && !c->dir[s].eof ? EPOLLIN : 0) |
                               (c->dir[!s].len > 0 ? EPOLLOUT : 0);
                bool done = c->dir[s].eof && c->dir[!s].shut; /* read to its end, written to its end */
                if (done && c->ends[s].events != UINT32_MAX) {
                        epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd[s], NULL); /* else its HUP would wake us in a loop */
                        c->ends[s].events = UINT32_MAX;
                } else if (!done && want != c->ends[s].events) {
                        lcd_relay_watch(r, c->fd[s], &c->ends[s], want, EPOLL_CTL_MOD);
                }
        }
}

void lcd_relay_conn_event(lcd_relay_t *r, struct relay_conn *c, int side, uint32_t events)
{
        if (c->connecting) {
                int e = 0;
                socklen_t len = sizeof e;
                if (side == 0 || getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e != 0) {
                        if (side == 1)
                                lcd_relay_drop(r, "nothing listens on the container port");
                        lcd_relay_conn_close(r, c, true);
                        return;
                }
                if (!(events & EPOLLOUT))
                        return;
                c->connecting = false;
        }
        if (pump(c, 0) < 0 || pump(c, 1) < 0) {
                lcd_relay_conn_close(r, c, true);
                return;
        }
        conn_update(r, c);
}

static void accept_one(lcd_relay_t *r, struct relay_listener *l, int fd, const struct sockaddr_storage *peer)
{
        if (r->counts.conns_open >= LCD_RELAY_CONNS_MAX) {
                lcd_relay_drop(r, "the relay holds its maximum of connections");
                reset_close(fd);
                return;
        }
        struct relay_conn *c = lcd_calloc(1, sizeof *c);
        char *bufs = c != NULL ? lcd_malloc(2 * LCD_RELAY_BUF) : NULL;
        int in = bufs != NULL ? lcd_relay_open_inside(r, l, lcd_relay_family_of(peer), SOCK_STREAM) : -ENOMEM;
        if (in < 0) {
                lcd_relay_drop(r, strerror(-in));
                reset_close(fd);
                lcd_free(bufs);
                lcd_free(c);
                return;
        }
        c->fd[0] = fd;
        c->fd[1] = in;
        c->dir[0].buf = bufs;
        c->dir[1].buf = bufs + LCD_RELAY_BUF;
        c->connecting = true;
        c->l = l;
        for (int s = 0; s < 2; s++)
                c->ends[s] = (struct relay_end){.kind = K_CONN, .side = s, .obj = c};
        if (lcd_relay_watch(r, fd, &c->ends[0], 0, EPOLL_CTL_ADD) < 0 ||
            lcd_relay_watch(r, in, &c->ends[1], EPOLLOUT, EPOLL_CTL_ADD) < 0) {
                lcd_relay_drop(r, strerror(errno));
                lcd_relay_forget(r, fd);
                lcd_relay_forget(r, in);
                lcd_free(bufs);
                lcd_free(c);
                return;
        }
        c->next = r->conns;
        r->conns = c;
        r->counts.conns_open++;
        r->counts.conns_total++;
}

void lcd_relay_tcp_accept(lcd_relay_t *r, struct relay_listener *l)
{
        for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
                struct sockaddr_storage peer;
                socklen_t len = sizeof peer;
                int fd = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
                        /* the connection waits in the backlog; a level-triggered listener would spin */
                        int64_t now = lcd_now_ms();
                        if (now - r->warned_ms >= LCD_RELAY_WARN_EVERY_MS) {
                                r->warned_ms = now;
                                lcd_warn("relay: cannot accept (%s): new connections wait", strerror(errno));
                        }
                        lcd_relay_watch(r, l->fd, &l->e, 0, EPOLL_CTL_MOD);
                        l->paused_until_ms = lcd_now_ms() + PAUSE_MS;
                        r->paused++;
                        return;
                }
                if (fd < 0)
                        return;
                accept_one(r, l, fd, &peer);
        }
}

void lcd_relay_resume(lcd_relay_t *r)
{
        int64_t now = lcd_now_ms();
        for (struct relay_pub *p = r->pubs; p != NULL && r->paused > 0; p = p->next)
                for (size_t i = 0; i < p->n; i++) {
                        struct relay_listener *l = &p->ls[i];
                        if (l->paused_until_ms != 0 && now >= l->paused_until_ms) {
                                l->paused_until_ms = 0;
                                r->paused--;
                                lcd_relay_watch(r, l->fd, &l->e, EPOLLIN, EPOLL_CTL_MOD);
                        }
                }
}

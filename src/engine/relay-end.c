/* relay-end.c - see relay-end.h: the ends of a relayed connection. */
#include "relay-end.h"

#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* A socket of type inside l's container, connected (or connecting) to its
 * port on the loopback of family: fd, or -errno. mu held, relay thread. */
int lcd_relay_open_inside(lcd_relay_t *r, struct relay_listener *l, int family, int type)
{
        if (!r->in_place && setns(l->pub->ns_fd, CLONE_NEWNET) < 0)
                return -errno;
        int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int e = errno;
        if (!r->in_place && r->park >= 0 && setns(r->park, CLONE_NEWNET) < 0)
                lcd_warn("relay: cannot leave container %.12s's namespace: %s", l->pub->id, strerror(errno));
        if (fd < 0)
                return -e;
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        socklen_t len;
        if (family == AF_INET6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons(l->port.container_port);
                a->sin6_addr = in6addr_loopback;
                len = sizeof *a;
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                a->sin_family = AF_INET;
                a->sin_port = htons(l->port.container_port);
                a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                len = sizeof *a;
        }
        if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
                e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

/* The loopback family that answers a peer: IPv6 only for a real IPv6 one. */
int lcd_relay_family_of(const struct sockaddr_storage *ss)
{
        if (ss->ss_family != AF_INET6)
                return AF_INET;
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) ? AF_INET : AF_INET6;
}

int lcd_relay_watch(lcd_relay_t *r, int fd, struct relay_end *e, uint32_t events, int op)
{
        struct epoll_event ev = {.events = events, .data.ptr = e};
        e->events = events;
        return epoll_ctl(r->ep, op, fd, &ev);
}

void lcd_relay_forget(lcd_relay_t *r, int fd)
{
        if (fd >= 0) {
                epoll_ctl(r->ep, EPOLL_CTL_DEL, fd, NULL); /* first: a copy in a spawning child keeps it registered */
                close(fd);
        }
}

void lcd_relay_drop(lcd_relay_t *r, const char *why)
{
        r->counts.conns_dropped++;
        int64_t now = lcd_now_ms();
        if (now - r->warned_ms >= LCD_RELAY_WARN_EVERY_MS) {
                r->warned_ms = now;
                lcd_warn("relay: a connection to a published port was reset: %s", why);
        }
}

/* relay.c - see relay.h: the relay's thread and its published ports;
 * relay-tcp.c and relay-udp.c move the bytes, relay-end.c opens the ends. */
#include "relay.h"
#include "relay-tcp.h"
#include "relay-udp.h"

#include "hostport.h"

#include "lcd/alloc.h"
#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EVENTS 64

/* ---- the thread ---- */

static void free_dead(lcd_relay_t *r)
{
        for (struct relay_conn *c = r->dead_conns, *next; c != NULL; c = next) {
                next = c->next;
                lcd_free(c->dir[0].buf);
                lcd_free(c);
        }
        for (struct relay_flow *f = r->dead_flows, *next; f != NULL; f = next) {
                next = f->next;
                lcd_free(f);
        }
        for (struct relay_pub *p = r->dead_pubs, *next; p != NULL; p = next) {
                next = p->next;
                lcd_free(p);
        }
        r->dead_conns = NULL;
        r->dead_flows = NULL;
        r->dead_pubs = NULL;
}

static void *relay_main(void *arg)
{
        lcd_relay_t *r = arg;
        struct epoll_event evs[EVENTS];
        if (!r->in_place && unshare(CLONE_NEWNET) == 0)
                r->park = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (!r->in_place && r->park < 0)
                lcd_warn("relay: no namespace of its own (%s): it stays in the last container's it entered",
                         strerror(errno));
        pthread_mutex_lock(&r->mu);
        while (!r->stopping) {
                free_dead(r);
                int timeout = r->paused > 0 ? 100 : r->counts.flows_open > 0 ? 1000 : -1;
                pthread_mutex_unlock(&r->mu);
                int n = epoll_wait(r->ep, evs, EVENTS, timeout);
                pthread_mutex_lock(&r->mu);
                for (int i = 0; i < n && !r->stopping; i++) {
                        struct relay_end *e = evs[i].data.ptr;
                        switch (e->kind) {
                        case K_WAKE:
                                break;
                        case K_TCP_LISTEN: /* an unpublish on another thread may have closed it since the wait */
                                if (!((struct relay_listener *)e->obj)->pub->dead)
                                        lcd_relay_tcp_accept(r, e->obj);
                                break;
                        case K_UDP_LISTEN:
                                if (!((struct relay_listener *)e->obj)->pub->dead)
                                        lcd_relay_udp_in(r, e->obj);
                                break;
                        case K_CONN:
                                if (!((struct relay_conn *)e->obj)->dead)
                                        lcd_relay_conn_event(r, e->obj, e->side, evs[i].events);
                                break;
                        case K_FLOW:
                                if (!((struct relay_flow *)e->obj)->dead)
                                        lcd_relay_udp_out(r, e->obj);
                                break;
                        }
                }
                if (r->counts.flows_open > 0)
                        lcd_relay_sweep_flows(r);
                if (r->paused > 0)
                        lcd_relay_resume(r);
        }
        pthread_mutex_unlock(&r->mu);
        return NULL;
}

/* The thread, and its namespace of its own. mu held. 0 or -errno. */
static int start(lcd_relay_t *r)
{
        if (r->started)
                return 0;
        if (r->dgram == NULL && (r->dgram = lcd_malloc(DGRAM_MAX)) == NULL)
                return -ENOMEM;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 128 * 1024);
        int e = pthread_create(&r->thread, &attr, relay_main, r);
        pthread_attr_destroy(&attr);
        if (e != 0)
                return -e;
        r->started = true;
        return 0;
}

lcd_relay_t *lcd_relay_new(bool in_place)
{
        lcd_relay_t *r = lcd_calloc(1, sizeof *r);
        if (r == NULL)
                return NULL;
        r->in_place = in_place;
        r->park = -1;
        r->ep = epoll_create1(EPOLL_CLOEXEC);
        r->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        r->wake_end.kind = K_WAKE;
        if (r->ep < 0 || r->wake < 0 || lcd_relay_watch(r, r->wake, &r->wake_end, EPOLLIN, EPOLL_CTL_ADD) < 0) {
                if (r->ep >= 0)
                        close(r->ep);
                if (r->wake >= 0)
                        close(r->wake);
                lcd_free(r);
                return NULL;
        }
        pthread_mutex_init(&r->mu, NULL);
        return r;
}

/* Close p's listeners (its flows with them) and connections; p goes to
 * the dead list. mu held. */
static void pub_close(lcd_relay_t *r, struct relay_pub *p)
{
        p->dead = true;
        for (struct relay_conn *c = r->conns, *next; c != NULL; c = next) {
                next = c->next;
                if (c->l->pub == p)
                        lcd_relay_conn_close(r, c, true);
        }
        for (size_t i = 0; i < p->n; i++) {
                if (p->ls[i].paused_until_ms != 0)
                        r->paused--;
                while (p->ls[i].flows != NULL)
                        lcd_relay_flow_close(r, p->ls[i].flows);
                lcd_relay_forget(r, p->ls[i].fd);
        }
        if (p->ns_fd >= 0)
                close(p->ns_fd);
        for (struct relay_pub **q = &r->pubs; *q != NULL; q = &(*q)->next)
                if (*q == p) {
                        *q = p->next;
                        break;
                }
        p->next = r->dead_pubs;
        r->dead_pubs = p;
}

void lcd_relay_free(lcd_relay_t *r)
{
        if (r == NULL)
                return;
        pthread_mutex_lock(&r->mu);
        r->stopping = true;
        uint64_t one = 1;
        if (write(r->wake, &one, sizeof one) < 0)
                lcd_debug("relay: wake: %s", strerror(errno));
        pthread_mutex_unlock(&r->mu);
        if (r->started)
                pthread_join(r->thread, NULL);
        while (r->pubs != NULL)
                pub_close(r, r->pubs);
        free_dead(r);
        if (r->park >= 0)
                close(r->park);
        close(r->wake);
        close(r->ep);
        lcd_free(r->dgram);
        pthread_mutex_destroy(&r->mu);
        lcd_free(r);
}

int lcd_relay_publish(lcd_relay_t *r, const char *id, const char *ns_path, const lcd_port_t *ports, size_t n,
                      lcd_error_t **err)
{
        if (n == 0)
                return 0;
        if (n > LCD_PORTS_MAX)
                return lcd_error_invalid(err, "ports", "at most %d ports", LCD_PORTS_MAX);
        lcd_relay_unpublish(r, id);
        struct relay_pub *p = lcd_calloc(1, sizeof *p);
        if (p == NULL)
                return lcd_error_nomem(err);
        snprintf(p->id, sizeof p->id, "%s", id);
        size_t bound = 0;
        for (; bound < n; bound++)
                if (lcd_hostport_bind(&ports[bound], bound, true, &p->ls[bound].fd, err) < 0)
                        goto fail;
        p->ns_fd = open(ns_path, O_RDONLY | O_CLOEXEC);
        if (p->ns_fd < 0) {
                lcd_error_set(err, LCD_E_INTERNAL, "open the network namespace %s: %s", ns_path, strerror(errno));
                goto fail;
        }
        pthread_mutex_lock(&r->mu);
        int e = start(r);
        for (size_t i = 0; i < n && e == 0; i++) {
                struct relay_listener *l = &p->ls[i];
                l->port = ports[i];
                l->pub = p;
                l->e = (struct relay_end){.kind = ports[i].udp ? K_UDP_LISTEN : K_TCP_LISTEN, .obj = l};
                if (lcd_relay_watch(r, l->fd, &l->e, EPOLLIN, EPOLL_CTL_ADD) < 0)
                        e = -errno;
                else
                        p->n = i + 1;
        }
        if (e == 0) {
                p->next = r->pubs;
                r->pubs = p;
        } else {
                for (size_t i = p->n; i < n; i++)
                        close(p->ls[i].fd);
                p->next = r->pubs; /* pub_close unlinks it and frees it after the thread's batch */
                r->pubs = p;
                pub_close(r, p);
        }
        pthread_mutex_unlock(&r->mu);
        if (e == -ENOMEM)
                return lcd_error_nomem(err);
        if (e < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "relay the published ports: %s", strerror(-e));
        return 0;
fail:
        for (size_t i = 0; i < bound; i++)
                close(p->ls[i].fd);
        lcd_free(p);
        return LCD_ERR;
}

void lcd_relay_unpublish(lcd_relay_t *r, const char *id)
{
        if (r == NULL)
                return;
        pthread_mutex_lock(&r->mu);
        for (struct relay_pub *p = r->pubs; p != NULL; p = p->next)
                if (strcmp(p->id, id) == 0) {
                        pub_close(r, p);
                        break;
                }
        pthread_mutex_unlock(&r->mu);
}

void lcd_relay_counts(lcd_relay_t *r, lcd_relay_counts_t *out)
{
        memset(out, 0, sizeof *out);
        if (r == NULL)
                return;
        pthread_mutex_lock(&r->mu);
        *out = r->counts;
        pthread_mutex_unlock(&r->mu);
}

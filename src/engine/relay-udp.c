/* relay-udp.c - the relay's UDP flows (relay.h): one per peer of a
 * published port, a socket inside connected to the container port. The
 * relay thread calls these with the relay's mutex held. */
#include "relay-udp.h"

#include "lcd/alloc.h"
#include "lcd/timeutil.h"

#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define DGRAMS_PER_WAKE 64

void lcd_relay_flow_close(lcd_relay_t *r, struct relay_flow *f)
{
        lcd_relay_forget(r, f->fd);
        f->dead = true;
        for (struct relay_flow **p = &f->l->flows; *p != NULL; p = &(*p)->next)
                if (*p == f) {
                        *p = f->next;
                        break;
                }
        f->l->n_flows--;
        f->next = r->dead_flows;
        r->dead_flows = f;
        r->counts.flows_open--;
}

static struct relay_flow *flow_for(lcd_relay_t *r, struct relay_listener *l, const struct sockaddr_storage *peer,
                                   socklen_t len)
{
        struct relay_flow *oldest = NULL;
        for (struct relay_flow *f = l->flows; f != NULL; f = f->next) {
                if (f->peer_len == len && memcmp(&f->peer, peer, len) == 0)
                        return f;
                if (oldest == NULL || f->last_ms < oldest->last_ms)
                        oldest = f;
        }
        if (l->n_flows >= LCD_RELAY_FLOWS_MAX)
                lcd_relay_flow_close(r, oldest);
        struct relay_flow *f = lcd_calloc(1, sizeof *f);
        if (f == NULL)
                return NULL;
        f->fd = lcd_relay_open_inside(r, l, lcd_relay_family_of(peer), SOCK_DGRAM);
        f->e = (struct relay_end){.kind = K_FLOW, .obj = f};
        if (f->fd < 0 || lcd_relay_watch(r, f->fd, &f->e, EPOLLIN, EPOLL_CTL_ADD) < 0) {
                if (f->fd >= 0)
                        close(f->fd);
                lcd_free(f);
                return NULL;
        }
        memcpy(&f->peer, peer, len);
        f->peer_len = len;
        f->l = l;
        f->next = l->flows;
        l->flows = f;
        l->n_flows++;
        r->counts.flows_open++;
        return f;
}

void lcd_relay_udp_in(lcd_relay_t *r, struct relay_listener *l)
{
        for (int i = 0; i < DGRAMS_PER_WAKE; i++) {
                struct sockaddr_storage peer;
                socklen_t len = sizeof peer;
                ssize_t n = recvfrom(l->fd, r->dgram, DGRAM_MAX, 0, (struct sockaddr *)&peer, &len);
                if (n < 0)
                        return;
                struct relay_flow *f = flow_for(r, l, &peer, len);
                if (f == NULL)
                        continue; /* dropped, as a full queue would */
                f->last_ms = lcd_now_ms();
                send(f->fd, r->dgram, (size_t)n, MSG_NOSIGNAL);
        }
}

void lcd_relay_udp_out(lcd_relay_t *r, struct relay_flow *f)
{
        for (int i = 0; i < DGRAMS_PER_WAKE; i++) {
                ssize_t n = recv(f->fd, r->dgram, DGRAM_MAX, 0);
                if (n < 0)
                        return; /* EAGAIN, or an ICMP refusal of an earlier datagram */
                f->last_ms = lcd_now_ms();
                sendto(f->l->fd, r->dgram, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&f->peer, f->peer_len);
        }
}

void lcd_relay_sweep_flows(lcd_relay_t *r)
{
        int64_t now = lcd_now_ms();
        if (now - r->swept_ms < 1000)
                return;
        r->swept_ms = now;
        for (struct relay_pub *p = r->pubs; p != NULL; p = p->next)
                for (size_t i = 0; i < p->n; i++)
                        for (struct relay_flow *f = p->ls[i].flows, *next; f != NULL; f = next) {
                                next = f->next;
                                if (now - f->last_ms >= LCD_RELAY_UDP_IDLE_S * 1000)
                                        lcd_relay_flow_close(r, f);
                        }
}

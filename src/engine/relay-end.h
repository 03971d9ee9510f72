/* relay-end.h - the relay's objects (relay.h) and what every part of its
 * thread does with an end of a connection: watch it, forget it, open the
 * inside one. relay.c runs the thread and the published ports; relay-tcp.c
 * and relay-udp.c move the bytes; all three stand on this file. Lock: every
 * function here runs with lcd_relay_t's mutex held (the relay thread, or a
 * publish closing what it opened). */
#ifndef LCD_RELAY_END_H
#define LCD_RELAY_END_H

#include "lcd/ident.h" /* LCD_ID_LEN */
#include "lcd/net.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define LCD_RELAY_CONNS_MAX 512 /* TCP connections relayed at once, every container */
#define LCD_RELAY_BUF 16384     /* bytes in flight per direction of a connection */
#define LCD_RELAY_FLOWS_MAX 256 /* UDP peers per published port */
#define LCD_RELAY_UDP_IDLE_S 90 /* a UDP flow without traffic is dropped */

typedef struct lcd_relay lcd_relay_t;

typedef struct {
        unsigned conns_open, flows_open;
        uint64_t conns_total;   /* connections accepted */
        uint64_t conns_dropped; /* reset: over the cap, no memory, or the inside refused */
} lcd_relay_counts_t;

#define DGRAM_MAX 65536               /* the relay's one datagram buffer */
#define LCD_RELAY_WARN_EVERY_MS 10000 /* the relay's warnings, at most this often */

enum relay_kind { K_WAKE, K_TCP_LISTEN, K_UDP_LISTEN, K_CONN, K_FLOW };

/* What an epoll event points at: the object, and which end of it. */
struct relay_end {
        enum relay_kind kind;
        int side;
        void *obj;
        uint32_t events; /* registered interest */
};

struct relay_half { /* bytes read from fd[s], not yet written to fd[!s] */
        char *buf;
        size_t len, off;
        bool eof, shut;
};

struct relay_listener;

struct relay_conn {
        struct relay_end ends[2]; /* 0: the client's, on the host; 1: inside the container */
        int fd[2];
        struct relay_half dir[2];
        bool connecting, dead;
        struct relay_listener *l;
        struct relay_conn *next; /* the relay's open list, then its dead list */
};

struct relay_flow {
        struct relay_end e;
        int fd;
        struct sockaddr_storage peer;
        socklen_t peer_len;
        int64_t last_ms;
        bool dead;
        struct relay_listener *l;
        struct relay_flow *next;
};

struct relay_pub;

struct relay_listener {
        struct relay_end e;
        int fd;
        lcd_port_t port;
        struct relay_pub *pub;
        struct relay_flow *flows; /* udp */
        unsigned n_flows;
        int64_t paused_until_ms; /* tcp: out of descriptors, not watched until then (0: watched) */
};

struct relay_pub { /* one container's ports */
        char id[LCD_ID_LEN + 1];
        int ns_fd;
        struct relay_listener ls[LCD_PORTS_MAX];
        size_t n;
        bool dead; /* unpublished: its listeners are closed */
        struct relay_pub *next;
};

struct lcd_relay {
        bool in_place;
        pthread_mutex_t mu;
        /* guarded by mu */
        int ep, wake;
        struct relay_end wake_end;
        pthread_t thread;
        bool started, stopping;
        struct relay_pub *pubs, *dead_pubs;
        struct relay_conn *conns, *dead_conns;
        struct relay_flow *dead_flows;
        lcd_relay_counts_t counts;
        char *dgram;
        int64_t warned_ms, swept_ms;
        unsigned paused; /* listeners paused for want of descriptors */
        int park;        /* the relay thread's: its own namespace, between two inside sockets (-1: none) */
};

/* epoll_ctl op (ADD, MOD) of fd for events, pointing at e; 0 or -1. */
int lcd_relay_watch(lcd_relay_t *r, int fd, struct relay_end *e, uint32_t events, int op);
/* Deregister and close fd (-1: nothing). */
void lcd_relay_forget(lcd_relay_t *r, int fd);
/* Count a reset connection; warn about it at most every 10 s. */
void lcd_relay_drop(lcd_relay_t *r, const char *why);
/* A socket of type inside l's container, connected (or connecting) to its
 * port on the loopback of family: fd, or -errno. Relay thread. */
int lcd_relay_open_inside(lcd_relay_t *r, struct relay_listener *l, int family, int type);
/* AF_INET6 only for a real IPv6 peer (not a v4-mapped one). */
int lcd_relay_family_of(const struct sockaddr_storage *ss);

#endif

/* wsconn.h - non-blocking WebSocket connections for the load clients
 * (tests/bench/wsbench.c, tests/load/loadgen.c): many connections in one
 * poll() loop, so the client is not the bottleneck.
 *
 * DESIGN: a blocking handshake of their own (the target parsed as lightctl
 * does, src/cli/wsclient.c); after it the socket is non-blocking and
 * frames are parsed in place from a growing buffer. Text frames only, requests sent with a zero mask. On any
 * failure the helpers print why and exit the process: a load client that
 * loses a connection has nothing valid to report.
 */
#ifndef LCD_WSCONN_H
#define LCD_WSCONN_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
        int fd;
        unsigned char *buf;
        size_t have, cap;
} wsconn_t;

/* Connect to target (a Unix socket path or ws://HOST:PORT) with extra
 * request headers (or NULL). */
void wsconn_open(wsconn_t *c, const char *target, const char *headers);
void wsconn_close(wsconn_t *c);
/* One text message, written in full. */
void wsconn_send(wsconn_t *c, const char *text, size_t len);
/* Read what is there (after poll said so): 1 read, 0 nothing yet. */
int wsconn_read(wsconn_t *c);
/* The next complete message in the buffer or NULL; valid until
 * wsconn_consume(c, *used). */
char *wsconn_next(wsconn_t *c, size_t *len, size_t *used);
void wsconn_consume(wsconn_t *c, size_t n);

__attribute__((noreturn)) void wsconn_die(const char *what);
int64_t wsconn_mono_us(void);
int64_t wsconn_wall_us(void);
/* "2026-11-29T10:47:15.901234Z" -> epoch microseconds, or -1. */
int64_t wsconn_parse_time_us(const char *s);
/* Sort v and return its p-th percentile (-1 when empty). */
int64_t wsconn_percentile(int64_t *v, size_t n, double p);
/* Raise RLIMIT_NOFILE to its hard limit (thousands of connections). */
void wsconn_raise_nofile(void);

#endif

/* wsconn.c - see wsconn.h. */
#include "wsconn.h"

#include "../../src/cli/wsclient.h"
#include "lcd/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

void wsconn_die(const char *what)
{
        fprintf(stderr, "load client: %s\n", what);
        exit(1);
}

int64_t wsconn_mono_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t wsconn_wall_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void wsconn_send(wsconn_t *c, const char *text, size_t len)
{
        unsigned char out[8192];
        if (len > sizeof out - 8) /* header (at most 4) + mask (4) */
                wsconn_die("request too large");
        size_t h = 0;
        out[h++] = 0x81;
        if (len < 126) {
                out[h++] = (unsigned char)(0x80 | len);
        } else {
                out[h++] = 0x80 | 126;
                out[h++] = (unsigned char)(len >> 8);
                out[h++] = (unsigned char)len;
        }
        memset(out + h, 0, 4); /* a zero mask: legal, and no per-byte work */
        h += 4;
        memcpy(out + h, text, len);
        size_t off = 0, total = h + len;
        while (off < total) {
                ssize_t n = send(c->fd, out + off, total - off, MSG_NOSIGNAL);
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                        struct pollfd p = {.fd = c->fd, .events = POLLOUT};
                        poll(&p, 1, 1000);
                        continue;
                }
                if (n < 0)
                        wsconn_die("send failed");
                off += (size_t)n;
        }
}

char *wsconn_next(wsconn_t *c, size_t *len, size_t *used)
{
        if (c->have < 2)
                return NULL;
        uint64_t n = c->buf[1] & 0x7f;
        size_t h = 2;
        if (n == 126) {
                if (c->have < 4)
                        return NULL;
                n = (uint64_t)c->buf[2] << 8 | c->buf[3];
                h = 4;
        } else if (n == 127) {
                if (c->have < 10)
                        return NULL;
                n = 0;
                for (int i = 0; i < 8; i++)
                        n = n << 8 | c->buf[2 + i];
                h = 10;
        }
        if (n > (64u << 20))
                wsconn_die("a message over 64 MiB");
        if (c->have < h + n)
                return NULL;
        *len = (size_t)n;
        *used = h + (size_t)n;
        return (char *)c->buf + h;
}

int wsconn_read(wsconn_t *c)
{
        if (c->cap - c->have < 65536) {
                size_t ncap = c->cap ? c->cap * 2 : 1 << 17;
                unsigned char *nb = lcd_realloc(c->buf, ncap);
                if (nb == NULL)
                        wsconn_die("out of memory");
                c->buf = nb;
                c->cap = ncap;
        }
        ssize_t n = recv(c->fd, c->buf + c->have, c->cap - c->have, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0)
                wsconn_die("connection closed by the daemon");
        c->have += (size_t)n;
        return 1;
}

void wsconn_consume(wsconn_t *c, size_t n)
{
        memmove(c->buf, c->buf + n, c->have - n);
        c->have -= n;
}

/* A blocking connect to the target lightctl's parser understands. */
static int dial(const char *target, char *host, size_t hostlen)
{
        char err[256];
        lcd_ws_target_t t;
        if (lcd_ws_parse_target(target, &t, err, sizeof err) < 0)
                wsconn_die(err);
        if (t.tls)
                wsconn_die("the load clients speak ws:// only");
        snprintf(host, hostlen, "%s", t.host_header);
        int fd = -1;
        if (t.is_unix) {
                struct sockaddr_un sa = {.sun_family = AF_UNIX};
                snprintf(sa.sun_path, sizeof sa.sun_path, "%s", t.path);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                        close(fd);
                        fd = -1;
                }
        } else {
                char port[16];
                snprintf(port, sizeof port, "%d", t.port);
                struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
                if (getaddrinfo(t.host, port, &hints, &ai) != 0)
                        wsconn_die("cannot resolve the daemon's host");
                for (struct addrinfo *a = ai; a != NULL && fd < 0; a = a->ai_next) {
                        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
                        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
                                close(fd);
                                fd = -1;
                        }
                }
                freeaddrinfo(ai);
        }
        if (fd < 0)
                wsconn_die("cannot connect to the daemon");
        return fd;
}

void wsconn_open(wsconn_t *c, const char *target, const char *headers)
{
        memset(c, 0, sizeof *c);
        char host[300], req[2048];
        c->fd = dial(target, host, sizeof host);
        /* a fixed key: the load clients trust the daemon they measure */
        int n = snprintf(req, sizeof req,
                         "GET /v1/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                         host, headers ? headers : "");
        if (n < 0 || (size_t)n >= sizeof req || send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
                wsconn_die("cannot send the handshake");
        char head[4096];
        size_t got = 0;
        while (got < sizeof head - 1) { /* byte by byte: nothing after the head is consumed */
                ssize_t r = recv(c->fd, head + got, 1, 0);
                if (r <= 0)
                        wsconn_die("connection closed during the handshake");
                got++;
                if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0)
                        break;
        }
        head[got] = '\0';
        if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
                head[strcspn(head, "\r")] = '\0';
                wsconn_die(head);
        }
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
}

void wsconn_close(wsconn_t *c)
{
        static const unsigned char close_frame[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8};
        if (c->fd >= 0) {
                ssize_t w = send(c->fd, close_frame, sizeof close_frame, MSG_NOSIGNAL);
                (void)w;
                shutdown(c->fd, SHUT_RDWR);
                close(c->fd);
        }
        lcd_free(c->buf);
        memset(c, 0, sizeof *c);
        c->fd = -1;
}

int64_t wsconn_parse_time_us(const char *s)
{
        struct tm tm = {0};
        int us = 0;
        if (sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec, &us) != 7)
                return -1;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return (int64_t)timegm(&tm) * 1000000 + us;
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

int64_t wsconn_percentile(int64_t *v, size_t n, double p)
{
        if (n == 0)
                return -1;
        qsort(v, n, sizeof *v, cmp_i64);
        size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
        return v[i < n ? i : n - 1];
}

void wsconn_raise_nofile(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

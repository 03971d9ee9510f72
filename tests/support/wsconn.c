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
#include <sys/socket.h>
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
        if (h + len > sizeof out)
                wsconn_die("request too large");
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

void wsconn_open(wsconn_t *c, const char *target, const char *headers)
{
        char err[256];
        memset(c, 0, sizeof *c);
        c->ws = lcd_ws_connect(target, "/v1/ws", headers, 10000, err, sizeof err);
        if (c->ws == NULL)
                wsconn_die(err);
        if (lcd_ws_buffered(c->ws) != 0)
                wsconn_die("unexpected data after the handshake");
        c->fd = lcd_ws_fd(c->ws);
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
}

void wsconn_close(wsconn_t *c)
{
        lcd_ws_close(c->ws);
        lcd_free(c->buf);
        memset(c, 0, sizeof *c);
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

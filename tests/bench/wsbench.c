/* wsbench.c - the benchmark's WebSocket load client: many connections in one
 * poll() loop, requests pipelined, so the client is not the bottleneck.
 *
 *   wsbench rtt TARGET CLIENTS DEPTH SECONDS METHOD PARAMS_JSON
 *       CLIENTS connections each keep DEPTH requests in flight for SECONDS;
 *       prints "rtt requests=N seconds=S rps=R p50_us=A p99_us=B errors=E".
 *   wsbench fanout TARGET SUBSCRIBERS CHANGES NAME TAG
 *       SUBSCRIBERS connections subscribe; a control connection pauses and
 *       resumes NAME:TAG CHANGES times; each event's arrival at each
 *       subscriber minus its publish time ("time", microseconds) is recorded;
 *       prints "fanout subscribers=N events=E p50_us=A p99_us=B max_us=C".
 *
 * TARGET is a Unix socket path or ws://HOST:PORT. Prints figures; asserts
 * nothing (exit 1 only when it cannot run).
 */
#include "lcd/alloc.h"
#include "../../src/cli/wsclient.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
        lcd_ws_t *ws;
        int fd;
        unsigned char *buf;
        size_t have, cap;
        int inflight;
        uint64_t next_id;
        int64_t *sent_at; /* by id % depth */
} conn_t;

static int64_t mono_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
        fprintf(stderr, "wsbench: %s\n", what);
        exit(1);
}

/* A masked text frame, written in full (blocking is fine: requests are small). */
static void send_text(conn_t *c, const char *text, size_t len)
{
        unsigned char hdr[14 + 4];
        size_t h = 0;
        hdr[h++] = 0x81;
        if (len < 126) {
                hdr[h++] = (unsigned char)(0x80 | len);
        } else {
                hdr[h++] = 0x80 | 126;
                hdr[h++] = (unsigned char)(len >> 8);
                hdr[h++] = (unsigned char)len;
        }
        memset(hdr + h, 0, 4); /* a zero mask: legal, and no per-byte work */
        h += 4;
        unsigned char out[4096];
        if (h + len > sizeof out)
                die("request too large");
        memcpy(out, hdr, h);
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
                        die("send failed");
                off += (size_t)n;
        }
}

/* Next complete text message in c->buf, or NULL; *len its size. The
 * message stays valid until the next call. */
static char *next_message(conn_t *c, size_t *len, size_t *consumed)
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
        *consumed = h + (size_t)n;
        return (char *)c->buf + h;
}

static int read_some(conn_t *c)
{
        if (c->cap - c->have < 65536) {
                size_t ncap = c->cap ? c->cap * 2 : 1 << 17;
                unsigned char *nb = lcd_realloc(c->buf, ncap);
                if (nb == NULL)
                        die("out of memory");
                c->buf = nb;
                c->cap = ncap;
        }
        ssize_t n = recv(c->fd, c->buf + c->have, c->cap - c->have, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0)
                die("connection closed by the daemon");
        c->have += (size_t)n;
        return 1;
}

static void consume(conn_t *c, size_t n)
{
        memmove(c->buf, c->buf + n, c->have - n);
        c->have -= n;
}

static void open_conn(conn_t *c, const char *target)
{
        char err[256];
        memset(c, 0, sizeof *c);
        c->ws = lcd_ws_connect(target, "/v1/ws", NULL, 10000, err, sizeof err);
        if (c->ws == NULL)
                die(err);
        if (lcd_ws_buffered(c->ws) != 0)
                die("unexpected data after the handshake");
        c->fd = lcd_ws_fd(c->ws);
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

static int64_t pct(int64_t *v, size_t n, double p)
{
        if (n == 0)
                return -1;
        size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
        return v[i < n ? i : n - 1];
}

static void raise_nofile(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static int cmd_rtt(const char *target, int clients, int depth, double seconds, const char *method, const char *params)
{
        conn_t *cs = lcd_calloc((size_t)clients, sizeof *cs);
        struct pollfd *pf = lcd_calloc((size_t)clients, sizeof *pf);
        size_t lat_cap = 1 << 22, nlat = 0;
        int64_t *lat = lcd_malloc(lat_cap * sizeof *lat);
        if (cs == NULL || pf == NULL || lat == NULL)
                die("out of memory");
        for (int i = 0; i < clients; i++) {
                open_conn(&cs[i], target);
                cs[i].sent_at = lcd_calloc((size_t)depth, sizeof(int64_t));
        }
        char req[2048];
        uint64_t done = 0, errors = 0;
        int64_t t0 = mono_us(), end = t0 + (int64_t)(seconds * 1e6);
        bool stopping = false;
        for (;;) {
                int64_t now = mono_us();
                if (now >= end)
                        stopping = true;
                int live = 0;
                for (int i = 0; i < clients; i++) {
                        conn_t *c = &cs[i];
                        while (!stopping && c->inflight < depth) {
                                uint64_t id = c->next_id++;
                                int n = snprintf(req, sizeof req,
                                                 "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"%s\",\"params\":%s}",
                                                 (unsigned long long)id, method, params);
                                c->sent_at[id % (uint64_t)depth] = mono_us();
                                send_text(c, req, (size_t)n);
                                c->inflight++;
                        }
                        live += c->inflight > 0;
                        pf[i] = (struct pollfd){.fd = c->fd, .events = POLLIN};
                }
                if (stopping && live == 0)
                        break;
                if (poll(pf, (nfds_t)clients, 1000) < 0 && errno != EINTR)
                        die("poll");
                for (int i = 0; i < clients; i++) {
                        if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        conn_t *c = &cs[i];
                        read_some(c);
                        size_t len, used;
                        char *m;
                        while ((m = next_message(c, &len, &used)) != NULL) {
                                /* replies carry "id":N right after "jsonrpc" */
                                char *p = memmem(m, len, "\"id\":", 5);
                                uint64_t id = p ? strtoull(p + 5, NULL, 10) : 0;
                                if (memmem(m, len, "\"error\"", 7) != NULL)
                                        errors++;
                                if (nlat < lat_cap)
                                        lat[nlat++] = mono_us() - c->sent_at[id % (uint64_t)depth];
                                c->inflight--;
                                done++;
                                consume(c, used);
                        }
                }
        }
        double secs = (double)(mono_us() - t0) / 1e6;
        qsort(lat, nlat, sizeof *lat, cmp_i64);
        printf("rtt clients=%d depth=%d requests=%llu seconds=%.2f rps=%.0f p50_us=%lld p99_us=%lld errors=%llu\n",
               clients, depth, (unsigned long long)done, secs, (double)done / secs, (long long)pct(lat, nlat, 50),
               (long long)pct(lat, nlat, 99), (unsigned long long)errors);
        for (int i = 0; i < clients; i++) {
                lcd_ws_close(cs[i].ws);
                lcd_free(cs[i].buf);
                lcd_free(cs[i].sent_at);
        }
        lcd_free(cs);
        lcd_free(pf);
        lcd_free(lat);
        return 0;
}

/* "2026-11-29T10:47:15.901234Z" -> epoch microseconds */
static int64_t parse_time_us(const char *s)
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

/* Wait for a reply to request id on c (blocking poll), ignoring other messages. */
static void wait_reply(conn_t *c, uint64_t id)
{
        char want[40];
        snprintf(want, sizeof want, "\"id\":%llu", (unsigned long long)id);
        for (;;) {
                size_t len, used;
                char *m;
                while ((m = next_message(c, &len, &used)) != NULL) {
                        bool match = memmem(m, len, want, strlen(want)) != NULL;
                        if (match && memmem(m, len, "\"error\"", 7) != NULL) {
                                fprintf(stderr, "wsbench: %.*s\n", (int)len, m);
                                die("the control request failed");
                        }
                        consume(c, used);
                        if (match)
                                return;
                }
                struct pollfd p = {.fd = c->fd, .events = POLLIN};
                if (poll(&p, 1, 30000) <= 0)
                        die("no reply in 30 s");
                read_some(c);
        }
}

static int cmd_fanout(const char *target, int subs, int changes, const char *name, const char *tag)
{
        raise_nofile();
        conn_t *cs = lcd_calloc((size_t)subs + 1, sizeof *cs);
        struct pollfd *pf = lcd_calloc((size_t)subs, sizeof *pf);
        size_t cap = (size_t)subs * (size_t)changes * 2 + 16, n = 0;
        int64_t *lat = lcd_malloc(cap * sizeof *lat);
        if (cs == NULL || pf == NULL || lat == NULL)
                die("out of memory");
        char req[512];
        for (int i = 0; i <= subs; i++)
                open_conn(&cs[i], target);
        for (int i = 0; i < subs; i++) {
                int len = snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.subscribe\"}");
                send_text(&cs[i], req, (size_t)len);
                wait_reply(&cs[i], 1);
        }
        conn_t *ctl = &cs[subs];
        for (int k = 0; k < 2 * changes; k++) {
                const char *method = k % 2 == 0 ? "container.pause" : "container.resume";
                int len = snprintf(req, sizeof req,
                                   "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":{\"name\":\"%s\","
                                   "\"tag\":\"%s\"}}",
                                   k + 10, method, name, tag);
                send_text(ctl, req, (size_t)len);
                wait_reply(ctl, (uint64_t)k + 10);
                /* every subscriber receives exactly this one event */
                int got = 0;
                bool *have = lcd_calloc((size_t)subs, sizeof *have);
                while (got < subs) {
                        for (int i = 0; i < subs; i++)
                                pf[i] = (struct pollfd){.fd = cs[i].fd, .events = have[i] ? 0 : POLLIN};
                        if (poll(pf, (nfds_t)subs, 30000) <= 0)
                                die("events did not arrive in 30 s");
                        for (int i = 0; i < subs; i++) {
                                if (!(pf[i].revents & POLLIN))
                                        continue;
                                read_some(&cs[i]);
                                size_t mlen, used;
                                char *m;
                                while (!have[i] && (m = next_message(&cs[i], &mlen, &used)) != NULL) {
                                        int64_t arrived = wall_us();
                                        char *t = memmem(m, mlen, "\"time\":\"", 8);
                                        if (t != NULL && n < cap) {
                                                int64_t pub = parse_time_us(t + 8);
                                                if (pub > 0)
                                                        lat[n++] = arrived - pub;
                                        }
                                        have[i] = true;
                                        got++;
                                        consume(&cs[i], used);
                                }
                        }
                }
                lcd_free(have);
        }
        qsort(lat, n, sizeof *lat, cmp_i64);
        printf("fanout subscribers=%d events=%zu p50_us=%lld p99_us=%lld max_us=%lld\n", subs, n,
               (long long)pct(lat, n, 50), (long long)pct(lat, n, 99), (long long)(n ? lat[n - 1] : -1));
        for (int i = 0; i <= subs; i++) {
                lcd_ws_close(cs[i].ws);
                lcd_free(cs[i].buf);
        }
        lcd_free(cs);
        lcd_free(pf);
        lcd_free(lat);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 8 && strcmp(argv[1], "rtt") == 0) {
                raise_nofile();
                return cmd_rtt(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]), argv[6], argv[7]);
        }
        if (argc == 7 && strcmp(argv[1], "fanout") == 0)
                return cmd_fanout(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5], argv[6]);
        fprintf(stderr, "usage: wsbench rtt TARGET CLIENTS DEPTH SECONDS METHOD PARAMS_JSON\n"
                        "       wsbench fanout TARGET SUBSCRIBERS CHANGES NAME TAG\n");
        return 2;
}

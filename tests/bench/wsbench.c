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
#include "wsconn.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
        wsconn_t w;
        int inflight;
        uint64_t next_id;
        int64_t *sent_at; /* by id % depth */
} conn_t;

#define die wsconn_die
#define mono_us wsconn_mono_us
#define wall_us wsconn_wall_us

static int cmd_rtt(const char *target, int clients, int depth, double seconds, const char *method, const char *params)
{
        conn_t *cs = lcd_calloc((size_t)clients, sizeof *cs);
        struct pollfd *pf = lcd_calloc((size_t)clients, sizeof *pf);
        size_t lat_cap = 1 << 22, nlat = 0;
        int64_t *lat = lcd_malloc(lat_cap * sizeof *lat);
        if (cs == NULL || pf == NULL || lat == NULL)
                die("out of memory");
        for (int i = 0; i < clients; i++) {
                wsconn_open(&cs[i].w, target, NULL);
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
                                wsconn_send(&c->w, req, (size_t)n);
                                c->inflight++;
                        }
                        live += c->inflight > 0;
                        pf[i] = (struct pollfd){.fd = c->w.fd, .events = POLLIN};
                }
                if (stopping && live == 0)
                        break;
                if (poll(pf, (nfds_t)clients, 1000) < 0 && errno != EINTR)
                        die("poll");
                for (int i = 0; i < clients; i++) {
                        if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        conn_t *c = &cs[i];
                        wsconn_read(&c->w);
                        size_t len, used;
                        char *m;
                        while ((m = wsconn_next(&c->w, &len, &used)) != NULL) {
                                /* replies carry "id":N right after "jsonrpc" */
                                char *p = memmem(m, len, "\"id\":", 5);
                                uint64_t id = p ? strtoull(p + 5, NULL, 10) : 0;
                                if (memmem(m, len, "\"error\"", 7) != NULL)
                                        errors++;
                                if (nlat < lat_cap)
                                        lat[nlat++] = mono_us() - c->sent_at[id % (uint64_t)depth];
                                c->inflight--;
                                done++;
                                wsconn_consume(&c->w, used);
                        }
                }
        }
        double secs = (double)(mono_us() - t0) / 1e6;
        int64_t p50 = wsconn_percentile(lat, nlat, 50), p99 = wsconn_percentile(lat, nlat, 99);
        printf("rtt clients=%d depth=%d requests=%llu seconds=%.2f rps=%.0f p50_us=%lld p99_us=%lld errors=%llu\n",
               clients, depth, (unsigned long long)done, secs, (double)done / secs, (long long)p50, (long long)p99,
               (unsigned long long)errors);
        for (int i = 0; i < clients; i++) {
                wsconn_close(&cs[i].w);
                lcd_free(cs[i].sent_at);
        }
        lcd_free(cs);
        lcd_free(pf);
        lcd_free(lat);
        return 0;
}

/* Wait for a reply to request id on c (blocking poll), ignoring other messages. */
static void wait_reply(wsconn_t *c, uint64_t id)
{
        char want[40];
        snprintf(want, sizeof want, "\"id\":%llu", (unsigned long long)id);
        for (;;) {
                size_t len, used;
                char *m;
                while ((m = wsconn_next(c, &len, &used)) != NULL) {
                        bool match = memmem(m, len, want, strlen(want)) != NULL;
                        if (match && memmem(m, len, "\"error\"", 7) != NULL) {
                                fprintf(stderr, "wsbench: %.*s\n", (int)len, m);
                                die("the control request failed");
                        }
                        wsconn_consume(c, used);
                        if (match)
                                return;
                }
                struct pollfd p = {.fd = c->fd, .events = POLLIN};
                if (poll(&p, 1, 30000) <= 0)
                        die("no reply in 30 s");
                wsconn_read(c);
        }
}

static int cmd_fanout(const char *target, int subs, int changes, const char *name, const char *tag)
{
        wsconn_raise_nofile();
        wsconn_t *cs = lcd_calloc((size_t)subs + 1, sizeof *cs);
        struct pollfd *pf = lcd_calloc((size_t)subs, sizeof *pf);
        size_t cap = (size_t)subs * (size_t)changes * 2 + 16, n = 0;
        int64_t *lat = lcd_malloc(cap * sizeof *lat);
        if (cs == NULL || pf == NULL || lat == NULL)
                die("out of memory");
        char req[512];
        for (int i = 0; i <= subs; i++)
                wsconn_open(&cs[i], target, NULL);
        for (int i = 0; i < subs; i++) {
                int len = snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.subscribe\"}");
                wsconn_send(&cs[i], req, (size_t)len);
                wait_reply(&cs[i], 1);
        }
        wsconn_t *ctl = &cs[subs];
        for (int k = 0; k < 2 * changes; k++) {
                const char *method = k % 2 == 0 ? "container.pause" : "container.resume";
                int len = snprintf(req, sizeof req,
                                   "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":{\"name\":\"%s\","
                                   "\"tag\":\"%s\"}}",
                                   k + 10, method, name, tag);
                wsconn_send(ctl, req, (size_t)len);
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
                                wsconn_read(&cs[i]);
                                size_t mlen, used;
                                char *m;
                                while (!have[i] && (m = wsconn_next(&cs[i], &mlen, &used)) != NULL) {
                                        int64_t arrived = wall_us();
                                        char *t = memmem(m, mlen, "\"time\":\"", 8);
                                        if (t != NULL && n < cap) {
                                                int64_t pub = wsconn_parse_time_us(t + 8);
                                                if (pub > 0)
                                                        lat[n++] = arrived - pub;
                                        }
                                        have[i] = true;
                                        got++;
                                        wsconn_consume(&cs[i], used);
                                }
                        }
                }
                lcd_free(have);
        }
        int64_t p50 = wsconn_percentile(lat, n, 50), p99 = wsconn_percentile(lat, n, 99);
        printf("fanout subscribers=%d events=%zu p50_us=%lld p99_us=%lld max_us=%lld\n", subs, n, (long long)p50,
               (long long)p99, (long long)(n ? lat[n - 1] : -1));
        for (int i = 0; i <= subs; i++)
                wsconn_close(&cs[i]);
        lcd_free(cs);
        lcd_free(pf);
        lcd_free(lat);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 8 && strcmp(argv[1], "rtt") == 0) {
                wsconn_raise_nofile();
                return cmd_rtt(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]), argv[6], argv[7]);
        }
        if (argc == 7 && strcmp(argv[1], "fanout") == 0)
                return cmd_fanout(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5], argv[6]);
        fprintf(stderr, "usage: wsbench rtt TARGET CLIENTS DEPTH SECONDS METHOD PARAMS_JSON\n"
                        "       wsbench fanout TARGET SUBSCRIBERS CHANGES NAME TAG\n");
        return 2;
}

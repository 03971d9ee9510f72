/* loadgen.c - the load client: many WebSocket clients doing mixed
 * requests, plus many subscribers, in one poll() loop.
 *
 *   loadgen TARGET IMAGE CLIENTS SUBSCRIBERS SECONDS
 *
 * Each of CLIENTS connections runs, one request at a time, cycles of
 *   inspect (of a shared container "base0".."base7", made by the caller),
 *   container.list, system.info, events.subscribe (its own name), then
 *   create + start of its own container ld<i>:<cycle>, two more light
 *   requests, and remove --force;
 * a create refused with `busy` skips the cycle's start and remove, a
 * refused remove is retried. SUBSCRIBERS connections subscribe to every
 * event and time each one from its publication ("time") to its arrival.
 * They check that they see every seq exactly once, in order; one that
 * falls behind gets `lagged` and resubscribes with `since` (what a real
 * client does), so lagging costs latency, never an event. After SECONDS
 * no new cycle starts; clients remove what they made.
 *
 * Prints one line of figures:
 *   load clients= subscribers= seconds= requests= rps= light_p50_us=
 *   light_p99_us= heavy_p50_us= heavy_p99_us= busy= errors= events=
 *   event_p50_us= event_p99_us= lagged= gaps= cycles=
 * (gaps: events missed or repeated by a subscriber; must be 0)
 * and the first few unexpected errors on stderr. Exit 0 when it ran (the
 * caller asserts), 1 when it could not, or when a request went unanswered
 * for 60 s or a connection was closed.
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

#define BASES 8
#define SAMPLES (1u << 22)          /* latency samples kept per kind (reservoir beyond) */
#define REQUEST_TIMEOUT_US 60000000 /* a request unanswered this long is a failure */

enum step { INSPECT, LIST, INFO, SUBSCRIBE, CREATE, START, LIGHT1, LIGHT2, REMOVE, STEPS };

typedef struct {
        wsconn_t w;
        int index;
        enum step step;
        unsigned cycle;
        bool exists;   /* its container of this cycle was created */
        bool inflight; /* a request is out */
        bool heavy;    /* ... and it is a create/start/remove */
        bool done;     /* past the deadline with nothing left to remove */
        uint64_t id;
        int64_t sent_us;
} client_t;

typedef struct {
        int64_t *v;
        size_t n, seen;
} samples_t;

static uint64_t rng = 88172645463325252ull;

static void sample(samples_t *s, int64_t x)
{
        s->seen++;
        if (s->n < SAMPLES) {
                s->v[s->n++] = x;
                return;
        }
        rng ^= rng << 13; /* reservoir sampling: every sample kept with equal chance */
        rng ^= rng >> 7;
        rng ^= rng << 17;
        uint64_t k = rng % s->seen;
        if (k < SAMPLES)
                s->v[k] = x;
}

static void samples_init(samples_t *s)
{
        s->v = lcd_malloc(SAMPLES * sizeof *s->v);
        if (s->v == NULL)
                wsconn_die("out of memory");
}

typedef struct {
        wsconn_t w;
        uint64_t last; /* the last seq seen; 0 until the subscription's reply */
        bool resync;   /* lagged: a subscribe with since is out */
} sub_t;

static const char *image;
static unsigned long long busy, errors, cycles;
static int shown;

static void send_step(client_t *c)
{
        char req[1024];
        const char *light[] = {"container.list", "system.info"};
        int n;
        c->id++;
        c->heavy = c->step == CREATE || c->step == START || c->step == REMOVE;
        switch (c->step) {
        case INSPECT:
                n = snprintf(req, sizeof req,
                             "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"container.inspect\",\"params\":"
                             "{\"name\":\"base%u\",\"tag\":\"1\"}}",
                             (unsigned long long)c->id, (c->cycle + (unsigned)c->index) % BASES);
                break;
        case SUBSCRIBE:
                n = snprintf(req, sizeof req,
                             "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"events.subscribe\",\"params\":"
                             "{\"names\":[\"ld%d\"]}}",
                             (unsigned long long)c->id, c->index);
                break;
        case CREATE:
                n = snprintf(req, sizeof req,
                             "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"container.create\",\"params\":"
                             "{\"image\":\"%s\",\"name\":\"ld%d\",\"tag\":\"c%u\",\"cmd\":[\"/bin/sleep\",\"1000\"]}}",
                             (unsigned long long)c->id, image, c->index, c->cycle);
                break;
        case START:
        case REMOVE:
                n = snprintf(req, sizeof req,
                             "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"container.%s\",\"params\":"
                             "{\"name\":\"ld%d\",\"tag\":\"c%u\"%s}}",
                             (unsigned long long)c->id, c->step == START ? "start" : "remove", c->index, c->cycle,
                             c->step == REMOVE ? ",\"force\":true" : "");
                break;
        default:
                n = snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"%s\"}",
                             (unsigned long long)c->id, light[(c->step + c->cycle) % 2]);
                break;
        }
        c->sent_us = wsconn_mono_us();
        c->inflight = true;
        wsconn_send(&c->w, req, (size_t)n);
}

/* The reply to c's request: account for it and choose the next step. */
static void on_reply(client_t *c, const char *m, size_t len, samples_t *light, samples_t *heavy)
{
        int64_t took = wsconn_mono_us() - c->sent_us;
        sample(c->heavy ? heavy : light, took);
        c->inflight = false;
        bool is_busy = false, failed = memmem(m, len, "\"error\"", 7) != NULL;
        if (failed) {
                is_busy = memmem(m, len, "\"reason\":\"busy\"", 15) != NULL;
                if (is_busy) {
                        busy++;
                } else {
                        errors++;
                        if (shown++ < 5)
                                fprintf(stderr, "loadgen: unexpected error: %.*s\n", (int)(len < 400 ? len : 400), m);
                }
        }
        switch (c->step) {
        case CREATE:
                c->exists = !failed;
                c->step = failed ? STEPS : START; /* refused: no start, nothing to remove */
                break;
        case REMOVE:
                if (failed && c->exists) /* busy: try again */
                        return;
                c->exists = false;
                c->step = STEPS;
                break;
        case LIGHT2:
                c->step = c->exists ? REMOVE : STEPS;
                break;
        default:
                c->step++;
        }
        if (c->step == STEPS) {
                c->step = INSPECT;
                c->cycle++;
                cycles++;
        }
}

static uint64_t seq_of(const char *m, size_t len)
{
        const char *p = memmem(m, len, "\"seq\":", 6);
        return p ? strtoull(p + 6, NULL, 10) : 0;
}

/* A message to a subscriber: a reply (to its subscribe) or an event. */
static void on_sub_message(sub_t *s, const char *m, size_t len, bool note, samples_t *ev, unsigned long long *events,
                           unsigned long long *lagged, unsigned long long *gaps)
{
        if (!note) { /* {"seq":latest,...}: the subscription starts (again) after it */
                if (memmem(m, len, "\"error\"", 7) != NULL) {
                        fprintf(stderr, "loadgen: subscribe failed: %.*s\n", (int)(len < 300 ? len : 300), m);
                        (*gaps)++; /* a `gone`: events were lost to this subscriber */
                }
                if (s->last == 0)
                        s->last = seq_of(m, len);
                s->resync = false;
                return;
        }
        if (memmem(m, len, "\"type\":\"lagged\"", 15) != NULL) {
                char req[128];
                int n = snprintf(req, sizeof req,
                                 "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"events.subscribe\",\"params\":"
                                 "{\"since\":%llu}}",
                                 (unsigned long long)s->last);
                wsconn_send(&s->w, req, (size_t)n);
                s->resync = true;
                (*lagged)++;
                return;
        }
        if (memmem(m, len, "\"type\":\"heartbeat\"", 18) != NULL)
                return;
        uint64_t seq = seq_of(m, len);
        if (seq != s->last + 1)
                (*gaps)++;
        s->last = seq;
        int64_t arrived = wsconn_wall_us();
        const char *t = memmem(m, len, "\"time\":\"", 8);
        int64_t pub = t ? wsconn_parse_time_us(t + 8) : -1;
        if (pub > 0) {
                sample(ev, arrived - pub);
                (*events)++;
        }
}

int main(int argc, char **argv)
{
        if (argc != 6) {
                fprintf(stderr, "usage: loadgen TARGET IMAGE CLIENTS SUBSCRIBERS SECONDS\n");
                return 2;
        }
        const char *target = argv[1];
        image = argv[2];
        int nclients = atoi(argv[3]), nsubs = atoi(argv[4]);
        double seconds = atof(argv[5]);
        if (nclients < 1 || nsubs < 0 || seconds <= 0)
                wsconn_die("bad arguments");
        wsconn_raise_nofile();
        client_t *cs = lcd_calloc((size_t)nclients, sizeof *cs);
        sub_t *subs = lcd_calloc((size_t)nsubs + 1, sizeof *subs);
        struct pollfd *pf = lcd_calloc((size_t)(nclients + nsubs), sizeof *pf);
        if (cs == NULL || subs == NULL || pf == NULL)
                wsconn_die("out of memory");
        samples_t light = {0}, heavy = {0}, ev = {0};
        samples_init(&light);
        samples_init(&heavy);
        samples_init(&ev);
        /* subscribers first, so they see everything the clients do */
        for (int i = 0; i < nsubs; i++) {
                wsconn_open(&subs[i].w, target, NULL);
                static const char sub[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.subscribe\"}";
                wsconn_send(&subs[i].w, sub, sizeof sub - 1);
        }
        for (int i = 0; i < nclients; i++) {
                wsconn_open(&cs[i].w, target, NULL);
                cs[i].index = i;
        }
        unsigned long long requests = 0, events = 0, lagged = 0, gaps = 0;
        int64_t t0 = wsconn_mono_us(), end = t0 + (int64_t)(seconds * 1e6);
        for (;;) {
                int64_t now = wsconn_mono_us();
                bool late = now >= end;
                int open = 0;
                for (int i = 0; i < nclients; i++) {
                        client_t *c = &cs[i];
                        if (!c->inflight && !c->done) {
                                if (late && !c->exists)
                                        c->done = true; /* the deadline: finish cycles only to remove */
                                else {
                                        if (late && c->step != REMOVE)
                                                c->step = REMOVE;
                                        send_step(c);
                                }
                        }
                        if (c->inflight && now - c->sent_us > REQUEST_TIMEOUT_US)
                                wsconn_die("a request went unanswered for 60 s");
                        open += !c->done;
                        pf[i] = (struct pollfd){.fd = c->w.fd, .events = POLLIN};
                }
                if (open == 0)
                        break;
                for (int i = 0; i < nsubs; i++)
                        pf[nclients + i] = (struct pollfd){.fd = subs[i].w.fd, .events = POLLIN};
                if (poll(pf, (nfds_t)(nclients + nsubs), 1000) < 0 && errno != EINTR)
                        wsconn_die("poll");
                for (int i = 0; i < nclients + nsubs; i++) {
                        if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        bool is_sub = i >= nclients;
                        sub_t *sb = is_sub ? &subs[i - nclients] : NULL;
                        wsconn_t *w = is_sub ? &sb->w : &cs[i].w;
                        wsconn_read(w);
                        size_t len, used;
                        char *m;
                        while ((m = wsconn_next(w, &len, &used)) != NULL) {
                                bool note = len > 30 && memmem(m, len < 48 ? len : 48, "\"method\":", 9) != NULL;
                                if (is_sub)
                                        on_sub_message(sb, m, len, note, &ev, &events, &lagged, &gaps);
                                else if (!note) {
                                        requests++;
                                        on_reply(&cs[i], m, len, &light, &heavy);
                                }
                                wsconn_consume(w, used);
                        }
                }
        }
        double secs = (double)(wsconn_mono_us() - t0) / 1e6;
        int64_t lp50 = wsconn_percentile(light.v, light.n, 50), lp99 = wsconn_percentile(light.v, light.n, 99);
        int64_t hp50 = wsconn_percentile(heavy.v, heavy.n, 50), hp99 = wsconn_percentile(heavy.v, heavy.n, 99);
        int64_t ep50 = wsconn_percentile(ev.v, ev.n, 50), ep99 = wsconn_percentile(ev.v, ev.n, 99);
        printf("load clients=%d subscribers=%d seconds=%.1f requests=%llu rps=%.0f light_p50_us=%lld "
               "light_p99_us=%lld heavy_p50_us=%lld heavy_p99_us=%lld busy=%llu errors=%llu "
               "events=%llu event_p50_us=%lld event_p99_us=%lld lagged=%llu gaps=%llu cycles=%llu\n",
               nclients, nsubs, secs, requests, (double)requests / secs, (long long)lp50, (long long)lp99,
               (long long)hp50, (long long)hp99, busy, errors, events, (long long)ep50, (long long)ep99, lagged, gaps,
               cycles);
        for (int i = 0; i < nclients; i++)
                wsconn_close(&cs[i].w);
        for (int i = 0; i < nsubs; i++)
                wsconn_close(&subs[i].w);
        lcd_free(cs);
        lcd_free(subs);
        lcd_free(pf);
        lcd_free(light.v);
        lcd_free(heavy.v);
        lcd_free(ev.v);
        return 0;
}

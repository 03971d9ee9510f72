/* metrics.c - see metrics.h. */
#include "metrics.h"

#include "lcd/alloc.h"
#include "lcd/ident.h"
#include "lcd/timeutil.h"

#include <stdarg.h>
#include <stdio.h>

static const double buckets_s[LCD_RPC_BUCKETS] = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30};

void lcd_metrics_rpc(lcd_api_t *api, int method, bool error, int64_t start_us)
{
        lcd_rpc_metrics_t *m = &api->metrics;
        if (method < 0 || method >= LCD_RPC_METHODS)
                method = LCD_RPC_METHODS; /* unknown methods share the last slot */
        m->requests[method]++;
        if (error)
                m->errors[method]++;
        double s = (double)(lcd_wall_us() - start_us) / 1e6;
        for (int i = 0; i < LCD_RPC_BUCKETS; i++)
                if (s <= buckets_s[i])
                        m->bucket[i]++;
        m->count++;
        m->sum_s += s;
}

/* A growable text buffer for the metrics page (bounded by what it holds). */
struct text {
        char *p;
        size_t len, cap;
        bool nomem;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
        if (t->nomem)
                return;
        va_list ap;
        for (;;) {
                va_start(ap, fmt);
                int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        t->nomem = true;
                        return;
                }
                if (t->p != NULL && t->len + (size_t)n < t->cap) {
                        t->len += (size_t)n;
                        return;
                }
                size_t cap = (t->cap ? t->cap * 2 : 8192) + (size_t)n;
                char *q = lcd_realloc(t->p, cap);
                if (q == NULL) {
                        t->nomem = true;
                        return;
                }
                t->p = q;
                t->cap = cap;
        }
}

char *lcd_metrics_text(lcd_api_t *api, const char *(*method_name)(int), size_t *len)
{
        struct text t = {0};
        lcd_engine_stats_t st;
        lcd_engine_counters(api->engine, &st);
        put(&t, "# HELP lcd_containers Containers by state.\n# TYPE lcd_containers gauge\n");
        for (int i = 0; i < LCD_CS__COUNT; i++)
                put(&t, "lcd_containers{state=\"%s\"} %u\n", lcd_cstate_name(i), st.containers[i]);
        put(&t, "# HELP lcd_rpc_requests_total JSON-RPC requests by method.\n# TYPE lcd_rpc_requests_total counter\n");
        for (int i = 0; i <= LCD_RPC_METHODS; i++)
                if (api->metrics.requests[i] > 0)
                        put(&t, "lcd_rpc_requests_total{method=\"%s\"} %llu\n", method_name(i),
                            (unsigned long long)api->metrics.requests[i]);
        put(&t, "# HELP lcd_rpc_errors_total JSON-RPC error replies by method.\n# TYPE lcd_rpc_errors_total counter\n");
        for (int i = 0; i <= LCD_RPC_METHODS; i++)
                if (api->metrics.requests[i] > 0)
                        put(&t, "lcd_rpc_errors_total{method=\"%s\"} %llu\n", method_name(i),
                            (unsigned long long)api->metrics.errors[i]);
        put(&t, "# HELP lcd_rpc_duration_seconds Time from request to reply.\n"
                "# TYPE lcd_rpc_duration_seconds histogram\n");
        for (int i = 0; i < LCD_RPC_BUCKETS; i++)
                put(&t, "lcd_rpc_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets_s[i],
                    (unsigned long long)api->metrics.bucket[i]);
        put(&t, "lcd_rpc_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)api->metrics.count);
        put(&t, "lcd_rpc_duration_seconds_sum %.6f\nlcd_rpc_duration_seconds_count %llu\n", api->metrics.sum_s,
            (unsigned long long)api->metrics.count);
        put(&t,
            "# HELP lcd_queue_depth Operations queued for a worker.\n# TYPE lcd_queue_depth gauge\n"
            "lcd_queue_depth %u\n",
            st.queued);
        put(&t,
            "# HELP lcd_workers_busy Workers running an operation.\n# TYPE lcd_workers_busy gauge\n"
            "lcd_workers_busy %u\n# HELP lcd_workers Worker threads.\n# TYPE lcd_workers gauge\nlcd_workers %u\n",
            st.running, st.workers);
        put(&t,
            "# HELP lcd_operations_waiting Stops waiting for a container to exit (they hold no worker).\n"
            "# TYPE lcd_operations_waiting gauge\nlcd_operations_waiting %u\n",
            st.parked);
        put(&t,
            "# HELP lcd_events_published_total Events published.\n# TYPE lcd_events_published_total counter\n"
            "lcd_events_published_total %llu\n",
            (unsigned long long)lcd_events_latest(api->events));
        put(&t,
            "# HELP lcd_events_lagged_total Subscriptions ended because the client fell behind.\n"
            "# TYPE lcd_events_lagged_total counter\nlcd_events_lagged_total %llu\n",
            (unsigned long long)api->lagged_count);
        put(&t, "# HELP lcd_create_phase_seconds Time spent in each phase of create and start.\n"
                "# TYPE lcd_create_phase_seconds summary\n");
        for (int p = 0; p < LCD_PHASE__COUNT; p++)
                put(&t,
                    "lcd_create_phase_seconds_sum{phase=\"%s\"} %.6f\nlcd_create_phase_seconds_count{phase=\"%s\"} "
                    "%llu\n",
                    lcd_phase_name(p), (double)st.phase_us[p] / 1e6, lcd_phase_name(p),
                    (unsigned long long)st.phase_count[p]);
        put(&t,
            "# HELP lcd_network_spares_taken_total Private creates that took a private network made ahead.\n"
            "# TYPE lcd_network_spares_taken_total counter\nlcd_network_spares_taken_total %llu\n"
            "# HELP lcd_network_spares_waited_total Of those, creates that took the one being started and waited for "
            "its pasta.\n"
            "# TYPE lcd_network_spares_waited_total counter\nlcd_network_spares_waited_total %llu\n"
            "# HELP lcd_network_spares_missed_total Private creates that found none ready and made their own.\n"
            "# TYPE lcd_network_spares_missed_total counter\nlcd_network_spares_missed_total %llu\n"
            "# HELP lcd_network_spares_ready Private networks made ahead, ready for a create.\n"
            "# TYPE lcd_network_spares_ready gauge\nlcd_network_spares_ready %u\n",
            (unsigned long long)st.spares_taken, (unsigned long long)st.spares_waited,
            (unsigned long long)st.spares_missed, st.spares_ready);
        put(&t,
            "# HELP lcd_published_connections Connections to published TCP ports relayed now.\n"
            "# TYPE lcd_published_connections gauge\nlcd_published_connections %u\n"
            "# HELP lcd_published_connections_total Connections to published TCP ports accepted.\n"
            "# TYPE lcd_published_connections_total counter\nlcd_published_connections_total %llu\n"
            "# HELP lcd_published_connections_dropped_total Connections reset by the relay: over its cap, no "
            "memory, or nothing listening inside.\n"
            "# TYPE lcd_published_connections_dropped_total counter\nlcd_published_connections_dropped_total %llu\n"
            "# HELP lcd_published_udp_flows UDP peers of published ports relayed now.\n"
            "# TYPE lcd_published_udp_flows gauge\nlcd_published_udp_flows %u\n",
            st.relay_conns, (unsigned long long)st.relay_conns_total, (unsigned long long)st.relay_conns_dropped,
            st.relay_flows);
        put(&t,
            "# HELP lcd_execs Exec sessions now (--max-execs).\n# TYPE lcd_execs gauge\nlcd_execs %u\n"
            "# HELP lcd_attaches Clients attached to containers now (--max-execs).\n"
            "# TYPE lcd_attaches gauge\nlcd_attaches %u\n"
            "# HELP lcd_exec_streams Streams the API holds (exec and attach): a WebSocket, or an exec still ending.\n"
            "# TYPE lcd_exec_streams gauge\nlcd_exec_streams %u\n",
            st.execs, st.attaches, api->n_streams);
        if (t.nomem) {
                lcd_free(t.p);
                return NULL;
        }
        *len = t.len;
        return t.p;
}

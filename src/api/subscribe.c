/* subscribe.c - event subscriptions and fan-out.
 *
 * DESIGN: service thread only. Published events sit in the engine's ring
 * (events.h); api->delivered is how far the fan-out has read it. A
 * subscriber receives every event with seq > its sub_after that passes its
 * filter, in seq order, each exactly once:
 *  - plain subscribe: sub_after = the latest seq (given in the reply);
 *  - with `since`: the retained events since+1 .. delivered are replayed
 *    right after the reply, then sub_after = delivered and the fan-out
 *    continues; a `since` older than the ring (or newer than the latest,
 *    e.g. from an earlier daemon run) is `gone`;
 *  - with `initial`: the state of every (matching) container is sent as
 *    container.state events marked "initial", then {"type":"initial.end",
 *    "seq":N} with N the latest seq read before the snapshot, and
 *    sub_after = N. An event after N may repeat what the snapshot showed;
 *    the container's `revision` tells the client it has seen it.
 * A subscriber whose queue cannot take an event is sent {"type":"lagged"}
 * and unsubscribed (it resubscribes with `since`); nobody else waits for
 * it. Idle subscriptions get {"type":"heartbeat","seq":latest}.
 */
#include "subscribe.h"

#include "follow.h"
#include "rpc.h"
#include "stream.h"
#include "waiters.h"
#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/log.h"
#include "lcd/strv.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <string.h>

void lcd_subscribe_stop(lcd_session_t *s)
{
        if (!s->subscribed)
                return;
        lcd_api_t *api = s->api;
        if (s->prev_sub)
                s->prev_sub->next_sub = s->next_sub;
        else
                api->subscribers = s->next_sub;
        if (s->next_sub)
                s->next_sub->prev_sub = s->prev_sub;
        s->next_sub = s->prev_sub = NULL;
        s->subscribed = false;
}

static void link_subscriber(lcd_session_t *s)
{
        if (s->subscribed)
                return;
        s->subscribed = true;
        s->next_sub = s->api->subscribers;
        if (s->next_sub)
                s->next_sub->prev_sub = s;
        s->api->subscribers = s;
}

static bool matches(const lcd_sub_filter_t *f, lcd_event_type_t type, const char *name)
{
        if (f->types != 0 && !(f->types & (1u << type)))
                return false;
        if (f->names == NULL || type == LCD_EV_PROGRESS) /* image events belong to no container */
                return true;
        for (size_t i = 0; f->names[i] != NULL; i++)
                if (strcmp(f->names[i], name) == 0)
                        return true;
        return false;
}

/* {"seq","time","type",...} for a ring event; NULL on allocation failure. */
static json_object *event_params(const lcd_event_t *e)
{
        json_object *o = json_object_new_object();
        if (o == NULL)
                return NULL;
        char ts[40];
        lcd_rfc3339_us(e->time_us, ts, sizeof ts);
        int rc = 0;
        rc |= lcd_json_set(o, "seq", json_object_new_uint64(e->seq));
        rc |= lcd_json_set(o, "time", json_object_new_string(ts));
        rc |= lcd_json_set(o, "type", json_object_new_string(lcd_event_type_name(e->type)));
        if (e->type == LCD_EV_PROGRESS) {
                static const char *const phases[] = {"pulling", "unpacking", "done"};
                rc |= lcd_json_set(o, "ref", json_object_new_string(e->ref));
                rc |= lcd_json_set(o, "phase", json_object_new_string(phases[e->phase % 3]));
                rc |= lcd_json_set_null(o, "bytes"); /* skopeo --quiet reports none */
                if (rc != 0) {
                        json_object_put(o);
                        return NULL;
                }
                return o;
        }
        rc |= lcd_json_set(o, "name", json_object_new_string(e->name));
        rc |= lcd_json_set(o, "tag", json_object_new_string(e->tag));
        if (e->type == LCD_EV_EXEC_STARTED || e->type == LCD_EV_EXEC_EXITED) {
                rc |= lcd_json_set(o, "execId", json_object_new_string(e->exec_id));
                if (e->has_exit_code)
                        rc |= lcd_json_set(o, "exitCode", json_object_new_int(e->exit_code));
                if (rc != 0) {
                        json_object_put(o);
                        return NULL;
                }
                return o;
        }
        rc |= lcd_json_set(o, "revision", json_object_new_uint64(e->revision));
        const char *st = lcd_cstate_name(e->state), *prev = lcd_cstate_name(e->previous);
        rc |= lcd_json_set_str(o, "state", st);
        rc |= lcd_json_set_str(o, "previous", prev);
        if (e->has_exit_code)
                rc |= lcd_json_set(o, "exitCode", json_object_new_int(e->exit_code));
        if (e->error[0])
                rc |= lcd_json_set(o, "error", json_object_new_string(e->error));
        if (rc != 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static lcd_msg_t *event_msg(json_object *params)
{
        json_object *n = params ? lcd_rpc_notification("event", params) : NULL;
        lcd_msg_t *m = n ? lcd_msg_from_json(n) : NULL;
        json_object_put(n);
        return m;
}

/* A control event {"type":type,"seq":seq}; room: queue slots to keep. */
static int send_control(lcd_session_t *s, const char *type, uint64_t seq, unsigned room)
{
        json_object *o = json_object_new_object();
        int rc = lcd_json_set(o, "type", json_object_new_string(type));
        rc |= lcd_json_set(o, "seq", json_object_new_uint64(seq));
        if (rc != 0) {
                json_object_put(o);
                o = NULL;
        }
        lcd_msg_t *m = event_msg(o);
        int r = m ? lcd_session_push(s, m, room) : -ENOMEM;
        lcd_msg_unref(m);
        return r;
}

static void send_lagged(lcd_session_t *s, uint64_t seq)
{
        s->api->lagged_count++;
        lcd_subscribe_stop(s);
        if (send_control(s, "lagged", seq, 0) < 0)
                lcd_session_kill(s, "event queue overflow");
}

void lcd_subscribe_fan_out(lcd_api_t *api)
{
        uint64_t latest = lcd_events_latest(api->events);
        while (api->delivered < latest) {
                lcd_event_t e;
                int r = lcd_events_get(api->events, api->delivered + 1, &e);
                if (r == -ESTALE) {
                        /* we fell behind the ring: every subscriber missed events */
                        lcd_warn("event fan-out fell behind the event ring at seq %llu",
                                 (unsigned long long)api->delivered + 1);
                        while (api->subscribers)
                                send_lagged(api->subscribers, api->delivered);
                        api->delivered = latest;
                        break;
                }
                if (r < 0)
                        break;
                api->delivered = e.seq;
                lcd_waiters_on_event(api, &e);
                lcd_stream_on_event(api, &e);
                lcd_follow_on_event(api, &e);
                lcd_msg_t *m = NULL;
                bool built = false;
                for (lcd_session_t *s = api->subscribers, *next; s != NULL; s = next) {
                        next = s->next_sub;
                        if (e.seq <= s->sub_after || !matches(&s->filter, e.type, e.name))
                                continue;
                        if (!built) { /* once per event, shared by every subscriber */
                                m = event_msg(event_params(&e));
                                built = true;
                        }
                        if (m == NULL || lcd_session_push(s, m, LCD_SESSION_EVENT_ROOM) < 0)
                                send_lagged(s, e.seq - 1);
                }
                lcd_msg_unref(m);
        }
}

/* Replay since+1 .. api->delivered to s. */
static int replay(lcd_session_t *s, uint64_t since)
{
        for (uint64_t seq = since + 1; seq <= s->api->delivered; seq++) {
                lcd_event_t e;
                if (lcd_events_get(s->api->events, seq, &e) < 0)
                        return -ESTALE;
                if (!matches(&s->filter, e.type, e.name))
                        continue;
                lcd_msg_t *m = event_msg(event_params(&e));
                int r = m ? lcd_session_push(s, m, LCD_SESSION_EVENT_ROOM) : -ENOMEM;
                lcd_msg_unref(m);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The current state of every matching container, then initial.end. */
static int send_initial(lcd_session_t *s, uint64_t upto)
{
        json_object *list = lcd_engine_list(s->api->engine, NULL);
        if (list == NULL)
                return -ENOMEM;
        int r = 0;
        char ts[40];
        lcd_rfc3339_us(lcd_wall_us(), ts, sizeof ts);
        for (size_t i = 0; r == 0 && i < json_object_array_length(list); i++) {
                json_object *c = json_object_array_get_idx(list, i);
                const char *name = json_object_get_string(json_object_object_get(c, "name"));
                if (!matches(&s->filter, LCD_EV_STATE, name))
                        continue;
                json_object *o = json_object_new_object();
                int rc = o ? 0 : -1;
                if (o != NULL) {
                        rc |= lcd_json_set(o, "seq", json_object_new_uint64(upto));
                        rc |= lcd_json_set(o, "time", json_object_new_string(ts));
                        rc |= lcd_json_set(o, "type", json_object_new_string("container.state"));
                        rc |= lcd_json_set(o, "initial", json_object_new_boolean(1));
                        static const char *const copy[] = {"name", "tag", "revision", "state", "exitCode", NULL};
                        for (int k = 0; copy[k] != NULL; k++) {
                                json_object *v = json_object_object_get(c, copy[k]);
                                rc |= v ? lcd_json_set(o, copy[k], json_object_get(v)) : lcd_json_set_null(o, copy[k]);
                        }
                        rc |= lcd_json_set_null(o, "previous");
                }
                if (rc != 0) {
                        json_object_put(o);
                        r = -ENOMEM;
                        break;
                }
                lcd_msg_t *m = event_msg(o);
                r = m ? lcd_session_push(s, m, LCD_SESSION_EVENT_ROOM) : -ENOMEM;
                lcd_msg_unref(m);
        }
        json_object_put(list);
        return r == 0 ? send_control(s, "initial.end", upto, LCD_SESSION_EVENT_ROOM) : r;
}

int lcd_subscribe_start(lcd_session_t *s, bool has_id, json_object *id, lcd_sub_request_t *req, lcd_error_t **err)
{
        lcd_api_t *api = s->api;
        uint64_t latest = lcd_events_latest(api->events);
        if (req->has_since && !req->initial) {
                uint64_t oldest = lcd_events_oldest(api->events);
                if (req->since + 1 < oldest || req->since > latest) {
                        lcd_error_set(err, LCD_E_GONE,
                                      req->since > latest
                                              ? "seq %llu is newer than this daemon run's latest (%llu): the daemon "
                                                "restarted; list again and subscribe without since"
                                              : "events after seq %llu are no longer retained; list again (or use "
                                                "initial) and subscribe",
                                      (unsigned long long)req->since, (unsigned long long)latest);
                        (*err)->oldest_seq = (int64_t)oldest;
                        lcd_strv_free(req->filter.names);
                        req->filter.names = NULL;
                        return LCD_ERR;
                }
        }
        json_object *o = json_object_new_object();
        int rc = lcd_json_set(o, "seq", json_object_new_uint64(latest));
        rc |= lcd_json_set(o, "bootId", json_object_new_string(api->boot_id));
        if (rc != 0) {
                json_object_put(o);
                lcd_strv_free(req->filter.names);
                req->filter.names = NULL;
                return lcd_error_nomem(err);
        }
        lcd_strv_free(s->filter.names);
        s->filter = req->filter;
        req->filter.names = NULL;
        if (has_id)
                lcd_session_send_json(s, lcd_rpc_result(id, o));
        else
                json_object_put(o); /* a notification gets no reply */
        int r = 0;
        if (req->initial) {
                r = send_initial(s, latest);
                s->sub_after = latest;
        } else if (req->has_since) {
                r = replay(s, req->since);
                s->sub_after = req->since > api->delivered ? req->since : api->delivered;
        } else {
                s->sub_after = latest;
        }
        link_subscriber(s);
        if (r < 0) /* the replay or snapshot did not fit: the client resubscribes */
                send_lagged(s, req->since);
        return 0;
}

static void heartbeat_cb(lws_sorted_usec_list_t *sul)
{
        lcd_api_t *api = lws_container_of(sul, lcd_api_t, heartbeat);
        int64_t now = lcd_now_ms(), idle = (int64_t)api->heartbeat_s * 1000;
        uint64_t latest = lcd_events_latest(api->events);
        for (lcd_session_t *s = api->subscribers, *next; s != NULL; s = next) {
                next = s->next_sub;
                if (now - s->last_sent_ms >= idle - 50 && send_control(s, "heartbeat", latest, 0) < 0)
                        lcd_session_kill(s, "cannot queue a heartbeat");
        }
        lws_sul_schedule(api->ctx, 0, &api->heartbeat, heartbeat_cb, (lws_usec_t)api->heartbeat_s * LWS_US_PER_SEC);
}

void lcd_subscribe_heartbeats(lcd_api_t *api, int interval_s)
{
        api->heartbeat_s = interval_s;
        if (interval_s > 0)
                lws_sul_schedule(api->ctx, 0, &api->heartbeat, heartbeat_cb, (lws_usec_t)interval_s * LWS_US_PER_SEC);
}

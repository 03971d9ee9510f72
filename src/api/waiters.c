/* waiters.c - container.wait: replies held until a container exits.
 *
 * DESIGN: service thread only. A wait on a container that has exited is
 * answered at once; otherwise the request is parked here (at most
 * LCD_MAX_WAITERS across the daemon, then `busy`) and answered by the
 * event fan-out when the container's `exited` event goes out -- the same
 * ordering as every subscriber sees -- or with not_found when it is removed
 * first. A waiter holds a session reference and counts as one of its
 * requests in flight (--max-inflight bounds each connection's waits); the
 * session's waiters are dropped when it closes. No worker and no timer is
 * involved.
 */
#include "waiters.h"

#include "rpc.h"
#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"

#include <string.h>

typedef struct lcd_waiter lcd_waiter_t;

struct lcd_waiter {
        struct lcd_waiter *next;
        lcd_session_t *session; /* a reference */
        json_object *id;        /* a copy */
        char name[LCD_NAME_MAX + 1];
        char tag[LCD_TAG_MAX + 1];
};

static json_object *exit_result(bool has_code, int code)
{
        json_object *o = json_object_new_object();
        if ((has_code ? lcd_json_set(o, "exitCode", json_object_new_int(code)) : lcd_json_set_null(o, "exitCode")) <
            0) {
                json_object_put(o);
                o = NULL;
        }
        return o;
}

static void waiter_free(lcd_waiter_t *w)
{
        w->session->inflight--;
        json_object_put(w->id);
        lcd_session_unref(w->session);
        lcd_free(w);
}

int lcd_waiters_add(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, const char *name, const char *tag,
                    lcd_error_t **err)
{
        json_object *ct = lcd_engine_inspect(api->engine, name, tag, err);
        if (ct == NULL)
                return LCD_ERR;
        const char *state = json_object_get_string(json_object_object_get(ct, "state"));
        json_object *code = json_object_object_get(ct, "exitCode");
        if (strcmp(state, "exited") == 0) {
                json_object *r = exit_result(code != NULL, json_object_get_int(code));
                json_object_put(ct);
                if (r == NULL)
                        return lcd_error_nomem(err);
                if (req->has_id)
                        lcd_session_send_json(s, lcd_rpc_result(req->id, r));
                else
                        json_object_put(r);
                return 0;
        }
        json_object_put(ct);
        if (!req->has_id) /* a notification: nobody to answer */
                return 0;
        if (api->waiter_count >= LCD_MAX_WAITERS)
                return lcd_error_set(err, LCD_E_BUSY, "%d waits are pending already", LCD_MAX_WAITERS);
        lcd_waiter_t *w = lcd_calloc(1, sizeof *w);
        if (w == NULL || (req->id != NULL && json_object_deep_copy(req->id, &w->id, NULL) != 0)) {
                lcd_free(w);
                return lcd_error_nomem(err);
        }
        snprintf(w->name, sizeof w->name, "%s", name);
        snprintf(w->tag, sizeof w->tag, "%s", tag);
        w->session = s;
        s->refs++;
        s->inflight++; /* a parked wait is a request in flight (--max-inflight) */
        w->next = api->waiters;
        api->waiters = w;
        api->waiter_count++;
        return 0;
}

void lcd_waiters_on_event(lcd_api_t *api, const lcd_event_t *e)
{
        bool exited = e->type == LCD_EV_STATE && e->state == LCD_CS_EXITED;
        if (!exited && e->type != LCD_EV_REMOVED && e->type != LCD_EV_FAILED)
                return;
        for (lcd_waiter_t **pp = &api->waiters; *pp != NULL;) {
                lcd_waiter_t *w = *pp;
                if (strcmp(w->name, e->name) != 0 || strcmp(w->tag, e->tag) != 0) {
                        pp = &w->next;
                        continue;
                }
                *pp = w->next;
                api->waiter_count--;
                if (w->session->open) {
                        if (exited) {
                                json_object *r = exit_result(e->has_exit_code, e->exit_code);
                                lcd_session_send_json(w->session, r ? lcd_rpc_result(w->id, r) : NULL);
                        } else {
                                lcd_error_t *err = NULL;
                                lcd_error_set(&err, LCD_E_NOT_FOUND, "container %s:%s was removed before it exited",
                                              e->name, e->tag);
                                lcd_session_send_error(w->session, w->id, err);
                                lcd_error_free(err);
                        }
                }
                waiter_free(w);
        }
}

void lcd_waiters_drop_session(lcd_api_t *api, const lcd_session_t *s)
{
        for (lcd_waiter_t **pp = &api->waiters; *pp != NULL;) {
                lcd_waiter_t *w = *pp;
                if (w->session != s) {
                        pp = &w->next;
                        continue;
                }
                *pp = w->next;
                api->waiter_count--;
                waiter_free(w);
        }
}

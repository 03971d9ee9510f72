/* methods.c - the v1 method table: parameter validation and dispatch.
 *
 * DESIGN: each handler runs on the service thread. It checks its params
 * (unknown keys are an error), then either answers at once (ping, info,
 * list, inspect, subscribe) or hands the request to the engine with a
 * pending reply that a worker completes. A handler never waits on a tool.
 */
#include "methods.h"

#include "createparams.h"
#include "follow.h"
#include "lcd/compiler.h"
#include "lcd/alloc.h"
#include "lcd/utf8.h"
#include "lcd/jsonwrite.h"
#include "lcd/ident.h"
#include "lcd/log.h"
#include "lcd/strv.h"
#include "lcd/timeutil.h"
#include "metrics.h"
#include "pending.h"
#include "rpc.h"
#include "subscribe.h"
#include "waiters.h"

#include <stdint.h>
#include <string.h>

typedef int (*handler_fn)(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result,
                          lcd_error_t **err);
/* A handler returns 0 with *result (answer now), ASYNC (the engine answers
 * later through the pending reply it was given), REPLIED (it has answered
 * itself), or LCD_ERR with err. */
#define ASYNC 1
/* The method being dispatched (service thread), for the metrics of the
 * pending reply it may create. */
static int current_method = -1;
#define REPLIED 2
#define MAX_FILTER_NAMES 64

static int m_ping(lcd_api_t *api LCD_UNUSED, lcd_session_t *s LCD_UNUSED, lcd_rpc_request_t *req LCD_UNUSED,
                  json_object **result, lcd_error_t **err)
{
        *result = json_object_new_string("pong");
        return *result ? 0 : lcd_error_nomem(err);
}

json_object *lcd_methods_info(lcd_api_t *api, lcd_error_t **err)
{
        json_object *o = lcd_engine_info(api->engine, err);
        if (o != NULL && (lcd_json_set_str(o, "dashboard", api->dashboard[0] ? api->dashboard : NULL) < 0 ||
                          lcd_json_set_str(o, "tokenFile", api->token_path) < 0 ||
                          lcd_json_set(o, "operations", lcd_op_rules_json()) < 0)) {
                json_object_put(o);
                o = NULL;
                lcd_error_nomem(err);
        }
        return o;
}

static int m_info(lcd_api_t *api, lcd_session_t *s LCD_UNUSED, lcd_rpc_request_t *req LCD_UNUSED, json_object **result,
                  lcd_error_t **err)
{
        *result = lcd_methods_info(api, err);
        return *result ? 0 : LCD_ERR;
}

static int m_check(lcd_api_t *api, lcd_session_t *s LCD_UNUSED, lcd_rpc_request_t *req LCD_UNUSED, json_object **result,
                   lcd_error_t **err)
{
        *result = lcd_doctor_json(api->checks, api->n_checks);
        return *result ? 0 : lcd_error_nomem(err);
}

static int m_list(lcd_api_t *api, lcd_session_t *s LCD_UNUSED, lcd_rpc_request_t *req LCD_UNUSED, json_object **result,
                  lcd_error_t **err)
{
        *result = lcd_engine_list(api->engine, err);
        return *result ? 0 : LCD_ERR;
}

static int m_inspect(lcd_api_t *api, lcd_session_t *s LCD_UNUSED, lcd_rpc_request_t *req, json_object **result,
                     lcd_error_t **err)
{
        const char *name, *tag;
        if (lcd_rpc_get_key(req->params, &name, &tag, err) < 0)
                return LCD_ERR;
        *result = lcd_engine_inspect(api->engine, name, tag, err);
        return *result ? 0 : LCD_ERR;
}

static int m_subscribe(lcd_api_t *api LCD_UNUSED, lcd_session_t *s, lcd_rpc_request_t *req,
                       json_object **result LCD_UNUSED, lcd_error_t **err)
{
        lcd_sub_request_t sr = {0};
        const char **names = NULL, **types = NULL;
        bool present;
        int64_t since;
        int rc = LCD_ERR;
        if (lcd_rpc_get_int(req->params, "since", 0, INT64_MAX, &sr.has_since, &since, err) < 0 ||
            lcd_rpc_get_bool(req->params, "initial", &present, &sr.initial, err) < 0 ||
            lcd_rpc_get_strv(req->params, "names", MAX_FILTER_NAMES, 256, &names, err) < 0 ||
            lcd_rpc_get_strv(req->params, "types", LCD_EV__COUNT, 64, &types, err) < 0)
                goto out;
        sr.since = (uint64_t)since;
        for (size_t i = 0; names != NULL && names[i] != NULL; i++)
                if (!lcd_name_valid(names[i])) {
                        lcd_error_invalid(err, "names", "names[%zu] is not a valid container name", i);
                        goto out;
                }
        for (size_t i = 0; types != NULL && types[i] != NULL; i++) {
                int t = 0;
                while (t < LCD_EV__COUNT && strcmp(types[i], lcd_event_type_name((lcd_event_type_t)t)) != 0)
                        t++;
                if (t == LCD_EV__COUNT) {
                        lcd_error_invalid(err, "types",
                                          "types[%zu] must be container.state, container.removed, container.failed, "
                                          "container.network or image.progress",
                                          i);
                        goto out;
                }
                sr.filter.types |= 1u << t;
        }
        if (lcd_strv_dup(names, &sr.filter.names) < 0) {
                lcd_error_nomem(err);
                goto out;
        }
        if (lcd_subscribe_start(s, req->has_id, req->id, &sr, err) == 0)
                rc = REPLIED;
out:
        lcd_free(names);
        lcd_free(types);
        return rc;
}

/* Start an engine call with a pending reply; the pending is freed here when
 * the engine refuses the call. */
static lcd_pending_t *pending_or_err(lcd_session_t *s, lcd_rpc_request_t *req, lcd_error_t **err)
{
        lcd_pending_t *p = lcd_pending_new(s, req);
        if (p == NULL)
                lcd_error_nomem(err);
        else
                p->method = current_method;
        return p;
}

typedef int (*ref_op_fn)(lcd_engine_t *e, const char *ref, lcd_engine_done_fn done, void *ctx, lcd_error_t **err);

/* image.pull and image.remove: {"ref"} to an asynchronous engine call. */
static int ref_op(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, ref_op_fn op, lcd_error_t **err)
{
        const char *ref;
        if (lcd_rpc_get_string(req->params, "ref", true, 1024, &ref, err) < 0)
                return LCD_ERR;
        lcd_pending_t *p = pending_or_err(s, req, err);
        if (p == NULL)
                return LCD_ERR;
        if (op(api->engine, ref, lcd_pending_done, p, err) < 0) {
                lcd_pending_free(p);
                return LCD_ERR;
        }
        return ASYNC;
}

static int m_pull(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                  lcd_error_t **err)
{
        return ref_op(api, s, req, lcd_engine_pull, err);
}

static int m_images(lcd_api_t *api, lcd_session_t *s LCD_UNUSED, lcd_rpc_request_t *req LCD_UNUSED,
                    json_object **result, lcd_error_t **err)
{
        *result = lcd_engine_images(api->engine, err);
        return *result ? 0 : LCD_ERR;
}

static int m_image_inspect(lcd_api_t *api, lcd_session_t *s LCD_UNUSED, lcd_rpc_request_t *req, json_object **result,
                           lcd_error_t **err)
{
        const char *ref;
        if (lcd_rpc_get_string(req->params, "ref", true, 1024, &ref, err) < 0)
                return LCD_ERR;
        *result = lcd_engine_image_inspect(api->engine, ref, err);
        return *result ? 0 : LCD_ERR;
}

static int m_image_remove(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                          lcd_error_t **err)
{
        return ref_op(api, s, req, lcd_engine_image_remove, err);
}

static int m_create(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                    lcd_error_t **err)
{
        lcd_create_params_t cp;
        int rc = LCD_ERR;
        if (lcd_create_params_decode(req->params, &cp, err) < 0)
                goto out;
        lcd_pending_t *p = pending_or_err(s, req, err);
        if (p == NULL)
                goto out;
        if (lcd_engine_create(api->engine, &cp.req, lcd_pending_done, p, err) < 0) {
                lcd_pending_free(p);
                goto out;
        }
        rc = ASYNC;
out:
        lcd_create_params_clear(&cp);
        return rc;
}

static int run_op(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, lcd_op_req_t *op, lcd_error_t **err)
{
        lcd_pending_t *p = pending_or_err(s, req, err);
        if (p == NULL)
                return LCD_ERR;
        if (lcd_engine_op(api->engine, op, lcd_pending_done, p, err) < 0) {
                lcd_pending_free(p);
                return LCD_ERR;
        }
        return ASYNC;
}

static int simple_op(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, lcd_op_t which, lcd_error_t **err)
{
        lcd_op_req_t op = {.op = which};
        if (lcd_rpc_get_key(req->params, &op.name, &op.tag, err) < 0)
                return LCD_ERR;
        return run_op(api, s, req, &op, err);
}

static int m_start(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                   lcd_error_t **err)
{
        return simple_op(api, s, req, LCD_OP_START, err);
}

static int m_pause(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                   lcd_error_t **err)
{
        return simple_op(api, s, req, LCD_OP_PAUSE, err);
}

static int m_resume(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                    lcd_error_t **err)
{
        return simple_op(api, s, req, LCD_OP_RESUME, err);
}

/* stop and restart: {"name","tag","timeout"?} (seconds before SIGKILL, default 10) */
static int stop_like(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, lcd_op_t which, lcd_error_t **err)
{
        lcd_op_req_t op = {.op = which, .timeout_s = 10};
        bool present;
        int64_t t;
        if (lcd_rpc_get_key(req->params, &op.name, &op.tag, err) < 0 ||
            lcd_rpc_get_int(req->params, "timeout", 0, 3600, &present, &t, err) < 0)
                return LCD_ERR;
        if (present)
                op.timeout_s = (int)t;
        return run_op(api, s, req, &op, err);
}

static int m_stop(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                  lcd_error_t **err)
{
        return stop_like(api, s, req, LCD_OP_STOP, err);
}

static int m_kill(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                  lcd_error_t **err)
{
        lcd_op_req_t op = {.op = LCD_OP_KILL, .signal = 9};
        if (lcd_rpc_get_key(req->params, &op.name, &op.tag, err) < 0)
                return LCD_ERR;
        json_object *sig = json_object_object_get(req->params, "signal");
        if (sig != NULL && !json_object_is_type(sig, json_type_null)) {
                int n = -1;
                if (json_object_is_type(sig, json_type_int)) {
                        int64_t v = json_object_get_int64(sig);
                        n = v >= 1 && v <= 64 ? (int)v : -1;
                } else if (json_object_is_type(sig, json_type_string)) {
                        n = lcd_signal_parse(json_object_get_string(sig));
                }
                if (n < 0)
                        return lcd_error_invalid(err, "signal",
                                                 "signal must be a signal name (TERM, SIGKILL, ...) or a number 1..64");
                op.signal = n;
        }
        return run_op(api, s, req, &op, err);
}

static int m_remove(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                    lcd_error_t **err)
{
        lcd_op_req_t op = {.op = LCD_OP_REMOVE};
        bool present;
        if (lcd_rpc_get_key(req->params, &op.name, &op.tag, err) < 0 ||
            lcd_rpc_get_bool(req->params, "force", &present, &op.force, err) < 0)
                return LCD_ERR;
        return run_op(api, s, req, &op, err);
}

static int m_restart(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                     lcd_error_t **err)
{
        return stop_like(api, s, req, LCD_OP_RESTART, err);
}

static int m_wait(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                  lcd_error_t **err)
{
        const char *name, *tag;
        if (lcd_rpc_get_key(req->params, &name, &tag, err) < 0 || lcd_waiters_add(api, s, req, name, tag, err) < 0)
                return LCD_ERR;
        return REPLIED; /* now, or when the container exits */
}

static int m_stats(lcd_api_t *api, lcd_session_t *s LCD_UNUSED, lcd_rpc_request_t *req, json_object **result,
                   lcd_error_t **err)
{
        const char *name, *tag;
        if (lcd_rpc_get_key(req->params, &name, &tag, err) < 0)
                return LCD_ERR;
        *result = lcd_engine_stats(api->engine, name, tag, err);
        return *result ? 0 : LCD_ERR;
}

/* After the tail was read (service thread): follow from where it ended. */
static void follow_from_offset(lcd_pending_t *p)
{
        if (p->result == NULL || !p->session->open)
                return;
        json_object *off = json_object_object_get(p->result, "offset");
        off_t offset = off ? (off_t)json_object_get_int64(off) : 0;
        char path[4096];
        if (lcd_engine_log_path(p->api->engine, p->key_name, p->key_tag, path, sizeof path, &p->err) < 0 ||
            lcd_follow_start(p->api, p->session, p->key_name, p->key_tag, path, offset, &p->err) < 0) {
                json_object_put(p->result);
                p->result = NULL;
                return;
        }
        /* a container that is not running any more will send no exit event */
        json_object *ct = lcd_engine_inspect(p->api->engine, p->key_name, p->key_tag, NULL);
        const char *state = ct ? json_object_get_string(json_object_object_get(ct, "state")) : "exited";
        if (strcmp(state, "exited") == 0)
                lcd_follow_end_later(p->api, p->session, p->key_name, p->key_tag, "exited"); /* after the reply */
        json_object_put(ct);
}

static int m_unfollow(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result, lcd_error_t **err)
{
        const char *name, *tag;
        if (lcd_rpc_get_key(req->params, &name, &tag, err) < 0)
                return LCD_ERR;
        int n = lcd_follow_end(api, s, name, tag, "unfollowed");
        *result = json_object_new_object();
        if (lcd_json_set(*result, "unfollowed", json_object_new_boolean(n > 0)) < 0) {
                json_object_put(*result);
                *result = NULL;
                return lcd_error_nomem(err);
        }
        return 0;
}

#define LOG_TAIL_DEFAULT 1000
#define LOG_TAIL_MAX 100000

static int m_logs(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, json_object **result LCD_UNUSED,
                  lcd_error_t **err)
{
        const char *name, *tag;
        bool has_tail, has_follow, follow = false;
        int64_t tail = LOG_TAIL_DEFAULT;
        if (lcd_rpc_get_key(req->params, &name, &tag, err) < 0 ||
            lcd_rpc_get_int(req->params, "tail", 0, LOG_TAIL_MAX, &has_tail, &tail, err) < 0 ||
            lcd_rpc_get_bool(req->params, "follow", &has_follow, &follow, err) < 0)
                return LCD_ERR;
        if (!has_tail)
                tail = LOG_TAIL_DEFAULT;
        lcd_pending_t *p = pending_or_err(s, req, err);
        if (p == NULL)
                return LCD_ERR;
        if (follow) {
                p->then = follow_from_offset;
                snprintf(p->key_name, sizeof p->key_name, "%s", name);
                snprintf(p->key_tag, sizeof p->key_tag, "%s", tag);
        }
        if (lcd_engine_logs(api->engine, name, tag, (unsigned)tail, lcd_pending_done, p, err) < 0) {
                lcd_pending_free(p);
                return LCD_ERR;
        }
        return ASYNC;
}

/* Each method's allowed parameter names: anything else is `invalid`. */
static const char *const k_none[] = {NULL};
static const char *const k_key[] = {"name", "tag", NULL};
static const char *const k_subscribe[] = {"since", "initial", "names", "types", NULL};
static const char *const k_ref[] = {"ref", NULL};
static const char *const k_stop[] = {"name", "tag", "timeout", NULL};
static const char *const k_kill[] = {"name", "tag", "signal", NULL};
static const char *const k_remove[] = {"name", "tag", "force", NULL};
static const char *const k_logs[] = {"name", "tag", "tail", "follow", NULL};

static const struct {
        const char *name;
        handler_fn fn;
        const char *const *keys;
        bool releases; /* ends requests in flight, so it is taken even when they are at --max-inflight */
} methods[] = {
        {"system.ping", m_ping, k_none, false},
        {"system.info", m_info, k_none, false},
        {"image.pull", m_pull, k_ref, false},
        {"container.create", m_create, lcd_create_param_names, false},
        {"container.start", m_start, k_key, false},
        {"container.stop", m_stop, k_stop, false},
        {"container.kill", m_kill, k_kill, false},
        {"container.pause", m_pause, k_key, false},
        {"container.resume", m_resume, k_key, false},
        {"container.remove", m_remove, k_remove, false},
        {"container.list", m_list, k_none, false},
        {"container.inspect", m_inspect, k_key, false},
        {"events.subscribe", m_subscribe, k_subscribe, false},
        {"container.restart", m_restart, k_stop, false},
        {"container.wait", m_wait, k_key, false},
        {"container.stats", m_stats, k_key, false},
        {"system.check", m_check, k_none, false},
        {"container.logs", m_logs, k_logs, false},
        {"image.list", m_images, k_none, false},
        {"image.inspect", m_image_inspect, k_ref, false},
        {"image.remove", m_image_remove, k_ref, false},
        {"logs.unfollow", m_unfollow, k_key, true},
};

#define N_METHODS (sizeof methods / sizeof methods[0])
_Static_assert(N_METHODS <= LCD_RPC_METHODS, "raise LCD_RPC_METHODS");

const char *lcd_methods_name(int method)
{
        return method >= 0 && (size_t)method < N_METHODS ? methods[method].name : "other";
}

static void dispatch(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req)
{
        lcd_error_t *err = NULL;
        json_object *result = NULL;
        int rc = LCD_ERR;
        int64_t start = lcd_wall_us();
        size_t i = 0;
        for (; i < N_METHODS; i++)
                if (strcmp(methods[i].name, req->method) == 0)
                        break;
        current_method = (int)i;
        if (i == N_METHODS)
                lcd_error_set(&err, LCD_E_NO_METHOD, "method '%.*s' not found", lcd_utf8_clip(req->method, 64),
                              req->method);
        else if (lcd_rpc_check_keys(req->params, methods[i].keys, &err) < 0)
                ; /* err says which parameter */
        else if (s->inflight >= api->limits.max_inflight && !methods[i].releases)
                lcd_error_set(&err, LCD_E_BUSY, "%u requests of this connection are in flight (--max-inflight)",
                              s->inflight);
        else
                rc = methods[i].fn(api, s, req, &result, &err);
        if (rc != ASYNC) /* async ones are counted when their reply goes out */
                lcd_metrics_rpc(api, (int)i, rc < 0, start);
        lcd_debug("%s -> %s", req->method, rc == ASYNC ? "queued" : rc >= 0 ? "ok" : err->msg);
        if (rc == ASYNC || rc == REPLIED)
                return;
        if (req->has_id) {
                if (rc == 0)
                        lcd_session_send_json(s, lcd_rpc_result(req->id, result));
                else
                        lcd_session_send_error(s, req->id, err);
        } else {
                json_object_put(result);
        }
        lcd_error_free(err);
}

void lcd_methods_receive(lcd_session_t *s, const char *text, size_t len)
{
        lcd_error_t *err = NULL;
        lcd_rpc_request_t req;
        if (lcd_rpc_decode(text, len, s->api->limits.max_depth, &req, &err) < 0) {
                lcd_session_send_error(s, req.id, err);
                lcd_error_free(err);
        } else {
                dispatch(s->api, s, &req);
        }
        lcd_rpc_request_clear(&req);
}

/* lifecycle.c - the operations on an existing container: start, pause,
 * resume, stop, restart, kill, remove (see engine.h).
 *
 * DESIGN: lcd_engine_op() runs on the service thread: it looks the
 * container up, checks that its state allows the operation (the
 * LCD_OPERATIONS table of engine.h, which this file also serves to clients
 * as lcd_op_rules_json()) and claims the
 * container's one-operation flag (kill excepted: it changes no state and
 * may overtake a slow stop), then queues the job; a refusal changes
 * nothing. Jobs run on workers and move the state with
 * lcd_container_transition(). A stop's waits for the exit are parked
 * (park.c) rather than held on a worker, so stops of containers that
 * ignore SIGTERM cannot take the pool: SIGTERM, park up to `timeout`,
 * SIGKILL, park up to KILL_GRACE_MS; a restart then starts it again.
 */
#include "engine-internal.h"
#include "netshare.h"
#include "job.h"

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>

#define KILL_GRACE_MS 10000 /* after SIGKILL, how long stop waits for the exit */

static const lcd_op_rule_t rules[LCD_OP__COUNT] = {
#define LCD_X_RULE(op, name, states, unchanged, with_force) [LCD_OP_##op] = {name, states, unchanged, with_force},
        LCD_OPERATIONS(LCD_X_RULE)
#undef LCD_X_RULE
};

const lcd_op_rule_t *lcd_op_rule(lcd_op_t op)
{
        return (unsigned)op < LCD_OP__COUNT ? &rules[op] : NULL;
}

/* o[key] = the names of the states in mask (["created","exited"]), in
 * the order of lcd_cstate_t; nothing for an empty mask. 0, or -1 when out
 * of memory. */
static int states_json(json_object *o, const char *key, unsigned mask)
{
        if (mask == 0)
                return 0;
        json_object *a = json_object_new_array();
        if (a == NULL)
                return -1;
        for (int s = 0; s < LCD_CS__COUNT; s++)
                if ((mask & LCD_CS_BIT(s)) && lcd_json_append(a, json_object_new_string(lcd_cstate_name(s))) < 0) {
                        json_object_put(a);
                        return -1;
                }
        return lcd_json_set(o, key, a);
}

json_object *lcd_op_rules_json(void)
{
        json_object *all = json_object_new_object();
        if (all == NULL)
                return NULL;
        for (int op = 0; op < LCD_OP__COUNT; op++) {
                json_object *o = json_object_new_object();
                if (o == NULL || states_json(o, "states", rules[op].states) < 0 ||
                    states_json(o, "unchanged", rules[op].unchanged) < 0 ||
                    states_json(o, "withForce", rules[op].with_force) < 0) {
                        json_object_put(o);
                        json_object_put(all);
                        return NULL;
                }
                if (lcd_json_set(all, rules[op].name, o) < 0) {
                        json_object_put(all);
                        return NULL;
                }
        }
        return all;
}

static void set_running(lcd_container_t *c, void *arg)
{
        c->pid = *(int *)arg;
        c->started_at = lcd_wall_ms();
        c->finished_at = 0;
        c->has_exit_code = false;
        c->starting = false;
}

/* Start c (created or exited); 0 or LCD_ERR. */
static int do_start(lcd_engine_t *e, lcd_container_t *c, lcd_error_t **err)
{
        pthread_mutex_lock(&c->mu);
        int pid = c->pid;
        c->starting = true;
        c->exit_pending = false;
        pthread_mutex_unlock(&c->mu);
        if (lcd_container_state(c) == LCD_CS_EXITED) {
                /* a second run: a fresh runtime container on the same bundle */
                lcd_runtime_reset(e->rt, c->id);
                lcd_net_spec_t net = lcd_container_net(c);
                net.spare = LCD_SPARE_NO; /* a spare served the first run; this one makes its network */
                if (lcd_runtime_create(e->rt, c->id, c->item.name, &net, lcd_container_io(c), &pid, err) < 0)
                        goto fail;
                char addr[LCD_ADDR_MAX] = "";
                if (c->net_mode == LCD_NET_PRIVATE)
                        lcd_runtime_net_address(e->rt, c->id, addr, sizeof addr);
                pthread_mutex_lock(&c->mu);
                memcpy(c->ip_address, addr, sizeof c->ip_address);
                c->net_lost = false;
                pthread_mutex_unlock(&c->mu);
                lcd_exitwatch_conmon(&e->watch, c);
                pthread_mutex_lock(&c->mu);
                c->exit_pending = false; /* what arrived until now was the previous run's */
                pthread_mutex_unlock(&c->mu);
        }
        int64_t phase = lcd_wall_us();
        if (lcd_runtime_start(e->rt, c->id, err) < 0)
                goto fail;
        lcd_engine_phase(e, LCD_PHASE_START, phase);
        lcd_container_transition(c, e->ev, LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_BIT(LCD_CS_EXITED), LCD_CS_RUNNING,
                                 set_running, &pid, NULL);
        /* an exit that arrived between crun start and RUNNING */
        pthread_mutex_lock(&c->mu);
        bool pending = c->exit_pending;
        c->exit_pending = false;
        pthread_mutex_unlock(&c->mu);
        if (pending)
                lcd_exitwatch_record(&e->watch, c->id);
        return 0;
fail:
        pthread_mutex_lock(&c->mu);
        c->starting = false;
        pthread_mutex_unlock(&c->mu);
        return LCD_ERR;
}

static void start_job(void *arg)
{
        lcd_job_t *j = arg;
        lcd_error_t *err = NULL;
        do_start(j->e, j->c, &err);
        lcd_job_finish_container(j, err);
}

static void pause_job(void *arg)
{
        lcd_job_t *j = arg;
        lcd_error_t *err = NULL;
        if (lcd_runtime_pause(j->e->rt, j->c->id, &err) == 0 &&
            lcd_container_transition(j->c, j->e->ev, LCD_CS_BIT(LCD_CS_RUNNING), LCD_CS_PAUSED, NULL, NULL, NULL) < 0)
                lcd_error_set(&err, LCD_E_CONFLICT, "container %s:%s exited while pausing", j->c->item.name,
                              j->c->item.tag);
        lcd_job_finish_container(j, err);
}

static void resume_job(void *arg)
{
        lcd_job_t *j = arg;
        lcd_error_t *err = NULL;
        if (lcd_runtime_resume(j->e->rt, j->c->id, &err) == 0 &&
            lcd_container_transition(j->c, j->e->ev, LCD_CS_BIT(LCD_CS_PAUSED), LCD_CS_RUNNING, NULL, NULL, NULL) < 0)
                lcd_error_set(&err, LCD_E_CONFLICT, "container %s:%s exited while resuming", j->c->item.name,
                              j->c->item.tag);
        lcd_job_finish_container(j, err);
}

/* ---- stop and restart: SIGTERM, a parked wait, SIGKILL, a parked wait ---- */

enum { STAGE_TERM, STAGE_KILL };

static void stopped(lcd_job_t *j);

/* SIGKILL, then wait KILL_GRACE_MS for the exit. */
static void send_kill_and_park(lcd_job_t *j)
{
        lcd_error_t *kerr = NULL;
        if (lcd_runtime_kill(j->e->rt, j->c->id, SIGKILL, &kerr) < 0) {
                lcd_debug("stop %s: %s", j->c->id, kerr->msg);
                lcd_error_free(kerr);
        }
        j->stage = STAGE_KILL;
        lcd_park(&j->e->parks, &j->park, KILL_GRACE_MS);
}

/* A parked stop wakes: the exit came, or the deadline (or shutdown). */
static void stop_resumed(lcd_parked_t *p)
{
        lcd_job_t *j = (lcd_job_t *)((char *)p - offsetof(lcd_job_t, park));
        lcd_error_t *err = NULL;
        if (p->exited) {
                stopped(j);
                return;
        }
        if (atomic_load(&j->e->shutting_down)) {
                lcd_error_set(&err, LCD_E_BUSY, "the daemon is shutting down: %s:%s is stopped and removed with it",
                              j->c->item.name, j->c->item.tag);
                lcd_job_finish_container(j, err);
                return;
        }
        if (j->stage == STAGE_TERM) { /* it ignored SIGTERM */
                send_kill_and_park(j);
                return;
        }
        lcd_exitwatch_record(&j->e->watch, j->c->id); /* a missed notification? */
        if (lcd_container_state(j->c) == LCD_CS_EXITED) {
                stopped(j);
                return;
        }
        lcd_error_set(&err, LCD_E_TIMEOUT, "container %s:%s did not exit after SIGKILL", j->c->item.name,
                      j->c->item.tag);
        lcd_job_finish_container(j, err);
}

/* The container has exited (or was not running): a stop answers, a restart starts it. */
static void stopped(lcd_job_t *j)
{
        lcd_error_t *err = NULL;
        if (j->op.op == LCD_OP_RESTART)
                do_start(j->e, j->c, &err);
        lcd_job_finish_container(j, err);
}

/* Stop c if it runs: SIGTERM, SIGKILL after timeout_s. The waits are
 * parked (park.c): the worker returns at once. */
static void stop_job(void *arg)
{
        lcd_job_t *j = arg;
        lcd_engine_t *e = j->e;
        lcd_container_t *c = j->c;
        int was = -1;
        if (lcd_container_transition(c, e->ev, LCD_CS_BIT(LCD_CS_RUNNING) | LCD_CS_BIT(LCD_CS_PAUSED), LCD_CS_STOPPING,
                                     NULL, NULL, &was) < 0) {
                stopped(j); /* not running (or exited meanwhile): nothing to stop */
                return;
        }
        lcd_error_t *kerr = NULL;
        if (j->op.timeout_s > 0 && lcd_runtime_kill(e->rt, c->id, SIGTERM, &kerr) < 0) {
                lcd_debug("stop %s: %s", c->id, kerr->msg);
                lcd_error_free(kerr);
                kerr = NULL;
        }
        if (was == LCD_CS_PAUSED && lcd_runtime_resume(e->rt, c->id, &kerr) < 0)
                lcd_error_free(kerr);
        j->park.c = c;
        j->park.resume = stop_resumed;
        if (j->op.timeout_s == 0) {
                send_kill_and_park(j);
                return;
        }
        j->stage = STAGE_TERM;
        lcd_park(&e->parks, &j->park, (int64_t)j->op.timeout_s * 1000);
}

static void kill_job(void *arg)
{
        lcd_job_t *j = arg;
        lcd_error_t *err = NULL;
        lcd_runtime_kill(j->e->rt, j->c->id, j->op.signal, &err);
        lcd_job_finish_container(j, err);
}

static void remove_job(void *arg)
{
        lcd_job_t *j = arg;
        lcd_engine_t *e = j->e;
        lcd_container_t *c = j->c;
        lcd_error_t *err = NULL;
        lcd_container_transition(c, e->ev, ~LCD_CS_BIT(LCD_CS_REMOVING), LCD_CS_REMOVING, NULL, NULL, NULL);
        if (lcd_runtime_destroy(e->rt, c->id, &err) < 0) {
                /* the container is gone from the runtime; what is left on disk
                 * is cleaned at the next start. Report, but remove it. */
                lcd_warn("remove %s:%s: %s", c->item.name, c->item.tag, err->msg);
                lcd_error_free(err);
                err = NULL;
        }
        lcd_statemap_remove(e->map, &c->item);
        lcd_container_publish(c, e->ev, LCD_EV_REMOVED, NULL);
        json_object *o = json_object_new_object();
        if (lcd_json_set(o, "removed", json_object_new_boolean(1)) < 0) {
                json_object_put(o);
                o = NULL;
        }
        lcd_job_finish(j, o, NULL);
}

int lcd_engine_op(lcd_engine_t *e, const lcd_op_req_t *req, lcd_engine_done_fn done, void *ctx, lcd_error_t **err)
{
        lcd_mapitem_t *it = lcd_statemap_get(e->map, req->name, req->tag);
        if (it == NULL)
                return lcd_error_set(err, LCD_E_NOT_FOUND, "no container %s:%s", req->name, req->tag);
        lcd_container_t *c = lcd_container_from_item(it);
        static const lcd_job_fn jobs[LCD_OP__COUNT] = {
                [LCD_OP_START] = start_job,   [LCD_OP_STOP] = stop_job,     [LCD_OP_KILL] = kill_job,
                [LCD_OP_PAUSE] = pause_job,   [LCD_OP_RESUME] = resume_job, [LCD_OP_RESTART] = stop_job,
                [LCD_OP_REMOVE] = remove_job,
        };
        const lcd_op_rule_t *rule = lcd_op_rule(req->op);
        int st = lcd_container_state(c);
        lcd_job_t *j = NULL;
        if (rule == NULL || jobs[req->op] == NULL) {
                lcd_error_set(err, LCD_E_INTERNAL, "operation %d is not a lifecycle operation", (int)req->op);
                goto out;
        }
        if ((req->op == LCD_OP_PAUSE || req->op == LCD_OP_RESUME) && !e->cg.delegated) {
                lcd_error_set(err, LCD_E_UNSUPPORTED, "%s needs a delegated cgroup v2 subtree: %s", rule->name,
                              e->cg.why);
                goto out;
        }
        char sharer[LCD_NAME_MAX + LCD_TAG_MAX + 2];
        if (req->op == LCD_OP_REMOVE && !req->force && lcd_netshare_in_use(e->map, c, sharer, sizeof sharer)) {
                lcd_error_set(err, LCD_E_CONFLICT,
                              "container %s:%s shares its network with %s: remove that first, or use force", req->name,
                              req->tag, sharer);
                goto out;
        }
        if ((req->op == LCD_OP_START || req->op == LCD_OP_RESTART) && lcd_netshare_check_start(e->map, c, err) < 0)
                goto out;
        unsigned accept = rule->states | (req->force ? rule->with_force : 0);
        if (!(accept & LCD_CS_BIT(st))) {
                if (rule->with_force & LCD_CS_BIT(st))
                        lcd_error_set(err, LCD_E_CONFLICT, "container %s:%s is %s: stop it first or use force",
                                      req->name, req->tag, lcd_cstate_name(st));
                else
                        lcd_error_set(err, LCD_E_CONFLICT, "cannot %s container %s:%s: it is %s", rule->name, req->name,
                                      req->tag, lcd_cstate_name(st));
                goto out;
        }
        /* kill changes no state, so it may overtake an operation in flight
         * (a slow stop, say); every other operation is exclusive */
        bool exclusive = req->op != LCD_OP_KILL;
        if (exclusive && !lcd_container_claim(c)) {
                lcd_error_set(err, LCD_E_CONFLICT, "another operation on %s:%s is in progress", req->name, req->tag);
                goto out;
        }
        j = lcd_calloc(1, sizeof *j);
        if (j == NULL) {
                if (exclusive)
                        lcd_container_release(c);
                lcd_error_nomem(err);
                goto out;
        }
        j->claimed = exclusive;
        j->op = *req;
        j->op.name = j->op.tag = NULL; /* they point into the request; jobs use c->item */
        j->c = c;
        if (lcd_job_queue(e, j, jobs[req->op], false, done, ctx, err) < 0) {
                if (exclusive)
                        lcd_container_release(c);
                lcd_free(j);
                goto out;
        }
        return 0; /* the job owns the reference now */
out:
        lcd_container_unref(c);
        return LCD_ERR;
}

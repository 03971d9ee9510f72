/* ops.c - the engine's asynchronous operations (see engine.h).
 *
 * DESIGN: each public entry point runs on the service thread: it validates,
 * looks the container up, checks the state, claims the container's
 * one-operation flag and queues a job; any refusal there changes nothing.
 * The job runs on a worker, drives the runtime, moves the state with
 * lcd_container_transition() (which publishes the event) and calls done()
 * once. Create inserts the container (state `creating`) before queueing,
 * which is what makes a racing second create of the same name/tag fail
 * with conflict; a failed create publishes container.failed and takes the
 * container out of the map again, leaving nothing behind.
 */
#include "engine-internal.h"

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/ident.h"
#include "lcd/log.h"
#include "lcd/logfile.h"
#include "lcd/strv.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define KILL_GRACE_MS 10000 /* after SIGKILL, how long stop waits for the exit */

struct job {
        lcd_engine_t *e;
        lcd_op_req_t op;
        lcd_container_t *c; /* a reference; NULL for pull */
        bool claimed;       /* holds c's one-operation flag */
        lcd_imageref_t ref; /* create, pull */
        lcd_engine_done_fn done;
        void *ctx;
};

static const unsigned LIVE = LCD_CS_BIT(LCD_CS_RUNNING) | LCD_CS_BIT(LCD_CS_PAUSED) | LCD_CS_BIT(LCD_CS_STOPPING);

static void finish(struct job *j, json_object *result, lcd_error_t *err)
{
        if (err == NULL && result == NULL)
                lcd_error_nomem(&err);
        /* release before replying: a client may send its next operation on
         * this container as soon as it reads the reply */
        if (j->claimed)
                lcd_container_release(j->c);
        j->done(j->ctx, result, err);
        if (j->c != NULL)
                lcd_container_unref(j->c);
        lcd_free(j);
}

static void finish_container(struct job *j, lcd_error_t *err)
{
        finish(j, err ? NULL : lcd_container_to_json(j->c), err);
}

static int queue_job(lcd_engine_t *e, struct job *j, lcd_job_fn fn, lcd_error_t **err)
{
        if (atomic_load(&e->shutting_down))
                return lcd_error_set(err, LCD_E_BUSY, "the daemon is shutting down");
        int r = lcd_pool_submit(e->pool, fn, j);
        if (r == -EBUSY)
                return lcd_error_set(err, LCD_E_BUSY, "%u operations are queued already; try again later",
                                     lcd_pool_capacity(e->pool));
        if (r < 0)
                return lcd_error_set(err, LCD_E_BUSY, "the daemon is shutting down");
        return 0;
}

/* ---- pull ---- */

static void pull_job(void *arg)
{
        struct job *j = arg;
        lcd_error_t *err = NULL;
        char digest[LCD_DIGEST_LEN + 1];
        if (lcd_imagestore_pull(j->e->images, &j->ref, digest, &err) < 0) {
                finish(j, NULL, err);
                return;
        }
        json_object *o = json_object_new_object();
        if (lcd_json_set(o, "ref", json_object_new_string(j->ref.canonical)) < 0 ||
            lcd_json_set(o, "digest", json_object_new_string(digest)) < 0) {
                json_object_put(o);
                o = NULL;
        }
        finish(j, o, NULL);
}

int lcd_engine_pull(lcd_engine_t *e, const char *ref, lcd_engine_done_fn done, void *ctx, lcd_error_t **err)
{
        struct job *j = lcd_calloc(1, sizeof *j);
        if (j == NULL)
                return lcd_error_nomem(err);
        const char *why;
        if (lcd_imageref_parse(ref, &j->ref, &why) < 0) {
                lcd_free(j);
                return lcd_error_set(err, LCD_E_INVALID, "ref: %s", why);
        }
        j->e = e;
        j->done = done;
        j->ctx = ctx;
        if (queue_job(e, j, pull_job, err) < 0) {
                lcd_free(j);
                return LCD_ERR;
        }
        return 0;
}

/* ---- images ---- */

/* A container (other than `except`) whose image is ref or has digest. */
static bool image_in_use(lcd_engine_t *e, const char *canonical, const char *digest, char *who, size_t len)
{
        lcd_mapitem_t **items;
        size_t n;
        if (lcd_statemap_snapshot(e->map, &items, &n) < 0)
                return true; /* cannot tell: refuse */
        bool used = false;
        for (size_t i = 0; i < n; i++) {
                lcd_container_t *c = lcd_container_from_item(items[i]);
                pthread_mutex_lock(&c->mu);
                bool match = strcmp(c->image, canonical) == 0 ||
                             (digest != NULL && c->image_digest != NULL && strcmp(c->image_digest, digest) == 0);
                pthread_mutex_unlock(&c->mu);
                if (match && !used) {
                        used = true;
                        snprintf(who, len, "%s:%s", c->item.name, c->item.tag);
                }
                lcd_container_unref(c);
        }
        lcd_free(items);
        return used;
}

static void image_remove_job(void *arg)
{
        struct job *j = arg;
        lcd_error_t *err = NULL;
        char digest[LCD_DIGEST_LEN + 1];
        json_object *o = NULL;
        if (lcd_imagestore_remove(j->e->images, &j->ref, digest, &err) == 0) {
                /* its root goes too, unless another reference (same digest) has a container on it */
                char who[LCD_NAME_MAX + LCD_TAG_MAX + 2];
                if (!image_in_use(j->e, "", digest, who, sizeof who)) {
                        int r = lcd_runtime_remove_root(j->e->rt, digest);
                        if (r < 0)
                                lcd_warn("remove the image root of %s: %s", digest, strerror(-r));
                }
                o = json_object_new_object();
                if (lcd_json_set(o, "removed", json_object_new_boolean(1)) < 0) {
                        json_object_put(o);
                        o = NULL;
                }
        }
        finish(j, o, err);
}

int lcd_engine_image_remove(lcd_engine_t *e, const char *ref, lcd_engine_done_fn done, void *ctx, lcd_error_t **err)
{
        struct job *j = lcd_calloc(1, sizeof *j);
        if (j == NULL)
                return lcd_error_nomem(err);
        const char *why;
        char who[LCD_NAME_MAX + LCD_TAG_MAX + 2];
        if (lcd_imageref_parse(ref, &j->ref, &why) < 0) {
                lcd_free(j);
                return lcd_error_set(err, LCD_E_INVALID, "ref: %s", why);
        }
        if (image_in_use(e, j->ref.canonical, NULL, who, sizeof who)) {
                lcd_free(j);
                return lcd_error_set(err, LCD_E_CONFLICT, "image %s is used by container %s: remove it first", ref,
                                     who);
        }
        j->e = e;
        j->done = done;
        j->ctx = ctx;
        if (queue_job(e, j, image_remove_job, err) < 0) {
                lcd_free(j);
                return LCD_ERR;
        }
        return 0;
}

json_object *lcd_engine_images(lcd_engine_t *e, lcd_error_t **err)
{
        return lcd_imagestore_list(e->images, err);
}

json_object *lcd_engine_image_inspect(lcd_engine_t *e, const char *ref, lcd_error_t **err)
{
        lcd_imageref_t r;
        const char *why;
        if (lcd_imageref_parse(ref, &r, &why) < 0) {
                lcd_error_set(err, LCD_E_INVALID, "ref: %s", why);
                return NULL;
        }
        return lcd_imagestore_inspect(e->images, &r, err);
}

/* ---- logs ---- */

#define LOG_READ_MAX (8 * 1024 * 1024) /* bytes of a log's end read for a tail */

static void logs_job(void *arg)
{
        struct job *j = arg;
        lcd_error_t *err = NULL;
        char path[4096];
        lcd_runtime_log_path(j->e->rt, j->c->id, path, sizeof path);
        off_t end = 0;
        json_object *lines = lcd_logfile_tail(path, (size_t)j->op.timeout_s, LOG_READ_MAX, &end, &err);
        json_object *o = lines ? json_object_new_object() : NULL;
        if (lines != NULL && (lcd_json_set(o, "lines", lines) < 0 ||
                              lcd_json_set(o, "offset", json_object_new_int64((int64_t)end)) < 0)) {
                json_object_put(o);
                o = NULL;
        }
        finish(j, o, err);
}

int lcd_engine_log_path(lcd_engine_t *e, const char *name, const char *tag, char *buf, size_t len, lcd_error_t **err)
{
        lcd_mapitem_t *it = lcd_statemap_get(e->map, name, tag);
        if (it == NULL)
                return lcd_error_set(err, LCD_E_NOT_FOUND, "no container %s:%s", name, tag);
        lcd_runtime_log_path(e->rt, lcd_container_from_item(it)->id, buf, len);
        lcd_mapitem_unref(it);
        return 0;
}

int lcd_engine_logs(lcd_engine_t *e, const char *name, const char *tag, unsigned tail, lcd_engine_done_fn done,
                    void *ctx, lcd_error_t **err)
{
        lcd_mapitem_t *it = lcd_statemap_get(e->map, name, tag);
        if (it == NULL)
                return lcd_error_set(err, LCD_E_NOT_FOUND, "no container %s:%s", name, tag);
        struct job *j = lcd_calloc(1, sizeof *j);
        if (j == NULL) {
                lcd_mapitem_unref(it);
                return lcd_error_nomem(err);
        }
        j->e = e;
        j->c = lcd_container_from_item(it); /* a reference, no claim: reading does not change it */
        j->op.timeout_s = (int)tail;
        j->done = done;
        j->ctx = ctx;
        if (queue_job(e, j, logs_job, err) < 0) {
                lcd_mapitem_unref(it);
                lcd_free(j);
                return LCD_ERR;
        }
        return 0;
}

/* ---- create ---- */

struct created {
        int pid;
        char **argv;
};

static void set_created(lcd_container_t *c, void *arg)
{
        struct created *x = arg;
        c->pid = x->pid;
        lcd_strv_free(c->effective_cmd);
        c->effective_cmd = x->argv;
        x->argv = NULL;
}

static void create_job(void *arg)
{
        struct job *j = arg;
        lcd_engine_t *e = j->e;
        lcd_container_t *c = j->c;
        lcd_error_t *err = NULL;
        int64_t t0 = lcd_now_ms();
        lcd_container_publish(c, e->ev, LCD_EV_STATE, NULL); /* creating */

        char digest[LCD_DIGEST_LEN + 1];
        char *layout = NULL;
        int64_t bytes = 0;
        struct created x = {0};
        int64_t phase = lcd_wall_us();
        if (lcd_imagestore_acquire(e->images, &j->ref, &layout, digest, &bytes, &err) < 0)
                goto fail;
        lcd_engine_phase(e, LCD_PHASE_PULL, phase);
        char *d = lcd_strdup(digest);
        if (d == NULL) {
                lcd_imagestore_release(e->images, &j->ref);
                lcd_free(layout);
                lcd_error_nomem(&err);
                goto fail;
        }
        pthread_mutex_lock(&c->mu);
        c->image_digest = d;
        pthread_mutex_unlock(&c->mu);
        lcd_bundle_spec_t spec = {(const char *const *)c->cmd, (const char *const *)c->env, c->workdir, c->memory_limit,
                                  c->pids_limit};
        phase = lcd_wall_us();
        lcd_image_t img = {layout, digest, bytes};
        int r = lcd_runtime_prepare(e->rt, c->id, &img, &spec, &x.argv, &err);
        lcd_engine_phase(e, LCD_PHASE_UNPACK, phase);
        lcd_imagestore_release(e->images, &j->ref);
        lcd_free(layout);
        if (r < 0)
                goto fail;
        char name[LCD_NAME_MAX + LCD_TAG_MAX + 2];
        snprintf(name, sizeof name, "%s_%s", c->item.name, c->item.tag);
        phase = lcd_wall_us();
        if (lcd_runtime_create(e->rt, c->id, name, &x.pid, &err) < 0)
                goto fail;
        lcd_exitwatch_conmon(e, c);
        lcd_engine_phase(e, LCD_PHASE_CREATE, phase);
        lcd_container_transition(c, e->ev, LCD_CS_BIT(LCD_CS_CREATING), LCD_CS_CREATED, set_created, &x, NULL);
        lcd_strv_free(x.argv);
        lcd_info("created %s:%s (%s) in %lld ms", c->item.name, c->item.tag, c->id, (long long)(lcd_now_ms() - t0));
        finish_container(j, NULL);
        return;
fail:
        lcd_strv_free(x.argv);
        lcd_warn("create %s:%s failed: %s", c->item.name, c->item.tag, err->msg);
        lcd_error_t *derr = NULL;
        if (lcd_runtime_destroy(e->rt, c->id, &derr) < 0) {
                lcd_warn("clean up after failed create: %s", derr->msg);
                lcd_error_free(derr);
        }
        lcd_statemap_remove(e->map, &c->item);
        lcd_container_publish(c, e->ev, LCD_EV_FAILED, err->msg);
        finish(j, NULL, err);
}

/* Is controller (a word) enabled for the containers' cgroups? */
static bool controller_delegated(lcd_engine_t *e, const char *controller)
{
        if (!e->cg.delegated)
                return false;
        size_t n = strlen(controller);
        for (const char *p = e->cg.controllers; (p = strstr(p, controller)) != NULL; p += n)
                if ((p == e->cg.controllers || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
                        return true;
        return false;
}

int lcd_engine_create(lcd_engine_t *e, const lcd_create_req_t *req, lcd_engine_done_fn done, void *ctx,
                      lcd_error_t **err)
{
        struct job *j = lcd_calloc(1, sizeof *j);
        if (j == NULL)
                return lcd_error_nomem(err);
        const char *why;
        if (lcd_imageref_parse(req->image, &j->ref, &why) < 0) {
                lcd_free(j);
                return lcd_error_set(err, LCD_E_INVALID, "image: %s", why);
        }
        const char *name = req->name ? req->name : j->ref.name;
        const char *tag = req->tag ? req->tag : j->ref.default_tag;
        int rc = LCD_ERR;
        if (name[0] == '\0')
                lcd_error_set(err, LCD_E_INVALID, "cannot derive a container name from %s: give name", req->image);
        else if (!lcd_name_valid(name))
                lcd_error_set(err, LCD_E_INVALID, "name must match [a-z0-9][a-z0-9_.-]{0,62}");
        else if (!lcd_tag_valid(tag))
                lcd_error_set(err, LCD_E_INVALID, "tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
        else if (atomic_load(&e->shutting_down))
                lcd_error_set(err, LCD_E_BUSY, "the daemon is shutting down");
        else if (req->memory_limit > 0 && !controller_delegated(e, "memory"))
                lcd_error_set(err, LCD_E_UNSUPPORTED,
                              "memoryLimit needs the memory controller, which is not delegated to the daemon (%s)",
                              e->cg.delegated ? e->cg.controllers : e->cg.why);
        else if (req->pids_limit > 0 && !controller_delegated(e, "pids"))
                lcd_error_set(err, LCD_E_UNSUPPORTED,
                              "pidsLimit needs the pids controller, which is not delegated to the daemon (%s)",
                              e->cg.delegated ? e->cg.controllers : e->cg.why);
        else
                rc = 0;
        if (rc < 0) {
                lcd_free(j);
                return LCD_ERR;
        }
        lcd_container_t *c = lcd_container_new(name, tag, j->ref.canonical, req->cmd, req->env, req->workdir);
        if (c == NULL) {
                lcd_free(j);
                return lcd_error_nomem(err);
        }
        c->memory_limit = req->memory_limit;
        c->pids_limit = req->pids_limit;
        int r = lcd_statemap_insert(e->map, &c->item);
        if (r < 0) {
                /* name and tag may point into j: say so before freeing it */
                if (r == -EEXIST)
                        lcd_error_set(err, LCD_E_CONFLICT, "container %s:%s already exists", name, tag);
                else
                        lcd_error_set(err, LCD_E_BUSY, "the daemon holds its maximum of %zu containers",
                                      lcd_statemap_max(e->map));
                lcd_container_unref(c);
                lcd_free(j);
                return LCD_ERR;
        }
        lcd_container_claim(c);
        j->claimed = true;
        j->e = e;
        j->c = c; /* the caller's reference moves to the job */
        j->done = done;
        j->ctx = ctx;
        if (queue_job(e, j, create_job, err) < 0) {
                lcd_statemap_remove(e->map, &c->item);
                lcd_container_unref(c);
                lcd_free(j);
                return LCD_ERR;
        }
        return 0;
}

/* ---- start, pause, resume, stop, kill, remove ---- */

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
                if (lcd_runtime_create(e->rt, c->id, c->item.name, &pid, err) < 0)
                        goto fail;
                lcd_exitwatch_conmon(e, c);
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
                lcd_engine_on_exit(e, c->id);
        return 0;
fail:
        pthread_mutex_lock(&c->mu);
        c->starting = false;
        pthread_mutex_unlock(&c->mu);
        return LCD_ERR;
}

static void start_job(void *arg)
{
        struct job *j = arg;
        lcd_error_t *err = NULL;
        do_start(j->e, j->c, &err);
        finish_container(j, err);
}

static void pause_job(void *arg)
{
        struct job *j = arg;
        lcd_error_t *err = NULL;
        if (lcd_runtime_pause(j->e->rt, j->c->id, &err) == 0 &&
            lcd_container_transition(j->c, j->e->ev, LCD_CS_BIT(LCD_CS_RUNNING), LCD_CS_PAUSED, NULL, NULL, NULL) < 0)
                lcd_error_set(&err, LCD_E_CONFLICT, "container %s:%s exited while pausing", j->c->item.name,
                              j->c->item.tag);
        finish_container(j, err);
}

static void resume_job(void *arg)
{
        struct job *j = arg;
        lcd_error_t *err = NULL;
        if (lcd_runtime_resume(j->e->rt, j->c->id, &err) == 0 &&
            lcd_container_transition(j->c, j->e->ev, LCD_CS_BIT(LCD_CS_PAUSED), LCD_CS_RUNNING, NULL, NULL, NULL) < 0)
                lcd_error_set(&err, LCD_E_CONFLICT, "container %s:%s exited while resuming", j->c->item.name,
                              j->c->item.tag);
        finish_container(j, err);
}

/* Wait until the container is exited or the deadline (monotonic ms). */
static bool wait_exited(lcd_container_t *c, int64_t deadline)
{
        pthread_mutex_lock(&c->mu);
        while (lcd_container_state(c) != LCD_CS_EXITED) {
                int64_t left = deadline - lcd_now_ms();
                if (left <= 0)
                        break;
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_sec += left / 1000;
                ts.tv_nsec += (left % 1000) * 1000000;
                if (ts.tv_nsec >= 1000000000) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&c->exited, &c->mu, &ts);
        }
        bool done = lcd_container_state(c) == LCD_CS_EXITED;
        pthread_mutex_unlock(&c->mu);
        return done;
}

/* Stop c if it runs: SIGTERM, SIGKILL after timeout_s; 0 or LCD_ERR. */
static int do_stop(lcd_engine_t *e, lcd_container_t *c, int timeout_s, lcd_error_t **err)
{
        int was = -1;
        if (lcd_container_transition(c, e->ev, LCD_CS_BIT(LCD_CS_RUNNING) | LCD_CS_BIT(LCD_CS_PAUSED), LCD_CS_STOPPING,
                                     NULL, NULL, &was) < 0)
                return 0; /* not running (or exited meanwhile): nothing to stop */
        lcd_error_t *kerr = NULL;
        if (timeout_s > 0 && lcd_runtime_kill(e->rt, c->id, SIGTERM, &kerr) < 0) {
                lcd_debug("stop %s: %s", c->id, kerr->msg);
                lcd_error_free(kerr);
                kerr = NULL;
        }
        if (was == LCD_CS_PAUSED && lcd_runtime_resume(e->rt, c->id, &kerr) < 0) {
                lcd_error_free(kerr);
                kerr = NULL;
        }
        if (timeout_s > 0 && wait_exited(c, lcd_now_ms() + (int64_t)timeout_s * 1000))
                return 0;
        if (lcd_runtime_kill(e->rt, c->id, SIGKILL, &kerr) < 0) {
                lcd_debug("stop %s: %s", c->id, kerr->msg);
                lcd_error_free(kerr);
        }
        if (!wait_exited(c, lcd_now_ms() + KILL_GRACE_MS)) {
                lcd_engine_on_exit(e, c->id); /* a missed notification? */
                if (lcd_container_state(c) != LCD_CS_EXITED)
                        return lcd_error_set(err, LCD_E_TIMEOUT, "container %s:%s did not exit after SIGKILL",
                                             c->item.name, c->item.tag);
        }
        return 0;
}

static void stop_job(void *arg)
{
        struct job *j = arg;
        lcd_error_t *err = NULL;
        do_stop(j->e, j->c, j->op.timeout_s, &err);
        finish_container(j, err);
}

static void restart_job(void *arg)
{
        struct job *j = arg;
        lcd_error_t *err = NULL;
        if (do_stop(j->e, j->c, j->op.timeout_s, &err) == 0)
                do_start(j->e, j->c, &err);
        finish_container(j, err);
}

static void kill_job(void *arg)
{
        struct job *j = arg;
        lcd_error_t *err = NULL;
        lcd_runtime_kill(j->e->rt, j->c->id, j->op.signal, &err);
        finish_container(j, err);
}

static void remove_job(void *arg)
{
        struct job *j = arg;
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
        finish(j, o, NULL);
}

int lcd_engine_op(lcd_engine_t *e, const lcd_op_req_t *req, lcd_engine_done_fn done, void *ctx, lcd_error_t **err)
{
        lcd_mapitem_t *it = lcd_statemap_get(e->map, req->name, req->tag);
        if (it == NULL)
                return lcd_error_set(err, LCD_E_NOT_FOUND, "no container %s:%s", req->name, req->tag);
        lcd_container_t *c = lcd_container_from_item(it);
        const struct {
                lcd_job_fn fn;
                unsigned from; /* states the operation accepts */
                const char *verb;
        } ops[] = {
                [LCD_OP_START] = {start_job, LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_BIT(LCD_CS_EXITED), "start"},
                [LCD_OP_STOP] = {stop_job, LCD_CS_BIT(LCD_CS_RUNNING) | LCD_CS_BIT(LCD_CS_PAUSED), "stop"},
                [LCD_OP_KILL] = {kill_job, LIVE, "kill"},
                [LCD_OP_PAUSE] = {pause_job, LCD_CS_BIT(LCD_CS_RUNNING), "pause"},
                [LCD_OP_RESUME] = {resume_job, LCD_CS_BIT(LCD_CS_PAUSED), "resume"},
                [LCD_OP_RESTART] = {restart_job, LIVE | LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_BIT(LCD_CS_EXITED),
                                    "restart"},
                [LCD_OP_REMOVE] = {remove_job,
                                   LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_BIT(LCD_CS_EXITED) | (req->force ? LIVE : 0),
                                   "remove"},
        };
        int st = lcd_container_state(c);
        struct job *j = NULL;
        if ((req->op == LCD_OP_PAUSE || req->op == LCD_OP_RESUME) && !e->cg.delegated) {
                lcd_error_set(err, LCD_E_UNSUPPORTED, "%s needs a delegated cgroup v2 subtree: %s", ops[req->op].verb,
                              e->cg.why);
                goto out;
        }
        unsigned accept = ops[req->op].from;
        if (req->op == LCD_OP_STOP) /* like docker: stopping what does not run answers with it as it is */
                accept |= LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_BIT(LCD_CS_EXITED);
        if (!(accept & LCD_CS_BIT(st))) {
                if (req->op == LCD_OP_REMOVE && (LIVE & LCD_CS_BIT(st)))
                        lcd_error_set(err, LCD_E_CONFLICT, "container %s:%s is %s: stop it first or use force",
                                      req->name, req->tag, lcd_cstate_name(st));
                else
                        lcd_error_set(err, LCD_E_CONFLICT, "cannot %s container %s:%s: it is %s", ops[req->op].verb,
                                      req->name, req->tag, lcd_cstate_name(st));
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
        j->e = e;
        j->op = *req;
        j->op.name = j->op.tag = NULL; /* they point into the request; jobs use c->item */
        j->c = c;
        j->done = done;
        j->ctx = ctx;
        if (queue_job(e, j, ops[req->op].fn, err) < 0) {
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

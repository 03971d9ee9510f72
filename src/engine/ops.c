/* ops.c - the engine's image, log and create operations, and the job
 * plumbing every operation shares (lifecycle.c has the container ones).
 *
 * DESIGN: each public entry point runs on the service thread: it validates,
 * looks the container up, checks the state and queues a job; any refusal
 * there changes nothing. The job runs on a worker, drives the image store
 * and the runtime, moves the state with lcd_container_transition() (which
 * publishes the event) and calls done() once. There are two lanes: pulls,
 * and creates whose image is not cached yet, run on the pull lane's
 * workers (--pull-workers), so a slow registry holds none of the others.
 * Create inserts the container (state `creating`) before queueing, which is
 * what makes a racing second create of the same name/tag fail with
 * conflict; a failed create publishes container.failed and takes the
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

void lcd_job_finish(lcd_job_t *j, json_object *result, lcd_error_t *err)
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

void lcd_job_finish_container(lcd_job_t *j, lcd_error_t *err)
{
        lcd_job_finish(j, err ? NULL : lcd_container_to_json(j->c), err);
}

int lcd_job_queue(lcd_engine_t *e, lcd_job_t *j, lcd_job_fn fn, bool pull, lcd_error_t **err)
{
        if (atomic_load(&e->shutting_down))
                return lcd_error_set(err, LCD_E_BUSY, "the daemon is shutting down");
        lcd_pool_t *pool = pull ? e->pulls : e->pool;
        int r = lcd_pool_submit(pool, fn, j);
        if (r == -EBUSY)
                return lcd_error_set(err, LCD_E_BUSY, "%u %s are queued already; try again later",
                                     lcd_pool_capacity(pool), pull ? "pulls" : "operations");
        if (r < 0)
                return lcd_error_set(err, LCD_E_BUSY, "the daemon is shutting down");
        return 0;
}

/* ---- pull ---- */

static void pull_job(void *arg)
{
        lcd_job_t *j = arg;
        lcd_error_t *err = NULL;
        char digest[LCD_DIGEST_LEN + 1];
        if (lcd_imagestore_pull(j->e->images, &j->ref, digest, &err) < 0) {
                lcd_job_finish(j, NULL, err);
                return;
        }
        json_object *o = json_object_new_object();
        if (lcd_json_set(o, "ref", json_object_new_string(j->ref.canonical)) < 0 ||
            lcd_json_set(o, "digest", json_object_new_string(digest)) < 0) {
                json_object_put(o);
                o = NULL;
        }
        lcd_job_finish(j, o, NULL);
}

int lcd_engine_pull(lcd_engine_t *e, const char *ref, lcd_engine_done_fn done, void *ctx, lcd_error_t **err)
{
        lcd_job_t *j = lcd_calloc(1, sizeof *j);
        if (j == NULL)
                return lcd_error_nomem(err);
        const char *why;
        if (lcd_imageref_parse(ref, &j->ref, &why) < 0) {
                lcd_free(j);
                return lcd_error_invalid(err, "ref", "ref: %s", why);
        }
        j->e = e;
        j->done = done;
        j->ctx = ctx;
        if (lcd_job_queue(e, j, pull_job, true, err) < 0) {
                lcd_free(j);
                return LCD_ERR;
        }
        return 0;
}

/* ---- images ---- */

/* Whether any container's image is ref or has digest (the first one's name:tag in who). */
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
        lcd_job_t *j = arg;
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
        lcd_job_finish(j, o, err);
}

int lcd_engine_image_remove(lcd_engine_t *e, const char *ref, lcd_engine_done_fn done, void *ctx, lcd_error_t **err)
{
        lcd_job_t *j = lcd_calloc(1, sizeof *j);
        if (j == NULL)
                return lcd_error_nomem(err);
        const char *why;
        char who[LCD_NAME_MAX + LCD_TAG_MAX + 2];
        if (lcd_imageref_parse(ref, &j->ref, &why) < 0) {
                lcd_free(j);
                return lcd_error_invalid(err, "ref", "ref: %s", why);
        }
        if (image_in_use(e, j->ref.canonical, NULL, who, sizeof who)) {
                lcd_free(j);
                return lcd_error_set(err, LCD_E_CONFLICT, "image %s is used by container %s: remove it first", ref,
                                     who);
        }
        j->e = e;
        j->done = done;
        j->ctx = ctx;
        if (lcd_job_queue(e, j, image_remove_job, false, err) < 0) {
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
                lcd_error_invalid(err, "ref", "ref: %s", why);
                return NULL;
        }
        return lcd_imagestore_inspect(e->images, &r, err);
}

/* ---- logs ---- */

#define LOG_READ_MAX (8 * 1024 * 1024) /* bytes of a log's end read for a tail */

static void logs_job(void *arg)
{
        lcd_job_t *j = arg;
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
        lcd_job_finish(j, o, err);
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
        lcd_job_t *j = lcd_calloc(1, sizeof *j);
        if (j == NULL) {
                lcd_mapitem_unref(it);
                return lcd_error_nomem(err);
        }
        j->e = e;
        j->c = lcd_container_from_item(it); /* a reference, no claim: reading does not change it */
        j->op.timeout_s = (int)tail;
        j->done = done;
        j->ctx = ctx;
        if (lcd_job_queue(e, j, logs_job, false, err) < 0) {
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
        lcd_job_t *j = arg;
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
        lcd_job_finish_container(j, NULL);
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
        lcd_job_finish(j, NULL, err);
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
        lcd_job_t *j = lcd_calloc(1, sizeof *j);
        if (j == NULL)
                return lcd_error_nomem(err);
        const char *why;
        if (lcd_imageref_parse(req->image, &j->ref, &why) < 0) {
                lcd_free(j);
                return lcd_error_invalid(err, "image", "image: %s", why);
        }
        const char *name = req->name ? req->name : j->ref.name;
        const char *tag = req->tag ? req->tag : j->ref.default_tag;
        int rc = LCD_ERR;
        if (name[0] == '\0')
                lcd_error_invalid(err, "name", "cannot derive a container name from %s: give name", req->image);
        else if (!lcd_name_valid(name))
                lcd_error_invalid(err, "name", "name must match [a-z0-9][a-z0-9_.-]{0,62}");
        else if (!lcd_tag_valid(tag))
                lcd_error_invalid(err, "tag", "tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
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
        /* a create that must pull runs in the pull lane: a slow registry holds no worker of the others */
        if (lcd_job_queue(e, j, create_job, !lcd_imagestore_cached(e->images, &j->ref), err) < 0) {
                lcd_statemap_remove(e->map, &c->item);
                lcd_container_unref(c);
                lcd_free(j);
                return LCD_ERR;
        }
        return 0;
}

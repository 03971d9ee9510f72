/* engine.c - set-up, queries and shutdown of the engine (see engine.h).
 * The operations are in create.c, lifecycle.c, imageops.c and logs.c
 * (over job.h), the parked jobs in park.c, the exit watcher in
 * exitwatch.c; each of the last two has its own state, embedded in
 * struct lcd_engine (engine-internal.h), which this file sets up and
 * tears down in order. */
#include "engine-internal.h"

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *const lcd_tool_names[LCD_TOOLS] = {"skopeo", "umoci", "crun", "conmon"};

/* First line of `tool --version`, or NULL when it cannot be run. */
static char *tool_version(lcd_runner_t *runner, const char *tool)
{
        const char *argv[] = {tool, "--version", NULL};
        lcd_run_spec_t spec = {.argv = argv, .timeout_ms = 5000, .pass_fd = -1, .out_cap = 4096};
        lcd_run_result_t res;
        lcd_error_t *err = NULL;
        char *v = NULL;
        if (runner->run(runner, &spec, &res, &err) == 0 && res.status == 0) {
                const char *text = res.out_len ? res.out : res.err;
                v = lcd_strndup(text, strcspn(text, "\n"));
        } else {
                lcd_warn("%s: %s", tool, err ? err->msg : "--version failed");
        }
        lcd_error_free(err);
        lcd_run_result_clear(&res);
        return v;
}

static void publish_progress(void *ctx, const char *ref, lcd_progress_t phase)
{
        lcd_engine_t *e = ctx;
        lcd_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = LCD_EV_PROGRESS;
        ev.state = ev.previous = -1;
        ev.phase = (int)phase;
        snprintf(ev.ref, sizeof ev.ref, "%s", ref);
        lcd_events_publish(e->ev, &ev);
}

/* The exit watcher's lookup (lcd_exitwatch_lookup_fn): a container by id. */
static lcd_container_t *find_id(void *ctx, const char *id)
{
        lcd_engine_t *e = ctx;
        return lcd_container_find_id(e->map, id);
}

lcd_engine_t *lcd_engine_new(const lcd_engine_config_t *cfg, lcd_error_t **err)
{
        lcd_engine_t *e = lcd_calloc(1, sizeof *e);
        if (e == NULL) {
                lcd_error_nomem(err);
                return NULL;
        }
        e->cfg = *cfg;
        e->ev = cfg->events;
        /* both first: lcd_engine_free may be given what either holds from here on */
        lcd_exitwatch_init(&e->watch);
        if (lcd_park_init(&e->parks, &e->shutting_down, err) < 0)
                goto fail;
        /* cgroups before any thread starts: moving the process must happen while it has one thread */
        lcd_cgroup_setup(&e->cg);
        if (e->cg.delegated)
                lcd_info("cgroup v2 subtree %s delegated; controllers for containers: %s", e->cg.own,
                         e->cg.controllers[0] ? e->cg.controllers : "(none)");
        else
                lcd_warn("%s: containers run, but pause/resume are unsupported", e->cg.why);
        for (int i = 0; i < LCD_TOOLS; i++) {
                const lcd_check_t *found = NULL;
                for (size_t k = 0; cfg->checks != NULL && k < cfg->n_checks; k++)
                        if (strcmp(cfg->checks[k].check, lcd_tool_names[i]) == 0)
                                found = &cfg->checks[k];
                if (found == NULL)
                        e->tool_version[i] = tool_version(cfg->runner, lcd_tool_names[i]);
                else if (found->ok && (e->tool_version[i] = lcd_strdup(found->detail)) == NULL) {
                        lcd_error_nomem(err);
                        goto fail;
                }
        }
        e->map = lcd_statemap_new(cfg->max_containers);
        if (e->map == NULL) {
                lcd_error_nomem(err);
                goto fail;
        }
        lcd_runtime_opts_t ro = {
                .data_dir = cfg->data_dir,
                .runtime_dir = cfg->runtime_dir,
                .cg = &e->cg,
                .ns = cfg->userns,
                .runner = cfg->runner,
                .timeout_ms = cfg->tool_timeout_ms,
                .shared_keyring = cfg->shared_keyring,
                .log_max_bytes = cfg->log_max_bytes > 0 ? cfg->log_max_bytes : LCD_LOG_MAX_DEFAULT,
                .no_mounts = cfg->no_mounts,
                .network_spares = cfg->network_spares,
                .progress = publish_progress,
                .progress_ctx = e,
        };
        e->rt = lcd_runtime_new(&ro, err);
        if (e->rt == NULL)
                goto fail;
        lcd_imagestore_opts_t io = {
                .data_dir = cfg->data_dir,
                .insecure = cfg->insecure_registries,
                .runner = cfg->runner,
                .pull_timeout_ms = cfg->pull_timeout_ms,
                .max_image_bytes = cfg->max_image_bytes > 0 ? cfg->max_image_bytes : LCD_IMAGE_MAX_DEFAULT,
                .progress = publish_progress,
                .progress_ctx = e,
        };
        e->images = lcd_imagestore_new(&io, err);
        if (e->images == NULL)
                goto fail;
        int stale = lcd_runtime_clean_stale(e->rt);
        if (stale > 0)
                lcd_info("cleaned %d leftovers of an earlier run", stale);
        lcd_exitwatch_opts_t wo = {
                .rt = e->rt,
                .ev = e->ev,
                .parks = &e->parks,
                .lookup = find_id,
                .lookup_ctx = e,
        };
        if (lcd_exitwatch_start(&e->watch, &wo, err) < 0)
                goto fail;
        e->pool = lcd_pool_new(cfg->workers, cfg->queue);
        unsigned pullers = cfg->pull_workers ? cfg->pull_workers : 2;
        e->pulls = e->pool ? lcd_pool_new(pullers, cfg->queue) : NULL;
        if (e->pool == NULL || e->pulls == NULL) {
                lcd_error_set(err, LCD_E_INTERNAL, "cannot start %u + %u worker threads", cfg->workers, pullers);
                goto fail;
        }
        /* where resumptions go: nothing parks before lcd_engine_new returns, so the watcher (running
         * already) has resumed nothing yet */
        lcd_park_set_pool(&e->parks, e->pool);
        return e;
fail:
        lcd_engine_free(e);
        return NULL;
}

const char *lcd_phase_name(lcd_phase_t p)
{
        static const char *const names[LCD_PHASE__COUNT] = {"pull", "unpack", "create", "start"};
        return (unsigned)p < LCD_PHASE__COUNT ? names[p] : "unknown";
}

void lcd_engine_phase(lcd_engine_t *e, lcd_phase_t p, int64_t start_us)
{
        int64_t d = lcd_wall_us() - start_us;
        atomic_fetch_add_explicit(&e->phase_us[p], (uint64_t)(d > 0 ? d : 0), memory_order_relaxed);
        atomic_fetch_add_explicit(&e->phase_count[p], 1, memory_order_relaxed);
}

void lcd_engine_counters(lcd_engine_t *e, lcd_engine_stats_t *out)
{
        memset(out, 0, sizeof *out);
        lcd_mapitem_t **items;
        size_t n;
        if (lcd_statemap_snapshot(e->map, &items, &n) == 0) {
                for (size_t i = 0; i < n; i++) {
                        int st = lcd_container_state(lcd_container_from_item(items[i]));
                        if (st >= 0 && st < LCD_CS__COUNT)
                                out->containers[st]++;
                        lcd_mapitem_unref(items[i]);
                }
                lcd_free(items);
        }
        /* both lanes */
        out->queued = lcd_pool_queued(e->pool) + lcd_pool_queued(e->pulls);
        out->running = lcd_pool_running(e->pool) + lcd_pool_running(e->pulls);
        out->workers = lcd_pool_workers(e->pool) + lcd_pool_workers(e->pulls);
        out->parked = lcd_park_count(&e->parks);
        out->exits_pending = lcd_exitwatch_pending(&e->watch);
        for (int p = 0; p < LCD_PHASE__COUNT; p++) {
                out->phase_us[p] = atomic_load_explicit(&e->phase_us[p], memory_order_relaxed);
                out->phase_count[p] = atomic_load_explicit(&e->phase_count[p], memory_order_relaxed);
        }
        lcd_runtime_spare_counts(e->rt, &out->spares_ready, &out->spares_taken, &out->spares_waited,
                                 &out->spares_missed);
        lcd_relay_counts_t k;
        lcd_runtime_relay_counts(e->rt, &k);
        out->relay_conns = k.conns_open;
        out->relay_flows = k.flows_open;
        out->execs = atomic_load(&e->execs);
        out->attaches = atomic_load(&e->attaches);
        out->relay_conns_total = k.conns_total;
        out->relay_conns_dropped = k.conns_dropped;
}

json_object *lcd_engine_list(lcd_engine_t *e, lcd_error_t **err)
{
        lcd_mapitem_t **items;
        size_t n;
        if (lcd_statemap_snapshot(e->map, &items, &n) < 0) {
                lcd_error_nomem(err);
                return NULL;
        }
        json_object *a = json_object_new_array_ext((int)n);
        for (size_t i = 0; i < n; i++) {
                lcd_container_t *c = lcd_container_from_item(items[i]);
                if (a != NULL) {
                        json_object *o = lcd_container_to_json(c);
                        if (lcd_json_append(a, o) < 0) {
                                json_object_put(a);
                                a = NULL;
                        }
                }
                lcd_container_unref(c);
        }
        lcd_free(items);
        if (a == NULL)
                lcd_error_nomem(err);
        return a;
}

json_object *lcd_engine_inspect(lcd_engine_t *e, const char *name, const char *tag, lcd_error_t **err)
{
        lcd_mapitem_t *it = lcd_statemap_get(e->map, name, tag);
        if (it == NULL) {
                lcd_error_set(err, LCD_E_NOT_FOUND, "no container %s:%s", name, tag);
                return NULL;
        }
        json_object *o = lcd_container_to_json(lcd_container_from_item(it));
        lcd_mapitem_unref(it);
        if (o == NULL)
                lcd_error_nomem(err);
        return o;
}

/* o[field] = the number lcd_cgroup_read_stat() finds, or null when the
 * container has no cgroup (dir "") or the number is not there. -1: no memory. */
static int set_stat(json_object *o, const char *field, const char *dir, const char *file, const char *key)
{
        long long v;
        if (dir[0] == '\0' || lcd_cgroup_read_stat(dir, file, key, &v) < 0)
                return lcd_json_set_null(o, field);
        return lcd_json_set(o, field, json_object_new_int64(v));
}

json_object *lcd_engine_stats(lcd_engine_t *e, const char *name, const char *tag, lcd_error_t **err)
{
        lcd_mapitem_t *it = lcd_statemap_get(e->map, name, tag);
        if (it == NULL) {
                lcd_error_set(err, LCD_E_NOT_FOUND, "no container %s:%s", name, tag);
                return NULL;
        }
        char rel[LCD_PATH_MAX + 80], dir[LCD_PATH_MAX + 120];
        lcd_cgroup_container_path(&e->cg, lcd_container_from_item(it)->id, rel, sizeof rel);
        lcd_mapitem_unref(it);
        snprintf(dir, sizeof dir, "%s%s", LCD_CGROUP_ROOT, rel);
        json_object *o = json_object_new_object();
        if (o == NULL) {
                lcd_error_nomem(err);
                return NULL;
        }
        if (rel[0] == '\0') /* no cgroup of its own: nothing to read */
                dir[0] = '\0';
        if (set_stat(o, "cpuUsageUsec", dir, "cpu.stat", "usage_usec") < 0 ||
            set_stat(o, "memoryBytes", dir, "memory.current", NULL) < 0 ||
            set_stat(o, "pids", dir, "pids.current", NULL) < 0) {
                json_object_put(o);
                lcd_error_nomem(err);
                return NULL;
        }
        return o;
}

json_object *lcd_engine_info(lcd_engine_t *e, lcd_error_t **err)
{
        json_object *o = json_object_new_object(), *cg = json_object_new_object(), *tools = json_object_new_object();
        if (o == NULL || cg == NULL || tools == NULL)
                goto nomem;
        int rc = 0;
        rc |= lcd_json_set(cg, "version", json_object_new_int(e->cg.version));
        rc |= lcd_json_set(cg, "delegated", json_object_new_boolean(e->cg.delegated));
        rc |= lcd_json_set_str(cg, "path",
                               e->cg.own[0] || e->cg.version == 2 ? (e->cg.own[0] ? e->cg.own : "/") : NULL);
        rc |= lcd_json_set(cg, "controllers", json_object_new_string(e->cg.controllers));
        if (!e->cg.delegated)
                rc |= lcd_json_set(cg, "reason", json_object_new_string(e->cg.why));
        for (int i = 0; i < LCD_TOOLS; i++)
                rc |= lcd_json_set_str(tools, lcd_tool_names[i], e->tool_version[i]);
        rc |= lcd_json_set(o, "version", json_object_new_string(LCD_VERSION));
        uid_t uid = e->cfg.userns ? e->cfg.userns->host_uid : getuid();
        rc |= lcd_json_set(o, "rootless", json_object_new_boolean(uid != 0));
        rc |= lcd_json_set(o, "uid", json_object_new_int((int)uid));
        rc |= lcd_json_set(o, "idmap", json_object_new_string(e->cfg.userns ? e->cfg.userns->desc : "none"));
        rc |= lcd_json_set(o, "cgroup", cg);
        cg = NULL;
        rc |= lcd_json_set(o, "tools", tools);
        tools = NULL;
        rc |= lcd_json_set(o, "workers", json_object_new_int((int)lcd_pool_workers(e->pool)));
        rc |= lcd_json_set(o, "pullWorkers", json_object_new_int((int)lcd_pool_workers(e->pulls)));
        rc |= lcd_json_set(o, "queue", json_object_new_int((int)lcd_pool_capacity(e->pool)));
        rc |= lcd_json_set(o, "containers", json_object_new_int((int)lcd_statemap_count(e->map)));
        rc |= lcd_json_set(o, "maxContainers", json_object_new_int((int)lcd_statemap_max(e->map)));
        if (rc != 0)
                goto nomem;
        return o;
nomem:
        json_object_put(cg);
        json_object_put(tools);
        json_object_put(o);
        lcd_error_nomem(err);
        return NULL;
}

/* Stop every container (TERM, a grace period, then the runtime's forced
 * delete), remove it and tell the subscribers. */
static void remove_all(lcd_engine_t *e)
{
        lcd_mapitem_t **items;
        size_t n;
        if (lcd_statemap_snapshot(e->map, &items, &n) < 0) {
                lcd_error_log("out of memory listing containers at shutdown; their cgroups are cleaned at next start");
                return;
        }
        size_t live = 0;
        for (size_t i = 0; i < n; i++) {
                lcd_container_t *c = lcd_container_from_item(items[i]);
                int st = lcd_container_state(c);
                if (st == LCD_CS_RUNNING || st == LCD_CS_PAUSED || st == LCD_CS_STOPPING) {
                        lcd_error_t *err = NULL;
                        if (lcd_runtime_kill(e->rt, c->id, SIGTERM, &err) < 0)
                                lcd_error_free(err);
                        else
                                live++;
                        if (st == LCD_CS_PAUSED && lcd_runtime_resume(e->rt, c->id, &err) < 0) {
                                lcd_error_free(err);
                                err = NULL;
                        }
                }
        }
        /* a grace period for the TERM handlers, bounded */
        int64_t deadline = lcd_now_ms() + 3000;
        while (live > 0 && lcd_now_ms() < deadline) {
                live = 0;
                for (size_t i = 0; i < n; i++) {
                        int st = lcd_container_state(lcd_container_from_item(items[i]));
                        live += st == LCD_CS_RUNNING || st == LCD_CS_PAUSED || st == LCD_CS_STOPPING;
                }
                if (live > 0)
                        usleep(20 * 1000);
        }
        for (size_t i = 0; i < n; i++) {
                lcd_container_t *c = lcd_container_from_item(items[i]);
                lcd_container_transition(c, e->ev, ~0u & ~LCD_CS_BIT(LCD_CS_REMOVING), LCD_CS_REMOVING, NULL, NULL,
                                         NULL);
                lcd_error_t *err = NULL;
                if (lcd_runtime_destroy(e->rt, c->id, &err) < 0) {
                        lcd_warn("remove %s:%s: %s", c->item.name, c->item.tag, err->msg);
                        lcd_error_free(err);
                }
                if (lcd_statemap_remove(e->map, &c->item) == 0)
                        lcd_container_publish(c, e->ev, LCD_EV_REMOVED, NULL);
                lcd_container_unref(c);
        }
        lcd_free(items);
}

void lcd_engine_shutdown(lcd_engine_t *e)
{
        if (atomic_exchange(&e->shutting_down, true))
                return;
        lcd_park_release_all(&e->parks); /* parked stops answer now; they see shutting_down */
        if (e->pulls != NULL)
                lcd_pool_shutdown(e->pulls);
        if (e->pool != NULL)
                lcd_pool_shutdown(e->pool); /* let running and queued jobs finish */
        if (e->map != NULL && e->rt != NULL)
                remove_all(e);
        lcd_exitwatch_stop(&e->watch);
}

void lcd_engine_free(lcd_engine_t *e)
{
        if (e == NULL)
                return;
        /* the watcher and the workers may resume parked jobs: both stopped before the parks go */
        lcd_exitwatch_destroy(&e->watch);
        lcd_pool_free(e->pulls);
        lcd_pool_free(e->pool);
        lcd_park_destroy(&e->parks);
        lcd_imagestore_free(e->images);
        lcd_runtime_free(e->rt);
        lcd_statemap_free(e->map);
        for (int i = 0; i < LCD_TOOLS; i++)
                lcd_free(e->tool_version[i]);
        lcd_free(e);
}

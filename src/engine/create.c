/* create.c - the create operation (see engine.h): from a request to a
 * container in state `created`, its image pulled, its bundle made, conmon
 * and crun's create run.
 *
 * DESIGN: lcd_engine_create() runs on the service thread: it parses the
 * reference, checks name, tag and the limits against the delegated cgroup
 * controllers, and inserts the container (state `creating`) before
 * queueing -- which is what makes a racing second create of the same
 * name:tag fail with conflict. A create whose image is not cached runs on
 * the pull lane. The job (a worker) publishes `creating`, holds the image
 * (lcd_imagestore_acquire pulls it if needed), prepares the bundle, starts
 * conmon, has the exit watcher watch it and moves the container to
 * `created`. A failed create destroys what it made, takes the container
 * out of the map and publishes container.failed: nothing is left behind.
 */
#include "engine-internal.h"
#include "job.h"
#include "netshare.h"
#include "network.h"

#include "lcd/alloc.h"
#include "lcd/ident.h"
#include "lcd/log.h"
#include "lcd/strv.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct created {
        int pid;
        char **argv;
        char addr[LCD_ADDR_MAX];
};

static void set_created(lcd_container_t *c, void *arg)
{
        struct created *x = arg;
        c->pid = x->pid;
        memcpy(c->ip_address, x->addr, sizeof c->ip_address);
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
        lcd_bundle_spec_t spec = {.cmd = (const char *const *)c->cmd,
                                  .env = (const char *const *)c->env,
                                  .workdir = c->workdir,
                                  .memory_limit = c->memory_limit,
                                  .pids_limit = c->pids_limit,
                                  .tty = c->tty};
        phase = lcd_wall_us();
        lcd_image_t img = {layout, digest, bytes};
        lcd_net_spec_t net = lcd_container_net(c);
        int r = lcd_runtime_prepare(e->rt, c->id, &img, &spec, &net, &x.argv, &err);
        lcd_engine_phase(e, LCD_PHASE_UNPACK, phase);
        lcd_imagestore_release(e->images, &j->ref);
        lcd_free(layout);
        if (r < 0)
                goto fail;
        char name[LCD_NAME_MAX + LCD_TAG_MAX + 2];
        snprintf(name, sizeof name, "%s_%s", c->item.name, c->item.tag);
        phase = lcd_wall_us();
        if (lcd_runtime_create(e->rt, c->id, name, &net, lcd_container_io(c), &x.pid, &err) < 0)
                goto fail;
        if (c->net_mode == LCD_NET_PRIVATE)
                lcd_runtime_net_address(e->rt, c->id, x.addr, sizeof x.addr);
        lcd_exitwatch_conmon(&e->watch, c);
        lcd_engine_phase(e, LCD_PHASE_CREATE, phase);
        lcd_container_transition(c, e->ev, LCD_CS_BIT(LCD_CS_CREATING), LCD_CS_CREATED, set_created, &x, NULL);
        lcd_strv_free(x.argv);
        lcd_info("created %s:%s (%s) in %lld ms", c->item.name, c->item.tag, c->id, (long long)(lcd_now_ms() - t0));
        lcd_job_finish_container(j, NULL);
        return;
fail:
        lcd_strv_free(x.argv);
        lcd_warn("create %s:%s failed: %s", c->item.name, c->item.tag, err->msg);
        if (c->net_spare == LCD_SPARE_STARTING)
                lcd_runtime_settle_spare(e->rt, c->id); /* before its network goes: the refill may be starting pasta */
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

/* A hostname is one DNS label: [A-Za-z0-9-], not starting or ending with '-'. */
static bool hostname_valid(const char *h)
{
        size_t n = strlen(h);
        if (n == 0 || n > LCD_HOSTNAME_MAX || h[0] == '-' || h[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9') ||
                      h[i] == '-'))
                        return false;
        return true;
}

/* The network options, and the published host ports free right now. */
static int check_network(const lcd_create_req_t *req, lcd_error_t **err)
{
        if ((unsigned)req->network >= LCD_NET__COUNT)
                return lcd_error_invalid(err, "network",
                                         "network must be \"private\", \"none\", \"host\" or \"container:NAME:TAG\"");
        if (req->hostname != NULL && !hostname_valid(req->hostname))
                return lcd_error_invalid(
                        err, "hostname",
                        "hostname must be one DNS label: [A-Za-z0-9-], at most %d, no '-' at either end",
                        LCD_HOSTNAME_MAX);
        if (req->network == LCD_NET_CONTAINER && (req->net_name == NULL || req->net_tag == NULL))
                return lcd_error_invalid(err, "network", "network container: needs NAME:TAG");
        if (req->network != LCD_NET_PRIVATE && (req->n_ports > 0 || req->allow_host_loopback))
                return lcd_error_invalid(err, req->n_ports > 0 ? "ports" : "allowHostLoopback",
                                         "%s needs network \"private\" (the container's own namespace)",
                                         req->n_ports > 0 ? "ports" : "allowHostLoopback");
        if (req->n_ports > LCD_PORTS_MAX)
                return lcd_error_invalid(err, "ports", "at most %d ports", LCD_PORTS_MAX);
        return lcd_network_check_ports(req->ports, req->n_ports, err);
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
        else if (check_network(req, err) == 0)
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
        c->tty = req->tty;
        c->stdin = req->stdin;
        if (lcd_container_set_network(c, req->network, req->ports, req->n_ports, req->hostname ? req->hostname : name,
                                      req->allow_host_loopback) < 0) {
                lcd_container_unref(c);
                lcd_free(j);
                return lcd_error_nomem(err);
        }
        if (req->network == LCD_NET_CONTAINER) {
                lcd_container_t *owner = lcd_netshare_owner(e->map, req->net_name, req->net_tag, err);
                if (owner == NULL) {
                        lcd_container_unref(c);
                        lcd_free(j);
                        return LCD_ERR;
                }
                memcpy(c->net_owner, owner->id, sizeof c->net_owner);
                snprintf(c->net_owner_key, sizeof c->net_owner_key, "%s:%s", owner->item.name, owner->item.tag);
                c->net_owner_mode = owner->net_mode;
                lcd_container_unref(owner);
        }
        /* a network made ahead (spare.h), when it has the shape asked for: its id becomes the container's */
        c->net_spare = lcd_runtime_take_spare(e->rt, req->network, req->allow_host_loopback, c->id);
        int r = lcd_statemap_insert(e->map, &c->item);
        if (r < 0) {
                if (c->net_spare)
                        lcd_runtime_give_back_spare(e->rt, c->id);
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
        j->c = c; /* the caller's reference moves to the job */
        /* a create that must pull runs in the pull lane: a slow registry holds no worker of the others */
        if (lcd_job_queue(e, j, create_job, !lcd_imagestore_cached(e->images, &j->ref), done, ctx, err) < 0) {
                lcd_statemap_remove(e->map, &c->item);
                if (c->net_spare)
                        lcd_runtime_give_back_spare(e->rt, c->id);
                lcd_container_unref(c);
                lcd_free(j);
                return LCD_ERR;
        }
        return 0;
}

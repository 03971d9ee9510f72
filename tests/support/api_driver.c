/* api_driver.c - see api_driver.h. */
#include "api_driver.h"

#include "../../src/api/methods.h"
#include "../../src/api/server.h"
#include "../../src/api/session.h"
#include "fake_runner.h"
#include "lcd/alloc.h"
#include "../../src/engine/container.h"
#include "lcd/engine.h"
#include "lcd/events.h"
#include "lcd/fsutil.h"
#include "lcd/timeutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct api_driver {
        char dir[64], data[96], run[96], exits[128];
        fake_runner_t *fake;
        lcd_events_t *ev;
        lcd_engine_t *e;
        lcd_api_t *api;
        lcd_session_t *s;
};

const char *api_driver_dir(api_driver_t *d)
{
        return d->dir;
}

void api_driver_free(api_driver_t *d)
{
        if (d == NULL)
                return;
        if (d->s != NULL) {
                lcd_api_end_session(d->s);
                lcd_session_unref(d->s);
        }
        if (d->e != NULL) {
                lcd_engine_shutdown(d->e);
                if (d->api != NULL)
                        lcd_api_service(d->api);
        }
        lcd_api_free(d->api);
        lcd_engine_free(d->e);
        lcd_events_free(d->ev);
        if (d->fake != NULL)
                lcd_runner_free(&d->fake->base);
        if (d->dir[0] != '\0')
                lcd_rmtree(d->dir);
        free(d);
}

api_driver_t *api_driver_new(void)
{
        api_driver_t *d = calloc(1, sizeof *d);
        if (d == NULL)
                return NULL;
        snprintf(d->dir, sizeof d->dir, "/tmp/lcd-driver-XXXXXX");
        if (mkdtemp(d->dir) == NULL) {
                d->dir[0] = '\0';
                goto fail;
        }
        snprintf(d->data, sizeof d->data, "%s/data", d->dir);
        snprintf(d->run, sizeof d->run, "%s/run", d->dir);
        snprintf(d->exits, sizeof d->exits, "%s/exits", d->run);
        d->fake = fake_runner_new();
        d->ev = lcd_events_new(256, NULL, NULL);
        if (d->fake == NULL || d->ev == NULL || lcd_mkdir_p(d->data, 0700) < 0)
                goto fail;
        d->fake->exit_dir = d->exits;
        lcd_engine_config_t cfg = {
                .data_dir = d->data,
                .runtime_dir = d->run,
                .workers = 1,
                .queue = 8,
                .max_containers = 8,
                .runner = &d->fake->base,
                .events = d->ev,
                .pull_timeout_ms = 5000,
                .tool_timeout_ms = 5000,
                .no_mounts = true,
        };
        lcd_error_t *err = NULL;
        d->e = lcd_engine_new(&cfg, &err);
        if (d->e == NULL)
                goto fail_err;
        lcd_api_config_t acfg = {
                .engine = d->e,
                .events = d->ev,
                .limits = {.max_message = 1 << 20,
                           .max_clients = 4,
                           .max_inflight = 16,
                           .max_depth = 16,
                           .send_queue = 256},
        };
        d->api = lcd_api_new_detached(&acfg, &err);
        if (d->api == NULL)
                goto fail_err;
        d->s = lcd_session_new(d->api, NULL);
        if (d->s == NULL)
                goto fail;
        return d;
fail_err:
        lcd_error_free(err);
fail:
        api_driver_free(d);
        return NULL;
}

void api_driver_feed(api_driver_t *d, const char *text, size_t len)
{
        if (d->s->open)
                lcd_methods_receive(d->s, text, len);
}

bool api_driver_settle(api_driver_t *d, int timeout_ms)
{
        int64_t deadline = lcd_now_ms() + timeout_ms;
        for (;;) {
                lcd_api_service(d->api);
                lcd_engine_stats_t st;
                lcd_engine_counters(d->e, &st);
                pthread_mutex_lock(&d->api->mail_mu);
                bool mail = d->api->mail_head != NULL;
                pthread_mutex_unlock(&d->api->mail_mu);
                if (st.queued == 0 && st.running == 0 && st.parked == 0 && !st.exits_pending && !mail) {
                        lcd_api_service(d->api);
                        return true;
                }
                if (lcd_now_ms() > deadline)
                        return false;
                nanosleep(&(struct timespec){0, 500 * 1000}, NULL);
        }
}

size_t api_driver_next(api_driver_t *d, char *buf, size_t len)
{
        lcd_session_t *s = d->s;
        if (s->q_count == 0)
                return 0;
        lcd_msg_t *m = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_count--;
        s->q_bytes -= m->len;
        size_t full = m->len, n = full < len - 1 ? full : len - 1;
        memcpy(buf, m->data + LWS_PRE, n);
        buf[n] = '\0';
        lcd_msg_unref(m);
        return full + 1 > len ? len : n + 1;
}

bool api_driver_open(api_driver_t *d)
{
        return d->s->open;
}

#define MAX_KEYS 64

struct last {
        char name[LCD_NAME_MAX + 1], tag[LCD_TAG_MAX + 1];
        lcd_event_t e;
};

static int fail(const char *what, const char *name, const char *tag)
{
        fprintf(stderr, "api_driver: inconsistent: %s (%s:%s)\n", what, name ? name : "-", tag ? tag : "-");
        return -1;
}

/* The map against the event ring and the bundles on disk. */
int api_driver_check(api_driver_t *d)
{
        static struct last last[MAX_KEYS];
        size_t n_last = 0;
        uint64_t oldest = lcd_events_oldest(d->ev), latest = lcd_events_latest(d->ev);
        if (oldest != 1)
                return fail("the event ring wrapped; the check needs it whole", NULL, NULL);
        for (uint64_t seq = oldest; seq <= latest; seq++) {
                lcd_event_t e;
                if (lcd_events_get(d->ev, seq, &e) != 0 || e.seq != seq)
                        return fail("an event missing from the ring", NULL, NULL);
                if (e.type == LCD_EV_PROGRESS)
                        continue;
                size_t i = 0;
                while (i < n_last && (strcmp(last[i].name, e.name) != 0 || strcmp(last[i].tag, e.tag) != 0))
                        i++;
                if (i == n_last) {
                        if (n_last == MAX_KEYS)
                                return fail("too many containers for the check", NULL, NULL);
                        snprintf(last[i].name, sizeof last[i].name, "%s", e.name);
                        snprintf(last[i].tag, sizeof last[i].tag, "%s", e.tag);
                        n_last++;
                } else if (e.revision != 0 && last[i].e.revision != 0 && e.type == LCD_EV_STATE &&
                           last[i].e.type == LCD_EV_STATE && e.revision <= last[i].e.revision) {
                        return fail("a container's revision did not rise", e.name, e.tag);
                }
                last[i].e = e;
        }
        lcd_error_t *err = NULL;
        json_object *list = lcd_engine_list(d->e, &err);
        if (list == NULL) {
                lcd_error_free(err);
                return fail("container.list failed without injected failures", NULL, NULL);
        }
        int rc = 0;
        size_t n = json_object_array_length(list);
        for (size_t k = 0; k < n && rc == 0; k++) {
                json_object *c = json_object_array_get_idx(list, k);
                const char *name = json_object_get_string(json_object_object_get(c, "name"));
                const char *tag = json_object_get_string(json_object_object_get(c, "tag"));
                const char *state = json_object_get_string(json_object_object_get(c, "state"));
                uint64_t rev = json_object_get_uint64(json_object_object_get(c, "revision"));
                json_object *one = lcd_engine_inspect(d->e, name, tag, &err);
                if (one == NULL) {
                        lcd_error_free(err);
                        err = NULL;
                        rc = fail("listed but not found", name, tag);
                        break;
                }
                json_object_put(one);
                size_t i = 0;
                while (i < n_last && (strcmp(last[i].name, name) != 0 || strcmp(last[i].tag, tag) != 0))
                        i++;
                if (i == n_last)
                        rc = fail("a container no event announced", name, tag);
                else if (last[i].e.type != LCD_EV_STATE || last[i].e.revision != rev ||
                         strcmp(lcd_cstate_name(last[i].e.state), state) != 0) {
                        fprintf(stderr,
                                "api_driver: last event: type %d state %s revision %llu; the container: %s "
                                "revision %llu\n",
                                last[i].e.type, lcd_cstate_name(last[i].e.state),
                                (unsigned long long)last[i].e.revision, state, (unsigned long long)rev);
                        rc = fail("the last event does not match the container's state", name, tag);
                } else {
                        char bundle[256];
                        const char *id = json_object_get_string(json_object_object_get(c, "id"));
                        snprintf(bundle, sizeof bundle, "%s/containers/%s", d->data, id ? id : "?");
                        if (id == NULL || access(bundle, F_OK) != 0)
                                rc = fail("a container without its bundle", name, tag);
                }
        }
        for (size_t i = 0; i < n_last && rc == 0; i++) {
                if (last[i].e.type == LCD_EV_STATE)
                        continue;
                for (size_t k = 0; k < n; k++) {
                        json_object *c = json_object_array_get_idx(list, k);
                        if (strcmp(json_object_get_string(json_object_object_get(c, "name")), last[i].name) == 0 &&
                            strcmp(json_object_get_string(json_object_object_get(c, "tag")), last[i].tag) == 0)
                                rc = fail("removed or failed, yet listed", last[i].name, last[i].tag);
                }
        }
        /* no bundle without a container */
        char dir[160];
        snprintf(dir, sizeof dir, "%s/containers", d->data);
        DIR *dh = opendir(dir);
        struct dirent *de;
        while (rc == 0 && dh != NULL && (de = readdir(dh)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                bool found = false;
                for (size_t k = 0; k < n && !found; k++) {
                        const char *id = json_object_get_string(
                                json_object_object_get(json_object_array_get_idx(list, k), "id"));
                        found = id != NULL && strcmp(id, de->d_name) == 0;
                }
                if (!found)
                        rc = fail("a bundle left behind", de->d_name, NULL);
        }
        if (dh != NULL)
                closedir(dh);
        json_object_put(list);
        return rc;
}

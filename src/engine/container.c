/* container.c - see container.h. */
#include "container.h"

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static const char *const state_names[LCD_CS__COUNT] = {
        [LCD_CS_CREATING] = "creating", [LCD_CS_CREATED] = "created",   [LCD_CS_RUNNING] = "running",
        [LCD_CS_PAUSED] = "paused",     [LCD_CS_STOPPING] = "stopping", [LCD_CS_EXITED] = "exited",
        [LCD_CS_REMOVING] = "removing",
};

const char *lcd_cstate_name(int state)
{
        return state >= 0 && state < LCD_CS__COUNT ? state_names[state] : NULL;
}

static void container_release(lcd_mapitem_t *it)
{
        lcd_container_t *c = lcd_container_from_item(it);
        pthread_mutex_destroy(&c->mu);
        lcd_free(c->image);
        lcd_free(c->image_digest);
        lcd_free(c->workdir);
        lcd_strv_free(c->cmd);
        lcd_strv_free(c->env);
        lcd_strv_free(c->effective_cmd);
        lcd_free(c->ports);
        lcd_free(c->hostname);
        lcd_free(c);
}

int lcd_container_new_id(char *id)
{
        unsigned char rnd[LCD_ID_LEN / 2];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
                return LCD_ERR;
        for (size_t i = 0; i < sizeof rnd; i++)
                snprintf(id + 2 * i, 3, "%02x", rnd[i]);
        return 0;
}

lcd_container_t *lcd_container_new(const char *name, const char *tag, const char *image, const char *const *cmd,
                                   const char *const *env, const char *workdir)
{
        lcd_container_t *c = lcd_calloc(1, sizeof *c);
        if (c == NULL)
                return NULL;
        if (lcd_container_new_id(c->id) < 0) {
                lcd_free(c);
                return NULL;
        }
        if (pthread_mutex_init(&c->mu, NULL) != 0) {
                lcd_free(c);
                return NULL;
        }
        lcd_mapitem_init(&c->item, name, tag, container_release);
        atomic_init(&c->state, LCD_CS_CREATING);
        atomic_init(&c->busy, 0);
        c->created_at = lcd_wall_ms();
        c->image = lcd_strdup(image);
        int r = lcd_strv_dup(cmd, &c->cmd);
        if (r == 0)
                r = lcd_strv_dup(env, &c->env);
        c->workdir = workdir ? lcd_strdup(workdir) : NULL;
        if (c->image == NULL || r < 0 || (workdir && c->workdir == NULL)) {
                lcd_container_unref(c);
                return NULL;
        }
        return c;
}

int lcd_container_set_network(lcd_container_t *c, lcd_net_mode_t mode, const lcd_port_t *ports, size_t n_ports,
                              const char *hostname, bool allow_host_loopback)
{
        c->net_mode = mode;
        c->allow_host_loopback = allow_host_loopback;
        if (n_ports > 0) {
                c->ports = lcd_calloc(n_ports, sizeof *c->ports);
                if (c->ports == NULL)
                        return -ENOMEM;
                memcpy(c->ports, ports, n_ports * sizeof *ports);
                c->n_ports = n_ports;
        }
        c->hostname = lcd_strdup(hostname);
        return c->hostname ? 0 : -ENOMEM;
}

lcd_container_t *lcd_container_find_id(lcd_statemap_t *map, const char *id)
{
        lcd_mapitem_t **items;
        size_t n;
        if (lcd_statemap_snapshot(map, &items, &n) < 0)
                return NULL;
        lcd_container_t *found = NULL;
        for (size_t i = 0; i < n; i++) {
                lcd_container_t *c = lcd_container_from_item(items[i]);
                if (found == NULL && strcmp(c->id, id) == 0)
                        found = c;
                else
                        lcd_container_unref(c);
        }
        lcd_free(items);
        return found;
}

void lcd_container_unref(lcd_container_t *c)
{
        if (c != NULL)
                lcd_mapitem_unref(&c->item);
}

lcd_cstate_t lcd_container_state(lcd_container_t *c)
{
        return (lcd_cstate_t)atomic_load(&c->state);
}

bool lcd_container_claim(lcd_container_t *c)
{
        int expected = 0;
        return atomic_compare_exchange_strong(&c->busy, &expected, 1);
}

void lcd_container_release(lcd_container_t *c)
{
        atomic_store(&c->busy, 0);
}

/* Under c->mu: a new revision for the change being published. */
static void fill_event(lcd_container_t *c, lcd_event_t *e, lcd_event_type_t type)
{
        memset(e, 0, sizeof *e);
        e->revision = ++c->revision;
        e->type = type;
        snprintf(e->name, sizeof e->name, "%s", c->item.name);
        snprintf(e->tag, sizeof e->tag, "%s", c->item.tag);
        e->state = -1;
        e->previous = -1;
}

int lcd_container_transition(lcd_container_t *c, lcd_events_t *ev, unsigned from_mask, lcd_cstate_t to,
                             lcd_container_update_fn update, void *arg, int *found)
{
        pthread_mutex_lock(&c->mu);
        int cur = atomic_load(&c->state);
        if (found != NULL)
                *found = cur;
        if (!(from_mask & LCD_CS_BIT(cur))) {
                pthread_mutex_unlock(&c->mu);
                return -EBUSY;
        }
        if (update != NULL)
                update(c, arg);
        /* the mutex orders writers; the CAS keeps lock-free readers honest */
        atomic_compare_exchange_strong(&c->state, &cur, (int)to);
        lcd_event_t e;
        fill_event(c, &e, LCD_EV_STATE);
        e.state = (int)to;
        e.previous = cur;
        if (to == LCD_CS_EXITED && c->has_exit_code) {
                e.has_exit_code = true;
                e.exit_code = c->exit_code;
        }
        lcd_events_publish(ev, &e);
        pthread_mutex_unlock(&c->mu);
        return 0;
}

void lcd_container_publish(lcd_container_t *c, lcd_events_t *ev, lcd_event_type_t type, const char *error)
{
        pthread_mutex_lock(&c->mu);
        lcd_event_t e;
        fill_event(c, &e, type);
        e.state = atomic_load(&c->state);
        if (error != NULL)
                snprintf(e.error, sizeof e.error, "%s", error);
        lcd_events_publish(ev, &e);
        pthread_mutex_unlock(&c->mu);
}

/* o[key] = the time as RFC 3339, or null when ms is 0. */
static int set_time(json_object *o, const char *key, int64_t ms)
{
        if (ms == 0)
                return lcd_json_set_null(o, key);
        char buf[40];
        lcd_rfc3339(ms, buf, sizeof buf);
        return lcd_json_set(o, key, json_object_new_string(buf));
}

/* [{"hostPort","containerPort","protocol","hostIp"}] (NULL on allocation failure). */
static json_object *ports_json(const lcd_container_t *c)
{
        json_object *a = json_object_new_array_ext((int)c->n_ports);
        int rc = a ? 0 : -1;
        for (size_t i = 0; rc == 0 && i < c->n_ports; i++) {
                const lcd_port_t *p = &c->ports[i];
                json_object *o = json_object_new_object();
                rc |= lcd_json_set(o, "hostPort", json_object_new_int(p->host_port));
                rc |= lcd_json_set(o, "containerPort", json_object_new_int(p->container_port));
                rc |= lcd_json_set(o, "protocol", json_object_new_string(p->udp ? "udp" : "tcp"));
                rc |= lcd_json_set(o, "hostIp", json_object_new_string(p->host_ip[0] ? p->host_ip : "0.0.0.0"));
                rc |= lcd_json_append(a, o);
        }
        if (rc != 0) {
                json_object_put(a);
                return NULL;
        }
        return a;
}

json_object *lcd_container_to_json(lcd_container_t *c)
{
        json_object *o = json_object_new_object();
        if (o == NULL)
                return NULL;
        int rc = 0;
        pthread_mutex_lock(&c->mu);
        int state = atomic_load(&c->state);
        rc |= lcd_json_set(o, "name", json_object_new_string(c->item.name));
        rc |= lcd_json_set(o, "tag", json_object_new_string(c->item.tag));
        rc |= lcd_json_set(o, "id", json_object_new_string(c->id));
        rc |= lcd_json_set(o, "image", json_object_new_string(c->image));
        rc |= lcd_json_set_str(o, "imageDigest", c->image_digest);
        rc |= lcd_json_set(o, "state", json_object_new_string(lcd_cstate_name(state)));
        rc |= lcd_json_set(o, "revision", json_object_new_uint64(c->revision));
        bool has_pid = c->pid > 0 && (state == LCD_CS_RUNNING || state == LCD_CS_PAUSED || state == LCD_CS_STOPPING ||
                                      state == LCD_CS_CREATED);
        rc |= has_pid ? lcd_json_set(o, "pid", json_object_new_int(c->pid)) : lcd_json_set_null(o, "pid");
        rc |= c->has_exit_code ? lcd_json_set(o, "exitCode", json_object_new_int(c->exit_code))
                               : lcd_json_set_null(o, "exitCode");
        rc |= set_time(o, "createdAt", c->created_at);
        rc |= set_time(o, "startedAt", c->started_at);
        rc |= set_time(o, "finishedAt", c->finished_at);
        char **cmd = c->effective_cmd ? c->effective_cmd : c->cmd;
        rc |= cmd ? lcd_json_set(o, "cmd", lcd_strv_to_json((const char *const *)cmd)) : lcd_json_set_null(o, "cmd");
        char net[16 + sizeof c->net_owner_key];
        snprintf(net, sizeof net, "%s%s%s", lcd_net_mode_name(c->net_mode), c->net_mode == LCD_NET_CONTAINER ? ":" : "",
                 c->net_mode == LCD_NET_CONTAINER ? c->net_owner_key : "");
        rc |= lcd_json_set(o, "network", json_object_new_string(net));
        rc |= lcd_json_set(o, "ports", ports_json(c));
        rc |= lcd_json_set_str(o, "ipAddress", c->ip_address[0] ? c->ip_address : NULL);
        rc |= lcd_json_set_str(o, "hostname", c->hostname);
        rc |= lcd_json_set(o, "networkLost", json_object_new_boolean(c->net_lost));
        rc |= lcd_json_set(o, "tty", json_object_new_boolean(c->tty));
        rc |= lcd_json_set(o, "stdin", json_object_new_boolean(c->stdin));
        pthread_mutex_unlock(&c->mu);
        if (rc != 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

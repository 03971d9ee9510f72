/* container.h - one container's record: identity, state and timestamps.
 *
 * DESIGN: a container lives in the state map (it embeds lcd_mapitem_t, so
 * the map's references keep it alive) from create until it is removed.
 * `state` is a C11 atomic changed only by compare-and-swap in
 * lcd_container_transition(), so two operations on one container cannot
 * both win; `busy` marks the one operation in flight (claimed on the
 * service thread before a job is queued, released by the job). The
 * mutable fields (pid, exit code, times) are guarded by `mu`; a transition
 * updates them, swaps the state and publishes the event all under `mu`,
 * so an inspect after an event never shows an older state and one
 * container's events keep their order. Lock order: mu, then the events
 * mutex. Memory orders: state and busy use seq_cst (rare, simple).
 */
#ifndef LCD_CONTAINER_H
#define LCD_CONTAINER_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lcd/net.h"
#include "lcd/error.h"
#include "lcd/events.h"
#include "statemap.h"
#include "lcd/strv.h"
#include "lcd/ident.h" /* LCD_ID_LEN */
#include "network.h"   /* lcd_net_spec_t */

typedef struct lcd_container {
        lcd_mapitem_t item; /* first member: key and refcount */
        char id[LCD_ID_LEN + 1];
        atomic_int state; /* lcd_cstate_t */
        atomic_int busy;  /* 1 while an operation's job is queued or running */

        pthread_mutex_t mu;
        /* fixed at create (no lock needed to read after insert) */
        char *image;                      /* canonical reference */
        char **cmd;                       /* NULL-terminated; NULL: the image's default */
        char **env;                       /* NULL-terminated extra KEY=VALUE; may be NULL */
        char *workdir;                    /* may be NULL */
        int64_t memory_limit, pids_limit; /* 0: none */
        int64_t created_at;               /* wall ms */
        lcd_net_mode_t net_mode;
        lcd_port_t *ports; /* n_ports published ports; NULL when none */
        size_t n_ports;
        char *hostname;
        bool allow_host_loopback;
        bool tty, stdin;                                    /* a terminal; stdin open for attached clients */
        char net_owner[LCD_ID_LEN + 1];                     /* network container: the owner's id */
        char net_owner_key[LCD_NAME_MAX + LCD_TAG_MAX + 2]; /* ... and its name:tag */
        lcd_net_mode_t net_owner_mode;                      /* ... and its network (private or none) */
        lcd_spare_t net_spare; /* private: its id is a spare network's, for its first run (spare.h) */
        /* guarded by mu */
        char *image_digest;   /* NULL until pulled */
        char **effective_cmd; /* what runs (from the bundle), NULL until created */
        int pid;              /* 0: none */
        bool has_exit_code;
        int exit_code;
        int64_t started_at, finished_at; /* wall ms, 0: null */
        uint64_t revision;               /* rises with every published change (events carry it) */
        bool starting;                   /* a start job is between crun start and RUNNING */
        bool exit_pending;               /* an exit arrived while starting; applied after */
        char ip_address[LCD_ADDR_MAX];   /* the private network's address while it is up; "": none */
        bool net_lost;                   /* its pasta died while the container ran */
        /* guarded by the parked jobs' mutex (lcd_parks_t, park.h) */
        struct lcd_parked *parked; /* a job waiting for this container's exit */
} lcd_container_t;

/* A fresh random id (LCD_ID_LEN hex digits) into id; 0 or LCD_ERR. */
int lcd_container_new_id(char *id);
/* New container in state CREATING with a random id, one reference (the
 * caller's). argv/env arrays are deep-copied. NULL on allocation failure. */
lcd_container_t *lcd_container_new(const char *name, const char *tag, const char *image, const char *const *cmd,
                                   const char *const *env, const char *workdir);
static inline lcd_container_t *lcd_container_from_item(lcd_mapitem_t *it)
{
        return (lcd_container_t *)it;
}
void lcd_container_unref(lcd_container_t *c);
/* The container in map whose id is id: a new reference, or NULL (gone, or
 * out of memory). A pass over a snapshot of the map. Any thread. */
lcd_container_t *lcd_container_find_id(lcd_statemap_t *map, const char *id);
/* Before insert: the network the container asked for (ports and hostname
 * copied). 0, or -ENOMEM. */
int lcd_container_set_network(lcd_container_t *c, lcd_net_mode_t mode, const lcd_port_t *ports, size_t n_ports,
                              const char *hostname, bool allow_host_loopback);

lcd_cstate_t lcd_container_state(lcd_container_t *c);

/* The network c asked for, as the runtime takes it (fixed at create). */
static inline lcd_net_spec_t lcd_container_net(const lcd_container_t *c)
{
        lcd_net_spec_t n = {c->net_mode,       c->ports,
                            c->n_ports,        c->allow_host_loopback,
                            c->hostname,       c->net_mode == LCD_NET_CONTAINER ? c->net_owner : NULL,
                            c->net_owner_mode, c->net_spare};
        return n;
}

/* Claim / release the one-operation-in-flight flag. Claim returns false
 * when another operation holds it. */
bool lcd_container_claim(lcd_container_t *c);
void lcd_container_release(lcd_container_t *c);

typedef void (*lcd_container_update_fn)(lcd_container_t *c, void *arg);
/* If the state is in from_mask: run update(c, arg) (may be NULL), swap the
 * state to `to`, publish a container.state event. All under c->mu.
 * Returns 0, or -EBUSY with *found set to the state that did not match. */
int lcd_container_transition(lcd_container_t *c, lcd_events_t *ev, unsigned from_mask, lcd_cstate_t to,
                             lcd_container_update_fn update, void *arg, int *found);
/* Publish a non-state event (removed, failed) for c. */
void lcd_container_publish(lcd_container_t *c, lcd_events_t *ev, lcd_event_type_t type, const char *error);

/* The API's container object (see docs/API.md). NULL on allocation failure. */
json_object *lcd_container_to_json(lcd_container_t *c);

#endif

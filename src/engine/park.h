/* park.h - jobs that wait for a container's exit or a deadline without
 * holding a worker (park.c). The engine embeds one lcd_parks_t; the exit
 * watcher keeps its deadlines and tells it of exits. */
#ifndef LCD_PARK_H
#define LCD_PARK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "container.h"
#include "lcd/error.h"
#include "pool.h"

/* A job waiting for its container's exit or a deadline (embedded in the job). */
typedef struct lcd_parked {
        struct lcd_parked *next;
        lcd_container_t *c;                   /* whose exit ends the wait (borrowed from the job) */
        int64_t deadline_ms;                  /* monotonic */
        bool exited;                          /* set before resume: the exit came (else the deadline, or shutdown) */
        void (*resume)(struct lcd_parked *p); /* runs on a worker */
        lcd_pool_node_t node;
} lcd_parked_t;

/* The parked jobs. Fields private to park.c. */
typedef struct lcd_parks {
        pthread_mutex_t mu;               /* guards list, n and every container's `parked`; taken alone */
        lcd_parked_t *list;               /* guarded by mu */
        unsigned n;                       /* guarded by mu */
        int wake[2];                      /* a job parked: the exit watcher recomputes its timeout */
        lcd_pool_t *pool;                 /* where resumptions are queued; set before any job parks */
        const atomic_bool *shutting_down; /* the engine's flag (seq_cst) */
} lcd_parks_t;

/* Set ps up with no pool yet: its mutex and its wake pipe. 0, or LCD_ERR
 * (ps may be given to lcd_park_destroy then). Main thread. */
int lcd_park_init(lcd_parks_t *ps, const atomic_bool *shutting_down, lcd_error_t **err);
/* The pool the resumptions go to. Main thread, before any job can park. */
void lcd_park_set_pool(lcd_parks_t *ps, lcd_pool_t *pool);
/* Close the pipe, destroy the mutex; nothing may be parked (after
 * lcd_park_release_all, the pool and the exit watcher stopped). */
void lcd_park_destroy(lcd_parks_t *ps);

/* Park p (p->c, p->resume set) for at most timeout_ms: p->resume runs on a
 * worker when p->c exits or the deadline passes (at once when it has
 * exited already, or the engine is shutting down). Any thread. */
void lcd_park(lcd_parks_t *ps, lcd_parked_t *p, int64_t timeout_ms);
/* c has just become EXITED: resume the job parked on it, if any. Any thread. */
void lcd_park_exited(lcd_parks_t *ps, lcd_container_t *c);
/* Resume the jobs whose deadline passed; ms until the next one, or -1.
 * Exit watcher thread. */
int lcd_park_expire(lcd_parks_t *ps);
/* Shutdown (after the flag is set): resume every parked job now. */
void lcd_park_release_all(lcd_parks_t *ps);
/* How many jobs are parked now (lcd_engine_counters). Any thread. */
unsigned lcd_park_count(lcd_parks_t *ps);

/* The descriptor that is readable once a job parked (the exit watcher
 * polls it); lcd_park_drain empties it. Exit watcher thread. */
int lcd_park_wake_fd(const lcd_parks_t *ps);
void lcd_park_drain(lcd_parks_t *ps);

#endif

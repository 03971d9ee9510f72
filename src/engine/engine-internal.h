/* engine-internal.h - the engine's state, shared by engine.c (set-up,
 * queries, shutdown), the operations (create.c, imageops.c, logs.c,
 * lifecycle.c, over the job plumbing of job.c and park.c) and exitwatch.c
 * (the exit watcher thread). */
#ifndef LCD_ENGINE_INTERNAL_H
#define LCD_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "cgroup.h"
#include "container.h"
#include "lcd/engine.h"
#include "imagestore.h"
#include "lcd/ident.h"
#include "pool.h"
#include "runtime.h"
#include "statemap.h"

#define LCD_TOOLS 4

/* How the exit watcher finds a container by id: a new reference, or NULL
 * (removed). Any thread. */
typedef lcd_container_t *(*lcd_exitwatch_lookup_fn)(void *ctx, const char *id);

struct lcd_engine {
        lcd_engine_config_t cfg;
        lcd_statemap_t *map;
        lcd_pool_t *pool;  /* every operation but pulls */
        lcd_pool_t *pulls; /* the pull lane: a slow registry holds none of pool's workers */
        lcd_imagestore_t *images;
        lcd_runtime_t *rt;
        lcd_cgroup_t cg;
        lcd_events_t *ev;
        char *tool_version[LCD_TOOLS]; /* NULL: not found */
        atomic_bool shutting_down;     /* set once; seq_cst */
        /* create phase timings (relaxed: statistics only) */
        _Atomic uint64_t phase_us[LCD_PHASE__COUNT], phase_count[LCD_PHASE__COUNT];
        /* exit watcher (exitwatch.c) */
        lcd_exitwatch_lookup_fn lookup; /* set by lcd_exitwatch_start, before the thread */
        void *lookup_ctx;
        pthread_t watcher;
        bool watcher_started;
        int watch_fd;
        int stop_pipe[2];
        int epoll_fd;             /* the watcher waits on: watch_fd, stop_pipe[0], conmon pidfds */
        atomic_bool watcher_busy; /* from a wake-up to its last record (seq_cst; for the counters only) */
        /* jobs waiting for an exit or a deadline (park.c) */
        pthread_mutex_t park_mu;
        struct lcd_parked *parked;        /* guarded by park_mu */
        unsigned n_parked;                /* guarded by park_mu */
        int park_pipe[2];                 /* wakes the watcher when a job parks */
        pthread_mutex_t conmons_mu;       /* guards conmons (and their epoll registrations); taken alone */
        struct lcd_conmon_watch *conmons; /* one per conmon watched */
};

extern const char *const lcd_tool_names[LCD_TOOLS];

/* ---- jobs (job.c) ---- */

/* A job waiting for its container's exit or a deadline, without a worker (park.c). */
typedef struct lcd_parked {
        struct lcd_parked *next;
        lcd_container_t *c;                   /* whose exit ends the wait (borrowed from the job) */
        int64_t deadline_ms;                  /* monotonic */
        bool exited;                          /* set before resume: the exit came (else the deadline, or shutdown) */
        void (*resume)(struct lcd_parked *p); /* runs on a worker */
        lcd_pool_node_t node;
} lcd_parked_t;

/* An accepted operation: made on the service thread, run on a worker,
 * done() called exactly once (lcd_job_finish). */
typedef struct lcd_job {
        lcd_engine_t *e;
        lcd_op_req_t op;
        lcd_container_t *c; /* a reference; NULL for pull */
        bool claimed;       /* holds c's one-operation flag */
        lcd_imageref_t ref; /* create, pull, image remove */
        unsigned tail;      /* logs: how many entries */
        lcd_engine_done_fn done;
        void *ctx;
        lcd_parked_t park; /* stop, restart: the wait for the exit */
        int stage;         /* stop, restart: which signal was sent last */
} lcd_job_t;

/* Release the claim, call done (result NULL and err NULL: out of memory),
 * drop the reference, free j. Any thread. */
void lcd_job_finish(lcd_job_t *j, json_object *result, lcd_error_t *err);
/* ... with the container object as the result (unless err). */
void lcd_job_finish_container(lcd_job_t *j, lcd_error_t *err);
/* Queue j on the pool (the pull lane when pull is set), to answer
 * done(ctx, ...) once it has run. 0, or LCD_ERR busy: j is still the
 * caller's then. */
int lcd_job_queue(lcd_engine_t *e, lcd_job_t *j, lcd_job_fn fn, bool pull, lcd_engine_done_fn done, void *ctx,
                  lcd_error_t **err);

/* ---- parking (park.c) ---- */

/* Park p (p->c, p->resume set) for at most timeout_ms: p->resume runs on a
 * worker when p->c exits or the deadline passes (at once when it has
 * exited already). Any thread. */
void lcd_park(lcd_engine_t *e, lcd_parked_t *p, int64_t timeout_ms);
/* c has just become EXITED: resume the job parked on it, if any. */
void lcd_park_exited(lcd_engine_t *e, lcd_container_t *c);
/* Resume the jobs whose deadline passed; ms until the next one, or -1.
 * Exit watcher thread. */
int lcd_park_expire(lcd_engine_t *e);
/* Shutdown: resume every parked job now. */
void lcd_park_release_all(lcd_engine_t *e);

/* Record how long a create phase took (any thread). */
void lcd_engine_phase(lcd_engine_t *e, lcd_phase_t p, int64_t start_us);

/* ---- the exit watcher (exitwatch.c) ---- */

/* Start the watcher thread; it finds containers with lookup(ctx, id), so
 * it needs no function of engine.c. 0, or LCD_ERR. Main thread. */
int lcd_exitwatch_start(lcd_engine_t *e, lcd_exitwatch_lookup_fn lookup, void *ctx, lcd_error_t **err);
/* Record an exit reported by conmon (idempotent). Exit watcher thread (or
 * a worker that looks again after a missed notification). */
void lcd_exitwatch_record(lcd_engine_t *e, const char *id);
/* Watch c's (new) conmon: should it die without writing an exit file, the
 * container is killed and recorded as exited without a code. Any thread;
 * best effort (logged when it cannot watch). */
void lcd_exitwatch_conmon(lcd_engine_t *e, lcd_container_t *c);
void lcd_exitwatch_stop(lcd_engine_t *e);

#endif

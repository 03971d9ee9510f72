/* engine-internal.h - the engine's state, shared by engine.c (set-up,
 * queries, shutdown) and the operations (create.c, imageops.c, logs.c,
 * lifecycle.c, over the job plumbing of job.c). The parked jobs (park.h)
 * and the exit watcher (exitwatch.h) keep their own state, embedded
 * here. */
#ifndef LCD_ENGINE_INTERNAL_H
#define LCD_ENGINE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "container.h"
#include "exitwatch.h"
#include "lcd/engine.h"
#include "imagestore.h"
#include "lcd/ident.h"
#include "park.h"
#include "pool.h"
#include "runtime.h"
#include "statemap.h"

#define LCD_TOOLS 4

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
        lcd_parks_t parks;     /* jobs waiting for an exit or a deadline (park.c) */
        lcd_exitwatch_t watch; /* the exit watcher (exitwatch.c) */
};

extern const char *const lcd_tool_names[LCD_TOOLS];

/* ---- jobs (job.c) ---- */

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

/* Record how long a create phase took (any thread). */
void lcd_engine_phase(lcd_engine_t *e, lcd_phase_t p, int64_t start_us);

#endif

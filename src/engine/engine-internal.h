/* engine-internal.h - the engine's state, shared by engine.c (set-up,
 * queries, shutdown), the operations (create.c, imageops.c, logs.c,
 * lifecycle.c, over the jobs of job.h) and job.c. The parked jobs
 * (park.h) and the exit watcher (exitwatch.h) keep their own state,
 * embedded here; only what engine.c defines is declared here. */
#ifndef LCD_ENGINE_INTERNAL_H
#define LCD_ENGINE_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "cgroup.h"
#include "container.h"
#include "exitwatch.h"
#include "lcd/engine.h"
#include "imagestore.h"
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
        atomic_uint execs;     /* execs accepted and not freed (exec.c; --max-execs) */
        atomic_uint attaches;  /* attaches not freed (attach.c; --max-execs) */
};

extern const char *const lcd_tool_names[LCD_TOOLS];

/* The terminal and stdin c asked for, as lcd_runtime_create takes them. */
static inline unsigned lcd_container_io(const lcd_container_t *c)
{
        return (c->tty ? LCD_IO_TTY : 0u) | (c->stdin ? LCD_IO_STDIN : 0u);
}

/* Record how long a create phase took (any thread). */
void lcd_engine_phase(lcd_engine_t *e, lcd_phase_t p, int64_t start_us);

#endif

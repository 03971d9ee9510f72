/* engine-internal.h - the engine's state, shared by engine.c (set-up,
 * queries, shutdown), ops.c (the operation jobs) and exitwatch.c (the
 * exit watcher thread). */
#ifndef LCD_ENGINE_INTERNAL_H
#define LCD_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "lcd/cgroup.h"
#include "lcd/container.h"
#include "lcd/engine.h"
#include "lcd/imagestore.h"
#include "lcd/pool.h"
#include "lcd/runtime.h"
#include "lcd/statemap.h"

#define LCD_TOOLS 4

struct lcd_engine {
        lcd_engine_config_t cfg;
        lcd_statemap_t *map;
        lcd_pool_t *pool;
        lcd_imagestore_t *images;
        lcd_runtime_t *rt;
        lcd_cgroup_t cg;
        lcd_events_t *ev;
        char *tool_version[LCD_TOOLS]; /* NULL: not found */
        atomic_bool shutting_down;     /* set once; seq_cst */
        /* create phase timings (relaxed: statistics only) */
        _Atomic uint64_t phase_us[LCD_PHASE__COUNT], phase_count[LCD_PHASE__COUNT];
        /* exit watcher */
        pthread_t watcher;
        bool watcher_started;
        int watch_fd;
        int stop_pipe[2];
        int epoll_fd;                     /* the watcher waits on: watch_fd, stop_pipe[0], conmon pidfds */
        pthread_mutex_t conmons_mu;       /* guards conmons */
        struct lcd_conmon_watch *conmons; /* one per conmon watched */
};

extern const char *const lcd_tool_names[LCD_TOOLS];

/* Record how long a create phase took (any thread). */
void lcd_engine_phase(lcd_engine_t *e, lcd_phase_t p, int64_t start_us);

/* Find a container by id (a new reference) or NULL. Any thread. */
lcd_container_t *lcd_engine_find_id(lcd_engine_t *e, const char *id);
/* Record an exit reported by conmon. Exit watcher thread (or a worker
 * that polls after a missed notification). */
void lcd_engine_on_exit(lcd_engine_t *e, const char *id);

int lcd_exitwatch_start(lcd_engine_t *e, lcd_error_t **err);
/* Watch c's (new) conmon: should it die without writing an exit file, the
 * container is killed and recorded as exited without a code. Any thread;
 * best effort (logged when it cannot watch). */
void lcd_exitwatch_conmon(lcd_engine_t *e, lcd_container_t *c);
void lcd_exitwatch_stop(lcd_engine_t *e);

#endif

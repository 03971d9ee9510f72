/* exitwatch.h - the exit watcher (exitwatch.c): one thread that records
 * each container's exit, watches each conmon, keeps the parked jobs'
 * deadlines and reaps orphans. The engine embeds one lcd_exitwatch_t and
 * passes in at start what the watcher needs; the watcher calls no function
 * of engine.c. */
#ifndef LCD_EXITWATCH_H
#define LCD_EXITWATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "container.h"
#include "lcd/error.h"
#include "lcd/events.h"
#include "park.h"
#include "runtime.h"

/* How the exit watcher finds a container by id: a new reference, or NULL
 * (removed). Any thread. */
typedef lcd_container_t *(*lcd_exitwatch_lookup_fn)(void *ctx, const char *id);

/* What the watcher is given at start; all borrowed, outliving the watcher. */
typedef struct {
        lcd_runtime_t *rt;              /* the exit dir, exit codes, conmon pids */
        lcd_events_t *ev;               /* where exits are published */
        lcd_parks_t *parks;             /* told of each exit; their deadlines kept */
        lcd_exitwatch_lookup_fn lookup; /* a container by id */
        void *lookup_ctx;
} lcd_exitwatch_opts_t;

/* The watcher. Fields private to exitwatch.c. */
typedef struct lcd_exitwatch {
        /* from the opts, set by lcd_exitwatch_start before the thread */
        lcd_runtime_t *rt;
        lcd_events_t *ev;
        lcd_parks_t *parks;
        lcd_exitwatch_lookup_fn lookup;
        void *lookup_ctx;
        pthread_t thread;
        bool started;
        int watch_fd;                     /* inotify on the exit dir */
        int stop_pipe[2];                 /* closing [1] stops the thread */
        int epoll_fd;                     /* watch_fd, stop_pipe[0], the parks' wake fd, the reaper's pipe, pidfds */
        atomic_bool busy;                 /* from a wake-up to its last record (seq_cst; lcd_exitwatch_pending) */
        pthread_mutex_t conmons_mu;       /* guards conmons (and their epoll registrations); taken alone */
        struct lcd_conmon_watch *conmons; /* one per conmon watched */
} lcd_exitwatch_t;

/* Set w up, not started (its descriptors -1, its mutex made): what
 * lcd_exitwatch_destroy may be given. Main thread. */
void lcd_exitwatch_init(lcd_exitwatch_t *w);
/* Start the watcher thread with what opts names. 0, or LCD_ERR (then
 * lcd_exitwatch_destroy cleans up). Main thread. */
int lcd_exitwatch_start(lcd_exitwatch_t *w, const lcd_exitwatch_opts_t *opts, lcd_error_t **err);
/* Record an exit reported by conmon (idempotent). Exit watcher thread (or
 * a worker that looks again after a missed notification). */
void lcd_exitwatch_record(lcd_exitwatch_t *w, const char *id);
/* Watch c's (new) conmon: should it die without writing an exit file, the
 * container is killed and recorded as exited without a code. With a
 * private network, watch its pasta too: should it die while c lives, c is
 * marked networkLost and a container.network event says so. Any thread;
 * best effort (logged when it cannot watch). */
void lcd_exitwatch_conmon(lcd_exitwatch_t *w, lcd_container_t *c);
/* Whether an exit may be waiting to be recorded: the watcher is between a
 * wake-up and its last record, or an inotify notice is unread. Any thread
 * (lcd_engine_counters). */
bool lcd_exitwatch_pending(lcd_exitwatch_t *w);
/* Stop and join the thread, close its descriptors, drop the conmon
 * watches. Idempotent. Main thread. */
void lcd_exitwatch_stop(lcd_exitwatch_t *w);
/* Stop (if not yet) and destroy the mutex. Main thread. */
void lcd_exitwatch_destroy(lcd_exitwatch_t *w);

#endif

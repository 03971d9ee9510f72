/* job.h - an accepted operation and its plumbing (job.c): queued on one of
 * the engine's two lanes, finished exactly once. Used by the operations
 * (create.c, lifecycle.c, imageops.c, logs.c). */
#ifndef LCD_JOB_H
#define LCD_JOB_H

#include <stdbool.h>

#include "container.h"
#include "lcd/engine.h"
#include "lcd/error.h"
#include "lcd/ident.h"
#include "park.h"
#include "pool.h"

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

#endif

/* job.c - the plumbing every engine operation shares: queueing a job on
 * one of the two lanes and finishing it.
 *
 * DESIGN: an operation's entry point (create.c, imageops.c, logs.c,
 * lifecycle.c) runs on the service thread, validates, and makes an
 * lcd_job_t (job.h); lcd_job_queue() hands it to the pool -- the pull lane
 * (--pull-workers) for pulls and creates that must pull, so a slow
 * registry holds none of the other workers -- or refuses it (busy) when
 * the queue is full or the daemon is shutting down, leaving the job to the
 * caller. Once queued, the job is the worker's: it calls lcd_job_finish()
 * exactly once, which releases the container's claim before calling
 * done(), so a client may send its next operation as soon as it reads
 * the reply. Any thread.
 */
#include "job.h"

#include "engine-internal.h"

#include "lcd/alloc.h"

#include <errno.h>

void lcd_job_finish(lcd_job_t *j, json_object *result, lcd_error_t *err)
{
        if (err == NULL && result == NULL)
                lcd_error_nomem(&err);
        /* release before replying: a client may send its next operation on
         * this container as soon as it reads the reply */
        if (j->claimed)
                lcd_container_release(j->c);
        j->done(j->ctx, result, err);
        if (j->c != NULL)
                lcd_container_unref(j->c);
        lcd_free(j);
}

void lcd_job_finish_container(lcd_job_t *j, lcd_error_t *err)
{
        lcd_job_finish(j, err ? NULL : lcd_container_to_json(j->c), err);
}

int lcd_job_queue(lcd_engine_t *e, lcd_job_t *j, lcd_job_fn fn, bool pull, lcd_engine_done_fn done, void *ctx,
                  lcd_error_t **err)
{
        j->e = e;
        j->done = done;
        j->ctx = ctx;
        if (atomic_load(&e->shutting_down))
                return lcd_error_set(err, LCD_E_BUSY, "the daemon is shutting down");
        lcd_pool_t *pool = pull ? e->pulls : e->pool;
        int r = lcd_pool_submit(pool, fn, j);
        if (r == -EBUSY)
                return lcd_error_set(err, LCD_E_BUSY, "%u %s are queued already; try again later",
                                     lcd_pool_capacity(pool), pull ? "pulls" : "operations");
        if (r < 0)
                return lcd_error_set(err, LCD_E_BUSY, "the daemon is shutting down");
        return 0;
}

/* pool.h - the bounded worker pool that runs tool pipelines.
 *
 * DESIGN: N pthreads take jobs from a fixed-size ring (capacity set at
 * creation, allocated once): submit never allocates and never blocks; a
 * full ring answers -EBUSY, which the API turns into the `busy` error.
 * Jobs run with no pool lock held. Shutdown stops accepting, lets the
 * workers drain every queued job, and joins them. One mutex guards the
 * ring; two condition variables signal "not empty" and "idle".
 * Thread: submit from any thread; new/shutdown/free from one owner thread.
 */
#ifndef LCD_POOL_H
#define LCD_POOL_H

#include <stddef.h>

typedef struct lcd_pool lcd_pool_t;
typedef void (*lcd_job_fn)(void *arg);

/* Start `workers` threads (>= 1) over a ring of `queue` slots (>= 1).
 * NULL on failure (nothing left running). */
lcd_pool_t *lcd_pool_new(unsigned workers, unsigned queue);
/* Queue fn(arg). 0, -EBUSY (ring full) or -ESHUTDOWN. */
int lcd_pool_submit(lcd_pool_t *p, lcd_job_fn fn, void *arg);
/* Jobs queued but not started, and jobs running, right now. */
unsigned lcd_pool_queued(lcd_pool_t *p);
unsigned lcd_pool_running(lcd_pool_t *p);
unsigned lcd_pool_workers(lcd_pool_t *p);
unsigned lcd_pool_capacity(lcd_pool_t *p);
/* Refuse new jobs, run every queued one, join the workers. Idempotent. */
void lcd_pool_shutdown(lcd_pool_t *p);
/* Shut down (if not yet) and free. */
void lcd_pool_free(lcd_pool_t *p);

#endif

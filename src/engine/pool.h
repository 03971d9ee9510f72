/* pool.h - the bounded worker pool that runs tool pipelines.
 *
 * DESIGN: N pthreads take jobs from a fixed-size ring (capacity set at
 * creation, allocated once): submit never allocates and never blocks; a
 * full ring answers -EBUSY, which the API turns into the `busy` error.
 * Jobs run with no pool lock held. Shutdown stops accepting, lets the
 * workers drain every queued job, and joins them. One mutex guards the
 * ring and a list of continuations (jobs that are the rest of an accepted
 * one, taken first); a condition variable signals "not empty".
 * Thread: submit from any thread; new/shutdown/free from one owner thread.
 */
#ifndef LCD_POOL_H
#define LCD_POOL_H

#include <stddef.h>

typedef struct lcd_pool lcd_pool_t;
typedef void (*lcd_job_fn)(void *arg);

/* A job that must not be refused (the second half of an operation whose
 * first half was accepted): the caller's node is linked in, so taking it
 * needs no room and no allocation. Bounded by what the caller owns. */
typedef struct lcd_pool_node {
        struct lcd_pool_node *next;
        lcd_job_fn fn;
        void *arg;
} lcd_pool_node_t;

/* Start `workers` threads (>= 1) over a ring of `queue` slots (>= 1).
 * NULL on failure (nothing left running). */
lcd_pool_t *lcd_pool_new(unsigned workers, unsigned queue);
/* Queue fn(arg). 0, -EBUSY (ring full) or -ESHUTDOWN. */
int lcd_pool_submit(lcd_pool_t *p, lcd_job_fn fn, void *arg);
/* Queue n->fn(n->arg) ahead of the ring. 0, or -ESHUTDOWN. */
int lcd_pool_submit_node(lcd_pool_t *p, lcd_pool_node_t *n);
/* Jobs queued but not started (continuations too), and jobs running, right now. */
unsigned lcd_pool_queued(lcd_pool_t *p);
unsigned lcd_pool_running(lcd_pool_t *p);
unsigned lcd_pool_workers(lcd_pool_t *p);
unsigned lcd_pool_capacity(lcd_pool_t *p);
/* Refuse new jobs, run every queued one, join the workers. Idempotent. */
void lcd_pool_shutdown(lcd_pool_t *p);
/* Shut down (if not yet) and free. */
void lcd_pool_free(lcd_pool_t *p);

#endif

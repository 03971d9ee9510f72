/* park.c - jobs that wait for a container's exit without holding a worker.
 *
 * DESIGN: a stop sends SIGTERM and then waits up to its timeout (an hour,
 * if the client asks) for the exit. Waiting on a worker would let four such
 * stops take the whole pool, so the job parks instead: it returns its
 * worker and is resumed -- queued as a pool continuation, which is never
 * refused -- when the exit watcher records the container's exit or when
 * its deadline passes, whichever is first. The exit watcher thread keeps
 * the deadlines (its epoll timeout is the nearest one). A container has at
 * most one parked job (operations are exclusive), so there are at most as
 * many as containers. Lock order: park_mu is taken alone (never with a
 * container's mu); it guards the list and every container's `parked`.
 * At shutdown every parked job is resumed at once (it sees shutting_down).
 */
#include "engine-internal.h"

#include "lcd/timeutil.h"

#include <stdint.h>
#include <unistd.h>

/* Queue p's resumption; p was taken off the list. Only then is it no
 * longer counted as parked: at every moment a job is parked, queued or
 * running (lcd_engine_counters, and what waits for the engine to settle,
 * rely on it). */
static void resume(lcd_engine_t *e, lcd_parked_t *p, bool exited, bool counted)
{
        p->exited = exited;
        p->node.fn = (lcd_job_fn)p->resume;
        p->node.arg = p;
        bool queued = lcd_pool_submit_node(e->pool, &p->node) == 0;
        if (counted) {
                pthread_mutex_lock(&e->park_mu);
                e->n_parked--;
                pthread_mutex_unlock(&e->park_mu);
        }
        if (!queued) /* only before the pool stops (see lcd_park) */
                p->resume(p);
}

static void unlink_locked(lcd_engine_t *e, lcd_parked_t *p)
{
        for (lcd_parked_t **pp = &e->parked; *pp != NULL; pp = &(*pp)->next)
                if (*pp == p) {
                        *pp = p->next;
                        break;
                }
        p->c->parked = NULL;
}

/* Wake the watcher so that it recomputes its timeout. */
static void poke(lcd_engine_t *e)
{
        if (e->park_pipe[1] >= 0) {
                ssize_t w = write(e->park_pipe[1], "p", 1); /* full: a wake-up is pending anyway */
                (void)w;
        }
}

void lcd_park(lcd_engine_t *e, lcd_parked_t *p, int64_t timeout_ms)
{
        p->deadline_ms = lcd_now_ms() + timeout_ms;
        pthread_mutex_lock(&e->park_mu);
        /* an exit recorded before this point is seen here; a later one finds p.
         * The same for shutdown: lcd_park_release_all() runs after the flag is set. */
        bool exited = lcd_container_state(p->c) == LCD_CS_EXITED;
        if (exited || atomic_load(&e->shutting_down)) {
                pthread_mutex_unlock(&e->park_mu);
                resume(e, p, exited, false);
                return;
        }
        p->next = e->parked;
        e->parked = p;
        e->n_parked++;
        p->c->parked = p;
        pthread_mutex_unlock(&e->park_mu);
        poke(e);
}

void lcd_park_exited(lcd_engine_t *e, lcd_container_t *c)
{
        pthread_mutex_lock(&e->park_mu);
        lcd_parked_t *p = c->parked;
        if (p != NULL)
                unlink_locked(e, p);
        pthread_mutex_unlock(&e->park_mu);
        if (p != NULL)
                resume(e, p, true, true);
}

int lcd_park_expire(lcd_engine_t *e)
{
        lcd_parked_t *due = NULL;
        int64_t now = lcd_now_ms(), next = -1;
        pthread_mutex_lock(&e->park_mu);
        for (lcd_parked_t **pp = &e->parked; *pp != NULL;) {
                lcd_parked_t *p = *pp;
                if (p->deadline_ms <= now) {
                        *pp = p->next;
                        p->c->parked = NULL;
                        p->next = due;
                        due = p;
                        continue;
                }
                if (next < 0 || p->deadline_ms - now < next)
                        next = p->deadline_ms - now;
                pp = &p->next;
        }
        pthread_mutex_unlock(&e->park_mu);
        while (due != NULL) {
                lcd_parked_t *p = due;
                due = p->next;
                resume(e, p, false, true);
        }
        return next > INT32_MAX ? INT32_MAX : (int)next;
}

void lcd_park_release_all(lcd_engine_t *e)
{
        pthread_mutex_lock(&e->park_mu);
        lcd_parked_t *all = e->parked;
        e->parked = NULL;
        for (lcd_parked_t *p = all; p != NULL; p = p->next)
                p->c->parked = NULL;
        pthread_mutex_unlock(&e->park_mu);
        while (all != NULL) {
                lcd_parked_t *p = all;
                all = p->next;
                resume(e, p, false, true);
        }
}

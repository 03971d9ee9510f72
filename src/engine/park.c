/* park.c - jobs that wait for a container's exit without holding a worker.
 *
 * DESIGN: a stop sends SIGTERM and then waits up to its timeout (an hour,
 * if the client asks) for the exit. Waiting on a worker would let four such
 * stops take the whole pool, so the job parks instead: it returns its
 * worker and is resumed -- queued as a pool continuation, which is never
 * refused -- when the exit watcher records the container's exit or when
 * its deadline passes, whichever is first. The exit watcher thread keeps
 * the deadlines (its epoll timeout is the nearest one; the wake pipe makes
 * it recompute that when a job parks). A container has at most one parked
 * job (operations are exclusive), so there are at most as many as
 * containers. The state is an lcd_parks_t (park.h) the engine embeds; this
 * file alone touches its fields. Lock order: the lcd_parks_t's mu is taken
 * alone (never with a container's mu); it guards the list and every
 * container's `parked`. At shutdown every parked job is resumed at once
 * (it sees the engine's shutting_down).
 */
#include "park.h"

#include "lcd/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

int lcd_park_init(lcd_parks_t *ps, const atomic_bool *shutting_down, lcd_error_t **err)
{
        memset(ps, 0, sizeof *ps);
        ps->wake[0] = ps->wake[1] = -1;
        ps->shutting_down = shutting_down;
        pthread_mutex_init(&ps->mu, NULL);
        if (pipe2(ps->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
                ps->wake[0] = ps->wake[1] = -1;
                return lcd_error_set(err, LCD_E_INTERNAL, "park pipe: %s", strerror(errno));
        }
        return 0;
}

void lcd_park_set_pool(lcd_parks_t *ps, lcd_pool_t *pool)
{
        ps->pool = pool;
}

void lcd_park_destroy(lcd_parks_t *ps)
{
        for (int i = 0; i < 2; i++)
                if (ps->wake[i] >= 0) {
                        close(ps->wake[i]);
                        ps->wake[i] = -1;
                }
        pthread_mutex_destroy(&ps->mu);
}

/* Queue p's resumption; p was taken off the list. Only then is it no
 * longer counted as parked: at every moment a job is parked, queued or
 * running (lcd_engine_counters, and what waits for the engine to settle,
 * rely on it). */
static void resume(lcd_parks_t *ps, lcd_parked_t *p, bool exited, bool counted)
{
        p->exited = exited;
        p->node.fn = (lcd_job_fn)p->resume;
        p->node.arg = p;
        bool queued = lcd_pool_submit_node(ps->pool, &p->node) == 0;
        if (counted) {
                pthread_mutex_lock(&ps->mu);
                ps->n--;
                pthread_mutex_unlock(&ps->mu);
        }
        if (!queued) /* only before the pool stops (see lcd_park) */
                p->resume(p);
}

static void unlink_locked(lcd_parks_t *ps, lcd_parked_t *p)
{
        for (lcd_parked_t **pp = &ps->list; *pp != NULL; pp = &(*pp)->next)
                if (*pp == p) {
                        *pp = p->next;
                        break;
                }
        p->c->parked = NULL;
}

/* Wake the watcher so that it recomputes its timeout. */
static void poke(lcd_parks_t *ps)
{
        if (ps->wake[1] >= 0) {
                ssize_t w = write(ps->wake[1], "p", 1); /* full: a wake-up is pending anyway */
                (void)w;
        }
}

void lcd_park(lcd_parks_t *ps, lcd_parked_t *p, int64_t timeout_ms)
{
        p->deadline_ms = lcd_now_ms() + timeout_ms;
        pthread_mutex_lock(&ps->mu);
        /* an exit recorded before this point is seen here; a later one finds p.
         * The same for shutdown: lcd_park_release_all() runs after the flag is set. */
        bool exited = lcd_container_state(p->c) == LCD_CS_EXITED;
        if (exited || atomic_load(ps->shutting_down)) {
                pthread_mutex_unlock(&ps->mu);
                resume(ps, p, exited, false);
                return;
        }
        p->next = ps->list;
        ps->list = p;
        ps->n++;
        p->c->parked = p;
        pthread_mutex_unlock(&ps->mu);
        poke(ps);
}

void lcd_park_exited(lcd_parks_t *ps, lcd_container_t *c)
{
        pthread_mutex_lock(&ps->mu);
        lcd_parked_t *p = c->parked;
        if (p != NULL)
                unlink_locked(ps, p);
        pthread_mutex_unlock(&ps->mu);
        if (p != NULL)
                resume(ps, p, true, true);
}

int lcd_park_expire(lcd_parks_t *ps)
{
        lcd_parked_t *due = NULL;
        int64_t now = lcd_now_ms(), next = -1;
        pthread_mutex_lock(&ps->mu);
        for (lcd_parked_t **pp = &ps->list; *pp != NULL;) {
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
        pthread_mutex_unlock(&ps->mu);
        while (due != NULL) {
                lcd_parked_t *p = due;
                due = p->next;
                resume(ps, p, false, true);
        }
        return next > INT32_MAX ? INT32_MAX : (int)next;
}

void lcd_park_release_all(lcd_parks_t *ps)
{
        pthread_mutex_lock(&ps->mu);
        lcd_parked_t *all = ps->list;
        ps->list = NULL;
        for (lcd_parked_t *p = all; p != NULL; p = p->next)
                p->c->parked = NULL;
        pthread_mutex_unlock(&ps->mu);
        while (all != NULL) {
                lcd_parked_t *p = all;
                all = p->next;
                resume(ps, p, false, true);
        }
}

unsigned lcd_park_count(lcd_parks_t *ps)
{
        pthread_mutex_lock(&ps->mu);
        unsigned n = ps->n;
        pthread_mutex_unlock(&ps->mu);
        return n;
}

int lcd_park_wake_fd(const lcd_parks_t *ps)
{
        return ps->wake[0];
}

void lcd_park_drain(lcd_parks_t *ps)
{
        char buf[64];
        while (ps->wake[0] >= 0 && read(ps->wake[0], buf, sizeof buf) > 0)
                ;
}

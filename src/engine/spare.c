/* spare.c - see spare.h. */
#include "spare.h"

#include "container.h" /* lcd_container_new_id, LCD_ID_LEN */

#include "lcd/alloc.h"
#include "lcd/log.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define CAP (2 * LCD_NETWORK_SPARES_MAX) /* room for spares given back while the refill made others */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000

struct lcd_spares {
        lcd_network_env_t env;
        unsigned target;
        pthread_mutex_t mu;
        pthread_cond_t cv; /* CLOCK_MONOTONIC */
        /* guarded by mu */
        char ids[CAP][LCD_ID_LEN + 1];
        unsigned n;
        bool wanted;   /* a take happened: keep the pool full */
        bool stopping; /* lcd_spares_free */
        uint64_t taken, missed;
        pthread_t thread;
        bool thread_started;
};

/* The shape of a spare: private, the host's loopback fenced (published
 * ports are the relay's, so any list of them fits). */
static const lcd_net_spec_t spare_spec = {.mode = LCD_NET_PRIVATE, .allow_host_loopback = false};

static bool fits(lcd_net_mode_t mode, bool host_loopback)
{
        return mode == spare_spec.mode && host_loopback == spare_spec.allow_host_loopback;
}

static void wait_ms(lcd_spares_t *s, int ms)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

static void *refill_main(void *arg)
{
        lcd_spares_t *s = arg;
        int backoff = 0;
        pthread_mutex_lock(&s->mu);
        while (!s->stopping) {
                if (!s->wanted || s->n >= s->target) {
                        pthread_cond_wait(&s->cv, &s->mu);
                        continue;
                }
                pthread_mutex_unlock(&s->mu);
                char id[LCD_ID_LEN + 1];
                lcd_error_t *err = NULL;
                int r = lcd_container_new_id(id) < 0 ? lcd_error_nomem(&err)
                                                     : lcd_network_up(&s->env, id, &spare_spec, &err);
                pthread_mutex_lock(&s->mu);
                if (r == 0 && !s->stopping && s->n < CAP) {
                        memcpy(s->ids[s->n++], id, sizeof id);
                        backoff = 0;
                        continue;
                }
                if (r == 0) { /* stopping, or the pool is full of spares given back meanwhile */
                        pthread_mutex_unlock(&s->mu);
                        lcd_network_down(&s->env, id);
                        pthread_mutex_lock(&s->mu);
                        continue;
                }
                backoff = backoff ? (backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2) : BACKOFF_FIRST_MS;
                lcd_warn("cannot make a spare network (creates make their own meanwhile; again in %d s): %s",
                         backoff / 1000, err->msg);
                lcd_error_free(err);
                wait_ms(s, backoff);
        }
        pthread_mutex_unlock(&s->mu);
        return NULL;
}

lcd_spares_t *lcd_spares_new(const lcd_network_env_t *env, unsigned target)
{
        lcd_spares_t *s = lcd_calloc(1, sizeof *s);
        if (s == NULL)
                return NULL;
        s->env = *env;
        s->target = target < 1 ? 1 : target > LCD_NETWORK_SPARES_MAX ? LCD_NETWORK_SPARES_MAX : target;
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        int r = pthread_cond_init(&s->cv, &ca);
        pthread_condattr_destroy(&ca);
        if (r != 0) {
                lcd_free(s);
                return NULL;
        }
        pthread_mutex_init(&s->mu, NULL);
        return s;
}

bool lcd_spares_take(lcd_spares_t *s, lcd_net_mode_t mode, bool host_loopback, char *id)
{
        if (s == NULL || !fits(mode, host_loopback))
                return false;
        pthread_mutex_lock(&s->mu);
        bool got = s->n > 0;
        if (got) {
                memcpy(id, s->ids[0], LCD_ID_LEN + 1); /* the oldest: its pasta is surely in the background */
                memmove(s->ids[0], s->ids[1], (size_t)(s->n - 1) * sizeof s->ids[0]);
                s->n--;
                s->taken++;
        } else {
                s->missed++;
        }
        if (!s->wanted && !s->stopping) {
                s->wanted = true;
                pthread_attr_t attr;
                pthread_attr_init(&attr);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                s->thread_started = pthread_create(&s->thread, &attr, refill_main, s) == 0;
                pthread_attr_destroy(&attr);
                if (!s->thread_started)
                        lcd_warn("cannot start the thread that makes spare networks: creates make their own");
        }
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        return got;
}

void lcd_spares_give_back(lcd_spares_t *s, const char *id)
{
        if (s == NULL)
                return;
        pthread_mutex_lock(&s->mu);
        bool kept = s->n < CAP && !s->stopping;
        if (kept)
                memcpy(s->ids[s->n++], id, LCD_ID_LEN + 1);
        pthread_mutex_unlock(&s->mu);
        if (!kept)
                lcd_network_down(&s->env, id);
}

void lcd_spares_counts(lcd_spares_t *s, unsigned *ready, uint64_t *taken, uint64_t *missed)
{
        *ready = 0;
        *taken = *missed = 0;
        if (s == NULL)
                return;
        pthread_mutex_lock(&s->mu);
        *ready = s->n;
        *taken = s->taken;
        *missed = s->missed;
        pthread_mutex_unlock(&s->mu);
}

void lcd_spares_free(lcd_spares_t *s)
{
        if (s == NULL)
                return;
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        if (s->thread_started)
                pthread_join(s->thread, NULL);
        for (unsigned i = 0; i < s->n; i++)
                lcd_network_down(&s->env, s->ids[i]);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        lcd_free(s);
}

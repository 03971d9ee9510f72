/* spare.c - see spare.h. */
#include "spare.h"

#include "container.h" /* lcd_container_new_id, LCD_ID_LEN */

#include "lcd/alloc.h"
#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define CAP (2 * LCD_NETWORK_SPARES_MAX) /* room for spares given back while the refill made others */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000
#define CLAIMS 4    /* creates waiting for the spare being started, or not yet told it is */
#define REFILLERS 2 /* refill threads: a second starts a pasta while a create waits for the first's */

/* A create took the spare being started: the refill says how its pasta's
 * start ended. */
struct claim {
        char id[LCD_ID_LEN + 1];
        bool used, done;
        bool returned;  /* given back before done: the refill keeps it as a spare (or takes it down) */
        bool abandoned; /* its create stopped waiting: the refill takes it down */
        int rc;
};

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
        uint64_t taken, waited, missed;
        struct slot { /* what refill thread i makes now */
                lcd_spares_t *pool;
                bool busy;               /* making a spare */
                char id[LCD_ID_LEN + 1]; /* busy: its id, once its namespace is up ("" before) */
                struct claim *claim;     /* the create that took it, if one did */
                pthread_t thread;
                bool started;
        } slots[REFILLERS];
        struct claim claims[CLAIMS];
        char doomed[CAP][LCD_ID_LEN + 1]; /* given back, to be taken down by the refill (not the service thread) */
        unsigned n_doomed;
};

/* The shape of a spare: private, the host's loopback fenced (published
 * ports are the relay's, so any list of them fits). */
static const lcd_net_spec_t spare_spec = {.mode = LCD_NET_PRIVATE, .allow_host_loopback = false};
static const lcd_net_spec_t namespace_only = {.mode = LCD_NET_NONE}; /* pasta comes after, on its own */

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

/* Keep id as a spare, or take it down when the pool is full or stopping.
 * mu held; dropped while it takes one down. */
static void keep_or_down(lcd_spares_t *s, const char *id)
{
        if (!s->stopping && s->n < CAP) {
                memcpy(s->ids[s->n++], id, LCD_ID_LEN + 1);
                return;
        }
        pthread_mutex_unlock(&s->mu);
        lcd_network_down(&s->env, id);
        pthread_mutex_lock(&s->mu);
}

/* The refill's pasta for id ended with rc, and a create took id meanwhile
 * (c): tell it, or settle what it left behind. mu held. */
static void settle_claim(lcd_spares_t *s, struct claim *c, const char *id, int rc)
{
        if (c->returned || c->abandoned) {
                bool keep = c->returned && rc == 0;
                c->used = false;
                if (keep) {
                        keep_or_down(s, id);
                } else {
                        pthread_mutex_unlock(&s->mu);
                        lcd_network_down(&s->env, id);
                        pthread_mutex_lock(&s->mu);
                }
                return;
        }
        c->done = true;
        c->rc = rc;
        pthread_cond_broadcast(&s->cv);
}

/* Spares there or coming that no create took: the ready ones and those
 * being made unclaimed. mu held. */
static unsigned spares_soon(lcd_spares_t *s)
{
        unsigned n = s->n;
        for (size_t i = 0; i < REFILLERS; i++)
                n += s->slots[i].busy && s->slots[i].claim == NULL;
        return n;
}

static void *refill_main(void *arg)
{
        struct slot *me = arg;
        lcd_spares_t *s = me->pool;
        int backoff = 0;
        pthread_mutex_lock(&s->mu);
        while (!s->stopping) {
                if (s->n_doomed > 0) {
                        char id[LCD_ID_LEN + 1];
                        memcpy(id, s->doomed[--s->n_doomed], sizeof id);
                        pthread_mutex_unlock(&s->mu);
                        lcd_network_down(&s->env, id);
                        pthread_mutex_lock(&s->mu);
                        continue;
                }
                if (!s->wanted || spares_soon(s) >= s->target) {
                        pthread_cond_wait(&s->cv, &s->mu);
                        continue;
                }
                *me = (struct slot){.busy = true, .pool = s, .thread = me->thread, .started = true};
                pthread_mutex_unlock(&s->mu);
                /* the namespace first: once it is up, a create may take this spare while its pasta starts */
                char id[LCD_ID_LEN + 1] = "";
                lcd_error_t *err = NULL;
                int r = lcd_container_new_id(id) < 0 ? lcd_error_nomem(&err)
                                                     : lcd_network_up(&s->env, id, &namespace_only, &err);
                pthread_mutex_lock(&s->mu);
                struct claim *c = NULL;
                if (r == 0) {
                        memcpy(me->id, id, sizeof id);
                        pthread_mutex_unlock(&s->mu);
                        r = lcd_network_start_pasta(&s->env, id, &spare_spec, &err);
                        pthread_mutex_lock(&s->mu);
                        c = me->claim;
                }
                me->busy = false;
                me->id[0] = '\0';
                me->claim = NULL;
                if (c != NULL)
                        settle_claim(s, c, id, r); /* a failure: its create starts a pasta of its own */
                else if (r == 0)
                        keep_or_down(s, id);
                if (r == 0) {
                        backoff = 0;
                        continue;
                }
                if (c == NULL && id[0] != '\0') {
                        pthread_mutex_unlock(&s->mu);
                        lcd_network_down(&s->env, id); /* what the namespace step left, if anything */
                        pthread_mutex_lock(&s->mu);
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

/* Start refill thread i unless it runs. mu held. */
static void start_refiller(lcd_spares_t *s, size_t i)
{
        struct slot *sl = &s->slots[i];
        if (sl->started || s->stopping)
                return;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        sl->started = pthread_create(&sl->thread, &attr, refill_main, sl) == 0;
        pthread_attr_destroy(&attr);
        if (!sl->started)
                lcd_warn("cannot start a thread that makes spare networks: creates make their own");
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
        for (size_t i = 0; i < REFILLERS; i++)
                s->slots[i].pool = s;
        return s;
}

/* A free claim slot, NULL when all are used. mu held. */
static struct claim *free_claim(lcd_spares_t *s)
{
        for (size_t i = 0; i < CLAIMS; i++)
                if (!s->claims[i].used)
                        return &s->claims[i];
        return NULL;
}

static struct claim *find_claim(lcd_spares_t *s, const char *id)
{
        for (size_t i = 0; i < CLAIMS; i++)
                if (s->claims[i].used && strcmp(s->claims[i].id, id) == 0)
                        return &s->claims[i];
        return NULL;
}

/* A spare being made whose namespace is up and that no create took. mu held. */
static struct slot *claimable(lcd_spares_t *s)
{
        for (size_t i = 0; i < REFILLERS; i++)
                if (s->slots[i].busy && s->slots[i].id[0] != '\0' && s->slots[i].claim == NULL)
                        return &s->slots[i];
        return NULL;
}

lcd_spare_t lcd_spares_take(lcd_spares_t *s, lcd_net_mode_t mode, bool host_loopback, char *id)
{
        if (s == NULL || !fits(mode, host_loopback))
                return LCD_SPARE_NO;
        pthread_mutex_lock(&s->mu);
        lcd_spare_t got = LCD_SPARE_NO;
        struct claim *c;
        struct slot *sl;
        if (s->n > 0) {
                memcpy(id, s->ids[0], LCD_ID_LEN + 1); /* the oldest: its pasta is surely in the background */
                memmove(s->ids[0], s->ids[1], (size_t)(s->n - 1) * sizeof s->ids[0]);
                s->n--;
                s->taken++;
                got = LCD_SPARE_UP;
        } else if ((sl = claimable(s)) != NULL && (c = free_claim(s)) != NULL) {
                /* the one being made: its pasta started earlier than one of the create's own would */
                *c = (struct claim){.used = true};
                memcpy(c->id, sl->id, sizeof c->id);
                sl->claim = c;
                memcpy(id, sl->id, LCD_ID_LEN + 1);
                s->taken++;
                s->waited++;
                got = LCD_SPARE_STARTING;
                start_refiller(s, 1); /* another starts beside it, as the create's own pasta did */
        } else {
                s->missed++;
        }
        if (!s->wanted && !s->stopping) {
                s->wanted = true;
                start_refiller(s, 0);
        }
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        return got;
}

int lcd_spares_wait(lcd_spares_t *s, const char *id, const lcd_net_spec_t *net, lcd_error_t **err)
{
        pthread_mutex_lock(&s->mu);
        struct claim *c = find_claim(s, id);
        int64_t budget = 2 * (int64_t)s->env.timeout_ms + 5000; /* the refill's pasta is bounded by the runner's */
        int64_t deadline = lcd_now_ms() + budget;
        for (int64_t now = lcd_now_ms(); c != NULL && !c->done && now < deadline; now = lcd_now_ms())
                wait_ms(s, (int)(deadline - now < 1000 ? deadline - now : 1000));
        if (c == NULL) { /* settled already (waited for, or given back) */
                pthread_mutex_unlock(&s->mu);
                return 0;
        }
        int rc = c->done ? c->rc : LCD_ERR;
        bool done = c->done;
        if (done)
                c->used = false;
        else
                c->abandoned = true; /* the refill takes it down when its pasta's start ends */
        pthread_mutex_unlock(&s->mu);
        if (rc == 0 || (done && net == NULL))
                return rc;
        if (!done)
                return lcd_error_set(err, LCD_E_TIMEOUT, "the spare network %.12s: its pasta did not start in %lld ms",
                                     id, (long long)budget);
        lcd_warn("the spare network %.12s's pasta did not start: starting one for it", id);
        return lcd_network_start_pasta(&s->env, id, net, err);
}

void lcd_spares_give_back(lcd_spares_t *s, const char *id)
{
        if (s == NULL)
                return;
        pthread_mutex_lock(&s->mu);
        struct claim *c = find_claim(s, id);
        if (c != NULL && !c->done) {
                c->returned = true; /* still starting: the refill keeps it when its pasta is up */
        } else {
                bool up = c == NULL || c->rc == 0;
                if (c != NULL)
                        c->used = false;
                if (up && !s->stopping && s->n < CAP) {
                        memcpy(s->ids[s->n++], id, LCD_ID_LEN + 1);
                } else if (s->slots[0].started && !s->stopping && s->n_doomed < CAP) {
                        memcpy(s->doomed[s->n_doomed++], id, LCD_ID_LEN + 1); /* a pasta's kill may wait 2 s */
                        pthread_cond_broadcast(&s->cv);
                } else {
                        pthread_mutex_unlock(&s->mu);
                        lcd_network_down(&s->env, id);
                        pthread_mutex_lock(&s->mu);
                }
        }
        pthread_mutex_unlock(&s->mu);
}

void lcd_spares_counts(lcd_spares_t *s, unsigned *ready, uint64_t *taken, uint64_t *waited, uint64_t *missed)
{
        *ready = 0;
        *taken = *waited = *missed = 0;
        if (s == NULL)
                return;
        pthread_mutex_lock(&s->mu);
        *ready = s->n;
        *taken = s->taken;
        *waited = s->waited;
        *missed = s->missed;
        pthread_mutex_unlock(&s->mu);
}

void lcd_spares_free(lcd_spares_t *s)
{
        if (s == NULL)
                return;
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        for (size_t i = 0; i < REFILLERS; i++)
                if (s->slots[i].started)
                        pthread_join(s->slots[i].thread, NULL);
        for (unsigned i = 0; i < s->n; i++)
                lcd_network_down(&s->env, s->ids[i]);
        for (unsigned i = 0; i < s->n_doomed; i++)
                lcd_network_down(&s->env, s->doomed[i]);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        lcd_free(s);
}

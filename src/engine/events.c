/* events.c - see events.h. One mutex guards the ring and the seq counter;
 * the latest seq is also mirrored in an atomic (release on publish,
 * acquire on read) so lcd_events_latest() takes no lock. */
#include "lcd/events.h"

#include "lcd/alloc.h"
#include "lcd/timeutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

struct lcd_events {
        pthread_mutex_t mu;
        lcd_event_t *ring;
        size_t cap;
        uint64_t next_seq; /* seq of the next event; first is 1 */
        _Atomic uint64_t latest;
        void (*wake)(void *);
        void *wake_arg;
};

static const char *const type_names[LCD_EV__COUNT] = {
        [LCD_EV_STATE] = "container.state",     [LCD_EV_REMOVED] = "container.removed",
        [LCD_EV_FAILED] = "container.failed",   [LCD_EV_PROGRESS] = "image.progress",
        [LCD_EV_NETWORK] = "container.network", [LCD_EV_EXEC_STARTED] = "exec.started",
        [LCD_EV_EXEC_EXITED] = "exec.exited",
};

const char *lcd_event_type_name(lcd_event_type_t t)
{
        return (unsigned)t < LCD_EV__COUNT ? type_names[t] : "unknown";
}

lcd_events_t *lcd_events_new(size_t history, void (*wake)(void *), void *wake_arg)
{
        if (history == 0)
                return NULL;
        lcd_events_t *ev = lcd_calloc(1, sizeof *ev);
        if (ev == NULL)
                return NULL;
        ev->ring = lcd_calloc(history, sizeof *ev->ring);
        if (ev->ring == NULL || pthread_mutex_init(&ev->mu, NULL) != 0) {
                lcd_free(ev->ring);
                lcd_free(ev);
                return NULL;
        }
        ev->cap = history;
        ev->next_seq = 1;
        ev->wake = wake;
        ev->wake_arg = wake_arg;
        return ev;
}

void lcd_events_free(lcd_events_t *ev)
{
        if (ev == NULL)
                return;
        pthread_mutex_destroy(&ev->mu);
        lcd_free(ev->ring);
        lcd_free(ev);
}

void lcd_events_set_wake(lcd_events_t *ev, void (*wake)(void *), void *wake_arg)
{
        pthread_mutex_lock(&ev->mu);
        ev->wake = wake;
        ev->wake_arg = wake_arg;
        pthread_mutex_unlock(&ev->mu);
}

uint64_t lcd_events_publish(lcd_events_t *ev, lcd_event_t *e)
{
        pthread_mutex_lock(&ev->mu);
        e->seq = ev->next_seq++;
        e->time_us = lcd_wall_us();
        ev->ring[e->seq % ev->cap] = *e;
        atomic_store_explicit(&ev->latest, e->seq, memory_order_release);
        void (*wake)(void *) = ev->wake;
        void *arg = ev->wake_arg;
        pthread_mutex_unlock(&ev->mu);
        if (wake != NULL)
                wake(arg);
        return e->seq;
}

uint64_t lcd_events_latest(lcd_events_t *ev)
{
        return atomic_load_explicit(&ev->latest, memory_order_acquire);
}

uint64_t lcd_events_oldest(lcd_events_t *ev)
{
        pthread_mutex_lock(&ev->mu);
        uint64_t next = ev->next_seq;
        uint64_t oldest = next > ev->cap ? next - ev->cap : 1;
        pthread_mutex_unlock(&ev->mu);
        return oldest;
}

int lcd_events_get(lcd_events_t *ev, uint64_t want, lcd_event_t *out)
{
        int r = 0;
        pthread_mutex_lock(&ev->mu);
        if (want == 0 || want >= ev->next_seq)
                r = -EAGAIN;
        else if (ev->next_seq - want > ev->cap)
                r = -ESTALE;
        else
                *out = ev->ring[want % ev->cap];
        pthread_mutex_unlock(&ev->mu);
        return r;
}

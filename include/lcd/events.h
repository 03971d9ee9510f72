/* events.h - the daemon-wide event sequence.
 *
 * DESIGN: publishers (workers, the exit watcher, the service thread) hand
 * a fixed-size event to lcd_events_publish(), which under one mutex gives
 * it the next seq (strictly increasing across the daemon) and the time,
 * and stores it in a ring of the last `history` events (allocated once:
 * publishing never allocates and never fails). Then it calls the wake-up
 * hook (the API layer's lws_cancel_service). The service thread reads the
 * ring from its own cursor and fans the events out to subscribers; an event
 * evicted before it was read is reported as -ESTALE so the reader can tell
 * its clients they lagged. Callers that change container state publish
 * while still holding the container's lock, so one container's events are
 * in the order of its transitions (lock order: container, then events).
 */
#ifndef LCD_EVENTS_H
#define LCD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A container's key: name and tag (engine/ident.c checks the alphabets). */
#define LCD_NAME_MAX 63 /* [a-z0-9][a-z0-9_.-]{0,62} */
#define LCD_TAG_MAX 128 /* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */

/* A container's states (docs/API.md draws the machine). */
typedef enum {
        LCD_CS_CREATING,
        LCD_CS_CREATED,
        LCD_CS_RUNNING,
        LCD_CS_PAUSED,
        LCD_CS_STOPPING,
        LCD_CS_EXITED,
        LCD_CS_REMOVING,
        LCD_CS__COUNT
} lcd_cstate_t;

#define LCD_CS_BIT(s) (1u << (s))
/* Sets of states: ready to start (or to run again), with a process, any. */
#define LCD_CS_IDLE (LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_BIT(LCD_CS_EXITED))
#define LCD_CS_LIVE (LCD_CS_BIT(LCD_CS_RUNNING) | LCD_CS_BIT(LCD_CS_PAUSED) | LCD_CS_BIT(LCD_CS_STOPPING))
#define LCD_CS_ALL ((1u << LCD_CS__COUNT) - 1)

/* "creating", "created", ... ("?" for anything else). Any thread. */
const char *lcd_cstate_name(int state);

typedef enum {
        LCD_EV_STATE,
        LCD_EV_REMOVED,
        LCD_EV_FAILED,
        LCD_EV_PROGRESS,
        LCD_EV_NETWORK, /* a container's network was lost (its pasta died): error says so */
        LCD_EV_EXEC_STARTED,
        LCD_EV_EXEC_EXITED, /* with its exit code */
        LCD_EV__COUNT
} lcd_event_type_t;

/* image.progress phases */
typedef enum { LCD_PROGRESS_PULLING, LCD_PROGRESS_UNPACKING, LCD_PROGRESS_DONE } lcd_progress_t;

/* Publish an image.progress event (set by the engine for its image store
 * and runtime): ref is the canonical image reference, or a digest for an
 * unpack. Any thread. */
typedef void (*lcd_progress_fn)(void *ctx, const char *ref, lcd_progress_t phase);

#define LCD_EVENT_ERROR_MAX 255

typedef struct {
        uint64_t seq;    /* set by publish */
        int64_t time_us; /* wall clock in microseconds, set by publish */
        lcd_event_type_t type;
        char name[LCD_NAME_MAX + 1];
        char tag[LCD_TAG_MAX + 1];
        uint64_t revision; /* the container's revision after this change */
        int state;         /* lcd_cstate_t, or -1 */
        int previous;      /* lcd_cstate_t, or -1 */
        bool has_exit_code;
        int exit_code;
        union {
                char error[LCD_EVENT_ERROR_MAX + 1];   /* container events: "" when none */
                char ref[LCD_EVENT_ERROR_MAX + 1];     /* image.progress: the image */
                char exec_id[LCD_EVENT_ERROR_MAX + 1]; /* exec.*: the exec's id */
        };
        int phase; /* image.progress: lcd_progress_t */
} lcd_event_t;

typedef struct lcd_events lcd_events_t;

/* history >= 1 events retained. wake(arg) runs after each publish, with
 * the events mutex released but possibly a container's lock held (its
 * publisher's): it must take none of the engine's locks (the API's only
 * calls lws_cancel_service). NULL on allocation failure. */
lcd_events_t *lcd_events_new(size_t history, void (*wake)(void *), void *wake_arg);
void lcd_events_free(lcd_events_t *ev);
/* Replace the wake-up hook (set once the server exists). */
void lcd_events_set_wake(lcd_events_t *ev, void (*wake)(void *), void *wake_arg);
/* Assign seq and time, store, wake. Returns the seq. Any thread. */
uint64_t lcd_events_publish(lcd_events_t *ev, lcd_event_t *e);
/* The latest seq published (0 before the first event). */
uint64_t lcd_events_latest(lcd_events_t *ev);
/* The oldest seq still in the ring (1 before it wraps; latest+1 when empty). */
uint64_t lcd_events_oldest(lcd_events_t *ev);
/* Copy out the event with seq == want. 0, -EAGAIN (not yet published),
 * or -ESTALE (already evicted from the ring). */
int lcd_events_get(lcd_events_t *ev, uint64_t want, lcd_event_t *out);
const char *lcd_event_type_name(lcd_event_type_t t);

#endif

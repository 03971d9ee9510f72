/* test_events.c - event sequencing: strictly rising seq, the ring bound,
 * per-container order under concurrent transitions, publish-after-state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../../../src/engine/container.h"
#include "lcd/events.h"

static int wakes;
static void wake(void *arg)
{
        (void)arg;
        wakes++;
}

static void test_seq_and_ring(void **state)
{
        wakes = 0;
        lcd_events_t *ev = lcd_events_new(4, wake, NULL);
        assert_non_null(ev);
        assert_non_null(ev);
        assert_int_equal(lcd_events_latest(ev), 0);
        lcd_event_t e, out;
        for (int i = 1; i <= 6; i++) {
                memset(&e, 0, sizeof e);
                e.type = LCD_EV_STATE;
                snprintf(e.name, sizeof e.name, "c%d", i);
                assert_int_equal(lcd_events_publish(ev, &e), (uint64_t)i);
        }
        assert_int_equal(wakes, 6);
        assert_int_equal(lcd_events_latest(ev), 6);
        /* the ring keeps the last 4 */
        assert_int_equal(lcd_events_get(ev, 1, &out), -ESTALE);
        assert_int_equal(lcd_events_get(ev, 2, &out), -ESTALE);
        assert_int_equal(lcd_events_get(ev, 3, &out), 0);
        assert_string_equal(out.name, "c3");
        assert_int_equal(out.seq, 3);
        assert_true(out.time_us > 0);
        assert_int_equal(lcd_events_get(ev, 6, &out), 0);
        assert_int_equal(lcd_events_get(ev, 7, &out), -EAGAIN);
        lcd_events_free(ev);
}

struct racer {
        lcd_container_t *c;
        lcd_events_t *ev;
        int wins;
};

/* Flip RUNNING <-> PAUSED many times from two threads: every transition
 * that wins publishes exactly one event, and the events of the container,
 * read back in seq order, form a valid chain (each previous == the state of
 * the event before). */
static void *flipper(void *arg)
{
        struct racer *r = arg;
        for (int i = 0; i < 20000; i++) {
                int cur = lcd_container_state(r->c);
                lcd_cstate_t to = cur == LCD_CS_RUNNING ? LCD_CS_PAUSED : LCD_CS_RUNNING;
                if (lcd_container_transition(r->c, r->ev, LCD_CS_BIT(cur), to, NULL, NULL, NULL) == 0)
                        r->wins++;
        }
        return NULL;
}

static void test_transitions_ordered(void **state)
{
        const size_t n = 100000;
        lcd_events_t *ev = lcd_events_new(n, NULL, NULL);
        assert_non_null(ev);
        lcd_container_t *c = lcd_container_new("web", "1", "h.io/web:1", NULL, NULL, NULL);
        assert_non_null(c);
        assert_non_null(ev);
        assert_non_null(c);
        assert_int_equal(lcd_container_transition(c, ev, LCD_CS_BIT(LCD_CS_CREATING), LCD_CS_RUNNING, NULL, NULL, NULL),
                         0);
        /* a transition from a state we are not in changes nothing */
        int found;
        assert_int_equal(lcd_container_transition(c, ev, LCD_CS_BIT(LCD_CS_CREATED), LCD_CS_EXITED, NULL, NULL, &found),
                         -EBUSY);
        assert_int_equal(found, LCD_CS_RUNNING);
        assert_int_equal(lcd_events_latest(ev), 1);

        struct racer a = {c, ev, 0}, b = {c, ev, 0};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, flipper, &a);
        pthread_create(&tb, NULL, flipper, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        uint64_t latest = lcd_events_latest(ev);
        assert_int_equal(latest, 1 + (uint64_t)(a.wins + b.wins));
        lcd_event_t prev, cur;
        assert_int_equal(lcd_events_get(ev, 1, &prev), 0);
        for (uint64_t s = 2; s <= latest; s++) {
                assert_int_equal(lcd_events_get(ev, s, &cur), 0);
                assert_int_equal(cur.seq, s);
                if (cur.previous != prev.state)
                        fail_msg("event %llu: previous %d but the event before says %d", (unsigned long long)s,
                                 cur.previous, prev.state);
                assert_true(cur.time_us >= prev.time_us);
                prev = cur;
        }
        /* the map state equals the last event's state */
        assert_int_equal(lcd_container_state(c), prev.state);
        lcd_container_unref(c);
        lcd_events_free(ev);
}

static void set_exit(lcd_container_t *c, void *arg)
{
        c->has_exit_code = true;
        c->exit_code = *(int *)arg;
}

static void test_exit_event_carries_code(void **state)
{
        lcd_events_t *ev = lcd_events_new(8, NULL, NULL);
        assert_non_null(ev);
        lcd_container_t *c = lcd_container_new("a", "b", "h.io/a:b", NULL, NULL, NULL);
        assert_non_null(c);
        int code = 42;
        lcd_container_transition(c, ev, ~0u, LCD_CS_RUNNING, NULL, NULL, NULL);
        lcd_container_transition(c, ev, LCD_CS_BIT(LCD_CS_RUNNING), LCD_CS_EXITED, set_exit, &code, NULL);
        lcd_event_t e;
        assert_int_equal(lcd_events_get(ev, 2, &e), 0);
        assert_int_equal(e.state, LCD_CS_EXITED);
        assert_int_equal(e.previous, LCD_CS_RUNNING);
        assert_true(e.has_exit_code);
        assert_int_equal(e.exit_code, 42);
        assert_string_equal(e.name, "a");
        assert_string_equal(e.tag, "b");
        /* the container object shows it too */
        json_object *o = lcd_container_to_json(c);
        assert_int_equal(json_object_get_int(json_object_object_get(o, "exitCode")), 42);
        assert_string_equal(json_object_get_string(json_object_object_get(o, "state")), "exited");
        assert_true(json_object_is_type(json_object_object_get(o, "pid"), json_type_null));
        json_object_put(o);
        lcd_container_unref(c);
        lcd_events_free(ev);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seq_and_ring),
                cmocka_unit_test(test_transitions_ordered),
                cmocka_unit_test(test_exit_event_carries_code),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

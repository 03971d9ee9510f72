/* test_gate.c - keyed reader/writer gates: a writer excludes everyone on
 * its key, readers share it, other keys never wait; watched from real
 * threads that record how many are inside at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "../../../src/engine/gate.h"

typedef struct {
        lcd_gate_t *g;
        const char *key;
        bool write;
        atomic_int *readers, *writers; /* inside the gate now, on this key */
        atomic_int *violations;        /* a writer with anyone else inside, or a reader beside a writer */
} worker_t;

static void nap_ms(int ms)
{
        struct timespec ts = {0, ms * 1000000L};
        nanosleep(&ts, NULL);
}

static void *worker(void *arg)
{
        worker_t *w = arg;
        for (int i = 0; i < 20; i++) {
                assert_int_equal(lcd_gate_enter(w->g, w->key, w->write), 0);
                if (w->write) {
                        if (atomic_fetch_add(w->writers, 1) != 0 || atomic_load(w->readers) != 0)
                                atomic_fetch_add(w->violations, 1);
                        nap_ms(1);
                        atomic_fetch_sub(w->writers, 1);
                } else {
                        atomic_fetch_add(w->readers, 1);
                        if (atomic_load(w->writers) != 0)
                                atomic_fetch_add(w->violations, 1);
                        nap_ms(2);
                        atomic_fetch_sub(w->readers, 1);
                }
                lcd_gate_leave(w->g, w->key, w->write);
        }
        return NULL;
}

static void test_a_writer_is_alone(void **state)
{
        lcd_gate_t *g = lcd_gate_new();
        assert_non_null(g);
        atomic_int readers = 0, writers = 0, violations = 0;
        worker_t w[6];
        pthread_t t[6];
        for (int i = 0; i < 6; i++) {
                w[i] = (worker_t){g, "image:sha256:abc", i < 2, &readers, &writers, &violations};
                assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
        }
        for (int i = 0; i < 6; i++)
                pthread_join(t[i], NULL);
        assert_int_equal(violations, 0);
        lcd_gate_free(g);
}

typedef struct {
        lcd_gate_t *g;
        atomic_int done;
} other_key_t;

static void *enter_other(void *arg)
{
        other_key_t *o = arg;
        assert_int_equal(lcd_gate_enter(o->g, "b", true), 0);
        lcd_gate_leave(o->g, "b", true);
        atomic_store(&o->done, 1);
        return NULL;
}

static void test_other_keys_do_not_wait(void **state)
{
        other_key_t o = {lcd_gate_new(), 0};
        assert_non_null(o.g);
        assert_int_equal(lcd_gate_enter(o.g, "a", true), 0); /* held for the whole test */
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, enter_other, &o), 0);
        for (int i = 0; i < 2000 && !atomic_load(&o.done); i++)
                nap_ms(1);
        assert_int_equal(atomic_load(&o.done), 1);
        pthread_join(t, NULL);
        lcd_gate_leave(o.g, "a", true);
        lcd_gate_free(o.g);
}

static void *enter_same(void *arg)
{
        other_key_t *o = arg;
        assert_int_equal(lcd_gate_enter(o->g, "a", false), 0);
        atomic_store(&o->done, 1);
        lcd_gate_leave(o->g, "a", false);
        return NULL;
}

static void test_a_reader_waits_for_the_writer(void **state)
{
        other_key_t o = {lcd_gate_new(), 0};
        assert_int_equal(lcd_gate_enter(o.g, "a", true), 0);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, enter_same, &o), 0);
        nap_ms(50);
        assert_int_equal(atomic_load(&o.done), 0); /* still waiting */
        lcd_gate_leave(o.g, "a", true);
        pthread_join(t, NULL);
        assert_int_equal(atomic_load(&o.done), 1);
        lcd_gate_free(o.g);
}

static void test_readers_share(void **state)
{
        other_key_t o = {lcd_gate_new(), 0};
        assert_int_equal(lcd_gate_enter(o.g, "a", false), 0); /* a reader holds it */
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, enter_same, &o), 0);
        for (int i = 0; i < 2000 && !atomic_load(&o.done); i++)
                nap_ms(1);
        assert_int_equal(atomic_load(&o.done), 1); /* the second reader got in beside it */
        pthread_join(t, NULL);
        lcd_gate_leave(o.g, "a", false);
        lcd_gate_free(o.g);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_a_writer_is_alone),
                cmocka_unit_test(test_other_keys_do_not_wait),
                cmocka_unit_test(test_a_reader_waits_for_the_writer),
                cmocka_unit_test(test_readers_share),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

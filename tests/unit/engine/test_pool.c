/* test_pool.c - the bounded worker pool: the queue bound, busy, draining. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "lcd/alloc.h"
#include "../../../src/engine/pool.h"

static atomic_int ran;
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;
static atomic_int in_job;

static void count_job(void *arg)
{
        (void)arg;
        atomic_fetch_add(&ran, 1);
}

/* Blocks until the gate opens. */
static void gated_job(void *arg)
{
        atomic_fetch_add(&in_job, 1);
        pthread_mutex_lock(&gate_mu);
        while (!gate_open)
                pthread_cond_wait(&gate_cv, &gate_mu);
        pthread_mutex_unlock(&gate_mu);
        atomic_fetch_add(&ran, 1);
}

static void open_gate(void)
{
        pthread_mutex_lock(&gate_mu);
        gate_open = 1;
        pthread_cond_broadcast(&gate_cv);
        pthread_mutex_unlock(&gate_mu);
}

static int setup(void **state)
{
        atomic_store(&ran, 0);
        atomic_store(&in_job, 0);
        gate_open = 0;
        return 0;
}

static void test_runs_all(void **state)
{
        lcd_pool_t *p = lcd_pool_new(3, 1000);
        assert_non_null(p);
        for (int i = 0; i < 1000; i++)
                assert_int_equal(lcd_pool_submit(p, count_job, NULL), 0);
        lcd_pool_free(p); /* drains */
        assert_int_equal(atomic_load(&ran), 1000);
}

static void test_busy_when_full(void **state)
{
        lcd_pool_t *p = lcd_pool_new(2, 4);
        assert_non_null(p);
        /* occupy both workers */
        assert_int_equal(lcd_pool_submit(p, gated_job, NULL), 0);
        assert_int_equal(lcd_pool_submit(p, gated_job, NULL), 0);
        for (int i = 0; i < 1000 && atomic_load(&in_job) < 2; i++)
                usleep(1000);
        assert_int_equal(atomic_load(&in_job), 2);
        assert_int_equal(lcd_pool_running(p), 2);
        for (int i = 0; i < 4; i++)
                assert_int_equal(lcd_pool_submit(p, gated_job, NULL), 0);
        assert_int_equal(lcd_pool_queued(p), 4);
        /* the fifth queued job does not fit: busy, never blocks */
        assert_int_equal(lcd_pool_submit(p, gated_job, NULL), -EBUSY);
        assert_int_equal(lcd_pool_queued(p), 4);
        open_gate();
        lcd_pool_shutdown(p);
        assert_int_equal(atomic_load(&ran), 6);
        /* after shutdown nothing is accepted */
        assert_int_equal(lcd_pool_submit(p, count_job, NULL), -ESHUTDOWN);
        lcd_pool_free(p);
        assert_int_equal(atomic_load(&ran), 6);
}

static void test_shutdown_drains_queue(void **state)
{
        lcd_pool_t *p = lcd_pool_new(1, 64);
        assert_non_null(p);
        assert_int_equal(lcd_pool_submit(p, gated_job, NULL), 0);
        for (int i = 0; i < 50; i++)
                assert_int_equal(lcd_pool_submit(p, count_job, NULL), 0);
        open_gate();
        lcd_pool_shutdown(p);
        assert_int_equal(atomic_load(&ran), 51);
        assert_int_equal(lcd_pool_queued(p), 0);
        lcd_pool_free(p);
}

static void test_bad_args_and_nomem(void **state)
{
        assert_null(lcd_pool_new(0, 1));
        assert_null(lcd_pool_new(1, 0));
        for (unsigned long n = 1; n <= 3; n++) {
                lcd_alloc_fail_at(n);
                lcd_pool_t *p = lcd_pool_new(2, 8);
                int hit = lcd_alloc_fail_hit();
                lcd_alloc_fail_at(0);
                if (hit)
                        assert_null(p);
                lcd_pool_free(p);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_runs_all, setup),
                cmocka_unit_test_setup(test_busy_when_full, setup),
                cmocka_unit_test_setup(test_shutdown_drains_queue, setup),
                cmocka_unit_test_setup(test_bad_args_and_nomem, setup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

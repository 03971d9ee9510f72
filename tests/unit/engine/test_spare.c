/* test_spare.c - the pool of networks made ahead, its refill held at
 * pasta's start by the fake runner: a take that finds none ready takes
 * the one being started (its namespace already there) and its wait ends
 * when that pasta is up; a failed start is made up for in line; one given
 * back while starting becomes a ready spare; the pool's counts say so.
 * Namespaces are plain files here (no_netns). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/engine/container.h" /* LCD_ID_LEN */
#include "../../../src/engine/spare.h"
#include "fake_runner.h"
#include "lcd/fsutil.h"

struct fixture {
        char dir[64];
        fake_runner_t *fake;
        lcd_network_env_t env;
        lcd_spares_t *s;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof *f);
        if (f == NULL)
                return -1;
        *state = f; /* teardown frees what was made */
        snprintf(f->dir, sizeof f->dir, "/tmp/lcd-spare-XXXXXX");
        if (mkdtemp(f->dir) == NULL || (f->fake = fake_runner_new()) == NULL)
                return -1;
        f->env = (lcd_network_env_t){.dir = f->dir, .runner = &f->fake->base, .timeout_ms = 5000, .no_netns = true};
        return (f->s = lcd_spares_new(&f->env, 1)) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        if (f->fake != NULL)
                fake_runner_hold(f->fake, 0);
        lcd_spares_free(f->s);
        if (f->fake != NULL)
                lcd_runner_free(&f->fake->base);
        if (f->dir[0] != '\0')
                lcd_rmtree(f->dir);
        free(f);
        return 0;
}

static bool ns_exists(struct fixture *f, const char *id)
{
        char path[256];
        snprintf(path, sizeof path, "%s/%s", f->dir, id);
        return access(path, F_OK) == 0;
}

static unsigned ready(struct fixture *f)
{
        unsigned n;
        uint64_t taken, waited, missed;
        lcd_spares_counts(f->s, &n, &taken, &waited, &missed);
        return n;
}

/* Poll cond (a few seconds at most). */
#define EVENTUALLY(cond)                                                                                               \
        do {                                                                                                           \
                for (int i_ = 0; i_ < 500 && !(cond); i_++)                                                            \
                        usleep(10000);                                                                                 \
                assert_true(cond);                                                                                     \
        } while (0)

/* The first take misses and starts the refill; then one is ready; a take
 * of it (held at pasta) leaves the next one starting. *up: that take's id. */
static void to_starting(struct fixture *f, char *up)
{
        char id[LCD_ID_LEN + 1];
        assert_int_equal(lcd_spares_take(f->s, LCD_NET_PRIVATE, false, id), LCD_SPARE_NO);
        EVENTUALLY(ready(f) == 1);
        fake_runner_hold(f->fake, 1);
        assert_int_equal(lcd_spares_take(f->s, LCD_NET_PRIVATE, false, up), LCD_SPARE_UP);
        EVENTUALLY(fake_runner_get(&f->fake->pasta_waiting) == 1);
}

struct waiter {
        struct fixture *f;
        const char *id;
        atomic_int done;
        int rc;
        lcd_error_t *err;
};

static void *wait_main(void *arg)
{
        struct waiter *w = arg;
        lcd_net_spec_t net = {.mode = LCD_NET_PRIVATE, .spare = LCD_SPARE_STARTING};
        w->rc = lcd_spares_wait(w->f->s, w->id, &net, &w->err);
        atomic_store(&w->done, 1);
        return NULL;
}

/* Run w's lcd_spares_wait on a thread, release the held pasta, join.
 * check_it_waits: first see that the wait does not end while it is held. */
static void wait_past_the_hold(struct fixture *f, struct waiter *w, bool check_it_waits)
{
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, wait_main, w), 0);
        if (check_it_waits) {
                usleep(200000);
                assert_int_equal(atomic_load(&w->done), 0); /* its pasta is not up: the create waits */
        }
        fake_runner_hold(f->fake, 0);
        pthread_join(th, NULL);
}

static void test_a_take_with_none_ready_takes_the_one_starting(void **state)
{
        struct fixture *f = *state;
        char up[LCD_ID_LEN + 1], id[LCD_ID_LEN + 1];
        to_starting(f, up);
        /* other shapes never take one */
        assert_int_equal(lcd_spares_take(f->s, LCD_NET_PRIVATE, true, id), LCD_SPARE_NO);
        assert_int_equal(lcd_spares_take(f->s, LCD_NET_HOST, false, id), LCD_SPARE_NO);
        assert_int_equal(lcd_spares_take(f->s, LCD_NET_PRIVATE, false, id), LCD_SPARE_STARTING);
        assert_string_not_equal(id, up);
        assert_true(ns_exists(f, id)); /* crun may join it already */
        /* a second refill thread starts one beside it, as the create's own pasta did before; the next
         * create takes that one, never the same */
        EVENTUALLY(fake_runner_get(&f->fake->pasta_waiting) == 2);
        char again[LCD_ID_LEN + 1];
        assert_int_equal(lcd_spares_take(f->s, LCD_NET_PRIVATE, false, again), LCD_SPARE_STARTING);
        assert_string_not_equal(again, id);
        char none[LCD_ID_LEN + 1]; /* both refill threads' spares are taken: nothing more */
        assert_int_equal(lcd_spares_take(f->s, LCD_NET_PRIVATE, false, none), LCD_SPARE_NO);
        struct waiter w = {.f = f, .id = id};
        wait_past_the_hold(f, &w, true);
        assert_int_equal(w.rc, 0);
        assert_int_equal(fake_runner_pastas_with(f->fake, id), 1); /* the refill's: none of its own */
        assert_true(ns_exists(f, id));
        lcd_net_spec_t net = {.mode = LCD_NET_PRIVATE};
        lcd_error_t *err = NULL;
        assert_int_equal(lcd_spares_wait(f->s, id, &net, &err), 0); /* settled: at once */
        assert_int_equal(lcd_spares_wait(f->s, again, &net, &err), 0);
        assert_int_equal(fake_runner_pastas_with(f->fake, again), 1);

        unsigned n;
        uint64_t taken, waited, missed;
        lcd_spares_counts(f->s, &n, &taken, &waited, &missed);
        assert_int_equal(taken, 3);
        assert_int_equal(waited, 2);
        assert_int_equal(missed, 2); /* the first take, and the one when both were taken */
        lcd_network_down(&f->env, up);
        lcd_network_down(&f->env, id);
        lcd_network_down(&f->env, again);
}

static void test_a_failed_start_is_made_up_for_in_line(void **state)
{
        struct fixture *f = *state;
        char up[LCD_ID_LEN + 1], id[LCD_ID_LEN + 1];
        to_starting(f, up);
        assert_int_equal(lcd_spares_take(f->s, LCD_NET_PRIVATE, false, id), LCD_SPARE_STARTING);
        fake_runner_hold(f->fake, 1);
        f->fake->pasta_fail_with = id; /* the refill's (held) start fails; the in-line one works */
        struct waiter w = {.f = f, .id = id};
        wait_past_the_hold(f, &w, false);
        assert_null(w.err);
        assert_int_equal(w.rc, 0);
        assert_int_equal(fake_runner_pastas_with(f->fake, id), 2); /* the refill's, failed, and its own */
        assert_true(ns_exists(f, id));
        lcd_network_down(&f->env, up);
        lcd_network_down(&f->env, id);
}

static void test_one_given_back_while_starting_becomes_ready(void **state)
{
        struct fixture *f = *state;
        char up[LCD_ID_LEN + 1], id[LCD_ID_LEN + 1], next[LCD_ID_LEN + 1];
        to_starting(f, up);
        assert_int_equal(lcd_spares_take(f->s, LCD_NET_PRIVATE, false, id), LCD_SPARE_STARTING);
        lcd_spares_give_back(f->s, id); /* the create was refused */
        fake_runner_hold(f->fake, 0);
        EVENTUALLY(ready(f) >= 1 && fake_runner_get(&f->fake->pasta_waiting) == 0);
        bool found = false; /* kept as a spare (beside the one a second refill thread may have made) */
        for (int i = 0; i < 2 && lcd_spares_take(f->s, LCD_NET_PRIVATE, false, next) == LCD_SPARE_UP; i++) {
                found |= strcmp(next, id) == 0;
                if (strcmp(next, id) != 0)
                        lcd_network_down(&f->env, next);
        }
        assert_true(found);
        lcd_network_down(&f->env, up);
        lcd_network_down(&f->env, id);
}

static void test_one_given_back_whose_start_failed_is_taken_down(void **state)
{
        struct fixture *f = *state;
        char up[LCD_ID_LEN + 1], id[LCD_ID_LEN + 1];
        to_starting(f, up);
        assert_int_equal(lcd_spares_take(f->s, LCD_NET_PRIVATE, false, id), LCD_SPARE_STARTING);
        fake_runner_hold(f->fake, 1);
        f->fake->pasta_fail_with = id;
        lcd_spares_give_back(f->s, id);
        assert_true(ns_exists(f, id)); /* the refill's, still */
        fake_runner_hold(f->fake, 0);
        EVENTUALLY(!ns_exists(f, id));
        lcd_network_down(&f->env, up);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_take_with_none_ready_takes_the_one_starting, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_failed_start_is_made_up_for_in_line, setup, teardown),
                cmocka_unit_test_setup_teardown(test_one_given_back_while_starting_becomes_ready, setup, teardown),
                cmocka_unit_test_setup_teardown(test_one_given_back_whose_start_failed_is_taken_down, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_statemap.c - unit tests for src/engine/statemap.c: single-thread
 * semantics, allocation failure, and multi-thread stress and races.
 *
 * Worker threads never call cmocka asserts (cmocka fails by longjmp, which
 * must stay on the test's thread); they record failures with CHECK() and the
 * test thread asserts that none were recorded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lcd/alloc.h"
#include "../../../src/engine/statemap.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

/* Stress sizes: the TSan build runs far fewer operations so the whole file
 * stays under ~10 s on two cores. */
#define STRESS_THREADS 8
#define STRESS_OPS (UNDER_TSAN ? 40000 : 200000)
#define RACE_THREADS 8
#define RACE_FILLERS 3
#define RACE_ROUNDS (UNDER_TSAN ? 1500 : 3000)
#define REMOVE_RACE_ROUNDS (UNDER_TSAN ? 1000 : 2000)

typedef struct {
        lcd_mapitem_t base; /* first member */
        int key;
        atomic_int released; /* how often release() ran on it */
        atomic_int removing; /* stress: set by the one thread that removes it */
} titem_t;

static atomic_long n_created;
static atomic_long n_released;

static atomic_int check_failures;

#define CHECK(cond)                                                                                                    \
        do {                                                                                                           \
                if (!(cond) && atomic_fetch_add(&check_failures, 1) < 10)                                              \
                        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                       \
        } while (0)

/* Release for items on the test's stack: count, do not free. */
static void release_count(lcd_mapitem_t *it)
{
        titem_t *t = (titem_t *)it;
        atomic_fetch_add(&t->released, 1);
        atomic_fetch_add(&n_released, 1);
}

/* Release for heap items. */
static void release_free(lcd_mapitem_t *it)
{
        titem_t *t = (titem_t *)it;
        if (atomic_fetch_add(&t->released, 1) != 0)
                CHECK(!"release called twice");
        atomic_fetch_add(&n_released, 1);
        lcd_free(t);
}

static void key_name(char *buf, size_t len, int key)
{
        snprintf(buf, len, "ctr-%d", key);
}

static const char *key_tag(int key)
{
        return (key % 3) == 0 ? "latest" : (key % 3) == 1 ? "v1.2" : "edge";
}

static void titem_init(titem_t *t, int key)
{
        char name[32];
        key_name(name, sizeof(name), key);
        memset(t, 0, sizeof(*t));
        lcd_mapitem_init(&t->base, name, key_tag(key), release_count);
        t->key = key;
}

/* NULL only on allocation failure. */
static titem_t *titem_new(int key)
{
        char name[32];
        titem_t *t = lcd_calloc(1, sizeof(*t));
        if (t == NULL)
                return NULL;
        key_name(name, sizeof(name), key);
        lcd_mapitem_init(&t->base, name, key_tag(key), release_free);
        t->key = key;
        atomic_fetch_add(&n_created, 1);
        return t;
}

static titem_t *get_key(lcd_statemap_t *m, int key)
{
        char name[32];
        key_name(name, sizeof(name), key);
        return (titem_t *)lcd_statemap_get(m, name, key_tag(key));
}

static int setup(void **state)
{
        (void)state;
        lcd_alloc_fail_at(0);
        atomic_store(&n_created, 0);
        atomic_store(&n_released, 0);
        atomic_store(&check_failures, 0);
        return 0;
}

/* ---- single thread ---------------------------------------------------- */

static void test_new_rejects_zero(void **state)
{
        (void)state;
        assert_null(lcd_statemap_new(0));
        lcd_statemap_t *m = lcd_statemap_new(1);
        assert_non_null(m);
        assert_int_equal(lcd_statemap_max(m), 1);
        assert_int_equal(lcd_statemap_count(m), 0);
        lcd_statemap_free(m);
}

static void test_insert_get_remove(void **state)
{
        (void)state;
        titem_t a;
        titem_init(&a, 1);
        lcd_statemap_t *m = lcd_statemap_new(8);
        assert_non_null(m);

        assert_null(get_key(m, 1));
        assert_int_equal(lcd_statemap_insert(m, &a.base), 0);
        assert_int_equal(lcd_statemap_count(m), 1);

        titem_t *g = get_key(m, 1);
        assert_ptr_equal(g, &a);
        assert_string_equal(g->base.name, "ctr-1");
        assert_string_equal(g->base.tag, "v1.2");
        lcd_mapitem_unref(&g->base);
        /* Same name, other tag, and other name, same tag: absent. */
        assert_null(lcd_statemap_get(m, "ctr-1", "latest"));
        assert_null(lcd_statemap_get(m, "ctr-2", "v1.2"));

        assert_int_equal(lcd_statemap_remove(m, &a.base), 0);
        assert_int_equal(lcd_statemap_count(m), 0);
        assert_null(get_key(m, 1));
        assert_int_equal(lcd_statemap_remove(m, &a.base), -ENOENT);
        assert_int_equal(atomic_load(&a.released), 0); /* the caller's reference is still there */

        lcd_mapitem_unref(&a.base);
        assert_int_equal(atomic_load(&a.released), 1);
        lcd_statemap_free(m);
}

static void test_duplicate_eexist(void **state)
{
        (void)state;
        titem_t a, b;
        titem_init(&a, 7);
        titem_init(&b, 7);
        lcd_statemap_t *m = lcd_statemap_new(4);
        assert_non_null(m);

        assert_int_equal(lcd_statemap_insert(m, &a.base), 0);
        assert_int_equal(lcd_statemap_insert(m, &b.base), -EEXIST);
        assert_int_equal(lcd_statemap_insert(m, &a.base), -EEXIST); /* the same item again */
        assert_int_equal(lcd_statemap_count(m), 1);
        /* The failed insert took no reference: one unref releases b. */
        lcd_mapitem_unref(&b.base);
        assert_int_equal(atomic_load(&b.released), 1);

        titem_t *g = get_key(m, 7);
        assert_ptr_equal(g, &a);
        lcd_mapitem_unref(&g->base);
        /* Removing the loser by pointer fails; the winner stays. */
        assert_int_equal(lcd_statemap_remove(m, &b.base), -ENOENT);
        assert_int_equal(lcd_statemap_count(m), 1);

        lcd_mapitem_unref(&a.base);
        assert_int_equal(atomic_load(&a.released), 0);
        lcd_statemap_free(m);
        assert_int_equal(atomic_load(&a.released), 1);
}

static void test_keys_are_name_and_tag(void **state)
{
        (void)state;
        titem_t a, b, c;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        memset(&c, 0, sizeof(c));
        /* The 0 byte between name and tag keeps these apart. */
        lcd_mapitem_init(&a.base, "ab", "c", release_count);
        lcd_mapitem_init(&b.base, "a", "bc", release_count);
        lcd_mapitem_init(&c.base, "abc", "", release_count);
        lcd_statemap_t *m = lcd_statemap_new(4);
        assert_non_null(m);
        assert_int_equal(lcd_statemap_insert(m, &a.base), 0);
        assert_int_equal(lcd_statemap_insert(m, &b.base), 0);
        assert_int_equal(lcd_statemap_insert(m, &c.base), 0);

        lcd_mapitem_t *g = lcd_statemap_get(m, "ab", "c");
        assert_ptr_equal(g, &a.base);
        lcd_mapitem_unref(g);
        g = lcd_statemap_get(m, "a", "bc");
        assert_ptr_equal(g, &b.base);
        lcd_mapitem_unref(g);
        g = lcd_statemap_get(m, "abc", "");
        assert_ptr_equal(g, &c.base);
        lcd_mapitem_unref(g);
        assert_null(lcd_statemap_get(m, NULL, "c"));
        assert_null(lcd_statemap_get(m, "ab", NULL));

        lcd_statemap_free(m);
        assert_int_equal(atomic_load(&a.released) + atomic_load(&b.released) + atomic_load(&c.released), 0);
        lcd_mapitem_unref(&a.base);
        lcd_mapitem_unref(&b.base);
        lcd_mapitem_unref(&c.base);
        assert_int_equal(atomic_load(&n_released), 3);
}

static void test_long_key_truncated(void **state)
{
        (void)state;
        char longname[LCD_NAME_MAX + 10];
        char longtag[LCD_TAG_MAX + 10];
        memset(longname, 'n', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        memset(longtag, 't', sizeof(longtag) - 1);
        longtag[sizeof(longtag) - 1] = '\0';

        titem_t a;
        memset(&a, 0, sizeof(a));
        lcd_mapitem_init(&a.base, longname, longtag, release_count);
        assert_int_equal(strlen(a.base.name), LCD_NAME_MAX);
        assert_int_equal(strlen(a.base.tag), LCD_TAG_MAX);

        lcd_statemap_t *m = lcd_statemap_new(2);
        assert_non_null(m);
        assert_int_equal(lcd_statemap_insert(m, &a.base), 0);
        /* Over-long keys cannot be stored, so they are never found... */
        assert_null(lcd_statemap_get(m, longname, longtag));
        /* ...but the stored (truncated) key is. */
        longname[LCD_NAME_MAX] = '\0';
        longtag[LCD_TAG_MAX] = '\0';
        lcd_mapitem_t *g = lcd_statemap_get(m, longname, longtag);
        assert_ptr_equal(g, &a.base);
        lcd_mapitem_unref(g);
        lcd_statemap_free(m);
        lcd_mapitem_unref(&a.base);
        assert_int_equal(atomic_load(&a.released), 1);
}

static void test_enospc_at_max(void **state)
{
        (void)state;
        titem_t it[6];
        for (int i = 0; i < 6; i++)
                titem_init(&it[i], i);
        lcd_statemap_t *m = lcd_statemap_new(4);
        assert_non_null(m);
        assert_int_equal(lcd_statemap_max(m), 4);

        for (int i = 0; i < 4; i++)
                assert_int_equal(lcd_statemap_insert(m, &it[i].base), 0);
        assert_int_equal(lcd_statemap_insert(m, &it[4].base), -ENOSPC);
        assert_int_equal(lcd_statemap_count(m), 4);
        /* A duplicate at max reports ENOSPC or EEXIST; either way nothing changes. */
        titem_t dup;
        titem_init(&dup, 2);
        int rc = lcd_statemap_insert(m, &dup.base);
        assert_true(rc == -ENOSPC || rc == -EEXIST);
        assert_int_equal(lcd_statemap_count(m), 4);

        assert_int_equal(lcd_statemap_remove(m, &it[1].base), 0);
        assert_int_equal(lcd_statemap_insert(m, &it[4].base), 0);
        assert_int_equal(lcd_statemap_insert(m, &it[5].base), -ENOSPC);
        assert_int_equal(lcd_statemap_count(m), 4);

        for (int i = 0; i < 5; i++) {
                titem_t *g = get_key(m, i);
                if (i == 1) {
                        assert_null(g);
                } else {
                        assert_ptr_equal(g, &it[i]);
                        lcd_mapitem_unref(&g->base);
                }
        }
        lcd_statemap_free(m);
        for (int i = 0; i < 6; i++) {
                assert_int_equal(atomic_load(&it[i].released), 0);
                lcd_mapitem_unref(&it[i].base);
                assert_int_equal(atomic_load(&it[i].released), 1);
        }
}

static void test_remove_unknown(void **state)
{
        (void)state;
        titem_t a, stranger, twin;
        titem_init(&a, 3);
        titem_init(&stranger, 4);
        titem_init(&twin, 3); /* same key as a, other pointer */
        lcd_statemap_t *m = lcd_statemap_new(4);
        assert_non_null(m);

        assert_int_equal(lcd_statemap_remove(m, &stranger.base), -ENOENT);
        assert_int_equal(lcd_statemap_insert(m, &a.base), 0);
        assert_int_equal(lcd_statemap_remove(m, &stranger.base), -ENOENT);
        assert_int_equal(lcd_statemap_remove(m, &twin.base), -ENOENT);
        assert_int_equal(lcd_statemap_count(m), 1);
        titem_t *g = get_key(m, 3);
        assert_ptr_equal(g, &a);
        lcd_mapitem_unref(&g->base);
        assert_int_equal(atomic_load(&a.released) + atomic_load(&stranger.released) + atomic_load(&twin.released), 0);
        lcd_statemap_free(m);
}

/* Churn far past capacity so every slot has been a tombstone many times:
 * count stays exact, present keys stay findable, absent keys are absent,
 * and walks over a table with no EMPTY slot left still end. */
static void test_tombstone_reuse(void **state)
{
        (void)state;
        enum { MAX = 4, NKEYS = 11, ROUNDS = UNDER_TSAN ? 5000 : 20000 };
        lcd_statemap_t *m = lcd_statemap_new(MAX); /* capacity 8 */
        assert_non_null(m);
        titem_t *perm[2];
        for (int i = 0; i < 2; i++) {
                perm[i] = titem_new(100 + i);
                assert_non_null(perm[i]);
                assert_int_equal(lcd_statemap_insert(m, &perm[i]->base), 0);
                lcd_mapitem_unref(&perm[i]->base); /* the map holds them now */
        }

        unsigned seed = 12345;
        for (int r = 0; r < ROUNDS; r++) {
                int k1 = rand_r(&seed) % NKEYS;
                int k2 = (k1 + 1 + rand_r(&seed) % (NKEYS - 1)) % NKEYS;
                titem_t *x = titem_new(k1), *y = titem_new(k2), *z = titem_new(k1);
                assert_non_null(x);
                assert_non_null(y);
                assert_non_null(z);

                assert_int_equal(lcd_statemap_insert(m, &x->base), 0);
                assert_int_equal(lcd_statemap_insert(m, &z->base), -EEXIST);
                assert_int_equal(lcd_statemap_insert(m, &y->base), 0);
                assert_int_equal(lcd_statemap_count(m), 4);
                assert_int_equal(lcd_statemap_insert(m, &z->base), -ENOSPC);

                titem_t *g = get_key(m, k1);
                assert_ptr_equal(g, x);
                lcd_mapitem_unref(&g->base);
                g = get_key(m, k2);
                assert_ptr_equal(g, y);
                lcd_mapitem_unref(&g->base);

                /* Remove in either order, then reinsert the same key. */
                titem_t *first = (r & 1) ? x : y, *second = (r & 1) ? y : x;
                assert_int_equal(lcd_statemap_remove(m, &first->base), 0);
                assert_null(get_key(m, first->key));
                assert_int_equal(lcd_statemap_count(m), 3);
                if (first == x) {
                        assert_int_equal(lcd_statemap_insert(m, &z->base), 0);
                        g = get_key(m, k1);
                        assert_ptr_equal(g, z);
                        lcd_mapitem_unref(&g->base);
                        assert_int_equal(lcd_statemap_remove(m, &z->base), 0);
                }
                assert_int_equal(lcd_statemap_remove(m, &second->base), 0);
                assert_int_equal(lcd_statemap_remove(m, &second->base), -ENOENT);
                assert_int_equal(lcd_statemap_count(m), 2);
                assert_null(get_key(m, k1));
                assert_null(get_key(m, k2));
                for (int i = 0; i < 2; i++) {
                        g = get_key(m, 100 + i);
                        assert_ptr_equal(g, perm[i]);
                        lcd_mapitem_unref(&g->base);
                }
                lcd_mapitem_unref(&x->base);
                lcd_mapitem_unref(&y->base);
                lcd_mapitem_unref(&z->base);
                /* Every transient item of this round is gone, exactly once. */
                assert_int_equal(atomic_load(&n_released), atomic_load(&n_created) - 2);
        }
        lcd_statemap_free(m);
        assert_int_equal(atomic_load(&n_released), atomic_load(&n_created));
}

/* The map's and the callers' references: release runs exactly once, when
 * the last one goes, whoever drops it. */
static void test_refcount_release_once(void **state)
{
        (void)state;
        lcd_statemap_t *m = lcd_statemap_new(4);
        assert_non_null(m);
        titem_t a;
        titem_init(&a, 1);

        assert_int_equal(lcd_statemap_insert(m, &a.base), 0);
        lcd_mapitem_unref(&a.base); /* only the map's reference left */
        assert_int_equal(atomic_load(&a.released), 0);

        titem_t *g1 = get_key(m, 1), *g2 = get_key(m, 1);
        assert_ptr_equal(g1, &a);
        assert_ptr_equal(g2, &a);
        assert_int_equal(lcd_statemap_remove(m, &a.base), 0);
        assert_int_equal(atomic_load(&a.released), 0); /* two lookups still hold it */
        lcd_mapitem_unref(&g1->base);
        assert_int_equal(atomic_load(&a.released), 0);
        lcd_mapitem_unref(&g2->base);
        assert_int_equal(atomic_load(&a.released), 1);

        /* Items still in the map at free: the map's reference goes. */
        titem_t b[3];
        for (int i = 0; i < 3; i++) {
                titem_init(&b[i], 10 + i);
                assert_int_equal(lcd_statemap_insert(m, &b[i].base), 0);
                if (i != 2)
                        lcd_mapitem_unref(&b[i].base);
        }
        lcd_statemap_free(m);
        assert_int_equal(atomic_load(&b[0].released), 1);
        assert_int_equal(atomic_load(&b[1].released), 1);
        assert_int_equal(atomic_load(&b[2].released), 0); /* the caller kept one */
        lcd_mapitem_unref(&b[2].base);
        assert_int_equal(atomic_load(&b[2].released), 1);
        assert_int_equal(atomic_load(&a.released), 1);

        /* A NULL release callback is allowed. */
        lcd_mapitem_t plain;
        lcd_mapitem_init(&plain, "plain", "latest", NULL);
        m = lcd_statemap_new(1);
        assert_non_null(m);
        assert_int_equal(lcd_statemap_insert(m, &plain), 0);
        assert_int_equal(lcd_statemap_remove(m, &plain), 0);
        lcd_mapitem_unref(&plain);
        lcd_statemap_free(m);
}

static int cmp_key(const void *a, const void *b)
{
        const titem_t *x = *(titem_t *const *)a, *y = *(titem_t *const *)b;
        return (x->key > y->key) - (x->key < y->key);
}

static void test_snapshot_contents(void **state)
{
        (void)state;
        enum { N = 20 };
        lcd_statemap_t *m = lcd_statemap_new(32);
        assert_non_null(m);
        lcd_mapitem_t **arr = NULL;
        size_t n = 99;
        assert_int_equal(lcd_statemap_snapshot(m, &arr, &n), 0);
        assert_int_equal(n, 0);
        lcd_free(arr);

        titem_t *it[N];
        for (int i = 0; i < N; i++) {
                it[i] = titem_new(i);
                assert_non_null(it[i]);
                assert_int_equal(lcd_statemap_insert(m, &it[i]->base), 0);
        }
        for (int i = 0; i < N; i += 3)
                assert_int_equal(lcd_statemap_remove(m, &it[i]->base), 0);
        for (int i = 0; i < N; i++)
                lcd_mapitem_unref(&it[i]->base);
        long gone = atomic_load(&n_released);
        assert_int_equal(gone, (N + 2) / 3);

        arr = NULL;
        assert_int_equal(lcd_statemap_snapshot(m, &arr, &n), 0);
        assert_non_null(arr);
        assert_int_equal(n, N - (N + 2) / 3);
        qsort(arr, n, sizeof(*arr), cmp_key);
        size_t j = 0;
        for (int i = 0; i < N; i++) {
                if (i % 3 == 0)
                        continue;
                assert_true(j < n);
                assert_int_equal(((titem_t *)arr[j])->key, i); /* each present key once, no removed one */
                j++;
        }

        /* The snapshot holds its own references. */
        lcd_statemap_free(m);
        assert_int_equal(atomic_load(&n_released), gone);
        for (size_t i = 0; i < n; i++)
                lcd_mapitem_unref(arr[i]);
        lcd_free(arr);
        assert_int_equal(atomic_load(&n_released), N);
        assert_int_equal(atomic_load(&n_created), N);
}

/* ---- allocation failure ----------------------------------------------- */

static void test_alloc_fail_new(void **state)
{
        (void)state;
        lcd_alloc_fail_at(1);
        assert_null(lcd_statemap_new(16));
        assert_true(lcd_alloc_fail_hit());

        /* Fail each allocation in turn until new() no longer needs to fail:
         * every failure must give NULL (and, under ASan, leak nothing). */
        int failures = 0;
        for (unsigned long k = 1;; k++) {
                lcd_alloc_fail_at(k);
                lcd_statemap_t *m = lcd_statemap_new(16);
                int hit = lcd_alloc_fail_hit();
                lcd_alloc_fail_at(0);
                if (!hit) {
                        assert_non_null(m);
                        lcd_statemap_free(m);
                        break;
                }
                assert_null(m);
                failures++;
                assert_true(k < 100);
        }
        assert_true(failures >= 1);
}

static void test_alloc_fail_snapshot(void **state)
{
        (void)state;
        enum { N = 20 };
        lcd_statemap_t *m = lcd_statemap_new(32);
        assert_non_null(m);
        titem_t *it[N];
        for (int i = 0; i < N; i++) {
                it[i] = titem_new(i);
                assert_non_null(it[i]);
                assert_int_equal(lcd_statemap_insert(m, &it[i]->base), 0);
                lcd_mapitem_unref(&it[i]->base);
        }

        int failures = 0;
        for (unsigned long k = 1;; k++) {
                lcd_mapitem_t **arr = (lcd_mapitem_t **)&failures; /* sentinel: must stay untouched */
                size_t n = 12345;
                lcd_alloc_fail_at(k);
                int rc = lcd_statemap_snapshot(m, &arr, &n);
                int hit = lcd_alloc_fail_hit();
                lcd_alloc_fail_at(0);
                if (!hit) {
                        assert_int_equal(rc, 0);
                        assert_int_equal(n, N);
                        for (size_t i = 0; i < n; i++)
                                lcd_mapitem_unref(arr[i]);
                        lcd_free(arr);
                        break;
                }
                assert_int_equal(rc, -ENOMEM);
                assert_ptr_equal(arr, (lcd_mapitem_t **)&failures);
                assert_int_equal(n, 12345);
                assert_int_equal(atomic_load(&n_released), 0);
                failures++;
                assert_true(k < 100);
        }
        /* The array starts small and grows, so some of these failures came
         * after references had been taken: the cleanup path ran. */
        assert_true(failures >= 2);
        assert_int_equal(lcd_statemap_count(m), N);

        /* No reference leaked: freeing the map releases every item. */
        lcd_statemap_free(m);
        assert_int_equal(atomic_load(&n_released), N);
}

/* ---- threads ---------------------------------------------------------- */

#define STRESS_SHARED_KEYS 16
#define STRESS_MAX_KEYS (STRESS_SHARED_KEYS + STRESS_THREADS)

typedef struct {
        lcd_statemap_t *m;
        int shared_keys;
        int private_keys; /* worker t alone inserts/removes key shared_keys + t */
        int allow_enospc;
        long ops;
        atomic_int owner[STRESS_MAX_KEYS]; /* live items per key, as the workers see it */
        atomic_long inserts, removes, hits, enospc;
} stress_t;

typedef struct {
        stress_t *st;
        int id;
} worker_t;

static void stress_check_item(stress_t *st, titem_t *t, int key)
{
        char name[32];
        key_name(name, sizeof(name), key);
        CHECK(t->key == key);
        CHECK(strcmp(t->base.name, name) == 0);
        CHECK(strcmp(t->base.tag, key_tag(key)) == 0);
        CHECK(atomic_load(&t->released) == 0);
        (void)st;
}

static void stress_insert(stress_t *st, int key)
{
        titem_t *t = titem_new(key);
        CHECK(t != NULL);
        if (t == NULL)
                return;
        int rc = lcd_statemap_insert(st->m, &t->base);
        if (rc == 0) {
                int before = atomic_fetch_add(&st->owner[key], 1);
                CHECK(before + 1 <= 1); /* never two live items with one key */
                atomic_fetch_add(&st->inserts, 1);
        } else if (rc == -ENOSPC) {
                CHECK(st->allow_enospc);
                atomic_fetch_add(&st->enospc, 1);
        } else {
                CHECK(rc == -EEXIST);
        }
        CHECK(lcd_statemap_count(st->m) <= lcd_statemap_max(st->m));
        lcd_mapitem_unref(&t->base);
}

/* Look a key up and, if asked, remove what was found. Of the threads that
 * find one item, only the one that sets its removing flag removes it, and it
 * drops the owner count first, so the count is never behind the map. */
static void stress_get(stress_t *st, int key, int remove)
{
        titem_t *t = get_key(st->m, key);
        if (t == NULL)
                return;
        stress_check_item(st, t, key);
        atomic_fetch_add(&st->hits, 1);
        int zero = 0;
        if (remove && atomic_compare_exchange_strong(&t->removing, &zero, 1)) {
                int before = atomic_fetch_sub(&st->owner[key], 1);
                CHECK(before <= 1);
                CHECK(lcd_statemap_remove(st->m, &t->base) == 0);
                atomic_fetch_add(&st->removes, 1);
        }
        lcd_mapitem_unref(&t->base);
}

static void stress_snapshot(stress_t *st)
{
        lcd_mapitem_t **arr = NULL;
        size_t n = 0;
        CHECK(lcd_statemap_snapshot(st->m, &arr, &n) == 0);
        CHECK(n <= 4 * lcd_statemap_max(st->m)); /* at most one per slot */
        for (size_t i = 0; i < n; i++) {
                titem_t *t = (titem_t *)arr[i];
                CHECK(t->key >= 0 && t->key < st->shared_keys + st->private_keys);
                if (t->key >= 0 && t->key < st->shared_keys + st->private_keys)
                        stress_check_item(st, t, t->key);
                lcd_mapitem_unref(arr[i]);
        }
        lcd_free(arr);
}

static void *stress_worker(void *arg)
{
        worker_t *w = arg;
        stress_t *st = w->st;
        unsigned seed = 0x9e3779b9u * (unsigned)(w->id + 1);
        int mykey = st->shared_keys + w->id;
        titem_t *mine = NULL; /* our private key's item while it is in the map */

        for (long i = 0; i < st->ops; i++) {
                int op = rand_r(&seed) % 100;
                int key = rand_r(&seed) % st->shared_keys;
                if (st->private_keys && op < 15) {
                        /* Our private key: we know exactly whether it is in
                         * the map, so inserts must succeed and lookups must
                         * find it, whatever the others do to the chains. */
                        titem_t *g = get_key(st->m, mykey);
                        CHECK(g == mine);
                        if (g)
                                lcd_mapitem_unref(&g->base);
                        if (mine) {
                                CHECK(lcd_statemap_remove(st->m, &mine->base) == 0);
                                lcd_mapitem_unref(&mine->base);
                                mine = NULL;
                        } else {
                                titem_t *t = titem_new(mykey);
                                CHECK(t != NULL);
                                if (t && lcd_statemap_insert(st->m, &t->base) == 0) {
                                        mine = t;
                                } else if (t) {
                                        CHECK(!"insert of an absent private key failed");
                                        lcd_mapitem_unref(&t->base);
                                }
                        }
                } else if (op < 45) {
                        stress_insert(st, key);
                } else if (op < 70) {
                        stress_get(st, key, 0);
                } else if (op < 99) {
                        stress_get(st, key, 1);
                } else {
                        stress_snapshot(st);
                }
                if (st->private_keys && rand_r(&seed) % 64 == 0) {
                        titem_t *g = get_key(st->m, st->shared_keys + rand_r(&seed) % st->private_keys);
                        if (g) {
                                stress_check_item(st, g, g->key);
                                lcd_mapitem_unref(&g->base);
                        }
                }
                if (atomic_load_explicit(&check_failures, memory_order_relaxed) > 0)
                        break;
        }
        if (mine) {
                CHECK(lcd_statemap_remove(st->m, &mine->base) == 0);
                lcd_mapitem_unref(&mine->base);
        }
        return NULL;
}

static void run_stress(int shared_keys, int private_keys, size_t max_items, int allow_enospc)
{
        static stress_t st; /* large-ish, and the workers outlive nothing */
        memset(&st, 0, sizeof(st));
        st.m = lcd_statemap_new(max_items);
        assert_non_null(st.m);
        st.shared_keys = shared_keys;
        st.private_keys = private_keys;
        st.allow_enospc = allow_enospc;
        st.ops = STRESS_OPS;

        pthread_t th[STRESS_THREADS];
        worker_t w[STRESS_THREADS];
        for (int i = 0; i < STRESS_THREADS; i++) {
                w[i].st = &st;
                w[i].id = i;
                assert_int_equal(pthread_create(&th[i], NULL, stress_worker, &w[i]), 0);
        }
        for (int i = 0; i < STRESS_THREADS; i++)
                assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(atomic_load(&check_failures), 0);

        /* Quiescent: the map holds exactly the items the owner counts say. */
        long live = 0;
        for (int k = 0; k < shared_keys + private_keys; k++) {
                int o = atomic_load(&st.owner[k]);
                assert_true(o == 0 || o == 1);
                titem_t *g = get_key(st.m, k);
                assert_int_equal(g != NULL, o);
                if (g)
                        lcd_mapitem_unref(&g->base);
                live += o;
        }
        assert_int_equal(lcd_statemap_count(st.m), (size_t)live);
        assert_int_equal(atomic_load(&st.inserts) - atomic_load(&st.removes), live);
        lcd_mapitem_t **arr;
        size_t n;
        assert_int_equal(lcd_statemap_snapshot(st.m, &arr, &n), 0);
        assert_int_equal(n, (size_t)live);
        for (size_t i = 0; i < n; i++)
                lcd_mapitem_unref(arr[i]);
        lcd_free(arr);

        /* The map was really contended, not serialised by luck. */
        assert_true(atomic_load(&st.inserts) > 100);
        assert_true(atomic_load(&st.removes) > 100);
        if (allow_enospc)
                assert_true(atomic_load(&st.enospc) > 0);
        else
                assert_int_equal(atomic_load(&st.enospc), 0);

        /* Every item released exactly once (release_free CHECKs "not twice"). */
        assert_int_equal(atomic_load(&n_released), atomic_load(&n_created) - live);
        lcd_statemap_free(st.m);
        assert_int_equal(atomic_load(&n_released), atomic_load(&n_created));
        assert_int_equal(atomic_load(&check_failures), 0);
}

/* 8 threads, 16 shared keys plus one private key each, max 32: at most 24
 * live items and 8 inserts in flight, so ENOSPC must never happen. */
static void test_stress_mixed(void **state)
{
        (void)state;
        run_stress(STRESS_SHARED_KEYS, STRESS_THREADS, 32, 0);
}

/* A map smaller than the key space: ENOSPC happens and count never passes max. */
static void test_stress_full(void **state)
{
        (void)state;
        run_stress(STRESS_SHARED_KEYS, 0, 6, 1);
}

typedef struct {
        lcd_statemap_t *m;
        pthread_barrier_t barrier;
        int rounds;
        atomic_int wins;
        atomic_int eexist;
        atomic_int bad_rounds;
        atomic_int ready; /* start gate: racers that reached the round */
} race_t;

typedef struct {
        race_t *r;
        int id;
} racer_t;

/* Every round all threads insert a fresh item of one key at once: exactly
 * one wins, and a loser's -EEXIST means the key is already visible. Thread
 * 0 then removes the winner and churns filler keys, so the claims land on
 * tombstones at different probe distances round after round. */
static void *race_worker(void *arg)
{
        racer_t *me = arg;
        race_t *r = me->r;
        unsigned seed = 777u + (unsigned)me->id;
        titem_t *fill[RACE_FILLERS] = {NULL};

        for (int round = 0; round < r->rounds; round++) {
                int key = round % 5;
                pthread_barrier_wait(&r->barrier);
                /* The barrier wakes racers one by one; spinning on a gate
                 * lets the ones already on a CPU start together. */
                atomic_fetch_add(&r->ready, 1);
                for (unsigned spins = 0; atomic_load(&r->ready) < RACE_THREADS * (round + 1); spins++)
                        if (spins > 1000)
                                sched_yield();
                titem_t *t = titem_new(key);
                CHECK(t != NULL);
                if (t) {
                        int rc = lcd_statemap_insert(r->m, &t->base);
                        if (rc == 0) {
                                atomic_fetch_add(&r->wins, 1);
                        } else {
                                CHECK(rc == -EEXIST);
                                atomic_fetch_add(&r->eexist, 1);
                                titem_t *g = get_key(r->m, key);
                                CHECK(g != NULL); /* -EEXIST: the key is present */
                                if (g)
                                        lcd_mapitem_unref(&g->base);
                        }
                        lcd_mapitem_unref(&t->base);
                }
                pthread_barrier_wait(&r->barrier);
                if (me->id == 0) {
                        if (atomic_load(&r->wins) != 1)
                                atomic_fetch_add(&r->bad_rounds, 1);
                        titem_t *g = get_key(r->m, key);
                        CHECK(g != NULL);
                        if (g) {
                                CHECK(lcd_statemap_remove(r->m, &g->base) == 0);
                                lcd_mapitem_unref(&g->base);
                        }
                        CHECK(get_key(r->m, key) == NULL);
                        atomic_store(&r->wins, 0);
                        int slot = rand_r(&seed) % RACE_FILLERS;
                        if (fill[slot]) {
                                CHECK(lcd_statemap_remove(r->m, &fill[slot]->base) == 0);
                                lcd_mapitem_unref(&fill[slot]->base);
                                fill[slot] = NULL;
                        } else {
                                fill[slot] = titem_new(10 + rand_r(&seed) % 20);
                                if (fill[slot] && lcd_statemap_insert(r->m, &fill[slot]->base) != 0) {
                                        lcd_mapitem_unref(&fill[slot]->base); /* key already a filler */
                                        fill[slot] = NULL;
                                }
                        }
                }
                pthread_barrier_wait(&r->barrier);
        }
        for (int i = 0; i < RACE_FILLERS; i++)
                if (fill[i]) {
                        CHECK(lcd_statemap_remove(r->m, &fill[i]->base) == 0);
                        lcd_mapitem_unref(&fill[i]->base);
                }
        return NULL;
}

/* Insert and remove many distinct keys, a full map at a time, so that
 * (with overwhelming likelihood) no slot is EMPTY any more: every chain then
 * runs the whole table and an insert's rescan is as long as it gets. */
static void age_map(lcd_statemap_t *m, int base)
{
        size_t max = lcd_statemap_max(m);
        titem_t *t[64];
        assert_true(max <= 64);
        for (int round = 0; round < 40; round++) {
                for (size_t i = 0; i < max; i++) {
                        t[i] = titem_new(base + round * (int)max + (int)i);
                        assert_non_null(t[i]);
                        assert_int_equal(lcd_statemap_insert(m, &t[i]->base), 0);
                }
                for (size_t i = 0; i < max; i++) {
                        assert_int_equal(lcd_statemap_remove(m, &t[i]->base), 0);
                        lcd_mapitem_unref(&t[i]->base);
                }
        }
        assert_int_equal(lcd_statemap_count(m), 0);
}

static void test_race_same_key(void **state)
{
        (void)state;
        static race_t r;
        memset(&r, 0, sizeof(r));
        /* Room for every racer's reservation plus the fillers (else ENOSPC is
         * a right answer); capacity 32, so chains still wrap and reuse
         * tombstones. */
        r.m = lcd_statemap_new(RACE_THREADS + RACE_FILLERS);
        assert_non_null(r.m);
        age_map(r.m, 1000);
        r.rounds = RACE_ROUNDS;
        assert_int_equal(pthread_barrier_init(&r.barrier, NULL, RACE_THREADS), 0);

        pthread_t th[RACE_THREADS];
        racer_t w[RACE_THREADS];
        for (int i = 0; i < RACE_THREADS; i++) {
                w[i].r = &r;
                w[i].id = i;
                assert_int_equal(pthread_create(&th[i], NULL, race_worker, &w[i]), 0);
        }
        for (int i = 0; i < RACE_THREADS; i++)
                assert_int_equal(pthread_join(th[i], NULL), 0);
        pthread_barrier_destroy(&r.barrier);

        assert_int_equal(atomic_load(&check_failures), 0);
        assert_int_equal(atomic_load(&r.bad_rounds), 0);
        assert_int_equal(atomic_load(&r.eexist), RACE_ROUNDS * (RACE_THREADS - 1));
        assert_int_equal(lcd_statemap_count(r.m), 0);
        lcd_statemap_free(r.m);
        assert_int_equal(atomic_load(&n_released), atomic_load(&n_created));
}

typedef struct {
        lcd_statemap_t *m;
        pthread_barrier_t barrier;
        titem_t *victim;
        atomic_int ok, enoent;
        int rounds;
} rmrace_t;

static void *rmrace_worker(void *arg)
{
        rmrace_t *r = arg;
        for (int round = 0; round < r->rounds; round++) {
                pthread_barrier_wait(&r->barrier);
                int rc = lcd_statemap_remove(r->m, &r->victim->base);
                if (rc == 0)
                        atomic_fetch_add(&r->ok, 1);
                else if (rc == -ENOENT)
                        atomic_fetch_add(&r->enoent, 1);
                else
                        CHECK(!"remove returned neither 0 nor -ENOENT");
                pthread_barrier_wait(&r->barrier);
        }
        return NULL;
}

/* Several threads remove one item at once: exactly one succeeds, the map
 * drops its reference once. */
static void test_race_remove(void **state)
{
        (void)state;
        enum { T = 4 };
        static rmrace_t r;
        memset(&r, 0, sizeof(r));
        r.m = lcd_statemap_new(4);
        assert_non_null(r.m);
        r.rounds = REMOVE_RACE_ROUNDS;
        assert_int_equal(pthread_barrier_init(&r.barrier, NULL, T + 1), 0);

        pthread_t th[T];
        for (int i = 0; i < T; i++)
                assert_int_equal(pthread_create(&th[i], NULL, rmrace_worker, &r), 0);
        int bad = 0;
        for (int round = 0; round < r.rounds; round++) {
                r.victim = titem_new(round % 7);
                assert_non_null(r.victim);
                assert_int_equal(lcd_statemap_insert(r.m, &r.victim->base), 0);
                atomic_store(&r.ok, 0);
                atomic_store(&r.enoent, 0);
                pthread_barrier_wait(&r.barrier);
                pthread_barrier_wait(&r.barrier);
                if (atomic_load(&r.ok) != 1 || atomic_load(&r.enoent) != T - 1)
                        bad++;
                if (atomic_load(&r.victim->released) != 0)
                        bad++; /* our reference must still keep it */
                lcd_mapitem_unref(&r.victim->base);
        }
        for (int i = 0; i < T; i++)
                assert_int_equal(pthread_join(th[i], NULL), 0);
        pthread_barrier_destroy(&r.barrier);
        assert_int_equal(bad, 0);
        assert_int_equal(atomic_load(&check_failures), 0);
        assert_int_equal(lcd_statemap_count(r.m), 0);
        lcd_statemap_free(r.m);
        assert_int_equal(atomic_load(&n_released), r.rounds);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_new_rejects_zero, setup),
                cmocka_unit_test_setup(test_insert_get_remove, setup),
                cmocka_unit_test_setup(test_duplicate_eexist, setup),
                cmocka_unit_test_setup(test_keys_are_name_and_tag, setup),
                cmocka_unit_test_setup(test_long_key_truncated, setup),
                cmocka_unit_test_setup(test_enospc_at_max, setup),
                cmocka_unit_test_setup(test_remove_unknown, setup),
                cmocka_unit_test_setup(test_tombstone_reuse, setup),
                cmocka_unit_test_setup(test_refcount_release_once, setup),
                cmocka_unit_test_setup(test_snapshot_contents, setup),
                cmocka_unit_test_setup(test_alloc_fail_new, setup),
                cmocka_unit_test_setup(test_alloc_fail_snapshot, setup),
                cmocka_unit_test_setup(test_stress_mixed, setup),
                cmocka_unit_test_setup(test_stress_full, setup),
                cmocka_unit_test_setup(test_race_same_key, setup),
                cmocka_unit_test_setup(test_race_remove, setup),
        };
        /* LCD_TEST_FILTER=test_race_* runs a subset. */
        const char *filter = getenv("LCD_TEST_FILTER");
        if (filter != NULL)
                cmocka_set_test_filter(filter);
        return cmocka_run_group_tests(tests, NULL, NULL);
}

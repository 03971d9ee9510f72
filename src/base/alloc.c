/* alloc.c - see alloc.h. Failure injection uses four relaxed atomics: the
 * countdown, the "fired" flag, the failed call's site and the count of
 * allocations; tests that use it are single-purpose, so relaxed ordering is
 * enough (no other data is published through them). */
#include "lcd/alloc.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong fail_countdown;
static atomic_int fail_hit;
static atomic_ulong alloc_count;
static void *_Atomic fail_site;

/* site: the caller of the public function, recorded when a failure fires
 * (the allocation-failure harness counts distinct sites). */
static int should_fail(void *site)
{
        atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
        unsigned long n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
        while (n > 0) {
                if (atomic_compare_exchange_weak_explicit(&fail_countdown, &n, n - 1, memory_order_relaxed,
                                                          memory_order_relaxed)) {
                        if (n == 1) {
                                atomic_store_explicit(&fail_site, site, memory_order_relaxed);
                                atomic_store_explicit(&fail_hit, 1, memory_order_relaxed);
                                return 1;
                        }
                        return 0;
                }
        }
        return 0;
}

void lcd_alloc_fail_at(unsigned long n)
{
        atomic_store_explicit(&fail_hit, 0, memory_order_relaxed);
        atomic_store_explicit(&fail_countdown, n, memory_order_relaxed);
}

int lcd_alloc_fail_hit(void)
{
        return atomic_load_explicit(&fail_hit, memory_order_relaxed);
}

void *lcd_alloc_fail_site(void)
{
        return atomic_load_explicit(&fail_site, memory_order_relaxed);
}

unsigned long lcd_alloc_count(void)
{
        return atomic_load_explicit(&alloc_count, memory_order_relaxed);
}

static void *malloc_at(size_t size, void *site)
{
        if (should_fail(site))
                return NULL;
        return malloc(size ? size : 1);
}

void *lcd_malloc(size_t size)
{
        return malloc_at(size, __builtin_return_address(0));
}

void *lcd_calloc(size_t nmemb, size_t size)
{
        if (should_fail(__builtin_return_address(0)))
                return NULL;
        return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *lcd_realloc(void *ptr, size_t size)
{
        if (should_fail(__builtin_return_address(0)))
                return NULL;
        return realloc(ptr, size ? size : 1);
}

static char *strndup_at(const char *s, size_t n, void *site)
{
        if (s == NULL)
                return NULL;
        size_t len = strnlen(s, n);
        char *d = malloc_at(len + 1, site);
        if (d == NULL)
                return NULL;
        memcpy(d, s, len);
        d[len] = '\0';
        return d;
}

char *lcd_strndup(const char *s, size_t n)
{
        return strndup_at(s, n, __builtin_return_address(0));
}

char *lcd_strdup(const char *s)
{
        return s ? strndup_at(s, strlen(s), __builtin_return_address(0)) : NULL;
}

char *lcd_strdup_printf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int len = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (len < 0)
                return NULL;
        char *d = malloc_at((size_t)len + 1, __builtin_return_address(0));
        if (d == NULL)
                return NULL;
        va_start(ap, fmt);
        vsnprintf(d, (size_t)len + 1, fmt, ap);
        va_end(ap);
        return d;
}

void lcd_free(void *ptr)
{
        free(ptr);
}

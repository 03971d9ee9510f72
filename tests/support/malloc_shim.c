/* malloc_shim.c - test-only: make any malloc, calloc or realloc in the
 * process fail (json-c's and libc's as well as the project's), for the
 * allocation-failure harness, and tell which blocks allocated in a window
 * are still live at its end (leaks, with the caller that made them).
 * glibc only (it forwards to __libc_malloc and friends); never linked with
 * a sanitizer, which has its own allocator. Same countdown semantics as
 * lcd_alloc_fail_at(). */
#include "malloc_shim.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <execinfo.h>
#include <stdint.h>
#include <string.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t nmemb, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);

/* Blocks allocated while tracking is on: an open-addressing table guarded
 * by a spin lock (any thread allocates). Full: later blocks go untracked. */
#define TRACK_SLOTS 65536
#define TRACK_FRAMES 8
static struct {
        void *p, *caller;
        size_t size;
        void *frames[TRACK_FRAMES]; /* with shim_track_backtraces(true) */
} track[TRACK_SLOTS];
static bool track_bt;

void shim_track_backtraces(bool on)
{
        track_bt = on;
}
static atomic_flag track_lock = ATOMIC_FLAG_INIT;
static atomic_int tracking;
static size_t track_live;
#define TOMB ((void *)1)

static size_t slot_of(void *p)
{
        return ((uintptr_t)p >> 4) * 2654435761u % TRACK_SLOTS;
}

static void track_add(void *p, size_t size, void *caller)
{
        if (p == NULL || !atomic_load_explicit(&tracking, memory_order_relaxed))
                return;
        while (atomic_flag_test_and_set_explicit(&track_lock, memory_order_acquire))
                ;
        for (size_t i = slot_of(p), k = 0; k < TRACK_SLOTS; k++, i = (i + 1) % TRACK_SLOTS)
                if (track[i].p == NULL || track[i].p == TOMB) {
                        track[i].p = p;
                        track[i].size = size;
                        track[i].caller = caller;
                        memset(track[i].frames, 0, sizeof track[i].frames);
                        if (track_bt)
                                backtrace(track[i].frames, TRACK_FRAMES);
                        track_live++;
                        break;
                }
        atomic_flag_clear_explicit(&track_lock, memory_order_release);
}

static void track_del(void *p)
{
        if (p == NULL)
                return;
        while (atomic_flag_test_and_set_explicit(&track_lock, memory_order_acquire))
                ;
        if (track_live > 0)
                for (size_t i = slot_of(p), k = 0; k < TRACK_SLOTS && track[i].p != NULL;
                     k++, i = (i + 1) % TRACK_SLOTS)
                        if (track[i].p == p) {
                                track[i].p = TOMB;
                                track_live--;
                                break;
                        }
        atomic_flag_clear_explicit(&track_lock, memory_order_release);
}

void shim_track_start(void)
{
        while (atomic_flag_test_and_set_explicit(&track_lock, memory_order_acquire))
                ;
        for (size_t i = 0; i < TRACK_SLOTS; i++)
                track[i].p = NULL;
        track_live = 0;
        atomic_flag_clear_explicit(&track_lock, memory_order_release);
        atomic_store_explicit(&tracking, 1, memory_order_relaxed);
}

size_t shim_track_stop(void (*each)(void *p, size_t size, void *caller, void *const *frames))
{
        atomic_store_explicit(&tracking, 0, memory_order_relaxed);
        while (atomic_flag_test_and_set_explicit(&track_lock, memory_order_acquire))
                ;
        size_t n = track_live;
        for (size_t i = 0; i < TRACK_SLOTS && each != NULL; i++)
                if (track[i].p != NULL && track[i].p != TOMB)
                        each(track[i].p, track[i].size, track[i].caller, track[i].frames);
        atomic_flag_clear_explicit(&track_lock, memory_order_release);
        return n;
}

static atomic_ulong countdown;
static void *fail_frames[16];
static int n_fail_frames;
static atomic_int hit;
static void *_Atomic site;

static bool (*exempt)(void);
static atomic_ulong exempted;

void shim_set_exempt(bool (*fn)(void))
{
        exempt = fn;
}

unsigned long shim_exempted(void)
{
        return atomic_load_explicit(&exempted, memory_order_relaxed);
}

static int fail(void *caller)
{
        unsigned long n = atomic_load_explicit(&countdown, memory_order_relaxed);
        while (n > 0) {
                if (atomic_compare_exchange_weak_explicit(&countdown, &n, n - 1, memory_order_relaxed,
                                                          memory_order_relaxed)) {
                        if (n != 1)
                                return 0;
                        if (exempt != NULL && exempt()) { /* not this one: the next allocation fails instead */
                                atomic_fetch_add_explicit(&exempted, 1, memory_order_relaxed);
                                atomic_store_explicit(&countdown, 1, memory_order_relaxed);
                                return 0;
                        }
                        atomic_store_explicit(&site, caller, memory_order_relaxed);
                        n_fail_frames = backtrace(fail_frames, 16);
                        atomic_store_explicit(&hit, 1, memory_order_relaxed);
                        errno = ENOMEM;
                        return 1;
                }
        }
        return 0;
}

void shim_fail_at(unsigned long n)
{
        atomic_store_explicit(&hit, 0, memory_order_relaxed);
        atomic_store_explicit(&countdown, n, memory_order_relaxed);
}

int shim_fail_hit(void)
{
        return atomic_load_explicit(&hit, memory_order_relaxed);
}

int shim_fail_frames(void ***frames)
{
        *frames = fail_frames;
        return n_fail_frames;
}

void *shim_fail_site(void)
{
        return atomic_load_explicit(&site, memory_order_relaxed);
}

/* exported, or shared libraries (json-c) would keep libc's */
__attribute__((visibility("default"))) void *malloc(size_t size)
{
        void *caller = __builtin_return_address(0);
        if (fail(caller))
                return NULL;
        void *p = __libc_malloc(size);
        track_add(p, size, caller);
        return p;
}

__attribute__((visibility("default"))) void *calloc(size_t nmemb, size_t size)
{
        void *caller = __builtin_return_address(0);
        if (fail(caller))
                return NULL;
        void *p = __libc_calloc(nmemb, size);
        track_add(p, nmemb * size, caller);
        return p;
}

__attribute__((visibility("default"))) void *realloc(void *ptr, size_t size)
{
        void *caller = __builtin_return_address(0);
        if (fail(caller))
                return NULL;
        void *p = __libc_realloc(ptr, size);
        if (p != NULL) {
                track_del(ptr);
                track_add(p, size, caller);
        }
        return p;
}

__attribute__((visibility("default"))) void free(void *ptr)
{
        track_del(ptr);
        __libc_free(ptr);
}

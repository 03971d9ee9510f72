/* malloc_shim.h - see malloc_shim.c. */
#ifndef LCD_MALLOC_SHIM_H
#define LCD_MALLOC_SHIM_H

#include <stdbool.h>
#include <stddef.h>

/* The n-th malloc/calloc/realloc from now fails (1: the next); 0: off. */
void shim_fail_at(unsigned long n);
int shim_fail_hit(void);
/* The caller of the allocation the last injected failure hit. */
void *shim_fail_site(void);
/* The stack of the allocation the last injected failure hit. */
int shim_fail_frames(void ***frames);
/* fn() is asked before an injected failure fires (on the allocating
 * thread): true spares that allocation and fails the next one instead.
 * For callers known not to survive a failure (see test_allocfail.c). */
void shim_set_exempt(bool (*fn)(void));
unsigned long shim_exempted(void);
/* Track the blocks allocated from now on (through malloc, calloc, realloc;
 * up to 65536 at once)... */
void shim_track_start(void);
/* ... stop, call each() (may be NULL) for those still live, return their
 * number. each must not allocate. */
size_t shim_track_stop(void (*each)(void *p, size_t size, void *caller, void *const *frames));
/* Also keep a short backtrace of each tracked block (slow; for finding a
 * leak's path). */
void shim_track_backtraces(bool on);

#endif

/* alloc.h - the one allocation wrapper of light-containerd.
 *
 * DESIGN: every heap allocation made by the project goes through these
 * functions, so that out-of-memory is an ordinary error (the caller gets
 * NULL and turns it into an error reply) and so that tests can make the
 * Nth allocation fail. The fail counter is a process-wide atomic; any
 * thread may allocate. Nothing here aborts.
 */
#ifndef LCD_ALLOC_H
#define LCD_ALLOC_H

#include <stddef.h>

/* Allocate. NULL on failure (or when an injected failure fires). */
void *lcd_malloc(size_t size);
void *lcd_calloc(size_t nmemb, size_t size);
void *lcd_realloc(void *ptr, size_t size);
/* Duplicate a string / at most n bytes of it. NULL on failure or s == NULL. */
char *lcd_strdup(const char *s);
char *lcd_strndup(const char *s, size_t n);
/* asprintf-like; NULL on failure. */
char *lcd_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lcd_free(void *ptr);

/* Test hook: make the n-th allocation from now fail (1 = the next one);
 * 0 turns injection off. lcd_alloc_fail_hit() tells whether it fired. */
void lcd_alloc_fail_at(unsigned long n);
int lcd_alloc_fail_hit(void);
/* The code address that called the allocation the last injected failure
 * hit (to count distinct allocation sites). */
void *lcd_alloc_fail_site(void);
/* Number of allocations served since start (for tests and benchmarks). */
unsigned long lcd_alloc_count(void);

static inline void lcd_freep(void *p)
{
        lcd_free(*(void **)p);
}
/* Free a local on scope exit; hand ownership out by assigning NULL. */
#define cleanup_free __attribute__((cleanup(lcd_freep)))

#endif

/* roots.h - image roots, unpacked once per manifest digest (roots.c). */
#ifndef LCD_ROOTS_H
#define LCD_ROOTS_H

#include <stddef.h>
#include <stdint.h>

#include "lcd/error.h"
#include "lcd/events.h"
#include "lcd/runner.h"
#include "lcd/userns.h"

typedef struct lcd_roots lcd_roots_t;

/* The image a container is made from. */
typedef struct {
        const char *layout; /* "<dir>:<ref>", for umoci */
        const char *digest; /* its manifest digest: the root's name */
        int64_t bytes;      /* its stored (compressed) size */
} lcd_image_t;

typedef struct {
        const char *dir; /* <data>/roots, created */
        const lcd_userns_t *ns;
        lcd_runner_t *runner;
        int unpack_timeout_ms;
        lcd_progress_fn progress; /* told when a root is unpacked; may be NULL */
        void *progress_ctx;
} lcd_roots_opts_t;

lcd_roots_t *lcd_roots_new(const lcd_roots_opts_t *o, lcd_error_t **err);
void lcd_roots_free(lcd_roots_t *r);
/* The root of img into dir (unpacked from its layout the first time, when
 * the file system has room for twice its compressed size: too_large
 * otherwise). On success the caller holds it as a reader (it cannot be
 * half-written or removed under it) and must lcd_roots_leave it. */
int lcd_roots_hold(lcd_roots_t *r, const lcd_image_t *img, char *dir, size_t len, lcd_error_t **err);
void lcd_roots_leave(lcd_roots_t *r, const char *digest);
/* Delete the root of digest (waits for its holders). 0 or -errno; absent
 * is fine. */
int lcd_roots_remove(lcd_roots_t *r, const char *digest);
/* Start-up: remove what a dead earlier run was unpacking. */
void lcd_roots_clean_stale(lcd_roots_t *r);

#endif

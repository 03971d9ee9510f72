/* imagestore.h - the local image cache: one OCI layout per image reference.
 *
 * DESIGN: images are fetched with skopeo into <data>/images/<ref-dir>/, a
 * separate OCI layout per canonical reference, so concurrent pulls of
 * different images never share an index.json. Per reference, a small
 * reader/writer gate (gate.h) makes a pull exclusive and lets unpacks
 * share: concurrent creates of one uncached image pull once (the first
 * pulls, the rest wait and find it cached). The store survives restarts
 * (it is a cache). Disk is bounded: before a pull, skopeo inspect reads
 * the image's size from its manifest, and an image over max_image_bytes,
 * or one the file system has no room for, is refused (too_large) before a
 * byte is copied. Workers call it; it blocks only workers.
 */
#ifndef LCD_IMAGESTORE_H
#define LCD_IMAGESTORE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "lcd/error.h"
#include "lcd/events.h"
#include "lcd/ident.h"
#include "lcd/runner.h"

typedef struct lcd_imagestore lcd_imagestore_t;

typedef struct {
        const char *data_dir;
        const char *const *insecure; /* NULL-terminated host[:port] list allowed over plain HTTP */
        lcd_runner_t *runner;        /* borrowed */
        int pull_timeout_ms;
        int64_t max_image_bytes;  /* compressed size of an image's layers and config, at most */
        lcd_progress_fn progress; /* told when a pull starts and ends; may be NULL */
        void *progress_ctx;
} lcd_imagestore_opts_t;

lcd_imagestore_t *lcd_imagestore_new(const lcd_imagestore_opts_t *o, lcd_error_t **err);
void lcd_imagestore_free(lcd_imagestore_t *s);

/* Pull (always fetches; refreshes a cached tag). digest receives the
 * manifest digest (LCD_DIGEST_LEN + 1 bytes). */
int lcd_imagestore_pull(lcd_imagestore_t *s, const lcd_imageref_t *ref, char *digest, lcd_error_t **err);

/* Make sure the image is cached (pull when missing) and hold it for
 * reading: *layout gets "<dir>:<refname>" for umoci (caller frees),
 * *bytes the size of its stored blobs. Release with
 * lcd_imagestore_release(). */
int lcd_imagestore_acquire(lcd_imagestore_t *s, const lcd_imageref_t *ref, char **layout, char *digest, int64_t *bytes,
                           lcd_error_t **err);
/* Is ref in the store now? (A hint: it may be removed or pulled meanwhile.) */
bool lcd_imagestore_cached(lcd_imagestore_t *s, const lcd_imageref_t *ref);
void lcd_imagestore_release(lcd_imagestore_t *s, const lcd_imageref_t *ref);

/* [{"ref","digest","size","createdAt"}] of every cached image. */
json_object *lcd_imagestore_list(lcd_imagestore_t *s, lcd_error_t **err);
/* One image with "config" (the image's), "layers", "architecture";
 * not_found when not cached. */
json_object *lcd_imagestore_inspect(lcd_imagestore_t *s, const lcd_imageref_t *ref, lcd_error_t **err);
/* Delete a cached image (waits for its pulls and unpacks); digest receives
 * its digest. not_found when not cached. Workers only. */
int lcd_imagestore_remove(lcd_imagestore_t *s, const lcd_imageref_t *ref, char *digest, lcd_error_t **err);

#endif

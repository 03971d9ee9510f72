/* layout.h - one cached image on disk: an OCI layout directory as skopeo
 * copy leaves it (layout.c).
 *
 * DESIGN: <data>/images/<ref-dir>/ holds index.json, whose one manifest is
 * annotated with the ref name LCD_LAYOUT_REFNAME, the blobs under
 * blobs/sha256/, and LCD_LAYOUT_DIGESTFILE, the manifest digest as the
 * registry knows it (skopeo --digestfile: for a Docker-format image it
 * differs from the converted one in index.json). A layout is an image only
 * when its index names a valid manifest digest; these functions read, never
 * write, and take no lock: the image store's gate (imagestore.c) keeps a
 * pull from rewriting a layout under a reader that needs it whole.
 */
#ifndef LCD_LAYOUT_H
#define LCD_LAYOUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "lcd/error.h"

#define LCD_LAYOUT_REFNAME "image"
#define LCD_LAYOUT_DIGESTFILE "registry-digest"
#define LCD_LAYOUT_JSON_MAX (4 * 1024 * 1024) /* an index, manifest or image config */

/* The image's digest as the API shows it (the registry's, else the
 * layout's) into digest (LCD_DIGEST_LEN + 1 bytes). 0, -ENOENT (no image
 * in dir) or -ENOMEM. */
int lcd_layout_digest(const char *dir, char *digest);
/* The bytes of the layout's blobs (what a pull stored); 0 when none. */
int64_t lcd_layout_size(const char *dir);
/* *out = {"ref": canonical, "digest", "size", "createdAt"} and, with
 * detail, "config" (the image's), "layers" (how many) and "architecture";
 * the caller owns it. LCD_OK with *out NULL when dir holds no complete
 * image; LCD_ERR (out of memory) with err. */
int lcd_layout_describe(const char *dir, const char *canonical, bool detail, json_object **out, lcd_error_t **err);

#endif

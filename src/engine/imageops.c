/* imageops.c - the engine's image operations: pull, remove, list, inspect
 * (see engine.h).
 *
 * DESIGN: the entry points run on the service thread. A pull parses the
 * reference and queues a job on the pull lane; the worker runs
 * lcd_imagestore_pull() and answers {"ref","digest"}. A remove is refused
 * at once (conflict) while a container's image is the reference; on a
 * worker it deletes the cached image, then its unpacked root unless a
 * container of another reference with the same digest uses it. Listing
 * and inspecting read the store synchronously (no tool runs).
 */
#include "engine-internal.h"
#include "job.h"

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- pull ---- */

/* The request's image reference, parsed; LCD_ERR with an invalid err
 * naming "ref". */
static int parse_ref(const char *ref, lcd_imageref_t *out, lcd_error_t **err)
{
        const char *why;
        if (lcd_imageref_parse(ref, out, &why) < 0)
                return lcd_error_invalid(err, "ref", "ref: %s", why);
        return LCD_OK;
}

static void pull_job(void *arg)
{
        lcd_job_t *j = arg;
        lcd_error_t *err = NULL;
        char digest[LCD_DIGEST_LEN + 1];
        if (lcd_imagestore_pull(j->e->images, &j->ref, digest, &err) < 0) {
                lcd_job_finish(j, NULL, err);
                return;
        }
        json_object *o = json_object_new_object();
        if (lcd_json_set(o, "ref", json_object_new_string(j->ref.canonical)) < 0 ||
            lcd_json_set(o, "digest", json_object_new_string(digest)) < 0) {
                json_object_put(o);
                o = NULL;
        }
        lcd_job_finish(j, o, NULL);
}

int lcd_engine_pull(lcd_engine_t *e, const char *ref, lcd_engine_done_fn done, void *ctx, lcd_error_t **err)
{
        lcd_job_t *j = lcd_calloc(1, sizeof *j);
        if (j == NULL)
                return lcd_error_nomem(err);
        if (parse_ref(ref, &j->ref, err) < 0) {
                lcd_free(j);
                return LCD_ERR;
        }
        if (lcd_job_queue(e, j, pull_job, true, done, ctx, err) < 0) {
                lcd_free(j);
                return LCD_ERR;
        }
        return 0;
}

/* ---- remove ---- */

/* Whether any container's image is ref or has digest (the first one's name:tag in who). */
static bool image_in_use(lcd_engine_t *e, const char *canonical, const char *digest, char *who, size_t len)
{
        lcd_mapitem_t **items;
        size_t n;
        if (lcd_statemap_snapshot(e->map, &items, &n) < 0)
                return true; /* cannot tell: refuse */
        bool used = false;
        for (size_t i = 0; i < n; i++) {
                lcd_container_t *c = lcd_container_from_item(items[i]);
                pthread_mutex_lock(&c->mu);
                bool match = strcmp(c->image, canonical) == 0 ||
                             (digest != NULL && c->image_digest != NULL && strcmp(c->image_digest, digest) == 0);
                pthread_mutex_unlock(&c->mu);
                if (match && !used) {
                        used = true;
                        snprintf(who, len, "%s:%s", c->item.name, c->item.tag);
                }
                lcd_container_unref(c);
        }
        lcd_free(items);
        return used;
}

static void image_remove_job(void *arg)
{
        lcd_job_t *j = arg;
        lcd_error_t *err = NULL;
        char digest[LCD_DIGEST_LEN + 1];
        json_object *o = NULL;
        if (lcd_imagestore_remove(j->e->images, &j->ref, digest, &err) == 0) {
                /* its root goes too, unless another reference (same digest) has a container on it */
                char who[LCD_NAME_MAX + LCD_TAG_MAX + 2];
                if (!image_in_use(j->e, "", digest, who, sizeof who)) {
                        int r = lcd_runtime_remove_root(j->e->rt, digest);
                        if (r < 0)
                                lcd_warn("remove the image root of %s: %s", digest, strerror(-r));
                }
                o = json_object_new_object();
                if (lcd_json_set(o, "removed", json_object_new_boolean(1)) < 0) {
                        json_object_put(o);
                        o = NULL;
                }
        }
        lcd_job_finish(j, o, err);
}

int lcd_engine_image_remove(lcd_engine_t *e, const char *ref, lcd_engine_done_fn done, void *ctx, lcd_error_t **err)
{
        lcd_job_t *j = lcd_calloc(1, sizeof *j);
        if (j == NULL)
                return lcd_error_nomem(err);
        char who[LCD_NAME_MAX + LCD_TAG_MAX + 2];
        if (parse_ref(ref, &j->ref, err) < 0) {
                lcd_free(j);
                return LCD_ERR;
        }
        if (image_in_use(e, j->ref.canonical, NULL, who, sizeof who)) {
                lcd_free(j);
                return lcd_error_set(err, LCD_E_CONFLICT, "image %s is used by container %s: remove it first", ref,
                                     who);
        }
        if (lcd_job_queue(e, j, image_remove_job, false, done, ctx, err) < 0) {
                lcd_free(j);
                return LCD_ERR;
        }
        return 0;
}

/* ---- list, inspect ---- */

json_object *lcd_engine_images(lcd_engine_t *e, lcd_error_t **err)
{
        return lcd_imagestore_list(e->images, err);
}

json_object *lcd_engine_image_inspect(lcd_engine_t *e, const char *ref, lcd_error_t **err)
{
        lcd_imageref_t r;
        if (parse_ref(ref, &r, err) < 0)
                return NULL;
        return lcd_imagestore_inspect(e->images, &r, err);
}

/* layout.c - see layout.h. Any thread: it only reads files. */
#include "layout.h"

#include "lcd/alloc.h"
#include "lcd/fsutil.h"
#include "lcd/ident.h"
#include "lcd/jsonwrite.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The OCI manifest digest of LCD_LAYOUT_REFNAME in the layout's index.json.
 * 0, -ENOENT (not cached) or -ENOMEM. */
static int index_digest(const char *dir, char *digest)
{
        char *path = lcd_strdup_printf("%s/index.json", dir);
        if (path == NULL)
                return -ENOMEM;
        json_object *idx = lcd_json_read(path, LCD_LAYOUT_JSON_MAX);
        lcd_free(path);
        if (idx == NULL)
                return -ENOENT;
        int r = -ENOENT;
        json_object *mans = NULL;
        if (json_object_object_get_ex(idx, "manifests", &mans) && json_object_is_type(mans, json_type_array))
                for (size_t i = 0; i < json_object_array_length(mans); i++) {
                        json_object *m = json_object_array_get_idx(mans, i), *ann, *name, *d;
                        if (json_object_object_get_ex(m, "annotations", &ann) &&
                            json_object_object_get_ex(ann, "org.opencontainers.image.ref.name", &name) &&
                            strcmp(json_object_get_string(name), LCD_LAYOUT_REFNAME) == 0 &&
                            json_object_object_get_ex(m, "digest", &d) && lcd_digest_valid(json_object_get_string(d))) {
                                snprintf(digest, LCD_DIGEST_LEN + 1, "%s", json_object_get_string(d));
                                r = 0;
                        }
                }
        json_object_put(idx);
        return r;
}

int lcd_layout_digest(const char *dir, char *digest)
{
        int r = index_digest(dir, digest);
        if (r < 0)
                return r;
        char *path = lcd_strdup_printf("%s/" LCD_LAYOUT_DIGESTFILE, dir);
        char buf[LCD_DIGEST_LEN + 2];
        if (path != NULL && lcd_read_small(path, buf, sizeof buf) > 0) {
                buf[strcspn(buf, "\n")] = '\0';
                if (lcd_digest_valid(buf))
                        snprintf(digest, LCD_DIGEST_LEN + 1, "%s", buf);
        }
        lcd_free(path);
        return 0;
}

int64_t lcd_layout_size(const char *dir)
{
        char path[4096];
        snprintf(path, sizeof path, "%s/blobs/sha256", dir);
        DIR *d = opendir(path);
        int64_t total = 0;
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL) {
                struct stat st;
                if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, 0) == 0)
                        total += st.st_size;
        }
        if (d != NULL)
                closedir(d);
        return total;
}

/* A blob of the layout as JSON ("sha256:..." -> blobs/sha256/...). */
static json_object *read_blob(const char *dir, const char *digest)
{
        if (!lcd_digest_valid(digest))
                return NULL;
        char *path = lcd_strdup_printf("%s/blobs/sha256/%s", dir, digest + 7);
        json_object *o = path ? lcd_json_read(path, LCD_LAYOUT_JSON_MAX) : NULL;
        lcd_free(path);
        return o;
}

static json_object *get(json_object *o, const char *key)
{
        json_object *v = NULL;
        return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

int lcd_layout_describe(const char *dir, const char *canonical, bool detail, json_object **out, lcd_error_t **err)
{
        *out = NULL;
        char digest[LCD_DIGEST_LEN + 1], oci[LCD_DIGEST_LEN + 1];
        int r = lcd_layout_digest(dir, digest);
        if (r == 0)
                r = index_digest(dir, oci);
        if (r == -ENOMEM)
                return lcd_error_nomem(err);
        if (r < 0)
                return LCD_OK; /* not a complete image */
        json_object *manifest = read_blob(dir, oci);
        json_object *config =
                manifest ? read_blob(dir, json_object_get_string(get(get(manifest, "config"), "digest"))) : NULL;
        json_object *o = json_object_new_object();
        int rc = 0;
        rc |= lcd_json_set(o, "ref", json_object_new_string(canonical));
        rc |= lcd_json_set(o, "digest", json_object_new_string(digest));
        rc |= lcd_json_set(o, "size", json_object_new_int64(lcd_layout_size(dir)));
        json_object *created = config ? get(config, "created") : NULL;
        rc |= created ? lcd_json_set(o, "createdAt", json_object_get(created)) : lcd_json_set_null(o, "createdAt");
        if (detail) {
                json_object *c = config ? get(config, "config") : NULL;
                json_object *layers = manifest ? get(manifest, "layers") : NULL;
                json_object *arch = config ? get(config, "architecture") : NULL;
                rc |= c ? lcd_json_set(o, "config", json_object_get(c)) : lcd_json_set_null(o, "config");
                rc |= lcd_json_set(o, "layers",
                                   json_object_new_int(layers ? (int)json_object_array_length(layers) : 0));
                rc |= arch ? lcd_json_set(o, "architecture", json_object_get(arch))
                           : lcd_json_set_null(o, "architecture");
        }
        json_object_put(manifest);
        json_object_put(config);
        if (rc != 0) {
                json_object_put(o);
                return lcd_error_nomem(err);
        }
        *out = o;
        return LCD_OK;
}

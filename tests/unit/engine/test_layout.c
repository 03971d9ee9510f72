/* test_layout.c - reading one cached image's OCI layout: its digest (the
 * registry's when skopeo recorded one), the size of its blobs, and the
 * description images.list / images.inspect show; a directory that is no
 * complete image is described as nothing, not as an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../src/engine/layout.h"
#include "lcd/alloc.h"
#include "lcd/fsutil.h"
#include "lcd/ident.h"

#define HEX_M "1111111111111111111111111111111111111111111111111111111111111111"
#define HEX_C "2222222222222222222222222222222222222222222222222222222222222222"
#define HEX_R "3333333333333333333333333333333333333333333333333333333333333333"

static char dir[64];

static void put(const char *leaf, const char *text)
{
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, leaf);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static int setup(void **state)
{
        snprintf(dir, sizeof dir, "/tmp/lcd-layout-XXXXXX");
        assert_non_null(mkdtemp(dir));
        char blobs[128];
        snprintf(blobs, sizeof blobs, "%s/blobs/sha256", dir);
        assert_int_equal(lcd_mkdir_p(blobs, 0700), 0);
        return 0;
}

static int teardown(void **state)
{
        lcd_rmtree(dir);
        return 0;
}

static void write_image(void)
{
        put("index.json", "{\"manifests\":[{\"digest\":\"sha256:" HEX_M "\",\"annotations\":"
                          "{\"org.opencontainers.image.ref.name\":\"" LCD_LAYOUT_REFNAME "\"}}]}");
        put("blobs/sha256/" HEX_M, "{\"config\":{\"digest\":\"sha256:" HEX_C "\"},\"layers\":[{},{}]}");
        put("blobs/sha256/" HEX_C, "{\"created\":\"2024-01-02T03:04:05Z\",\"architecture\":\"amd64\","
                                   "\"config\":{\"Cmd\":[\"sh\"]}}");
}

static void test_no_image(void **state)
{
        char digest[LCD_DIGEST_LEN + 1];
        assert_int_equal(lcd_layout_digest(dir, digest), -ENOENT);
        json_object *o = (json_object *)&o;
        lcd_error_t *err = NULL;
        assert_int_equal(lcd_layout_describe(dir, "docker.io/library/x:1", true, &o, &err), LCD_OK);
        assert_null(o);
        assert_null(err);
        /* an index without our ref name is no image either */
        put("index.json", "{\"manifests\":[{\"digest\":\"sha256:" HEX_M "\"}]}");
        assert_int_equal(lcd_layout_digest(dir, digest), -ENOENT);
}

static void test_digest_and_size(void **state)
{
        write_image();
        char digest[LCD_DIGEST_LEN + 1];
        assert_int_equal(lcd_layout_digest(dir, digest), 0);
        assert_string_equal(digest, "sha256:" HEX_M);
        put(LCD_LAYOUT_DIGESTFILE, "sha256:" HEX_R "\n"); /* the registry's wins */
        assert_int_equal(lcd_layout_digest(dir, digest), 0);
        assert_string_equal(digest, "sha256:" HEX_R);
        put(LCD_LAYOUT_DIGESTFILE, "not a digest");
        assert_int_equal(lcd_layout_digest(dir, digest), 0);
        assert_string_equal(digest, "sha256:" HEX_M);
        struct stat m, c;
        char path[256];
        snprintf(path, sizeof path, "%s/blobs/sha256/" HEX_M, dir);
        assert_int_equal(stat(path, &m), 0);
        snprintf(path, sizeof path, "%s/blobs/sha256/" HEX_C, dir);
        assert_int_equal(stat(path, &c), 0);
        assert_int_equal(lcd_layout_size(dir), m.st_size + c.st_size);
}

static void test_describe(void **state)
{
        write_image();
        json_object *o = NULL, *v;
        lcd_error_t *err = NULL;
        assert_int_equal(lcd_layout_describe(dir, "docker.io/library/x:1", false, &o, &err), LCD_OK);
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "ref", &v));
        assert_string_equal(json_object_get_string(v), "docker.io/library/x:1");
        assert_true(json_object_object_get_ex(o, "digest", &v));
        assert_string_equal(json_object_get_string(v), "sha256:" HEX_M);
        assert_true(json_object_object_get_ex(o, "createdAt", &v));
        assert_string_equal(json_object_get_string(v), "2024-01-02T03:04:05Z");
        assert_true(json_object_object_get_ex(o, "size", &v));
        assert_false(json_object_object_get_ex(o, "layers", &v)); /* detail only */
        json_object_put(o);
        assert_int_equal(lcd_layout_describe(dir, "docker.io/library/x:1", true, &o, &err), LCD_OK);
        assert_true(json_object_object_get_ex(o, "layers", &v));
        assert_int_equal(json_object_get_int(v), 2);
        assert_true(json_object_object_get_ex(o, "architecture", &v));
        assert_string_equal(json_object_get_string(v), "amd64");
        assert_true(json_object_object_get_ex(o, "config", &v));
        assert_true(json_object_is_type(v, json_type_object));
        json_object_put(o);
}

/* Each allocation of a description fails in turn: an error, never a partial object. */
static void test_describe_nomem(void **state)
{
        write_image();
        for (unsigned long k = 1;; k++) {
                json_object *o = (json_object *)&o;
                lcd_error_t *err = NULL;
                lcd_alloc_fail_at(k);
                int r = lcd_layout_describe(dir, "docker.io/library/x:1", true, &o, &err);
                int hit = lcd_alloc_fail_hit();
                lcd_alloc_fail_at(0);
                if (!hit) {
                        assert_int_equal(r, LCD_OK);
                        json_object_put(o);
                        break;
                }
                if (r == LCD_ERR) {
                        assert_null(o);
                        assert_int_equal(err->kind, LCD_E_NOMEM);
                } else {
                        json_object_put(o); /* a blob that could not be read reads as absent */
                }
                lcd_error_free(err);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_no_image, setup, teardown),
                cmocka_unit_test_setup_teardown(test_digest_and_size, setup, teardown),
                cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
                cmocka_unit_test_setup_teardown(test_describe_nomem, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

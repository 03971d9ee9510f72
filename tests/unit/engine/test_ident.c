/* test_ident.c - the input rules: names, tags, env entries, image references. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lcd/ident.h"

static void test_names(void **state)
{
        assert_true(lcd_name_valid("busybox"));
        assert_true(lcd_name_valid("a"));
        assert_true(lcd_name_valid("0web_1.x-y"));
        char max[64];
        memset(max, 'a', 63);
        max[63] = '\0';
        assert_true(lcd_name_valid(max));
        char over[65];
        memset(over, 'a', 64);
        over[64] = '\0';
        assert_false(lcd_name_valid(over));
        const char *bad[] = {"", "-a", "_a", ".a", "A", "a/b", "..", "a b", "a\n", "é", "a:b", NULL};
        for (int i = 0; bad[i]; i++)
                assert_false(lcd_name_valid(bad[i]));
        assert_false(lcd_name_valid(NULL));
}

static void test_tags(void **state)
{
        assert_true(lcd_tag_valid("latest"));
        assert_true(lcd_tag_valid("1.0"));
        assert_true(lcd_tag_valid("_x"));
        assert_true(lcd_tag_valid("V1-rc.2_a"));
        char max[129];
        memset(max, 'T', 128);
        max[128] = '\0';
        assert_true(lcd_tag_valid(max));
        char over[130];
        memset(over, 'T', 129);
        over[129] = '\0';
        assert_false(lcd_tag_valid(over));
        const char *bad[] = {"", ".x", "-x", "a/b", "../x", "a b", "a:b", "a@b", NULL};
        for (int i = 0; bad[i]; i++)
                assert_false(lcd_tag_valid(bad[i]));
}

static void test_env(void **state)
{
        assert_true(lcd_env_valid("A=1"));
        assert_true(lcd_env_valid("_x=")); /* empty value is fine */
        assert_true(lcd_env_valid("PATH=/bin:/usr/bin"));
        const char *bad[] = {"", "=1", "1A=2", "A", "A B=1", "A=1\n2", "-A=1", NULL};
        for (int i = 0; bad[i]; i++)
                assert_false(lcd_env_valid(bad[i]));
}

static void expect_ref(const char *in, const char *canonical, const char *name, const char *tag)
{
        lcd_imageref_t r;
        const char *why = NULL;
        assert_int_equal(lcd_imageref_parse(in, &r, &why), 0);
        assert_string_equal(r.canonical, canonical);
        assert_string_equal(r.name, name);
        assert_string_equal(r.default_tag, tag);
}

static void test_refs_good(void **state)
{
        expect_ref("127.0.0.1:5000/acc/busybox:1.0", "127.0.0.1:5000/acc/busybox:1.0", "busybox", "1.0");
        expect_ref("docker://127.0.0.1:5000/acc/busybox:1.0", "127.0.0.1:5000/acc/busybox:1.0", "busybox", "1.0");
        expect_ref("busybox", "docker.io/library/busybox:latest", "busybox", "latest");
        expect_ref("alpine:3.19", "docker.io/library/alpine:3.19", "alpine", "3.19");
        expect_ref("user/app", "docker.io/user/app:latest", "app", "latest");
        expect_ref("localhost/x", "localhost/x:latest", "x", "latest");
        expect_ref("quay.io/a/b/c:v1", "quay.io/a/b/c:v1", "c", "v1");
        expect_ref("localhost:5000/my-app__x.y", "localhost:5000/my-app__x.y:latest", "my-app__x.y", "latest");
        char digest[80] = "busybox@sha256:";
        for (int i = 0; i < 64; i++)
                strcat(digest, "a");
        lcd_imageref_t r;
        assert_int_equal(lcd_imageref_parse(digest, &r, NULL), 0);
        assert_string_equal(r.tag, "");
        assert_string_equal(r.default_tag, "latest");
        assert_true(strstr(r.canonical, "@sha256:aaaa") != NULL);
}

static void test_refs_bad(void **state)
{
        const char *bad[] = {"",
                             "-rf",
                             "--src-creds=x",
                             "oci:/tmp/x",
                             "oci-archive:/tmp/x.tar",
                             "dir:/etc",
                             "docker-archive:/x.tar",
                             "docker-daemon:busybox:latest",
                             "containers-storage:busybox",
                             "BusyBox",
                             "busybox:",
                             "busybox:-x",
                             "a//b",
                             "a/",
                             "/a",
                             "host:99999/x",
                             "host:0/x",
                             "bad_host.io:5000/../x",
                             "busybox@sha256:zz",
                             "busybox@md5:aa",
                             "a b",
                             "x/y:t@sha256:short",
                             NULL};
        for (int i = 0; bad[i]; i++) {
                lcd_imageref_t r;
                const char *why = NULL;
                if (lcd_imageref_parse(bad[i], &r, &why) == 0)
                        fail_msg("accepted bad reference '%s' as %s", bad[i], r.canonical);
                assert_non_null(why);
        }
        char longref[400];
        memset(longref, 'a', sizeof longref - 1);
        longref[sizeof longref - 1] = '\0';
        lcd_imageref_t r;
        assert_int_not_equal(lcd_imageref_parse(longref, &r, NULL), 0);
}

static void test_dirname_is_reversible(void **state)
{
        lcd_imageref_t a, b;
        assert_int_equal(lcd_imageref_parse("h.io/a/b_c:t", &a, NULL), 0);
        assert_int_equal(lcd_imageref_parse("h.io/a_b/c:t", &b, NULL), 0);
        char da[300], db[300];
        lcd_imageref_dirname(&a, da, sizeof da);
        lcd_imageref_dirname(&b, db, sizeof db);
        assert_string_not_equal(da, db);
        assert_null(strchr(da, '/'));
        assert_string_equal(da, "h.io+a+b_c=t");
}

static void test_default_name_unusable(void **state)
{
        lcd_imageref_t r;
        char ref[120] = "h.io/";
        for (int i = 0; i < 70; i++)
                strcat(ref, "a");
        assert_int_equal(lcd_imageref_parse(ref, &r, NULL), 0);
        assert_string_equal(r.name, ""); /* 70 chars: too long for a name */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_tags),
                cmocka_unit_test(test_env),
                cmocka_unit_test(test_refs_good),
                cmocka_unit_test(test_refs_bad),
                cmocka_unit_test(test_dirname_is_reversible),
                cmocka_unit_test(test_default_name_unusable),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

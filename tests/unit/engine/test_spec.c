/* test_spec.c - an exec's process spec (lcd_spec_write_exec): the
 * container's own process, with what the exec asks for replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/engine/spec.h"
#include "lcd/fsutil.h"

static const char config[] =
        "{\"ociVersion\":\"1.0.0\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0,"
        "\"additionalGids\":[10]},\"args\":[\"/bin/sleep\",\"1000\"],\"env\":[\"PATH=/usr/bin:/bin\","
        "\"TERM=xterm\",\"HOME=/root\"],\"cwd\":\"/srv\",\"capabilities\":{\"bounding\":[\"CAP_CHOWN\"]},"
        "\"noNewPrivileges\":true},\"root\":{\"path\":\"rootfs\"},\"hostname\":\"x\"}";

struct dir {
        char path[64], config[96], out[96];
};

static int setup(void **state)
{
        struct dir *d = calloc(1, sizeof *d);
        if (d == NULL)
                return -1;
        *state = d;
        snprintf(d->path, sizeof d->path, "/tmp/lcd-test-spec-XXXXXX");
        if (mkdtemp(d->path) == NULL)
                return -1;
        snprintf(d->config, sizeof d->config, "%s/config.json", d->path);
        snprintf(d->out, sizeof d->out, "%s/process.json", d->path);
        return lcd_write_atomic(d->config, config, strlen(config), 0600) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        struct dir *d = *state;
        lcd_rmtree(d->path);
        free(d);
        return 0;
}

static const char *str(json_object *o, const char *key)
{
        json_object *v = NULL;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static void test_the_containers_process_with_the_execs_replacements(void **state)
{
        struct dir *d = *state;
        const char *args[] = {"sh", "-c", "echo hi", NULL};
        const char *env[] = {"TERM=dumb", "GREETING=hi", NULL};
        lcd_exec_process_t x = {.args = args, .env = env, .cwd = "/tmp", .has_user = true, .uid = 1234, .gid = 99};
        lcd_error_t *err = NULL;
        assert_int_equal(lcd_spec_write_exec(d->out, d->config, &x, &err), 0);
        json_object *p = lcd_json_read(d->out, 65536);
        assert_non_null(p);
        json_object *a = json_object_object_get(p, "args");
        assert_int_equal(json_object_array_length(a), 3);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 2)), "echo hi");
        json_object *e = json_object_object_get(p, "env");
        assert_int_equal(json_object_array_length(e), 4); /* PATH, TERM replaced in place, HOME, GREETING */
        assert_string_equal(json_object_get_string(json_object_array_get_idx(e, 0)), "PATH=/usr/bin:/bin");
        assert_string_equal(json_object_get_string(json_object_array_get_idx(e, 1)), "TERM=dumb");
        assert_string_equal(json_object_get_string(json_object_array_get_idx(e, 3)), "GREETING=hi");
        assert_string_equal(str(p, "cwd"), "/tmp");
        json_object *u = json_object_object_get(p, "user");
        assert_int_equal(json_object_get_int(json_object_object_get(u, "uid")), 1234);
        assert_int_equal(json_object_get_int(json_object_object_get(u, "gid")), 99);
        assert_null(json_object_object_get(u, "additionalGids")); /* the container's extra groups are not the user's */
        assert_false(json_object_get_boolean(json_object_object_get(p, "terminal")));
        assert_null(json_object_object_get(p, "consoleSize"));
        assert_true(json_object_get_boolean(json_object_object_get(p, "noNewPrivileges"))); /* kept */
        assert_non_null(json_object_object_get(p, "capabilities"));
        assert_null(json_object_object_get(p, "root")); /* the process only */
        json_object_put(p);
}

static void test_defaults_keep_the_containers_and_a_tty_gets_a_size(void **state)
{
        struct dir *d = *state;
        const char *args[] = {"sh", NULL};
        lcd_exec_process_t x = {.args = args, .tty = true};
        lcd_error_t *err = NULL;
        assert_int_equal(lcd_spec_write_exec(d->out, d->config, &x, &err), 0);
        json_object *p = lcd_json_read(d->out, 65536);
        assert_non_null(p);
        assert_string_equal(str(p, "cwd"), "/srv");
        assert_int_equal(json_object_array_length(json_object_object_get(p, "env")), 3);
        json_object *u = json_object_object_get(p, "user");
        assert_int_equal(json_object_array_length(json_object_object_get(u, "additionalGids")), 1);
        assert_true(json_object_get_boolean(json_object_object_get(p, "terminal")));
        json_object *size = json_object_object_get(p, "consoleSize");
        assert_int_equal(json_object_get_int(json_object_object_get(size, "width")), 80);
        assert_int_equal(json_object_get_int(json_object_object_get(size, "height")), 24);
        json_object_put(p);
}

static void test_a_missing_config_is_an_error_and_writes_nothing(void **state)
{
        struct dir *d = *state;
        const char *args[] = {"sh", NULL};
        lcd_exec_process_t x = {.args = args};
        char missing[128];
        snprintf(missing, sizeof missing, "%s/nope.json", d->path);
        lcd_error_t *err = NULL;
        assert_int_equal(lcd_spec_write_exec(d->out, missing, &x, &err), -1);
        assert_non_null(err);
        lcd_error_free(err);
        assert_int_equal(access(d->out, F_OK), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_the_containers_process_with_the_execs_replacements, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_defaults_keep_the_containers_and_a_tty_gets_a_size, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_a_missing_config_is_an_error_and_writes_nothing, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

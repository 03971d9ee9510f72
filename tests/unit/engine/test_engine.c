/* test_engine.c - the engine's operations over a fake tool runner: state
 * transitions and their events, rollback of failed creates, the queue
 * bound, refusals that change nothing, shutdown; signal names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_runner.h"
#include "lcd/alloc.h"
#include "../../../src/engine/container.h"
#include "lcd/engine.h"
#include "lcd/fsutil.h"
#include "lcd/log.h"

typedef struct {
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int done;
        json_object *result;
        lcd_error_t *err;
} reply_t;

static void on_done(void *ctx, json_object *result, lcd_error_t *err)
{
        reply_t *r = ctx;
        pthread_mutex_lock(&r->mu);
        r->result = result;
        r->err = err;
        r->done = 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
}

static void reply_init(reply_t *r)
{
        memset(r, 0, sizeof *r);
        pthread_mutex_init(&r->mu, NULL);
        pthread_cond_init(&r->cv, NULL);
}

static void reply_wait(reply_t *r)
{
        pthread_mutex_lock(&r->mu);
        while (!r->done)
                pthread_cond_wait(&r->cv, &r->mu);
        pthread_mutex_unlock(&r->mu);
}

static void reply_clear(reply_t *r)
{
        json_object_put(r->result);
        lcd_error_free(r->err);
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
}

struct fixture {
        char dir[64];
        char data[128], run[128], exits[160];
        fake_runner_t *fake;
        lcd_events_t *ev;
        lcd_engine_t *e;
};

static int setup_with(void **state, unsigned workers, unsigned queue)
{
        struct fixture *f = calloc(1, sizeof *f);
        if (f == NULL)
                return -1;
        snprintf(f->dir, sizeof f->dir, "/tmp/lcd-unit-XXXXXX");
        if (mkdtemp(f->dir) == NULL) {
                free(f);
                return -1;
        }
        snprintf(f->data, sizeof f->data, "%s/data", f->dir);
        snprintf(f->run, sizeof f->run, "%s/run", f->dir);
        snprintf(f->exits, sizeof f->exits, "%s/exits", f->run);
        f->fake = fake_runner_new();
        f->fake->exit_dir = f->exits;
        f->ev = lcd_events_new(1024, NULL, NULL);
        lcd_engine_config_t cfg = {
                .data_dir = f->data,
                .runtime_dir = f->run,
                .workers = workers,
                .pull_workers = workers, /* the creates here pull: they run in that lane */
                .queue = queue,
                .max_containers = 8,
                .runner = &f->fake->base,
                .events = f->ev,
                .pull_timeout_ms = 5000,
                .tool_timeout_ms = 5000,
                .no_mounts = true,
        };
        lcd_mkdir_p(f->data, 0700);
        lcd_error_t *err = NULL;
        f->e = lcd_engine_new(&cfg, &err);
        if (f->e == NULL) {
                fprintf(stderr, "engine: %s\n", err->msg);
                return -1;
        }
        *state = f;
        return 0;
}

static int setup(void **state)
{
        return setup_with(state, 2, 8);
}

static int setup_tiny(void **state)
{
        return setup_with(state, 1, 1);
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        lcd_engine_shutdown(f->e);
        lcd_engine_free(f->e);
        lcd_events_free(f->ev);
        lcd_runner_free(&f->fake->base);
        lcd_rmtree(f->dir);
        free(f);
        return 0;
}

/* Event types/states for one container, in seq order, as "state" words. */
static void event_trail(lcd_events_t *ev, const char *name, char *buf, size_t len)
{
        buf[0] = '\0';
        for (uint64_t s = 1; s <= lcd_events_latest(ev); s++) {
                lcd_event_t e;
                if (lcd_events_get(ev, s, &e) < 0 || strcmp(e.name, name) != 0)
                        continue;
                const char *w = e.type == LCD_EV_STATE     ? lcd_cstate_name(e.state)
                                : e.type == LCD_EV_REMOVED ? "REMOVED"
                                                           : "FAILED";
                size_t n = strlen(buf);
                snprintf(buf + n, len - n, "%s%s", n ? " " : "", w);
        }
}

static int do_create(struct fixture *f, const char *name, reply_t *r)
{
        static const char *const cmd[] = {"/bin/sleep", "100", NULL};
        lcd_create_req_t req = {.image = "127.0.0.1:5000/acc/busybox:1.0", .name = name, .tag = "1", .cmd = cmd};
        lcd_error_t *err = NULL;
        reply_init(r);
        int rc = lcd_engine_create(f->e, &req, on_done, r, &err);
        if (rc < 0) {
                r->err = err;
                r->done = 1;
        }
        return rc;
}

static int do_op(struct fixture *f, lcd_op_t op, const char *name, reply_t *r)
{
        lcd_op_req_t req = {.op = op, .name = name, .tag = "1", .timeout_s = 1, .signal = 15};
        lcd_error_t *err = NULL;
        reply_init(r);
        int rc = lcd_engine_op(f->e, &req, on_done, r, &err);
        if (rc < 0) {
                r->err = err;
                r->done = 1;
        }
        return rc;
}

static const char *state_of(json_object *o)
{
        return json_object_get_string(json_object_object_get(o, "state"));
}

static int count_dir(const char *path)
{
        DIR *d = opendir(path);
        int n = 0;
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL)
                n += de->d_name[0] != '.';
        if (d)
                closedir(d);
        return n;
}

static void test_create_start_stop_remove(void **state)
{
        struct fixture *f = *state;
        reply_t r;
        assert_int_equal(do_create(f, "web", &r), 0);
        reply_wait(&r);
        assert_null(r.err);
        assert_string_equal(state_of(r.result), "created");
        assert_string_equal(json_object_get_string(json_object_object_get(r.result, "imageDigest")),
                            "sha256:2222222222222222222222222222222222222222222222222222222222222222");
        const char *id = json_object_get_string(json_object_object_get(r.result, "id"));
        /* the bundle's config was rewritten for rootless use */
        char path[512];
        snprintf(path, sizeof path, "%s/containers/%s/config.json", f->data, id);
        json_object *cfg = json_object_from_file(path);
        assert_non_null(cfg);
        json_object *proc = json_object_object_get(cfg, "process");
        assert_false(json_object_get_boolean(json_object_object_get(proc, "terminal")));
        assert_null(json_object_object_get(proc, "rlimits"));
        assert_string_equal(json_object_get_string(json_object_array_get_idx(json_object_object_get(proc, "args"), 0)),
                            "/bin/sleep");
        json_object *lin = json_object_object_get(cfg, "linux");
        /* the container shares the daemon's user namespace and joins its own network namespace */
        assert_null(json_object_object_get(lin, "uidMappings"));
        char want[600];
        snprintf(want, sizeof want, "%s/netns/%s", f->run, id);
        json_object *nss = json_object_object_get(lin, "namespaces");
        int joined = 0;
        for (size_t i = 0; i < json_object_array_length(nss); i++) {
                json_object *ns = json_object_array_get_idx(nss, i);
                const char *type = json_object_get_string(json_object_object_get(ns, "type"));
                assert_string_not_equal(type, "user");
                if (strcmp(type, "network") == 0) {
                        assert_string_equal(json_object_get_string(json_object_object_get(ns, "path")), want);
                        joined++;
                }
        }
        assert_int_equal(joined, 1);
        json_object *mounts = json_object_object_get(cfg, "mounts");
        int hosts = 0;
        for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                json_object *m = json_object_array_get_idx(mounts, i);
                if (strcmp(json_object_get_string(json_object_object_get(m, "destination")), "/etc/hosts") == 0) {
                        snprintf(want, sizeof want, "%s/containers/%s/hosts", f->data, id);
                        assert_string_equal(json_object_get_string(json_object_object_get(m, "source")), want);
                        hosts++;
                }
        }
        assert_int_equal(hosts, 1);
        assert_string_equal(json_object_get_string(json_object_object_get(cfg, "hostname")), "web");
        /* pasta on that namespace, nothing forwarded that was not asked for, the host's loopback out of reach */
        assert_int_equal(f->fake->calls_pasta, 1);
        snprintf(want, sizeof want, "--netns %s/netns/%s", f->run, id);
        assert_non_null(strstr(f->fake->last_pasta, want));
        assert_non_null(strstr(f->fake->last_pasta, "--no-map-gw"));
        assert_non_null(strstr(f->fake->last_pasta, "-t none -u none -T none -U none"));
        snprintf(path, sizeof path, "%s/netns/%s", f->run, id);
        assert_int_equal(access(path, F_OK), 0);
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_object_get(cfg, "root"), "path")),
                            "rootfs");
        assert_non_null(json_object_object_get(proc, "capabilities"));
        json_object_put(cfg);
        reply_clear(&r);

        assert_int_equal(do_op(f, LCD_OP_START, "web", &r), 0);
        reply_wait(&r);
        assert_null(r.err);
        assert_string_equal(state_of(r.result), "running");
        reply_clear(&r);

        /* stop: TERM -> the fake "container" dies (exit file) -> exited 143 */
        assert_int_equal(do_op(f, LCD_OP_STOP, "web", &r), 0);
        reply_wait(&r);
        assert_null(r.err);
        assert_string_equal(state_of(r.result), "exited");
        assert_int_equal(json_object_get_int(json_object_object_get(r.result, "exitCode")), 143);
        reply_clear(&r);
        snprintf(path, sizeof path, "%s/netns", f->run);
        assert_int_equal(count_dir(path), 0); /* the network went with the exit */

        assert_int_equal(do_op(f, LCD_OP_REMOVE, "web", &r), 0);
        reply_wait(&r);
        assert_null(r.err);
        reply_clear(&r);
        char trail[256];
        event_trail(f->ev, "web", trail, sizeof trail);
        assert_string_equal(trail, "creating created running stopping exited removing REMOVED");
        snprintf(path, sizeof path, "%s/containers", f->data);
        assert_int_equal(count_dir(path), 0);
        lcd_error_t *err = NULL;
        assert_null(lcd_engine_inspect(f->e, "web", "1", &err));
        assert_int_equal(err->kind, LCD_E_NOT_FOUND);
        lcd_error_free(err);
}

static void expect_failed_create(struct fixture *f, const char *tool)
{
        reply_t r;
        assert_int_equal(do_create(f, "bad", &r), 0);
        reply_wait(&r);
        assert_non_null(r.err);
        assert_int_equal(r.err->kind, LCD_E_TOOL_FAILED);
        assert_string_equal(r.err->tool, tool);
        reply_clear(&r);
        char trail[256], path[256];
        event_trail(f->ev, "bad", trail, sizeof trail);
        assert_string_equal(trail, "creating FAILED");
        lcd_error_t *err = NULL;
        json_object *list = lcd_engine_list(f->e, &err);
        assert_int_equal(json_object_array_length(list), 0);
        json_object_put(list);
        snprintf(path, sizeof path, "%s/containers", f->data);
        assert_int_equal(count_dir(path), 0);
}

static void test_create_fails_at_pull(void **state)
{
        struct fixture *f = *state;
        f->fake->fail_tool = "skopeo";
        f->fake->fail_stderr = "manifest unknown\n";
        expect_failed_create(f, "skopeo");
}

static void test_create_fails_at_unpack(void **state)
{
        struct fixture *f = *state;
        f->fake->fail_tool = "umoci";
        expect_failed_create(f, "umoci");
}

static void test_create_fails_at_pasta(void **state)
{
        struct fixture *f = *state;
        f->fake->fail_tool = "pasta";
        f->fake->fail_stderr = "Failed to open tun socket in namespace\n";
        expect_failed_create(f, "pasta");
        char path[256];
        snprintf(path, sizeof path, "%s/netns", f->run);
        assert_int_equal(count_dir(path), 0);
}

static void test_create_fails_at_conmon(void **state)
{
        struct fixture *f = *state;
        f->fake->conmon_reports_error = 1;
        expect_failed_create(f, "conmon");
}

static void test_refusals_change_nothing(void **state)
{
        struct fixture *f = *state;
        reply_t r;
        assert_int_equal(do_create(f, "one", &r), 0);
        /* a second create of the same name/tag is refused at once, even while
         * the first is still in flight */
        reply_t r2;
        assert_int_equal(do_create(f, "one", &r2), LCD_ERR);
        assert_int_equal(r2.err->kind, LCD_E_CONFLICT);
        reply_clear(&r2);
        reply_wait(&r);
        reply_clear(&r);
        uint64_t seq = lcd_events_latest(f->ev);
        /* wrong states */
        assert_int_equal(do_op(f, LCD_OP_RESUME, "one", &r), LCD_ERR);
        assert_int_equal(r.err->kind, LCD_E_UNSUPPORTED); /* not delegated here */
        reply_clear(&r);
        assert_int_equal(do_op(f, LCD_OP_KILL, "one", &r), LCD_ERR);
        assert_int_equal(r.err->kind, LCD_E_CONFLICT);
        reply_clear(&r);
        assert_int_equal(do_op(f, LCD_OP_START, "ghost", &r), LCD_ERR);
        assert_int_equal(r.err->kind, LCD_E_NOT_FOUND);
        reply_clear(&r);
        /* bad image references */
        const char *bad[] = {"oci:/x", "-x", "dir:/", "A/B", NULL};
        for (int i = 0; bad[i]; i++) {
                lcd_create_req_t req = {.image = bad[i]};
                lcd_error_t *err = NULL;
                assert_int_equal(lcd_engine_create(f->e, &req, on_done, NULL, &err), LCD_ERR);
                assert_int_equal(err->kind, LCD_E_INVALID);
                lcd_error_free(err);
        }
        assert_int_equal(lcd_events_latest(f->ev), seq); /* nothing was published */
        assert_int_equal(f->fake->calls_crun, 0);
}

static void test_one_pull_for_concurrent_creates(void **state)
{
        struct fixture *f = *state;
        f->fake->block_ms = 20;
        reply_t r[4];
        char names[4][8];
        for (int i = 0; i < 4; i++) {
                snprintf(names[i], sizeof names[i], "c%d", i);
                assert_int_equal(do_create(f, names[i], &r[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
                reply_wait(&r[i]);
                assert_null(r[i].err);
                reply_clear(&r[i]);
        }
        assert_int_equal(f->fake->calls_skopeo, 1);
        assert_int_equal(f->fake->calls_umoci, 1); /* one image root for all four */
}

static void test_queue_full_is_busy(void **state)
{
        struct fixture *f = *state; /* 1 worker, queue of 1 */
        f->fake->block_ms = 100;
        reply_t r[3];
        assert_int_equal(do_create(f, "a", &r[0]), 0);
        usleep(20 * 1000); /* the worker takes it */
        assert_int_equal(do_create(f, "b", &r[1]), 0);
        assert_int_equal(do_create(f, "c", &r[2]), LCD_ERR);
        assert_int_equal(r[2].err->kind, LCD_E_BUSY);
        lcd_error_t *err = NULL;
        assert_null(lcd_engine_inspect(f->e, "c", "1", &err)); /* refused: not in the map */
        lcd_error_free(err);
        for (int i = 0; i < 3; i++) {
                reply_wait(&r[i]);
                reply_clear(&r[i]);
        }
}

static void test_shutdown_removes_all(void **state)
{
        struct fixture *f = *state;
        reply_t r;
        for (int i = 0; i < 3; i++) {
                char name[8];
                snprintf(name, sizeof name, "s%d", i);
                do_create(f, name, &r);
                reply_wait(&r);
                reply_clear(&r);
                do_op(f, LCD_OP_START, name, &r);
                reply_wait(&r);
                reply_clear(&r);
        }
        lcd_engine_shutdown(f->e);
        lcd_error_t *err = NULL;
        json_object *list = lcd_engine_list(f->e, &err);
        assert_int_equal(json_object_array_length(list), 0);
        json_object_put(list);
        char path[256];
        snprintf(path, sizeof path, "%s/containers", f->data);
        assert_int_equal(count_dir(path), 0);
        /* operations after shutdown are refused */
        assert_int_equal(do_create(f, "late", &r), LCD_ERR);
        assert_int_equal(r.err->kind, LCD_E_BUSY);
        reply_clear(&r);
}

static void test_signal_parse(void **state)
{
        assert_int_equal(lcd_signal_parse("TERM"), SIGTERM);
        assert_int_equal(lcd_signal_parse("SIGKILL"), SIGKILL);
        assert_int_equal(lcd_signal_parse("15"), 15);
        assert_int_equal(lcd_signal_parse("64"), 64);
        static const char *const bad[] = {"", "0", "65", "15x", "SIG", "term", "SIGFOO", "-9"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(lcd_signal_parse(bad[i]), -EINVAL);
        assert_int_equal(lcd_signal_parse(NULL), -EINVAL);
}

int main(void)
{
        lcd_log_set_level(LCD_LOG_ERROR);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_create_start_stop_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_create_fails_at_pull, setup, teardown),
                cmocka_unit_test_setup_teardown(test_create_fails_at_unpack, setup, teardown),
                cmocka_unit_test_setup_teardown(test_create_fails_at_pasta, setup, teardown),
                cmocka_unit_test_setup_teardown(test_create_fails_at_conmon, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refusals_change_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_one_pull_for_concurrent_creates, setup, teardown),
                cmocka_unit_test_setup_teardown(test_queue_full_is_busy, setup_tiny, teardown),
                cmocka_unit_test_setup_teardown(test_shutdown_removes_all, setup, teardown),
                cmocka_unit_test(test_signal_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* fake_runner.c - see fake_runner.h. */
#include "fake_runner.h"

#include "lcd/alloc.h"
#include "lcd/fsutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t held = PTHREAD_COND_INITIALIZER;

void fake_runner_hold(fake_runner_t *f, int hold)
{
        pthread_mutex_lock(&mu);
        f->hold_pasta = hold;
        pthread_cond_broadcast(&held);
        pthread_mutex_unlock(&mu);
}

int fake_runner_pastas_with(fake_runner_t *f, const char *needle)
{
        int n = 0;
        pthread_mutex_lock(&mu);
        for (int i = 0; i < f->calls_pasta && i < 32; i++)
                n += strstr(f->pasta_log[i], needle) != NULL;
        pthread_mutex_unlock(&mu);
        return n;
}

int fake_runner_get(const int *field)
{
        pthread_mutex_lock(&mu);
        int v = *field;
        pthread_mutex_unlock(&mu);
        return v;
}

/* pasta held by the test: wait, 10 s at most. mu held. */
static void wait_held(fake_runner_t *f)
{
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 10;
        f->pasta_waiting++;
        while (f->hold_pasta && pthread_cond_timedwait(&held, &mu, &until) == 0)
                ;
        f->pasta_waiting--;
}

static const char *arg_after(const char *const *argv, const char *flag)
{
        for (size_t i = 0; argv[i] != NULL; i++)
                if (strcmp(argv[i], flag) == 0)
                        return argv[i + 1];
        return NULL;
}

static int write_text(const char *path, const char *text)
{
        return lcd_write_atomic(path, text, strlen(text), 0600);
}

/* "crun --root R start ID" -> "crun start" */
static void tool_name(const char *const *argv, char *buf, size_t len)
{
        if (strcmp(argv[0], "crun") == 0) {
                size_t i = 1;
                while (argv[i] != NULL && argv[i][0] == '-')
                        i += strcmp(argv[i], "--root") == 0 ? 2 : 1;
                snprintf(buf, len, "crun %s", argv[i] ? argv[i] : "");
        } else {
                snprintf(buf, len, "%s", argv[0]);
        }
}

static int fake_run(lcd_runner_t *self, const lcd_run_spec_t *spec, lcd_run_result_t *res, lcd_error_t **err)
{
        fake_runner_t *f = (fake_runner_t *)self;
        const char *const *argv = spec->argv;
        memset(res, 0, sizeof *res);
        res->out = lcd_strdup("");
        if (res->out == NULL)
                return lcd_error_nomem(err);
        if (f->block_ms > 0)
                usleep((useconds_t)f->block_ms * 1000);
        if (argv[1] != NULL && strcmp(argv[1], "--version") == 0) {
                lcd_free(res->out);
                res->out = lcd_strdup_printf("%s version 0.0-fake\n", argv[0]);
                return res->out ? 0 : lcd_error_nomem(err);
        }
        char name[64];
        tool_name(argv, name, sizeof name);
        pthread_mutex_lock(&mu);
        bool fail_pasta = false;
        bool inspect = strcmp(argv[0], "skopeo") == 0 && arg_after(argv, "inspect") != NULL;
        if (strcmp(argv[0], "skopeo") == 0 && !inspect)
                f->calls_skopeo++; /* pulls */
        else if (strcmp(argv[0], "umoci") == 0)
                f->calls_umoci++;
        else if (strcmp(argv[0], "conmon") == 0)
                f->calls_conmon++;
        else if (strcmp(argv[0], "crun") == 0)
                f->calls_crun++;
        else if (strcmp(argv[0], "pasta") == 0) {
                f->calls_pasta++;
                size_t used = 0;
                for (size_t i = 0; argv[i] != NULL && used < sizeof f->last_pasta; i++) {
                        int n = snprintf(f->last_pasta + used, sizeof f->last_pasta - used, "%s%s", i ? " " : "",
                                         argv[i]);
                        used += n > 0 ? (size_t)n : 0;
                }
                int call = f->calls_pasta - 1;
                if (call < 32)
                        memcpy(f->pasta_log[call], f->last_pasta, sizeof f->last_pasta);
                wait_held(f);
                if (call < 32 && f->pasta_fail_with != NULL && strstr(f->pasta_log[call], f->pasta_fail_with)) {
                        f->pasta_fail_with = NULL; /* this call's own argv: last_pasta may be another's by now */
                        fail_pasta = true;
                }
        }
        bool fail = fail_pasta || (f->fail_tool != NULL && strcmp(f->fail_tool, name) == 0);
        pthread_mutex_unlock(&mu);
        if (fail) {
                res->status = 1;
                snprintf(res->err, sizeof res->err, "%s", f->fail_stderr ? f->fail_stderr : "fake failure\n");
                if (spec->output_path != NULL) /* a daemonizing tool: its output goes to the file */
                        write_text(spec->output_path, res->err);
                return 0;
        }
        if (inspect) { /* the size check before a pull */
                lcd_free(res->out);
                res->out = lcd_strdup("{\"layers\":[{\"size\":1000}],\"config\":{\"size\":24}}");
                res->out_len = res->out ? strlen(res->out) : 0;
                return res->out ? 0 : lcd_error_nomem(err);
        }
        if (strcmp(argv[0], "skopeo") == 0) {
                /* skopeo ... copy ... docker://REF oci:DIR:REF */
                const char *dst = argv[0];
                for (size_t i = 0; argv[i]; i++)
                        if (strncmp(argv[i], "oci:", 4) == 0)
                                dst = argv[i] + 4;
                char dir[4096];
                snprintf(dir, sizeof dir, "%s", dst);
                *strrchr(dir, ':') = '\0';
                lcd_mkdir_p(dir, 0700);
                char path[4200];
                snprintf(path, sizeof path, "%s/index.json", dir);
                write_text(path, "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:"
                                 "1111111111111111111111111111111111111111111111111111111111111111\","
                                 "\"annotations\":{\"org.opencontainers.image.ref.name\":\"image\"}}]}");
                const char *df = arg_after(argv, "--digestfile");
                if (df != NULL)
                        write_text(df, "sha256:2222222222222222222222222222222222222222222222222222222222222222");
        } else if (strcmp(argv[0], "umoci") == 0) {
                size_t n = 0;
                while (argv[n] != NULL)
                        n++;
                const char *bundle = argv[n - 1]; /* umoci unpack [--rootless] --image LAYOUT DIR */
                lcd_mkdir_p(bundle, 0700);
                char path[4200];
                snprintf(path, sizeof path, "%s/rootfs", bundle);
                mkdir(path, 0755);
                snprintf(path, sizeof path, "%s/config.json", bundle);
                write_text(path, "{\"ociVersion\":\"1.0.0\",\"process\":{\"terminal\":true,\"args\":[\"/bin/sh\"],"
                                 "\"env\":[\"PATH=/bin\"],\"cwd\":\"/\",\"rlimits\":[]},\"root\":{\"path\":"
                                 "\"rootfs\"},\"mounts\":[{\"destination\":\"/sys\",\"type\":\"bind\"}],"
                                 "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"}]}}");
        } else if (strcmp(argv[0], "conmon") == 0) {
                char msg[256];
                if (f->conmon_reports_error)
                        snprintf(msg, sizeof msg, "{\"data\": -1, \"message\": \"fake crun create failed\"}\n");
                else
                        snprintf(msg, sizeof msg, "{\"data\": %d}\n", 4242);
                if (spec->pass_fd >= 0 && write(spec->pass_fd, msg, strlen(msg)) < 0)
                        return lcd_error_set(err, LCD_E_INTERNAL, "fake conmon: %s", strerror(errno));
        } else if (strcmp(name, "crun kill") == 0 && f->exit_dir != NULL) {
                /* the container dies of the signal: conmon writes its exit file */
                size_t n = 0;
                while (argv[n])
                        n++;
                char path[4200], code[16];
                snprintf(path, sizeof path, "%s/%s", f->exit_dir, argv[n - 2]);
                snprintf(code, sizeof code, "%d", 128 + atoi(argv[n - 1]));
                write_text(path, code);
        }
        return 0;
}

static void fake_destroy(lcd_runner_t *self)
{
        lcd_free(self);
}

fake_runner_t *fake_runner_new(void)
{
        fake_runner_t *f = lcd_calloc(1, sizeof *f);
        if (f == NULL)
                return NULL;
        f->base.run = fake_run;
        f->base.destroy = fake_destroy;
        return f;
}

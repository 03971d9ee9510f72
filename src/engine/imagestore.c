/* imagestore.c - see imagestore.h.
 *
 * Lock order: `mu` only; it is never held while a tool runs. A gate entry
 * lives while some worker uses its reference (readers or a writer), so the
 * list holds at most one entry per busy worker.
 */
#include "lcd/imagestore.h"

#include "lcd/alloc.h"
#include "lcd/fsutil.h"
#include "lcd/log.h"
#include "lcd/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REFNAME "image"
/* The manifest digest as the registry knows it (skopeo --digestfile): for a
 * Docker-format image it differs from the converted one in index.json. */
#define DIGESTFILE "registry-digest"

struct gate {
        struct gate *next;
        char ref[LCD_REF_MAX + 1];
        unsigned readers;
        bool writer;
        unsigned users; /* holders and waiters */
};

struct lcd_imagestore {
        char *dir;    /* <data>/images */
        char *policy; /* our policy file when the system has none, else NULL */
        char **insecure;
        lcd_runner_t *runner;
        int pull_timeout_ms;
        pthread_mutex_t mu;
        pthread_cond_t cond;
        struct gate *gates;
};

lcd_imagestore_t *lcd_imagestore_new(const char *data_dir, const char *const *insecure, lcd_runner_t *runner,
                                     int pull_timeout_ms, lcd_error_t **err)
{
        lcd_imagestore_t *s = lcd_calloc(1, sizeof *s);
        if (s == NULL) {
                lcd_error_nomem(err);
                return NULL;
        }
        bool nomem = false;
        s->dir = lcd_strdup_printf("%s/images", data_dir);
        s->insecure = lcd_strv_dup(insecure, &nomem);
        if (s->dir == NULL || nomem) {
                lcd_imagestore_free(s);
                lcd_error_nomem(err);
                return NULL;
        }
        s->runner = runner;
        s->pull_timeout_ms = pull_timeout_ms;
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cond, NULL);
        if (mkdir(s->dir, 0700) < 0 && errno != EEXIST) {
                lcd_error_set(err, LCD_E_INTERNAL, "create %s: %s", s->dir, strerror(errno));
                lcd_imagestore_free(s);
                return NULL;
        }
        /* skopeo refuses to run without a signature policy; when the system
         * has none, use an explicit accept-anything policy of our own */
        const char *home = getenv("HOME");
        char user_policy[4096] = "";
        if (home != NULL)
                snprintf(user_policy, sizeof user_policy, "%s/.config/containers/policy.json", home);
        if (access("/etc/containers/policy.json", R_OK) != 0 && access(user_policy, R_OK) != 0) {
                s->policy = lcd_strdup_printf("%s/policy.json", data_dir);
                int fd = s->policy ? open(s->policy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
                static const char text[] = "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}\n";
                if (fd < 0 || write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1)) {
                        if (fd >= 0)
                                close(fd);
                        lcd_error_set(err, LCD_E_INTERNAL, "cannot write a default image policy");
                        lcd_imagestore_free(s);
                        return NULL;
                }
                close(fd);
                lcd_warn("no /etc/containers/policy.json: image signatures are not checked");
        }
        return s;
}

void lcd_imagestore_free(lcd_imagestore_t *s)
{
        if (s == NULL)
                return;
        if (s->gates == NULL) {
                pthread_cond_destroy(&s->cond);
                pthread_mutex_destroy(&s->mu);
        }
        lcd_free(s->dir);
        lcd_free(s->policy);
        lcd_strv_free(s->insecure);
        lcd_free(s);
}

/* ---- the per-reference gate ---- */

static struct gate *gate_enter(lcd_imagestore_t *s, const char *ref, bool write)
{
        pthread_mutex_lock(&s->mu);
        struct gate *g = s->gates;
        while (g != NULL && strcmp(g->ref, ref) != 0)
                g = g->next;
        if (g == NULL) {
                g = lcd_calloc(1, sizeof *g);
                if (g == NULL) {
                        pthread_mutex_unlock(&s->mu);
                        return NULL;
                }
                snprintf(g->ref, sizeof g->ref, "%s", ref);
                g->next = s->gates;
                s->gates = g;
        }
        g->users++;
        while (g->writer || (write && g->readers > 0))
                pthread_cond_wait(&s->cond, &s->mu);
        if (write)
                g->writer = true;
        else
                g->readers++;
        pthread_mutex_unlock(&s->mu);
        return g;
}

static void gate_leave(lcd_imagestore_t *s, struct gate *g, bool write)
{
        pthread_mutex_lock(&s->mu);
        if (write)
                g->writer = false;
        else
                g->readers--;
        if (--g->users == 0) {
                for (struct gate **pp = &s->gates; *pp; pp = &(*pp)->next)
                        if (*pp == g) {
                                *pp = g->next;
                                break;
                        }
                lcd_free(g);
        }
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->mu);
}

static struct gate *gate_find(lcd_imagestore_t *s, const char *ref)
{
        pthread_mutex_lock(&s->mu);
        struct gate *g = s->gates;
        while (g != NULL && strcmp(g->ref, ref) != 0)
                g = g->next;
        pthread_mutex_unlock(&s->mu);
        return g;
}

/* ---- the OCI layout ---- */

static char *layout_dir(lcd_imagestore_t *s, const lcd_imageref_t *ref)
{
        char name[LCD_REF_MAX + 1];
        lcd_imageref_dirname(ref, name, sizeof name);
        return lcd_strdup_printf("%s/%s", s->dir, name);
}

/* Read the manifest digest of REFNAME from the layout's index.json.
 * 0, -ENOENT (not cached) or -ENOMEM. */
static int cached_digest(const char *dir, char *digest)
{
        char *path = lcd_strdup_printf("%s/index.json", dir);
        if (path == NULL)
                return -ENOMEM;
        json_object *idx = json_object_from_file(path);
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
                            strcmp(json_object_get_string(name), REFNAME) == 0 &&
                            json_object_object_get_ex(m, "digest", &d) && lcd_digest_valid(json_object_get_string(d))) {
                                snprintf(digest, LCD_DIGEST_LEN + 1, "%s", json_object_get_string(d));
                                r = 0;
                        }
                }
        json_object_put(idx);
        if (r == 0) {
                char *path2 = lcd_strdup_printf("%s/" DIGESTFILE, dir);
                char buf[LCD_DIGEST_LEN + 2];
                if (path2 != NULL && lcd_read_small(path2, buf, sizeof buf) > 0) {
                        buf[strcspn(buf, "\n")] = '\0';
                        if (lcd_digest_valid(buf))
                                snprintf(digest, LCD_DIGEST_LEN + 1, "%s", buf);
                }
                lcd_free(path2);
        }
        return r;
}

static bool is_insecure(lcd_imagestore_t *s, const char *host)
{
        for (size_t i = 0; s->insecure && s->insecure[i]; i++)
                if (strcmp(s->insecure[i], host) == 0)
                        return true;
        return false;
}

/* skopeo copy under the writer gate. */
static int pull_locked(lcd_imagestore_t *s, const lcd_imageref_t *ref, const char *dir, char *digest, lcd_error_t **err)
{
        cleanup_free char *src = lcd_strdup_printf("docker://%s", ref->canonical);
        cleanup_free char *dst = lcd_strdup_printf("oci:%s:%s", dir, REFNAME);
        cleanup_free char *digestfile = lcd_strdup_printf("%s/" DIGESTFILE, dir);
        if (src == NULL || dst == NULL || digestfile == NULL)
                return lcd_error_nomem(err);
        const char *argv[14];
        int n = 0;
        argv[n++] = "skopeo";
        if (s->policy != NULL) {
                argv[n++] = "--policy";
                argv[n++] = s->policy;
        }
        argv[n++] = "copy";
        argv[n++] = "--quiet";
        argv[n++] = is_insecure(s, ref->host) ? "--src-tls-verify=false" : "--src-tls-verify=true";
        argv[n++] = "--digestfile";
        argv[n++] = digestfile;
        argv[n++] = src;
        argv[n++] = dst;
        argv[n] = NULL;
        lcd_info("pulling %s", ref->canonical);
        lcd_run_spec_t spec = {.argv = argv, .timeout_ms = s->pull_timeout_ms, .pass_fd = -1};
        lcd_run_result_t res;
        int r = lcd_run_tool(s->runner, &spec, &res, "pull", err);
        lcd_run_result_clear(&res);
        if (r < 0)
                return lcd_error_wrap(err, "%s", ref->canonical);
        r = cached_digest(dir, digest);
        if (r < 0)
                return r == -ENOMEM ? lcd_error_nomem(err)
                                    : lcd_error_set(err, LCD_E_INTERNAL, "pull %s: no manifest in %s/index.json",
                                                    ref->canonical, dir);
        lcd_info("pulled %s (%s)", ref->canonical, digest);
        return 0;
}

int lcd_imagestore_pull(lcd_imagestore_t *s, const lcd_imageref_t *ref, char *digest, lcd_error_t **err)
{
        cleanup_free char *dir = layout_dir(s, ref);
        if (dir == NULL)
                return lcd_error_nomem(err);
        struct gate *g = gate_enter(s, ref->canonical, true);
        if (g == NULL)
                return lcd_error_nomem(err);
        int r = pull_locked(s, ref, dir, digest, err);
        gate_leave(s, g, true);
        return r;
}

int lcd_imagestore_acquire(lcd_imagestore_t *s, const lcd_imageref_t *ref, char **layout, char *digest,
                           lcd_error_t **err)
{
        *layout = NULL;
        cleanup_free char *dir = layout_dir(s, ref);
        if (dir == NULL)
                return lcd_error_nomem(err);
        for (;;) {
                struct gate *g = gate_enter(s, ref->canonical, false);
                if (g == NULL)
                        return lcd_error_nomem(err);
                int r = cached_digest(dir, digest);
                if (r == 0) {
                        *layout = lcd_strdup_printf("%s:%s", dir, REFNAME);
                        if (*layout == NULL) {
                                gate_leave(s, g, false);
                                return lcd_error_nomem(err);
                        }
                        return 0; /* stays a reader until release */
                }
                gate_leave(s, g, false);
                if (r == -ENOMEM)
                        return lcd_error_nomem(err);
                /* not cached: become the writer; the first one in pulls, the
                 * others find it cached when they get the gate */
                g = gate_enter(s, ref->canonical, true);
                if (g == NULL)
                        return lcd_error_nomem(err);
                r = cached_digest(dir, digest) == 0 ? 0 : pull_locked(s, ref, dir, digest, err);
                gate_leave(s, g, true);
                if (r < 0)
                        return r;
        }
}

void lcd_imagestore_release(lcd_imagestore_t *s, const lcd_imageref_t *ref)
{
        struct gate *g = gate_find(s, ref->canonical);
        if (g != NULL)
                gate_leave(s, g, false);
}

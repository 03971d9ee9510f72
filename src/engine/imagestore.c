/* imagestore.c - see imagestore.h. Reading one image's layout (its
 * digests, size, description) is layout.c's; this file runs skopeo, keeps
 * the gates and lists the store.
 *
 * The per-reference gate (gate.h) is never held by the service thread.
 */
#include "imagestore.h"

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/fsutil.h"
#include "gate.h"
#include "layout.h"
#include "lcd/log.h"
#include "lcd/strv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

struct lcd_imagestore {
        char *dir;    /* <data>/images */
        char *policy; /* our policy file when the system has none, else NULL */
        char **insecure;
        lcd_runner_t *runner;
        int pull_timeout_ms;
        int64_t max_image_bytes;
        lcd_gate_t *gate; /* per canonical reference: pull writes, unpack reads */
        lcd_progress_fn progress;
        void *progress_ctx;
};

lcd_imagestore_t *lcd_imagestore_new(const lcd_imagestore_opts_t *o, lcd_error_t **err)
{
        const char *data_dir = o->data_dir;
        lcd_imagestore_t *s = lcd_calloc(1, sizeof *s);
        if (s == NULL) {
                lcd_error_nomem(err);
                return NULL;
        }
        s->dir = lcd_strdup_printf("%s/images", data_dir);
        if (s->dir == NULL || lcd_strv_dup(o->insecure, &s->insecure) < 0) {
                lcd_imagestore_free(s);
                lcd_error_nomem(err);
                return NULL;
        }
        s->runner = o->runner;
        s->pull_timeout_ms = o->pull_timeout_ms;
        s->max_image_bytes = o->max_image_bytes;
        s->progress = o->progress;
        s->progress_ctx = o->progress_ctx;
        s->gate = lcd_gate_new();
        if (s->gate == NULL) {
                lcd_imagestore_free(s);
                lcd_error_nomem(err);
                return NULL;
        }
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
                static const char text[] = "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}\n";
                if (s->policy == NULL || lcd_write_atomic(s->policy, text, sizeof text - 1, 0600) < 0) {
                        lcd_error_set(err, LCD_E_INTERNAL, "cannot write a default image policy");
                        lcd_imagestore_free(s);
                        return NULL;
                }
                lcd_warn("no /etc/containers/policy.json: image signatures are not checked");
        }
        return s;
}

void lcd_imagestore_free(lcd_imagestore_t *s)
{
        if (s == NULL)
                return;
        lcd_gate_free(s->gate);
        lcd_free(s->dir);
        lcd_free(s->policy);
        lcd_strv_free(s->insecure);
        lcd_free(s);
}

/* ---- the OCI layout ---- */

static char *layout_dir(lcd_imagestore_t *s, const lcd_imageref_t *ref)
{
        char name[LCD_REF_MAX + 1];
        lcd_imageref_dirname(ref, name, sizeof name);
        return lcd_strdup_printf("%s/%s", s->dir, name);
}

static bool is_insecure(lcd_imagestore_t *s, const char *host)
{
        for (size_t i = 0; s->insecure && s->insecure[i]; i++)
                if (strcmp(s->insecure[i], host) == 0)
                        return true;
        return false;
}

/* skopeo inspect --raw SRC: the manifest (or index) as the registry serves it. */
static json_object *inspect_raw(lcd_imagestore_t *s, const lcd_imageref_t *ref, const char *src, lcd_error_t **err)
{
        const char *argv[10];
        int n = 0;
        argv[n++] = "skopeo";
        if (s->policy != NULL) {
                argv[n++] = "--policy";
                argv[n++] = s->policy;
        }
        argv[n++] = "inspect";
        argv[n++] = "--raw";
        argv[n++] = is_insecure(s, ref->host) ? "--tls-verify=false" : "--tls-verify=true";
        argv[n++] = src;
        argv[n] = NULL;
        lcd_run_spec_t spec = {
                .argv = argv, .timeout_ms = s->pull_timeout_ms, .pass_fd = -1, .out_cap = LCD_LAYOUT_JSON_MAX};
        lcd_run_result_t res;
        if (lcd_run_tool(s->runner, &spec, &res, "inspect", err) < 0) {
                lcd_run_result_clear(&res);
                lcd_error_wrap(err, "%s", ref->canonical);
                return NULL;
        }
        json_object *o = json_tokener_parse(res.out);
        lcd_run_result_clear(&res);
        if (o == NULL)
                lcd_error_set(err, LCD_E_TOOL_FAILED, "pull %s: skopeo inspect gave no JSON manifest", ref->canonical);
        return o;
}

/* The bytes of an image manifest's layers and config; -1 when it does not
 * say (not an image manifest: an index, or schema 1 without sizes). */
static int64_t manifest_bytes(json_object *m)
{
        json_object *layers = NULL, *config = NULL, *sz = NULL;
        if (!json_object_object_get_ex(m, "layers", &layers) || !json_object_is_type(layers, json_type_array))
                return -1;
        int64_t total = 0;
        for (size_t i = 0; i < json_object_array_length(layers); i++) {
                if (!json_object_object_get_ex(json_object_array_get_idx(layers, i), "size", &sz))
                        return -1;
                total += json_object_get_int64(sz) > 0 ? json_object_get_int64(sz) : 0;
        }
        if (json_object_object_get_ex(m, "config", &config) && json_object_object_get_ex(config, "size", &sz))
                total += json_object_get_int64(sz) > 0 ? json_object_get_int64(sz) : 0;
        return total;
}

/* An index's manifest for this machine (what skopeo copy takes), or NULL. */
static const char *platform_digest(json_object *index)
{
        static const char *const arch[][2] = {{"x86_64", "amd64"},    {"aarch64", "arm64"}, {"armv7l", "arm"},
                                              {"ppc64le", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"}};
        struct utsname u;
        const char *want = NULL;
        if (uname(&u) == 0)
                for (size_t i = 0; i < sizeof arch / sizeof arch[0]; i++)
                        if (strcmp(u.machine, arch[i][0]) == 0)
                                want = arch[i][1];
        json_object *mans = NULL;
        if (want == NULL || !json_object_object_get_ex(index, "manifests", &mans) ||
            !json_object_is_type(mans, json_type_array))
                return NULL;
        for (size_t i = 0; i < json_object_array_length(mans); i++) {
                json_object *m = json_object_array_get_idx(mans, i), *p, *os, *a, *d;
                if (json_object_object_get_ex(m, "platform", &p) && json_object_object_get_ex(p, "os", &os) &&
                    json_object_object_get_ex(p, "architecture", &a) && json_object_object_get_ex(m, "digest", &d) &&
                    strcmp(json_object_get_string(os), "linux") == 0 && strcmp(json_object_get_string(a), want) == 0 &&
                    lcd_digest_valid(json_object_get_string(d)))
                        return json_object_get_string(d);
        }
        return NULL;
}

static void human(int64_t n, char *buf, size_t len)
{
        if (n >= 1024 * 1024 * 1024)
                snprintf(buf, len, "%.1f GiB", (double)n / (1024.0 * 1024 * 1024));
        else if (n >= 1024 * 1024)
                snprintf(buf, len, "%.1f MiB", (double)n / (1024.0 * 1024));
        else
                snprintf(buf, len, "%lld bytes", (long long)n);
}

/* The image's size from its manifest (this machine's, from an index),
 * checked against --max-image-size and the free space before anything is
 * copied. */
static int check_size(lcd_imagestore_t *s, const lcd_imageref_t *ref, const char *src, lcd_error_t **err)
{
        json_object *m = inspect_raw(s, ref, src, err);
        if (m == NULL)
                return LCD_ERR;
        int64_t size = manifest_bytes(m);
        const char *d = size < 0 ? platform_digest(m) : NULL;
        if (d != NULL) {
                char *one = lcd_strdup_printf("docker://%s/%s@%s", ref->host, ref->repo, d);
                json_object_put(m);
                m = one ? inspect_raw(s, ref, one, err) : NULL;
                lcd_free(one);
                if (m == NULL)
                        return *err ? LCD_ERR : lcd_error_nomem(err);
                size = manifest_bytes(m);
        }
        json_object_put(m);
        if (size < 0)
                return lcd_error_set(err, LCD_E_TOO_LARGE,
                                     "pull %s: its manifest gives no layer sizes (or none for this machine), so its "
                                     "size cannot be checked before copying it",
                                     ref->canonical);
        char have[32], cap[32];
        human(size, have, sizeof have);
        if (size > s->max_image_bytes) {
                human(s->max_image_bytes, cap, sizeof cap);
                return lcd_error_set(err, LCD_E_TOO_LARGE, "pull %s: the image is %s, over --max-image-size (%s)",
                                     ref->canonical, have, cap);
        }
        int64_t avail = lcd_fs_free(s->dir);
        if (avail >= 0 && size + LCD_DISK_RESERVE > avail) {
                human(avail, cap, sizeof cap);
                return lcd_error_set(err, LCD_E_TOO_LARGE, "pull %s: the image is %s and %s has only %s free",
                                     ref->canonical, have, s->dir, cap);
        }
        return 0;
}

/* skopeo copy under the writer gate. */
static int pull_locked(lcd_imagestore_t *s, const lcd_imageref_t *ref, const char *dir, char *digest, lcd_error_t **err)
{
        cleanup_free char *src = lcd_strdup_printf("docker://%s", ref->canonical);
        cleanup_free char *dst = lcd_strdup_printf("oci:%s:%s", dir, LCD_LAYOUT_REFNAME);
        cleanup_free char *digestfile = lcd_strdup_printf("%s/" LCD_LAYOUT_DIGESTFILE, dir);
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
        if (s->progress != NULL)
                s->progress(s->progress_ctx, ref->canonical, LCD_PROGRESS_PULLING);
        if (check_size(s, ref, src, err) < 0)
                return LCD_ERR;
        char had[LCD_DIGEST_LEN + 1];
        bool cached = lcd_layout_digest(dir, had) == 0; /* a re-pull: a failure keeps the image we have */
        lcd_run_spec_t spec = {.argv = argv, .timeout_ms = s->pull_timeout_ms, .pass_fd = -1};
        lcd_run_result_t res;
        int r = lcd_run_tool(s->runner, &spec, &res, "pull", err);
        lcd_run_result_clear(&res);
        if (r == 0 && (r = lcd_layout_digest(dir, digest)) < 0)
                r = r == -ENOMEM ? lcd_error_nomem(err)
                                 : lcd_error_set(err, LCD_E_INTERNAL, "pull %s: no manifest in %s/index.json",
                                                 ref->canonical, dir);
        else if (r < 0)
                lcd_error_wrap(err, "%s", ref->canonical);
        if (r < 0) {
                if (!cached) /* nothing half-pulled stays in the store */
                        lcd_rmtree(dir);
                return LCD_ERR;
        }
        lcd_info("pulled %s (%s)", ref->canonical, digest);
        if (s->progress != NULL)
                s->progress(s->progress_ctx, ref->canonical, LCD_PROGRESS_DONE);
        return 0;
}

int lcd_imagestore_pull(lcd_imagestore_t *s, const lcd_imageref_t *ref, char *digest, lcd_error_t **err)
{
        cleanup_free char *dir = layout_dir(s, ref);
        if (dir == NULL)
                return lcd_error_nomem(err);
        if (lcd_gate_enter(s->gate, ref->canonical, true) < 0)
                return lcd_error_nomem(err);
        int r = pull_locked(s, ref, dir, digest, err);
        lcd_gate_leave(s->gate, ref->canonical, true);
        return r;
}

int lcd_imagestore_acquire(lcd_imagestore_t *s, const lcd_imageref_t *ref, char **layout, char *digest, int64_t *bytes,
                           lcd_error_t **err)
{
        *layout = NULL;
        cleanup_free char *dir = layout_dir(s, ref);
        if (dir == NULL)
                return lcd_error_nomem(err);
        for (;;) {
                if (lcd_gate_enter(s->gate, ref->canonical, false) < 0)
                        return lcd_error_nomem(err);
                int r = lcd_layout_digest(dir, digest);
                if (r == 0) {
                        *layout = lcd_strdup_printf("%s:%s", dir, LCD_LAYOUT_REFNAME);
                        if (*layout == NULL) {
                                lcd_gate_leave(s->gate, ref->canonical, false);
                                return lcd_error_nomem(err);
                        }
                        *bytes = lcd_layout_size(dir);
                        return 0; /* stays a reader until release */
                }
                lcd_gate_leave(s->gate, ref->canonical, false);
                if (r == -ENOMEM)
                        return lcd_error_nomem(err);
                /* not cached: become the writer; the first one in pulls, the
                 * others find it cached when they get the gate */
                if (lcd_gate_enter(s->gate, ref->canonical, true) < 0)
                        return lcd_error_nomem(err);
                r = lcd_layout_digest(dir, digest) == 0 ? 0 : pull_locked(s, ref, dir, digest, err);
                lcd_gate_leave(s->gate, ref->canonical, true);
                if (r < 0)
                        return r;
        }
}

bool lcd_imagestore_cached(lcd_imagestore_t *s, const lcd_imageref_t *ref)
{
        /* the service thread asks: one access(2), no parsing */
        char name[LCD_REF_MAX + 1], path[4096];
        lcd_imageref_dirname(ref, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s/index.json", s->dir, name);
        return access(path, F_OK) == 0;
}

void lcd_imagestore_release(lcd_imagestore_t *s, const lcd_imageref_t *ref)
{
        lcd_gate_leave(s->gate, ref->canonical, false);
}

/* ---- listing, inspecting, removing ---- */

/* Decode a layout directory name back into its reference. */
static void dirname_to_ref(const char *name, char *buf, size_t len)
{
        size_t j = 0;
        for (size_t i = 0; name[i] != '\0' && j + 1 < len; i++)
                buf[j++] = name[i] == '+' ? '/' : name[i] == '=' ? ':' : name[i] == '%' ? '@' : name[i];
        buf[j] = '\0';
}

json_object *lcd_imagestore_list(lcd_imagestore_t *s, lcd_error_t **err)
{
        json_object *a = json_object_new_array();
        DIR *d = a ? opendir(s->dir) : NULL;
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                char ref[LCD_REF_MAX + 1], dir[4096];
                dirname_to_ref(de->d_name, ref, sizeof ref);
                snprintf(dir, sizeof dir, "%s/%s", s->dir, de->d_name);
                json_object *o;
                if (lcd_layout_describe(dir, ref, false, &o, err) < 0 || (o != NULL && lcd_json_append(a, o) < 0)) {
                        json_object_put(a);
                        a = NULL;
                        break;
                }
        }
        if (d != NULL)
                closedir(d);
        if (a == NULL)
                lcd_error_nomem(err); /* kept when describe set it */
        return a;
}

json_object *lcd_imagestore_inspect(lcd_imagestore_t *s, const lcd_imageref_t *ref, lcd_error_t **err)
{
        cleanup_free char *dir = layout_dir(s, ref);
        if (dir == NULL) {
                lcd_error_nomem(err);
                return NULL;
        }
        json_object *o;
        if (lcd_layout_describe(dir, ref->canonical, true, &o, err) == 0 && o == NULL)
                lcd_error_set(err, LCD_E_NOT_FOUND, "no image %s in the store", ref->canonical);
        return o;
}

int lcd_imagestore_remove(lcd_imagestore_t *s, const lcd_imageref_t *ref, char *digest, lcd_error_t **err)
{
        cleanup_free char *dir = layout_dir(s, ref);
        if (dir == NULL)
                return lcd_error_nomem(err);
        if (lcd_gate_enter(s->gate, ref->canonical, true) < 0)
                return lcd_error_nomem(err);
        int r = lcd_layout_digest(dir, digest);
        if (r == -ENOENT)
                r = lcd_error_set(err, LCD_E_NOT_FOUND, "no image %s in the store", ref->canonical);
        else if (r < 0)
                r = lcd_error_nomem(err);
        else if ((r = lcd_rmtree(dir)) < 0)
                r = lcd_error_set(err, LCD_E_INTERNAL, "remove %s: %s", dir, strerror(-r));
        lcd_gate_leave(s->gate, ref->canonical, true);
        if (r == 0)
                lcd_info("removed image %s", ref->canonical);
        return r;
}

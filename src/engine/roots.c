/* roots.c - image roots: each image unpacked once, by manifest digest.
 *
 * DESIGN: <data>/roots/<hex>/ holds an image's rootfs and umoci's
 * config.json (the template of every container's spec). A gate per digest
 * makes concurrent creates of one image unpack once: users hold it as
 * readers, the unpack (and a removal) as the writer. umoci unpacks beside,
 * into .tmp-<hex>, then renames: a root is complete or absent. It runs as
 * the daemon's user namespace's root, so files keep their owners (with the
 * full mapping; a single-id namespace unpacks --rootless). Workers only.
 */
#include "roots.h"

#include "gate.h"
#include "lcd/alloc.h"
#include "lcd/fsutil.h"
#include "lcd/ident.h"
#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct lcd_roots {
        char dir[PATH_MAX];
        lcd_gate_t *gate; /* per digest: unpack and removal write, use reads */
        const lcd_userns_t *ns;
        lcd_runner_t *runner;
        int unpack_timeout_ms;
        lcd_progress_fn progress;
        void *progress_ctx;
};

lcd_roots_t *lcd_roots_new(const lcd_roots_opts_t *o, lcd_error_t **err)
{
        lcd_roots_t *r = lcd_calloc(1, sizeof *r);
        if (r == NULL || (r->gate = lcd_gate_new()) == NULL) {
                lcd_free(r);
                lcd_error_nomem(err);
                return NULL;
        }
        snprintf(r->dir, sizeof r->dir, "%s", o->dir);
        int m = lcd_mkdir_p(r->dir, 0700);
        if (m < 0) {
                lcd_error_set(err, LCD_E_INTERNAL, "create %s: %s", r->dir, strerror(-m));
                lcd_roots_free(r);
                return NULL;
        }
        r->ns = o->ns;
        r->runner = o->runner;
        r->unpack_timeout_ms = o->unpack_timeout_ms;
        r->progress = o->progress;
        r->progress_ctx = o->progress_ctx;
        return r;
}

void lcd_roots_free(lcd_roots_t *r)
{
        if (r == NULL)
                return;
        lcd_gate_free(r->gate);
        lcd_free(r);
}

int lcd_roots_hold(lcd_roots_t *rt, const lcd_image_t *img, char *dir, size_t len, lcd_error_t **err)
{
        const char *layout = img->layout, *digest = img->digest;
        if (!lcd_digest_valid(digest))
                return lcd_error_set(err, LCD_E_INTERNAL, "bad image digest '%s'", digest);
        snprintf(dir, len, "%s/%s", rt->dir, digest + 7);
        char cfg[PATH_MAX + 16];
        snprintf(cfg, sizeof cfg, "%s/config.json", dir);
        for (;;) {
                if (lcd_gate_enter(rt->gate, digest, false) < 0)
                        return lcd_error_nomem(err);
                if (access(cfg, F_OK) == 0)
                        return 0;
                lcd_gate_leave(rt->gate, digest, false);
                if (lcd_gate_enter(rt->gate, digest, true) < 0)
                        return lcd_error_nomem(err);
                int r = 0;
                int64_t avail = lcd_fs_free(rt->dir);
                if (access(cfg, F_OK) != 0 && avail >= 0 && 2 * img->bytes + LCD_DISK_RESERVE > avail) {
                        /* layers are compressed: room for twice their size, a common ratio, or no unpack */
                        r = lcd_error_set(err, LCD_E_TOO_LARGE,
                                          "unpack %.19s: its layers take %lld MiB compressed and %s has %lld MiB free "
                                          "(twice the compressed size is needed)",
                                          digest, (long long)(img->bytes >> 20), rt->dir, (long long)(avail >> 20));
                } else if (access(cfg, F_OK) != 0) {
                        /* unpack beside, then rename: a root is complete or absent */
                        char tmp[PATH_MAX + 16];
                        snprintf(tmp, sizeof tmp, "%s/.tmp-%s", rt->dir, digest + 7);
                        lcd_rmtree(tmp);
                        const char *argv[8];
                        int n = 0;
                        argv[n++] = "umoci";
                        argv[n++] = "unpack";
                        if (rt->ns->entered && !rt->ns->full) /* only uid 0 exists: umoci must not chown */
                                argv[n++] = "--rootless";
                        argv[n++] = "--image";
                        argv[n++] = layout;
                        argv[n++] = tmp;
                        argv[n] = NULL;
                        lcd_run_spec_t rs = {
                                .argv = argv, .timeout_ms = rt->unpack_timeout_ms, .pass_fd = -1, .out_cap = 64 * 1024};
                        lcd_run_result_t res;
                        int64_t t0 = lcd_now_ms();
                        if (rt->progress != NULL)
                                rt->progress(rt->progress_ctx, digest, LCD_PROGRESS_UNPACKING);
                        r = lcd_run_tool(rt->runner, &rs, &res, "unpack", err);
                        lcd_run_result_clear(&res);
                        if (r == 0 && rename(tmp, dir) < 0)
                                r = lcd_error_set(err, LCD_E_INTERNAL, "rename %s: %s", tmp, strerror(errno));
                        if (r < 0)
                                lcd_rmtree(tmp);
                        else
                                lcd_info("unpacked image %.19s in %lld ms", digest, (long long)(lcd_now_ms() - t0));
                        if (r == 0 && rt->progress != NULL)
                                rt->progress(rt->progress_ctx, digest, LCD_PROGRESS_DONE);
                }
                lcd_gate_leave(rt->gate, digest, true);
                if (r < 0)
                        return r;
        }
}

void lcd_roots_leave(lcd_roots_t *r, const char *digest)
{
        lcd_gate_leave(r->gate, digest, false);
}

int lcd_roots_remove(lcd_roots_t *rt, const char *digest)
{
        if (!lcd_digest_valid(digest))
                return -EINVAL;
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%s", rt->dir, digest + 7);
        if (lcd_gate_enter(rt->gate, digest, true) < 0)
                return -ENOMEM;
        int r = lcd_rmtree(dir);
        lcd_gate_leave(rt->gate, digest, true);
        return r;
}

void lcd_roots_clean_stale(lcd_roots_t *r)
{
        DIR *d = opendir(r->dir);
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
                if (strncmp(de->d_name, ".tmp-", 5) == 0) {
                        char path[PATH_MAX + 256];
                        snprintf(path, sizeof path, "%s/%s", r->dir, de->d_name);
                        lcd_rmtree(path);
                }
        if (d != NULL)
                closedir(d);
}

/* runtime.c - see runtime.h. The image roots are roots.c's, each
 * container's config.json is spec.c's, starting and killing conmon is
 * conmon.c's, the private networks are network.c's; this file lays out bundles, mounts overlays, runs crun's
 * verbs and sweeps what a dead run left.
 */
#include "runtime.h"

#include "conmon.h"
#include "spare.h"
#include "network.h"
#include "roots.h"
#include "spec.h"

#include "lcd/alloc.h"
#include "lcd/fsutil.h"
#include "lcd/log.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

struct lcd_runtime {
        char bundles[PATH_MAX]; /* <data>/containers */
        char crun_root[PATH_MAX];
        char exit_dir[PATH_MAX];
        char sock_dir[PATH_MAX];
        char netns_dir[PATH_MAX]; /* the private networks (network.h) */
        char exec_dir[PATH_MAX];  /* the execs' files (lcd/exec.h) */
        const lcd_cgroup_t *cg;
        const lcd_userns_t *ns;
        lcd_runner_t *runner;
        int timeout_ms;
        lcd_roots_t *roots;    /* <data>/roots: the unpacked images */
        bool no_mounts;        /* unit tests: rootfs stays an empty directory, no network namespace */
        bool shared_keyring;   /* conmon --no-new-keyring */
        int64_t log_max_bytes; /* conmon --log-size-max */
        lcd_network_env_t net_env;
        lcd_spares_t *spares; /* NULL: none kept */
        lcd_relay_t *relay;   /* the published ports */
};

static const lcd_userns_t no_userns = {.entered = false, .desc = "none"};

lcd_runtime_t *lcd_runtime_new(const lcd_runtime_opts_t *o, lcd_error_t **err)
{
        lcd_runtime_t *rt = lcd_calloc(1, sizeof *rt);
        if (rt == NULL) {
                lcd_error_nomem(err);
                return NULL;
        }
        const char *data_dir = o->data_dir, *runtime_dir = o->runtime_dir;
        snprintf(rt->bundles, sizeof rt->bundles, "%s/containers", data_dir);
        snprintf(rt->crun_root, sizeof rt->crun_root, "%s/crun", runtime_dir);
        snprintf(rt->exit_dir, sizeof rt->exit_dir, "%s/exits", runtime_dir);
        snprintf(rt->sock_dir, sizeof rt->sock_dir, "%s/sockets", runtime_dir);
        snprintf(rt->netns_dir, sizeof rt->netns_dir, "%s/netns", runtime_dir);
        snprintf(rt->exec_dir, sizeof rt->exec_dir, "%s/exec", runtime_dir);
        const char *dirs[] = {rt->bundles, rt->crun_root, rt->exit_dir, rt->sock_dir, rt->netns_dir, rt->exec_dir};
        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
                int r = lcd_mkdir_p(dirs[i], 0700);
                if (r < 0) {
                        lcd_error_set(err, LCD_E_INTERNAL, "create %s: %s", dirs[i], strerror(-r));
                        lcd_free(rt);
                        return NULL;
                }
        }
        char roots[PATH_MAX + 8];
        snprintf(roots, sizeof roots, "%s/roots", data_dir);
        lcd_roots_opts_t ro = {.dir = roots,
                               .ns = o->ns ? o->ns : &no_userns,
                               .runner = o->runner,
                               .unpack_timeout_ms = o->timeout_ms * 10,
                               .progress = o->progress,
                               .progress_ctx = o->progress_ctx};
        rt->roots = lcd_roots_new(&ro, err);
        if (rt->roots == NULL) {
                lcd_free(rt);
                return NULL;
        }
        rt->cg = o->cg;
        rt->ns = o->ns ? o->ns : &no_userns;
        rt->no_mounts = o->no_mounts;
        rt->shared_keyring = o->shared_keyring;
        rt->log_max_bytes = o->log_max_bytes;
        rt->runner = o->runner;
        rt->timeout_ms = o->timeout_ms;
        rt->relay = lcd_relay_new(rt->no_mounts);
        rt->net_env = (lcd_network_env_t){.dir = rt->netns_dir,
                                          .runner = rt->runner,
                                          .timeout_ms = rt->timeout_ms,
                                          .no_netns = rt->no_mounts,
                                          .relay = rt->relay};
        if (rt->relay == NULL ||
            (o->network_spares > 0 && (rt->spares = lcd_spares_new(&rt->net_env, o->network_spares)) == NULL)) {
                lcd_relay_free(rt->relay);
                lcd_roots_free(rt->roots);
                lcd_free(rt);
                lcd_error_nomem(err);
                return NULL;
        }
        return rt;
}

void lcd_runtime_free(lcd_runtime_t *rt)
{
        if (rt == NULL)
                return;
        lcd_spares_free(rt->spares);
        lcd_relay_free(rt->relay);
        lcd_roots_free(rt->roots);
        lcd_free(rt);
}

lcd_spare_t lcd_runtime_take_spare(lcd_runtime_t *rt, lcd_net_mode_t mode, bool host_loopback, char *id)
{
        return lcd_spares_take(rt->spares, mode, host_loopback, id);
}

void lcd_runtime_settle_spare(lcd_runtime_t *rt, const char *id)
{
        lcd_error_t *err = NULL;
        if (lcd_spares_wait(rt->spares, id, NULL, &err) < 0)
                lcd_error_free(err);
}

void lcd_runtime_give_back_spare(lcd_runtime_t *rt, const char *id)
{
        lcd_spares_give_back(rt->spares, id);
}

void lcd_runtime_spare_counts(lcd_runtime_t *rt, unsigned *ready, uint64_t *taken, uint64_t *waited, uint64_t *missed)
{
        lcd_spares_counts(rt->spares, ready, taken, waited, missed);
}

void lcd_runtime_relay_counts(lcd_runtime_t *rt, lcd_relay_counts_t *out)
{
        lcd_relay_counts(rt->relay, out);
}

const char *lcd_runtime_exec_dir(lcd_runtime_t *rt)
{
        return rt->exec_dir;
}

const char *lcd_runtime_crun_root(lcd_runtime_t *rt)
{
        return rt->crun_root;
}

const char *lcd_runtime_exit_dir(lcd_runtime_t *rt)
{
        return rt->exit_dir;
}

/* ---- tool invocations ---- */

static int crun(lcd_runtime_t *rt, const char *what, const char *const *args, lcd_error_t **err)
{
        const char *argv[16];
        size_t n = 0;
        argv[n++] = "crun";
        argv[n++] = "--root";
        argv[n++] = rt->crun_root;
        for (size_t i = 0; args[i] != NULL && n < 15; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        lcd_run_spec_t spec = {.argv = argv, .timeout_ms = rt->timeout_ms, .pass_fd = -1, .out_cap = 64 * 1024};
        lcd_run_result_t res;
        int r = lcd_run_tool(rt->runner, &spec, &res, what, err);
        lcd_run_result_clear(&res);
        return r;
}

int lcd_runtime_start(lcd_runtime_t *rt, const char *id, lcd_error_t **err)
{
        const char *args[] = {"start", id, NULL};
        return crun(rt, "start", args, err);
}

int lcd_runtime_pause(lcd_runtime_t *rt, const char *id, lcd_error_t **err)
{
        const char *args[] = {"pause", id, NULL};
        return crun(rt, "pause", args, err);
}

int lcd_runtime_resume(lcd_runtime_t *rt, const char *id, lcd_error_t **err)
{
        const char *args[] = {"resume", id, NULL};
        return crun(rt, "resume", args, err);
}

int lcd_runtime_kill(lcd_runtime_t *rt, const char *id, int sig, lcd_error_t **err)
{
        char s[16];
        snprintf(s, sizeof s, "%d", sig);
        const char *args[] = {"kill", id, s, NULL};
        return crun(rt, "kill", args, err);
}

/* ---- bundles ---- */

static void bundle_path(lcd_runtime_t *rt, const char *id, const char *leaf, char *buf, size_t len)
{
        snprintf(buf, len, "%s/%s%s%s", rt->bundles, id, leaf ? "/" : "", leaf ? leaf : "");
}

void lcd_runtime_bundle_file(lcd_runtime_t *rt, const char *id, const char *leaf, char *buf, size_t len)
{
        bundle_path(rt, id, leaf, buf, len);
}

static void unmount_rootfs(lcd_runtime_t *rt, const char *id)
{
        char path[PATH_MAX];
        bundle_path(rt, id, "rootfs", path, sizeof path);
        if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                lcd_warn("unmount %s: %s", path, strerror(errno));
}

static int mount_overlay(lcd_runtime_t *rt, const char *id, const char *rootdir, lcd_error_t **err)
{
        char upper[PATH_MAX], work[PATH_MAX], merged[PATH_MAX];
        bundle_path(rt, id, "upper", upper, sizeof upper);
        bundle_path(rt, id, "work", work, sizeof work);
        bundle_path(rt, id, "rootfs", merged, sizeof merged);
        const char *dirs[] = {upper, work, merged};
        for (size_t i = 0; i < 3; i++)
                if (mkdir(dirs[i], 0755) < 0 && errno != EEXIST)
                        return lcd_error_set(err, LCD_E_INTERNAL, "mkdir %s: %s", dirs[i], strerror(errno));
        char opts[3 * PATH_MAX + 64];
        int n = snprintf(opts, sizeof opts, "lowerdir=%s/rootfs,upperdir=%s,workdir=%s,userxattr", rootdir, upper,
                         work);
        if (n < 0 || (size_t)n >= sizeof opts || n >= 4000)
                return lcd_error_set(err, LCD_E_INTERNAL, "overlay options too long (data dir path too long)");
        if (rt->no_mounts)
                return 0;
        if (mount("overlay", merged, "overlay", MS_NODEV, opts) == 0)
                return 0;
        /* as real root (no user namespace) userxattr is refused: without it */
        opts[n - strlen(",userxattr")] = '\0';
        if (mount("overlay", merged, "overlay", MS_NODEV, opts) == 0)
                return 0;
        return lcd_error_set(err, LCD_E_INTERNAL, "mount the overlay on %s: %s", merged, strerror(errno));
}

int lcd_runtime_prepare(lcd_runtime_t *rt, const char *id, const lcd_image_t *img, const lcd_bundle_spec_t *spec,
                        const lcd_net_spec_t *net, char ***argv, lcd_error_t **err)
{
        char rootdir[PATH_MAX], bundle[PATH_MAX], template[PATH_MAX + 16], config[PATH_MAX + 16], ns[PATH_MAX];
        if (lcd_roots_hold(rt->roots, img, rootdir, sizeof rootdir, err) < 0)
                return LCD_ERR;
        bundle_path(rt, id, NULL, bundle, sizeof bundle);
        int r = 0;
        if (mkdir(bundle, 0700) < 0)
                r = lcd_error_set(err, LCD_E_INTERNAL, "mkdir %s: %s", bundle, strerror(errno));
        if (r == 0)
                r = mount_overlay(rt, id, rootdir, err);
        if (r == 0)
                r = lcd_network_write_files(bundle, net, err);
        snprintf(template, sizeof template, "%s/config.json", rootdir);
        bundle_path(rt, id, "config.json", config, sizeof config);
        lcd_network_ns_path(rt->netns_dir, net->join_id ? net->join_id : id, ns, sizeof ns);
        lcd_bundle_spec_t full = *spec;
        full.network = net->mode;
        full.netns_path = ns;
        full.hostname = net->hostname;
        full.files_dir = bundle;
        if (r == 0)
                r = lcd_spec_write(config, template, id, rt->cg, &full, argv, err);
        lcd_roots_leave(rt->roots, img->digest);
        if (r < 0) {
                unmount_rootfs(rt, id);
                lcd_rmtree(bundle);
        }
        return r;
}

int lcd_runtime_create(lcd_runtime_t *rt, const char *id, const char *name, const lcd_net_spec_t *net, unsigned io,
                       int *pid, lcd_error_t **err)
{
        lcd_network_pending_t np;
        if (lcd_network_begin(&rt->net_env, id, net, &np, err) < 0) {
                if (net->spare == LCD_SPARE_STARTING) { /* settle it with the refill, then take it down for good */
                        lcd_runtime_settle_spare(rt, id);
                        lcd_network_down(&rt->net_env, id);
                }
                return LCD_ERR;
        }
        char bundle[PATH_MAX], log[PATH_MAX];
        bundle_path(rt, id, NULL, bundle, sizeof bundle);
        bundle_path(rt, id, "ctr.log", log, sizeof log);
        lcd_conmon_opts_t o = {
                .id = id,
                .name = name,
                .bundle = bundle,
                .log_path = log,
                .crun_root = rt->crun_root,
                .exit_dir = rt->exit_dir,
                .sock_dir = rt->sock_dir,
                .log_max_bytes = rt->log_max_bytes,
                .shared_keyring = rt->shared_keyring,
                .tty = (io & LCD_IO_TTY) != 0,
                .stdin = (io & LCD_IO_STDIN) != 0,
                .runner = rt->runner,
                .timeout_ms = rt->timeout_ms,
        };
        int r = lcd_conmon_start(&o, pid, err);
        lcd_error_t *nerr = NULL;
        int nr = net->spare == LCD_SPARE_STARTING ? lcd_spares_wait(rt->spares, id, net, &nerr)
                                                  : lcd_network_end(&np, &nerr); /* before anything of it runs */
        if (r == 0 && nr < 0) {
                *err = nerr;
                nerr = NULL;
                lcd_runtime_reset(rt, id); /* the created container, without its network */
        }
        lcd_error_free(nerr);
        if (r < 0 || nr < 0) {
                lcd_network_down(&rt->net_env, id);
                return LCD_ERR;
        }
        return 0;
}

void lcd_runtime_net_down(lcd_runtime_t *rt, const char *id)
{
        lcd_network_down(&rt->net_env, id);
}

int lcd_runtime_net_address(lcd_runtime_t *rt, const char *id, char *buf, size_t len)
{
        char ns[PATH_MAX];
        lcd_network_ns_path(rt->netns_dir, id, ns, sizeof ns);
        return lcd_network_address(ns, buf, len);
}

pid_t lcd_runtime_net_pid(lcd_runtime_t *rt, const char *id)
{
        return lcd_network_pid(rt->netns_dir, id);
}

pid_t lcd_runtime_conmon_pid(lcd_runtime_t *rt, const char *id)
{
        char bundle[PATH_MAX];
        bundle_path(rt, id, NULL, bundle, sizeof bundle);
        return lcd_conmon_pid(bundle);
}

void lcd_runtime_reset(lcd_runtime_t *rt, const char *id)
{
        lcd_error_t *err = NULL;
        const char *args[] = {"delete", "--force", id, NULL};
        if (crun(rt, "delete", args, &err) < 0) {
                lcd_debug("crun delete %s: %s", id, err->msg);
                lcd_error_free(err);
        }
        char bundle[PATH_MAX];
        bundle_path(rt, id, NULL, bundle, sizeof bundle);
        lcd_conmon_kill(bundle, id);
        lcd_network_down(&rt->net_env, id);
}

int lcd_runtime_destroy(lcd_runtime_t *rt, const char *id, lcd_error_t **err)
{
        lcd_runtime_reset(rt, id);
        char cgpath[LCD_PATH_MAX + 80];
        lcd_cgroup_container_path(rt->cg, id, cgpath, sizeof cgpath);
        if (cgpath[0] != '\0') {
                int r = lcd_cgroup_kill_remove(cgpath, 5000);
                if (r < 0)
                        lcd_warn("remove cgroup %s: %s", cgpath, strerror(-r));
        }
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", rt->exit_dir, id);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s", rt->sock_dir, id); /* conmon leaves this link */
        unlink(path);
        unmount_rootfs(rt, id);
        bundle_path(rt, id, NULL, path, sizeof path);
        int r = lcd_rmtree(path);
        if (r < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "remove bundle %s: %s", path, strerror(-r));
        return 0;
}

int lcd_runtime_remove_root(lcd_runtime_t *rt, const char *digest)
{
        return lcd_roots_remove(rt->roots, digest);
}

void lcd_runtime_log_path(lcd_runtime_t *rt, const char *id, char *buf, size_t len)
{
        bundle_path(rt, id, "ctr.log", buf, len);
}

int lcd_runtime_exit_code(lcd_runtime_t *rt, const char *id, int *code)
{
        char path[PATH_MAX], buf[32];
        snprintf(path, sizeof path, "%s/%s", rt->exit_dir, id);
        ssize_t n = lcd_read_small(path, buf, sizeof buf);
        if (n <= 0)
                return -ENOENT;
        char *end;
        long v = strtol(buf, &end, 10);
        if (end == buf)
                return -ENOENT;
        *code = (int)v;
        return 0;
}

static bool is_id(const char *s)
{
        size_t i = 0;
        for (; s[i]; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return i == 64;
}

int lcd_runtime_clean_stale(lcd_runtime_t *rt)
{
        int n = 0;
        DIR *d = opendir(rt->bundles);
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL) {
                if (!is_id(de->d_name))
                        continue;
                lcd_error_t *err = NULL;
                if (lcd_runtime_destroy(rt, de->d_name, &err) < 0) {
                        lcd_warn("clean up %s: %s", de->d_name, err->msg);
                        lcd_error_free(err);
                }
                n++;
        }
        if (d != NULL)
                closedir(d);
        /* crun state of containers whose bundle is already gone */
        d = opendir(rt->crun_root);
        while (d != NULL && (de = readdir(d)) != NULL)
                if (is_id(de->d_name)) {
                        lcd_runtime_reset(rt, de->d_name);
                        n++;
                }
        if (d != NULL)
                closedir(d);
        n += lcd_network_clean_stale(rt->netns_dir); /* pastas and namespaces of containers already gone */
        /* a dead run's execs: their processes died with its containers */
        int r = lcd_rmtree(rt->exec_dir);
        if (r == 0)
                r = lcd_mkdir_p(rt->exec_dir, 0700);
        if (r < 0)
                lcd_warn("cannot empty %s: %s", rt->exec_dir, strerror(-r));
        n += lcd_cgroup_clean_stale(rt->cg);
        lcd_roots_clean_stale(rt->roots); /* image roots a dead run was unpacking */
        return n;
}

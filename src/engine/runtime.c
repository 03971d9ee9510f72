/* runtime.c - see runtime.h. The image roots are roots.c's, each
 * container's config.json is spec.c's; this file lays out bundles, mounts
 * overlays, drives crun and conmon and sweeps what a dead run left.
 */
#include "runtime.h"

#include "roots.h"
#include "spec.h"

#include "lcd/alloc.h"
#include "lcd/fsutil.h"
#include "lcd/jsonwrite.h"
#include "lcd/ident.h"
#include "lcd/log.h"
#include "lcd/strv.h"
#include "lcd/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct lcd_runtime {
        char bundles[PATH_MAX]; /* <data>/containers */
        char crun_root[PATH_MAX];
        char exit_dir[PATH_MAX];
        char sock_dir[PATH_MAX];
        const lcd_cgroup_t *cg;
        const lcd_userns_t *ns;
        lcd_runner_t *runner;
        int timeout_ms;
        lcd_roots_t *roots;    /* <data>/roots: the unpacked images */
        bool no_overlay;       /* unit tests: rootfs stays an empty directory */
        bool shared_keyring;   /* conmon --no-new-keyring */
        int64_t log_max_bytes; /* conmon --log-size-max */
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
        const char *dirs[] = {rt->bundles, rt->crun_root, rt->exit_dir, rt->sock_dir};
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
        rt->no_overlay = o->no_overlay;
        rt->shared_keyring = o->shared_keyring;
        rt->log_max_bytes = o->log_max_bytes;
        rt->runner = o->runner;
        rt->timeout_ms = o->timeout_ms;
        return rt;
}

void lcd_runtime_free(lcd_runtime_t *rt)
{
        if (rt == NULL)
                return;
        lcd_roots_free(rt->roots);
        lcd_free(rt);
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
        if (rt->no_overlay)
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
                        char ***argv, lcd_error_t **err)
{
        char rootdir[PATH_MAX], bundle[PATH_MAX], template[PATH_MAX + 16], config[PATH_MAX + 16];
        if (lcd_roots_hold(rt->roots, img, rootdir, sizeof rootdir, err) < 0)
                return LCD_ERR;
        bundle_path(rt, id, NULL, bundle, sizeof bundle);
        int r = 0;
        if (mkdir(bundle, 0700) < 0)
                r = lcd_error_set(err, LCD_E_INTERNAL, "mkdir %s: %s", bundle, strerror(errno));
        if (r == 0)
                r = mount_overlay(rt, id, rootdir, err);
        snprintf(template, sizeof template, "%s/config.json", rootdir);
        bundle_path(rt, id, "config.json", config, sizeof config);
        if (r == 0)
                r = lcd_spec_write(config, template, id, rt->cg, spec, argv, err);
        lcd_roots_leave(rt->roots, img->digest);
        if (r < 0) {
                unmount_rootfs(rt, id);
                lcd_rmtree(bundle);
        }
        return r;
}

/* Read conmon's sync-pipe message {"data": pid} or {"data": -1, "message": ...}. */
static int read_sync(int fd, int timeout_ms, int *pid, char *msg, size_t msglen)
{
        char buf[4096];
        size_t got = 0;
        int64_t deadline = lcd_now_ms() + timeout_ms;
        msg[0] = '\0';
        for (;;) {
                int64_t left = deadline - lcd_now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int n = poll(&p, 1, (int)left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n == 0 ? -ETIMEDOUT : -errno;
                ssize_t rd = read(fd, buf + got, sizeof buf - 1 - got);
                if (rd < 0 && errno == EINTR)
                        continue;
                if (rd <= 0)
                        break;
                got += (size_t)rd;
                buf[got] = '\0';
                json_object *o = json_tokener_parse(buf);
                if (o != NULL) {
                        json_object *d = NULL, *m = NULL;
                        int r = -EPROTO;
                        if (json_object_object_get_ex(o, "data", &d)) {
                                *pid = json_object_get_int(d);
                                r = 0;
                        }
                        if (json_object_object_get_ex(o, "message", &m))
                                snprintf(msg, msglen, "%s", json_object_get_string(m));
                        json_object_put(o);
                        return r;
                }
                if (got == sizeof buf - 1)
                        break;
        }
        return -EPIPE;
}

int lcd_runtime_create(lcd_runtime_t *rt, const char *id, const char *name, int *pid, lcd_error_t **err)
{
        char crun_path[PATH_MAX];
        if (lcd_find_on_path("crun", crun_path, sizeof crun_path) < 0)
                return lcd_error_tool(err, "crun", NULL, "crun not found on PATH");
        char bundle[PATH_MAX], pidfile[PATH_MAX], cpidfile[PATH_MAX], log[PATH_MAX + 16], out[PATH_MAX];
        bundle_path(rt, id, NULL, bundle, sizeof bundle);
        bundle_path(rt, id, "pidfile", pidfile, sizeof pidfile);
        bundle_path(rt, id, "conmon.pid", cpidfile, sizeof cpidfile);
        bundle_path(rt, id, "conmon.log", out, sizeof out);
        snprintf(log, sizeof log, "k8s-file:%s/%s/ctr.log", rt->bundles, id);
        char exit_file[PATH_MAX], logmax[32];
        snprintf(exit_file, sizeof exit_file, "%s/%s", rt->exit_dir, id);
        snprintf(logmax, sizeof logmax, "%lld", (long long)rt->log_max_bytes);
        unlink(exit_file);
        unlink(out);
        const char *argv[] = {"conmon",
                              "--api-version",
                              "1",
                              "-c",
                              id,
                              "-u",
                              id,
                              "-n",
                              name,
                              "-r",
                              crun_path,
                              "-b",
                              bundle,
                              "-p",
                              pidfile,
                              "-P",
                              cpidfile,
                              "-l",
                              log,
                              "--exit-dir",
                              rt->exit_dir,
                              "--socket-dir-path",
                              rt->sock_dir,
                              "--runtime-arg",
                              "--root",
                              "--runtime-arg",
                              rt->crun_root,
                              "--runtime-arg",
                              "--cgroup-manager=cgroupfs",
                              "--log-level",
                              "warning",
                              "--log-size-max",
                              logmax,
                              NULL,
                              NULL};
        if (rt->shared_keyring)
                argv[sizeof argv / sizeof argv[0] - 2] = "--no-new-keyring";
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "pipe: %s", strerror(errno));
        static const char sync_env[] = "_OCI_SYNCPIPE=3";
        extern char **environ;
        size_t n = lcd_strv_len((const char *const *)environ);
        const char **envp = lcd_calloc(n + 2, sizeof *envp);
        if (envp == NULL) {
                close(pipefd[0]);
                close(pipefd[1]);
                return lcd_error_nomem(err);
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "_OCI_", 5) != 0 && strncmp(environ[i], "NOTIFY_SOCKET=", 14) != 0)
                        envp[k++] = environ[i];
        envp[k++] = sync_env;
        lcd_run_spec_t spec = {
                .argv = argv, .envp = envp, .timeout_ms = rt->timeout_ms, .output_path = out, .pass_fd = pipefd[1]};
        lcd_run_result_t res;
        int r = rt->runner->run(rt->runner, &spec, &res, err);
        lcd_run_result_clear(&res);
        lcd_free(envp);
        close(pipefd[1]);
        if (r < 0) {
                close(pipefd[0]);
                return lcd_error_wrap(err, "create");
        }
        char msg[1024];
        int cpid = -1;
        int s = res.status == 0 ? read_sync(pipefd[0], rt->timeout_ms, &cpid, msg, sizeof msg) : -EPIPE;
        close(pipefd[0]);
        if (s == 0 && cpid > 0) {
                *pid = cpid;
                return 0;
        }
        char tail[LCD_RUN_ERR_TAIL];
        ssize_t tn = lcd_read_small(out, tail, sizeof tail);
        if (tn < 0)
                tail[0] = '\0';
        if (msg[0] == '\0')
                snprintf(msg, sizeof msg, "%s",
                         s == -ETIMEDOUT ? "no answer from conmon in time" : "conmon reported no container pid");
        if (s == -ETIMEDOUT)
                return lcd_error_set(err, LCD_E_TIMEOUT, "create: %s", msg);
        if (strstr(msg, "keyring") != NULL && strstr(msg, "quota") != NULL) {
                size_t end = strcspn(msg, "\n");
                snprintf(msg + end, sizeof msg - end,
                         " (each container gets a session keyring and this user's key "
                         "quota is full: raise the sysctl kernel.keys.maxkeys, or start "
                         "the daemon with --no-new-keyring)");
        }
        return lcd_error_tool(err, "conmon", tail[0] ? tail : msg, "create: %s", msg);
}

pid_t lcd_runtime_conmon_pid(lcd_runtime_t *rt, const char *id)
{
        char path[PATH_MAX], buf[32];
        bundle_path(rt, id, "conmon.pid", path, sizeof path);
        if (lcd_read_small(path, buf, sizeof buf) <= 0)
                return -1;
        long pid = strtol(buf, NULL, 10);
        return pid > 1 && pid < INT_MAX ? (pid_t)pid : -1;
}

/* The daemon is a child subreaper: an orphaned conmon is our child and
 * must be reaped here (bounded wait); ECHILD when it is not ours. */
static void reap_if_ours(pid_t pid)
{
        int64_t deadline = lcd_now_ms() + 2000;
        for (;;) {
                pid_t w = waitpid(pid, NULL, WNOHANG);
                if (w == pid || (w < 0 && errno != EINTR) || lcd_now_ms() > deadline)
                        break;
                usleep(5 * 1000);
        }
}

/* Is pid a conmon of container id? (Its pid may have been reaped and
 * reused since the pid file was written.) */
static bool is_conmon_of(pid_t pid, const char *id)
{
        char path[64], cmd[4096];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        if (lcd_read_small(path, cmd, sizeof cmd) <= 0 || strncmp(cmd, "conmon", 6) != 0)
                return false;
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
        ssize_t n = lcd_read_small(path, cmd, sizeof cmd);
        for (ssize_t i = 0; i < n; i++) /* NUL-separated arguments: one of them is the id */
                if ((i == 0 || cmd[i - 1] == '\0') && strcmp(cmd + i, id) == 0)
                        return true;
        return false;
}

static void kill_conmon(lcd_runtime_t *rt, const char *id)
{
        pid_t pid = lcd_runtime_conmon_pid(rt, id);
        if (pid < 0)
                return;
        if (!is_conmon_of(pid, id))
                return; /* gone (the exit watcher reaps conmons as they end) */
        kill(pid, SIGKILL);
        reap_if_ours(pid);
}

void lcd_runtime_reset(lcd_runtime_t *rt, const char *id)
{
        lcd_error_t *err = NULL;
        const char *args[] = {"delete", "--force", id, NULL};
        if (crun(rt, "delete", args, &err) < 0) {
                lcd_debug("crun delete %s: %s", id, err->msg);
                lcd_error_free(err);
        }
        kill_conmon(rt, id);
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
        n += lcd_cgroup_clean_stale(rt->cg);
        lcd_roots_clean_stale(rt->roots); /* image roots a dead run was unpacking */
        return n;
}

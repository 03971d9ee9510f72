/* doctor.c - see doctor.h. */
#include "lcd/doctor.h"

#include "lcd/alloc.h"
#include "lcd/dirs.h"
#include "lcd/jsonwrite.h"
#include "lcd/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static lcd_check_t *add(lcd_check_t *out, size_t *n, const char *check, bool required)
{
        lcd_check_t *c = &out[(*n)++];
        memset(c, 0, sizeof *c);
        c->check = check;
        c->required = required;
        c->ok = true;
        return c;
}

static void fail(lcd_check_t *c, const char *fix, const char *fmt, const char *arg)
{
        c->ok = false;
        c->fix = fix;
        snprintf(c->detail, sizeof c->detail, fmt, arg);
}

static long read_long(const char *path)
{
        char buf[64];
        if (lcd_read_small(path, buf, sizeof buf) <= 0)
                return -1;
        return strtol(buf, NULL, 10);
}

static void check_userns(lcd_check_t *c)
{
        long max = read_long("/proc/sys/user/max_user_namespaces");
        long clone = read_long("/proc/sys/kernel/unprivileged_userns_clone"); /* Debian kernels only */
        if (max == 0 || clone == 0) {
                fail(c, "sudo sysctl -w user.max_user_namespaces=15000 kernel.unprivileged_userns_clone=1",
                     "unprivileged user namespaces are disabled%s", "");
                return;
        }
        snprintf(c->detail, sizeof c->detail, "enabled (max_user_namespaces %ld)", max);
}

/* Lines for this user in a subid file; the first range goes to start and count. */
static int subid_lines(const char *file, const char *user, uid_t uid, unsigned long *start, unsigned long *count)
{
        FILE *f = fopen(file, "re");
        if (f == NULL)
                return -1;
        char line[512], idstr[32];
        snprintf(idstr, sizeof idstr, "%u", (unsigned)uid);
        int n = 0;
        while (fgets(line, sizeof line, f) != NULL) {
                char *save = NULL, *who = strtok_r(line, ":", &save), *s = strtok_r(NULL, ":", &save),
                     *k = strtok_r(NULL, ":\n", &save);
                if (who == NULL || s == NULL || k == NULL)
                        continue;
                if ((user != NULL && strcmp(who, user) == 0) || strcmp(who, idstr) == 0) {
                        if (n++ == 0) {
                                *start = strtoul(s, NULL, 10);
                                *count = strtoul(k, NULL, 10);
                        }
                }
        }
        fclose(f);
        return n;
}

static void check_subid(lcd_check_t *c, const char *file, const char *user, uid_t uid)
{
        static const char fix[] = "sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER "
                                  "(one range of at least 65536 ids per file)";
        unsigned long start = 0, count = 0;
        int n = subid_lines(file, user, uid, &start, &count);
        if (n <= 0) {
                fail(c, fix, "no range for this user in %s: containers get a single-id mapping", file);
                return;
        }
        if (n > 1) {
                fail(c, fix, "more than one line for this user in %s", file);
                return;
        }
        if (count < 65536) {
                snprintf(c->detail, sizeof c->detail, "%s: %lu ids from %lu, fewer than 65536", file, count, start);
                c->ok = false;
                c->fix = fix;
                return;
        }
        snprintf(c->detail, sizeof c->detail, "%lu ids from %lu", count, start);
}

static void check_setuid_tool(lcd_check_t *c, const char *tool)
{
        char path[PATH_MAX];
        struct stat st;
        if (lcd_find_on_path(tool, path, sizeof path) < 0 || stat(path, &st) < 0) {
                fail(c, "sudo apt-get install uidmap", "%s not found on PATH", tool);
                return;
        }
        bool setuid = (st.st_mode & S_ISUID) && st.st_uid == 0;
        bool caps = getxattr(path, "security.capability", NULL, 0) > 0;
        if (!setuid && !caps) {
                c->ok = false;
                c->fix = "sudo chmod u+s (or setcap cap_setuid+ep / cap_setgid+ep) on newuidmap and newgidmap";
                snprintf(c->detail, sizeof c->detail, "%s is neither setuid root nor has file capabilities", path);
                return;
        }
        snprintf(c->detail, sizeof c->detail, "%s (%s)", path, setuid ? "setuid" : "file capabilities");
}

static void check_cgroup(lcd_check_t *v2, lcd_check_t *deleg)
{
        static const char fix_v2[] = "boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2 only)";
        static const char fix_deleg[] = "run the daemon in a delegated cgroup: systemd-run --user "
                                        "--property=Delegate=yes light-containerd (or Delegate=yes in its unit)";
        struct statfs sfs;
        if (statfs("/sys/fs/cgroup", &sfs) != 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
                fail(v2, fix_v2, "/sys/fs/cgroup is not cgroup v2 (v1 or hybrid)%s", "");
                fail(deleg, fix_deleg, "no cgroup v2: pause/resume and stats are unavailable%s", "");
                return;
        }
        snprintf(v2->detail, sizeof v2->detail, "unified cgroup v2");
        char line[4096] = "", own[4096] = "", path[4200];
        FILE *f = fopen("/proc/self/cgroup", "re");
        while (f != NULL && fgets(line, sizeof line, f) != NULL)
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        snprintf(own, sizeof own, "%s", line + 3);
                }
        if (f != NULL)
                fclose(f);
        /* like the daemon: a leaf named "daemon" means its parent */
        char *base = strrchr(own, '/');
        if (base != NULL && strcmp(base, "/daemon") == 0) {
                snprintf(path, sizeof path, "/sys/fs/cgroup%.*s/cgroup.subtree_control", (int)(base - own), own);
                if (access(path, W_OK) == 0)
                        *base = '\0';
        }
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/cgroup.subtree_control", own);
        if (access(path, W_OK) != 0) {
                fail(deleg, fix_deleg, "cgroup %s is not delegated to this user: pause/resume are unsupported",
                     own[0] ? own : "/");
                return;
        }
        char ctrl[256] = "";
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/cgroup.controllers", own);
        if (lcd_read_small(path, ctrl, sizeof ctrl) > 0)
                ctrl[strcspn(ctrl, "\n")] = '\0';
        snprintf(deleg->detail, sizeof deleg->detail, "%s, controllers: %s", own[0] ? own : "/",
                 ctrl[0] ? ctrl : "(none)");
}

static void check_tool(lcd_check_t *c, lcd_runner_t *runner, const char *tool)
{
        const char *argv[] = {tool, "--version", NULL};
        lcd_run_spec_t spec = {.argv = argv, .timeout_ms = 5000, .pass_fd = -1, .out_cap = 4096};
        lcd_run_result_t res;
        lcd_error_t *err = NULL;
        if (runner->run(runner, &spec, &res, &err) == 0 && res.status == 0) {
                const char *text = res.out_len ? res.out : res.err;
                snprintf(c->detail, sizeof c->detail, "%.*s", (int)strcspn(text, "\n"), text);
        } else {
                fail(c, "sudo apt-get install crun conmon skopeo umoci (Debian/Ubuntu package names)", "%s",
                     err ? err->msg : "--version failed");
        }
        lcd_error_free(err);
        lcd_run_result_clear(&res);
}

/* pasta: the private network (the default) needs it, none and host do not. */
static void check_pasta(lcd_check_t *c, lcd_runner_t *runner)
{
        const char *argv[] = {"pasta", "--version", NULL};
        lcd_run_spec_t spec = {.argv = argv, .timeout_ms = 5000, .pass_fd = -1, .out_cap = 4096};
        lcd_run_result_t res;
        lcd_error_t *err = NULL;
        if (runner->run(runner, &spec, &res, &err) == 0 && res.status == 0)
                snprintf(c->detail, sizeof c->detail, "%.*s (private networks and published ports)",
                         (int)strcspn(res.out, "\n"), res.out);
        else
                fail(c, "sudo apt-get install passt (or create containers with network \"host\" or \"none\")",
                     "%s: the default private network cannot be made", err ? err->msg : "pasta --version failed");
        lcd_error_free(err);
        lcd_run_result_clear(&res);
}

/* pasta opens /dev/net/tun as the daemon's user. */
static void check_tun(lcd_check_t *c)
{
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
                close(fd);
                snprintf(c->detail, sizeof c->detail, "/dev/net/tun can be opened%s", "");
                return;
        }
        if (errno == ENOENT)
                fail(c, "sudo modprobe tun", "/dev/net/tun is missing: %s", "pasta cannot make private networks");
        else
                fail(c,
                     "sudo chmod 0666 /dev/net/tun (as Debian's udev sets it), or a udev rule: KERNEL==\"tun\", "
                     "MODE=\"0666\"",
                     "/dev/net/tun: %s: pasta fails with \"Failed to open tun socket in namespace\"", strerror(errno));
}

/* Where AppArmor confines pasta, its profile allows network namespaces
 * only under /run/user/<uid>/netns and /proc/<pid>/ns/net. */
static void check_apparmor(lcd_check_t *c)
{
        char text[16384];
        ssize_t n = lcd_read_small("/sys/kernel/security/apparmor/profiles", text, sizeof text);
        bool confined = false;
        for (char *save = NULL, *line = n > 0 ? strtok_r(text, "\n", &save) : NULL; line != NULL && !confined;
             line = strtok_r(NULL, "\n", &save))
                confined = (strncmp(line, "pasta ", 6) == 0 || strncmp(line, "passt ", 6) == 0 ||
                            strstr(line, "/usr/bin/pasta ") != NULL || strstr(line, "/usr/bin/passt ") != NULL) &&
                           strstr(line, "(enforce)") != NULL;
        if (!confined) {
                snprintf(c->detail, sizeof c->detail, "pasta is not confined by AppArmor%s", n > 0 ? "" : " (none)");
                return;
        }
        fail(c,
             "allow the daemon's namespaces in a local rule: echo '@{run}/user/@{uid}/light-containerd/netns/* rw,' "
             "| sudo tee -a /etc/apparmor.d/local/usr.bin.passt && sudo apparmor_parser -r "
             "/etc/apparmor.d/usr.bin.passt",
             "pasta is confined by AppArmor (%s): its profile may refuse the daemon's namespaces under "
             "<runtime-dir>/netns",
             "enforce");
}

static void check_runtime_dir(lcd_check_t *c)
{
        static const char fix[] = "log in through a session manager (pam_systemd) that creates "
                                  "/run/user/$UID, or give --runtime-dir";
        const char *dir = getenv("XDG_RUNTIME_DIR");
        struct stat st;
        if (dir == NULL || dir[0] != '/') {
                fail(c, fix, "XDG_RUNTIME_DIR is not set: the daemon falls back to /tmp/light-containerd-<uid>%s", "");
                return;
        }
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() || access(dir, W_OK) != 0) {
                fail(c, fix, "%s is not a directory this user owns and can write", dir);
                return;
        }
        snprintf(c->detail, sizeof c->detail, "%s", dir);
}

/* The default runtime and data dirs, where they exist: owned by this user
 * and closed to others, or the daemon refuses to start (dirs.h). */
static void check_private_dirs(lcd_check_t *c)
{
        char rt[PATH_MAX], data[PATH_MAX];
        bool fallback;
        const char *paths[2] = {NULL, NULL};
        if (lcd_dirs_runtime_default(rt, sizeof rt, &fallback) == 0)
                paths[0] = rt;
        if (lcd_dirs_data_default(data, sizeof data) == 0)
                paths[1] = data;
        for (int i = 0; i < 2; i++) {
                lcd_error_t *err = NULL;
                if (paths[i] != NULL && lcd_dir_private(paths[i], false, &err) == LCD_ERR) {
                        fail(c,
                             "remove the directory (as its owner or root) or start the daemon with --runtime-dir / "
                             "--data-dir elsewhere",
                             "%s", err->msg);
                        lcd_error_free(err);
                        return;
                }
        }
        snprintf(c->detail, sizeof c->detail, "%s and %s: this user's only (or not created yet)",
                 paths[0] ? paths[0] : "?", paths[1] ? paths[1] : "?");
}

size_t lcd_doctor_run(lcd_runner_t *runner, lcd_check_t *out)
{
        size_t n = 0;
        uid_t uid = getuid();
        char pwbuf[1024];
        struct passwd pw, *pwp = NULL;
        getpwuid_r(uid, &pw, pwbuf, sizeof pwbuf, &pwp);
        const char *user = pwp ? pwp->pw_name : NULL;
        lcd_check_t *c = add(out, &n, "user", true);
        if (uid == 0)
                fail(c, "run it as the unprivileged user who will own the containers", "running as root: %s",
                     "light-containerd is rootless");
        else
                snprintf(c->detail, sizeof c->detail, "%s (uid %u)", user ? user : "?", (unsigned)uid);
        check_userns(add(out, &n, "userns", true));
        check_subid(add(out, &n, "subuid", false), "/etc/subuid", user, uid);
        check_subid(add(out, &n, "subgid", false), "/etc/subgid", user, uid);
        check_setuid_tool(add(out, &n, "newuidmap", false), "newuidmap");
        check_setuid_tool(add(out, &n, "newgidmap", false), "newgidmap");
        lcd_check_t *v2 = add(out, &n, "cgroup2", false);
        check_cgroup(v2, add(out, &n, "cgroup-delegation", false));
        static const char *const tools[] = {"skopeo", "umoci", "crun", "conmon"};
        for (size_t i = 0; i < 4; i++)
                check_tool(add(out, &n, tools[i], true), runner, tools[i]);
        check_pasta(add(out, &n, "pasta", false), runner);
        check_tun(add(out, &n, "tun", false));
        check_apparmor(add(out, &n, "apparmor", false));
        check_runtime_dir(add(out, &n, "runtime-dir", false));
        check_private_dirs(add(out, &n, "private-dirs", true));
        return n;
}

json_object *lcd_doctor_json(const lcd_check_t *c, size_t n)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; a != NULL && i < n; i++) {
                json_object *o = json_object_new_object();
                int rc = 0;
                rc |= lcd_json_set(o, "check", json_object_new_string(c[i].check));
                rc |= lcd_json_set(o, "ok", json_object_new_boolean(c[i].ok));
                rc |= lcd_json_set(o, "required", json_object_new_boolean(c[i].required));
                rc |= lcd_json_set(o, "detail", json_object_new_string(c[i].detail));
                rc |= lcd_json_set_str(o, "fix", c[i].fix);
                if (rc != 0)
                        json_object_put(o);
                if (rc != 0 || lcd_json_append(a, o) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

int lcd_doctor_print(const lcd_check_t *c, size_t n)
{
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
                const char *mark = c[i].ok ? "ok  " : c[i].required ? "FAIL" : "warn";
                printf("%s %-18s %s\n", mark, c[i].check, c[i].detail);
                if (!c[i].ok)
                        printf("     %-18s fix: %s\n", "", c[i].fix);
                bad |= !c[i].ok && c[i].required;
        }
        printf(bad ? "\nrootless containers cannot run here until the FAIL lines are fixed\n"
                   : "\nready for rootless containers\n");
        return bad;
}

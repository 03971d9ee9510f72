/* userns.c - see userns.h. Main thread, before any other thread exists. */
#include "lcd/userns.h"

#include "lcd/fsutil.h"
#include "lcd/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

/* "<user>:<start>:<count>" or "<uid>:..." with count >= LCD_SUBID_SIZE - 1. */
static unsigned long find_subid(const char *file, const char *user, unsigned long id)
{
        FILE *f = fopen(file, "re");
        if (f == NULL)
                return 0;
        char line[512], idstr[32];
        snprintf(idstr, sizeof idstr, "%lu", id);
        unsigned long start = 0;
        while (start == 0 && fgets(line, sizeof line, f) != NULL) {
                char *save = NULL;
                char *who = strtok_r(line, ":", &save), *s = strtok_r(NULL, ":", &save),
                     *n = strtok_r(NULL, ":\n", &save);
                if (who == NULL || s == NULL || n == NULL)
                        continue;
                if (((user != NULL && strcmp(who, user) == 0) || strcmp(who, idstr) == 0) &&
                    strtoul(n, NULL, 10) >= LCD_SUBID_SIZE - 1)
                        start = strtoul(s, NULL, 10);
        }
        fclose(f);
        return start;
}

/* Run tool with argv and wait; the exit status or -errno. (A child of a
 * single-threaded process: fork + exec is fine here.) */
static int run_wait(const char *path, char *const argv[])
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                execv(path, argv);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The helper, outside the new namespace: wait for the go byte, map the
 * parent with newuidmap/newgidmap, report one status byte. */
static void helper_main(pid_t parent, int go_fd, int done_fd, const lcd_userns_t *ns, const char *uidmap,
                        const char *gidmap)
{
        char c, pid[32], id[32], sub[32], size[32];
        if (read(go_fd, &c, 1) != 1)
                _exit(1);
        snprintf(pid, sizeof pid, "%d", (int)parent);
        snprintf(size, sizeof size, "%d", LCD_SUBID_SIZE - 1);
        snprintf(id, sizeof id, "%u", (unsigned)ns->host_uid);
        snprintf(sub, sizeof sub, "%lu", ns->subuid);
        char *uargv[] = {(char *)"newuidmap", pid, (char *)"0", id, (char *)"1", (char *)"1", sub, size, NULL};
        int r = run_wait(uidmap, uargv);
        if (r == 0) {
                snprintf(id, sizeof id, "%u", (unsigned)ns->host_gid);
                snprintf(sub, sizeof sub, "%lu", ns->subgid);
                char *gargv[] = {(char *)"newgidmap", pid, (char *)"0", id, (char *)"1", (char *)"1", sub, size, NULL};
                r = run_wait(gidmap, gargv) == 0 ? 0 : 2;
        } else {
                r = 1;
        }
        c = (char)r;
        if (write(done_fd, &c, 1) != 1)
                _exit(3);
        _exit(0);
}

static int enter_full(lcd_userns_t *ns, lcd_error_t **err)
{
        char uidmap[PATH_MAX], gidmap[PATH_MAX];
        if (lcd_find_on_path("newuidmap", uidmap, sizeof uidmap) < 0 ||
            lcd_find_on_path("newgidmap", gidmap, sizeof gidmap) < 0)
                return -ENOENT;
        int go[2], done[2];
        if (pipe2(go, O_CLOEXEC) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "pipe: %s", strerror(errno));
        if (pipe2(done, O_CLOEXEC) < 0) {
                close(go[0]);
                close(go[1]);
                return lcd_error_set(err, LCD_E_INTERNAL, "pipe: %s", strerror(errno));
        }
        pid_t parent = getpid();
        pid_t helper = fork();
        if (helper < 0) {
                int e = errno;
                close(go[0]), close(go[1]), close(done[0]), close(done[1]);
                return lcd_error_set(err, LCD_E_INTERNAL, "fork: %s", strerror(e));
        }
        if (helper == 0) {
                close(go[1]);
                close(done[0]);
                helper_main(parent, go[0], done[1], ns, uidmap, gidmap);
        }
        close(go[0]);
        close(done[1]);
        int rc = 0;
        char c = 0;
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
                rc = lcd_error_set(err, LCD_E_INTERNAL,
                                   "cannot create a user namespace: %s (are unprivileged user "
                                   "namespaces enabled?)",
                                   strerror(errno));
                close(go[1]); /* the helper reads EOF and exits */
        } else if (write(go[1], "g", 1) != 1 || read(done[0], &c, 1) != 1 || c != 0) {
                rc = lcd_error_set(err, LCD_E_INTERNAL,
                                   "%s failed to map the subordinate ids of uid %u (check /etc/subuid, /etc/subgid "
                                   "and that newuidmap/newgidmap are setuid)",
                                   c == 2 ? "newgidmap" : "newuidmap", (unsigned)ns->host_uid);
        }
        if (rc == 0)
                close(go[1]);
        close(done[0]);
        while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
                ;
        return rc;
}

static int enter_single(lcd_userns_t *ns, lcd_error_t **err)
{
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL,
                                     "cannot create a user namespace: %s (are unprivileged user namespaces enabled?)",
                                     strerror(errno));
        char map[64];
        int r = lcd_write_small("/proc/self/setgroups", "deny");
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)ns->host_uid);
        if (r == 0)
                r = lcd_write_small("/proc/self/uid_map", map);
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)ns->host_gid);
        if (r == 0)
                r = lcd_write_small("/proc/self/gid_map", map);
        if (r < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "write the user namespace's id map: %s", strerror(-r));
        return 0;
}

int lcd_userns_enter(lcd_userns_t *ns, lcd_error_t **err)
{
        memset(ns, 0, sizeof *ns);
        ns->host_uid = getuid();
        ns->host_gid = getgid();
        if (ns->host_uid == 0) {
                snprintf(ns->desc, sizeof ns->desc, "none (running as root)");
                return 0;
        }
        char pwbuf[1024];
        struct passwd pw, *pwp = NULL;
        getpwuid_r(ns->host_uid, &pw, pwbuf, sizeof pwbuf, &pwp);
        const char *user = pwp ? pwp->pw_name : NULL;
        ns->subuid = find_subid("/etc/subuid", user, ns->host_uid);
        ns->subgid = find_subid("/etc/subgid", user, ns->host_uid);
        int r = -ENOENT;
        if (ns->subuid && ns->subgid) {
                r = enter_full(ns, err);
                if (r == LCD_ERR)
                        return LCD_ERR;
        }
        if (r == -ENOENT) {
                lcd_warn("no subordinate id range for %s in /etc/subuid and /etc/subgid (or no newuidmap/newgidmap): "
                         "containers get a single-id mapping, only root exists inside them (see README)",
                         user ? user : "this user");
                ns->subuid = ns->subgid = 0;
                if (enter_single(ns, err) < 0)
                        return LCD_ERR;
        }
        ns->entered = true;
        ns->full = ns->subuid != 0;
        /* the containers tools (skopeo) would take uid 0 for real root and use
         * the system's paths (/var/lib/containers/...): tell them, as rootless
         * podman does, that this is a rootless user's namespace */
        char uid[32];
        snprintf(uid, sizeof uid, "%u", (unsigned)ns->host_uid);
        if (setenv("_CONTAINERS_USERNS_CONFIGURED", "1", 1) < 0 || setenv("_CONTAINERS_ROOTLESS_UID", uid, 1) < 0)
                return lcd_error_nomem(err);
        /* our mounts (overlays) stay ours, and the host's do not follow us */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "make mounts private: %s", strerror(errno));
        if (ns->full)
                snprintf(ns->desc, sizeof ns->desc, "0->%u, 1..%d->%lu (uid); 0->%u, 1..%d->%lu (gid)",
                         (unsigned)ns->host_uid, LCD_SUBID_SIZE - 1, ns->subuid, (unsigned)ns->host_gid,
                         LCD_SUBID_SIZE - 1, ns->subgid);
        else
                snprintf(ns->desc, sizeof ns->desc, "single: 0->%u (uid), 0->%u (gid)", (unsigned)ns->host_uid,
                         (unsigned)ns->host_gid);
        return 0;
}

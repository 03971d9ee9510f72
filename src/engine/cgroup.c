/* cgroup.c - see cgroup.h. Main thread at start-up, workers later (kill),
 * any thread for the statistics. */
#include "cgroup.h"

#include "lcd/compiler.h"
#include "lcd/fsutil.h"
#include "lcd/log.h"
#include "lcd/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static void abs_path(char *buf, size_t len, const char *rel, const char *leaf)
{
        snprintf(buf, len, "%s%s%s%s", LCD_CGROUP_ROOT, rel, leaf ? "/" : "", leaf ? leaf : "");
}

static bool owned(const char *rel)
{
        char p[LCD_PATH_MAX + 64];
        abs_path(p, sizeof p, rel, "cgroup.procs");
        if (access(p, W_OK) != 0)
                return false;
        abs_path(p, sizeof p, rel, "cgroup.subtree_control");
        return access(p, W_OK) == 0;
}

static void enable_controllers(const char *rel, char *enabled, size_t len)
{
        char p[LCD_PATH_MAX + 64], avail[256];
        abs_path(p, sizeof p, rel, "cgroup.controllers");
        if (lcd_read_small(p, avail, sizeof avail) < 0)
                return;
        abs_path(p, sizeof p, rel, "cgroup.subtree_control");
        enabled[0] = '\0';
        char *save = NULL;
        for (char *c = strtok_r(avail, " \n", &save); c != NULL; c = strtok_r(NULL, " \n", &save)) {
                char req[64];
                snprintf(req, sizeof req, "+%s", c);
                if (lcd_write_small(p, req) == 0) {
                        size_t n = strlen(enabled);
                        snprintf(enabled + n, len - n, "%s%s", n ? " " : "", c);
                }
        }
}

void lcd_cgroup_setup(lcd_cgroup_t *cg)
{
        memset(cg, 0, sizeof *cg);
        struct statfs sfs;
        if (statfs(LCD_CGROUP_ROOT, &sfs) != 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
                cg->version = 1;
                snprintf(cg->why, sizeof cg->why, "%s is not a cgroup v2 mount (cgroup v1 or hybrid host)",
                         LCD_CGROUP_ROOT);
                return;
        }
        cg->version = 2;
        FILE *f = fopen("/proc/self/cgroup", "re");
        char line[LCD_PATH_MAX + 16];
        while (f != NULL && fgets(line, sizeof line, f) != NULL)
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        snprintf(cg->own, sizeof cg->own, "%s", strcmp(line + 3, "/") == 0 ? "" : line + 3);
                }
        if (f != NULL)
                fclose(f);
        /* already in <own>/daemon? then <own> is the parent */
        const char *base = strrchr(cg->own, '/');
        if (base != NULL && strcmp(base, "/daemon") == 0) {
                char parent[LCD_PATH_MAX];
                snprintf(parent, sizeof parent, "%.*s", (int)(base - cg->own), cg->own);
                if (owned(parent))
                        snprintf(cg->own, sizeof cg->own, "%s", parent);
        }
        if (!owned(cg->own)) {
                snprintf(cg->why, sizeof cg->why,
                         "the daemon's cgroup %s is not delegated to uid %d (see README: Troubleshooting)",
                         cg->own[0] ? cg->own : "/", (int)getuid());
                return;
        }
        char p[LCD_PATH_MAX + 64];
        abs_path(p, sizeof p, cg->own, "daemon");
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                goto fail;
        abs_path(p, sizeof p, cg->own, "daemon/cgroup.procs");
        if (lcd_write_small(p, "0") < 0)
                goto fail;
        enable_controllers(cg->own, cg->controllers, sizeof cg->controllers);
        abs_path(p, sizeof p, cg->own, "containers");
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                goto fail;
        char rel[LCD_PATH_MAX + 16];
        snprintf(rel, sizeof rel, "%s/containers", cg->own);
        char sub[256];
        enable_controllers(rel, sub, sizeof sub);
        snprintf(cg->controllers, sizeof cg->controllers, "%s", sub);
        cg->delegated = true;
        return;
fail:
        snprintf(cg->why, sizeof cg->why, "cannot set up %s: %s", p, strerror(errno));
}

void lcd_cgroup_container_path(const lcd_cgroup_t *cg, const char *id, char *buf, size_t len)
{
        if (!cg->delegated)
                buf[0] = '\0';
        else
                snprintf(buf, len, "%s/containers/%s", cg->own, id);
}

int lcd_cgroup_each_pid(const char *procs_path, void (*fn)(long pid, void *arg), void *arg)
{
        int fd = open(procs_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        char buf[4096];
        size_t have = 0;
        for (;;) {
                ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = -errno;
                        close(fd);
                        return e;
                }
                have += (size_t)n;
                bool eof = n == 0;
                /* whole lines only, unless the file ended */
                size_t start = 0;
                for (size_t i = 0; i < have; i++) {
                        if (buf[i] != '\n' && !(eof && i + 1 == have))
                                continue;
                        char num[24];
                        size_t len = (buf[i] == '\n' ? i : i + 1) - start;
                        if (len > 0 && len < sizeof num) {
                                memcpy(num, buf + start, len);
                                num[len] = '\0';
                                char *end;
                                long pid = strtol(num, &end, 10);
                                if (*end == '\0' && pid > 0)
                                        fn(pid, arg);
                        }
                        start = i + 1;
                }
                memmove(buf, buf + start, have - start);
                have -= start;
                if (eof || have == sizeof buf - 1) /* ended, or a line longer than any pid */
                        break;
        }
        close(fd);
        return 0;
}

static void kill_pid(long pid, void *arg LCD_UNUSED)
{
        kill((pid_t)pid, SIGKILL);
}

int lcd_cgroup_kill_remove(const char *rel, int timeout_ms)
{
        char dir[LCD_PATH_MAX + 64], p[LCD_PATH_MAX + 64];
        abs_path(dir, sizeof dir, rel, NULL);
        if (access(dir, F_OK) != 0)
                return 0;
        /* nested cgroups (crun may create some) first */
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        char child[LCD_PATH_MAX + 64];
                        snprintf(child, sizeof child, "%s/%s", rel, de->d_name);
                        lcd_cgroup_kill_remove(child, timeout_ms);
                }
        if (d != NULL)
                closedir(d);
        abs_path(p, sizeof p, rel, "cgroup.kill");
        bool killed = lcd_write_small(p, "1") == 0;
        int64_t deadline = lcd_now_ms() + timeout_ms;
        for (;;) {
                if (!killed) { /* kernels before 5.14: one by one */
                        abs_path(p, sizeof p, rel, "cgroup.procs");
                        lcd_cgroup_each_pid(p, kill_pid, NULL);
                }
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY || lcd_now_ms() > deadline)
                        return -errno;
                usleep(10 * 1000);
        }
}

int lcd_cgroup_read_stat(const char *dir, const char *file, const char *key, long long *v)
{
        char path[LCD_PATH_MAX + 200], buf[4096];
        snprintf(path, sizeof path, "%s/%s", dir, file);
        if (lcd_read_small(path, buf, sizeof buf) <= 0)
                return -ENOENT;
        const char *p = buf;
        if (key != NULL) {
                size_t n = strlen(key);
                for (p = buf; p != NULL; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                        if (strncmp(p, key, n) == 0 && p[n] == ' ')
                                break;
                if (p == NULL)
                        return -ENOENT;
                p += n + 1;
        }
        char *end;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (errno != 0 || end == p)
                return -ENOENT;
        *v = x;
        return 0;
}

int lcd_cgroup_clean_stale(const lcd_cgroup_t *cg)
{
        if (!cg->delegated)
                return 0;
        char dir[LCD_PATH_MAX + 64];
        snprintf(dir, sizeof dir, "%s%s/containers", LCD_CGROUP_ROOT, cg->own);
        DIR *d = opendir(dir);
        if (d == NULL)
                return 0;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                char rel[LCD_PATH_MAX + 300];
                snprintf(rel, sizeof rel, "%s/containers/%s", cg->own, de->d_name);
                int r = lcd_cgroup_kill_remove(rel, 5000);
                if (r < 0)
                        lcd_warn("cannot remove stale cgroup %s: %s", rel, strerror(-r));
                n++;
        }
        closedir(d);
        return n;
}

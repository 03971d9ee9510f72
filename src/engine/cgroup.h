/* cgroup.h - the daemon's cgroup v2 subtree.
 *
 * DESIGN: at start-up (before any thread exists) the daemon reads its own
 * cgroup v2 path. When it owns that cgroup (delegated: it may write
 * cgroup.procs and cgroup.subtree_control), it moves itself into the leaf
 * <own>/daemon, enables the available controllers for its children, and
 * puts every container in <own>/containers/<id>. If it already runs in a
 * leaf called "daemon" under a delegated parent (a restart, or a harness
 * that placed it there), the parent is <own>. Without delegation,
 * containers still run but pause/resume are unsupported. Paths returned
 * are relative to the cgroup2 mount (leading '/'), as crun's cgroupsPath.
 */
#ifndef LCD_CGROUP_H
#define LCD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LCD_CGROUP_ROOT "/sys/fs/cgroup"
#define LCD_PATH_MAX 4096

typedef struct {
        int version; /* 2, or 1 for v1/hybrid hosts */
        bool delegated;
        char own[LCD_PATH_MAX]; /* "/user.slice/.../x" ("" when unknown) */
        char controllers[256];  /* enabled for containers, e.g. "cpu memory pids" */
        char why[256];          /* when not delegated: the reason */
} lcd_cgroup_t;

/* Detect and, when delegated, set up the subtree. Never fails: what it
 * finds is recorded in cg (why/delegated). */
void lcd_cgroup_setup(lcd_cgroup_t *cg);
/* "<own>/containers/<id>" into buf; "" when not delegated. */
void lcd_cgroup_container_path(const lcd_cgroup_t *cg, const char *id, char *buf, size_t len);
/* Kill every process in the cgroup (cgroup.kill, else one by one) and
 * remove it, waiting up to timeout_ms for it to empty. 0 or -errno. */
int lcd_cgroup_kill_remove(const char *rel_path, int timeout_ms);
/* Call fn for each pid listed in a cgroup.procs file (one per line), read
 * in bounded chunks: a number cut by a chunk's end is completed by the
 * next read, never taken as it is. 0 or -errno (the file cannot be read). */
int lcd_cgroup_each_pid(const char *procs_path, void (*fn)(long pid, void *arg), void *arg);
/* A number from `file` in the cgroup directory dir (absolute): the first
 * one, or with key the one after "key " at the start of a line (cpu.stat's
 * form). 0 with *v, or -ENOENT when the file, the key or the number is not
 * there. */
int lcd_cgroup_read_stat(const char *dir, const char *file, const char *key, long long *v);
/* Kill and remove every <own>/containers/<*> (a dead run's leftovers).
 * Returns how many were found. */
int lcd_cgroup_clean_stale(const lcd_cgroup_t *cg);

#endif

/* spec.h - a container's OCI runtime spec (spec.c). */
#ifndef LCD_SPEC_H
#define LCD_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "lcd/net.h"
#include "lcd/error.h"

/* What a create asks of the spec beyond the image's own. */
typedef struct {
        const char *const *cmd; /* NULL: the image's entrypoint + cmd */
        const char *const *env; /* extra KEY=VALUE, overriding the image's */
        const char *workdir;    /* NULL: the image's */
        int64_t memory_limit;   /* bytes, 0: none */
        int64_t pids_limit;     /* 0: none */
        lcd_net_mode_t network;
        const char *netns_path; /* private: the namespace to join */
        const char *hostname;
        const char *files_dir; /* holds hosts, resolv.conf, hostname (network.h): bound read-only into /etc */
        bool tty;              /* its process on a terminal (conmon's), TERM=xterm unless the image or env set it */
} lcd_bundle_spec_t;

/* Write path (config.json of container id) from the image's template:
 * the daemon's way of running containers plus spec's options, the
 * container's cgroup under cg. *argv_out gets the command that will run
 * (NULL-terminated, caller frees with lcd_strv_free). 0, or LCD_ERR with
 * err (invalid: the image has no command and spec gives none). */
int lcd_spec_write(const char *path, const char *template, const char *id, const lcd_cgroup_t *cg,
                   const lcd_bundle_spec_t *spec, char ***argv_out, lcd_error_t **err);

/* An exec's process: the container's own, with these replaced. */
typedef struct {
        const char *const *args; /* at least one */
        const char *const *env;  /* KEY=VALUE over the container's; may be NULL */
        const char *cwd;         /* NULL: the container's */
        bool has_user;           /* uid:gid replace the container's user (and its extra groups) */
        unsigned uid, gid;
        bool tty; /* a terminal, first 80x24 */
} lcd_exec_process_t;

/* Write an exec's process spec (crun exec --process) to path, from the
 * container's config.json at config. 0, or LCD_ERR with err. */
int lcd_spec_write_exec(const char *path, const char *config, const lcd_exec_process_t *x, lcd_error_t **err);

#endif

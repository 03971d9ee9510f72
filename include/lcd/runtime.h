/* runtime.h - the OCI runtime side: bundles, conmon and crun.
 *
 * DESIGN: everything that knows how a container is laid out on disk and
 * how crun and conmon are driven lives here, so that the next step
 * (one unpacked root per image, an overlay per container, a daemon user
 * namespace) changes only this module. A bundle is <data>/containers/<id>/
 * (config.json, rootfs, conmon's pid files, the k8s-file log); crun keeps
 * its state under <runtime>/crun; conmon writes exit codes to
 * <runtime>/exits/<id>. Workers call these functions; each blocks on tools
 * with the configured timeout. The id is always a validated hex id.
 */
#ifndef LCD_RUNTIME_H
#define LCD_RUNTIME_H

#include <stdbool.h>

#include "lcd/cgroup.h"
#include "lcd/error.h"
#include "lcd/runner.h"

typedef struct lcd_runtime lcd_runtime_t;

typedef struct {
        const char *const *cmd; /* NULL: the image's entrypoint + cmd */
        const char *const *env; /* extra KEY=VALUE, overriding the image's */
        const char *workdir;    /* NULL: the image's */
} lcd_bundle_spec_t;

lcd_runtime_t *lcd_runtime_new(const char *data_dir, const char *runtime_dir, const lcd_cgroup_t *cg,
                               lcd_runner_t *runner, int timeout_ms, lcd_error_t **err);
void lcd_runtime_free(lcd_runtime_t *rt);

/* "single" or "subuid" and a human description of the id mapping. */
const char *lcd_runtime_idmap(lcd_runtime_t *rt);
const char *lcd_runtime_exit_dir(lcd_runtime_t *rt);

/* Unpack the image (layout "<dir>:<ref>") into a new bundle and write its
 * config.json. *argv gets the command that will run (caller frees with
 * lcd_strv_free). Leaves nothing behind on failure. */
int lcd_runtime_prepare(lcd_runtime_t *rt, const char *id, const char *layout, const lcd_bundle_spec_t *spec,
                        char ***argv, lcd_error_t **err);
/* Create the container under conmon (crun create); *pid its init pid. */
int lcd_runtime_create(lcd_runtime_t *rt, const char *id, const char *name, int *pid, lcd_error_t **err);
int lcd_runtime_start(lcd_runtime_t *rt, const char *id, lcd_error_t **err);
int lcd_runtime_pause(lcd_runtime_t *rt, const char *id, lcd_error_t **err);
int lcd_runtime_resume(lcd_runtime_t *rt, const char *id, lcd_error_t **err);
int lcd_runtime_kill(lcd_runtime_t *rt, const char *id, int sig, lcd_error_t **err);
/* Forget the crun container and its conmon (the bundle stays): used
 * before a re-create of an exited container. Best effort. */
void lcd_runtime_reset(lcd_runtime_t *rt, const char *id);
/* Remove everything of the container: processes, crun state, cgroup,
 * conmon, exit file, bundle. Best effort; returns the first error. */
int lcd_runtime_destroy(lcd_runtime_t *rt, const char *id, lcd_error_t **err);
/* Exit code from conmon's exit file: 0 with *code, or -ENOENT. */
int lcd_runtime_exit_code(lcd_runtime_t *rt, const char *id, int *code);
/* Start-up: destroy every container a dead earlier run left behind.
 * Returns how many were found. */
int lcd_runtime_clean_stale(lcd_runtime_t *rt);

#endif

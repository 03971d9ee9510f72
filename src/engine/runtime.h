/* runtime.h - the OCI runtime side: image roots, overlays, bundles, conmon
 * and crun.
 *
 * DESIGN: everything that knows how a container is laid out on disk and
 * how crun and conmon are driven lives here, with three helpers: the image
 * roots (roots.h: each image unpacked once per manifest digest into
 * <data>/roots/<hex>/, rootfs + umoci's config.json as a template), the
 * spec writer (spec.h: that template rewritten for the container) and the
 * monitor (conmon.h: conmon started, which runs crun create, and killed)
 * and the network (network.h: a namespace and its pasta, up before crun
 * create, down at the exit).
 * A container's bundle, <data>/containers/<id>/, holds only its
 * config.json, its log, conmon's files and the overlay dirs: rootfs is a
 * kernel overlay mount (lower = the image root, upper/work = the
 * container's own), made in the daemon's private
 * mount namespace (userns.h), so create cost does not grow with the image.
 * crun keeps its state under <runtime>/crun; conmon writes exit codes to
 * <runtime>/exits/<id>; private networks live in <runtime>/netns. Workers call these functions; each blocks on tools
 * with the configured timeout. The id is always a validated hex id.
 */
#ifndef LCD_RUNTIME_H
#define LCD_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "network.h" /* lcd_net_spec_t */
#include "roots.h"   /* lcd_image_t */
#include "spec.h"    /* lcd_bundle_spec_t */
#include "lcd/error.h"
#include "lcd/events.h"
#include "lcd/runner.h"
#include "lcd/userns.h"

typedef struct lcd_runtime lcd_runtime_t;

typedef struct {
        const char *data_dir, *runtime_dir;
        const lcd_cgroup_t *cg;   /* borrowed; must outlive the runtime */
        const lcd_userns_t *ns;   /* borrowed; NULL: no user namespace was entered */
        lcd_runner_t *runner;     /* borrowed */
        int timeout_ms;           /* every tool run (an unpack gets 10x) */
        bool shared_keyring;      /* containers share the daemon's session keyring */
        int64_t log_max_bytes;    /* each container's log (conmon --log-size-max); > 0 */
        bool no_mounts;           /* unit tests: rootfs stays an empty directory, no network namespace */
        unsigned network_spares;  /* private networks kept ready (spare.h); 0: none */
        lcd_progress_fn progress; /* told when an image root is unpacked; may be NULL */
        void *progress_ctx;
} lcd_runtime_opts_t;

lcd_runtime_t *lcd_runtime_new(const lcd_runtime_opts_t *opts, lcd_error_t **err);
void lcd_runtime_free(lcd_runtime_t *rt);

const char *lcd_runtime_exit_dir(lcd_runtime_t *rt);
/* Where execs keep their files (<runtime>/exec), and crun's --root. */
const char *lcd_runtime_exec_dir(lcd_runtime_t *rt);
const char *lcd_runtime_crun_root(lcd_runtime_t *rt);
/* A file of container id's bundle (leaf NULL: the bundle itself). */
void lcd_runtime_bundle_file(lcd_runtime_t *rt, const char *id, const char *leaf, char *buf, size_t len);

/* Make the bundle: the image root for img->digest (unpacked from its
 * layout the first time, when the file system has room for twice its
 * compressed size: too_large otherwise), the overlay, config.json. *argv
 * gets the command that will run (caller frees with lcd_strv_free).
 * Leaves nothing of the container behind on failure. */
int lcd_runtime_prepare(lcd_runtime_t *rt, const char *id, const lcd_image_t *img, const lcd_bundle_spec_t *spec,
                        const lcd_net_spec_t *net, char ***argv, lcd_error_t **err);
#define LCD_IO_TTY 1u   /* the process on a terminal that conmon holds */
#define LCD_IO_STDIN 2u /* its stdin open for attached clients */

/* Bring up the container's network (network.h), then create the container
 * under conmon (crun create) with io (LCD_IO_ flags); *pid its init pid.
 * Nothing of the network is left on failure. */
int lcd_runtime_create(lcd_runtime_t *rt, const char *id, const char *name, const lcd_net_spec_t *net, unsigned io,
                       int *pid, lcd_error_t **err);
/* A ready private network (spare.h) for a create asking for mode and
 * host_loopback: its id into id (LCD_ID_LEN + 1), which the new container
 * takes as its own; false when that is not a spare's shape, none is ready
 * or there is no pool. Any thread. */
lcd_spare_t lcd_runtime_take_spare(lcd_runtime_t *rt, lcd_net_mode_t mode, bool host_loopback, char *id);
/* A create that took a spare LCD_SPARE_STARTING failed before
 * lcd_runtime_create: wait until the refill is done with it, so that
 * taking its network down takes all of it. Idempotent. Worker. */
void lcd_runtime_settle_spare(lcd_runtime_t *rt, const char *id);
/* Give back a spare a refused create took. */
void lcd_runtime_give_back_spare(lcd_runtime_t *rt, const char *id);
/* Spares ready, creates that found one and those that did not. */
void lcd_runtime_spare_counts(lcd_runtime_t *rt, unsigned *ready, uint64_t *taken, uint64_t *waited, uint64_t *missed);
/* The relay's connections and flows (relay.h). */
void lcd_runtime_relay_counts(lcd_runtime_t *rt, lcd_relay_counts_t *out);
/* The container's network goes with its exit: pasta killed, namespace
 * gone, ports free. Idempotent. */
void lcd_runtime_net_down(lcd_runtime_t *rt, const char *id);
/* Its private network's IPv4 address; 0 or -errno. */
int lcd_runtime_net_address(lcd_runtime_t *rt, const char *id, char *buf, size_t len);
/* Its pasta's pid (from its pid file); -1 without one. */
pid_t lcd_runtime_net_pid(lcd_runtime_t *rt, const char *id);
int lcd_runtime_start(lcd_runtime_t *rt, const char *id, lcd_error_t **err);
int lcd_runtime_pause(lcd_runtime_t *rt, const char *id, lcd_error_t **err);
int lcd_runtime_resume(lcd_runtime_t *rt, const char *id, lcd_error_t **err);
int lcd_runtime_kill(lcd_runtime_t *rt, const char *id, int sig, lcd_error_t **err);
/* Forget the crun container and its conmon (the bundle stays): used
 * before a re-create of an exited container. Best effort. */
void lcd_runtime_reset(lcd_runtime_t *rt, const char *id);
/* Remove everything of the container: processes, crun state, cgroup,
 * conmon, exit file, overlay mount, bundle. Best effort; returns the first
 * error. */
int lcd_runtime_destroy(lcd_runtime_t *rt, const char *id, lcd_error_t **err);
/* Delete the image root of digest (waits for creates using it). 0 or
 * -errno; absent is fine. The caller knows no container uses it. */
int lcd_runtime_remove_root(lcd_runtime_t *rt, const char *digest);
/* The container's k8s-file log ("<bundle>/ctr.log") into buf. */
void lcd_runtime_log_path(lcd_runtime_t *rt, const char *id, char *buf, size_t len);
/* The pid of the container's conmon (from its pid file), or -1. */
pid_t lcd_runtime_conmon_pid(lcd_runtime_t *rt, const char *id);
/* Exit code from conmon's exit file: 0 with *code, or -ENOENT. */
int lcd_runtime_exit_code(lcd_runtime_t *rt, const char *id, int *code);
/* Start-up: destroy every container a dead earlier run left behind, and
 * half-unpacked image roots. Returns how many containers were found. */
int lcd_runtime_clean_stale(lcd_runtime_t *rt);

#endif

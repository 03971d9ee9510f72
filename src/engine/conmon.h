/* conmon.h - a container's monitor: conmon started for it, its pid, and
 * killing it (conmon.c).
 *
 * DESIGN: conmon (podman's container monitor) runs `crun create` for one
 * container, then stays as that container's parent: it writes the
 * container's output to its k8s-file log, its exit code to
 * <exit_dir>/<id> (which the exit watcher reads) and serves its output
 * to attached clients (attach.h): the SOCK_SEQPACKET socket `attach` and
 * the fifo `ctl` in the bundle (sock_dir/<id> links to the bundle). With
 * tty it holds the container's terminal (crun sends it the master); with
 * stdin what clients write reaches the container's stdin, which closes
 * when a client leaves -- but for a terminal, whose input stays open for
 * the next (--leave-stdin-open). lcd_conmon_start() runs it through the tool
 * runner with a sync pipe (_OCI_SYNCPIPE) and waits, bounded by
 * timeout_ms, for the pid of the container's init or conmon's error; the
 * daemon's own _OCI_* and NOTIFY_SOCKET variables are not passed on.
 * Conmon keeps its files in the container's bundle: pidfile (crun's pid
 * file of the container), conmon.pid (its own) and conmon.log (its
 * output, whose tail an error carries). Workers start and kill; the exit
 * watcher reads the pid.
 */
#ifndef LCD_CONMON_H
#define LCD_CONMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lcd/error.h"
#include "lcd/runner.h"

/* One container's conmon. Every string is borrowed for the call. */
typedef struct {
        const char *id;        /* the container's hex id (conmon -c and -u) */
        const char *name;      /* conmon -n: a name for humans */
        const char *bundle;    /* the container's bundle directory: conmon's files go there */
        const char *log_path;  /* the container's k8s-file log */
        const char *crun_root; /* crun --root */
        const char *exit_dir;  /* conmon writes <exit_dir>/<id> when the container ends */
        const char *sock_dir;  /* conmon --socket-dir-path */
        int64_t log_max_bytes; /* conmon --log-size-max; > 0 */
        bool shared_keyring;   /* conmon --no-new-keyring */
        bool tty;              /* conmon -t: it holds the container's terminal */
        bool stdin;            /* conmon -i: attached clients write the container's stdin */
        lcd_runner_t *runner;  /* borrowed */
        int timeout_ms;        /* conmon's start and its answer, each */
} lcd_conmon_opts_t;

/* Start conmon, which runs `crun create` (crun from $PATH); an earlier
 * exit file of the container is removed first. 0 with *pid the
 * container's init pid, or LCD_ERR with err (tool_failed with conmon's
 * output, timeout). Workers. */
int lcd_conmon_start(const lcd_conmon_opts_t *o, int *pid, lcd_error_t **err);
/* The pid of the conmon whose files are in bundle (its conmon.pid), or -1. */
pid_t lcd_conmon_pid(const char *bundle);
/* SIGKILL the conmon of container id whose files are in bundle, if it
 * still runs (checked by its name and arguments: the pid may have been
 * reused), and reap it when it is the daemon's child (bounded wait).
 * Best effort. Workers. */
void lcd_conmon_kill(const char *bundle, const char *id);

#endif

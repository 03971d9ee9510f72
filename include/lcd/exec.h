/* exec.h - a process run in a running container (docker's exec), for the
 * API's streams.
 *
 * DESIGN: the engine validates the request and counts it against
 * --max-execs on the service thread, then a worker writes the process's
 * spec (the container's own process with args, env, cwd, user and terminal
 * replaced), spawns `crun exec` in the foreground and hands back the
 * process's descriptors: stdin, stdout and stderr pipes, or a terminal's
 * master that crun sends over a console socket. crun is the process's
 * parent and exits with its status, so the exec's end is crun's end, seen
 * on a pidfd. From then on the exec belongs to the API's service thread,
 * which polls the descriptors and calls the functions here; none of them
 * blocks. The descriptors are the caller's to poll and close (lcd_exec_take_fd).
 * Events exec.started (on the worker) and exec.exited (lcd_exec_reap).
 */
#ifndef LCD_EXEC_H
#define LCD_EXEC_H

#include <stdbool.h>

#include "lcd/engine.h"
#include "lcd/error.h"

#define LCD_EXECS_DEFAULT 64 /* --max-execs */
#define LCD_EXEC_ID_LEN 32   /* hex digits */
#define LCD_EXEC_ARGS_MAX 256
#define LCD_EXEC_ENV_MAX 256

typedef struct {
        const char *name, *tag;
        const char *const *cmd; /* NULL-terminated, at least one */
        const char *const *env; /* KEY=VALUE, over the container's; may be NULL */
        const char *workdir;    /* absolute; NULL: the container's */
        const char *user;       /* "UID[:GID]"; NULL: the container's */
        bool tty;
        bool stdin; /* keep stdin open (else it is /dev/null) */
} lcd_exec_req_t;

typedef struct lcd_exec lcd_exec_t;

enum { LCD_EXEC_STDIN, LCD_EXEC_STDOUT, LCD_EXEC_STDERR, LCD_EXEC_PIDFD, LCD_EXEC__FDS };

/* The exec is running (x), or could not start (err, x NULL). A worker
 * thread. Ownership of x and err passes to the callee. */
typedef void (*lcd_exec_ready_fn)(void *ctx, lcd_exec_t *x, lcd_error_t *err);

/* Validate and queue: 0 (ready() follows), or LCD_ERR with err at once:
 * invalid (the field named), not_found, conflict (not running; data
 * "wrong_state"), busy (--max-execs, or the queue). Service thread. */
int lcd_engine_exec(lcd_engine_t *e, const lcd_exec_req_t *req, lcd_exec_ready_fn ready, void *ctx, lcd_error_t **err);

const char *lcd_exec_id(const lcd_exec_t *x);
/* Hand a descriptor over: the caller closes it from now on; -1 when there
 * is none (a tty has no stderr; stdin without req.stdin). */
int lcd_exec_take_fd(lcd_exec_t *x, int which);
/* A tty's new size; 0 or -errno. */
int lcd_exec_resize(lcd_exec_t *x, unsigned width, unsigned height);
/* Signal the process (not crun): 0, -EAGAIN while crun has not yet said
 * which process it is (try again soon), -ECHILD once it has ended. */
int lcd_exec_signal(lcd_exec_t *x, int sig);
/* After the pidfd turned readable: reap crun, publish exec.exited. 1 with
 * *code (docker's conventions: 126 cannot execute, 127 not found, 128+N
 * killed by signal N), 0 while it still runs. */
int lcd_exec_reap(lcd_exec_t *x, int *code);
/* After reaping: crun's own error when it could not run the command
 * ("executable file `x` not found in $PATH"), else "". */
const char *lcd_exec_why(const lcd_exec_t *x);
/* Kill what still runs (SIGKILL) and wait for it (bounded), remove the
 * exec's files, free. NULL is fine. */
void lcd_exec_free(lcd_exec_t *x);

#endif

/* runner.h - how the engine starts external tools.
 *
 * DESIGN: one small interface (a function table, like crun's cgroup
 * backends) with the real posix_spawn implementation here and a scripted
 * fake in the unit tests. A tool is always started from an argv, never a
 * shell; it gets /dev/null as stdin, its stdout is captured up to a cap
 * (or, for daemonizing tools like conmon, both streams go to a file), the
 * tail of its stderr is kept, and it is killed (its whole process group)
 * when the timeout passes. Any thread may call run(); the implementations
 * keep no shared state.
 */
#ifndef LCD_RUNNER_H
#define LCD_RUNNER_H

#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>

#include "lcd/error.h"

#define LCD_RUN_ERR_TAIL 2048
#define LCD_RUN_OUT_CAP (1024 * 1024)

typedef struct {
        const char *const *argv; /* argv[0] is looked up on PATH */
        const char *const *envp; /* NULL: inherit the daemon's environment */
        int timeout_ms;          /* > 0; the tool is killed after it */
        const char *output_path; /* set: stdout+stderr appended here, nothing captured */
        int pass_fd;             /* >= 0: given to the child as fd 3; -1: none */
        size_t out_cap;          /* stdout bytes kept; 0 means LCD_RUN_OUT_CAP */
} lcd_run_spec_t;

typedef struct {
        int status; /* exit code, or 128 + signal */
        char *out;  /* stdout, NUL-terminated (never NULL after a run) */
        size_t out_len;
        bool out_truncated;         /* stdout exceeded out_cap */
        char err[LCD_RUN_ERR_TAIL]; /* last bytes of stderr, NUL-terminated */
} lcd_run_result_t;

typedef struct lcd_runner lcd_runner_t;
struct lcd_runner {
        /* Run the tool to completion. 0 when it ran (whatever its exit status);
         * LCD_ERR with tool_failed (could not start: "crun not found on PATH")
         * or timeout (killed after spec->timeout_ms). */
        int (*run)(lcd_runner_t *self, const lcd_run_spec_t *spec, lcd_run_result_t *res, lcd_error_t **err);
        void (*destroy)(lcd_runner_t *self);
};

/* The attributes every child of the daemon is spawned with: no signal
 * blocked, every disposition the default, a process group of its own.
 * posix_spawnattr_init's result (0 or an error number); destroy after. */
int lcd_spawnattr_clean(posix_spawnattr_t *attr);

/* The real runner (posix_spawnp). NULL on allocation failure. */
lcd_runner_t *lcd_runner_spawn_new(void);
void lcd_runner_free(lcd_runner_t *r);

/* Run and require exit status 0: otherwise tool_failed naming argv[0],
 * with `what` as context and the stderr tail. res is filled either way;
 * release it with lcd_run_result_clear(). */
int lcd_run_tool(lcd_runner_t *r, const lcd_run_spec_t *spec, lcd_run_result_t *res, const char *what,
                 lcd_error_t **err);
void lcd_run_result_clear(lcd_run_result_t *res);

#endif

/* fake_runner.h - a scripted lcd_runner_t for unit tests: no tool is run.
 * It imitates just enough of skopeo, umoci, conmon and crun (files they
 * write, the conmon sync pipe, exit files, pasta's pid file) for the engine to work, and lets
 * a test make any tool fail or hang. Thread-safe (workers call it). */
#ifndef LCD_FAKE_RUNNER_H
#define LCD_FAKE_RUNNER_H

#include "lcd/runner.h"

typedef struct {
        lcd_runner_t base;
        /* set by the test before use */
        const char *exit_dir;  /* where "conmon" writes exit files on kill */
        const char *fail_tool; /* "skopeo", "umoci", "conmon", "crun start", ...: exit 1 */
        const char *fail_stderr;
        int conmon_reports_error;    /* sync pipe {"data":-1,"message":...} */
        int block_ms;                /* every tool sleeps this long first */
        const char *pasta_fail_with; /* the next pasta run with this in its argv exits 1 (then NULL) */
        /* hold pasta: fake_runner_hold(f, 1) makes each pasta wait (10 s at most)
         * until fake_runner_hold(f, 0); pasta_waiting counts those waiting */
        int hold_pasta, pasta_waiting;
        /* counters */
        int calls_skopeo, calls_umoci, calls_conmon, calls_crun, calls_pasta;
        char last_pasta[2048];    /* the last pasta argv, space-separated */
        char pasta_log[32][2048]; /* the first 32 pasta argvs */
} fake_runner_t;

fake_runner_t *fake_runner_new(void);
void fake_runner_hold(fake_runner_t *f, int hold);
/* How many pasta runs so far had needle in their argv (the first 32). */
int fake_runner_pastas_with(fake_runner_t *f, const char *needle);
/* Read a counter or flag of f under the fake's lock. */
int fake_runner_get(const int *field);

#endif

/* doctor.h - can this host run rootless containers, and if not, what to do.
 *
 * DESIGN: one list of checks, used by `light-containerd doctor` and by the
 * system.check method (the daemon runs them once at start, before it enters
 * its user namespace, so they describe the host as the user sees it).
 * Each check says whether it passed, what it found and, when it failed,
 * the fix (the README's Troubleshooting text). A failed required check
 * means containers cannot run at all. Main thread, at start-up; it runs
 * `tool --version` through the runner.
 */
#ifndef LCD_DOCTOR_H
#define LCD_DOCTOR_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "lcd/runner.h"

#define LCD_DOCTOR_MAX 24

typedef struct {
        const char *check; /* stable id: "userns", "subuid", "crun", ... */
        bool ok;
        bool required; /* containers cannot run without it */
        char detail[512];
        const char *fix; /* NULL when ok */
} lcd_check_t;

/* Run every check into out (LCD_DOCTOR_MAX entries); returns the count. */
size_t lcd_doctor_run(lcd_runner_t *runner, lcd_check_t *out);
/* [{"check","ok","required","detail","fix"}]; NULL on allocation failure. */
json_object *lcd_doctor_json(const lcd_check_t *c, size_t n);
/* Print a table to stdout; returns 1 if a required check failed, else 0. */
int lcd_doctor_print(const lcd_check_t *c, size_t n);

#endif

/* reaper.h - the daemon reaps every child it inherits.
 *
 * DESIGN: the daemon is a child subreaper (PR_SET_CHILD_SUBREAPER): conmon
 * daemonizes, so each conmon, and whatever a tool leaves running when it
 * exits, becomes the daemon's child. A SIGCHLD handler writes a byte to a
 * pipe; the exit watcher thread, which polls it, calls lcd_reaper_reap(),
 * which reaps every child that has ended except the ones the runner waits
 * for itself (their exit status is a tool's result). The runner claims a
 * child under the reaper's lock held across the spawn, so no child is
 * reaped before it is claimed; the reaper only peeks (WNOWAIT) before
 * taking the lock. A claimed zombie at the head of the kernel's list hides
 * the others until its runner reaps it, a moment later: the watcher then
 * reaps again after REAPER_RETRY_MS. Process-wide state, one mutex.
 */
#ifndef LCD_REAPER_H
#define LCD_REAPER_H

#include <stdbool.h>
#include <sys/types.h>

#define LCD_REAPER_RETRY_MS 50

/* A child the runner waits for (on the runner's stack). */
typedef struct lcd_reaper_claim {
        struct lcd_reaper_claim *next;
        pid_t pid;
} lcd_reaper_claim_t;

/* Create the pipe and install the SIGCHLD handler. Main thread, before
 * other threads start. 0 or -errno. Without it reaping never runs. */
int lcd_reaper_init(void);
/* The pipe the watcher polls; -1 before lcd_reaper_init(). */
int lcd_reaper_fd(void);
/* Around a spawn: begin takes the lock; end records the child (pid > 0)
 * in claim and releases it. Any thread. */
void lcd_reaper_spawn_begin(void);
void lcd_reaper_spawn_end(lcd_reaper_claim_t *claim, pid_t pid);
/* The runner reaped its child: forget the claim. */
void lcd_reaper_release(lcd_reaper_claim_t *claim);
/* Drain the pipe and reap every unclaimed child that has ended. Returns
 * how many were reaped; *blocked is set when a claimed zombie hid others
 * (call again soon). Exit watcher thread. */
int lcd_reaper_reap(bool *blocked);

#endif

/* attachcmd.h - lightctl attach, and the attached part of run (attachcmd.c). */
#ifndef LCD_CLI_ATTACHCMD_H
#define LCD_CLI_ATTACHCMD_H

#include <stdbool.h>

/* attach [--no-stdin] NAME[:TAG]: the container's output, and its stdin
 * when it has one; the exit status is the container's (0 on detach). */
int ctl_cmd_attach(int argc, char **argv);
/* run -i/-t: attach to the created container key ("name:tag"), start it,
 * stream to its end (stdin when interactive, a raw terminal with tty),
 * remove it after with rm. The container's exit code; 0 on detach. */
int ctl_run_attached(const char *key, bool interactive, bool tty, bool rm);

#endif

/* completion.h - a shell completion script for lightctl, made from its
 * command table and its global options (completion.c). Private to the cli
 * wing; pure (it writes to the stream it is given, nothing else). */
#ifndef LCD_CLI_COMPLETION_H
#define LCD_CLI_COMPLETION_H

#include "client.h"

#include <getopt.h>
#include <stdio.h>

/* Write the completion script for shell ("bash" or "zsh") to out: the
 * commands of cmds (ending with a NULL name), the long options of globals
 * (ending with a NULL name), and each command's options and arguments read
 * from its usage text. 0; -EINVAL for another shell, or a name or option
 * outside [A-Za-z0-9_-]; -ENOSPC when one command's usage is too long to
 * describe; -EIO when out cannot be written. Nothing is allocated. */
int ctl_completion_write(FILE *out, const char *shell, const ctl_command_t *cmds, const struct option *globals);

#endif

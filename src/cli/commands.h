/* commands.h - lightctl's command table and its global options
 * (commands.c): the usage text, the dispatch and the completion script
 * come from them. */
#ifndef LCD_CLI_COMMANDS_H
#define LCD_CLI_COMMANDS_H

#include "client.h"

#include <getopt.h>

extern const ctl_command_t ctl_commands[]; /* ends with a NULL name */
/* lightctl's own options, before the command (getopt_long's table, ending
 * with a NULL name; lightctl.c reads them, the completion offers them). */
extern const struct option ctl_global_options[];

#endif

/* commands.h - lightctl's command table (commands.c): the usage text and
 * the dispatch come from it. */
#ifndef LCD_CLI_COMMANDS_H
#define LCD_CLI_COMMANDS_H

/* One command: its name, its arguments and what it does (for the usage
 * text), and its handler: (argc, argv) with argv[0] the name; returns the
 * exit status, once the daemon is connected. */
typedef struct {
        const char *name;
        const char *args;
        const char *help;
        int (*run)(int argc, char **argv);
} ctl_command_t;

extern const ctl_command_t ctl_commands[]; /* ends with a NULL name */

#endif

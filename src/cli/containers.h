/* containers.h - lightctl's container commands (containers.c), each a
 * handler of (argc, argv) with argv[0] its name; the exit status. */
#ifndef LCD_CLI_CONTAINERS_H
#define LCD_CLI_CONTAINERS_H

#include "client.h"

int ctl_cmd_ps(int argc, char **argv);
int ctl_cmd_inspect(int argc, char **argv);
int ctl_cmd_port(int argc, char **argv);
int ctl_cmd_create(int argc, char **argv);
int ctl_cmd_run(int argc, char **argv);
int ctl_cmd_lifecycle(int argc, char **argv); /* start pause resume stop restart kill rm */
int ctl_cmd_logs(int argc, char **argv);
int ctl_cmd_wait(int argc, char **argv);
int ctl_cmd_stats(int argc, char **argv);

#endif

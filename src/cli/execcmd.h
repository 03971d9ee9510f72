/* execcmd.h - lightctl exec (execcmd.c). */
#ifndef LCD_CLI_EXECCMD_H
#define LCD_CLI_EXECCMD_H

/* exec [-i] [-t] [-e K=V]... [-w DIR] [-u UID[:GID]] NAME[:TAG] CMD [ARG...]:
 * the exit status is the process's. Connects by itself (an offline command). */
int ctl_cmd_exec(int argc, char **argv);

#endif

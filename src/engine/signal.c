/* signal.c - signal names and numbers, as kill takes them (see engine.h).
 *
 * DESIGN: the API parses container.kill's "signal" with it before the
 * engine sees the request. The names are the ones a container is
 * commonly sent, with or without "SIG"; any number 1..64 is taken as it
 * is (real-time signals included). Pure; any thread.
 */
#include "lcd/engine.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const struct {
        const char *name;
        int sig;
} signals[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
        {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"WINCH", SIGWINCH},
        {"ALRM", SIGALRM}, {"PIPE", SIGPIPE}, {"ABRT", SIGABRT}, {"TSTP", SIGTSTP},
};

int lcd_signal_parse(const char *s)
{
        if (s == NULL || s[0] == '\0')
                return -EINVAL;
        if (s[0] >= '0' && s[0] <= '9') {
                char *end;
                long v = strtol(s, &end, 10);
                return (*end == '\0' && v >= 1 && v <= 64) ? (int)v : -EINVAL;
        }
        if (strncmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
                if (strcmp(s, signals[i].name) == 0)
                        return signals[i].sig;
        return -EINVAL;
}

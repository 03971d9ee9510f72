/* reaper.c - see reaper.h. Lock order: mu is a leaf (nothing is taken
 * under it). */
#include "lcd/reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static lcd_reaper_claim_t *claims; /* guarded by mu */
static int pipe_fds[2] = {-1, -1};

static void on_sigchld(int sig)
{
        (void)sig;
        int saved = errno;
        if (pipe_fds[1] >= 0) {
                ssize_t w = write(pipe_fds[1], "c", 1); /* full: a wake-up is pending anyway */
                (void)w;
        }
        errno = saved;
}

int lcd_reaper_init(void)
{
        if (pipe_fds[0] >= 0)
                return 0;
        if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigchld;
        sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGCHLD, &sa, NULL) < 0)
                return -errno;
        return 0;
}

int lcd_reaper_fd(void)
{
        return pipe_fds[0];
}

void lcd_reaper_spawn_begin(void)
{
        pthread_mutex_lock(&mu);
}

void lcd_reaper_spawn_end(lcd_reaper_claim_t *claim, pid_t pid)
{
        claim->pid = pid;
        if (pid > 0) {
                claim->next = claims;
                claims = claim;
        }
        pthread_mutex_unlock(&mu);
}

void lcd_reaper_release(lcd_reaper_claim_t *claim)
{
        if (claim->pid <= 0)
                return;
        pthread_mutex_lock(&mu);
        for (lcd_reaper_claim_t **pp = &claims; *pp != NULL; pp = &(*pp)->next)
                if (*pp == claim) {
                        *pp = claim->next;
                        break;
                }
        pthread_mutex_unlock(&mu);
        claim->pid = 0;
}

static bool claimed(pid_t pid)
{
        for (const lcd_reaper_claim_t *c = claims; c != NULL; c = c->next)
                if (c->pid == pid)
                        return true;
        return false;
}

int lcd_reaper_reap(bool *blocked)
{
        char buf[64];
        while (pipe_fds[0] >= 0 && read(pipe_fds[0], buf, sizeof buf) > 0)
                ;
        *blocked = false;
        int n = 0;
        for (;;) {
                siginfo_t si;
                memset(&si, 0, sizeof si);
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
                        break; /* no child, or none has ended */
                pthread_mutex_lock(&mu);
                bool mine = !claimed(si.si_pid);
                if (mine) /* under the lock: its runner cannot claim it meanwhile */
                        waitpid(si.si_pid, NULL, WNOHANG);
                pthread_mutex_unlock(&mu);
                if (!mine) {
                        *blocked = true;
                        break;
                }
                n++;
        }
        return n;
}

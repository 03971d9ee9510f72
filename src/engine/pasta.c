/* pasta.c - see pasta.h. */
#include "pasta.h"

#include "lcd/fsutil.h"
#include "lcd/log.h"

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PASTA_ARGS 24
#define KILL_WAIT_MS 2000

static void file_path(const char *dir, const char *id, const char *ext, char *buf, size_t len)
{
        snprintf(buf, len, "%s/%s.%s", dir, id, ext);
}

pid_t lcd_pasta_pid(const char *dir, const char *id)
{
        char path[PATH_MAX], buf[32];
        file_path(dir, id, "pid", path, sizeof path);
        if (lcd_read_small(path, buf, sizeof buf) <= 0)
                return -1;
        long v = strtol(buf, NULL, 10);
        return v > 1 && v < INT_MAX ? (pid_t)v : -1;
}

/* Is pid the pasta of the namespace at ns_path (not a recycled pid)? */
static bool is_our_pasta(pid_t pid, const char *ns_path)
{
        char path[64], cmd[8192];
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
        ssize_t n = lcd_read_small(path, cmd, sizeof cmd);
        if (n <= 0)
                return false;
        for (ssize_t i = 0; i + 1 < n; i += (ssize_t)strlen(cmd + i) + 1)
                if (strcmp(cmd + i, "--netns") == 0)
                        return i + 8 < n && strcmp(cmd + i + 8, ns_path) == 0;
        return false;
}

bool lcd_pasta_running(const char *dir, const char *id, const char *ns)
{
        pid_t pid = lcd_pasta_pid(dir, id);
        return pid > 0 && is_our_pasta(pid, ns);
}

static void kill_and_wait(pid_t pid)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return; /* gone */
        if (syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) == 0) {
                struct pollfd p = {.fd = fd, .events = POLLIN}; /* readable once it has exited */
                if (poll(&p, 1, KILL_WAIT_MS) == 0)
                        lcd_warn("pasta %d did not exit within %d ms of SIGKILL", (int)pid, KILL_WAIT_MS);
        }
        close(fd);
}

void lcd_pasta_stop(const char *dir, const char *id, const char *ns)
{
        char path[PATH_MAX];
        pid_t pid = lcd_pasta_pid(dir, id);
        file_path(dir, id, "pid", path, sizeof path);
        unlink(path); /* first: the exit watcher tells this end from a death by it (lcd_exitwatch_conmon) */
        if (pid > 0 && is_our_pasta(pid, ns))
                kill_and_wait(pid);
        file_path(dir, id, "log", path, sizeof path);
        unlink(path);
}

/* pasta's error, from its log: the last non-empty lines that are not its
 * complaints about syslog. */
static void pasta_error(const char *dir, const char *id, char *buf, size_t len)
{
        char path[PATH_MAX], text[4096];
        file_path(dir, id, "log", path, sizeof path);
        ssize_t n = lcd_read_small(path, text, sizeof text);
        buf[0] = '\0';
        if (n <= 0)
                return;
        size_t used = 0;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                if (strstr(line, "syslog") != NULL || line[0] == '\0')
                        continue;
                int m = snprintf(buf + used, len - used, "%s%s", used ? "; " : "", line);
                if (m < 0 || (size_t)m >= len - used)
                        break;
                used += (size_t)m;
        }
}

int lcd_pasta_start(const lcd_pasta_opts_t *o, lcd_error_t **err)
{
        char pidfile[PATH_MAX], log[PATH_MAX];
        file_path(o->dir, o->id, "pid", pidfile, sizeof pidfile);
        file_path(o->dir, o->id, "log", log, sizeof log);
        const char *argv[PASTA_ARGS];
        size_t n = 0;
        argv[n++] = "pasta";
        argv[n++] = "--config-net";
        argv[n++] = "--quiet";
        argv[n++] = "--netns";
        argv[n++] = o->ns;
        argv[n++] = "--pid";
        argv[n++] = pidfile;
        argv[n++] = "--dns-forward";
        argv[n++] = LCD_NET_DNS;
        if (!o->host_loopback)
                argv[n++] = "--no-map-gw";
        /* never pasta's default, `auto` (everything something listens on): the relay publishes ports */
        const char *none[] = {"-t", "-u", "-T", "-U"};
        for (size_t i = 0; i < 4; i++) {
                argv[n++] = none[i];
                argv[n++] = "none";
        }
        argv[n] = NULL;
        lcd_run_spec_t spec = {.argv = argv, .timeout_ms = o->timeout_ms, .output_path = log, .pass_fd = -1};
        lcd_run_result_t res;
        lcd_error_t *rerr = NULL;
        int r = o->runner->run(o->runner, &spec, &res, &rerr);
        int status = r == 0 ? res.status : -1;
        lcd_run_result_clear(&res);
        if (r < 0) {
                if (rerr->kind == LCD_E_TOOL_FAILED && strstr(rerr->msg, "not found") != NULL) {
                        lcd_error_free(rerr);
                        return lcd_error_set(err, LCD_E_UNSUPPORTED,
                                             "a private network needs pasta, which is not installed (Debian: apt-get "
                                             "install passt); or create with network \"host\" or \"none\"");
                }
                *err = rerr;
                return LCD_ERR;
        }
        if (status == 0)
                return 0;
        char why[1024];
        pasta_error(o->dir, o->id, why, sizeof why);
        if (strstr(why, "tun") != NULL)
                return lcd_error_tool(err, "pasta", why,
                                      "pasta: %s -- /dev/net/tun must be usable by the daemon's user (as root: chmod "
                                      "0666 /dev/net/tun, as Debian's udev sets it)",
                                      why);
        return lcd_error_tool(err, "pasta", why, "pasta exited with %d: %s", status, why[0] ? why : "(no message)");
}

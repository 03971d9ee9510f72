/* pasta.h - a private network's pasta: started, found and stopped.
 *
 * DESIGN: pasta (Debian's passt) gives a namespace the daemon made its
 * outbound access and a DNS forwarder at LCD_NET_DNS; the published ports
 * are the relay's (relay.h), so one pasta serves any container and can be
 * started ahead. It is spawned with argv through the runner: --netns on
 * the namespace, -t/-u/-T/-U none (never pasta's `auto`: nothing is
 * forwarded by port either way), --no-map-gw unless the host's loopback
 * is asked for. It goes to the background once the
 * namespace is configured -- its first process exiting 0 is the readiness
 * signal -- and writes its pid to <dir>/<id>.pid, its messages to
 * <dir>/<id>.log. A pid is trusted only while that process is pasta with
 * --netns on this namespace (not a recycled pid). Any thread; no state.
 */
#ifndef LCD_PASTA_H
#define LCD_PASTA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lcd/error.h"
#include "lcd/net.h"
#include "lcd/runner.h"

#define LCD_NET_DNS "169.254.1.1" /* the resolver a private container sees: pasta forwards it */

typedef struct {
        const char *dir, *id; /* its files: <dir>/<id>.pid, <dir>/<id>.log */
        const char *ns;       /* the namespace it serves */
        bool host_loopback;   /* map the host's loopback to the gateway */
        lcd_runner_t *runner; /* borrowed */
        int timeout_ms;       /* until it is in the background */
} lcd_pasta_opts_t;

/* Start it and wait until it has configured the namespace. unsupported
 * when pasta is not installed, tool_failed with its message otherwise. */
int lcd_pasta_start(const lcd_pasta_opts_t *o, lcd_error_t **err);
/* Its pid, from its pid file (alive or not); -1 without one. */
pid_t lcd_pasta_pid(const char *dir, const char *id);
/* Is it running (its pid file names a live pasta of ns)? */
bool lcd_pasta_running(const char *dir, const char *id, const char *ns);
/* Remove its pid file, then kill it (when it is ns's pasta) and wait, a
 * bounded while, for it to be gone; remove its log. Idempotent. */
void lcd_pasta_stop(const char *dir, const char *id, const char *ns);

#endif

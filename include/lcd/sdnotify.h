/* sdnotify.h - tell a service manager how the daemon is doing.
 *
 * DESIGN: systemd's readiness protocol without libsystemd: when
 * $NOTIFY_SOCKET names a Unix datagram socket (a path, or '@' for the
 * abstract namespace), send it one "KEY=VALUE\n..." datagram. Without the
 * variable it does nothing, so the daemon behaves the same everywhere.
 * Allocates nothing; any thread.
 */
#ifndef LCD_SDNOTIFY_H
#define LCD_SDNOTIFY_H

/* Send state ("READY=1", "STOPPING=1", ...). 0 when sent or when there is
 * no service manager to tell, -errno otherwise. */
int lcd_sd_notify(const char *state);

#endif

/* access.h - who may talk to the daemon.
 *
 * DESIGN: pure decisions over the handshake's headers, so they can be
 * tested without a socket (tests/unit/api/test_access.c). The Unix socket is protected by
 * its mode (0600) and by the peer's credentials: only the daemon's own uid
 * may connect (root included: it can reach the daemon as that user). On TCP a client must present the daemon's token:
 * as "Authorization: Bearer <token>", or -- browsers cannot set headers on a WebSocket -- as a subprotocol
 * "bearer.<token>" offered beside "light-containerd.v1", or as "?access_token=" on a plain HTTP GET; it is compared in
 * constant time. On both listeners the Host header must name a loopback host or one listed with --allow-host (DNS
 * rebinding), and an Origin header, when present, must be the daemon's own origin (http[s]://<Host>) or one listed with
 * --allow-origin (cross-site WebSocket hijacking). Any thread; no state.
 */
#ifndef LCD_ACCESS_H
#define LCD_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "lcd/api.h" /* lcd_access_t, LCD_TOKEN_HEX: the daemon sets them */
#include "lcd/error.h"

/* Decide a request. tcp: it came in on the TCP listener. Header values are
 * NULL when absent; query is the request's query string (HTTP GET only) or
 * NULL. LCD_OK (allowed), or LCD_ERR with err: unauthorized (no valid token:
 * HTTP 401) or forbidden (403), saying why. */
int lcd_access_check(const lcd_access_t *a, bool tcp, const char *host, const char *origin, const char *authorization,
                     const char *protocols, const char *query, lcd_error_t **err);
/* Decide a Unix socket connection by its peer's credentials (SO_PEERCRED):
 * LCD_OK when the peer's effective uid is the daemon's, else LCD_ERR with a
 * forbidden err. *peer_uid is the peer's uid as this process sees it. */
int lcd_access_peer(int fd, unsigned *peer_uid, lcd_error_t **err);
/* Constant-time comparison of two NUL-terminated strings. */
bool lcd_token_equal(const char *a, const char *b);

#endif

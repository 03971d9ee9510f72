/* hostport.h - the host side of a published port: a socket bound to
 * hostIp:hostPort, and the errors a user needs when it cannot be.
 *
 * DESIGN: the create's early check (network.c, on the service thread) and
 * the relay's listeners (relay.h, on a worker) bind the same way, so a
 * port the check passes is a port the relay can bind, short of a race,
 * which then fails the create the same way. Nothing here keeps state.
 */
#ifndef LCD_HOSTPORT_H
#define LCD_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "lcd/error.h"
#include "lcd/net.h"

/* Bind the host side of port p (its index in the request, for messages),
 * listening if listen, into *fd: 0, or LCD_ERR with conflict (taken),
 * forbidden (below net.ipv4.ip_unprivileged_port_start, naming it) or
 * invalid (hostIp not an address of this host). "" binds every address,
 * IPv6 and IPv4 on one socket where the host has IPv6. Any thread. */
int lcd_hostport_bind(const lcd_port_t *p, size_t index, bool listen, int *fd, lcd_error_t **err);

#endif

/* relay.h - published ports: the daemon's own listeners on the host, each
 * connection relayed into the container's network namespace.
 *
 * DESIGN: Debian's pasta (2023-03) takes its port list when it starts and
 * cannot change it, so a pasta that forwards ports cannot be started
 * before the create that names them. The relay forwards them instead, so
 * that every private create can take a network made ahead (spare.h), and
 * a taken port is known from the daemon's own bind. lcd_relay_publish binds
 * the listeners in the caller's thread, which is in the daemon's network
 * namespace, where the ports must be, and hands them to one relay thread.
 * That thread accepts a connection, then opens its other end inside the
 * container's namespace: it calls setns on that namespace, opens the socket,
 * and calls setns back to a namespace of its own. It never stays in a
 * container's namespace and never needs the host's. It then copies bytes
 * both ways through two bounded buffers, half-closes as the peers do and
 * resets both ends when either one fails. Inside, a connection
 * comes from the loopback: it goes to 127.0.0.1:containerPort (::1 for an
 * IPv6 client), as pasta's splice path and podman's rootlessport do, so a
 * server sees the relay's address, not the client's. UDP: one flow per
 * peer, a socket inside connected to the container port, dropped after
 * LCD_RELAY_UDP_IDLE_S without traffic (docker's proxy timeout) or, when
 * a port holds LCD_RELAY_FLOWS_MAX, the least recently used first.
 * Threads: publish, unpublish and counts run on any thread. One mutex guards
 * everything. The relay thread holds it while it handles a batch of events,
 * never while it waits. What is closed is deregistered first and freed after
 * the batch, so an event of the same batch never reaches freed memory.
 * Bounds: LCD_RELAY_CONNS_MAX connections with 2 x LCD_RELAY_BUF bytes each.
 * Beyond that, a new connection is reset and counted as dropped.
 */
#ifndef LCD_RELAY_H
#define LCD_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay-end.h" /* lcd_relay_t, lcd_relay_counts_t, the LCD_RELAY_* bounds */

#include "lcd/error.h"
#include "lcd/net.h"

/* A relay, its thread not started yet (the first publish starts it).
 * in_place: unit tests, whose "namespaces" are plain files -- the inside
 * end is opened in the daemon's own namespace. NULL without memory. */
lcd_relay_t *lcd_relay_new(bool in_place);
/* Stop the thread, close every listener and connection. NULL is fine. */
void lcd_relay_free(lcd_relay_t *r);

/* Publish ports (n <= LCD_PORTS_MAX) of container id, whose network
 * namespace is at ns_path: every listener bound before any is relayed,
 * errors as lcd_hostport_bind; nothing is held on failure. One publish per id
 * at a time (an id published already is unpublished first). */
int lcd_relay_publish(lcd_relay_t *r, const char *id, const char *ns_path, const lcd_port_t *ports, size_t n,
                      lcd_error_t **err);
/* Close id's listeners, connections and flows: its ports are free when
 * this returns. Idempotent; r may be NULL. */
void lcd_relay_unpublish(lcd_relay_t *r, const char *id);

void lcd_relay_counts(lcd_relay_t *r, lcd_relay_counts_t *out);

#endif

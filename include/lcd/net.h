/* net.h - a container's network as the API asks for it: the mode and
 * the published ports (container.create, the container object; the engine
 * makes them real in src/engine/network.c). */
#ifndef LCD_NET_H
#define LCD_NET_H

#include <stdbool.h>
#include <stdint.h>

/* A namespace of its own with outbound access and published ports through
 * pasta (private, the default), a namespace with loopback only (none), the
 * host's, or another container's (container:NAME:TAG; docs/API.md
 * "Networking"). */
typedef enum { LCD_NET_PRIVATE, LCD_NET_NONE, LCD_NET_HOST, LCD_NET_CONTAINER, LCD_NET__COUNT } lcd_net_mode_t;

#define LCD_PORTS_MAX 64         /* published ports per container */
#define LCD_HOSTNAME_MAX 63      /* a hostname: one DNS label */
#define LCD_ADDR_MAX 46          /* an IPv4 or IPv6 address as text, with its NUL */
#define LCD_NETWORK_SPARES_MAX 4 /* --network-spares */

/* A published port: hostIp:hostPort on the host forwarded to
 * containerPort in the container's namespace. */
typedef struct {
        uint16_t host_port, container_port;
        bool udp;                   /* else tcp */
        char host_ip[LCD_ADDR_MAX]; /* "": every address (0.0.0.0 and ::) */
} lcd_port_t;

/* "private", "none", "host", "container" (NULL beyond). */
const char *lcd_net_mode_name(lcd_net_mode_t m);

#endif

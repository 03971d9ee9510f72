/* portspec.h - docker's -p syntax, [IP:]HOST:CONTAINER[/tcp|udp], into
 * container.create's ports entry (portspec.c). */
#ifndef CTL_PORTSPEC_H
#define CTL_PORTSPEC_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
        char host_ip[46]; /* "": every address */
        unsigned host_port, container_port;
        bool udp;
} ctl_port_t;

/* 0 with *out, or -1 with why (a sentence for the user). IPv6 addresses
 * go in brackets: [::1]:8080:80. */
int ctl_portspec_parse(const char *spec, ctl_port_t *out, char *why, size_t len);

#endif

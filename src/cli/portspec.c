/* portspec.c - see portspec.h.
 *
 * DESIGN: a pure parser, so its corners are unit tested; the daemon checks
 * again (the address is this host's, the port is free). Ranges
 * (8000-8010:80-90) are not taken: one mapping per -p, as the API has.
 */
#include "portspec.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *why, size_t len, const char *spec, const char *what)
{
        snprintf(why, len, "-p %s: %s (want [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp])", spec, what);
        return -1;
}

/* A port 1..65535, all digits. */
static int port_of(const char *s, size_t n, unsigned *out)
{
        if (n == 0 || n > 5)
                return -1;
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (v < 1 || v > 65535)
                return -1;
        *out = v;
        return 0;
}

int ctl_portspec_parse(const char *spec, ctl_port_t *out, char *why, size_t len)
{
        memset(out, 0, sizeof *out);
        char buf[128];
        if (strlen(spec) >= sizeof buf)
                return fail(why, len, spec, "too long");
        snprintf(buf, sizeof buf, "%s", spec);
        char *proto = strchr(buf, '/');
        if (proto != NULL) {
                *proto++ = '\0';
                if (strcmp(proto, "udp") == 0)
                        out->udp = true;
                else if (strcmp(proto, "tcp") != 0)
                        return fail(why, len, spec, "the protocol must be tcp or udp");
        }
        char *ports = buf;
        if (buf[0] == '[') { /* [IPv6]:HOST:CONTAINER */
                char *end = strchr(buf, ']');
                if (end == NULL || end[1] != ':')
                        return fail(why, len, spec, "an IPv6 address needs ']:' after it");
                *end = '\0';
                snprintf(out->host_ip, sizeof out->host_ip, "%s", buf + 1);
                ports = end + 2;
        } else {
                char *first = strchr(buf, ':'), *second = first ? strchr(first + 1, ':') : NULL;
                if (second != NULL) { /* IP:HOST:CONTAINER */
                        *first = '\0';
                        snprintf(out->host_ip, sizeof out->host_ip, "%s", buf);
                        ports = first + 1;
                }
        }
        unsigned char addr[16];
        if (out->host_ip[0] != '\0' && inet_pton(AF_INET, out->host_ip, addr) != 1 &&
            inet_pton(AF_INET6, out->host_ip, addr) != 1)
                return fail(why, len, spec, "not an IP address");
        char *colon = strchr(ports, ':');
        if (colon == NULL)
                return fail(why, len, spec,
                            "give both ports (HOST:CONTAINER): a port is not published to a random one");
        if (port_of(ports, (size_t)(colon - ports), &out->host_port) < 0 ||
            port_of(colon + 1, strlen(colon + 1), &out->container_port) < 0)
                return fail(why, len, spec, "ports are numbers 1..65535");
        return 0;
}

/* hostport.c - see hostport.h. */
#include "hostport.h"

#include "lcd/fsutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int unprivileged_port_start(void)
{
        char buf[32];
        if (lcd_read_small("/proc/sys/net/ipv4/ip_unprivileged_port_start", buf, sizeof buf) <= 0)
                return 1024;
        return atoi(buf);
}

/* A socket bound to p's host side: fd, or -errno. */
static int bind_port(const lcd_port_t *p, bool listening)
{
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        bool v6 = p->host_ip[0] == '\0' || strchr(p->host_ip, ':') != NULL;
        int type = (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK;
        int fd = v6 ? socket(AF_INET6, type, 0) : -1;
        if (fd < 0 && p->host_ip[0] == '\0') /* a host without IPv6: every IPv4 address */
                v6 = false;
        if (!v6 && fd < 0)
                fd = socket(AF_INET, type, 0);
        if (fd < 0)
                return -errno;
        socklen_t len = v6 ? sizeof *a6 : sizeof *a4;
        if (v6) {
                a6->sin6_family = AF_INET6;
                a6->sin6_port = htons(p->host_port);
                int only = p->host_ip[0] != '\0'; /* "": IPv4 too, on this one socket */
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
                if (p->host_ip[0] != '\0' && inet_pton(AF_INET6, p->host_ip, &a6->sin6_addr) != 1)
                        goto invalid;
        } else {
                a4->sin_family = AF_INET;
                a4->sin_port = htons(p->host_port);
                if (p->host_ip[0] != '\0' && inet_pton(AF_INET, p->host_ip, &a4->sin_addr) != 1)
                        goto invalid;
        }
        int one = 1; /* a listener blocks the bind, a closing connection does not */
        if (!p->udp)
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (listening && !p->udp && listen(fd, 128) < 0)) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
invalid:
        close(fd);
        return -EINVAL;
}

int lcd_hostport_bind(const lcd_port_t *p, size_t index, bool listening, int *fd, lcd_error_t **err)
{
        const char *proto = p->udp ? "udp" : "tcp";
        int r = bind_port(p, listening);
        if (r >= 0) {
                *fd = r;
                return 0;
        }
        int floor = unprivileged_port_start();
        if (r == -EACCES && p->host_port < floor)
                return lcd_error_set(err, LCD_E_FORBIDDEN,
                                     "host port %u/%s is below net.ipv4.ip_unprivileged_port_start (%d): a rootless "
                                     "daemon cannot bind it; publish a port >= %d, or lower that sysctl",
                                     p->host_port, proto, floor, floor);
        if (r == -EADDRINUSE)
                return lcd_error_set(err, LCD_E_CONFLICT, "host port %s%s%u/%s is already in use", p->host_ip,
                                     p->host_ip[0] ? ":" : "", p->host_port, proto);
        if (r == -EADDRNOTAVAIL || r == -EINVAL)
                return lcd_error_invalid(err, "ports", "ports[%zu].hostIp %s is not an address of this host", index,
                                         p->host_ip);
        if (r == -ENOMEM || r == -ENOBUFS)
                return lcd_error_nomem(err);
        return lcd_error_set(err, LCD_E_INTERNAL, "bind host port %u/%s: %s", p->host_port, proto, strerror(-r));
}

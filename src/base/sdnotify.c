/* sdnotify.c - see sdnotify.h. */
#include "lcd/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int lcd_sd_notify(const char *state)
{
        const char *path = getenv("NOTIFY_SOCKET");
        if (path == NULL || path[0] == '\0')
                return 0;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t n = strlen(path);
        if ((path[0] != '/' && path[0] != '@') || n >= sizeof sa.sun_path)
                return -EINVAL;
        memcpy(sa.sun_path, path, n);
        if (path[0] == '@')
                sa.sun_path[0] = '\0'; /* the abstract namespace */
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
        ssize_t w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
        int r = w < 0 ? -errno : 0;
        close(fd);
        return r;
}

/* wsclient.c - see wsclient.h. */
#include "wsclient.h"

#include "lcd/alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct lcd_ws {
        int fd;
        unsigned char buf[65536]; /* bytes read but not consumed */
        size_t have;
};

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short ev, int64_t deadline)
{
        for (;;) {
                int left = deadline < 0 ? -1 : (int)(deadline - now_ms());
                if (deadline >= 0 && left <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = ev};
                int n = poll(&p, 1, left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n > 0)
                        return 0;
        }
}

static int write_all(int fd, const void *data, size_t len)
{
        const unsigned char *p = data;
        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Ensure at least `need` buffered bytes. */
static int fill(lcd_ws_t *ws, size_t need, int64_t deadline)
{
        while (ws->have < need) {
                int r = wait_fd(ws->fd, POLLIN, deadline);
                if (r < 0)
                        return r;
                ssize_t n = recv(ws->fd, ws->buf + ws->have, sizeof ws->buf - ws->have, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -ECONNRESET;
                ws->have += (size_t)n;
        }
        return 0;
}

static void consume(lcd_ws_t *ws, size_t n)
{
        memmove(ws->buf, ws->buf + n, ws->have - n);
        ws->have -= n;
}

static void base64(const unsigned char *in, size_t len, char *out)
{
        static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t o = 0;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
                             (i + 2 < len ? in[i + 2] : 0);
                out[o++] = tbl[v >> 18 & 63];
                out[o++] = tbl[v >> 12 & 63];
                out[o++] = i + 1 < len ? tbl[v >> 6 & 63] : '=';
                out[o++] = i + 2 < len ? tbl[v & 63] : '=';
        }
        out[o] = '\0';
}

static int open_socket(const char *target, int64_t deadline, char *errbuf, size_t errlen, char *host, size_t hostlen)
{
        if (strncmp(target, "ws://", 5) != 0) {
                struct sockaddr_un sa = {.sun_family = AF_UNIX};
                if (strlen(target) >= sizeof sa.sun_path) {
                        snprintf(errbuf, errlen, "socket path too long: %s", target);
                        return -1;
                }
                snprintf(sa.sun_path, sizeof sa.sun_path, "%s", target);
                struct stat st;
                if (stat(target, &st) == 0 && st.st_uid != geteuid()) {
                        /* the daemon would close the connection unread (SO_PEERCRED): say why here */
                        struct passwd *pw = getpwuid(st.st_uid);
                        snprintf(errbuf, errlen,
                                 "%s belongs to %s (uid %u): light-containerd lets only its own user in; run "
                                 "lightctl as that user (e.g. runuser -u %s -- lightctl ...)",
                                 target, pw ? pw->pw_name : "another user", (unsigned)st.st_uid,
                                 pw ? pw->pw_name : "USER");
                        return -1;
                }
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                        snprintf(errbuf, errlen, "cannot connect to %s: %s (is light-containerd running?)", target,
                                 strerror(errno));
                        if (fd >= 0)
                                close(fd);
                        return -1;
                }
                snprintf(host, hostlen, "localhost");
                return fd;
        }
        char hp[256];
        snprintf(hp, sizeof hp, "%s", target + 5);
        hp[strcspn(hp, "/")] = '\0';
        char *colon = strrchr(hp, ':');
        if (colon == NULL) {
                snprintf(errbuf, errlen, "expected ws://HOST:PORT, got %s", target);
                return -1;
        }
        *colon = '\0';
        snprintf(host, hostlen, "%s:%s", hp, colon + 1);
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
        int g = getaddrinfo(hp, colon + 1, &hints, &ai);
        if (g != 0) {
                snprintf(errbuf, errlen, "cannot resolve %s: %s", hp, gai_strerror(g));
                return -1;
        }
        int fd = -1;
        for (struct addrinfo *a = ai; a != NULL && fd < 0; a = a->ai_next) {
                fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
                if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
                        close(fd);
                        fd = -1;
                }
        }
        freeaddrinfo(ai);
        (void)deadline;
        if (fd < 0)
                snprintf(errbuf, errlen, "cannot connect to %s: %s", target, strerror(errno));
        return fd;
}

lcd_ws_t *lcd_ws_connect(const char *target, const char *path, const char *headers, int timeout_ms, char *errbuf,
                         size_t errlen)
{
        int64_t deadline = now_ms() + timeout_ms;
        char host[300];
        int fd = open_socket(target, deadline, errbuf, errlen, host, sizeof host);
        if (fd < 0)
                return NULL;
        lcd_ws_t *ws = lcd_calloc(1, sizeof *ws);
        if (ws == NULL) {
                close(fd);
                snprintf(errbuf, errlen, "out of memory");
                return NULL;
        }
        ws->fd = fd;
        unsigned char key[16];
        char key64[32], req[2048];
        if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key)
                memset(key, 7, sizeof key);
        base64(key, sizeof key, key64);
        int n = snprintf(req, sizeof req,
                         "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                         path, host, key64, headers ? headers : "");
        if (n < 0 || (size_t)n >= sizeof req) {
                snprintf(errbuf, errlen, "request headers too long");
                lcd_ws_close(ws);
                return NULL;
        }
        if (write_all(fd, req, (size_t)n) < 0)
                goto io_fail;
        /* read the response head */
        for (;;) {
                void *end = memmem(ws->buf, ws->have, "\r\n\r\n", 4);
                if (end != NULL) {
                        size_t head = (size_t)((unsigned char *)end - ws->buf) + 4;
                        if (ws->have < 12 || memcmp(ws->buf, "HTTP/1.1 101", 12) != 0) {
                                int line = (int)strcspn((char *)ws->buf, "\r");
                                snprintf(errbuf, errlen, "WebSocket handshake refused: %.*s", line, ws->buf);
                                lcd_ws_close(ws);
                                return NULL;
                        }
                        consume(ws, head);
                        return ws;
                }
                if (ws->have == sizeof ws->buf)
                        break;
                int r = fill(ws, ws->have + 1, deadline);
                if (r < 0) {
                        errno = -r;
                        goto io_fail;
                }
        }
io_fail:
        snprintf(errbuf, errlen, "WebSocket handshake failed: %s", strerror(errno));
        lcd_ws_close(ws);
        return NULL;
}

static int send_frame(lcd_ws_t *ws, int opcode, const char *data, size_t len)
{
        unsigned char hdr[14];
        size_t h = 0;
        hdr[h++] = (unsigned char)(0x80 | opcode);
        if (len < 126) {
                hdr[h++] = (unsigned char)(0x80 | len);
        } else if (len <= 0xffff) {
                hdr[h++] = 0x80 | 126;
                hdr[h++] = (unsigned char)(len >> 8);
                hdr[h++] = (unsigned char)len;
        } else {
                hdr[h++] = 0x80 | 127;
                for (int i = 7; i >= 0; i--)
                        hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
        }
        unsigned char mask[4];
        if (getrandom(mask, 4, 0) != 4)
                memset(mask, 0x5a, 4);
        memcpy(hdr + h, mask, 4);
        h += 4;
        int r = write_all(ws->fd, hdr, h);
        unsigned char chunk[4096];
        for (size_t off = 0; r == 0 && off < len; off += sizeof chunk) {
                size_t n = len - off < sizeof chunk ? len - off : sizeof chunk;
                // cppcheck-suppress knownConditionTrueFalse ; a false positive: n is 1..4096
                for (size_t i = 0; i < n; i++)
                        chunk[i] = (unsigned char)data[off + i] ^ mask[(off + i) & 3];
                r = write_all(ws->fd, chunk, n);
        }
        return r;
}

int lcd_ws_send(lcd_ws_t *ws, const char *text, size_t len)
{
        return send_frame(ws, 1, text, len);
}

int lcd_ws_recv(lcd_ws_t *ws, char **msg, size_t *msglen, int timeout_ms)
{
        int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
        char *acc = NULL;
        size_t acc_len = 0;
        int r;
        for (;;) {
                if ((r = fill(ws, 2, deadline)) < 0)
                        goto fail;
                int fin = ws->buf[0] & 0x80, op = ws->buf[0] & 0x0f;
                uint64_t len = ws->buf[1] & 0x7f;
                size_t h = 2;
                if (ws->buf[1] & 0x80) { /* servers must not mask */
                        r = -EPROTO;
                        goto fail;
                }
                if (len == 126) {
                        if ((r = fill(ws, 4, deadline)) < 0)
                                goto fail;
                        len = (uint64_t)ws->buf[2] << 8 | ws->buf[3];
                        h = 4;
                } else if (len == 127) {
                        if ((r = fill(ws, 10, deadline)) < 0)
                                goto fail;
                        len = 0;
                        for (int i = 0; i < 8; i++)
                                len = len << 8 | ws->buf[2 + i];
                        h = 10;
                }
                if (len + acc_len > LCD_WS_MAX_MESSAGE) {
                        r = -EMSGSIZE;
                        goto fail;
                }
                consume(ws, h);
                char *payload = lcd_malloc(len + 1);
                if (payload == NULL) {
                        r = -ENOMEM;
                        goto fail;
                }
                size_t got = 0;
                while (got < len) {
                        if (ws->have == 0 && (r = fill(ws, 1, deadline)) < 0) {
                                lcd_free(payload);
                                goto fail;
                        }
                        size_t n = ws->have < len - got ? ws->have : (size_t)(len - got);
                        memcpy(payload + got, ws->buf, n);
                        consume(ws, n);
                        got += n;
                }
                payload[len] = '\0';
                if (op == 9) { /* ping */
                        send_frame(ws, 10, payload, len);
                        lcd_free(payload);
                        continue;
                }
                if (op == 10) {
                        lcd_free(payload);
                        continue;
                }
                if (op == 8) {
                        lcd_free(payload);
                        r = -ECONNRESET;
                        goto fail;
                }
                char *grown = lcd_realloc(acc, acc_len + len + 1);
                if (grown == NULL) {
                        lcd_free(payload);
                        r = -ENOMEM;
                        goto fail;
                }
                acc = grown;
                memcpy(acc + acc_len, payload, len + 1);
                acc_len += len;
                lcd_free(payload);
                if (fin) {
                        *msg = acc;
                        *msglen = acc_len;
                        return 0;
                }
        }
fail:
        lcd_free(acc);
        return r;
}

void lcd_ws_close(lcd_ws_t *ws)
{
        if (ws == NULL)
                return;
        send_frame(ws, 8, "\x03\xe8", 2);
        close(ws->fd);
        lcd_free(ws);
}

int lcd_ws_fd(lcd_ws_t *ws)
{
        return ws->fd;
}

size_t lcd_ws_buffered(lcd_ws_t *ws)
{
        return ws->have;
}

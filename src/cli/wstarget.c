/* wstarget.c - where lightctl connects, from --socket or --host: see
 * wstarget.h.
 *
 * DESIGN: pure text parsing, no I/O and no allocation, so the fuzzer
 * (tests/fuzz/fuzz_wstarget.c) drives it alone; the connection itself is
 * wsclient.c's. Every refusal says what was expected.
 */
#include "wstarget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lcd_ws_parse_target(const char *target, lcd_ws_target_t *t, char *errbuf, size_t errlen)
{
        memset(t, 0, sizeof *t);
        const char *rest = NULL;
        if (strncmp(target, "ws://", 5) == 0)
                rest = target + 5;
        else if (strncmp(target, "wss://", 6) == 0) {
                rest = target + 6;
                t->tls = true;
        } else if (strstr(target, "://") != NULL) {
                snprintf(errbuf, errlen,
                         "unsupported scheme in %s: give ws://HOST:PORT, wss://HOST:PORT or a socket path", target);
                return -1;
        }
        if (rest == NULL) {
                if (target[0] == '\0' || strlen(target) >= sizeof t->path) {
                        snprintf(errbuf, errlen, "socket path empty or too long (at most %zu bytes): %s",
                                 sizeof t->path - 1, target);
                        return -1;
                }
                t->is_unix = true;
                snprintf(t->path, sizeof t->path, "%s", target);
                snprintf(t->host_header, sizeof t->host_header, "localhost");
                return 0;
        }
        size_t hp = strcspn(rest, "/?#");
        const char *port = NULL;
        size_t hlen;
        if (rest[0] == '[') { /* [v6]:port */
                const char *close = memchr(rest, ']', hp);
                if (close == NULL || close[1] != ':') {
                        snprintf(errbuf, errlen, "expected [ADDRESS]:PORT in %s", target);
                        return -1;
                }
                hlen = (size_t)(close - rest - 1);
                memcpy(t->host, rest + 1, hlen < sizeof t->host ? hlen : 0);
                port = close + 2;
        } else {
                const char *colon = memchr(rest, ':', hp);
                if (colon == NULL) {
                        snprintf(errbuf, errlen, "expected %s://HOST:PORT, got %s", t->tls ? "wss" : "ws", target);
                        return -1;
                }
                hlen = (size_t)(colon - rest);
                memcpy(t->host, rest, hlen < sizeof t->host ? hlen : 0);
                port = colon + 1;
        }
        if (hlen == 0 || hlen >= sizeof t->host) {
                snprintf(errbuf, errlen, "the host in %s is empty or too long", target);
                return -1;
        }
        t->host[hlen] = '\0';
        char *end;
        long p = strtol(port, &end, 10);
        if (end == port || (size_t)(end - rest) != hp || p < 1 || p > 65535) {
                snprintf(errbuf, errlen, "the port in %s must be 1..65535", target);
                return -1;
        }
        t->port = (int)p;
        snprintf(t->host_header, sizeof t->host_header, "%.*s", (int)(port - rest - 1), rest);
        snprintf(t->host_header + strlen(t->host_header), sizeof t->host_header - strlen(t->host_header), ":%d",
                 t->port);
        return 0;
}

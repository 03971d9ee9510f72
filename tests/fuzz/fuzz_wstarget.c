/* fuzz_wstarget.c - libFuzzer target: lightctl's parser of --host/--socket
 * (the only parsing lightctl still does itself; libwebsockets reads the
 * wire). Any input is refused with a message or gives a target whose
 * parts are sane: a Unix path that is the input, or a non-empty host
 * without '/', a port 1..65535, and a Host header that parses again to the
 * same host and port. */
#include "../../src/cli/wstarget.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                                       \
        do {                                                                                                           \
                if (!(c)) {                                                                                            \
                        fprintf(stderr, "fuzz_wstarget: %s failed for '%s'\n", #c, in);                                \
                        abort();                                                                                       \
                }                                                                                                      \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char in[1024], err[256];
        if (size >= sizeof in)
                return 0;
        memcpy(in, data, size);
        in[size] = '\0';
        lcd_ws_target_t t;
        err[0] = 'x';
        if (lcd_ws_parse_target(in, &t, err, sizeof err) < 0) {
                CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
                return 0;
        }
        if (t.is_unix) {
                CHECK(strcmp(t.path, in) == 0 && t.path[0] != '\0');
                return 0;
        }
        CHECK(t.port >= 1 && t.port <= 65535);
        CHECK(t.host[0] != '\0' && strchr(t.host, '/') == NULL);
        char again[sizeof t.host_header + 8];
        snprintf(again, sizeof again, "%s://%s", t.tls ? "wss" : "ws", t.host_header);
        lcd_ws_target_t u;
        CHECK(lcd_ws_parse_target(again, &u, err, sizeof err) == 0);
        CHECK(strcmp(u.host, t.host) == 0 && u.port == t.port && u.tls == t.tls && !u.is_unix);
        return 0;
}

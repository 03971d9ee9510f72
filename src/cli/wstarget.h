/* wstarget.h - where lightctl (and the test clients) connect: a Unix
 * socket path, ws://HOST:PORT or wss://HOST:PORT, parsed (wstarget.c).
 * Private to the cli wing; pure.
 */
#ifndef LCD_WSTARGET_H
#define LCD_WSTARGET_H

#include <stdbool.h>
#include <stddef.h>

#define LCD_WS_HOST_MAX 256

/* Where a target points: "unix path", "ws://HOST:PORT[/...]" or
 * "wss://HOST:PORT[/...]" (HOST may be a [v6] literal). */
typedef struct {
        bool is_unix, tls;
        char path[108];                        /* the Unix socket */
        char host[LCD_WS_HOST_MAX];            /* without brackets */
        char host_header[LCD_WS_HOST_MAX + 8]; /* host[:port] as the Host header says it */
        int port;
} lcd_ws_target_t;

/* Parse target into t. 0, or -1 with a message in errbuf. Pure. */
int lcd_ws_parse_target(const char *target, lcd_ws_target_t *t, char *errbuf, size_t errlen);

#endif

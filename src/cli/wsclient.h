/* wsclient.h - a small blocking WebSocket client (RFC 6455) for lightctl:
 * text messages only, over a Unix socket or TCP. One thread. Every
 * read has a timeout and every message a size cap. */
#ifndef LCD_WSCLIENT_H
#define LCD_WSCLIENT_H

#include <stddef.h>

#define LCD_WS_MAX_MESSAGE (16 * 1024 * 1024)

typedef struct lcd_ws lcd_ws_t;

/* target: a Unix socket path, or "ws://host:port". headers: extra request
 * header lines ("Authorization: Bearer …\r\n") or NULL. NULL with a
 * message in errbuf on failure. */
lcd_ws_t *lcd_ws_connect(const char *target, const char *path, const char *headers, int timeout_ms, char *errbuf,
                         size_t errlen);
/* 0 or -errno. */
int lcd_ws_send(lcd_ws_t *ws, const char *text, size_t len);
/* Next text message (malloc'd, NUL-terminated, caller frees). 0, -ETIMEDOUT,
 * -ECONNRESET (closed), -EMSGSIZE, -EPROTO or -errno. timeout_ms < 0: wait forever. */
int lcd_ws_recv(lcd_ws_t *ws, char **msg, size_t *len, int timeout_ms);
void lcd_ws_close(lcd_ws_t *ws);
/* For event-loop users (the benchmark client): the socket, and how many
 * bytes were read past the handshake but not yet consumed. */
int lcd_ws_fd(lcd_ws_t *ws);
size_t lcd_ws_buffered(lcd_ws_t *ws);

#endif

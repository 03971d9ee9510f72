/* wsclient.h - lightctl's WebSocket client, on libwebsockets' client API.
 *
 * DESIGN: a blocking facade over one lws client connection with a context
 * of its own: connect (a Unix socket, ws:// or wss:// with the server's
 * certificate verified against the system's CAs or --cacert), send a
 * message, receive the next one with a timeout, close. lws does the RFC 6455
 * work -- the accept key, masking, framing, fragments, ping/pong -- and
 * this file only assembles fragments into messages, text or binary, each
 * at most LCD_WS_MAX_MESSAGE bytes, with at most LCD_WS_MAX_QUEUED bytes
 * received and not yet taken (reading pauses beyond it). Every wait has a
 * deadline (an lws timer wakes the loop). One thread. The target is
 * parsed by wstarget.c.
 */
#ifndef LCD_WSCLIENT_H
#define LCD_WSCLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "wstarget.h"

#define LCD_WS_MAX_MESSAGE (16 * 1024 * 1024)
#define LCD_WS_MAX_QUEUED (2 * LCD_WS_MAX_MESSAGE)

typedef struct {
        const char *target;   /* see lcd_ws_target_t */
        const char *path;     /* the request path, "/v1/ws" */
        const char *protocol; /* the subprotocol asked for; NULL: none */
        const char *token;    /* sent as "Authorization: Bearer <token>"; NULL: none */
        const char *cacert;   /* wss: PEM file of the CA(s) to trust; NULL: the system's */
        bool insecure;        /* wss: accept any certificate (encryption without identity) */
        int timeout_ms;       /* connect and handshake */
} lcd_ws_opts_t;

typedef struct lcd_ws lcd_ws_t;

/* Connect and complete the handshake. NULL with a message in errbuf. */
lcd_ws_t *lcd_ws_connect(const lcd_ws_opts_t *opts, char *errbuf, size_t errlen);
/* Send one message (text or binary), waiting up to timeout_ms for it to be
 * written. 0, -ETIMEDOUT, -ECONNRESET (closed), -EMSGSIZE or -ENOMEM. */
int lcd_ws_send(lcd_ws_t *ws, const void *data, size_t len, bool binary, int timeout_ms);
/* The next message: *msg is NUL-terminated and the caller's to free
 * (lcd_free); *binary says its kind (may be NULL). timeout_ms < 0 waits
 * for ever. 0, -ETIMEDOUT (nothing came: call again), -EAGAIN (the
 * watched fd is readable), -ECONNRESET (the
 * connection ended), -EMSGSIZE (a message over the limit: the connection
 * is closed) or -ENOMEM. */
int lcd_ws_recv(lcd_ws_t *ws, char **msg, size_t *len, bool *binary, int timeout_ms);
/* Also wake lcd_ws_recv when fd is readable: it then returns -EAGAIN (read
 * fd, then call again). At most one fd; -1 stops watching (do so at its
 * EOF). 0 or -errno. */
int lcd_ws_watch(lcd_ws_t *ws, int fd);
/* Why the connection ended, once a call returned -ECONNRESET ("" if unknown). */
const char *lcd_ws_error(const lcd_ws_t *ws);
/* A close frame (normal closure), a bounded wait for the server's, then
 * free. NULL is fine. */
void lcd_ws_close(lcd_ws_t *ws);

#endif

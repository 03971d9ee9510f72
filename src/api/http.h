/* http.h - plain HTTP beside the WebSocket (http.c). */
#ifndef LCD_HTTP_H
#define LCD_HTTP_H

#include <libwebsockets.h>
#include <stddef.h>

#include "api-internal.h"

/* A plain HTTP response being written (per connection). */
typedef struct {
        char *body;
        size_t len, off;
} lcd_http_t;

/* Answer a GET (the access check already passed); write the next chunk
 * when writable. Both return lws callback codes. */
int lcd_http_request(lcd_api_t *api, struct lws *wsi, lcd_http_t *h, const char *uri);
int lcd_http_writable(struct lws *wsi, lcd_http_t *h);
void lcd_http_clear(lcd_http_t *h);
/* Refuse a request (a handshake or a GET): HTTP/1.1 with the status of
 * kind and the body {"error": msg, "reason": word}, written in one piece
 * (lws's own status helper answers HTTP/1.0 during an upgrade), and the
 * connection closed once it is out. Returns -1, the callback's answer. */
int lcd_http_refuse(struct lws *wsi, lcd_errkind_t kind, const char *msg);
/* ... with reason in the body instead of the kind's word (NULL: the kind's). */
int lcd_http_refuse_reason(struct lws *wsi, lcd_errkind_t kind, const char *reason, const char *msg);

#endif

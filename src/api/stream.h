/* stream.h - an exec's or an attach's WebSocket (stream.c): the Kubernetes channel
 * protocol, v5.channel.k8s.io or v4.channel.k8s.io. Every binary frame is
 * [channel][payload]: 0 stdin (from the client), 1 stdout, 2 stderr, 3 the
 * status (one metav1.Status, then the daemon closes), 4 a resize (from the
 * client, {"Width","Height"}), 255 (v5) [255, 0]: stdin's end. Service
 * thread.
 */
#ifndef LCD_STREAM_H
#define LCD_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "api-internal.h"
#include "lcd/attach.h"
#include "lcd/events.h"
#include "lcd/exec.h"

#define LCD_STREAM_PROTOCOL "v5.channel.k8s.io" /* the lws protocol that owns the raw descriptors */

typedef struct lcd_stream lcd_stream_t;

/* The stream of the WebSocket being upgraded at wsi, its exec queued
 * (lcd_engine_exec). NULL with err when the engine refuses it (or out of
 * memory): nothing is left. */
lcd_stream_t *lcd_stream_start(lcd_api_t *api, struct lws *wsi, const lcd_exec_req_t *req, lcd_error_t **err);
/* The stream of an attach's WebSocket being upgraded at wsi (the engine
 * attaches at once), passing on the outputs asked for. NULL with err when
 * the engine refuses (or out of memory): nothing is left. */
lcd_stream_t *lcd_stream_attach(lcd_api_t *api, struct lws *wsi, const lcd_attach_req_t *req, bool want_out,
                                bool want_err, lcd_error_t **err);
/* An event going out: the attaches it ends get their status. */
void lcd_stream_on_event(lcd_api_t *api, const lcd_event_t *ev);
/* Start every mailed exec (lcd_api_service). */
void lcd_stream_deliver(lcd_api_t *api);

/* The WebSocket's events. */
int lcd_stream_established(lcd_stream_t *st);
int lcd_stream_receive(lcd_stream_t *st, struct lws *wsi, const void *in, size_t len);
int lcd_stream_writable(lcd_stream_t *st, struct lws *wsi);
/* The WebSocket wsi is gone (closed, or its handshake failed): the
 * process is ended, the stream freed once it is. Nothing when wsi is not
 * st's WebSocket (one of its raw descriptors); NULL is fine. */
void lcd_stream_gone(lcd_stream_t *st, const struct lws *wsi);
/* A raw descriptor's event (RAW_RX_FILE, RAW_WRITEABLE_FILE, RAW_CLOSE_FILE). */
int lcd_stream_raw(struct lws *w, enum lws_callback_reasons reason);
/* Before the context is destroyed: no timer of a stream runs or is set
 * from now on (the destroy's callbacks still reach the streams). */
void lcd_stream_stop_all(lcd_api_t *api);
/* After the context is destroyed: end and free every stream. */
void lcd_stream_free_all(lcd_api_t *api);

#endif

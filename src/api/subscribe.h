/* subscribe.h - event subscriptions, fan-out and heartbeats (subscribe.c). */
#ifndef LCD_SUBSCRIBE_H
#define LCD_SUBSCRIBE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "session.h"

/* An events.subscribe request, validated by methods.c. */
typedef struct {
        bool has_since;
        uint64_t since;
        bool initial;
        lcd_sub_filter_t filter; /* ownership of names moves to the session */
} lcd_sub_request_t;

/* Subscribe s (see docs/API.md: since, initial, names, types): sends the
 * reply to id itself (none for a notification), then any replay or
 * initial snapshot. LCD_ERR (gone, out of memory) with nothing sent.
 * req->filter.names is taken over either way. */
int lcd_subscribe_start(lcd_session_t *s, bool has_id, json_object *id, lcd_sub_request_t *req, lcd_error_t **err);
/* End s's subscription (nothing is sent). Idempotent. */
void lcd_subscribe_stop(lcd_session_t *s);
/* Send every published event not yet fanned out to its subscribers; the
 * waits and log follows see each event first. */
void lcd_subscribe_fan_out(lcd_api_t *api);
/* Heartbeats on idle subscriptions every interval_s seconds (0: none);
 * needs the lws context. */
void lcd_subscribe_heartbeats(lcd_api_t *api, int interval_s);

#endif

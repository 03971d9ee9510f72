/* waiters.h - container.wait: replies held until a container exits (waiters.c). */
#ifndef LCD_WAITERS_H
#define LCD_WAITERS_H

#include "rpc.h"
#include "session.h"

/* Answer now when name:tag has exited, else park req until it does.
 * LCD_ERR with err (not found, busy, out of memory), nothing parked. */
int lcd_waiters_add(lcd_api_t *api, lcd_session_t *s, lcd_rpc_request_t *req, const char *name, const char *tag,
                    lcd_error_t **err);
/* An event going out: answer the waits it ends. */
void lcd_waiters_on_event(lcd_api_t *api, const lcd_event_t *e);
/* s is closing: drop its waits without a reply. */
void lcd_waiters_drop_session(lcd_api_t *api, const lcd_session_t *s);

#endif

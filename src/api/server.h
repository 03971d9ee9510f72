/* server.h - what in-process drivers of a detached API (the
 * allocation-failure harness, the fuzzer) call besides lcd_api_new_detached()
 * and the session; the daemon's own entry points are in lcd/api.h. */
#ifndef LCD_SERVER_H
#define LCD_SERVER_H

#include "session.h"

/* What the service thread does when woken: deliver finished requests and
 * new events, then end the follows that waited for their replies. */
void lcd_api_service(lcd_api_t *api);
/* s's connection is gone: end its subscription, waits and follows, then
 * close it. The caller still drops its reference. Idempotent. */
void lcd_api_end_session(lcd_session_t *s);

#endif

/* relay-tcp.h - the relay's TCP connections (relay-tcp.c). The relay thread
 * calls these with the relay's mutex held. */
#ifndef LCD_RELAY_TCP_H
#define LCD_RELAY_TCP_H

#include "relay-end.h"

void lcd_relay_tcp_accept(lcd_relay_t *r, struct relay_listener *l);
/* Watch again the listeners whose pause is over (at most every 100 ms). */
void lcd_relay_resume(lcd_relay_t *r);
void lcd_relay_conn_event(lcd_relay_t *r, struct relay_conn *c, int side, uint32_t events);
/* Close both ends (reset: with an RST) and move c to the dead list. */
void lcd_relay_conn_close(lcd_relay_t *r, struct relay_conn *c, bool reset);

#endif

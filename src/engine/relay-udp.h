/* relay-udp.h - the relay's UDP flows (relay-udp.c). The relay thread
 * calls these with the relay's mutex held. */
#ifndef LCD_RELAY_UDP_H
#define LCD_RELAY_UDP_H

#include "relay-end.h"

void lcd_relay_udp_in(lcd_relay_t *r, struct relay_listener *l);
void lcd_relay_udp_out(lcd_relay_t *r, struct relay_flow *f);
void lcd_relay_flow_close(lcd_relay_t *r, struct relay_flow *f);
/* Drop the flows idle for LCD_RELAY_UDP_IDLE_S (at most once a second). */
void lcd_relay_sweep_flows(lcd_relay_t *r);

#endif

/* timeutil.h - clocks and RFC 3339 formatting. Pure functions, any thread. */
#ifndef LCD_TIMEUTIL_H
#define LCD_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t lcd_now_ms(void);
/* Wall clock in milliseconds since the epoch. */
int64_t lcd_wall_ms(void);
/* Wall clock in microseconds since the epoch. */
int64_t lcd_wall_us(void);
/* Format epoch microseconds as "2026-11-29T10:22:08.123456Z" (>= 40 bytes). */
void lcd_rfc3339_us(int64_t wall_us, char *buf, size_t len);
/* Format epoch milliseconds as "2026-11-29T10:22:08.123Z" into buf (>= 32 bytes). */
void lcd_rfc3339(int64_t wall_ms, char *buf, size_t len);

#endif

/* log.h - one line per message on stderr: "2026-11-29T10:22:08.123Z info msg".
 * Any thread; each line is written with a single write(2) so lines from
 * different threads never interleave. Line breaks in a message become
 * spaces, other control bytes and invalid UTF-8 are escaped (\xNN): what a
 * client or a tool sent cannot forge a line. Never log a secret. */
#ifndef LCD_LOG_H
#define LCD_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef enum { LCD_LOG_ERROR, LCD_LOG_WARN, LCD_LOG_INFO, LCD_LOG_DEBUG } lcd_log_level_t;

void lcd_log_set_level(lcd_log_level_t level);
/* Parse "error|warn|info|debug"; 0 on success, -EINVAL otherwise. */
int lcd_log_parse_level(const char *s, lcd_log_level_t *out);
void lcd_log(lcd_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A rate limit for messages a client can trigger at will (refusals): at
 * most `burst` per `interval_ms`. lcd_ratelimit() says whether to log now,
 * and in *suppressed how many were held back in the window just ended
 * (worth a line of its own). Zero-initialised; one thread per limiter. */
typedef struct {
        int64_t start_ms;
        unsigned count, suppressed;
} lcd_ratelimit_t;
bool lcd_ratelimit(lcd_ratelimit_t *rl, unsigned burst, int64_t interval_ms, unsigned *suppressed);

#define lcd_error_log(...) lcd_log(LCD_LOG_ERROR, __VA_ARGS__)
#define lcd_warn(...) lcd_log(LCD_LOG_WARN, __VA_ARGS__)
#define lcd_info(...) lcd_log(LCD_LOG_INFO, __VA_ARGS__)
#define lcd_debug(...) lcd_log(LCD_LOG_DEBUG, __VA_ARGS__)

#endif

/* log.h - one line per message on stderr: "2026-11-29T10:22:08.123Z info msg".
 * Any thread; each line is written with a single write(2) so lines from
 * different threads never interleave. */
#ifndef LCD_LOG_H
#define LCD_LOG_H

typedef enum { LCD_LOG_ERROR, LCD_LOG_WARN, LCD_LOG_INFO, LCD_LOG_DEBUG } lcd_log_level_t;

void lcd_log_set_level(lcd_log_level_t level);
/* Parse "error|warn|info|debug"; 0 on success, -EINVAL otherwise. */
int lcd_log_parse_level(const char *s, lcd_log_level_t *out);
void lcd_log(lcd_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define lcd_error_log(...) lcd_log(LCD_LOG_ERROR, __VA_ARGS__)
#define lcd_warn(...) lcd_log(LCD_LOG_WARN, __VA_ARGS__)
#define lcd_info(...) lcd_log(LCD_LOG_INFO, __VA_ARGS__)
#define lcd_debug(...) lcd_log(LCD_LOG_DEBUG, __VA_ARGS__)

#endif

/* log.c - see log.h. The level is a relaxed atomic: a racing reader sees the
 * old or the new level, both fine. */
#include "lcd/log.h"

#include "lcd/timeutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int current_level = LCD_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void lcd_log_set_level(lcd_log_level_t level)
{
        atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
}

int lcd_log_parse_level(const char *s, lcd_log_level_t *out)
{
        for (int i = 0; i <= LCD_LOG_DEBUG; i++)
                if (strcmp(s, names[i]) == 0) {
                        *out = (lcd_log_level_t)i;
                        return 0;
                }
        return -EINVAL;
}

void lcd_log(lcd_log_level_t level, const char *fmt, ...)
{
        if ((int)level > atomic_load_explicit(&current_level, memory_order_relaxed))
                return;
        char line[2048];
        char ts[40];
        lcd_rfc3339(lcd_wall_ms(), ts, sizeof ts);
        int n = snprintf(line, sizeof line, "%s %-5s ", ts, names[level]);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
        va_end(ap);
        size_t len = strlen(line);
        /* one line per message: fold embedded newlines */
        for (size_t i = 0; i < len; i++)
                if (line[i] == '\n' || line[i] == '\r')
                        line[i] = ' ';
        line[len++] = '\n';
        ssize_t w = write(STDERR_FILENO, line, len);
        (void)w;
}

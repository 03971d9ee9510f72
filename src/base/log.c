/* log.c - see log.h. The level is a relaxed atomic: a racing reader sees the
 * old or the new level, both fine. */
#include "lcd/log.h"

#include "lcd/timeutil.h"
#include "lcd/utf8.h"

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

/* Copy the message into out as one line: tabs and line breaks become
 * spaces; other control bytes and bytes that are not UTF-8 are written as
 * \xNN, so nothing a client sent (a URI, a header) or a tool printed can
 * forge a line or an escape sequence in a terminal or the journal. */
static size_t sanitize(const char *in, size_t n, char *out, size_t cap)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;
        for (size_t i = 0; i < n && o + 4 < cap;) {
                unsigned char c = (unsigned char)in[i];
                size_t k = c >= 0x80 ? lcd_utf8_seq(in + i, n - i) : 1;
                if (c == '\n' || c == '\r' || c == '\t') {
                        out[o++] = ' ';
                } else if (c < 0x20 || c == 0x7f || k == 0) {
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[c >> 4];
                        out[o++] = hex[c & 15];
                } else if (o + k + 4 < cap) {
                        for (size_t j = 0; j < k; j++)
                                out[o++] = in[i + j];
                        i += k;
                        continue;
                } else {
                        break;
                }
                i++;
        }
        return o;
}

void lcd_log(lcd_log_level_t level, const char *fmt, ...)
{
        if ((int)level > atomic_load_explicit(&current_level, memory_order_relaxed))
                return;
        char msg[2048], line[2048];
        char ts[40];
        lcd_rfc3339(lcd_wall_ms(), ts, sizeof ts);
        int n = snprintf(line, sizeof line, "%s %-5s ", ts, names[level]);
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        size_t mlen = m < 0 ? 0 : (size_t)m < sizeof msg ? (size_t)m : lcd_utf8_trim(msg, sizeof msg - 1);
        size_t len = (size_t)n + sanitize(msg, mlen, line + n, sizeof line - (size_t)n - 1);
        line[len++] = '\n';
        ssize_t w = write(STDERR_FILENO, line, len);
        (void)w;
}

bool lcd_ratelimit(lcd_ratelimit_t *rl, unsigned burst, int64_t interval_ms, unsigned *suppressed)
{
        int64_t now = lcd_now_ms();
        *suppressed = 0;
        if (rl->start_ms == 0 || now - rl->start_ms >= interval_ms) {
                *suppressed = rl->suppressed;
                rl->start_ms = now;
                rl->count = 0;
                rl->suppressed = 0;
        }
        if (rl->count < burst) {
                rl->count++;
                return true;
        }
        rl->suppressed++;
        return false;
}

/* timeutil.c - see timeutil.h. */
#include "lcd/timeutil.h"

#include <stdio.h>
#include <time.h>

/* "YYYY-MM-DDThh:mm:ss.<frac>Z" with `digits` fraction digits. */
static void format(int64_t secs, int frac, int digits, char *buf, size_t len)
{
        time_t t = (time_t)secs;
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%0*dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, digits, frac);
}

int64_t lcd_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lcd_wall_ms(void)
{
        return lcd_wall_us() / 1000;
}

void lcd_rfc3339(int64_t wall_ms, char *buf, size_t len)
{
        format(wall_ms / 1000, (int)(wall_ms % 1000), 3, buf, len);
}

int64_t lcd_wall_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void lcd_rfc3339_us(int64_t wall_us, char *buf, size_t len)
{
        format(wall_us / 1000000, (int)(wall_us % 1000000), 6, buf, len);
}

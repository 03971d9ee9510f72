/* timeutil.c - see timeutil.h. */
#include "lcd/timeutil.h"

#include <stdio.h>
#include <time.h>

int64_t lcd_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lcd_wall_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lcd_rfc3339(int64_t wall_ms, char *buf, size_t len)
{
        time_t secs = (time_t)(wall_ms / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

int64_t lcd_wall_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void lcd_rfc3339_us(int64_t wall_us, char *buf, size_t len)
{
        time_t secs = (time_t)(wall_us / 1000000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_us % 1000000));
}

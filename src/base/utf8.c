/* utf8.c - see utf8.h. */
#include "lcd/utf8.h"

#include <stdbool.h>
#include <string.h>

size_t lcd_utf8_seq(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        if (n == 0)
                return 0;
        if (p[0] < 0x80)
                return 1;
        size_t len;
        unsigned lo = 0x80, hi = 0xbf; /* the allowed range of the second byte */
        if (p[0] >= 0xc2 && p[0] <= 0xdf) {
                len = 2;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
                len = 3;
                if (p[0] == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (p[0] == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
                len = 4;
                if (p[0] == 0xf0)
                        lo = 0x90; /* overlong */
                else if (p[0] == 0xf4)
                        hi = 0x8f; /* above U+10FFFF */
        } else {
                return 0; /* a continuation byte, 0xc0/0xc1, or 0xf5.. */
        }
        if (n < len || p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (p[i] < 0x80 || p[i] > 0xbf)
                        return 0;
        return len;
}

size_t lcd_utf8_trim(const char *s, size_t n)
{
        /* find the lead byte of the last sequence (at most 3 continuation bytes back) */
        for (size_t back = 1; back <= 4 && back <= n; back++) {
                unsigned char c = (unsigned char)s[n - back];
                if (c < 0x80)
                        return n; /* ASCII: nothing is cut */
                if (c >= 0xc0) {  /* a lead byte: is its sequence longer than what is left? */
                        size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
                        bool lead = c >= 0xc2 && c <= 0xf4; /* else invalid: left to the writer */
                        return lead && want > back ? n - back : n;
                }
        }
        return n; /* only continuation bytes: invalid, left to the writer's U+FFFD */
}

int lcd_utf8_clip(const char *s, size_t max)
{
        size_t n = strnlen(s, max);
        return (int)(n < max ? n : lcd_utf8_trim(s, n));
}

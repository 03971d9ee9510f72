/* utf8.h - UTF-8 as the wire and the log need it.
 *
 * DESIGN: WebSocket text frames must be valid UTF-8 (a browser closes the
 * connection, code 1007, on the first invalid byte), and container output,
 * tool stderr and file names are arbitrary bytes. The JSON writer replaces
 * every invalid byte with U+FFFD, the log escapes it, and text cut to fit
 * a buffer is cut on a code point boundary. The rules are RFC 3629's: no
 * overlong forms, no surrogates, nothing above U+10FFFF. Pure; any thread.
 */
#ifndef LCD_UTF8_H
#define LCD_UTF8_H

#include <stddef.h>

/* The replacement character U+FFFD, encoded. */
#define LCD_UTF8_REPLACEMENT "\xef\xbf\xbd"

/* Length (1..4) of the valid UTF-8 sequence at s (n bytes available), or 0
 * when the bytes there are not one (invalid, or cut short). */
size_t lcd_utf8_seq(const char *s, size_t n);
/* The longest prefix of s[0..n) that does not end inside a code point:
 * n itself, or less by the bytes of a sequence cut short at the end. */
size_t lcd_utf8_trim(const char *s, size_t n);

/* For "%.*s": the length of s cut to at most max bytes on a code point
 * boundary (a client's method or key name quoted in an error message). */
int lcd_utf8_clip(const char *s, size_t max);

#endif

/* jsonwrite.h - building JSON values and writing them out, where a failed
 * allocation is an error, never a silent null or a truncated text.
 *
 * DESIGN: json_object_object_add() neither rejects a NULL value (a
 * json_object_new_*() that failed becomes a JSON null) nor releases the
 * value when it fails itself; lcd_json_set() and lcd_json_append() do both,
 * so a builder can chain them and check once. json-c's serializer (0.16, Debian 12's) ignores a failed growth
 * of its buffer and can return truncated, invalid JSON under memory
 * pressure; the allocation-failure harness caught it. Every message and
 * file the daemon writes goes through this writer instead: compact
 * output, '/' not escaped, valid UTF-8 passed through and every invalid
 * byte replaced with U+FFFD (utf8.h), control characters and quotes escaped, doubles as the shortest round-tripping
 * form (non-finite ones as null), every allocation through lcd_alloc. Pure; any thread.
 */
#ifndef LCD_JSONWRITE_H
#define LCD_JSONWRITE_H

#include <json-c/json.h>
#include <stddef.h>

/* Serialise o into a new buffer that starts with `prefix` bytes left for
 * the caller (a message header), followed by the text and a NUL. *len gets
 * the text's length (without prefix and NUL). NULL when out of memory or
 * when the text would exceed max bytes (0: no limit beyond memory). */
char *lcd_json_write(json_object *o, size_t prefix, size_t max, size_t *len);

/* o[key] = v, consuming v. -1 (v released) when o or v is NULL (v's
 * allocation failed) or the add fails, else 0. The key is not copied: it
 * must outlive o (a string literal or a static table). That saves an
 * allocation per key and avoids json-c 0.16 losing a copied key when its
 * table fails to grow. The same holds for the key of the setters below. */
int lcd_json_set(json_object *o, const char *key, json_object *v);
/* o[key] = null. */
int lcd_json_set_null(json_object *o, const char *key);
/* o[key] = s as a string, or null when s is NULL. */
int lcd_json_set_str(json_object *o, const char *key, const char *s);
/* Append v to the array a, consuming v; -1 as for lcd_json_set. */
int lcd_json_append(json_object *a, json_object *v);

#endif

/* jsonwrite.c - see jsonwrite.h. */
#include "lcd/jsonwrite.h"

#include "lcd/alloc.h"
#include "lcd/utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
        char *buf;
        size_t len, cap, max; /* len and cap count the prefix too */
        bool failed;
} jbuf_t;

static void put(jbuf_t *b, const char *s, size_t n)
{
        if (b->failed)
                return;
        if (b->max > 0 && b->len + n > b->max) {
                b->failed = true;
                return;
        }
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                while (cap < b->len + n + 1)
                        cap *= 2;
                char *grown = lcd_realloc(b->buf, cap);
                if (grown == NULL) {
                        b->failed = true;
                        return;
                }
                b->buf = grown;
                b->cap = cap;
        }
        memcpy(b->buf + b->len, s, n);
        b->len += n;
}

static void put_str(jbuf_t *b, const char *s)
{
        put(b, s, strlen(s));
}

static void put_string(jbuf_t *b, const char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        put(b, "\"", 1);
        size_t run = 0; /* bytes copied as they are, flushed in one put */
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                const char *esc = NULL;
                char u[7];
                switch (c) {
                case '"':
                        esc = "\\\"";
                        break;
                case '\\':
                        esc = "\\\\";
                        break;
                case '\n':
                        esc = "\\n";
                        break;
                case '\r':
                        esc = "\\r";
                        break;
                case '\t':
                        esc = "\\t";
                        break;
                case '\b':
                        esc = "\\b";
                        break;
                case '\f':
                        esc = "\\f";
                        break;
                default:
                        if (c < 0x20 || c == 0x7f) {
                                memcpy(u, "\\u00", 4);
                                u[4] = hex[c >> 4];
                                u[5] = hex[c & 15];
                                u[6] = '\0';
                                esc = u;
                        } else if (c >= 0x80) {
                                size_t k = lcd_utf8_seq(s + i, n - i);
                                if (k > 0) { /* a whole code point, as it is */
                                        run += k;
                                        i += k - 1;
                                        continue;
                                }
                                esc = LCD_UTF8_REPLACEMENT; /* one invalid byte */
                        }
                }
                if (esc == NULL) {
                        run++;
                        continue;
                }
                put(b, s + i - run, run);
                run = 0;
                put_str(b, esc);
        }
        put(b, s + n - run, run);
        put(b, "\"", 1);
}

static void put_double(jbuf_t *b, double d)
{
        if (!isfinite(d)) {
                put_str(b, "null");
                return;
        }
        char num[40]; /* the fewest digits that read back as d (17 always do) */
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(num, sizeof num, "%.*g", prec, d);
                if (strtod(num, NULL) == d)
                        break;
        }
        put_str(b, num);
        if (strpbrk(num, ".eEn") == NULL) /* keep it a double for readers that care */
                put_str(b, ".0");
}

static void write_value(jbuf_t *b, json_object *o)
{
        switch (json_object_get_type(o)) {
        case json_type_null:
                put_str(b, "null");
                break;
        case json_type_boolean:
                put_str(b, json_object_get_boolean(o) ? "true" : "false");
                break;
        case json_type_int: {
                char num[32];
                int64_t v = json_object_get_int64(o);
                if (v == INT64_MAX) /* maybe a larger unsigned value */
                        snprintf(num, sizeof num, "%" PRIu64, json_object_get_uint64(o));
                else
                        snprintf(num, sizeof num, "%" PRId64, v);
                put_str(b, num);
                break;
        }
        case json_type_double:
                put_double(b, json_object_get_double(o));
                break;
        case json_type_string:
                put_string(b, json_object_get_string(o), (size_t)json_object_get_string_len(o));
                break;
        case json_type_array: {
                size_t n = json_object_array_length(o);
                put(b, "[", 1);
                for (size_t i = 0; i < n && !b->failed; i++) {
                        if (i > 0)
                                put(b, ",", 1);
                        write_value(b, json_object_array_get_idx(o, i));
                }
                put(b, "]", 1);
                break;
        }
        case json_type_object: {
                bool first = true;
                put(b, "{", 1);
                json_object_object_foreach (o, key, val) {
                        if (b->failed)
                                break;
                        if (!first)
                                put(b, ",", 1);
                        first = false;
                        put_string(b, key, strlen(key));
                        put(b, ":", 1);
                        write_value(b, val);
                }
                put(b, "}", 1);
                break;
        }
        }
}

char *lcd_json_write(json_object *o, size_t prefix, size_t max, size_t *len)
{
        jbuf_t b = {.max = max ? prefix + max : 0};
        b.buf = lcd_malloc(prefix + 256);
        if (b.buf == NULL)
                return NULL;
        b.cap = prefix + 256;
        b.len = prefix;
        if (o == NULL)
                put_str(&b, "null");
        else
                write_value(&b, o);
        if (b.failed) {
                lcd_free(b.buf);
                return NULL;
        }
        b.buf[b.len] = '\0';
        *len = b.len - prefix;
        return b.buf;
}

int lcd_json_set(json_object *o, const char *key, json_object *v)
{
        if (o == NULL || v == NULL || json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_CONSTANT_KEY) != 0) {
                json_object_put(v);
                return -1;
        }
        return 0;
}

int lcd_json_set_null(json_object *o, const char *key)
{
        return o != NULL && json_object_object_add_ex(o, key, NULL, JSON_C_OBJECT_ADD_CONSTANT_KEY) == 0 ? 0 : -1;
}

int lcd_json_set_str(json_object *o, const char *key, const char *s)
{
        return s ? lcd_json_set(o, key, json_object_new_string(s)) : lcd_json_set_null(o, key);
}

int lcd_json_append(json_object *a, json_object *v)
{
        if (a == NULL || v == NULL || json_object_array_add(a, v) != 0) {
                json_object_put(v);
                return -1;
        }
        return 0;
}

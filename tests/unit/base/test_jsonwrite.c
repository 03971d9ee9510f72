/* test_jsonwrite.c - the JSON writer, round-tripped through json-c's own
 * parser: every value it writes parses back equal (json_object_equal), the
 * text is compact and valid, the limits hold; the builder helpers consume
 * their value whatever happens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"

/* Write o, parse it back with json-c, and return the text (caller frees). */
static char *round_trip(json_object *o)
{
        size_t len = 0;
        char *t = lcd_json_write(o, 0, 0, &len);
        assert_non_null(t);
        assert_int_equal(strlen(t), len);
        json_object *back = json_tokener_parse(t);
        if (!json_object_equal(o, back))
                fail_msg("did not round-trip: %s", t);
        json_object_put(back);
        return t;
}

/* A value built from a seed: nested objects and arrays of every type. */
static json_object *build(unsigned seed, int depth)
{
        switch (depth > 4 ? seed % 5 : seed % 7) {
        case 0:
                return json_object_new_int64((int64_t)seed * 2654435761u - 1000000000LL);
        case 1:
                return json_object_new_boolean(seed & 1);
        case 2: {
                char s[32];
                snprintf(s, sizeof s, "s\"%u\\\n\t/\x01é", seed);
                return json_object_new_string(s);
        }
        case 3:
                return json_object_new_double((double)seed / 7.0);
        case 4:
                return NULL; /* JSON null */
        case 5: {
                json_object *a = json_object_new_array();
                for (unsigned i = 0; i < seed % 4; i++)
                        assert_int_equal(lcd_json_append(a, build(seed * 31 + i, depth + 1) ?: json_object_new_int(0)),
                                         0);
                return a;
        }
        default: {
                json_object *o = json_object_new_object();
                static const char *const keys[] = {"a", "b c", "\"q\"", "é", "k5"};
                for (unsigned i = 0; i < seed % 5; i++) {
                        json_object *v = build(seed * 17 + i, depth + 1);
                        if (v == NULL)
                                assert_int_equal(lcd_json_set_null(o, keys[i]), 0);
                        else
                                assert_int_equal(lcd_json_set(o, keys[i], v), 0);
                }
                return o;
        }
        }
}

static void test_round_trips(void **state)
{
        for (unsigned seed = 0; seed < 2000; seed++) {
                json_object *o = build(seed, 0);
                if (o == NULL)
                        continue;
                lcd_free(round_trip(o));
                json_object_put(o);
        }
}

static void test_text_is_compact_and_escaped(void **state)
{
        json_object *o = json_object_new_object();
        assert_int_equal(lcd_json_set_str(o, "path", "/a/b"), 0);
        assert_int_equal(lcd_json_set_str(o, "ctl", "x\x01y\"z\\"), 0);
        assert_int_equal(lcd_json_set_str(o, "none", NULL), 0);
        json_object *a = json_object_new_array();
        assert_int_equal(lcd_json_append(a, json_object_new_int(1)), 0);
        assert_int_equal(lcd_json_append(a, json_object_new_double(NAN)), 0);
        assert_int_equal(lcd_json_set(o, "list", a), 0);
        size_t len;
        char *t = lcd_json_write(o, 0, 0, &len);
        assert_non_null(t);
        assert_string_equal(t, "{\"path\":\"/a/b\",\"ctl\":\"x\\u0001y\\\"z\\\\\",\"none\":null,\"list\":[1,null]}");
        lcd_free(t);
        json_object_put(o);
}

static void test_doubles_are_the_shortest_that_round_trip(void **state)
{
        static const double values[] = {0.1, 1.0 / 3.0, 1e300, -2.5e-310, 123456789.125, 0.0};
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
                json_object *d = json_object_new_double(values[i]);
                char *t = round_trip(d);
                char shortest[64];
                for (int prec = 1; prec <= 17; prec++) {
                        snprintf(shortest, sizeof shortest, "%.*g", prec, values[i]);
                        if (strtod(shortest, NULL) == values[i])
                                break;
                }
                if (strpbrk(shortest, ".eEn") == NULL) /* an integral value stays a double */
                        memcpy(shortest + strlen(shortest), ".0", 3);
                assert_string_equal(t, shortest);
                lcd_free(t);
                json_object_put(d);
        }
}

static void test_prefix_and_max(void **state)
{
        json_object *s = json_object_new_string("hello");
        size_t len = 0;
        char *t = lcd_json_write(s, 16, 0, &len);
        assert_non_null(t);
        assert_int_equal(len, 7);
        assert_string_equal(t + 16, "\"hello\"");
        lcd_free(t);
        assert_null(lcd_json_write(s, 0, 6, &len)); /* 7 bytes: over the limit */
        t = lcd_json_write(s, 0, 7, &len);
        assert_non_null(t);
        lcd_free(t);
        json_object_put(s);
}

static void test_builders_consume_their_value(void **state)
{
        /* a NULL object, a NULL value: -1, and the value is released (the
         * allocation counter of lcd_alloc is not json-c's, so this checks
         * the contract by refcount instead) */
        json_object *v = json_object_new_string("x");
        json_object_get(v); /* ours */
        assert_int_equal(lcd_json_set(NULL, "k", v), -1);
        assert_int_equal(json_object_put(v), 1); /* the set released its reference: this was the last */
        json_object *o = json_object_new_object();
        assert_int_equal(lcd_json_set(o, "k", NULL), -1);
        assert_null(json_object_object_get(o, "k"));
        json_object_put(o);
        v = json_object_new_int(1);
        json_object_get(v);
        assert_int_equal(lcd_json_append(NULL, v), -1);
        assert_int_equal(json_object_put(v), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trips),
                cmocka_unit_test(test_text_is_compact_and_escaped),
                cmocka_unit_test(test_doubles_are_the_shortest_that_round_trip),
                cmocka_unit_test(test_prefix_and_max),
                cmocka_unit_test(test_builders_consume_their_value),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

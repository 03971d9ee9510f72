/* test_utf8.c - what counts as UTF-8 (RFC 3629), cutting text on a code
 * point boundary, and the JSON writer turning every invalid byte into
 * U+FFFD so a text frame is always valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/utf8.h"

static void test_sequences(void **state)
{
        static const struct {
                const char *s;
                size_t len;
        } cases[] = {
                {"a", 1},
                {"\xc3\xa9", 2},         /* é */
                {"\xe2\x82\xac", 3},     /* € */
                {"\xf0\x9f\x98\x80", 4}, /* 😀 */
                {"\xf4\x8f\xbf\xbf", 4}, /* U+10FFFF */
                {"\xff", 0},
                {"\x80", 0},             /* a lone continuation byte */
                {"\xc0\xaf", 0},         /* overlong '/' */
                {"\xe0\x80\xaf", 0},     /* overlong */
                {"\xf0\x80\x80\xaf", 0}, /* overlong */
                {"\xed\xa0\x80", 0},     /* a surrogate, U+D800 */
                {"\xf4\x90\x80\x80", 0}, /* above U+10FFFF */
                {"\xf5\x80\x80\x80", 0},
                {"\xe2\x82", 0},     /* cut short */
                {"\xe2\x28\xa1", 0}, /* a bad continuation */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_int_equal(lcd_utf8_seq(cases[i].s, strlen(cases[i].s)), cases[i].len);
        assert_int_equal(lcd_utf8_seq("", 0), 0);
}

static void test_trim(void **state)
{
        const char *euro = "ab\xe2\x82\xac"; /* "ab€" */
        assert_int_equal(lcd_utf8_trim(euro, 5), 5);
        assert_int_equal(lcd_utf8_trim(euro, 4), 2); /* € cut after 2 of its 3 bytes */
        assert_int_equal(lcd_utf8_trim(euro, 3), 2);
        assert_int_equal(lcd_utf8_trim(euro, 2), 2);
        assert_int_equal(lcd_utf8_trim("\xf0\x9f\x98\x80", 3), 0);
        assert_int_equal(lcd_utf8_trim("abc", 3), 3);
        assert_int_equal(lcd_utf8_trim("a\xff", 2), 2); /* invalid, not cut: the writer replaces it */
        assert_int_equal(lcd_utf8_clip("h\xc3\xa9llo", 2), 1);
        assert_int_equal(lcd_utf8_clip("h\xc3\xa9llo", 3), 3);
        assert_int_equal(lcd_utf8_clip("hi", 64), 2);
}

static char *write_string(const char *s, size_t n)
{
        json_object *o = json_object_new_string_len(s, (int)n);
        assert_non_null(o);
        size_t len;
        char *text = lcd_json_write(o, 0, 0, &len);
        json_object_put(o);
        assert_non_null(text);
        assert_int_equal(strlen(text), len);
        return text;
}

static void test_writer_replaces_invalid_bytes(void **state)
{
        char *t = write_string("ok \xff\xfe end", 9);
        assert_string_equal(t, "\"ok \xef\xbf\xbd\xef\xbf\xbd end\"");
        lcd_free(t);
        /* valid multi-byte text passes as it is; a cut sequence does not */
        t = write_string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xe2\x82", 12);
        assert_string_equal(t, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xef\xbf\xbd\xef\xbf\xbd\"");
        lcd_free(t);
        /* surrogates and overlong forms too, and control bytes are escaped */
        t = write_string("\xed\xa0\x80\xc0\xaf\x1b[0m", 9);
        assert_string_equal(t, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\\u001b[0m\"");
        lcd_free(t);
        /* the output is valid UTF-8 throughout */
        char all[256];
        for (int i = 0; i < 256; i++)
                all[i] = (char)(255 - i);
        t = write_string(all, sizeof all);
        for (size_t i = 0, n = strlen(t); i < n;) {
                size_t k = lcd_utf8_seq(t + i, n - i);
                assert_true(k > 0);
                i += k;
        }
        lcd_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_sequences), cmocka_unit_test(test_trim),
                                           cmocka_unit_test(test_writer_replaces_invalid_bytes)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_access.c - who may connect: token, Host, Origin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lcd/access.h"

#define TOKEN "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *const hosts[] = {"box.lan", NULL};
static const char *const origins[] = {"https://ui.example", NULL};
static const lcd_access_t acc = {TOKEN, hosts, origins};

static int check(bool tcp, const char *host, const char *origin, const char *authz, const char *protos,
                 const char *query)
{
        const char *why = NULL;
        int r = lcd_access_check(&acc, tcp, host, origin, authz, protos, query, &why);
        if (r != 0)
                assert_non_null(why);
        return r;
}

static void test_token(void **state)
{
        assert_int_equal(check(true, "127.0.0.1:7780", NULL, "Bearer " TOKEN, NULL, NULL), 0);
        assert_int_equal(check(true, "127.0.0.1:7780", NULL, NULL, "light-containerd.v1, bearer." TOKEN, NULL), 0);
        assert_int_equal(check(true, "127.0.0.1:7780", NULL, NULL, "bearer." TOKEN ",light-containerd.v1", NULL), 0);
        assert_int_equal(check(true, "127.0.0.1:7780", NULL, NULL, NULL, "x=1&access_token=" TOKEN), 0);
        assert_int_equal(check(true, "127.0.0.1:7780", NULL, NULL, NULL, NULL), 401);
        assert_int_equal(check(true, "127.0.0.1:7780", NULL, "Bearer " TOKEN "0", NULL, NULL), 401);
        assert_int_equal(check(true, "127.0.0.1:7780", NULL, "Bearer 0011", NULL, NULL), 401);
        assert_int_equal(check(true, "127.0.0.1:7780", NULL, "Basic " TOKEN, NULL, NULL), 401);
        assert_int_equal(check(true, "127.0.0.1:7780", NULL, NULL, "light-containerd.v1, bearer.nope", NULL), 401);
        /* the Unix socket needs none */
        assert_int_equal(check(false, "localhost", NULL, NULL, NULL, NULL), 0);
}

static void test_host_and_origin(void **state)
{
        const char *ok = "Bearer " TOKEN;
        assert_int_equal(check(true, "localhost:7780", NULL, ok, NULL, NULL), 0);
        assert_int_equal(check(true, "[::1]:7780", NULL, ok, NULL, NULL), 0);
        assert_int_equal(check(true, "box.lan:7780", NULL, ok, NULL, NULL), 0);        /* --allow-host */
        assert_int_equal(check(true, "evil.example:7780", NULL, ok, NULL, NULL), 403); /* DNS rebinding */
        assert_int_equal(check(true, "127.0.0.1.evil.example", NULL, ok, NULL, NULL), 403);
        assert_int_equal(check(true, NULL, NULL, ok, NULL, NULL), 403);
        assert_int_equal(check(false, "evil.example", NULL, NULL, NULL, NULL), 403);
        /* Origin: the daemon's own, or listed */
        assert_int_equal(check(true, "127.0.0.1:7780", "http://127.0.0.1:7780", ok, NULL, NULL), 0);
        assert_int_equal(check(true, "127.0.0.1:7780", "https://ui.example", ok, NULL, NULL), 0);
        assert_int_equal(check(true, "127.0.0.1:7780", "http://localhost:7780", ok, NULL, NULL), 403);
        assert_int_equal(check(true, "127.0.0.1:7780", "http://evil.example", ok, NULL, NULL), 403);
        assert_int_equal(check(false, "localhost", "null", NULL, NULL, NULL), 403);
}

static void test_token_helpers(void **state)
{
        char a[LCD_TOKEN_HEX + 1], b[LCD_TOKEN_HEX + 1];
        assert_int_equal(lcd_token_new(a), 0);
        assert_int_equal(lcd_token_new(b), 0);
        assert_int_equal(strlen(a), LCD_TOKEN_HEX);
        assert_string_not_equal(a, b);
        assert_true(lcd_token_equal(a, a));
        assert_false(lcd_token_equal(a, b));
        assert_false(lcd_token_equal(a, ""));
        assert_false(lcd_token_equal("", a));
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_token), cmocka_unit_test(test_host_and_origin),
                                           cmocka_unit_test(test_token_helpers)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}

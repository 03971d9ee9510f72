/* test_access.c - who may connect: token, Host, Origin, Unix socket peer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../../src/api/access.h"

#define TOKEN "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *const hosts[] = {"box.lan", NULL};
static const char *const origins[] = {"https://ui.example", NULL};
static const lcd_access_t acc = {TOKEN, hosts, origins};

static int check(bool tcp, const char *host, const char *origin, const char *authz, const char *protos,
                 const char *query)
{
        lcd_error_t *err = NULL;
        if (lcd_access_check(&acc, tcp, host, origin, authz, protos, query, &err) == LCD_OK) {
                assert_null(err);
                return 0;
        }
        assert_non_null(err);
        assert_true(err->kind == LCD_E_UNAUTHORIZED || err->kind == LCD_E_FORBIDDEN);
        assert_true(strlen(err->msg) > 10);                       /* it says why */
        int status = err->kind == LCD_E_UNAUTHORIZED ? 401 : 403; /* what the client is answered */
        lcd_error_free(err);
        return status;
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

/* Our own uid is let in; as root, a child that drops to another uid before
 * connecting is refused, and its uid is reported. */
static void test_peer(void **state)
{
        int sv[2];
        lcd_error_t *err = NULL;
        unsigned uid;
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        assert_int_equal(lcd_access_peer(sv[0], &uid, &err), LCD_OK);
        assert_null(err);
        assert_int_equal(uid, geteuid());
        close(sv[0]);
        close(sv[1]);
        if (geteuid() != 0) {
                print_message("not root: the other-uid case needs root to drop to another uid\n");
                return;
        }
        char dir[] = "/tmp/lcd-test-access-XXXXXX";
        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, 0755), 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/s", dir);
        int l = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_true(l >= 0);
        assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
        assert_int_equal(chmod(sa.sun_path, 0666), 0);
        assert_int_equal(listen(l, 1), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int c = socket(AF_UNIX, SOCK_STREAM, 0);
                if (setgid(65534) < 0 || setuid(65534) < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa) < 0)
                        _exit(1);
                char b;
                (void)!read(c, &b, 1); /* until the parent has looked */
                _exit(0);
        }
        int a = accept(l, NULL, NULL);
        assert_true(a >= 0);
        assert_int_equal(lcd_access_peer(a, &uid, &err), LCD_ERR);
        assert_int_equal(uid, 65534);
        assert_int_equal(err->kind, LCD_E_FORBIDDEN);
        assert_non_null(strstr(err->msg, "own user"));
        lcd_error_free(err);
        close(a);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_int_equal(st, 0);
        close(l);
        unlink(sa.sun_path);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_token), cmocka_unit_test(test_host_and_origin),
                                           cmocka_unit_test(test_token_helpers), cmocka_unit_test(test_peer)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}

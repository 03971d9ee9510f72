/* test_sdnotify.c - readiness reaches the service manager's socket (a path
 * and an abstract one), and nothing happens without one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lcd/sdnotify.h"

static void receive_on(const char *env_value, struct sockaddr_un *sa, socklen_t len)
{
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)sa, len), 0);
        setenv("NOTIFY_SOCKET", env_value, 1);
        assert_int_equal(lcd_sd_notify("READY=1"), 0);
        char buf[64] = "";
        assert_int_equal(recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT), 7);
        assert_string_equal(buf, "READY=1");
        close(fd);
}

static void test_path_and_abstract(void **state)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/lcd-notify-%d", (int)getpid());
        unlink(sa.sun_path);
        receive_on(sa.sun_path, &sa, sizeof sa);
        unlink(sa.sun_path);

        struct sockaddr_un ab = {.sun_family = AF_UNIX};
        char name[64];
        int n = snprintf(name, sizeof name, "@lcd-notify-%d", (int)getpid());
        memcpy(ab.sun_path, name, (size_t)n);
        ab.sun_path[0] = '\0';
        receive_on(name, &ab, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n));
}

static void test_without_a_manager(void **state)
{
        unsetenv("NOTIFY_SOCKET");
        assert_int_equal(lcd_sd_notify("READY=1"), 0);
        setenv("NOTIFY_SOCKET", "relative/path", 1);
        assert_int_equal(lcd_sd_notify("READY=1"), -22);
        setenv("NOTIFY_SOCKET", "/nonexistent/socket", 1);
        assert_true(lcd_sd_notify("READY=1") < 0);
        unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_path_and_abstract),
                                           cmocka_unit_test(test_without_a_manager)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_portspec.c - docker's -p syntax: what parses, and what is refused
 * with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "portspec.h"

static void test_forms(void **state)
{
        (void)state;
        ctl_port_t p;
        char why[256];
        assert_int_equal(ctl_portspec_parse("8080:80", &p, why, sizeof why), 0);
        assert_string_equal(p.host_ip, "");
        assert_int_equal(p.host_port, 8080);
        assert_int_equal(p.container_port, 80);
        assert_false(p.udp);
        assert_int_equal(ctl_portspec_parse("127.0.0.1:5353:53/udp", &p, why, sizeof why), 0);
        assert_string_equal(p.host_ip, "127.0.0.1");
        assert_int_equal(p.host_port, 5353);
        assert_int_equal(p.container_port, 53);
        assert_true(p.udp);
        assert_int_equal(ctl_portspec_parse("[::1]:8443:443/tcp", &p, why, sizeof why), 0);
        assert_string_equal(p.host_ip, "::1");
        assert_int_equal(p.host_port, 8443);
        assert_int_equal(p.container_port, 443);
        assert_int_equal(ctl_portspec_parse("65535:1", &p, why, sizeof why), 0);
}

static void test_refusals(void **state)
{
        (void)state;
        static const struct {
                const char *spec, *why;
        } bad[] = {
                {"80", "give both ports"},
                {"0:80", "1..65535"},
                {"65536:80", "1..65535"},
                {"8080:80/sctp", "tcp or udp"},
                {"8080:-1", "1..65535"},
                {"8080:8o", "1..65535"},
                {"nowhere:8080:80", "not an IP address"},
                {"[::1:8080:80", "']:'"},
                {"1.2.3.4:8080:", "1..65535"},
                {"8000-8010:80", "1..65535"},
                {"", "give both ports"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                ctl_port_t p;
                char why[256] = "";
                assert_int_equal(ctl_portspec_parse(bad[i].spec, &p, why, sizeof why), -1);
                if (strstr(why, bad[i].why) == NULL)
                        fail_msg("-p '%s': '%s' does not say '%s'", bad[i].spec, why, bad[i].why);
        }
        char long_spec[300];
        memset(long_spec, '1', sizeof long_spec - 1);
        long_spec[sizeof long_spec - 1] = '\0';
        ctl_port_t p;
        char why[256];
        assert_int_equal(ctl_portspec_parse(long_spec, &p, why, sizeof why), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_forms),
                cmocka_unit_test(test_refusals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

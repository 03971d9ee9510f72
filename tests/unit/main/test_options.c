/* test_options.c - the daemon's flags (src/options.c): the defaults, each
 * numeric flag landing in its own field at both of its bounds, a value
 * past either bound refused with the flag's range (exit 2), and the
 * combinations that cannot work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lcd/api.h"
#include "lcd/engine.h"
#include "options.h"

/* Parse the flags in args (NULL-terminated, without the program name);
 * stderr goes to errbuf. The status lcd_options_parse returned. */
static int parse(const char *const *args, lcd_options_t *o, char *errbuf, size_t errlen)
{
        char *argv[32] = {"light-containerd"};
        int argc = 1;
        for (; args[argc - 1] != NULL; argc++)
                argv[argc] = (char *)args[argc - 1];
        optind = 0; /* glibc: a full reset */
        fflush(stderr);
        FILE *saved = stderr, *mem = fmemopen(errbuf, errlen, "w");
        assert_non_null(mem);
        memset(errbuf, 0, errlen);
        stderr = mem;
        int status = lcd_options_parse(argc, argv, o);
        stderr = saved;
        fclose(mem);
        errbuf[errlen - 1] = '\0';
        return status;
}

static void test_defaults(void **state)
{
        lcd_options_t o;
        char err[2048];
        const char *none[] = {NULL};
        assert_int_equal(parse(none, &o, err, sizeof err), -1);
        assert_string_equal(o.listen_addr, "127.0.0.1");
        assert_int_equal(o.port, 7780);
        assert_int_equal(o.workers, 4);
        assert_int_equal(o.pull_workers, 2);
        assert_int_equal(o.queue, 64);
        assert_int_equal(o.max_containers, 1024);
        assert_int_equal(o.history, 4096);
        assert_int_equal(o.heartbeat, 15);
        assert_int_equal(o.pull_timeout, 600);
        assert_int_equal(o.tool_timeout, 60);
        assert_int_equal(o.log_max, LCD_LOG_MAX_DEFAULT);
        assert_int_equal(o.max_image, LCD_IMAGE_MAX_DEFAULT);
        assert_int_equal(o.max_clients, 256);
        assert_int_equal(o.max_message, LCD_RPC_MAX_MESSAGE);
        assert_int_equal(o.max_inflight, 64);
        assert_int_equal(o.max_depth, LCD_RPC_MAX_DEPTH);
        assert_int_equal(o.send_queue, 1024);
        assert_int_equal(o.max_pending, 256);
        assert_null(o.socket_path);
        assert_null(o.insecure[0]);
        assert_false(o.allow_root);
}

/* Each numeric flag: its field, its bounds, its message. */
static const struct {
        const char *flag, *lo, *hi, *below, *above, *message;
        size_t field;
        long long lo_v, hi_v;
        bool wide; /* a long long field */
} flags[] = {
#define U(f, fld, l, h, b, a, m)                                                                                       \
        {                                                                                                              \
                f, #l, #h, b, a, m, offsetof(lcd_options_t, fld), l, h, false                                          \
        }
        U("--workers", workers, 1, 64, "0", "65", "--workers must be 1..64, not '65'"),
        U("--pull-workers", pull_workers, 1, 16, "0", "17", "--pull-workers must be 1..16, not '17'"),
        U("--queue", queue, 1, 65536, "0", "65537", "--queue must be 1..65536, not '65537'"),
        U("--max-containers", max_containers, 1, 65536, "0", "65537", "--max-containers must be 1..65536, not '65537'"),
        U("--event-history", history, 16, 1048576, "15", "1048577",
          "--event-history must be 16..1048576, not '1048577'"),
        U("--heartbeat", heartbeat, 0, 3600, "-1", "3601", "--heartbeat must be 0..3600 seconds, not '3601'"),
        U("--max-clients", max_clients, 1, 8000, "0", "8001", "--max-clients must be 1..8000, not '8001'"),
        U("--max-message", max_message, 1024, 16777216, "1023", "16777217",
          "--max-message must be 1024..16777216 bytes, not '16777217'"),
        U("--max-pending", max_pending, 1, 4096, "0", "4097", "--max-pending must be 1..4096, not '4097'"),
        U("--max-inflight", max_inflight, 1, 65536, "0", "65537", "--max-inflight must be 1..65536, not '65537'"),
        U("--max-depth", max_depth, 2, 64, "1", "65", "--max-depth must be 2..64, not '65'"),
        U("--send-queue", send_queue, 16, 65536, "15", "65537", "--send-queue must be 16..65536 messages, not '65537'"),
        U("--pull-timeout", pull_timeout, 1, 86400, "0", "86401",
          "--pull-timeout must be 1..86400 seconds, not '86401'"),
        U("--tool-timeout", tool_timeout, 1, 3600, "0", "3601", "--tool-timeout must be 1..3600 seconds, not '3601'"),
#undef U
        {"--log-max", "64k", "1024G", "65535", "1025G", "--log-max must be 64k..1024G bytes, not '1025G'",
         offsetof(lcd_options_t, log_max), 64 * 1024, 1LL << 40, true},
        {"--max-image-size", "1", "1048576G", "0", "1048577G",
         "--max-image-size must be a size in bytes (k, M, G), not '1048577G'", offsetof(lcd_options_t, max_image), 1,
         1LL << 50, true},
};

static long long field_of(const lcd_options_t *o, size_t off, bool wide)
{
        const char *p = (const char *)o + off;
        if (wide) {
                long long v;
                memcpy(&v, p, sizeof v);
                return v;
        }
        unsigned v;
        memcpy(&v, p, sizeof v);
        return v;
}

static void test_numeric_flags(void **state)
{
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
                lcd_options_t o;
                char err[2048];
                const char *lo[] = {flags[i].flag, flags[i].lo, NULL}, *hi[] = {flags[i].flag, flags[i].hi, NULL};
                assert_int_equal(parse(lo, &o, err, sizeof err), -1);
                assert_int_equal(field_of(&o, flags[i].field, flags[i].wide), flags[i].lo_v);
                assert_int_equal(parse(hi, &o, err, sizeof err), -1);
                assert_int_equal(field_of(&o, flags[i].field, flags[i].wide), flags[i].hi_v);
                const char *below[] = {flags[i].flag, flags[i].below, NULL};
                const char *above[] = {flags[i].flag, flags[i].above, NULL};
                const char *junk[] = {flags[i].flag, "12x", NULL};
                assert_int_equal(parse(below, &o, err, sizeof err), 2);
                assert_int_equal(parse(junk, &o, err, sizeof err), 2);
                assert_int_equal(parse(above, &o, err, sizeof err), 2);
                char want[300];
                snprintf(want, sizeof want, "light-containerd: %s\nusage: light-containerd", flags[i].message);
                if (strncmp(err, want, strlen(want)) != 0)
                        fail_msg("%s: got '%s'", flags[i].flag, err);
        }
}

static void test_other_flags(void **state)
{
        lcd_options_t o;
        char err[2048];
        const char *ok[] = {"--listen", "none", "--insecure-registry", "r:5000", "--allow-root", "--log-max",
                            "16M",      NULL};
        assert_int_equal(parse(ok, &o, err, sizeof err), -1);
        assert_string_equal(o.listen_addr, "");
        assert_string_equal(o.insecure[0], "r:5000");
        assert_null(o.insecure[1]);
        assert_true(o.allow_root);
        assert_int_equal(o.log_max, 16 * 1024 * 1024);
        const char *port[] = {"--listen", "127.0.0.1:0", NULL};
        assert_int_equal(parse(port, &o, err, sizeof err), -1);
        assert_int_equal(o.port, 0);
        const char *open[] = {"--listen", "0.0.0.0:7780", NULL};
        assert_int_equal(parse(open, &o, err, sizeof err), 2);
        assert_non_null(strstr(err, "without TLS"));
        const char *half[] = {"--tls-cert", "c.pem", NULL};
        assert_int_equal(parse(half, &o, err, sizeof err), 2);
        assert_non_null(strstr(err, "--tls-cert and --tls-key go together"));
        const char *unknown[] = {"--frobnicate", NULL};
        assert_int_equal(parse(unknown, &o, err, sizeof err), 2);
        assert_non_null(strstr(err, "unknown or incomplete option '--frobnicate'"));
        const char *missing[] = {"--workers", NULL};
        assert_int_equal(parse(missing, &o, err, sizeof err), 2);
        const char *extra[] = {"extra", NULL};
        assert_int_equal(parse(extra, &o, err, sizeof err), 2);
        assert_non_null(strstr(err, "unexpected argument 'extra'"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_numeric_flags),
                cmocka_unit_test(test_other_flags),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

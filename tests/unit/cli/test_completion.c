/* test_completion.c - lightctl's completion script (src/cli/completion.c):
 * the commands and global options of the tables it is given, each
 * command's options, the ones taking a value and its arguments read from
 * the usage text, and the refusals: another shell, a name or option that
 * could break out of the script's quotes, a usage too long, a stream that
 * cannot be written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"

static int run_none(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        return 0;
}

static const struct option globals[] = {{"socket", required_argument, NULL, 's'},
                                        {"json", no_argument, NULL, 'j'},
                                        {"timeout", required_argument, NULL, 't'},
                                        {NULL, 0, NULL, 0}};

static const ctl_command_t table[] = {
        {"ps", "", "list", run_none, false},
        {"stop", "[--time SECONDS] NAME[:TAG]...", "stop", run_none, false},
        {"logs", "[-f] [--tail N] NAME[:TAG]", "logs", run_none, false},
        {"create", "[--name N] [--env K=V]... [--workdir DIR] IMAGE [CMD [ARG...]]", "make", run_none, false},
        {"rmi", "IMAGE...", "remove", run_none, false},
        {"frob-nicate", "[--loud] [--level N] bash|zsh", "a new command", run_none, true},
        {NULL, NULL, NULL, NULL, false},
};

/* The script for shell from cmds; *out gets it (caller frees). The return
 * of ctl_completion_write. */
static int generate(const char *shell, const ctl_command_t *cmds, char **out)
{
        size_t len = 0;
        FILE *f = open_memstream(out, &len);
        assert_non_null(f);
        int r = ctl_completion_write(f, shell, cmds, globals);
        assert_int_equal(fclose(f), 0);
        return r;
}

static void test_commands_and_globals_come_from_the_tables(void **state)
{
        char *s = NULL;
        assert_int_equal(generate("bash", table, &s), 0);
        assert_non_null(strstr(s, "\n_lightctl_commands='ps stop logs create rmi frob-nicate'\n"));
        assert_non_null(strstr(s, "\n_lightctl_globals='--socket --json --timeout'\n"));
        assert_non_null(strstr(s, "\n_lightctl_global_values='--socket --timeout'\n"));
        assert_non_null(strstr(s, "\ncomplete -F _lightctl lightctl\n"));
        assert_null(strstr(s, "bashcompinit"));
        assert_null(strstr(s, "eval "));
        free(s);
}

static void test_each_command_read_from_its_usage(void **state)
{
        char *s = NULL;
        assert_int_equal(generate("bash", table, &s), 0);
        assert_non_null(strstr(s, "    ps) _lo='' _lv='' _la='' ;;\n"));
        assert_non_null(strstr(s, "    stop) _lo='--time' _lv='--time' _la='name...' ;;\n"));
        assert_non_null(strstr(s, "    logs) _lo='-f --tail' _lv='--tail' _la='name' ;;\n"));
        assert_non_null(strstr(s, "    create) _lo='--name --env --workdir' _lv='--name --env --workdir' "
                                  "_la='image - -...' ;;\n"));
        assert_non_null(strstr(s, "    rmi) _lo='' _lv='' _la='image...' ;;\n"));
        assert_non_null(strstr(s, "    frob-nicate) _lo='--loud --level' _lv='--level' _la='bash|zsh' ;;\n"));
        free(s);
}

static void test_zsh_loads_bash_completion_first(void **state)
{
        char *s = NULL;
        assert_int_equal(generate("zsh", table, &s), 0);
        char *init = strstr(s, "bashcompinit && bashcompinit\n"), *spec = strstr(s, "\n_lightctl_spec() {");
        assert_non_null(init);
        assert_non_null(spec);
        assert_true(init < spec);
        free(s);
}

static void test_refusals(void **state)
{
        char *s = NULL;
        assert_int_equal(generate("fish", table, &s), -EINVAL);
        free(s);
        /* a quote in a name or an option would end the script's quoting */
        const ctl_command_t quoted_name[] = {{"a'b", "", "", run_none, false}, {NULL, NULL, NULL, NULL, false}};
        assert_int_equal(generate("bash", quoted_name, &s), -EINVAL);
        free(s);
        const ctl_command_t quoted_option[] = {{"x", "[--a'b N]", "", run_none, false},
                                               {NULL, NULL, NULL, NULL, false}};
        assert_int_equal(generate("bash", quoted_option, &s), -EINVAL);
        free(s);
        /* more options than its bounded buffers hold */
        static char usage[4096];
        size_t n = 0;
        while (n + 16 < sizeof usage) /* over the 1024 bytes of a list */
                n += (size_t)snprintf(usage + n, sizeof usage - n, "[--opt%04zu] ", n);
        const ctl_command_t too_long[] = {{"x", usage, "", run_none, false}, {NULL, NULL, NULL, NULL, false}};
        assert_int_equal(generate("bash", too_long, &s), -ENOSPC);
        free(s);
        /* a stream that cannot be written */
        FILE *full = fopen("/dev/full", "w");
        if (full != NULL) {
                assert_int_equal(ctl_completion_write(full, "bash", table, globals), -EIO);
                fclose(full);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_commands_and_globals_come_from_the_tables),
                cmocka_unit_test(test_each_command_read_from_its_usage),
                cmocka_unit_test(test_zsh_loads_bash_completion_first),
                cmocka_unit_test(test_refusals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

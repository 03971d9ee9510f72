/* execcmd.c - lightctl exec: a process in a running container, over the
 * daemon's exec stream (docs/API.md, Streams).
 *
 * DESIGN: the command connects to /v1/containers/NAME/TAG/exec itself
 * (subprotocol v5.channel.k8s.io) rather than to /v1/ws, its query built
 * from the options (percent-encoded, bounded), and hands the stream to
 * stream.c's loop, with the terminal in raw mode for -it. lightctl exits
 * with the process's exit code; 125 when the exec could not start
 * (docker's code for "the daemon's error").
 */
#include "execcmd.h"

#include "client.h"
#include "stream.h"

#include "lcd/alloc.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PATH_MAX_LEN 8192 /* the request line: the daemon takes at most its header limit anyway */

/* Append s percent-encoded (all but RFC 3986's unreserved) to buf. */
static int append_encoded(char *buf, size_t len, size_t *used, const char *key, const char *s)
{
        int n = snprintf(buf + *used, len - *used, "%s%s=", *used > 0 && buf[*used - 1] != '?' ? "&" : "", key);
        if (n < 0 || (size_t)n >= len - *used)
                return -1;
        *used += (size_t)n;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                             c == '.' || c == '_' || c == '~';
                if (*used + 4 >= len)
                        return -1;
                *used += (size_t)(plain ? snprintf(buf + *used, 2, "%c", c) : snprintf(buf + *used, 4, "%%%02X", c));
        }
        return 0;
}

int ctl_cmd_exec(int argc, char **argv)
{
        bool interactive = false, tty = false;
        static const struct option opts[] = {
                {"interactive", no_argument, NULL, 'i'}, {"tty", no_argument, NULL, 't'},
                {"env", required_argument, NULL, 'e'},   {"workdir", required_argument, NULL, 'w'},
                {"user", required_argument, NULL, 'u'},  {NULL, 0, NULL, 0}};
        static char path[PATH_MAX_LEN];
        char query[PATH_MAX_LEN] = "";
        size_t q = 0;
        optind = 1;
        int c;
        bool fits = true; /* the request within PATH_MAX_LEN */
        while ((c = getopt_long(argc, argv, "+ite:w:u:", opts, NULL)) != -1) {
                if (c == 'i')
                        interactive = true;
                else if (c == 't')
                        tty = true;
                else if (c == 'e' || c == 'w' || c == 'u')
                        fits = fits && append_encoded(query, sizeof query, &q,
                                                      c == 'e'   ? "env"
                                                      : c == 'w' ? "workdir"
                                                                 : "user",
                                                      optarg) == 0;
                else
                        return ctl_bad_usage("exec: bad option%s", "");
        }
        if (argc - optind < 2)
                return ctl_bad_usage("exec needs NAME[:TAG] and a command%s", "");
        char name[256];
        const char *tag = ctl_split_key(argv[optind], name, sizeof name);
        for (int i = optind + 1; i < argc; i++)
                fits = fits && append_encoded(query, sizeof query, &q, "command", argv[i]) == 0;
        fits = fits && (!interactive || append_encoded(query, sizeof query, &q, "stdin", "1") == 0) &&
               (!tty || append_encoded(query, sizeof query, &q, "tty", "1") == 0);
        int n = snprintf(path, sizeof path, "/v1/containers/%s/%s/exec?%s", name, tag, query);
        if (!fits || n < 0 || (size_t)n >= sizeof path)
                return ctl_bad_usage("exec: the request is over %s bytes", "8192");
        if (ctl_stream_check_input(interactive, tty) != 0)
                return EXIT_USAGE;
        if (ctl_connect_to(path, "v5.channel.k8s.io") < 0)
                return EXIT_CONNECT;
        if (tty && interactive)
                ctl_stream_terminal();
        ctl_stream_t s = {.ws = ctl.ws, .interactive = interactive, .tty = tty};
        return ctl_stream_run(&s);
}

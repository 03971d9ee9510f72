/* attachcmd.c - see attachcmd.h: lightctl attach, and run -i/-t, on the
 * daemon's attach stream (docs/API.md, Streams).
 *
 * DESIGN: beside the JSON-RPC connection (ctl.ws), a second WebSocket to
 * /v1/containers/NAME/TAG/attach carries the container's stdio, run by
 * stream.c's loop. attach asks the container whether it has a terminal
 * and stdin first (container.inspect). run -it attaches before it starts
 * the container (from the stream's ready frame, once the terminal's size
 * is sent), so that nothing the process writes first is missed. On a
 * terminal with stdin, ctrl-p ctrl-q detaches: the container runs on.
 */
#include "attachcmd.h"

#include "client.h"
#include "stream.h"

#include "lcd/alloc.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The attach stream of name:tag (with its stdin), or NULL after saying why. */
static lcd_ws_t *open_attach(const char *key, bool with_stdin)
{
        char name[256], path[700];
        const char *tag = ctl_split_key(key, name, sizeof name);
        snprintf(path, sizeof path, "/v1/containers/%s/%s/attach%s", name, tag, with_stdin ? "?stdin=1" : "");
        lcd_ws_t *rpc = ctl.ws;
        lcd_ws_t *ws = ctl_connect_to(path, "v5.channel.k8s.io") == 0 ? ctl.ws : NULL;
        ctl.ws = rpc;
        return ws;
}

/* The stream of key to its end: the exit status, or CTL_STREAM_DETACHED
 * (said). */
static int run_stream(const char *key, lcd_ws_t *ws, bool interactive, bool tty, int (*on_ready)(void *), void *arg)
{
        bool keys = interactive && isatty(STDIN_FILENO);
        if (tty && keys)
                ctl_stream_terminal();
        ctl_stream_t s = {.ws = ws,
                          .interactive = interactive,
                          .tty = tty,
                          .detach_keys = keys,
                          .on_ready = on_ready,
                          .arg = arg};
        int code = ctl_stream_run(&s);
        lcd_ws_close(ws);
        if (code == CTL_STREAM_DETACHED)
                fprintf(stderr, "\r\nlightctl: detached from %s, which runs on (lightctl attach %s)\r\n", key, key);
        return code;
}

int ctl_cmd_attach(int argc, char **argv)
{
        bool no_stdin = false;
        int i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (strcmp(argv[i], "--no-stdin") != 0)
                        return ctl_bad_usage("attach: unknown option %s", argv[i]);
                no_stdin = true;
        }
        if (i != argc - 1)
                return ctl_bad_usage("attach needs one NAME[:TAG]%s", "");
        const char *key = argv[i];
        int status;
        json_object *reply = ctl_call_key("container.inspect", key, &status);
        if (reply == NULL)
                return status;
        json_object *c = ctl_result(reply), *t = NULL, *in = NULL;
        bool tty = json_object_object_get_ex(c, "tty", &t) && json_object_get_boolean(t);
        bool with_stdin = !no_stdin && json_object_object_get_ex(c, "stdin", &in) && json_object_get_boolean(in);
        json_object_put(reply);
        if (ctl_stream_check_input(with_stdin, tty) != 0) {
                fprintf(stderr, "lightctl: (or attach --no-stdin to watch only)\n");
                return EXIT_USAGE;
        }
        lcd_ws_t *ws = open_attach(key, with_stdin);
        if (ws == NULL)
                return EXIT_CONNECT;
        int code = run_stream(key, ws, with_stdin, tty, NULL, NULL);
        return code == CTL_STREAM_DETACHED ? 0 : code;
}

/* on_ready of run: start the container, now that its output is attached. */
static int start_it(void *arg)
{
        int status;
        json_object *reply = ctl_call_key("container.start", arg, &status);
        if (reply == NULL)
                return status;
        json_object_put(reply);
        return 0;
}

int ctl_run_attached(const char *key, bool interactive, bool tty, bool rm)
{
        if (ctl_stream_check_input(interactive, tty) != 0) { /* the container is created: it goes again */
                json_object_put(ctl_call_key("container.remove", key, &(int){0}));
                return EXIT_USAGE;
        }
        lcd_ws_t *ws = open_attach(key, interactive);
        int code = ws != NULL ? run_stream(key, ws, interactive, tty, start_it, (void *)key) : EXIT_CONNECT;
        if (code == CTL_STREAM_DETACHED) {
                if (rm)
                        fprintf(stderr, "lightctl: %s is not removed (--rm removes what lightctl saw end)\n", key);
                return 0;
        }
        if (rm) {
                int status;
                json_object *reply = ctl_call_key("container.remove", key, &status);
                if (reply == NULL)
                        return status;
                json_object_put(reply);
        }
        return code;
}

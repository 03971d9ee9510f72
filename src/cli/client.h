/* client.h - lightctl's run: its settings, its connection to the daemon,
 * one call at a time, and what every command uses to build, parse and
 * print (client.c). Private to the cli wing; one thread.
 */
#ifndef LCD_CLI_CLIENT_H
#define LCD_CLI_CLIENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "message.h"
#include "wsclient.h"

/* exit statuses */
#define EXIT_ERROR 1   /* the daemon answered with an error */
#define EXIT_USAGE 2   /* the command line is wrong */
#define EXIT_CONNECT 3 /* the daemon cannot be reached, or stopped answering */

typedef struct {
        const char *target;     /* the socket path, or ws[s]://HOST:PORT */
        const char *token_file; /* --token-file */
        const char *cacert;     /* wss: the CA to trust */
        bool insecure;          /* wss: do not verify the certificate */
        char token[256];        /* the token sent on TCP ("" on the Unix socket) */
        bool json;              /* --json: print the JSON */
        int timeout_ms;         /* --timeout: the wait for one reply */
        lcd_ws_t *ws;
        long next_id;
        bool progress; /* draw image.progress events on stderr while waiting (a TTY) */
} lcd_ctl_t;

extern lcd_ctl_t ctl;

/* One command of the table (commands.c): its name, its arguments and what
 * it does (for the usage text and the completion script), and its handler:
 * (argc, argv) with argv[0] the name; returns the exit status. The
 * daemon is connected before run, unless offline. */
typedef struct {
        const char *name;
        const char *args;
        const char *help;
        int (*run)(int argc, char **argv);
        bool offline; /* runs without the daemon */
} ctl_command_t;

int ctl_connect(void); /* 0, or -1 after saying why */
/* "name[:tag]": the name into name (len bytes), the tag returned (in name's
 * buffer, or "latest"). */
const char *ctl_split_key(const char *arg, char *name, size_t len);
/* ... to another path of the daemon, asking for a subprotocol (NULL: none). */
int ctl_connect_to(const char *path, const char *protocol);
/* Send a request (params consumed, may be NULL) and wait for its reply,
 * skipping notifications. The reply (caller puts) or NULL after printing
 * why; *status gets the exit status to use. */
json_object *ctl_call(const char *method, json_object *params, int *status);
json_object *ctl_result(json_object *reply);
/* {"name","tag"} from "name[:tag]"; NULL without memory. */
json_object *ctl_key_params(const char *key);
/* ctl_call with ctl_key_params(key). */
json_object *ctl_call_key(const char *method, const char *key, int *status);
const char *ctl_recv_error(int r); /* why a receive failed */
/* After a subscription (events, logs -f): hand each message that arrives
 * to each(m, arg) until it returns non-zero (0 then) or the connection
 * ends (EXIT_CONNECT, after saying "lightctl: WHAT stream ended: why"). */
int ctl_follow(const char *what, int (*each)(const ctl_msg_t *m, void *arg), void *arg);
/* On a terminal (and without --json), draw the daemon's image.progress
 * events while the next call waits. */
void ctl_watch_progress(void);
/* A token from a file (its first line), never through a symlink. 0, or -1
 * after saying why. */
int ctl_read_token_file(const char *path, char *token, size_t len);

/* What every command uses. */
/* Say what is wrong with a command's arguments (fmt with one %s): EXIT_USAGE. */
int ctl_bad_usage(const char *fmt, const char *arg);
int ctl_out_of_memory(json_object *a, json_object *b); /* puts both, says so: EXIT_ERROR */
/* A whole number in [min, max] from text, or say what is wrong: 0 or EXIT_USAGE. */
int ctl_parse_num(const char *what, const char *text, long long min, long long max, long long *out);
void ctl_print_json(json_object *o);      /* pretty, for a result */
void ctl_print_json_line(json_object *o); /* on one line, for a stream: an event, a log line */
/* Call method (params consumed) and print its result: print(result), or
 * the JSON with --json or without print. The exit status. */
int ctl_simple(const char *method, json_object *params, void (*print)(json_object *));

#endif

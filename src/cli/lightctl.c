/* lightctl.c - the command-line client: one JSON-RPC call per command over
 * the daemon's WebSocket API (events: a subscription that prints until
 * interrupted). Tables by default, --json for machines. Exit status: 0 ok,
 * 1 the daemon answered with an error, 2 usage, 3 cannot reach the daemon.
 *
 * DESIGN: this file reads the global options (their table is in
 * commands.c), finds the command in the command table and runs it, after
 * connecting to the daemon unless the command is offline (completion); the
 * usage text and the completion script are made from the same tables, so
 * a command cannot be listed without existing or the reverse.
 */
#include "client.h"
#include "commands.h"

#include "lcd/dirs.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_usage(FILE *f)
{
        fputs("usage: lightctl [--socket PATH | --host ws[s]://HOST:PORT [--token-file PATH] [--cacert PEM | "
              "--insecure]]\n"
              "                [--json] [--timeout SECONDS] COMMAND [ARGS]\n"
              "\ncommands:\n",
              f);
        for (const ctl_command_t *c = ctl_commands; c->name != NULL; c++) {
                char synopsis[160];
                snprintf(synopsis, sizeof synopsis, "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
                if (strlen(synopsis) <= 36)
                        fprintf(f, "  %-36s %s\n", synopsis, c->help);
                else
                        fprintf(f, "  %s\n  %-36s %s\n", synopsis, "", c->help);
        }
        fputs("\nNAME without :TAG means NAME:latest. The socket defaults to\n"
              "$XDG_RUNTIME_DIR/light-containerd/api.sock (or $LIGHTCTL_SOCKET). Over TCP the\n"
              "token comes from --token-file, $LIGHTCTL_TOKEN or the daemon's token file. wss://\n"
              "checks the daemon's certificate against the system's CAs or --cacert; --insecure\n"
              "skips that check (encryption without knowing who answers).\n"
              "\nShell completion: source <(lightctl completion bash) (or zsh), or save its\n"
              "output in /etc/bash_completion.d/lightctl.\n",
              f);
}

static int usage(const char *fmt, const char *arg)
{
        if (fmt != NULL) {
                fprintf(stderr, "lightctl: ");
                fprintf(stderr, fmt, arg);
                fputc('\n', stderr);
        }
        print_usage(stderr);
        return EXIT_USAGE;
}

int main(int argc, char **argv)
{
        char sock[PATH_MAX];
        const char *env_sock = getenv("LIGHTCTL_SOCKET");
        char rt[PATH_MAX];
        bool fallback;
        if (env_sock != NULL)
                snprintf(sock, sizeof sock, "%s", env_sock);
        else if (lcd_dirs_runtime_default(rt, sizeof rt, &fallback) == 0)
                snprintf(sock, sizeof sock, "%s/api.sock", rt);
        else
                sock[0] = '\0';
        ctl.target = sock;
        int c;
        while ((c = getopt_long(argc, argv, "+hj", ctl_global_options, NULL)) != -1) {
                switch (c) {
                case 's':
                case 'u':
                        ctl.target = optarg;
                        break;
                case 'T':
                        ctl.token_file = optarg;
                        break;
                case 'C':
                        ctl.cacert = optarg;
                        break;
                case 'k':
                        ctl.insecure = true;
                        break;
                case 'j':
                        ctl.json = true;
                        break;
                case 't': {
                        char *end;
                        long t = strtol(optarg, &end, 10);
                        if (*end || t <= 0 || t > 86400)
                                return usage("--timeout takes seconds (1..86400), not '%s'", optarg);
                        ctl.timeout_ms = (int)t * 1000;
                        break;
                }
                case 'h':
                        print_usage(stdout);
                        return 0;
                default:
                        return usage("unknown option%s", "");
                }
        }
        if (optind >= argc)
                return usage("missing COMMAND%s", "");
        const ctl_command_t *cmd = ctl_commands;
        while (cmd->name != NULL && strcmp(cmd->name, argv[optind]) != 0)
                cmd++;
        if (cmd->name == NULL)
                return usage("unknown command '%s'", argv[optind]);
        if (!cmd->offline && ctl_connect() < 0)
                return EXIT_CONNECT;
        int status = cmd->run(argc - optind, argv + optind);
        lcd_ws_close(ctl.ws);
        return status;
}

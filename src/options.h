/* options.h - the daemon's command line (options.c). */
#ifndef LCD_OPTIONS_H
#define LCD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#define LCD_OPTIONS_MAX_LIST 32 /* --insecure-registry, --allow-host, --allow-origin: each at most */

/* What the flags ask for, every value checked. Strings point into argv;
 * lists end with NULL. */
typedef struct {
        const char *socket_path, *data_dir, *runtime_dir; /* NULL: the defaults */
        char listen_addr[256];                            /* "": no TCP listener (--listen none) */
        unsigned port;
        unsigned workers, pull_workers, queue, max_containers, history, heartbeat;
        unsigned network_spares;
        unsigned max_execs;
        unsigned pull_timeout, tool_timeout; /* seconds */
        long long log_max, max_image;        /* bytes */
        const char *insecure[LCD_OPTIONS_MAX_LIST + 1];
        const char *allow_hosts[LCD_OPTIONS_MAX_LIST + 1], *allow_origins[LCD_OPTIONS_MAX_LIST + 1];
        const char *tls_cert, *tls_key; /* both or neither */
        unsigned max_clients, max_message, max_inflight, max_depth, send_queue, max_pending;
        bool allow_root, shared_keyring;
} lcd_options_t;

/* Parse argv (after "light-containerd") into *o. -1: go on and start;
 * otherwise the exit status: 0 after --help or --version (printed on
 * stdout), 2 after a usage error (said on stderr with the usage line). */
int lcd_options_parse(int argc, char **argv, lcd_options_t *o);

#endif

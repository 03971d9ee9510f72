/* network.h - a container's network: its namespace, its pasta, its
 * /etc/hosts, /etc/resolv.conf and /etc/hostname.
 *
 * DESIGN: a private network is a network namespace the daemon makes
 * itself (a short-lived thread unshares one and bind-mounts it on
 * <dir>/<id>), owned by the daemon's user namespace, so crun joins it by
 * path and mounts sysfs in it, pasta (pasta.h) gives it outbound access
 * and DNS, and the relay (relay.h) its published ports. lcd_network_down() stops that
 * pasta, unmounts the namespace and removes the files, and is idempotent,
 * so stop, remove, a failed create and the start-up sweep after a crash
 * all call it. The network lives from create (or a start again) to the
 * container's exit: no port is held by a stopped container. "none" is a
 * namespace made the same way with only lo, up, and no pasta; "host"
 * shares the daemon's; a sharer (container:) joins its owner's by path
 * (netshare.h) and has none of its own to take down.
 * Workers and the exit watcher call these; nothing here keeps state.
 */
#ifndef LCD_NETWORK_H
#define LCD_NETWORK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lcd/net.h"
#include "lcd/error.h"
#include "lcd/runner.h"

#include "relay.h"

/* A private network made ahead (spare.h) that a create took: none, one
 * whose namespace and pasta are up, or one whose namespace is up and whose
 * pasta the pool's refill is starting (lcd_spares_wait). */
typedef enum { LCD_SPARE_NO, LCD_SPARE_UP, LCD_SPARE_STARTING } lcd_spare_t;

typedef struct {
        lcd_net_mode_t mode;
        const lcd_port_t *ports;
        size_t n_ports;
        bool allow_host_loopback;
        const char *hostname;     /* the container's */
        const char *join_id;      /* container: the owner's id, whose namespace it joins */
        lcd_net_mode_t join_mode; /* container: the owner's network */
        lcd_spare_t spare;        /* private: this id's network was made ahead (spare.h) */
} lcd_net_spec_t;

typedef struct {
        const char *dir;      /* <runtime>/netns */
        lcd_runner_t *runner; /* borrowed */
        int timeout_ms;       /* pasta's start */
        bool no_netns;        /* unit tests: the namespace is a plain file (pasta runs, faked) */
        lcd_relay_t *relay;   /* borrowed: the published ports */
} lcd_network_env_t;

/* <dir>/<id>: the namespace config.json names. */
void lcd_network_ns_path(const char *dir, const char *id, char *buf, size_t len);

/* Can the ports be published now: each host port free on its address
 * (conflict naming it) and not below net.ipv4.ip_unprivileged_port_start
 * (permission naming the sysctl), no two the same. Any thread. */
int lcd_network_check_ports(const lcd_port_t *ports, size_t n, lcd_error_t **err);

/* Write <bundle>/hosts, resolv.conf and hostname for net. 0, or LCD_ERR. */
int lcd_network_write_files(const char *bundle, const lcd_net_spec_t *net, lcd_error_t **err);

/* private: make the namespace, publish its ports (conflict when one is
 * taken meanwhile) and start its pasta (unsupported when pasta is
 * missing); nothing is left on failure. Other modes: nothing to do. Worker. */
int lcd_network_up(const lcd_network_env_t *env, const char *id, const lcd_net_spec_t *net, lcd_error_t **err);

/* Start pasta on id's namespace, which is up (no port of its own: those
 * are the relay's). 0, or LCD_ERR as lcd_network_up; nothing is taken
 * down. Worker. */
int lcd_network_start_pasta(const lcd_network_env_t *env, const char *id, const lcd_net_spec_t *net, lcd_error_t **err);

/* lcd_network_up in two halves, so that pasta's start (some 25 ms)
 * overlaps conmon's and crun create's: begin makes the namespace (which is
 * all crun needs) and starts pasta in a thread; end waits for it (0, or
 * LCD_ERR with the network taken down). The container's process must not
 * run before end returned 0 (crun create runs none of its code). p lives
 * on the caller's stack between the two, as do env, id and net. */
typedef struct {
        const lcd_network_env_t *env;
        const char *id;
        const lcd_net_spec_t *net;
        char ns[4096];
        pthread_t thread;
        bool started;
        int rc;
        lcd_error_t *err;
} lcd_network_pending_t;
int lcd_network_begin(const lcd_network_env_t *env, const char *id, const lcd_net_spec_t *net, lcd_network_pending_t *p,
                      lcd_error_t **err);
int lcd_network_end(lcd_network_pending_t *p, lcd_error_t **err);

/* Close id's published ports, kill its pasta, unmount and remove its
 * namespace. Idempotent; best effort. Any thread. */
void lcd_network_down(const lcd_network_env_t *env, const char *id);

/* id's pasta's pid, from its pid file (alive or not); -1 without one. */
pid_t lcd_network_pid(const char *dir, const char *id);

/* The namespace's first IPv4 address other than loopback, into buf
 * (LCD_ADDR_MAX). 0 or -errno. */
int lcd_network_address(const char *ns_path, char *buf, size_t len);

/* Start-up: take down every namespace and pasta a dead run left. Returns
 * how many. */
int lcd_network_clean_stale(const char *dir);

#endif

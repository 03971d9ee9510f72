/* engine.h - the container engine: lifecycle operations over the state map,
 * the worker pool, the image store and the runtime.
 *
 * DESIGN: the API's service thread calls in. Quick operations (list,
 * inspect, info) answer at once from the lock-free map. Long ones
 * (pull, create, start, stop, ...) are validated and claimed on the calling
 * thread -- bad input, a missing container, a wrong state or a full queue
 * fail right there and change nothing -- and then run as a job on a pool
 * worker, which calls `done` exactly once with a result or an error. Every
 * state change is published to the event sequence while the container's
 * lock is held. The engine also owns the exit watcher thread (conmon's
 * exit files, inotify), start-up cleanup of a dead run, and shutdown,
 * which removes every container.
 */
#ifndef LCD_ENGINE_H
#define LCD_ENGINE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lcd/doctor.h"
#include "lcd/error.h"
#include "lcd/events.h"
#include "lcd/net.h"
#include "lcd/runner.h"
#include "lcd/userns.h"

typedef struct lcd_engine lcd_engine_t;

#define LCD_LOG_MAX_DEFAULT (16 * 1024 * 1024)           /* --log-max, as podman's log_size_max */
#define LCD_IMAGE_MAX_DEFAULT (8LL * 1024 * 1024 * 1024) /* --max-image-size */

typedef struct {
        const char *data_dir;    /* image store and bundles */
        const char *runtime_dir; /* crun root, exit files, conmon sockets */
        unsigned workers, queue, max_containers;
        unsigned pull_workers;                  /* the pull lane's threads (pulls, creates that pull); 0: 2 */
        const char *const *insecure_registries; /* NULL-terminated host[:port] list */
        lcd_runner_t *runner;                   /* borrowed */
        lcd_events_t *events;                   /* borrowed */
        int pull_timeout_ms;                    /* skopeo copy */
        int tool_timeout_ms;                    /* every other tool run */
        int64_t log_max_bytes;                  /* each container's log; 0: the default */
        int64_t max_image_bytes;                /* an image's compressed size; 0: the default */
        const lcd_userns_t *userns;             /* borrowed; NULL: none entered */
        bool shared_keyring;                    /* --no-new-keyring */
        unsigned network_spares;                /* private networks kept ready; 0: none (LCD_NETWORK_SPARES_MAX) */
        unsigned max_execs;                     /* execs at once; 0: LCD_EXECS_DEFAULT (lcd/exec.h) */
        const lcd_check_t *checks;              /* the doctor's results (tool versions); NULL: probe */
        size_t n_checks;
        bool no_mounts; /* unit tests: no overlay mounts, no network namespaces (the tools still run) */
} lcd_engine_config_t;

/* Called once per accepted operation, on a worker thread. Ownership of
 * result and err passes to the callee; exactly one of them is non-NULL. */
typedef void (*lcd_engine_done_fn)(void *ctx, json_object *result, lcd_error_t *err);

/* Set up directories and cgroups, clean what a dead earlier run left, start
 * the pool and the exit watcher. Call before any other thread exists that
 * could be moved between cgroups. NULL with err on failure. */
lcd_engine_t *lcd_engine_new(const lcd_engine_config_t *cfg, lcd_error_t **err);
/* Stop accepting work, stop and remove every container, drain the pool.
 * Blocks (bounded by the stop timeouts). Idempotent. */
void lcd_engine_shutdown(lcd_engine_t *e);
void lcd_engine_free(lcd_engine_t *e);

typedef struct {
        const char *image;
        const char *name, *tag;              /* NULL: derived from the image */
        const char *const *cmd, *const *env; /* NULL-terminated or NULL */
        const char *workdir;                 /* NULL: the image's */
        int64_t memory_limit;                /* bytes, 0: none */
        int64_t pids_limit;                  /* 0: none */
        lcd_net_mode_t network;              /* 0: private */
        const char *net_name, *net_tag;      /* network container: whose namespace to share */
        const lcd_port_t *ports;             /* n_ports of them (private only) */
        size_t n_ports;
        const char *hostname;     /* NULL: the container's name */
        bool allow_host_loopback; /* private: the host's loopback reachable as host.containers.internal */
        bool tty;                 /* its process on a terminal (docker's -t) */
        bool stdin;               /* its stdin kept open for attached clients (docker's -i) */
} lcd_create_req_t;

/* The operations on an existing container and the states that allow each:
 * the one copy of these rules. lcd_engine_op() refuses an operation with
 * `conflict` when the container's state is not in `states` (nor, with
 * "force": true, in `with_force`); system.info publishes the table as
 * "operations" (docs/API.md) so that clients (the dashboard's buttons)
 * need no copy of it. `unchanged`: the states of `states` in which the
 * operation answers with the container as it is. Masks of LCD_CS_BIT()
 * (events.h). logs is here for the clients: it reads and changes nothing,
 * so every state allows it and nothing checks it. */
/*      op       name       states                                                 unchanged    with_force */
#define LCD_OPERATIONS(X)                                                                                              \
        X(START, "start", LCD_CS_IDLE, 0, 0)                                                                           \
        X(STOP, "stop", LCD_CS_BIT(LCD_CS_RUNNING) | LCD_CS_BIT(LCD_CS_PAUSED) | LCD_CS_IDLE, LCD_CS_IDLE, 0)          \
        X(KILL, "kill", LCD_CS_LIVE, 0, 0)                                                                             \
        X(PAUSE, "pause", LCD_CS_BIT(LCD_CS_RUNNING), 0, 0)                                                            \
        X(RESUME, "resume", LCD_CS_BIT(LCD_CS_PAUSED), 0, 0)                                                           \
        X(RESTART, "restart", LCD_CS_LIVE | LCD_CS_IDLE, 0, 0)                                                         \
        X(REMOVE, "remove", LCD_CS_IDLE, 0, LCD_CS_LIVE)                                                               \
        X(LOGS, "logs", LCD_CS_ALL, 0, 0)

typedef enum {
#define LCD_X_ENUM(op, name, states, unchanged, with_force) LCD_OP_##op,
        LCD_OPERATIONS(LCD_X_ENUM)
#undef LCD_X_ENUM
                LCD_OP__COUNT
} lcd_op_t;

typedef struct {
        const char *name;    /* "start", as the method container.<name> */
        unsigned states;     /* LCD_CS_BIT()s that allow it */
        unsigned unchanged;  /* of states, those where it changes nothing */
        unsigned with_force; /* the further states allowed with "force": true */
} lcd_op_rule_t;

/* The rule of op (LCD_OP__COUNT and beyond: NULL). Any thread. */
const lcd_op_rule_t *lcd_op_rule(lcd_op_t op);
/* The table for clients: {"start":{"states":["created","exited"]},
 * "stop":{"states":[...],"unchanged":[...]}, "remove":{"states":[...],
 * "withForce":[...]}, ...} (empty lists left out). NULL on allocation
 * failure. Any thread. */
json_object *lcd_op_rules_json(void);

typedef struct {
        lcd_op_t op;
        const char *name, *tag;
        int timeout_s; /* stop, restart: seconds before SIGKILL */
        int signal;    /* kill */
        bool force;    /* remove */
} lcd_op_req_t;

/* Asynchronous operations: 0 when accepted (done() follows), LCD_ERR with
 * err when refused at once (done() is not called). Service thread.
 * lcd_engine_op() runs every operation of LCD_OPERATIONS but logs (see
 * lcd_engine_logs). */
int lcd_engine_pull(lcd_engine_t *e, const char *ref, lcd_engine_done_fn done, void *ctx, lcd_error_t **err);
int lcd_engine_create(lcd_engine_t *e, const lcd_create_req_t *req, lcd_engine_done_fn done, void *ctx,
                      lcd_error_t **err);
int lcd_engine_op(lcd_engine_t *e, const lcd_op_req_t *req, lcd_engine_done_fn done, void *ctx, lcd_error_t **err);

/* {"lines":[{"time","stream","text"}],"offset"}: the last `tail` entries of
 * the container's log (read on a worker) and the offset where they end. */
int lcd_engine_logs(lcd_engine_t *e, const char *name, const char *tag, unsigned tail, lcd_engine_done_fn done,
                    void *ctx, lcd_error_t **err);

/* Remove a cached image and its unpacked root: conflict while a container
 * uses it. {"removed":true}. */
int lcd_engine_image_remove(lcd_engine_t *e, const char *ref, lcd_engine_done_fn done, void *ctx, lcd_error_t **err);

/* The container's log file into buf; LCD_ERR not_found. */
int lcd_engine_log_path(lcd_engine_t *e, const char *name, const char *tag, char *buf, size_t len, lcd_error_t **err);

/* Synchronous queries; any thread. NULL with err on failure. */
json_object *lcd_engine_images(lcd_engine_t *e, lcd_error_t **err);
json_object *lcd_engine_image_inspect(lcd_engine_t *e, const char *ref, lcd_error_t **err);
/* {"cpuUsageUsec","memoryBytes","pids"} from the container's cgroup; null
 * where a controller (or the cgroup) is not there. */
json_object *lcd_engine_stats(lcd_engine_t *e, const char *name, const char *tag, lcd_error_t **err);
json_object *lcd_engine_list(lcd_engine_t *e, lcd_error_t **err);
json_object *lcd_engine_inspect(lcd_engine_t *e, const char *name, const char *tag, lcd_error_t **err);
json_object *lcd_engine_info(lcd_engine_t *e, lcd_error_t **err);

/* For /metrics: containers per state, the pool, and
 * per-phase create timings (sum of microseconds and count per phase). */
typedef enum { LCD_PHASE_PULL, LCD_PHASE_UNPACK, LCD_PHASE_CREATE, LCD_PHASE_START, LCD_PHASE__COUNT } lcd_phase_t;
typedef struct {
        unsigned containers[LCD_CS__COUNT];
        unsigned queued, running, workers;
        unsigned parked;    /* stops waiting for an exit, holding no worker */
        bool exits_pending; /* the exit watcher has exit notices to read or is recording one */
        uint64_t phase_us[LCD_PHASE__COUNT], phase_count[LCD_PHASE__COUNT];
        unsigned spares_ready;                /* private networks made ahead, ready */
        uint64_t spares_taken, spares_missed; /* private creates that found one, or not */
        uint64_t spares_waited;               /* ... found one, the one being started */
        unsigned relay_conns, relay_flows;    /* published ports: TCP connections and UDP flows relayed now */
        uint64_t relay_conns_total, relay_conns_dropped; /* connections accepted, and reset by the relay */
        unsigned execs;                                  /* exec sessions now (lcd/exec.h) */
        unsigned attaches;                               /* attached clients now (lcd/attach.h) */
} lcd_engine_stats_t;
void lcd_engine_counters(lcd_engine_t *e, lcd_engine_stats_t *out);
const char *lcd_phase_name(lcd_phase_t p);

/* Parse "TERM", "SIGTERM", "15" into a signal number (1..64); -EINVAL. */
int lcd_signal_parse(const char *s);

#endif

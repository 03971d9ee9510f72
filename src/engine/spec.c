/* spec.c - the OCI runtime spec of a container: umoci's config.json of
 * the image, rewritten for how this daemon runs containers.
 *
 * DESIGN: a pure rewrite of a JSON template into a file. Inside the
 * daemon's user namespace (userns.h) crun runs as that namespace's root
 * and the containers share it: the spec gets no user namespace of its own.
 * The network namespace is one network.h made (the container's own or,
 * for a sharer, its owner's: joined by path) or the host's, where /sys is
 * bind-mounted rather than mounted fresh (sysfs needs a network namespace
 * owned by our user namespace); /etc/hosts, resolv.conf and hostname are
 * read-only binds of the bundle's files. A private cgroup namespace and a
 * read-only cgroup mount keep the container out of the daemon's cgroup
 * tree (cgroup v2); the default capabilities, the run options of
 * lcd_bundle_spec_t (command, environment, working directory, memory and
 * pids limits, a terminal); and an exec's process: the container's own with
 * what the exec replaces (lcd_spec_write_exec). Any thread.
 */
#include "spec.h"

#include "lcd/alloc.h"
#include "lcd/fsutil.h"
#include "lcd/jsonwrite.h"
#include "lcd/strv.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static json_object *get_or_add(json_object *o, const char *key, json_type type)
{
        json_object *v = NULL;
        if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, type))
                return v;
        v = type == json_type_array ? json_object_new_array() : json_object_new_object();
        if (v == NULL || json_object_object_add(o, key, v) != 0) {
                json_object_put(v);
                return NULL;
        }
        return v;
}

/* Replace the env entry with the same key, or append. */
static int env_set(json_object *env, const char *kv)
{
        size_t klen = strcspn(kv, "=") + 1;
        json_object *s = json_object_new_string(kv);
        if (s == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(env); i++) {
                const char *cur = json_object_get_string(json_object_array_get_idx(env, i));
                if (cur != NULL && strncmp(cur, kv, klen) == 0) {
                        if (json_object_array_put_idx(env, i, s) == 0)
                                return 0;
                        json_object_put(s);
                        return -ENOMEM;
                }
        }
        return lcd_json_append(env, s) < 0 ? -ENOMEM : 0;
}

/* Does env have an entry for key ("KEY=")? */
static bool env_has(json_object *env, const char *key)
{
        for (size_t i = 0; i < json_object_array_length(env); i++) {
                const char *cur = json_object_get_string(json_object_array_get_idx(env, i));
                if (cur != NULL && strncmp(cur, key, strlen(key)) == 0)
                        return true;
        }
        return false;
}

/* Each of extra (KEY=VALUE, may be NULL) over env, and cwd (NULL: kept)
 * into proc. 0 or -ENOMEM. */
static int set_env_cwd(json_object *proc, json_object *env, const char *const *extra, const char *cwd)
{
        for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
                if (env_set(env, extra[i]) < 0)
                        return -ENOMEM;
        if (cwd != NULL && lcd_json_set(proc, "cwd", json_object_new_string(cwd)) < 0)
                return -ENOMEM;
        return 0;
}

/* Drop the user namespace (the container shares the daemon's) and the
 * network one (set_network says which the container gets). */
static void drop_namespaces(json_object *linux_)
{
        json_object *ns = NULL;
        if (!json_object_object_get_ex(linux_, "namespaces", &ns) || !json_object_is_type(ns, json_type_array))
                return;
        for (size_t i = json_object_array_length(ns); i-- > 0;) {
                json_object *t = NULL;
                if (json_object_object_get_ex(json_object_array_get_idx(ns, i), "type", &t) &&
                    (strcmp(json_object_get_string(t), "network") == 0 ||
                     strcmp(json_object_get_string(t), "user") == 0))
                        json_object_array_del_idx(ns, i, 1);
        }
        json_object_object_del(linux_, "uidMappings");
        json_object_object_del(linux_, "gidMappings");
}

/* The capabilities a container's root gets: the usual engine default
 * (what Docker and podman give), bounded by the user namespace anyway. */
static const char *const default_caps[] = {"CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",     "CAP_FSETID",
                                           "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",    "CAP_SETGID",
                                           "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT", NULL};

static int set_caps(json_object *proc)
{
        json_object *caps = json_object_new_object();
        if (caps == NULL)
                return -ENOMEM;
        static const char *const sets[] = {"bounding", "effective", "permitted", NULL};
        for (int i = 0; sets[i] != NULL; i++) {
                json_object *a = lcd_strv_to_json(default_caps);
                if (a == NULL || json_object_object_add(caps, sets[i], a) != 0) {
                        json_object_put(a);
                        json_object_put(caps);
                        return -ENOMEM;
                }
        }
        if (json_object_object_add(proc, "capabilities", caps) != 0) {
                json_object_put(caps);
                return -ENOMEM;
        }
        return 0;
}

static int add_namespace(json_object *linux_, const char *type, const char *path)
{
        json_object *ns = get_or_add(linux_, "namespaces", json_type_array);
        if (ns == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(ns); i++) {
                json_object *t = NULL;
                if (json_object_object_get_ex(json_object_array_get_idx(ns, i), "type", &t) &&
                    strcmp(json_object_get_string(t), type) == 0)
                        return 0;
        }
        json_object *o = json_object_new_object();
        int rc = lcd_json_set(o, "type", json_object_new_string(type));
        if (path != NULL)
                rc |= lcd_json_set(o, "path", json_object_new_string(path));
        if (rc < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        return lcd_json_append(ns, o) < 0 ? -ENOMEM : 0;
}

/* A read-only bind of a file of the bundle onto destination. */
static int bind_file(json_object *root, const char *dir, const char *leaf, const char *destination)
{
        json_object *mounts = get_or_add(root, "mounts", json_type_array);
        if (mounts == NULL)
                return -ENOMEM;
        char src[4096 + 32];
        snprintf(src, sizeof src, "%s/%s", dir, leaf);
        static const char *const opts[] = {"bind", "nosuid", "noexec", "nodev", "ro", NULL};
        json_object *m = json_object_new_object();
        int rc = lcd_json_set(m, "destination", json_object_new_string(destination));
        rc |= lcd_json_set(m, "type", json_object_new_string("bind"));
        rc |= lcd_json_set(m, "source", json_object_new_string(src));
        rc |= lcd_json_set(m, "options", lcd_strv_to_json(opts));
        if (rc < 0) {
                json_object_put(m);
                return -ENOMEM;
        }
        return lcd_json_append(mounts, m) < 0 ? -ENOMEM : 0;
}

/* sysfs cannot be mounted without our own network namespace: bind the
 * host's read-only instead. */
static int fix_sys_mount(json_object *root)
{
        json_object *mounts = NULL;
        if (!json_object_object_get_ex(root, "mounts", &mounts) || !json_object_is_type(mounts, json_type_array))
                return 0;
        for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                json_object *m = json_object_array_get_idx(mounts, i), *dst = NULL;
                if (!json_object_object_get_ex(m, "destination", &dst) ||
                    strcmp(json_object_get_string(dst), "/sys") != 0)
                        continue;
                static const char *const opts[] = {"rbind", "nosuid", "noexec", "nodev", "ro", NULL};
                /* whatever umoci wrote (sysfs or a bind) */
                if (lcd_json_set(m, "options", lcd_strv_to_json(opts)) < 0 ||
                    lcd_json_set(m, "type", json_object_new_string("bind")) < 0 ||
                    lcd_json_set(m, "source", json_object_new_string("/sys")) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The network namespace (network.h) and what goes with it: /etc/hosts,
 * resolv.conf, hostname; sysfs where the namespace is the host's. */
static int set_network(json_object *root, json_object *linux_, const lcd_bundle_spec_t *spec)
{
        int rc = 0;
        if (spec->network == LCD_NET_HOST)
                rc |= fix_sys_mount(root);
        else /* its own (private, none) or its owner's (container) */
                rc |= add_namespace(linux_, "network", spec->netns_path);
        if (spec->files_dir != NULL) {
                rc |= bind_file(root, spec->files_dir, "hosts", "/etc/hosts");
                rc |= bind_file(root, spec->files_dir, "resolv.conf", "/etc/resolv.conf");
                rc |= bind_file(root, spec->files_dir, "hostname", "/etc/hostname");
        }
        return rc < 0 ? -ENOMEM : 0;
}

/* A private cgroup namespace and a read-only cgroup2 mount: without them
 * the /sys bind below would show the container the daemon's own (writable)
 * cgroup tree, and its root could freeze or kill its siblings. */
static int private_cgroup_view(json_object *root, json_object *linux_)
{
        if (add_namespace(linux_, "cgroup", NULL) < 0)
                return -ENOMEM;
        json_object *mounts = get_or_add(root, "mounts", json_type_array);
        static const char *const opts[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
        json_object *m = json_object_new_object();
        if (lcd_json_set(m, "destination", json_object_new_string("/sys/fs/cgroup")) < 0 ||
            lcd_json_set(m, "type", json_object_new_string("cgroup")) < 0 ||
            lcd_json_set(m, "source", json_object_new_string("cgroup")) < 0 ||
            lcd_json_set(m, "options", lcd_strv_to_json(opts)) < 0) {
                json_object_put(m);
                return -ENOMEM;
        }
        return lcd_json_append(mounts, m) < 0 ? -ENOMEM : 0;
}

/* o written to path, mode 0600. */
static int write_json(const char *path, json_object *o, lcd_error_t **err)
{
        size_t len;
        char *text = lcd_json_write(o, 0, 0, &len);
        int w = text ? lcd_write_atomic(path, text, len, 0600) : -ENOMEM;
        lcd_free(text);
        if (w == -ENOMEM)
                return lcd_error_nomem(err);
        if (w < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "write %s: %s", path, strerror(-w));
        return 0;
}

/* Write the container's config.json from the image root's template. */
/* o[key] = {k1: v1, k2: v2}. 0 or -ENOMEM. */
static int set_pair(json_object *o, const char *key, const char *k1, int64_t v1, const char *k2, int64_t v2)
{
        json_object *p = json_object_new_object();
        if (lcd_json_set(p, k1, json_object_new_int64(v1)) < 0 || lcd_json_set(p, k2, json_object_new_int64(v2)) < 0 ||
            json_object_object_add(o, key, p) != 0) {
                json_object_put(p);
                return -ENOMEM;
        }
        return 0;
}

int lcd_spec_write(const char *path, const char *template, const char *id, const lcd_cgroup_t *cg,
                   const lcd_bundle_spec_t *spec, char ***argv_out, lcd_error_t **err)
{
        json_object *root = lcd_json_read(template, 1024 * 1024);
        if (root == NULL)
                return lcd_error_set(err, LCD_E_INTERNAL, "read %s: %s", template, strerror(errno));
        int rc = LCD_ERR;
        json_object *proc = get_or_add(root, "process", json_type_object);
        json_object *linux_ = get_or_add(root, "linux", json_type_object);
        json_object *env = proc ? get_or_add(proc, "env", json_type_array) : NULL;
        if (proc == NULL || linux_ == NULL || env == NULL)
                goto nomem;
        if (lcd_json_set(proc, "terminal", json_object_new_boolean(spec->tty)) < 0)
                goto nomem;
        if (spec->tty && !env_has(env, "TERM=") && env_set(env, "TERM=xterm") < 0) /* as docker and podman */
                goto nomem;
        if (spec->tty && set_pair(proc, "consoleSize", "width", 80, "height", 24) < 0)
                goto nomem;
        json_object_object_del(proc, "rlimits");
        json_object_object_del(proc, "capabilities_ambient_unused");
        if (spec->cmd != NULL) {
                json_object *a = lcd_strv_to_json(spec->cmd);
                if (a == NULL || json_object_object_add(proc, "args", a) != 0) {
                        json_object_put(a);
                        goto nomem;
                }
        }
        json_object *args = NULL;
        if (!json_object_object_get_ex(proc, "args", &args) || !json_object_is_type(args, json_type_array) ||
            json_object_array_length(args) == 0) {
                lcd_error_invalid(err, "cmd", "the image has no command: give cmd");
                goto out;
        }
        if (set_env_cwd(proc, env, spec->env, spec->workdir) < 0)
                goto nomem;
        drop_namespaces(linux_);
        if (set_network(root, linux_, spec) < 0 || set_caps(proc) < 0)
                goto nomem;
        if (cg->version == 2 && private_cgroup_view(root, linux_) < 0)
                goto nomem;
        char hostname[13];
        snprintf(hostname, sizeof hostname, "%.12s", id);
        if (lcd_json_set(root, "hostname", json_object_new_string(spec->hostname ? spec->hostname : hostname)) < 0)
                goto nomem;
        char cgpath[LCD_PATH_MAX + 80];
        lcd_cgroup_container_path(cg, id, cgpath, sizeof cgpath);
        if (cgpath[0] == '\0')
                json_object_object_del(linux_, "cgroupsPath");
        else if (lcd_json_set(linux_, "cgroupsPath", json_object_new_string(cgpath)) < 0)
                goto nomem;
        json_object_object_del(linux_, "resources"); /* devices rules: nothing a rootless user may set */
        if (spec->memory_limit > 0 || spec->pids_limit > 0) {
                json_object *res = get_or_add(linux_, "resources", json_type_object);
                json_object *mem = res && spec->memory_limit > 0 ? get_or_add(res, "memory", json_type_object) : NULL;
                json_object *pids = res && spec->pids_limit > 0 ? get_or_add(res, "pids", json_type_object) : NULL;
                if (res == NULL || (spec->memory_limit > 0 && mem == NULL) || (spec->pids_limit > 0 && pids == NULL))
                        goto nomem;
                if (mem != NULL && lcd_json_set(mem, "limit", json_object_new_int64(spec->memory_limit)) < 0)
                        goto nomem;
                if (pids != NULL && lcd_json_set(pids, "limit", json_object_new_int64(spec->pids_limit)) < 0)
                        goto nomem;
        }
        json_object *rootobj = get_or_add(root, "root", json_type_object);
        if (rootobj == NULL || lcd_json_set(rootobj, "path", json_object_new_string("rootfs")) < 0)
                goto nomem;
        json_object_object_del(rootobj, "readonly");
        /* the command that will run, for the container object */
        size_t n = json_object_array_length(args);
        char **argv = lcd_calloc(n + 1, sizeof *argv);
        if (argv == NULL)
                goto nomem;
        for (size_t i = 0; i < n; i++)
                if ((argv[i] = lcd_strdup(json_object_get_string(json_object_array_get_idx(args, i)))) == NULL) {
                        lcd_strv_free(argv);
                        goto nomem;
                }
        if (write_json(path, root, err) < 0) {
                lcd_strv_free(argv);
                goto out;
        }
        *argv_out = argv;
        rc = 0;
        goto out;
nomem:
        lcd_error_nomem(err);
out:
        json_object_put(root);
        return rc;
}

int lcd_spec_write_exec(const char *path, const char *config, const lcd_exec_process_t *x, lcd_error_t **err)
{
        json_object *root = lcd_json_read(config, 1024 * 1024);
        if (root == NULL)
                return lcd_error_set(err, LCD_E_INTERNAL, "read %s: %s", config, strerror(errno));
        int rc = LCD_ERR;
        json_object *proc = NULL;
        if (!json_object_object_get_ex(root, "process", &proc) || !json_object_is_type(proc, json_type_object)) {
                lcd_error_set(err, LCD_E_INTERNAL, "%s has no process", config);
                goto out;
        }
        json_object *env = get_or_add(proc, "env", json_type_array);
        json_object *args = lcd_strv_to_json(x->args);
        if (env == NULL || args == NULL || json_object_object_add(proc, "args", args) != 0) {
                json_object_put(args);
                goto nomem;
        }
        if (set_env_cwd(proc, env, x->env, x->cwd) < 0)
                goto nomem;
        if (x->has_user && set_pair(proc, "user", "uid", x->uid, "gid", x->gid) < 0)
                goto nomem; /* replaced whole: the container's extra groups are not this user's */
        if (lcd_json_set(proc, "terminal", json_object_new_boolean(x->tty)) < 0)
                goto nomem;
        if (x->tty && set_pair(proc, "consoleSize", "width", 80, "height", 24) < 0)
                goto nomem;
        if (!x->tty) /* the container's own terminal's, when it has one */
                json_object_object_del(proc, "consoleSize");
        rc = write_json(path, proc, err);
        goto out;
nomem:
        lcd_error_nomem(err);
out:
        json_object_put(root);
        return rc;
}

/* network.c - see network.h. */
#include "network.h"

#include "hostport.h"
#include "pasta.h"

#include "lcd/fsutil.h"
#include "lcd/log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

const char *lcd_net_mode_name(lcd_net_mode_t m)
{
        static const char *const names[LCD_NET__COUNT] = {"private", "none", "host", "container"};
        return (unsigned)m < LCD_NET__COUNT ? names[m] : NULL;
}

void lcd_network_ns_path(const char *dir, const char *id, char *buf, size_t len)
{
        snprintf(buf, len, "%s/%s", dir, id);
}

/* ---- ports ---- */

int lcd_network_check_ports(const lcd_port_t *ports, size_t n, lcd_error_t **err)
{
        for (size_t i = 0; i < n; i++) {
                const lcd_port_t *p = &ports[i];
                for (size_t k = 0; k < i; k++)
                        if (ports[k].host_port == p->host_port && ports[k].udp == p->udp &&
                            (ports[k].host_ip[0] == '\0' || p->host_ip[0] == '\0' ||
                             strcmp(ports[k].host_ip, p->host_ip) == 0))
                                return lcd_error_invalid(err, "ports", "ports[%zu]: host port %u/%s is published twice",
                                                         i, p->host_port, p->udp ? "udp" : "tcp");
                int fd;
                if (lcd_hostport_bind(p, i, false, &fd, err) < 0) /* as the relay will */
                        return LCD_ERR;
                close(fd);
        }
        return 0;
}

/* ---- the bundle's files ---- */

/* The host's default IPv4 gateway: pasta gives it to the container, and
 * without --no-map-gw connections to it reach the host's loopback. */
static int default_gateway(char *buf, size_t len)
{
        char text[16384];
        ssize_t n = lcd_read_small("/proc/net/route", text, sizeof text);
        if (n <= 0)
                return -ENOENT;
        for (char *line = strchr(text, '\n'); line != NULL && line[1] != '\0'; line = strchr(line + 1, '\n')) {
                char ifname[IF_NAMESIZE + 1];
                unsigned dest, gw, flags;
                if (sscanf(line + 1, "%16s %x %x %x", ifname, &dest, &gw, &flags) == 4 && dest == 0 && gw != 0) {
                        struct in_addr a = {.s_addr = gw};
                        return inet_ntop(AF_INET, &a, buf, (socklen_t)len) ? 0 : -ENOSPC;
                }
        }
        return -ENOENT;
}

/* host.containers.internal in /etc/hosts: the address that reaches the
 * host's loopback (-ENOENT: the host has no default route). */
static int add_host_entry(const char *bundle)
{
        char path[PATH_MAX], text[1024], gw[LCD_ADDR_MAX];
        int r = default_gateway(gw, sizeof gw);
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "%s/hosts", bundle);
        ssize_t n = lcd_read_small(path, text, sizeof text - 128);
        if (n < 0)
                return (int)n;
        int m = snprintf(text + n, sizeof text - (size_t)n, "%s\thost.containers.internal\n", gw);
        return lcd_write_atomic(path, text, (size_t)n + (size_t)m, 0644);
}

/* The host's resolvers, for a container on the host's network. */
static int copy_resolv(const char *to)
{
        char buf[4096];
        ssize_t n = lcd_read_small("/etc/resolv.conf", buf, sizeof buf);
        return lcd_write_atomic(to, n > 0 ? buf : "", n > 0 ? (size_t)n : 0, 0644);
}

int lcd_network_write_files(const char *bundle, const lcd_net_spec_t *net, lcd_error_t **err)
{
        char path[PATH_MAX], text[1024];
        int r, n;
        snprintf(path, sizeof path, "%s/hostname", bundle);
        n = snprintf(text, sizeof text, "%s\n", net->hostname);
        if ((r = lcd_write_atomic(path, text, (size_t)n, 0644)) < 0)
                goto fail;
        snprintf(path, sizeof path, "%s/hosts", bundle);
        n = snprintf(text, sizeof text,
                     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t%s\n", net->hostname);
        if ((r = lcd_write_atomic(path, text, (size_t)n, 0644)) < 0)
                goto fail;
        if (net->mode == LCD_NET_PRIVATE && net->allow_host_loopback && (r = add_host_entry(bundle)) < 0 &&
            r != -ENOENT)
                goto fail;
        snprintf(path, sizeof path, "%s/resolv.conf", bundle);
        lcd_net_mode_t mode = net->mode == LCD_NET_CONTAINER ? net->join_mode : net->mode;
        if (mode == LCD_NET_HOST) {
                r = copy_resolv(path);
        } else {
                n = mode == LCD_NET_PRIVATE ? snprintf(text, sizeof text, "nameserver %s\n", LCD_NET_DNS)
                                            : snprintf(text, sizeof text, "# network: none\n");
                r = lcd_write_atomic(path, text, (size_t)n, 0644);
        }
        if (r < 0)
                goto fail;
        return 0;
fail:
        if (r == -ENOMEM)
                return lcd_error_nomem(err);
        return lcd_error_set(err, LCD_E_INTERNAL, "write %s: %s", path, strerror(-r));
}

/* ---- namespaces ---- */

struct in_thread {
        const char *path;
        char *addr; /* address: out */
        size_t len;
        int r;
};

/* Bring lo up in the calling thread's namespace (pasta does it for the
 * private ones). 0 or -errno. */
static int loopback_up(void)
{
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
        int r = 0;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                r = -errno;
        ifr.ifr_flags |= IFF_UP;
        if (r == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                r = -errno;
        close(fd);
        return r;
}

/* A thread that unshares its network namespace and pins it on path
 * (addr set: bring its lo up too). */
static void *make_main(void *arg)
{
        struct in_thread *t = arg;
        if (unshare(CLONE_NEWNET) < 0)
                t->r = -errno;
        else if (mount("/proc/thread-self/ns/net", t->path, NULL, MS_BIND, NULL) < 0)
                t->r = -errno;
        else if (t->len == 1)
                t->r = loopback_up();
        return NULL;
}

/* A thread that enters the namespace at path and reads its address. */
static void *address_main(void *arg)
{
        struct in_thread *t = arg;
        int fd = open(t->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
                t->r = -errno;
                if (fd >= 0)
                        close(fd);
                return NULL;
        }
        close(fd);
        struct ifaddrs *all;
        if (getifaddrs(&all) < 0) {
                t->r = -errno;
                return NULL;
        }
        t->r = -ENOENT;
        for (struct ifaddrs *i = all; i != NULL && t->r == -ENOENT; i = i->ifa_next)
                if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET && !(i->ifa_flags & IFF_LOOPBACK))
                        t->r = inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, t->addr,
                                         (socklen_t)t->len)
                                       ? 0
                                       : -ENOSPC;
        freeifaddrs(all);
        return NULL;
}

/* Run fn in a thread of its own (namespace changes stay in it). */
static int in_thread(void *(*fn)(void *), struct in_thread *t)
{
        pthread_attr_t attr;
        pthread_t th;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        t->r = 0;
        int r = pthread_create(&th, &attr, fn, t);
        pthread_attr_destroy(&attr);
        if (r != 0)
                return -r;
        pthread_join(th, NULL);
        return t->r;
}

int lcd_network_address(const char *ns_path, char *buf, size_t len)
{
        struct in_thread t = {.path = ns_path, .addr = buf, .len = len};
        return in_thread(address_main, &t);
}

static int start_pasta(const lcd_network_env_t *env, const char *id, const char *ns, const lcd_net_spec_t *net,
                       lcd_error_t **err)
{
        lcd_pasta_opts_t o = {.dir = env->dir,
                              .id = id,
                              .ns = ns,
                              .host_loopback = net->allow_host_loopback,
                              .runner = env->runner,
                              .timeout_ms = env->timeout_ms};
        return lcd_pasta_start(&o, err);
}

int lcd_network_start_pasta(const lcd_network_env_t *env, const char *id, const lcd_net_spec_t *net, lcd_error_t **err)
{
        char ns[PATH_MAX];
        lcd_network_ns_path(env->dir, id, ns, sizeof ns);
        return start_pasta(env, id, ns, net, err);
}

pid_t lcd_network_pid(const char *dir, const char *id)
{
        return lcd_pasta_pid(dir, id);
}

/* The namespace and pasta of id (the relay aside). */
static void down(const char *dir, const char *id)
{
        char ns[PATH_MAX];
        lcd_network_ns_path(dir, id, ns, sizeof ns);
        lcd_pasta_stop(dir, id, ns);
        if (umount2(ns, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                lcd_warn("unmount %s: %s", ns, strerror(errno));
        unlink(ns);
}

void lcd_network_down(const lcd_network_env_t *env, const char *id)
{
        lcd_relay_unpublish(env->relay, id); /* first: the host ports are free before anything else waits */
        down(env->dir, id);
}

static int publish(const lcd_network_env_t *env, const char *id, const char *ns, const lcd_net_spec_t *net,
                   lcd_error_t **err)
{
        if (net->n_ports == 0)
                return 0;
        return lcd_relay_publish(env->relay, id, ns, net->ports, net->n_ports, err);
}

/* The pasta thread of lcd_network_begin. */
static void *pasta_main(void *arg)
{
        lcd_network_pending_t *p = arg;
        p->rc = start_pasta(p->env, p->id, p->ns, p->net, &p->err);
        return NULL;
}

int lcd_network_begin(const lcd_network_env_t *env, const char *id, const lcd_net_spec_t *net, lcd_network_pending_t *p,
                      lcd_error_t **err)
{
        memset(p, 0, sizeof *p);
        if (net->mode == LCD_NET_PRIVATE && net->spare != LCD_SPARE_NO) {
                char ns[PATH_MAX];
                lcd_network_ns_path(env->dir, id, ns, sizeof ns);
                /* starting: its namespace is up, its pasta the pool's (lcd_spares_wait) */
                if (net->spare == LCD_SPARE_STARTING || lcd_pasta_running(env->dir, id, ns)) {
                        if (publish(env, id, ns, net, err) == 0)
                                return 0;
                        lcd_network_down(env, id);
                        return LCD_ERR;
                }
                lcd_warn("the spare network %s lost its pasta: making a new one", id);
        }
        lcd_net_spec_t none = *net;
        none.spare = LCD_SPARE_NO;
        if (net->mode == LCD_NET_PRIVATE)
                none.mode = LCD_NET_NONE; /* the namespace now, pasta in a thread */
        if (lcd_network_up(env, id, &none, err) < 0)
                return LCD_ERR;
        if (net->mode != LCD_NET_PRIVATE)
                return 0;
        p->env = env;
        p->id = id;
        p->net = net;
        lcd_network_ns_path(env->dir, id, p->ns, sizeof p->ns);
        if (publish(env, id, p->ns, net, err) < 0) {
                lcd_network_down(env, id);
                return LCD_ERR;
        }
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        int r = pthread_create(&p->thread, &attr, pasta_main, p);
        pthread_attr_destroy(&attr);
        if (r == 0) {
                p->started = true;
                return 0;
        }
        p->rc = start_pasta(env, id, p->ns, net, &p->err); /* no thread: in line */
        if (p->rc < 0) {
                *err = p->err;
                p->err = NULL;
                lcd_network_down(env, id);
                return LCD_ERR;
        }
        return 0;
}

int lcd_network_end(lcd_network_pending_t *p, lcd_error_t **err)
{
        if (p->started) {
                pthread_join(p->thread, NULL);
                p->started = false;
        }
        if (p->rc == 0)
                return 0;
        *err = p->err;
        p->err = NULL;
        lcd_network_down(p->env, p->id);
        return LCD_ERR;
}

int lcd_network_up(const lcd_network_env_t *env, const char *id, const lcd_net_spec_t *net, lcd_error_t **err)
{
        if (net->mode != LCD_NET_PRIVATE && net->mode != LCD_NET_NONE)
                return 0; /* host: the daemon's; container: the owner's */
        char ns[PATH_MAX];
        lcd_network_ns_path(env->dir, id, ns, sizeof ns);
        lcd_network_down(env, id); /* what an earlier run of this container left */
        int fd = open(ns, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return lcd_error_set(err, LCD_E_INTERNAL, "create %s: %s", ns, strerror(errno));
        close(fd);
        struct in_thread t = {.path = ns, .len = net->mode == LCD_NET_NONE}; /* none: lo up here, no pasta */
        int r = env->no_netns ? 0 : in_thread(make_main, &t);
        if (r < 0) {
                lcd_network_down(env, id);
                return lcd_error_set(err, LCD_E_INTERNAL, "make a network namespace on %s: %s", ns, strerror(-r));
        }
        if (net->mode == LCD_NET_PRIVATE &&
            (publish(env, id, ns, net, err) < 0 || start_pasta(env, id, ns, net, err) < 0)) {
                lcd_network_down(env, id);
                return LCD_ERR;
        }
        return 0;
}

int lcd_network_clean_stale(const char *dir)
{
        int n = 0;
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL) {
                char id[NAME_MAX + 1];
                snprintf(id, sizeof id, "%s", de->d_name);
                char *dot = strchr(id, '.');
                if (dot == id)
                        continue;
                if (dot != NULL) /* a pasta's pid file or log, whose namespace may be gone already */
                        *dot = '\0';
                else
                        n++;
                down(dir, id);
        }
        if (d != NULL)
                closedir(d);
        return n;
}

/* createparams.c - see createparams.h.
 *
 * DESIGN: every check that needs nothing but the request happens here,
 * with the field in the error (ports[2].hostPort, env[0]); what needs the
 * engine's state (a taken port, a delegated controller) is the engine's.
 * The request borrows the params' strings: nothing is copied but the
 * ports. Service thread.
 */
#include "createparams.h"

#include "lcd/alloc.h"
#include "lcd/ident.h"
#include "rpc.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_ARGS 256
#define MAX_ARG_LEN 4096
#define MAX_ENV 256
#define MAX_ENV_LEN (32 * 1024)

const char *const lcd_create_param_names[] = {"image",   "name",    "tag",         "cmd",
                                              "env",     "workdir", "memoryLimit", "pidsLimit",
                                              "network", "ports",   "hostname",    "allowHostLoopback",
                                              "tty",     "stdin",   NULL};

static int decode_network(json_object *params, lcd_create_params_t *p, lcd_error_t **err)
{
        lcd_create_req_t *r = &p->req;
        const char *net;
        if (lcd_rpc_get_string(params, "network", false, 300, &net, err) < 0)
                return LCD_ERR;
        r->network = LCD_NET_PRIVATE;
        if (net == NULL)
                return 0;
        if (strncmp(net, "container:", 10) == 0) { /* container:NAME:TAG */
                const char *name = net + 10, *colon = strchr(name, ':');
                size_t n = colon ? (size_t)(colon - name) : 0;
                if (colon == NULL || n == 0 || n >= sizeof p->net_name)
                        return lcd_error_invalid(err, "network", "network container: needs NAME:TAG");
                memcpy(p->net_name, name, n);
                p->net_name[n] = '\0';
                if (!lcd_name_valid(p->net_name) || !lcd_tag_valid(colon + 1))
                        return lcd_error_invalid(err, "network",
                                                 "network container:NAME:TAG: not a valid name and tag");
                r->network = LCD_NET_CONTAINER;
                r->net_name = p->net_name;
                r->net_tag = colon + 1;
                return 0;
        }
        for (int m = 0; m < LCD_NET_CONTAINER; m++)
                if (strcmp(net, lcd_net_mode_name((lcd_net_mode_t)m)) == 0) {
                        r->network = (lcd_net_mode_t)m;
                        return 0;
                }
        return lcd_error_invalid(err, "network",
                                 "network must be \"private\", \"none\", \"host\" or \"container:NAME:TAG\"");
}

/* o.key, an integer port 1..65535 (required unless *out has a default). */
static int port_field(json_object *o, size_t i, const char *key, bool required, uint16_t *out, lcd_error_t **err)
{
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return lcd_error_invalid(err, "ports", "ports[%zu].%s is missing", i, key);
                return 0;
        }
        int64_t x = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
        if (x < 1 || x > 65535)
                return lcd_error_invalid(err, "ports", "ports[%zu].%s must be an integer 1..65535", i, key);
        *out = (uint16_t)x;
        return 0;
}

static int decode_port(json_object *o, size_t i, lcd_port_t *p, lcd_error_t **err)
{
        if (!json_object_is_type(o, json_type_object))
                return lcd_error_invalid(err, "ports", "ports[%zu] must be an object", i);
        json_object_object_foreach (o, key, val) {
                (void)val;
                if (strcmp(key, "hostPort") != 0 && strcmp(key, "containerPort") != 0 && strcmp(key, "protocol") != 0 &&
                    strcmp(key, "hostIp") != 0)
                        return lcd_error_invalid(err, "ports", "ports[%zu]: unknown field '%.64s'", i, key);
        }
        if (port_field(o, i, "hostPort", true, &p->host_port, err) < 0 ||
            port_field(o, i, "containerPort", true, &p->container_port, err) < 0)
                return LCD_ERR;
        json_object *v = NULL;
        if (json_object_object_get_ex(o, "protocol", &v) && !json_object_is_type(v, json_type_null)) {
                const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
                if (strcmp(s, "tcp") != 0 && strcmp(s, "udp") != 0)
                        return lcd_error_invalid(err, "ports", "ports[%zu].protocol must be \"tcp\" or \"udp\"", i);
                p->udp = strcmp(s, "udp") == 0;
        }
        if (json_object_object_get_ex(o, "hostIp", &v) && !json_object_is_type(v, json_type_null)) {
                const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
                unsigned char buf[16];
                if (strlen(s) >= sizeof p->host_ip ||
                    (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1))
                        return lcd_error_invalid(err, "ports", "ports[%zu].hostIp must be an IPv4 or IPv6 address", i);
                if (strcmp(s, "0.0.0.0") != 0) /* 0.0.0.0: every address, as docker means it */
                        snprintf(p->host_ip, sizeof p->host_ip, "%s", s);
        }
        return 0;
}

static int decode_ports(json_object *params, lcd_create_params_t *p, lcd_error_t **err)
{
        json_object *v = NULL;
        if (params == NULL || !json_object_object_get_ex(params, "ports", &v) || json_object_is_type(v, json_type_null))
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return lcd_error_invalid(err, "ports", "ports must be an array of {hostPort, containerPort, ...}");
        size_t n = json_object_array_length(v);
        if (n > LCD_PORTS_MAX)
                return lcd_error_invalid(err, "ports", "ports has more than %d items", LCD_PORTS_MAX);
        if (n == 0)
                return 0;
        p->ports = lcd_calloc(n, sizeof *p->ports);
        if (p->ports == NULL)
                return lcd_error_nomem(err);
        for (size_t i = 0; i < n; i++)
                if (decode_port(json_object_array_get_idx(v, i), i, &p->ports[i], err) < 0)
                        return LCD_ERR;
        p->req.ports = p->ports;
        p->req.n_ports = n;
        return 0;
}

int lcd_create_params_decode(json_object *params, lcd_create_params_t *p, lcd_error_t **err)
{
        memset(p, 0, sizeof *p);
        lcd_create_req_t *r = &p->req;
        bool present;
        if (lcd_rpc_get_string(params, "image", true, 1024, &r->image, err) < 0 ||
            lcd_rpc_get_string(params, "name", false, 256, &r->name, err) < 0 ||
            lcd_rpc_get_string(params, "tag", false, 256, &r->tag, err) < 0 ||
            lcd_rpc_get_string(params, "workdir", false, MAX_ARG_LEN, &r->workdir, err) < 0 ||
            lcd_rpc_get_string(params, "hostname", false, 256, &r->hostname, err) < 0 ||
            lcd_rpc_get_strv(params, "cmd", MAX_ARGS, MAX_ARG_LEN, &p->cmd, err) < 0 ||
            lcd_rpc_get_strv(params, "env", MAX_ENV, MAX_ENV_LEN, &p->env, err) < 0 ||
            lcd_rpc_get_int(params, "memoryLimit", 4 * 1024 * 1024, INT64_MAX, &present, &r->memory_limit, err) < 0 ||
            lcd_rpc_get_int(params, "pidsLimit", 1, 4194304, &present, &r->pids_limit, err) < 0 ||
            lcd_rpc_get_bool(params, "allowHostLoopback", &present, &r->allow_host_loopback, err) < 0 ||
            lcd_rpc_get_bool(params, "tty", &present, &r->tty, err) < 0 ||
            lcd_rpc_get_bool(params, "stdin", &present, &r->stdin, err) < 0 || decode_network(params, p, err) < 0 ||
            decode_ports(params, p, err) < 0)
                return LCD_ERR;
        if (p->cmd != NULL && p->cmd[0] == NULL)
                return lcd_error_invalid(err, "cmd", "cmd must not be empty (omit it for the image's default)");
        for (size_t i = 0; p->env != NULL && p->env[i] != NULL; i++)
                if (!lcd_env_valid(p->env[i]))
                        return lcd_error_invalid(err, "env",
                                                 "env[%zu] must be KEY=VALUE with KEY [A-Za-z_][A-Za-z0-9_]*", i);
        if (r->workdir != NULL && r->workdir[0] != '/')
                return lcd_error_invalid(err, "workdir", "workdir must be an absolute path");
        r->cmd = p->cmd;
        r->env = p->env;
        return 0;
}

void lcd_create_params_clear(lcd_create_params_t *p)
{
        lcd_free(p->cmd);
        lcd_free(p->env);
        lcd_free(p->ports);
        memset(p, 0, sizeof *p);
}

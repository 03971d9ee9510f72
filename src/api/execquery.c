/* execquery.c - see execquery.h: "/v1/containers/NAME/TAG/exec?command=...
 * &command=...&env=K=V&stdin=1&tty=1&workdir=...&user=..." and
 * ".../attach?stdin=1&stdout=1&stderr=0" (docs/API.md, Streams). The
 * parameters are lws's URI arguments, already decoded; the engine checks
 * their values (lcd_engine_exec, lcd_engine_attach), this file their
 * number and names. */
#include "execquery.h"

#include "lcd/alloc.h"
#include "lcd/ident.h"

#include <stdio.h>
#include <string.h>

bool lcd_exec_query_path(const char *uri, lcd_exec_query_t *q)
{
        static const char pre[] = "/v1/containers/";
        memset(q, 0, sizeof *q);
        if (strncmp(uri, pre, sizeof pre - 1) != 0)
                return false;
        const char *p = uri + sizeof pre - 1, *slash = strchr(p, '/');
        const char *slash2 = slash ? strchr(slash + 1, '/') : NULL;
        if (slash == NULL || slash2 == NULL || (strcmp(slash2, "/exec") != 0 && strcmp(slash2, "/attach") != 0) ||
            slash - p > LCD_NAME_MAX || slash2 - slash - 1 > LCD_TAG_MAX)
                return false;
        q->attach = strcmp(slash2, "/attach") == 0;
        q->want_out = q->want_err = true;
        snprintf(q->name, sizeof q->name, "%.*s", (int)(slash - p), p);
        snprintf(q->tag, sizeof q->tag, "%.*s", (int)(slash2 - slash - 1), slash + 1);
        return true;
}

/* Does the client offer a stream subprotocol (v5 or v4.channel.k8s.io)? */
static bool offers_stream(struct lws *wsi)
{
        char protos[512];
        int n = lws_hdr_copy(wsi, protos, sizeof protos, WSI_TOKEN_PROTOCOL);
        return n > 0 && (strstr(protos, "v5.channel.k8s.io") != NULL || strstr(protos, "v4.channel.k8s.io") != NULL);
}

static bool is_true(const char *v)
{
        return strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
}

/* One parameter, "key=value" in f (split here), into q: NULL, or why not. */
static const char *take(lcd_exec_query_t *q, char *f, size_t *nc, size_t *ne)
{
        char *v = strchr(f, '=');
        if (f[0] == '\0' || strcmp(f, "/") == 0) /* "...?" or "a=1&": lws makes the empty parameter "/" */
                return NULL;
        if (v == NULL)
                return "a query parameter without '='";
        *v++ = '\0';
        if (q->attach && strcmp(f, "stdin") != 0 && strcmp(f, "stdout") != 0 && strcmp(f, "stderr") != 0)
                return "an unknown query parameter of an attach (stdin, stdout, stderr)";
        if (strcmp(f, "command") == 0) {
                if (*nc == LCD_EXEC_ARGS_MAX)
                        return "too many command arguments";
                q->cmd[(*nc)++] = v;
        } else if (strcmp(f, "env") == 0) {
                if (*ne == LCD_EXEC_ENV_MAX)
                        return "too many env entries";
                q->env[(*ne)++] = v;
        } else if (strcmp(f, "stdin") == 0) {
                q->req.stdin = is_true(v);
        } else if (q->attach) { /* stdout or stderr */
                *(f[3] == 'o' ? &q->want_out : &q->want_err) = is_true(v);
        } else if (strcmp(f, "tty") == 0) {
                q->req.tty = is_true(v);
        } else if (strcmp(f, "workdir") == 0) {
                q->req.workdir = v;
        } else if (strcmp(f, "user") == 0) {
                q->req.user = v;
        } else if (strcmp(f, "stdout") != 0 && strcmp(f, "stderr") != 0 && strcmp(f, "container") != 0) {
                return "an unknown query parameter (command, env, stdin, tty, workdir, user)";
        }
        return NULL;
}

int lcd_exec_query_parse(struct lws *wsi, lcd_exec_query_t *q, lcd_error_t **err)
{
        if (!offers_stream(wsi))
                return lcd_error_set(err, LCD_E_BAD_REQUEST,
                                     "an exec is a WebSocket of subprotocol v5.channel.k8s.io (or v4)");
        if (!lcd_name_valid(q->name) || !lcd_tag_valid(q->tag))
                return lcd_error_set(err, LCD_E_INVALID, "not a container's name and tag");
        q->req.name = q->name;
        q->req.tag = q->tag;
        q->req.cmd = q->cmd;
        q->req.env = q->env;
        size_t nc = 0, ne = 0;
        const char *why = NULL;
        for (int i = 0; why == NULL; i++) {
                int len = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
                if (len <= 0)
                        break;
                if (q->n_frags == sizeof q->frags / sizeof q->frags[0])
                        return lcd_error_set(err, LCD_E_INVALID, "too many query parameters");
                char *f = lcd_malloc((size_t)len + 1);
                if (f == NULL || lws_hdr_copy_fragment(wsi, f, len + 1, WSI_TOKEN_HTTP_URI_ARGS, i) < 0) {
                        lcd_free(f);
                        return lcd_error_nomem(err);
                }
                q->frags[q->n_frags++] = f;
                why = take(q, f, &nc, &ne);
        }
        q->cmd[nc] = q->env[ne] = NULL;
        q->attach_req = (lcd_attach_req_t){.name = q->name, .tag = q->tag, .stdin = q->req.stdin};
        return why ? lcd_error_set(err, LCD_E_INVALID, "%s", why) : 0;
}

void lcd_exec_query_clear(lcd_exec_query_t *q)
{
        for (size_t i = 0; i < q->n_frags; i++)
                lcd_free(q->frags[i]);
        q->n_frags = 0;
}

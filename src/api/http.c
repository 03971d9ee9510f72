/* http.c - plain HTTP beside the WebSocket: the dashboard's files, health,
 * info, containers and Prometheus metrics, on both listeners.
 *
 * DESIGN: service thread only. A GET is checked like a WebSocket upgrade
 * (access.c; on TCP the token may come as ?access_token=), answered from
 * the same engine calls as the RPC methods, and written in chunks from the
 * connection's own buffer when lws says the socket is writable. The
 * /metrics page itself is metrics.c's.
 */
#include "http.h"

#include "lcd/engine.h"
#include "methods.h"
#include "metrics.h"
#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/ident.h"
#include "lcd/timeutil.h"
#include "ui.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CHUNK 16384

/* Queue the response: headers now, the body (owned: freed once written)
 * from the writable callback. A dashboard page gets headers that keep it
 * to its own origin and may be cached (revalidated); API answers are not. */
static int respond(struct lws *wsi, lcd_http_t *h, unsigned status, const char *type, char *body, size_t len, bool page)
{
        /* style-src 'unsafe-inline': xterm.js's DOM renderer makes <style> elements for its
         * colours and cells and has no way to put a nonce on them; scripts stay 'self' only */
        static const char csp[] = "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                                  "style-src 'self' 'unsafe-inline'; "
                                  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
        h->body = body;
        h->len = len;
        h->off = 0;
        if (lws_add_http_common_headers(wsi, status, type, len, &p, end) ||
            (page && (lws_add_http_header_by_name(wsi, (const unsigned char *)"content-security-policy:",
                                                  (const unsigned char *)csp, sizeof csp - 1, &p, end) ||
                      lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                                  (const unsigned char *)"nosniff", 7, &p, end))) ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                         (const unsigned char *)(page ? "no-cache" : "no-store"), 8, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
                return -1;
        lws_callback_on_writable(wsi);
        return 0;
}

/* The HTTP status of an error kind. */
static unsigned status_of(lcd_errkind_t kind)
{
        switch (kind) {
        case LCD_E_INVALID:
        case LCD_E_BAD_REQUEST:
                return HTTP_STATUS_BAD_REQUEST;
        case LCD_E_UNAUTHORIZED:
                return HTTP_STATUS_UNAUTHORIZED;
        case LCD_E_FORBIDDEN:
                return HTTP_STATUS_FORBIDDEN;
        case LCD_E_NOT_FOUND:
                return HTTP_STATUS_NOT_FOUND;
        case LCD_E_CONFLICT:
                return HTTP_STATUS_CONFLICT;
        case LCD_E_BUSY:
        case LCD_E_NOMEM:
                return HTTP_STATUS_SERVICE_UNAVAILABLE;
        default:
                return HTTP_STATUS_INTERNAL_SERVER_ERROR;
        }
}

/* {"error": msg, "reason": word}: every HTTP error body (reason NULL: the
 * kind's word). NULL when out of memory. */
static char *error_body(lcd_errkind_t kind, const char *reason, const char *msg, size_t *len)
{
        json_object *o = json_object_new_object();
        char *body = NULL;
        if (lcd_json_set(o, "error", json_object_new_string(msg)) == 0 &&
            lcd_json_set(o, "reason", json_object_new_string(reason ? reason : lcd_errkind_reason(kind))) == 0)
                body = lcd_json_write(o, 0, 0, len);
        json_object_put(o);
        return body;
}

int lcd_http_refuse(struct lws *wsi, lcd_errkind_t kind, const char *msg)
{
        return lcd_http_refuse_reason(wsi, kind, NULL, msg);
}

int lcd_http_refuse_reason(struct lws *wsi, lcd_errkind_t kind, const char *reason, const char *msg)
{
        static const char nomem[] = "{\"error\":\"out of memory\",\"reason\":\"out_of_memory\"}";
        unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE;
        size_t cap = sizeof buf - LWS_PRE, blen = 0;
        char *body = error_body(kind, reason, msg, &blen);
        if (body == NULL || blen > cap / 2) {
                lcd_free(body);
                body = NULL;
                kind = LCD_E_NOMEM;
                blen = sizeof nomem - 1;
        }
        unsigned status = status_of(kind);
        const char *text = status == 400   ? "Bad Request"
                           : status == 401 ? "Unauthorized"
                           : status == 403 ? "Forbidden"
                           : status == 404 ? "Not Found"
                           : status == 409 ? "Conflict"
                           : status == 503 ? "Service Unavailable"
                                           : "Internal Server Error";
        int n = snprintf((char *)start, cap,
                         "HTTP/1.1 %u %s\r\ncontent-type: application/json\r\ncontent-length: %zu\r\n"
                         "cache-control: no-store\r\n%sconnection: close\r\n\r\n",
                         status, text, blen,
                         status == 401 ? "www-authenticate: Bearer realm=\"light-containerd\"\r\n" : "");
        if (n > 0 && (size_t)n + blen <= cap) {
                memcpy(start + n, body ? body : nomem, blen);
                lws_write(wsi, start, (size_t)n + blen,
                          LWS_WRITE_HTTP); /* lws flushes what it buffers before closing */
        }
        lcd_free(body);
        return -1;
}

static int respond_json(struct lws *wsi, lcd_http_t *h, unsigned status, json_object *o)
{
        size_t len;
        char *body = o ? lcd_json_write(o, 0, 0, &len) : NULL;
        json_object_put(o);
        if (body == NULL)
                return lcd_http_refuse(wsi, LCD_E_NOMEM, "out of memory");
        return respond(wsi, h, status, "application/json", body, len, false);
}

static int respond_error(struct lws *wsi, lcd_http_t *h, lcd_error_t *err)
{
        size_t len;
        char *body = error_body(err->kind, NULL, err->msg, &len);
        unsigned status = status_of(err->kind);
        lcd_error_free(err);
        if (body == NULL)
                return lcd_http_refuse(wsi, LCD_E_NOMEM, "out of memory");
        return respond(wsi, h, status, "application/json", body, len, false);
}

/* A dashboard file, copied: the writer frees what it sends. */
static int respond_asset(struct lws *wsi, lcd_http_t *h, const lcd_ui_asset_t *a)
{
        char *body = lcd_malloc(a->len);
        if (body == NULL)
                return lcd_http_refuse(wsi, LCD_E_NOMEM, "out of memory");
        memcpy(body, a->data, a->len);
        return respond(wsi, h, HTTP_STATUS_OK, a->mime, body, a->len, true);
}

int lcd_http_request(lcd_api_t *api, struct lws *wsi, lcd_http_t *h, const char *uri)
{
        const lcd_ui_asset_t *asset = lcd_ui_find(uri);
        if (asset != NULL)
                return respond_asset(wsi, h, asset);
        lcd_error_t *err = NULL;
        if (strcmp(uri, "/v1/healthz") == 0) {
                lcd_engine_stats_t st;
                lcd_engine_counters(api->engine, &st);
                json_object *o = json_object_new_object();
                int rc = lcd_json_set(o, "status", json_object_new_string("ok"));
                rc |= lcd_json_set(o, "workers", json_object_new_int((int)st.workers));
                rc |= lcd_json_set(o, "workersBusy", json_object_new_int((int)st.running));
                rc |= lcd_json_set(o, "queued", json_object_new_int((int)st.queued));
                if (rc != 0) {
                        json_object_put(o);
                        o = NULL;
                }
                return respond_json(wsi, h, 200, o);
        }
        if (strcmp(uri, "/v1/info") == 0) {
                json_object *o = lcd_methods_info(api, &err);
                return o ? respond_json(wsi, h, 200, o) : respond_error(wsi, h, err);
        }
        if (strcmp(uri, "/v1/containers") == 0) {
                json_object *o = lcd_engine_list(api->engine, &err);
                return o ? respond_json(wsi, h, 200, o) : respond_error(wsi, h, err);
        }
        if (strncmp(uri, "/v1/containers/", 15) == 0) {
                char name[LCD_NAME_MAX + 2], tag[LCD_TAG_MAX + 2];
                const char *rest = uri + 15, *slash = strchr(rest, '/');
                if (slash != NULL && (size_t)(slash - rest) < sizeof name && strlen(slash + 1) < sizeof tag) {
                        snprintf(name, sizeof name, "%.*s", (int)(slash - rest), rest);
                        snprintf(tag, sizeof tag, "%s", slash + 1);
                        if (lcd_name_valid(name) && lcd_tag_valid(tag)) {
                                json_object *o = lcd_engine_inspect(api->engine, name, tag, &err);
                                return o ? respond_json(wsi, h, 200, o) : respond_error(wsi, h, err);
                        }
                }
                lcd_error_set(&err, LCD_E_INVALID, "expected /v1/containers/<name>/<tag> with a valid name and tag");
                return respond_error(wsi, h, err);
        }
        if (strcmp(uri, "/metrics") == 0) {
                size_t len = 0;
                char *text = lcd_metrics_text(api, lcd_methods_name, &len);
                if (text == NULL)
                        return lcd_http_refuse(wsi, LCD_E_NOMEM, "out of memory");
                return respond(wsi, h, 200, "text/plain; version=0.0.4", text, len, false);
        }
        lcd_error_set(&err, LCD_E_NOT_FOUND, "no such path: see docs/API.md (the API is a WebSocket at /v1/ws)");
        return respond_error(wsi, h, err);
}

int lcd_http_writable(struct lws *wsi, lcd_http_t *h)
{
        if (h->body == NULL)
                return 0;
        size_t left = h->len - h->off, n = left < CHUNK ? left : CHUNK;
        unsigned char buf[LWS_PRE + CHUNK];
        memcpy(buf + LWS_PRE, h->body + h->off, n);
        bool last = n == left;
        if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
                return -1;
        h->off += n;
        if (!last) {
                lws_callback_on_writable(wsi);
                return 0;
        }
        lcd_http_clear(h);
        return lws_http_transaction_completed(wsi) ? -1 : 0;
}

void lcd_http_clear(lcd_http_t *h)
{
        lcd_free(h->body);
        h->body = NULL;
        h->len = h->off = 0;
}

/* session.c - see session.h. */
#include "session.h"

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/log.h"
#include "lcd/strv.h"
#include "lcd/timeutil.h"
#include "rpc.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>

#define WRITE_BATCH 64 /* messages written per writable callback, at most */

lcd_msg_t *lcd_msg_from_json(json_object *o)
{
        size_t len = 0;
        lcd_msg_t *m = (lcd_msg_t *)lcd_json_write(o, offsetof(lcd_msg_t, data) + LWS_PRE, 0, &len);
        if (m == NULL)
                return NULL;
        m->refs = 1;
        m->len = len;
        return m;
}

void lcd_msg_unref(lcd_msg_t *m)
{
        if (m != NULL && --m->refs == 0)
                lcd_free(m);
}

lcd_session_t *lcd_session_new(lcd_api_t *api, struct lws *wsi)
{
        lcd_session_t *s = lcd_calloc(1, sizeof *s);
        if (s == NULL)
                return NULL;
        s->refs = 1;
        s->open = true;
        s->wsi = wsi;
        s->api = api;
        api->n_sessions++;
        return s;
}

void lcd_session_close(lcd_session_t *s)
{
        if (s->closed)
                return;
        s->closed = true;
        s->api->n_sessions--;
        s->open = false;
        s->wsi = NULL;
#ifdef __GLIBC__
        if (s->api->n_sessions == 0) /* the last client went: give what their queues took back to the system */
                malloc_trim(0);
#endif
}

void lcd_session_unref(lcd_session_t *s)
{
        if (--s->refs > 0)
                return;
        while (s->q_count > 0) {
                lcd_msg_unref(s->queue[s->q_head]);
                s->q_head = (s->q_head + 1) % s->q_cap;
                s->q_count--;
        }
        lcd_free(s->queue);
        lcd_free(s->rx);
        lcd_strv_free(s->filter.names);
        lcd_free(s);
}

int lcd_session_push(lcd_session_t *s, lcd_msg_t *m, unsigned room)
{
        if (!s->open)
                return 0;
        unsigned max = s->api->limits.send_queue;
        if (s->q_count + 1 + room > max || s->q_bytes + m->len > LCD_SESSION_QUEUE_BYTES)
                return -ENOSPC;
        if (s->q_count == s->q_cap) { /* grow the ring (idle sessions stay small) */
                unsigned cap = s->q_cap ? s->q_cap * 2 : 8;
                if (cap > max)
                        cap = max;
                lcd_msg_t **q = lcd_malloc(cap * sizeof *q);
                if (q == NULL)
                        return -ENOMEM;
                for (unsigned i = 0; i < s->q_count; i++)
                        q[i] = s->queue[(s->q_head + i) % s->q_cap];
                lcd_free(s->queue);
                s->queue = q;
                s->q_cap = cap;
                s->q_head = 0;
        }
        m->refs++;
        s->queue[(s->q_head + s->q_count) % s->q_cap] = m;
        s->q_count++;
        s->q_bytes += m->len;
        s->last_sent_ms = lcd_now_ms();
        if (s->wsi != NULL)
                lws_callback_on_writable(s->wsi);
        return 0;
}

/* A killed session stays on the subscriber list until it is closed; it
 * takes no more messages (open is false), so the fan-out passes it by. */
void lcd_session_kill(lcd_session_t *s, const char *why)
{
        if (!s->open)
                return;
        lcd_warn("closing a client connection: %s", why);
        s->open = false;
        if (s->wsi == NULL) /* detached: its driver closes it */
                return;
        lws_close_reason(s->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, strlen(why));
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

void lcd_session_send_json(lcd_session_t *s, json_object *msg)
{
        if (msg == NULL) {
                lcd_session_kill(s, "out of memory building a reply");
                return;
        }
        lcd_msg_t *m = lcd_msg_from_json(msg);
        json_object_put(msg);
        if (m == NULL) {
                lcd_session_kill(s, "out of memory building a reply");
                return;
        }
        int r = lcd_session_push(s, m, 0);
        if (r == -ENOSPC)
                lcd_session_kill(s, "send queue full: the client is not reading");
        else if (r < 0)
                lcd_session_kill(s, "out of memory queueing a reply");
        lcd_msg_unref(m);
}

void lcd_session_send_error(lcd_session_t *s, json_object *id, const lcd_error_t *err)
{
        lcd_session_send_json(s, lcd_rpc_error(id, err));
}

/* One poll round trip per message would cap event fan-out at a fraction
 * of what the service thread can do: write while the socket takes it. */
int lcd_session_write(lcd_session_t *s, struct lws *wsi)
{
        for (int k = 0; k < WRITE_BATCH && s->q_count > 0; k++) {
                if (k > 0 && lws_send_pipe_choked(wsi))
                        break;
                lcd_msg_t *m = s->queue[s->q_head];
                s->q_head = (s->q_head + 1) % s->q_cap;
                s->q_count--;
                s->q_bytes -= m->len;
                int n = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
                lcd_msg_unref(m);
                if (n < 0)
                        return -1;
        }
        if (s->q_count > 0)
                lws_callback_on_writable(wsi);
        return 0;
}

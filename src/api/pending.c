/* pending.c - see pending.h. */
#include "pending.h"

#include "lcd/alloc.h"
#include "lcd/timeutil.h"
#include "metrics.h"

#include <pthread.h>

lcd_pending_t *lcd_pending_new(lcd_session_t *s, lcd_rpc_request_t *req)
{
        lcd_pending_t *p = lcd_calloc(1, sizeof *p);
        if (p == NULL)
                return NULL;
        if (req->id != NULL && json_object_deep_copy(req->id, &p->id, NULL) != 0) {
                lcd_free(p);
                return NULL;
        }
        p->has_id = req->has_id;
        p->api = s->api;
        p->method = -1;
        p->start_us = lcd_wall_us();
        p->session = s;
        s->refs++;
        s->inflight++;
        return p;
}

void lcd_pending_free(lcd_pending_t *p)
{
        if (p == NULL)
                return;
        json_object_put(p->id);
        json_object_put(p->result);
        lcd_error_free(p->err);
        p->session->inflight--;
        lcd_session_unref(p->session);
        lcd_free(p);
}

void lcd_pending_done(void *ctx, json_object *result, lcd_error_t *err)
{
        lcd_pending_t *p = ctx;
        lcd_api_t *api = p->api;
        p->result = result;
        p->err = err;
        pthread_mutex_lock(&api->mail_mu);
        if (api->mail_tail)
                api->mail_tail->next = p;
        else
                api->mail_head = p;
        api->mail_tail = p;
        pthread_mutex_unlock(&api->mail_mu);
        if (api->ctx != NULL)
                lws_cancel_service(api->ctx);
}

void lcd_pending_deliver(lcd_api_t *api)
{
        pthread_mutex_lock(&api->mail_mu);
        lcd_pending_t *p = api->mail_head;
        api->mail_head = api->mail_tail = NULL;
        pthread_mutex_unlock(&api->mail_mu);
        while (p != NULL) {
                lcd_pending_t *next = p->next;
                if (p->then != NULL && p->err == NULL)
                        p->then(p);
                lcd_metrics_rpc(api, p->method, p->err != NULL, p->start_us);
                if (p->has_id && p->session->open) {
                        if (p->err != NULL)
                                lcd_session_send_error(p->session, p->id, p->err);
                        else {
                                lcd_session_send_json(p->session, lcd_rpc_result(p->id, p->result));
                                p->result = NULL;
                        }
                }
                lcd_pending_free(p);
                p = next;
        }
}

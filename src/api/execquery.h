/* execquery.h - an exec's or an attach's upgrade request: its path and
 * its query (execquery.c). Service thread, during the upgrade's confirmation. */
#ifndef LCD_EXECQUERY_H
#define LCD_EXECQUERY_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

#include "lcd/error.h"
#include "lcd/events.h"
#include "lcd/attach.h"
#include "lcd/exec.h"

/* A request as lcd_engine_exec takes it (req points into the fields
 * below), or an attach's as lcd_engine_attach takes it. */
typedef struct {
        bool attach;             /* the path's last part is attach: attach_req, outputs */
        bool want_out, want_err; /* an attach's outputs (default: both) */
        lcd_attach_req_t attach_req;
        lcd_exec_req_t req;
        char name[LCD_NAME_MAX + 1], tag[LCD_TAG_MAX + 1];
        const char *cmd[LCD_EXEC_ARGS_MAX + 1], *env[LCD_EXEC_ENV_MAX + 1];
        char *frags[LCD_EXEC_ARGS_MAX + LCD_EXEC_ENV_MAX + 8]; /* the query's parameters, decoded */
        size_t n_frags;
} lcd_exec_query_t;

/* Is uri "/v1/containers/NAME/TAG/exec" (or .../attach)? Its name and
 * tag into q (zeroed). */
bool lcd_exec_query_path(const char *uri, lcd_exec_query_t *q);
/* wsi's subprotocols and query into q->req: 0, or LCD_ERR with err
 * (bad_request: no stream subprotocol; invalid: the name, the tag or a
 * parameter). Clear q afterwards either way. */
int lcd_exec_query_parse(struct lws *wsi, lcd_exec_query_t *q, lcd_error_t **err);
void lcd_exec_query_clear(lcd_exec_query_t *q);

#endif

/* createparams.h - container.create's params, decoded and checked into an
 * engine request (createparams.c). */
#ifndef LCD_CREATEPARAMS_H
#define LCD_CREATEPARAMS_H

#include <json-c/json.h>

#include "lcd/engine.h"
#include "lcd/error.h"

/* The names container.create takes (anything else is `invalid`). */
extern const char *const lcd_create_param_names[];

typedef struct {
        lcd_create_req_t req; /* its strings point into the params object */
        const char **cmd, **env;
        lcd_port_t *ports;
        char net_name[LCD_NAME_MAX + 1]; /* network container:NAME:TAG's NAME */
} lcd_create_params_t;

/* Decode params into p->req: 0, or LCD_ERR with an `invalid` error naming
 * the parameter (data.param). p must be cleared either way; params must
 * outlive p. */
int lcd_create_params_decode(json_object *params, lcd_create_params_t *p, lcd_error_t **err);
void lcd_create_params_clear(lcd_create_params_t *p);

#endif

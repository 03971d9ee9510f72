/* methods.h - the v1 method table (methods.c). */
#ifndef LCD_METHODS_H
#define LCD_METHODS_H

#include <stddef.h>

#include "session.h"

/* One complete text message from s's client: decode, dispatch, reply now
 * or later. */
void lcd_methods_receive(lcd_session_t *s, const char *text, size_t len);
/* The method table's name for a counter slot ("other" for the rest). */
const char *lcd_methods_name(int method);
/* system.info: the engine's object plus the API's own fields
 * ("dashboard", "tokenFile"). NULL with err. */
json_object *lcd_methods_info(lcd_api_t *api, lcd_error_t **err);

#endif

/* strv.h - NULL-terminated string arrays (argv, env). Any thread. */
#ifndef LCD_STRV_H
#define LCD_STRV_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Deep copy; NULL in gives NULL out with *nomem false; allocation failure
 * gives NULL with *nomem true. */
char **lcd_strv_dup(const char *const *v, bool *nomem);
size_t lcd_strv_len(const char *const *v);
void lcd_strv_free(char **v);
/* A JSON array of the strings; NULL on allocation failure. */
json_object *lcd_strv_to_json(const char *const *v);

#endif

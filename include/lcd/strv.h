/* strv.h - NULL-terminated string arrays (argv, env). Any thread. */
#ifndef LCD_STRV_H
#define LCD_STRV_H

#include <json-c/json.h>
#include <stddef.h>

/* Deep copy of v into *out (NULL when v is NULL; the caller frees with
 * lcd_strv_free). 0, or -ENOMEM with *out NULL. */
int lcd_strv_dup(const char *const *v, char ***out);
size_t lcd_strv_len(const char *const *v);
void lcd_strv_free(char **v);
/* A JSON array of the strings; NULL on allocation failure. */
json_object *lcd_strv_to_json(const char *const *v);

#endif

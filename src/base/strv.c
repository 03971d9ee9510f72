/* strv.c - see strv.h. */
#include "lcd/strv.h"

#include "lcd/alloc.h"

#include <errno.h>

size_t lcd_strv_len(const char *const *v)
{
        size_t n = 0;
        while (v != NULL && v[n] != NULL)
                n++;
        return n;
}

int lcd_strv_dup(const char *const *v, char ***out)
{
        *out = NULL;
        if (v == NULL)
                return 0;
        size_t n = lcd_strv_len(v);
        char **d = lcd_calloc(n + 1, sizeof *d);
        if (d == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if ((d[i] = lcd_strdup(v[i])) == NULL) {
                        lcd_strv_free(d);
                        return -ENOMEM;
                }
        *out = d;
        return 0;
}

void lcd_strv_free(char **v)
{
        if (v == NULL)
                return;
        for (size_t i = 0; v[i] != NULL; i++)
                lcd_free(v[i]);
        lcd_free(v);
}

json_object *lcd_strv_to_json(const char *const *v)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; a != NULL && v[i] != NULL; i++) {
                json_object *s = json_object_new_string(v[i]);
                if (s == NULL || json_object_array_add(a, s) != 0) {
                        json_object_put(s);
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

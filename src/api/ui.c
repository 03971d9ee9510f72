/* ui.c - see ui.h. */
#include "ui.h"

#include <string.h>

const lcd_ui_asset_t *lcd_ui_find(const char *path)
{
        size_t n = strcspn(path, "?#");
        for (const lcd_ui_asset_t *a = lcd_ui_assets; a->path != NULL; a++)
                if (strlen(a->path) == n && strncmp(a->path, path, n) == 0)
                        return a;
        return NULL;
}

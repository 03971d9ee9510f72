/* ui.h - the built-in dashboard's files, compiled into the daemon.
 *
 * DESIGN: src/api/ui/ holds plain HTML, CSS and an ES module; at build time
 * cmake/embed.cmake turns them into the lcd_ui_assets table, so the binary
 * needs no files beside it and nothing is fetched at run time. http.c serves
 * them at GET / on both listeners without the token (the page carries none:
 * it reads it from the URL fragment and presents it on the WebSocket), but
 * under the same Host rules as the API. Read-only data; any thread.
 */
#ifndef LCD_UI_H
#define LCD_UI_H

#include <stddef.h>

typedef struct {
        const char *path; /* "/", "/app.js", ... */
        const char *mime;
        const unsigned char *data;
        size_t len;
} lcd_ui_asset_t;

extern const lcd_ui_asset_t lcd_ui_assets[]; /* ends with a NULL path */

/* The asset for a request path (query string ignored), or NULL. */
const lcd_ui_asset_t *lcd_ui_find(const char *path);

#endif

/* metrics.h - the RPC counters and the Prometheus text of /metrics.
 *
 * DESIGN: service thread only; plain integers in api->metrics. Counting
 * happens where a reply goes out (methods.c for immediate ones, pending.c
 * for the rest). The page reads the engine's counters and the API's own;
 * method names come from the caller, so this file knows no method table.
 */
#ifndef LCD_METRICS_H
#define LCD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api-internal.h"

/* Count one finished request (method index, -1 or out of range: unknown)
 * and the time since start_us (wall clock). */
void lcd_metrics_rpc(lcd_api_t *api, int method, bool error, int64_t start_us);
/* The /metrics page (a new buffer, *len bytes), or NULL when out of memory.
 * method_name(i) names counter slot i (LCD_RPC_METHODS: the unknown ones). */
char *lcd_metrics_text(lcd_api_t *api, const char *(*method_name)(int), size_t *len);

#endif

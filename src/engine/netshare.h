/* netshare.h - containers that share another's network namespace
 * (network "container:NAME:TAG", pod-style; netshare.c).
 *
 * DESIGN: a sharer joins its owner's namespace by path (network.h keeps
 * it at <runtime>/netns/<owner id>): they share ports and localhost. A
 * sharer of a sharer joins the first one's owner. The owner must be
 * created or running when a sharer is created or started, and is not
 * removed while sharers exist, unless forced. The owner's network lives
 * with it: when it exits, its sharers lose their outbound access too.
 * Service thread (the map's lock-free snapshot).
 */
#ifndef LCD_NETSHARE_H
#define LCD_NETSHARE_H

#include <stdbool.h>
#include <stddef.h>

#include "container.h"
#include "lcd/error.h"
#include "statemap.h"

/* The owner of name:tag's network for a new sharer: name:tag itself, or
 * its own owner when it shares; created or running, private or none. A
 * new reference, or NULL with not_found / conflict / invalid. */
lcd_container_t *lcd_netshare_owner(lcd_statemap_t *map, const char *name, const char *tag, lcd_error_t **err);

/* Can c start as far as its network goes: when it shares, its owner is
 * created or running. 0, or LCD_ERR with conflict. */
int lcd_netshare_check_start(lcd_statemap_t *map, const lcd_container_t *c, lcd_error_t **err);

/* Does a container (not being removed) share c's network? Its name:tag
 * into who. */
bool lcd_netshare_in_use(lcd_statemap_t *map, const lcd_container_t *c, char *who, size_t len);

#endif

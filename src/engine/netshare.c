/* netshare.c - see netshare.h. */
#include "netshare.h"

#include "lcd/alloc.h"

#include <stdio.h>
#include <string.h>

static const unsigned owner_states = LCD_CS_BIT(LCD_CS_CREATED) | LCD_CS_BIT(LCD_CS_RUNNING);

lcd_container_t *lcd_netshare_owner(lcd_statemap_t *map, const char *name, const char *tag, lcd_error_t **err)
{
        lcd_mapitem_t *it = lcd_statemap_get(map, name, tag);
        if (it == NULL) {
                lcd_error_set(err, LCD_E_NOT_FOUND, "network container:%s:%s: no container %s:%s", name, tag, name,
                              tag);
                return NULL;
        }
        lcd_container_t *c = lcd_container_from_item(it);
        if (c->net_mode == LCD_NET_CONTAINER) { /* a sharer: join its owner */
                lcd_container_t *owner = lcd_container_find_id(map, c->net_owner);
                lcd_container_unref(c);
                if (owner == NULL) {
                        lcd_error_set(err, LCD_E_CONFLICT, "network container:%s:%s: the network it shares is gone",
                                      name, tag);
                        return NULL;
                }
                c = owner;
        }
        const char *why = NULL;
        if (c->net_mode == LCD_NET_HOST)
                why = "is on the host's network (use network \"host\")";
        else if (!(LCD_CS_BIT(lcd_container_state(c)) & owner_states))
                why = "is not created or running: its network is down";
        if (why != NULL) {
                lcd_error_set(err, LCD_E_CONFLICT, "network container:%s:%s: %s:%s %s", name, tag, c->item.name,
                              c->item.tag, why);
                lcd_container_unref(c);
                return NULL;
        }
        return c;
}

int lcd_netshare_check_start(lcd_statemap_t *map, const lcd_container_t *c, lcd_error_t **err)
{
        if (c->net_mode != LCD_NET_CONTAINER)
                return 0;
        lcd_container_t *owner = lcd_container_find_id(map, c->net_owner);
        bool up = owner != NULL && (LCD_CS_BIT(lcd_container_state(owner)) & owner_states);
        int rc = up ? 0
                    : lcd_error_set(err, LCD_E_CONFLICT,
                                    "%s:%s shares the network of %s, which is not created or running: start it first",
                                    c->item.name, c->item.tag, c->net_owner_key);
        lcd_container_unref(owner);
        return rc;
}

bool lcd_netshare_in_use(lcd_statemap_t *map, const lcd_container_t *c, char *who, size_t len)
{
        lcd_mapitem_t **items;
        size_t n;
        if (lcd_statemap_snapshot(map, &items, &n) < 0)
                return false;
        bool used = false;
        for (size_t i = 0; i < n; i++) {
                lcd_container_t *s = lcd_container_from_item(items[i]);
                if (!used && s != c && s->net_mode == LCD_NET_CONTAINER && strcmp(s->net_owner, c->id) == 0 &&
                    lcd_container_state(s) != LCD_CS_REMOVING) {
                        snprintf(who, len, "%s:%s", s->item.name, s->item.tag);
                        used = true;
                }
                lcd_container_unref(s);
        }
        lcd_free(items);
        return used;
}

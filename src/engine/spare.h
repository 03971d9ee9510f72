/* spare.h - private networks made ahead, so that a create does not wait
 * for pasta.
 *
 * DESIGN: pasta needs 20-30 ms before a namespace is configured (it
 * touches some 30 MiB of buffers first), longer than conmon and crun
 * create together, so it was the longest step of a default create. The
 * pool keeps up to `target` networks of the default shape up -- private,
 * the host's loopback fenced; published ports are the relay's (relay.h),
 * added when one is taken -- each under an id drawn
 * as a container's is. A create of that shape takes one and becomes the
 * container with that id, so nothing is renamed: the namespace, pid file
 * and log are where network.c looks for that id, and whatever takes a
 * container's network down takes this one down. One thread refills the
 * pool; it starts at the first take (a daemon whose containers use host
 * or none never runs an idle pasta) and waits longer after each failure
 * (1 s, doubling to a minute). A take pops under a mutex held for a copy
 * (the service thread takes); a spare whose pasta died meanwhile is found
 * when it is used (lcd_network_begin) and replaced there. lcd_spares_free
 * stops the thread and takes every spare down; the start-up sweep takes
 * down what a killed daemon left, spares included.
 */
#ifndef LCD_SPARE_H
#define LCD_SPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "network.h"

typedef struct lcd_spares lcd_spares_t;

/* A pool of target (1..LCD_NETWORK_SPARES_MAX) spares; env is copied, its
 * strings borrowed. NULL without memory. */
lcd_spares_t *lcd_spares_new(const lcd_network_env_t *env, unsigned target);
/* Take a ready spare for a create asking for network mode and
 * allowHostLoopback host_loopback: its id into id (LCD_ID_LEN + 1 bytes),
 * true; false when that is not a spare's shape or none is ready (then the
 * pool refills). s may be NULL (false). */
bool lcd_spares_take(lcd_spares_t *s, lcd_net_mode_t mode, bool host_loopback, char *id);
/* Give back a taken spare unused (the create was refused after it took
 * one). */
void lcd_spares_give_back(lcd_spares_t *s, const char *id);
/* Spares ready now, takes that found one and takes that did not. */
void lcd_spares_counts(lcd_spares_t *s, unsigned *ready, uint64_t *taken, uint64_t *missed);
/* Stop the refill (waiting for a pasta it is starting) and take every
 * spare down. NULL is fine. */
void lcd_spares_free(lcd_spares_t *s);

#endif

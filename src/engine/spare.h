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
 * container's network down takes this one down. A thread refills the
 * pool; it starts at the first take (a daemon whose containers use host
 * or none never runs an idle pasta) and waits longer after each failure
 * (1 s, doubling to a minute). The refill makes a spare's namespace first
 * and then starts its pasta; a take that finds none ready takes the one
 * being started, whose pasta began before the create came and so is up
 * sooner than one the create would start, and its create waits for it after conmon's start
 * (lcd_spares_wait); a second refill thread, started at the first such
 * take, then makes the next one beside it, so a burst of creates still has
 * two pastas starting at once, as when each miss started its own. A take pops under a mutex held for a copy (the
 * service thread takes); a spare whose pasta died meanwhile is found when
 * it is used (lcd_network_begin) and replaced there. lcd_spares_free
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
/* Take a spare for a create asking for network mode and allowHostLoopback
 * host_loopback: its id into id (LCD_ID_LEN + 1 bytes) and LCD_SPARE_UP
 * for a ready one, LCD_SPARE_STARTING for the one whose pasta the refill
 * is starting (its namespace is up: crun may join it; the create calls
 * lcd_spares_wait before its process runs); LCD_SPARE_NO when that is not
 * a spare's shape or none is there (then the pool refills). s may be NULL
 * (LCD_SPARE_NO). Any thread; never blocks for long. */
lcd_spare_t lcd_spares_take(lcd_spares_t *s, lcd_net_mode_t mode, bool host_loopback, char *id);
/* A create that took id LCD_SPARE_STARTING: wait (bounded) until its
 * pasta is up; if that start failed, start one for it in line (as
 * lcd_network_start_pasta, with net; net NULL: do not, return LCD_ERR
 * without a message). 0, or LCD_ERR (timeout when the
 * refill did not answer: it takes the network down later itself). Must be
 * called once per such take, before the container's network is taken
 * down. Worker. */
int lcd_spares_wait(lcd_spares_t *s, const char *id, const lcd_net_spec_t *net, lcd_error_t **err);
/* (Once a take is settled, lcd_spares_wait returns 0 at once.) */
/* Give back a taken spare unused (the create was refused after it took
 * one, and called no lcd_spares_wait): it is ready again, or, when the
 * pool is full or its pasta failed, the refill takes it down. Never waits
 * for a pasta (the service thread gives back). */
void lcd_spares_give_back(lcd_spares_t *s, const char *id);
/* Spares ready now, takes that found one (of which waited: the one being
 * started) and takes that did not. */
void lcd_spares_counts(lcd_spares_t *s, unsigned *ready, uint64_t *taken, uint64_t *waited, uint64_t *missed);
/* Stop the refill (waiting for a pasta it is starting) and take every
 * spare down. NULL is fine. */
void lcd_spares_free(lcd_spares_t *s);

#endif

/* statemap.h - the lock-free container state map.
 *
 * DESIGN: a fixed-capacity open-addressing hash table (linear probing)
 * whose slots are C11 atomics; lookup, insert-if-absent and remove take no
 * mutex. Items are caller-defined structs that embed lcd_mapitem_t as their
 * first member; the key is the item's name/tag pair, fixed at insert.
 * Capacity is the next power of two >= 2 * max_items; an atomic counter
 * refuses inserts past max_items, so probe chains always end.
 *
 * Slot word (atomic uintptr_t): 0 = EMPTY (never used), 1 = TOMBSTONE
 * (removed, reusable), otherwise an item pointer, with bit 0 set while an
 * insert is PENDING. EMPTY only ever becomes non-EMPTY, so a probe chain
 * (home .. first EMPTY) only grows.
 *
 * Insert-if-absent reuses tombstones and so must rule out two inserts of one
 * key landing in two slots: it claims the first free slot of the chain as
 * PENDING, then rescans the chain. A committed item with the key means
 * -EEXIST. Another PENDING claim of the same key nearer home wins: we
 * retract, wait for its outcome, and return -EEXIST if it commits or start
 * over if it retracts (so -EEXIST is only returned once the key is visible
 * to lookups). One farther from home is waited for while we keep our claim
 * (it will see us and retract, or it passed our slot before we claimed it
 * and commits, and then we retract). A claimer waits only on claims farther
 * out, or while holding no claim, so two claimers never wait on each other.
 * The map's reference is taken before the commit makes the item visible.
 *
 * Memory reclamation: each slot has a pin counter. A reader pins the slot,
 * loads the pointer, compares the key and takes a reference, then unpins;
 * remove swaps the pointer out and waits (spinning, then yielding) until the
 * slot's pin count is zero before it drops the map's reference. An inserter
 * that retracts its PENDING claim waits the same way before returning, as
 * other inserters may be comparing keys with its item. So no reader ever
 * touches an item after its last reference is gone. Items are freed by
 * their release callback when their refcount reaches zero.
 *
 * Memory orders: slot words and pins are all seq_cst. The remover's "swap,
 * then read pins" against a reader's "pin, then reload the slot", and an
 * inserter's "claim, then rescan" against another's, are store-load
 * patterns: release/acquire would let both sides miss each other, and
 * seq_cst pins alone do not help unless the slot accesses are seq_cst too.
 * (seq_cst also publishes the item's key and fields, as release/acquire
 * would.) Refcounts use acq_rel on decrement, relaxed on increment. Details
 * at the top of statemap.c.
 */
#ifndef LCD_STATEMAP_H
#define LCD_STATEMAP_H

#include <stdatomic.h>
#include <stddef.h>

#include "lcd/events.h" /* LCD_NAME_MAX, LCD_TAG_MAX */

typedef struct lcd_mapitem lcd_mapitem_t;
struct lcd_mapitem {
        atomic_uint refs; /* private: use lcd_mapitem_ref/unref */
        unsigned hash;    /* private: set at insert */
        char name[LCD_NAME_MAX + 1];
        char tag[LCD_TAG_MAX + 1];
        void (*release)(lcd_mapitem_t *item); /* called once, when refs reaches 0 */
};

typedef struct lcd_statemap lcd_statemap_t;

/* Initialise an item: one reference (the caller's), key copied (truncated
 * to the maxima; validate first). release may be NULL. */
void lcd_mapitem_init(lcd_mapitem_t *item, const char *name, const char *tag, void (*release)(lcd_mapitem_t *));
void lcd_mapitem_ref(lcd_mapitem_t *item);
void lcd_mapitem_unref(lcd_mapitem_t *item);

/* New map for at most max_items items (>= 1). NULL on allocation failure. */
lcd_statemap_t *lcd_statemap_new(size_t max_items);
/* Free the map; drops the map's reference on every item still in it.
 * No other thread may use the map any more. */
void lcd_statemap_free(lcd_statemap_t *m);

/* Insert item unless its key is present. On success the map takes its own
 * reference. Returns 0, -EEXIST (key present), -ENOSPC (max_items reached). */
int lcd_statemap_insert(lcd_statemap_t *m, lcd_mapitem_t *item);
/* Look up a key. Returns a new reference (caller unrefs) or NULL. */
lcd_mapitem_t *lcd_statemap_get(lcd_statemap_t *m, const char *name, const char *tag);
/* Remove exactly this item (pointer identity). Drops the map's reference.
 * Returns 0 or -ENOENT. */
int lcd_statemap_remove(lcd_statemap_t *m, lcd_mapitem_t *item);
/* Number of items in the map (a snapshot). */
size_t lcd_statemap_count(lcd_statemap_t *m);
size_t lcd_statemap_max(lcd_statemap_t *m);
/* Snapshot: *out gets a new array of new references (caller unrefs each and
 * lcd_free()s the array), *n its length. Items inserted or removed during
 * the walk may or may not appear. Returns 0 or -ENOMEM. */
int lcd_statemap_snapshot(lcd_statemap_t *m, lcd_mapitem_t ***out, size_t *n);

#endif

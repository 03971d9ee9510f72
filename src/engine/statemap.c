/* statemap.c - the lock-free container state map; the DESIGN is in
 * statemap.h. Any thread may call any function except
 * lcd_statemap_free().
 *
 * Memory orders, one atomic at a time:
 * - slot.word: every load, store and CAS is seq_cst. Two store-load
 *   (Dekker) patterns live on it, and release/acquire allows both sides of
 *   such a pattern to read the old value:
 *   (a) an inserter "claims its slot, then rescans the chain" while another
 *       inserter of the same key does the same with another slot: seq_cst
 *       guarantees at least one of them sees the other's claim;
 *   (b) a remover (or a retracting inserter) "swaps the word out, then reads
 *       pins" while a reader "pins, then reloads the word": at least one of
 *       them sees the other, so either the reader sees the word gone and
 *       does not touch the item, or the remover sees the pin and waits.
 *   seq_cst also gives what release/acquire would: the CAS that publishes
 *   item|PENDING releases the item's key and hash written before it. On
 *   x86-64 a seq_cst load is a plain load and the CAS is locked anyway.
 * - slot.pins: seq_cst fetch_add/fetch_sub/load, the other half of (b).
 *   The unpin is also a release that the remover's pin load (an acquire)
 *   synchronises with, so a reader's reads of the item happen before the
 *   remover drops its reference.
 * - count: the reservation CAS is acquire and every decrement release, so
 *   an inserter that reserves the place a remover freed also sees that
 *   remover's TOMBSTONE. Only a liveness nicety: a stale read just makes
 *   the walk go round again.
 * - item.refs: increment relaxed (the caller already holds a reference, or
 *   the slot is pinned, which keeps the map's reference alive); decrement
 *   acq_rel so that every use of the item happens before release().
 * No locks are taken anywhere. Waits (pins draining, a competing PENDING
 * claim resolving) spin briefly and then sched_yield(); each waits for a
 * bounded piece of code on another thread that takes no lock and never
 * waits back.
 */
#include "statemap.h"

#include "lcd/alloc.h"

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#define WORD_EMPTY ((uintptr_t)0)
#define WORD_TOMBSTONE ((uintptr_t)1)
#define WORD_PENDING ((uintptr_t)1) /* bit 0 of an item pointer */

#define SPINS_BEFORE_YIELD 64

_Static_assert(_Alignof(lcd_mapitem_t) >= 2, "bit 0 of an item pointer must be free for PENDING");

/* Not padded to a cache line: every operation walks consecutive slots, so
 * density (four slots per line) buys more than avoiding false sharing. */
typedef struct {
        _Atomic uintptr_t word; /* EMPTY, TOMBSTONE, item, or item|PENDING */
        atomic_uint pins;       /* readers currently dereferencing word's item */
} slot_t;

struct lcd_statemap {
        size_t max_items;
        size_t mask;         /* capacity - 1; capacity is a power of two */
        atomic_size_t count; /* committed items plus inserts in flight, <= max_items */
        slot_t *slots;
};

enum { KEY_OTHER, KEY_SAME, KEY_MOVED };

static inline int word_is_item(uintptr_t w)
{
        return w > WORD_TOMBSTONE;
}

static inline int word_is_committed(uintptr_t w)
{
        return w > WORD_TOMBSTONE && !(w & WORD_PENDING);
}

static inline lcd_mapitem_t *word_item(uintptr_t w)
{
        return (lcd_mapitem_t *)(w & ~WORD_PENDING);
}

static inline uintptr_t load_word(slot_t *s)
{
        return atomic_load_explicit(&s->word, memory_order_seq_cst);
}

static void backoff(unsigned *spins)
{
        if (*spins < SPINS_BEFORE_YIELD) {
                (*spins)++;
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#elif defined(__aarch64__)
                __asm__ __volatile__("yield");
#endif
        } else {
                sched_yield();
        }
}

/* FNV-1a (32 bit) over name, a 0 byte, tag. */
static unsigned key_hash(const char *name, size_t nlen, const char *tag, size_t tlen)
{
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < nlen; i++) {
                h ^= (unsigned char)name[i];
                h *= 16777619u;
        }
        h *= 16777619u; /* h ^= 0 */
        for (size_t i = 0; i < tlen; i++) {
                h ^= (unsigned char)tag[i];
                h *= 16777619u;
        }
        return h;
}

static unsigned item_hash(const lcd_mapitem_t *item)
{
        return key_hash(item->name, strlen(item->name), item->tag, strlen(item->tag));
}

static void copy_key(char *dst, const char *src, size_t max)
{
        size_t len = src ? strnlen(src, max) : 0;

        if (len)
                memcpy(dst, src, len);
        dst[len] = '\0';
}

void lcd_mapitem_init(lcd_mapitem_t *item, const char *name, const char *tag, void (*release)(lcd_mapitem_t *))
{
        atomic_init(&item->refs, 1);
        copy_key(item->name, name, LCD_NAME_MAX);
        copy_key(item->tag, tag, LCD_TAG_MAX);
        item->hash = item_hash(item);
        item->release = release;
}

void lcd_mapitem_ref(lcd_mapitem_t *item)
{
        atomic_fetch_add_explicit(&item->refs, 1, memory_order_relaxed);
}

void lcd_mapitem_unref(lcd_mapitem_t *item)
{
        if (item == NULL)
                return;
        if (atomic_fetch_sub_explicit(&item->refs, 1, memory_order_acq_rel) == 1 && item->release)
                item->release(item);
}

lcd_statemap_t *lcd_statemap_new(size_t max_items)
{
        if (max_items == 0 || max_items > SIZE_MAX / 4 / sizeof(slot_t))
                return NULL;
        size_t cap = 1;
        while (cap < 2 * max_items)
                cap <<= 1;

        lcd_statemap_t *m = lcd_calloc(1, sizeof(*m));
        if (m == NULL)
                return NULL;
        m->slots = lcd_calloc(cap, sizeof(slot_t));
        if (m->slots == NULL) {
                lcd_free(m);
                return NULL;
        }
        m->max_items = max_items;
        m->mask = cap - 1;
        atomic_init(&m->count, 0);
        for (size_t i = 0; i < cap; i++) {
                atomic_init(&m->slots[i].word, WORD_EMPTY);
                atomic_init(&m->slots[i].pins, 0);
        }
        return m;
}

void lcd_statemap_free(lcd_statemap_t *m)
{
        if (m == NULL)
                return;
        for (size_t i = 0; i <= m->mask; i++) {
                uintptr_t w = atomic_load_explicit(&m->slots[i].word, memory_order_acquire);
                if (word_is_committed(w))
                        lcd_mapitem_unref(word_item(w));
        }
        lcd_free(m->slots);
        lcd_free(m);
}

size_t lcd_statemap_count(lcd_statemap_t *m)
{
        return atomic_load_explicit(&m->count, memory_order_relaxed);
}

size_t lcd_statemap_max(lcd_statemap_t *m)
{
        return m->max_items;
}

static int reserve(lcd_statemap_t *m)
{
        size_t c = atomic_load_explicit(&m->count, memory_order_relaxed);

        do {
                if (c >= m->max_items)
                        return -ENOSPC;
        } while (!atomic_compare_exchange_weak_explicit(&m->count, &c, c + 1, memory_order_acquire,
                                                        memory_order_relaxed));
        return 0;
}

static void unreserve(lcd_statemap_t *m)
{
        atomic_fetch_sub_explicit(&m->count, 1, memory_order_release);
}

/* Wait until no reader dereferences the item this slot held; the caller has
 * just swapped it out (seq_cst), so no new reader can start using it. */
static void wait_unpinned(slot_t *s)
{
        unsigned spins = 0;

        while (atomic_load_explicit(&s->pins, memory_order_seq_cst) != 0)
                backoff(&spins);
}

/* Compare the key of the item in slot s, last seen as word w, with
 * (hash, name, tag). The slot is pinned meanwhile, so the item cannot be
 * released under us; on KEY_SAME with take_ref the caller gets a reference.
 * KEY_MOVED: the slot no longer holds w. */
static int pin_cmp(slot_t *s, uintptr_t w, unsigned hash, const char *name, const char *tag, int take_ref)
{
        int r = KEY_MOVED;

        atomic_fetch_add_explicit(&s->pins, 1, memory_order_seq_cst);
        if (load_word(s) == w) {
                const lcd_mapitem_t *it = word_item(w);
                r = KEY_OTHER;
                if (it->hash == hash && strcmp(it->name, name) == 0 && strcmp(it->tag, tag) == 0) {
                        r = KEY_SAME;
                        if (take_ref)
                                lcd_mapitem_ref(word_item(w));
                }
        }
        atomic_fetch_sub_explicit(&s->pins, 1, memory_order_seq_cst);
        return r;
}

/* Claim the first free slot of item's chain as item|PENDING. Returns its
 * probe distance, or -EEXIST if a committed item with the key comes first. */
static long claim(lcd_statemap_t *m, lcd_mapitem_t *item, size_t home)
{
        const uintptr_t mine = (uintptr_t)item | WORD_PENDING;

        for (;;) {
                /* Fewer than max_items slots are taken at any moment, so a
                 * pass fails only if slots keep being freed behind us and
                 * taken ahead of us; then go round again. */
                for (size_t d = 0; d <= m->mask; d++) {
                        slot_t *s = &m->slots[(home + d) & m->mask];
                        uintptr_t w = load_word(s);
                        while (!word_is_item(w))
                                if (atomic_compare_exchange_strong_explicit(&s->word, &w, mine, memory_order_seq_cst,
                                                                            memory_order_seq_cst))
                                        return (long)d;
                        if (!(w & WORD_PENDING) && pin_cmp(s, w, item->hash, item->name, item->tag, 0) == KEY_SAME)
                                return -EEXIST;
                }
        }
}

/* Give a PENDING claim back. Other inserters may be comparing keys with our
 * item, so wait for them before the caller may free it. */
static void retract(slot_t *s)
{
        atomic_store_explicit(&s->word, WORD_TOMBSTONE, memory_order_seq_cst);
        wait_unpinned(s);
}

enum { RESCAN_CLEAN, RESCAN_EXISTS, RESCAN_RETRY };

/* After claiming the slot at probe distance mydist, walk the chain for
 * other claims of the same key. On RESCAN_EXISTS and RESCAN_RETRY our claim
 * has been retracted. */
static int rescan(lcd_statemap_t *m, lcd_mapitem_t *item, size_t home, size_t mydist)
{
        slot_t *mine = &m->slots[(home + mydist) & m->mask];

        for (size_t d = 0; d <= m->mask; d++) {
                if (d == mydist)
                        continue;
                slot_t *s = &m->slots[(home + d) & m->mask];
                uintptr_t w = load_word(s);
                for (;;) {
                        if (w == WORD_EMPTY)
                                return RESCAN_CLEAN; /* end of the chain */
                        if (w == WORD_TOMBSTONE)
                                break;
                        int r = pin_cmp(s, w, item->hash, item->name, item->tag, 0);
                        if (r == KEY_OTHER)
                                break;
                        if (r == KEY_MOVED) {
                                w = load_word(s);
                                continue;
                        }
                        if (!(w & WORD_PENDING)) {
                                retract(mine);
                                return RESCAN_EXISTS;
                        }
                        unsigned spins = 0;
                        uintptr_t now;
                        if (d < mydist) {
                                /* A claim nearer home wins. Step aside, then
                                 * wait for its outcome: -EEXIST only once the
                                 * key is really visible, else start over. */
                                retract(mine);
                                while ((now = load_word(s)) == w)
                                        backoff(&spins);
                                return now == (w & ~WORD_PENDING) ? RESCAN_EXISTS : RESCAN_RETRY;
                        }
                        /* A claim farther out: it will see ours and step
                         * aside, or it passed our slot before we claimed it
                         * and commits. Never waits back on us. */
                        while ((now = load_word(s)) == w)
                                backoff(&spins);
                        w = now;
                }
        }
        return RESCAN_CLEAN;
}

int lcd_statemap_insert(lcd_statemap_t *m, lcd_mapitem_t *item)
{
        unsigned h = item_hash(item);

        /* Normally already set by lcd_mapitem_init; written only if the
         * caller changed the key since, so re-inserting an item other
         * threads may be reading never writes to it. */
        if (item->hash != h) // cppcheck-suppress duplicateConditionalAssign ; the test avoids a racy write
                item->hash = h;
        int rc = reserve(m);
        if (rc < 0)
                return rc;

        size_t home = h & m->mask;
        for (;;) {
                long d = claim(m, item, home);
                if (d < 0) {
                        unreserve(m);
                        return (int)d;
                }
                switch (rescan(m, item, home, (size_t)d)) {
                case RESCAN_CLEAN:
                        /* Take the map's reference before the item becomes
                         * visible to remove(). Only we write a PENDING word. */
                        lcd_mapitem_ref(item);
                        atomic_store_explicit(&m->slots[(home + (size_t)d) & m->mask].word, (uintptr_t)item,
                                              memory_order_seq_cst);
                        return 0;
                case RESCAN_EXISTS:
                        unreserve(m);
                        return -EEXIST;
                default: /* RESCAN_RETRY */
                        break;
                }
        }
}

lcd_mapitem_t *lcd_statemap_get(lcd_statemap_t *m, const char *name, const char *tag)
{
        if (name == NULL || tag == NULL)
                return NULL;
        size_t nlen = strnlen(name, LCD_NAME_MAX + 1);
        size_t tlen = strnlen(tag, LCD_TAG_MAX + 1);
        if (nlen > LCD_NAME_MAX || tlen > LCD_TAG_MAX)
                return NULL; /* longer than any stored key */
        unsigned h = key_hash(name, nlen, tag, tlen);
        size_t home = h & m->mask;

        for (size_t d = 0; d <= m->mask; d++) {
                slot_t *s = &m->slots[(home + d) & m->mask];
                uintptr_t w = load_word(s);
                for (;;) {
                        if (w == WORD_EMPTY)
                                return NULL;
                        if (!word_is_committed(w))
                                break;
                        int r = pin_cmp(s, w, h, name, tag, 1);
                        if (r == KEY_SAME)
                                return word_item(w);
                        if (r == KEY_OTHER)
                                break;
                        w = load_word(s);
                }
        }
        return NULL;
}

int lcd_statemap_remove(lcd_statemap_t *m, lcd_mapitem_t *item)
{
        const uintptr_t want = (uintptr_t)item;
        size_t home = item->hash & m->mask;

        for (size_t d = 0; d <= m->mask; d++) {
                slot_t *s = &m->slots[(home + d) & m->mask];
                uintptr_t w = load_word(s);
                if (w == WORD_EMPTY)
                        break;
                if (w != want)
                        continue;
                if (!atomic_compare_exchange_strong_explicit(&s->word, &w, WORD_TOMBSTONE, memory_order_seq_cst,
                                                             memory_order_seq_cst))
                        continue; /* a concurrent remove won */
                wait_unpinned(s);
                unreserve(m);
                lcd_mapitem_unref(item);
                return 0;
        }
        return -ENOENT;
}

#define SNAPSHOT_FIRST 8

int lcd_statemap_snapshot(lcd_statemap_t *m, lcd_mapitem_t ***out, size_t *n)
{
        size_t cap = m->mask + 1;
        size_t size = cap < SNAPSHOT_FIRST ? cap : SNAPSHOT_FIRST;
        size_t len = 0;
        lcd_mapitem_t **arr = lcd_calloc(size, sizeof(*arr));

        if (arr == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < cap; i++) {
                slot_t *s = &m->slots[i];
                uintptr_t w = load_word(s);
                if (!word_is_committed(w))
                        continue;
                if (len == size) {
                        /* At most one item per slot, so cap always fits;
                         * grow before pinning, never while pinned. */
                        size_t nsize = size * 2 < cap ? size * 2 : cap;
                        lcd_mapitem_t **narr = lcd_realloc(arr, nsize * sizeof(*arr));
                        if (narr == NULL) {
                                for (size_t j = 0; j < len; j++)
                                        lcd_mapitem_unref(arr[j]);
                                lcd_free(arr);
                                return -ENOMEM;
                        }
                        arr = narr;
                        size = nsize;
                }
                atomic_fetch_add_explicit(&s->pins, 1, memory_order_seq_cst);
                if (load_word(s) == w) {
                        lcd_mapitem_ref(word_item(w));
                        arr[len++] = word_item(w);
                }
                atomic_fetch_sub_explicit(&s->pins, 1, memory_order_seq_cst);
        }
        *out = arr;
        *n = len;
        return 0;
}

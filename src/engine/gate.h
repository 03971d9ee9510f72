/* gate.h - keyed reader/writer gates for workers.
 *
 * DESIGN: "one writer or many readers per key" for work that must not
 * overlap on the same thing (pulling an image while another worker unpacks
 * it, unpacking one image root twice) but may run in parallel on different
 * things. One mutex and one condition variable guard a list holding an
 * entry per key in use, so memory is bounded by the number of workers.
 * Workers only: entering may block (the service thread never calls this).
 * Order between gates: an image's (the image store's) before its root's
 * (the runtime's): a create holds the image as a reader while it prepares
 * the root; nothing takes them the other way.
 */
#ifndef LCD_GATE_H
#define LCD_GATE_H

#include <stdbool.h>

#define LCD_GATE_KEY_MAX 255

typedef struct lcd_gate lcd_gate_t;

lcd_gate_t *lcd_gate_new(void);
/* No gate may be held any more. */
void lcd_gate_free(lcd_gate_t *g);
/* Wait until key is free for a writer (write) or has no writer (read),
 * then hold it. 0, or -ENOMEM (nothing held). Keys longer than
 * LCD_GATE_KEY_MAX are cut, so use canonical keys below that. */
int lcd_gate_enter(lcd_gate_t *g, const char *key, bool write);
void lcd_gate_leave(lcd_gate_t *g, const char *key, bool write);

#endif

/* compiler.h - attributes the tree uses, spelled once.
 *
 * DESIGN: gnu11 (GCC and Clang). LCD_UNUSED marks a parameter a callback
 * or table signature imposes but this function does not need, so
 * -Wunused-parameter stays on for everything else.
 */
#ifndef LCD_COMPILER_H
#define LCD_COMPILER_H

#define LCD_UNUSED __attribute__((unused))

#endif

/* attach.h - a client on a container's main process (docker's attach),
 * for the API's streams.
 *
 * DESIGN: conmon serves a container's stdio on its attach socket
 * (conmon.h): every packet it sends is [2 stdout | 3 stderr][bytes] (a
 * terminal's are all 2), and what a client writes goes to the container's
 * stdin (a container created with stdin); a terminal's size goes to its
 * ctl fifo as "1 ROWS COLS\n". lcd_engine_attach() connects to the socket
 * on the service thread -- a Unix socket's connect and a fifo's
 * non-blocking open, neither of which blocks -- and hands the descriptors
 * over. The end of what is attached is the container's: its exit or its
 * removal, told by an event (lcd_attach_ended_by), while conmon closes
 * the socket as it ends. At most --max-execs attaches at once, beside as
 * many execs.
 */
#ifndef LCD_ATTACH_H
#define LCD_ATTACH_H

#include <stdbool.h>

#include "lcd/engine.h"
#include "lcd/error.h"
#include "lcd/events.h"

#define LCD_ATTACH_PACKET_MAX 8192 /* stdin goes to conmon in packets of at most this */

typedef struct {
        const char *name, *tag;
        bool stdin; /* write the container's stdin: it needs one (created with stdin) */
} lcd_attach_req_t;

typedef struct lcd_attach lcd_attach_t;

enum { LCD_ATTACH_OUTPUT, LCD_ATTACH_INPUT, LCD_ATTACH__FDS };

/* Attach: 0 with *out, or LCD_ERR with err: invalid (the name, the tag;
 * stdin of a container without one), not_found, conflict (not created,
 * running or paused; data "wrong_state"), busy (--max-execs attaches),
 * tool_failed (conmon's socket refused: it is ending). Service thread. */
int lcd_engine_attach(lcd_engine_t *e, const lcd_attach_req_t *req, lcd_attach_t **out, lcd_error_t **err);

/* Hand a descriptor over (the caller closes it from now on), -1 when
 * there is none: LCD_ATTACH_OUTPUT the socket, read in packets;
 * LCD_ATTACH_INPUT a second descriptor of it for stdin (req.stdin), whose
 * end is shutdown(SHUT_WR). */
int lcd_attach_take_fd(lcd_attach_t *a, int which);
bool lcd_attach_tty(const lcd_attach_t *a);
/* A terminal's new size; 0 or -errno (-ENOTTY without one). */
int lcd_attach_resize(lcd_attach_t *a, unsigned width, unsigned height);
/* Does ev end what a is attached to (its container's exit after the
 * attach, or its removal)? *code: the exit code, -1 when it has none. */
bool lcd_attach_ended_by(const lcd_attach_t *a, const lcd_event_t *ev, int *code);
/* Close what was not taken, count the attach out, free. NULL is fine. */
void lcd_attach_free(lcd_attach_t *a);

#endif

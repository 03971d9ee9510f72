/* api_driver.h - the real request path, in process: decoder, dispatcher,
 * engine and encoder, with the tool runner replaced by the fake one and no
 * socket. Used by the allocation-failure harness and the fuzzer.
 *
 * DESIGN: one detached API session (src/api/api-internal.h) over a real
 * engine (one worker, so runs are close to deterministic) and event ring
 * in a temporary directory. feed() hands one text message to the session
 * as if it came from a WebSocket, settle() waits (bounded) until the engine
 * is idle and delivers replies and events, next() pops what the session
 * would have written. Single-threaded use.
 */
#ifndef LCD_API_DRIVER_H
#define LCD_API_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct api_driver api_driver_t;

/* NULL on failure (including an injected allocation failure). */
api_driver_t *api_driver_new(void);
/* Shut the engine down (removing its containers) and free everything,
 * including the temporary directory. */
void api_driver_free(api_driver_t *d);
/* One client message; replies and events queue on the session. */
void api_driver_feed(api_driver_t *d, const char *text, size_t len);
/* Wait up to timeout_ms for the engine to go idle, delivering as it goes.
 * true when idle. */
bool api_driver_settle(api_driver_t *d, int timeout_ms);
/* Copy the next message the session would send into buf (NUL-terminated,
 * cut to len - 1 bytes) and drop it from the queue. Returns 0 when there
 * is none, len when it was cut, else its length + 1. Allocates nothing. */
size_t api_driver_next(api_driver_t *d, char *buf, size_t len);
/* False once the session was closed (a reply could not be built or queued). */
bool api_driver_open(api_driver_t *d);
/* Consistency of the engine's state: every listed container can be
 * inspected under its key and the event ring's seqs rise. 0 or -1 with a
 * message on stderr. */
int api_driver_check(api_driver_t *d);
/* The temporary directory (data/ and run/ below it). */
const char *api_driver_dir(api_driver_t *d);

#endif

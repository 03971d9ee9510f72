/* streamstatus.h - the status frame of an exec stream: a Kubernetes
 * metav1.Status, as kubelet sends it (streamstatus.c). Pure functions, any
 * thread. */
#ifndef LCD_STREAMSTATUS_H
#define LCD_STREAMSTATUS_H

#include "lcd/error.h"

/* The status of a process that exited with code: Success for 0, else a
 * Failure "NonZeroExitCode" whose message says why (crun's own words, or
 * "") and whose cause is the code. NUL-terminated JSON (lcd_free); NULL
 * without memory. */
char *lcd_stream_status_exit(int code, const char *why);
/* The status of an exec that could not start: a Failure with the reason
 * Kubernetes gives kind (NotFound, Conflict, ...) and msg, no details. */
char *lcd_stream_status_error(lcd_errkind_t kind, const char *msg);

#endif

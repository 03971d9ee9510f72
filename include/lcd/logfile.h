/* logfile.h - conmon's k8s-file container logs.
 *
 * DESIGN: conmon writes one line per chunk of output:
 *   "2026-11-29T10:27:09.560998780+00:00 stdout F hello"
 * (time, stream, F = the end of a line / P = a partial line, text). These
 * functions parse lines and read the tail of a log into API objects. Pure
 * (no state), any thread; reads are bounded by a byte budget. The parser
 * takes untrusted bytes (the container writes them): it never reads past
 * len and rejects what does not fit the format.
 */
#ifndef LCD_LOGFILE_H
#define LCD_LOGFILE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lcd/error.h"

#define LCD_LOG_LINE_MAX (64 * 1024) /* text kept per log entry */

typedef struct {
        const char *time; /* points into the line; time_len bytes */
        size_t time_len;
        const char *stream; /* "stdout" or "stderr" */
        bool partial;       /* P: the text continues in the next line */
        const char *text;   /* points into the line; text_len bytes, no newline */
        size_t text_len;
} lcd_logline_t;

/* Parse one line (without its newline). 0, or -EINVAL. */
int lcd_logline_parse(const char *line, size_t len, lcd_logline_t *out);

/* The last `tail` entries of the log at path (partial lines joined), as a
 * JSON array of {"time","stream","text"}; at most max_bytes of the file's
 * end are read. *end (may be NULL) gets the offset after the last complete
 * line read, where a follow goes on. A missing file is an empty array.
 * NULL with err. */
json_object *lcd_logfile_tail(const char *path, size_t tail, size_t max_bytes, off_t *end, lcd_error_t **err);

#endif

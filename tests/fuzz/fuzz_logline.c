/* fuzz_logline.c - libFuzzer target: conmon's k8s-file log format, the
 * bytes a container controls.
 *
 * Each line of the input goes through lcd_logline_parse(), whose results
 * must point inside the line; then the whole input, as a log file, goes
 * through lcd_logfile_tail() (partial lines joined per stream, bounded
 * reads), whose entries must each have a time, a known stream and text no
 * longer than LCD_LOG_LINE_MAX. */
#include "lcd/logfile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(c)                                                                                                       \
        do {                                                                                                           \
                if (!(c)) {                                                                                            \
                        fprintf(stderr, "fuzz_logline: %s failed\n", #c);                                              \
                        abort();                                                                                       \
                }                                                                                                      \
        } while (0)

static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *p = (const char *)data, *end = p + size;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                lcd_logline_t l;
                if (lcd_logline_parse(p, len, &l) == 0) {
                        CHECK(l.time >= p && l.time + l.time_len <= p + len);
                        CHECK(l.text >= p && l.text + l.text_len <= p + len);
                        CHECK(strcmp(l.stream, "stdout") == 0 || strcmp(l.stream, "stderr") == 0);
                }
                p += len + 1;
        }
        if (fd < 0 && (fd = memfd_create("fuzz-log", 0)) < 0)
                return 0;
        if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
                return 0;
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        lcd_error_t *err = NULL;
        off_t off = 0;
        json_object *a = lcd_logfile_tail(path, 1 + size % 7, 1 + size % 4096, &off, &err);
        if (a == NULL) {
                lcd_error_free(err);
                return 0;
        }
        CHECK(off >= 0 && (size_t)off <= size);
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);
                const char *stream = json_object_get_string(json_object_object_get(e, "stream"));
                CHECK(stream != NULL && (strcmp(stream, "stdout") == 0 || strcmp(stream, "stderr") == 0));
                CHECK(json_object_object_get(e, "time") != NULL);
                CHECK(json_object_get_string_len(json_object_object_get(e, "text")) <= LCD_LOG_LINE_MAX);
        }
        json_object_put(a);
        return 0;
}

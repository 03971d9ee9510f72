/* logfile.c - see logfile.h. */
#include "lcd/logfile.h"

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lcd_logline_parse(const char *line, size_t len, lcd_logline_t *out)
{
        memset(out, 0, sizeof *out);
        const char *sp1 = memchr(line, ' ', len);
        if (sp1 == NULL || sp1 == line || sp1 - line > 64)
                return -EINVAL;
        out->time = line;
        out->time_len = (size_t)(sp1 - line);
        for (size_t i = 0; i < out->time_len; i++) /* 2026-11-29T10:27:09.560998780+00:00 */
                if (!strchr("0123456789-:T.+Z", line[i]))
                        return -EINVAL;
        const char *p = sp1 + 1, *end = line + len;
        if ((size_t)(end - p) >= 7 && memcmp(p, "stdout ", 7) == 0)
                out->stream = "stdout";
        else if ((size_t)(end - p) >= 7 && memcmp(p, "stderr ", 7) == 0)
                out->stream = "stderr";
        else
                return -EINVAL;
        p += 7;
        if (end - p < 1 || (*p != 'F' && *p != 'P'))
                return -EINVAL;
        out->partial = *p == 'P';
        p++;
        if (p < end) {
                if (*p != ' ')
                        return -EINVAL;
                p++;
        }
        out->text = p;
        out->text_len = (size_t)(end - p);
        return 0;
}

/* A ring of the last `cap` entries, as json objects. */
struct ring {
        json_object **v;
        size_t cap, head, n;
};

static int ring_push(struct ring *r, json_object *o)
{
        if (r->n == r->cap) {
                json_object_put(r->v[r->head]);
                r->v[r->head] = o;
                r->head = (r->head + 1) % r->cap;
        } else {
                r->v[(r->head + r->n) % r->cap] = o;
                r->n++;
        }
        return 0;
}

static json_object *entry(const char *time, size_t time_len, const char *stream, const char *text, size_t text_len)
{
        json_object *o = json_object_new_object();
        if (lcd_json_set(o, "time", json_object_new_string_len(time, (int)time_len)) < 0 ||
            lcd_json_set(o, "stream", json_object_new_string(stream)) < 0 ||
            lcd_json_set(o, "text", json_object_new_string_len(text, (int)text_len)) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

/* Partial lines are joined per stream: a stderr line may sit between the
 * parts of a stdout one. */
struct pending {
        char *text;
        size_t len;
        const char *time; /* of the last part (points into the read buffer) */
        size_t time_len;
};

json_object *lcd_logfile_tail(const char *path, size_t tail, size_t max_bytes, off_t *end_off, lcd_error_t **err)
{
        if (end_off != NULL)
                *end_off = 0;
        json_object *out = NULL;
        struct ring r = {0};
        struct pending pend[2] = {{0}}; /* stdout, stderr */
        char *buf = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return json_object_new_array();
                lcd_error_set(err, LCD_E_INTERNAL, "open the log: %s", strerror(errno));
                return NULL;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                lcd_error_set(err, LCD_E_INTERNAL, "stat the log: %s", strerror(errno));
                goto done;
        }
        off_t start = st.st_size > (off_t)max_bytes ? st.st_size - (off_t)max_bytes : 0;
        size_t want = (size_t)(st.st_size - start), got = 0;
        r.cap = tail > 0 ? tail : 1;
        r.v = lcd_calloc(r.cap, sizeof *r.v);
        buf = lcd_malloc(want + 1);
        pend[0].text = lcd_malloc(LCD_LOG_LINE_MAX);
        pend[1].text = lcd_malloc(LCD_LOG_LINE_MAX);
        if (r.v == NULL || buf == NULL || pend[0].text == NULL || pend[1].text == NULL) {
                lcd_error_nomem(err);
                goto done;
        }
        while (got < want) {
                ssize_t n = pread(fd, buf + got, want - got, start + (off_t)got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
        }
        char *p = buf, *end = buf + got;
        if (start > 0) { /* we began inside a line: skip to the next one */
                char *nl = memchr(p, '\n', (size_t)(end - p));
                p = nl ? nl + 1 : end;
        }
        while (p < end) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                if (nl == NULL)
                        break; /* a line still being written */
                lcd_logline_t l;
                if (lcd_logline_parse(p, (size_t)(nl - p), &l) == 0) {
                        struct pending *pe = &pend[strcmp(l.stream, "stderr") == 0];
                        size_t take = l.text_len;
                        if (pe->len + take > LCD_LOG_LINE_MAX)
                                take = LCD_LOG_LINE_MAX - pe->len;
                        memcpy(pe->text + pe->len, l.text, take);
                        pe->len += take;
                        pe->time = l.time;
                        pe->time_len = l.time_len;
                        if (!l.partial) {
                                json_object *o = entry(l.time, l.time_len, l.stream, pe->text, pe->len);
                                if (o == NULL) {
                                        lcd_error_nomem(err);
                                        goto done;
                                }
                                ring_push(&r, o);
                                pe->len = 0;
                        }
                }
                p = nl + 1;
        }
        if (end_off != NULL)
                *end_off = start + (off_t)(p - buf);
        /* output not ended by a newline (yet): show it */
        for (int i = 0; i < 2; i++)
                if (pend[i].len > 0) {
                        json_object *o = entry(pend[i].time, pend[i].time_len, i ? "stderr" : "stdout", pend[i].text,
                                               pend[i].len);
                        if (o == NULL) {
                                lcd_error_nomem(err);
                                goto done;
                        }
                        ring_push(&r, o);
                }
        out = json_object_new_array_ext((int)r.n);
        if (out == NULL) {
                lcd_error_nomem(err);
                goto done;
        }
        if (tail > 0)
                for (size_t i = 0; i < r.n; i++) {
                        json_object *o = r.v[(r.head + i) % r.cap];
                        r.v[(r.head + i) % r.cap] = NULL;
                        if (lcd_json_append(out, o) < 0) { /* the array was sized for them all: not expected */
                                json_object_put(out);
                                out = NULL;
                                lcd_error_nomem(err);
                                goto done;
                        }
                }
        else
                for (size_t i = 0; i < r.n; i++)
                        json_object_put(r.v[(r.head + i) % r.cap]);
        r.n = 0;
done:
        for (size_t i = 0; r.v != NULL && i < r.n; i++)
                json_object_put(r.v[(r.head + i) % r.cap]);
        lcd_free(r.v);
        lcd_free(buf);
        lcd_free(pend[0].text);
        lcd_free(pend[1].text);
        close(fd);
        return out;
}

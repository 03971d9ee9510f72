/* logs.c - the logs operation: the last entries of a container's log
 * (see engine.h), and where that log is (for the API's log follow).
 *
 * DESIGN: the service thread looks the container up and queues a job with
 * a reference, no claim: reading changes nothing, so it may run beside any
 * other operation. The worker reads at most LOG_READ_MAX bytes of the
 * log's end through logfile.c (conmon's k8s-file format) and answers
 * {"lines","offset"}: the offset is where a follow (src/api/follow.c)
 * continues from.
 */
#include "engine-internal.h"
#include "job.h"

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/logfile.h"

#include <stdint.h>
#include <sys/types.h>

#define LOG_READ_MAX (8 * 1024 * 1024) /* bytes of a log's end read for a tail */

static void logs_job(void *arg)
{
        lcd_job_t *j = arg;
        lcd_error_t *err = NULL;
        char path[4096];
        lcd_runtime_log_path(j->e->rt, j->c->id, path, sizeof path);
        off_t end = 0;
        json_object *lines = lcd_logfile_tail(path, j->tail, LOG_READ_MAX, &end, &err);
        json_object *o = lines ? json_object_new_object() : NULL;
        if (lines != NULL && (lcd_json_set(o, "lines", lines) < 0 ||
                              lcd_json_set(o, "offset", json_object_new_int64((int64_t)end)) < 0)) {
                json_object_put(o);
                o = NULL;
        }
        lcd_job_finish(j, o, err);
}

int lcd_engine_log_path(lcd_engine_t *e, const char *name, const char *tag, char *buf, size_t len, lcd_error_t **err)
{
        lcd_mapitem_t *it = lcd_statemap_get(e->map, name, tag);
        if (it == NULL)
                return lcd_error_set(err, LCD_E_NOT_FOUND, "no container %s:%s", name, tag);
        lcd_runtime_log_path(e->rt, lcd_container_from_item(it)->id, buf, len);
        lcd_mapitem_unref(it);
        return 0;
}

int lcd_engine_logs(lcd_engine_t *e, const char *name, const char *tag, unsigned tail, lcd_engine_done_fn done,
                    void *ctx, lcd_error_t **err)
{
        lcd_mapitem_t *it = lcd_statemap_get(e->map, name, tag);
        if (it == NULL)
                return lcd_error_set(err, LCD_E_NOT_FOUND, "no container %s:%s", name, tag);
        lcd_job_t *j = lcd_calloc(1, sizeof *j);
        if (j == NULL) {
                lcd_mapitem_unref(it);
                return lcd_error_nomem(err);
        }
        j->c = lcd_container_from_item(it); /* a reference, no claim: reading does not change it */
        j->tail = tail;
        if (lcd_job_queue(e, j, logs_job, false, done, ctx, err) < 0) {
                lcd_mapitem_unref(it);
                lcd_free(j);
                return LCD_ERR;
        }
        return 0;
}

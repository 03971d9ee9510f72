/* follow.h - container.logs with follow (follow.c). */
#ifndef LCD_FOLLOW_H
#define LCD_FOLLOW_H

#include <libwebsockets.h>
#include <sys/types.h>

#include "session.h"

/* The inotify descriptor, adopted on vh. -1 when unavailable (follows are
 * then refused). */
int lcd_follow_init(lcd_api_t *api, struct lws_vhost *vh);
void lcd_follow_free(lcd_api_t *api);
/* Follow name:tag's log at path from offset on s. LCD_ERR with err. */
int lcd_follow_start(lcd_api_t *api, lcd_session_t *s, const char *name, const char *tag, const char *path,
                     off_t offset, lcd_error_t **err);
/* End s's follows of name:tag, telling the client reason. Returns how many. */
int lcd_follow_end(lcd_api_t *api, const lcd_session_t *s, const char *name, const char *tag, const char *reason);
/* Mark s's follows of name:tag to end (reason) once the replies queued now
 * are out: lcd_follow_run_deferred() ends them. */
void lcd_follow_end_later(lcd_api_t *api, const lcd_session_t *s, const char *name, const char *tag,
                          const char *reason);
void lcd_follow_run_deferred(lcd_api_t *api);
/* s is closing: drop its follows silently. */
void lcd_follow_drop_session(lcd_api_t *api, const lcd_session_t *s);
/* An event going out: end the follows of a container that exited or went. */
void lcd_follow_on_event(lcd_api_t *api, const lcd_event_t *e);
/* The inotify descriptor is readable: read what the followed logs gained. */
void lcd_follow_readable(lcd_api_t *api);

#endif

/* follow.c - container.logs with follow: new log lines pushed as they come.
 *
 * DESIGN: service thread only. One inotify descriptor, adopted by lws as a
 * raw file, wakes the service loop when a followed log grows (a watch on
 * the container's directory, shared by its followers); each follower keeps
 * the log open and reads from its offset to the end, advances past
 * complete lines only; when conmon starts the log afresh (--log-max) it
 * reads the old file to its end, then the new one from its start (a
 * follower kept from reading for a whole rotation misses the file in
 * between: it is gone before it could be opened); it joins partial
 * writes per stream and queues one "log" notification per entry on its
 * session. A follow ends -- with a final "log.end" notification -- when the
 * container's exited or removed event goes out, on logs.unfollow, when the
 * session's queue is full (reason "lagged": a slow reader never holds up
 * anyone else), or silently when the client goes. At most LCD_MAX_FOLLOWERS
 * at once, LCD_SESSION_FOLLOWS per connection, each counted as one of its
 * requests in flight. The tail that precedes a follow is read by a worker, which
 * returns the file offset it stopped at; following starts exactly there,
 * so no line is lost or repeated in between.
 */
#include "follow.h"

#include "lcd/alloc.h"
#include "lcd/jsonwrite.h"
#include "lcd/log.h"
#include "lcd/logfile.h"
#include "rpc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define FOLLOW_READ (256 * 1024)

typedef struct lcd_follower lcd_follower_t;

struct lcd_follower {
        struct lcd_follower *next;
        lcd_session_t *session; /* a reference */
        char name[LCD_NAME_MAX + 1];
        char tag[LCD_TAG_MAX + 1];
        char path[4096];
        const char *leaf; /* the log's name in its directory (into path) */
        int wd;           /* the watch on that directory: shared by the followers of one container */
        int fd;           /* the log followed: kept open, so a rotated one is read to its end */
        ino_t ino;
        off_t offset;
        char *pend[2]; /* partial lines of stdout, stderr */
        size_t pend_len[2];
        const char *end_reason; /* set: end after the pending replies went out */
};

static void send_log(lcd_follower_t *f, const char *stream, const char *time, size_t time_len, const char *text,
                     size_t len, bool *ok)
{
        json_object *p = json_object_new_object();
        int rc = lcd_json_set(p, "name", json_object_new_string(f->name));
        rc |= lcd_json_set(p, "tag", json_object_new_string(f->tag));
        rc |= lcd_json_set(p, "stream", json_object_new_string(stream));
        rc |= lcd_json_set(p, "time", json_object_new_string_len(time, (int)time_len));
        rc |= lcd_json_set(p, "text", json_object_new_string_len(text, (int)len));
        if (rc != 0) {
                json_object_put(p);
                p = NULL;
        }
        json_object *n = p ? lcd_rpc_notification("log", p) : NULL;
        lcd_msg_t *m = n ? lcd_msg_from_json(n) : NULL;
        json_object_put(n);
        if (m == NULL || lcd_session_push(f->session, m, LCD_SESSION_EVENT_ROOM) < 0)
                *ok = false;
        lcd_msg_unref(m);
}

/* Send the complete lines of buf[0..n) that follow; returns the bytes
 * they took (a line cut by the end of buf waits for the next read). */
static size_t send_lines(lcd_follower_t *f, char *buf, size_t n, bool *ok)
{
        char *p = buf, *end = buf + n;
        while (*ok && p < end) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                if (nl == NULL)
                        break; /* the rest of this line comes later */
                lcd_logline_t l;
                if (lcd_logline_parse(p, (size_t)(nl - p), &l) == 0) {
                        int s = strcmp(l.stream, "stderr") == 0;
                        if (f->pend[s] == NULL && (f->pend[s] = lcd_malloc(LCD_LOG_LINE_MAX)) == NULL) {
                                *ok = false;
                                break;
                        }
                        size_t take = l.text_len;
                        if (f->pend_len[s] + take > LCD_LOG_LINE_MAX)
                                take = LCD_LOG_LINE_MAX - f->pend_len[s];
                        memcpy(f->pend[s] + f->pend_len[s], l.text, take);
                        f->pend_len[s] += take;
                        if (!l.partial) {
                                send_log(f, l.stream, l.time, l.time_len, f->pend[s], f->pend_len[s], ok);
                                f->pend_len[s] = 0;
                        }
                }
                p = nl + 1;
        }
        return (size_t)(p - buf);
}

/* Has conmon started the log afresh (--log-max: it closes the old file,
 * then renames a new one over it)? Then the new file, opened (its inode in
 * *ino); -1 when not, or when it cannot be opened. */
static int opened_if_rotated(const lcd_follower_t *f, ino_t *ino)
{
        struct stat st;
        if (stat(f->path, &st) < 0 || st.st_ino == f->ino)
                return -1;
        *ino = st.st_ino;
        return open(f->path, O_RDONLY | O_CLOEXEC);
}

/* Read what was appended, to the end of the file; when conmon has started
 * a new one meanwhile, read the old one to its end once more (conmon closed
 * it before the rename, so it holds all it ever will: what was written
 * between our last read and the rename is in it), then go on in the new
 * one from its start. False when the session cannot take more (the
 * session's bounded queue bounds the work). */
static bool drain(lcd_follower_t *f)
{
        char *buf = lcd_malloc(FOLLOW_READ);
        bool ok = buf != NULL;
        int next = -1;
        ino_t next_ino = 0;
        while (ok) {
                ssize_t n = pread(f->fd, buf, FOLLOW_READ, f->offset);
                if (n < 0 && errno == EINTR)
                        continue;
                size_t used = n > 0 ? send_lines(f, buf, (size_t)n, &ok) : 0;
                f->offset += (off_t)used;
                if (n == FOLLOW_READ && used > 0)
                        continue; /* more may be there */
                if (next < 0) {
                        if ((next = opened_if_rotated(f, &next_ino)) < 0)
                                break;
                        continue; /* the old file is complete now: its last lines first */
                }
                close(f->fd);
                f->fd = next;
                f->ino = next_ino;
                f->offset = 0;
                next = -1;
        }
        if (next >= 0)
                close(next);
        lcd_free(buf);
        return ok;
}

static void follower_free(lcd_api_t *api, lcd_follower_t *f)
{
        /* the directory's watch is shared with the other followers of that container */
        bool shared = false;
        for (const lcd_follower_t *o = api->followers; o != NULL && !shared; o = o->next)
                shared = o != f && o->wd == f->wd;
        if (f->wd >= 0 && !shared)
                inotify_rm_watch(api->follow_fd, f->wd);
        if (f->fd >= 0)
                close(f->fd);
        f->session->inflight--;
        f->session->n_follows--;
        lcd_session_unref(f->session);
        lcd_free(f->pend[0]);
        lcd_free(f->pend[1]);
        lcd_free(f);
        api->n_followers--;
}

/* Unlink f (at *pp), tell the client why (reason NULL: it is gone), free. */
static void end_follow(lcd_api_t *api, lcd_follower_t **pp, const char *reason)
{
        lcd_follower_t *f = *pp;
        *pp = f->next;
        if (reason != NULL && f->session->open) {
                json_object *p = json_object_new_object();
                int rc = lcd_json_set(p, "name", json_object_new_string(f->name));
                rc |= lcd_json_set(p, "tag", json_object_new_string(f->tag));
                rc |= lcd_json_set(p, "reason", json_object_new_string(reason));
                if (rc != 0) {
                        json_object_put(p);
                        p = NULL;
                }
                json_object *n = p ? lcd_rpc_notification("log.end", p) : NULL;
                lcd_msg_t *m = n ? lcd_msg_from_json(n) : NULL;
                json_object_put(n);
                if (m == NULL || lcd_session_push(f->session, m, 0) < 0)
                        lcd_session_kill(f->session, "log queue overflow");
                lcd_msg_unref(m);
        }
        follower_free(api, f);
}

int lcd_follow_start(lcd_api_t *api, lcd_session_t *s, const char *name, const char *tag, const char *path,
                     off_t offset, lcd_error_t **err)
{
        if (api->follow_fd < 0)
                return lcd_error_set(err, LCD_E_UNSUPPORTED, "log follow is not available (inotify)");
        if (api->n_followers >= LCD_MAX_FOLLOWERS)
                return lcd_error_set(err, LCD_E_BUSY, "%d log follows are active already", LCD_MAX_FOLLOWERS);
        if (s->n_follows >= LCD_SESSION_FOLLOWS)
                return lcd_error_set(err, LCD_E_BUSY, "this connection follows %d logs already (at most %d)",
                                     s->n_follows, LCD_SESSION_FOLLOWS);
        lcd_follower_t *f = lcd_calloc(1, sizeof *f);
        if (f == NULL)
                return lcd_error_nomem(err);
        snprintf(f->name, sizeof f->name, "%s", name);
        snprintf(f->tag, sizeof f->tag, "%s", tag);
        snprintf(f->path, sizeof f->path, "%s", path);
        char *slash = strrchr(f->path, '/');
        if (slash == NULL) {
                lcd_free(f);
                return lcd_error_set(err, LCD_E_INTERNAL, "the log path %s has no directory", path);
        }
        f->offset = offset;
        /* conmon creates the log at create (a container not started yet has
         * an empty one). The directory is watched: conmon renames a fresh log
         * over a full one (--log-max), which a watch on the file would miss. */
        struct stat st;
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0 || fstat(f->fd, &st) < 0) {
                int e = errno;
                if (f->fd >= 0)
                        close(f->fd);
                lcd_free(f);
                return lcd_error_set(err, LCD_E_INTERNAL, "open the log: %s", strerror(e));
        }
        f->ino = st.st_ino;
        if (st.st_size < offset) /* started afresh since the tail was read */
                f->offset = 0;
        *slash = '\0';
        f->wd = inotify_add_watch(api->follow_fd, f->path, IN_MODIFY | IN_MOVED_TO | IN_CREATE);
        *slash = '/';
        f->leaf = slash + 1;
        if (f->wd < 0) {
                int e = errno;
                close(f->fd);
                lcd_free(f);
                return lcd_error_set(err, LCD_E_INTERNAL, "watch the log: %s", strerror(e));
        }
        f->session = s;
        s->refs++;
        s->inflight++; /* a follow is a request that stays in flight (--max-inflight) */
        s->n_follows++;
        f->next = api->followers;
        api->followers = f;
        api->n_followers++;
        if (!drain(f)) /* what was written since the tail was read */
                end_follow(api, &api->followers, "lagged");
        return 0;
}

int lcd_follow_end(lcd_api_t *api, const lcd_session_t *s, const char *name, const char *tag, const char *reason)
{
        int n = 0;
        for (lcd_follower_t **pp = &api->followers; *pp != NULL;) {
                lcd_follower_t *f = *pp;
                if (f->session == s && strcmp(f->name, name) == 0 && strcmp(f->tag, tag) == 0) {
                        end_follow(api, pp, reason);
                        n++;
                } else {
                        pp = &f->next;
                }
        }
        return n;
}

void lcd_follow_end_later(lcd_api_t *api, const lcd_session_t *s, const char *name, const char *tag, const char *reason)
{
        for (lcd_follower_t *f = api->followers; f != NULL; f = f->next)
                if (f->session == s && strcmp(f->name, name) == 0 && strcmp(f->tag, tag) == 0)
                        f->end_reason = reason;
}

void lcd_follow_run_deferred(lcd_api_t *api)
{
        for (lcd_follower_t **pp = &api->followers; *pp != NULL;) {
                lcd_follower_t *f = *pp;
                if (f->end_reason == NULL) {
                        pp = &f->next;
                        continue;
                }
                bool ok = drain(f);
                end_follow(api, pp, ok ? f->end_reason : "lagged");
        }
}

void lcd_follow_drop_session(lcd_api_t *api, const lcd_session_t *s)
{
        for (lcd_follower_t **pp = &api->followers; *pp != NULL;) {
                if ((*pp)->session == s)
                        end_follow(api, pp, NULL);
                else
                        pp = &(*pp)->next;
        }
}

void lcd_follow_on_event(lcd_api_t *api, const lcd_event_t *e)
{
        bool exited = e->type == LCD_EV_STATE && e->state == LCD_CS_EXITED;
        if (!exited && e->type != LCD_EV_REMOVED)
                return;
        for (lcd_follower_t **pp = &api->followers; *pp != NULL;) {
                lcd_follower_t *f = *pp;
                if (strcmp(f->name, e->name) != 0 || strcmp(f->tag, e->tag) != 0) {
                        pp = &f->next;
                        continue;
                }
                bool ok = drain(f); /* the last lines, as far as conmon wrote them */
                end_follow(api, pp, !ok ? "lagged" : exited ? "exited" : "removed");
        }
}

void lcd_follow_readable(lcd_api_t *api)
{
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        for (;;) {
                ssize_t len = read(api->follow_fd, buf, sizeof buf);
                if (len <= 0)
                        break;
                for (char *p = buf; p < buf + len;) {
                        struct inotify_event *ie = (struct inotify_event *)p;
                        p += sizeof *ie + ie->len;
                        for (lcd_follower_t **pp = &api->followers; *pp != NULL;) {
                                bool mine = (*pp)->wd == ie->wd && ie->len > 0 && strcmp(ie->name, (*pp)->leaf) == 0;
                                if (mine && !drain(*pp))
                                        end_follow(api, pp, "lagged");
                                else
                                        pp = &(*pp)->next;
                        }
                }
        }
}

int lcd_follow_init(lcd_api_t *api, struct lws_vhost *vh)
{
        api->follow_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (api->follow_fd < 0)
                return -errno;
        lws_sock_file_fd_type fd = {.filefd = api->follow_fd};
        api->follow_wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, "light-containerd.v1", NULL);
        if (api->follow_wsi == NULL) { /* lws closed the descriptor */
                api->follow_fd = -1;
                return -EIO;
        }
        return 0;
}

void lcd_follow_free(lcd_api_t *api)
{
        while (api->followers != NULL)
                end_follow(api, &api->followers, NULL);
}

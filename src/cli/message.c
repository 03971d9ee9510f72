/* message.c - one message from the daemon, decoded: see message.h.
 *
 * DESIGN: a json-c parse and lookups, nothing else; the callers (client.c,
 * the commands) decide what to do with each kind. A member that is not an
 * object's, or not there, is NULL: no lookup here can crash on a message
 * of the wrong shape.
 */
#include "message.h"

#include <string.h>

const char *ctl_str(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        return json_object_get_string(v);
}

ctl_msg_kind_t ctl_msg_decode(const char *text, ctl_msg_t *m)
{
        memset(m, 0, sizeof *m);
        m->root = json_tokener_parse(text);
        if (m->root == NULL)
                return m->kind = CTL_MSG_JUNK;
        json_object *id = NULL;
        if (json_object_object_get_ex(m->root, "id", &id)) {
                m->kind = CTL_MSG_REPLY;
                m->id = json_object_get_int64(id);
        } else {
                m->kind = CTL_MSG_NOTICE;
        }
        m->failed = json_object_object_get_ex(m->root, "error", &m->error);
        if (m->failed) {
                m->error_message = ctl_str(m->error, "message");
                json_object *data = json_object_object_get(m->error, "data");
                m->error_reason = ctl_str(data, "reason");
        }
        m->result = json_object_object_get(m->root, "result");
        m->method = ctl_str(m->root, "method");
        m->params = json_object_object_get(m->root, "params");
        m->type = ctl_str(m->params, "type");
        return m->kind;
}

void ctl_msg_free(ctl_msg_t *m)
{
        json_object_put(m->root);
        memset(m, 0, sizeof *m);
}

bool ctl_msg_is_reply_to(const ctl_msg_t *m, long long id)
{
        return m->kind == CTL_MSG_REPLY && m->id == id;
}

bool ctl_msg_log_is_stderr(json_object *line)
{
        const char *stream = ctl_str(line, "stream");
        return stream != NULL && strcmp(stream, "stderr") == 0;
}

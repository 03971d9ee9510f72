/* fuzz_reply.c - libFuzzer target: what lightctl makes of a message from
 * the daemon (src/cli/message.c). libwebsockets reads the frames; each
 * assembled message goes through ctl_msg_decode, which the call loop, the
 * event stream and logs -f all read. Any input decodes without a crash or
 * a leak, and the decoded fields agree with the message: a reply has an
 * "id" and is the reply to that id, a failure has an "error", a method or
 * type is there as a string, junk has nothing. A message that decodes
 * decodes the same once written out again by json-c. */
#include "../../src/cli/message.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                                       \
        do {                                                                                                           \
                if (!(c)) {                                                                                            \
                        fprintf(stderr, "fuzz_reply: %s failed\n", #c);                                                \
                        abort();                                                                                       \
                }                                                                                                      \
        } while (0)

static bool has(json_object *o, const char *key)
{
        return json_object_object_get_ex(o, key, NULL);
}

/* What a reader of m touches: every string readable, the JSON printable. */
static void touch(const ctl_msg_t *m)
{
        const char *strs[] = {m->error_message, m->error_reason, m->method, m->type};
        for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
                if (strs[i] != NULL)
                        (void)strlen(strs[i]);
        if (m->params != NULL) {
                CHECK(json_object_to_json_string_ext(m->params, JSON_C_TO_STRING_PLAIN) != NULL);
                (void)ctl_msg_log_is_stderr(m->params);
                (void)ctl_str(m->params, "text");
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        if (text == NULL)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        ctl_msg_t m;
        ctl_msg_kind_t kind = ctl_msg_decode(text, &m);
        free(text);
        CHECK(kind == m.kind);
        if (kind == CTL_MSG_JUNK) {
                CHECK(m.root == NULL && !m.failed && m.method == NULL && m.params == NULL && m.result == NULL);
                CHECK(!ctl_msg_is_reply_to(&m, m.id));
                ctl_msg_free(&m);
                return 0;
        }
        CHECK(m.root != NULL);
        CHECK((kind == CTL_MSG_REPLY) == has(m.root, "id"));
        CHECK(ctl_msg_is_reply_to(&m, m.id) == (kind == CTL_MSG_REPLY));
        CHECK(m.failed == has(m.root, "error"));
        CHECK(m.failed || (m.error_message == NULL && m.error_reason == NULL));
        CHECK(m.method == NULL || has(m.root, "method"));
        CHECK(m.params == NULL || has(m.root, "params"));
        CHECK(m.type == NULL || m.params != NULL);
        CHECK(m.result == NULL || has(m.root, "result"));
        touch(&m);

        /* the same message, written out again, decodes the same */
        const char *again = json_object_to_json_string_ext(m.root, JSON_C_TO_STRING_PLAIN);
        ctl_msg_t n = {0};
        if (again != NULL && ctl_msg_decode(again, &n) != CTL_MSG_JUNK) {
                CHECK(n.kind == m.kind && n.failed == m.failed);
                CHECK((n.method == NULL) == (m.method == NULL));
                CHECK(m.method == NULL || strcmp(n.method, m.method) == 0);
                CHECK((n.type == NULL) == (m.type == NULL));
                CHECK((n.params == NULL) == (m.params == NULL));
        }
        ctl_msg_free(&n);
        ctl_msg_free(&m);
        CHECK(m.root == NULL);
        return 0;
}

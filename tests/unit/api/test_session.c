/* test_session.c - a session's send queue: bounds, room, kill, shared
 * messages, and the two ways a push fails (full vs out of memory). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "../../../src/api/session.h"
#include "lcd/alloc.h"

static lcd_api_t *api_with_queue(unsigned send_queue)
{
        lcd_api_t *api = lcd_calloc(1, sizeof *api);
        assert_non_null(api);
        api->limits.send_queue = send_queue;
        return api;
}

static lcd_msg_t *msg(const char *text)
{
        json_object *o = json_object_new_string(text);
        lcd_msg_t *m = lcd_msg_from_json(o);
        json_object_put(o);
        assert_non_null(m);
        return m;
}

static void test_text_and_headroom(void **state)
{
        (void)state;
        lcd_msg_t *m = msg("hé\"llo");
        assert_int_equal(m->refs, 1);
        assert_int_equal(m->len, strlen("\"hé\\\"llo\""));
        assert_memory_equal(m->data + LWS_PRE, "\"hé\\\"llo\"", m->len + 1); /* text and its NUL */
        lcd_msg_unref(m);
}

static void test_bounded_with_room(void **state)
{
        (void)state;
        lcd_api_t *api = api_with_queue(10);
        lcd_session_t *s = lcd_session_new(api, NULL);
        assert_non_null(s);
        assert_int_equal(api->n_sessions, 1);
        lcd_msg_t *m = msg("x");
        /* an event keeps 8 slots free for replies: two fit in 10 */
        assert_int_equal(lcd_session_push(s, m, 8), 0);
        assert_int_equal(lcd_session_push(s, m, 8), 0);
        assert_int_equal(lcd_session_push(s, m, 8), -ENOSPC);
        /* replies take the rest, and no more */
        for (int i = 0; i < 8; i++)
                assert_int_equal(lcd_session_push(s, m, 0), 0);
        assert_int_equal(lcd_session_push(s, m, 0), -ENOSPC);
        assert_int_equal(s->q_count, 10);
        assert_int_equal(m->refs, 11); /* one message, shared by every slot */
        assert_int_equal(s->q_bytes, 10 * m->len);
        lcd_session_close(s);
        assert_int_equal(api->n_sessions, 0);
        lcd_session_unref(s);
        assert_int_equal(m->refs, 1); /* the queue's references went with the session */
        lcd_msg_unref(m);
        lcd_free(api);
}

static void test_killed_drops_quietly(void **state)
{
        (void)state;
        lcd_api_t *api = api_with_queue(4);
        lcd_session_t *s = lcd_session_new(api, NULL);
        lcd_msg_t *m = msg("y");
        lcd_session_kill(s, "test");
        assert_false(s->open);
        assert_int_equal(lcd_session_push(s, m, 0), 0);
        assert_int_equal(s->q_count, 0);
        lcd_session_kill(s, "again"); /* idempotent */
        lcd_session_close(s);
        lcd_session_close(s);
        assert_int_equal(api->n_sessions, 0);
        lcd_session_unref(s);
        lcd_msg_unref(m);
        lcd_free(api);
}

/* A queue that cannot grow is -ENOMEM, not -ENOSPC: the client is not to
 * blame, and send_json says so when it kills the session. */
static void test_nomem_is_not_full(void **state)
{
        (void)state;
        lcd_api_t *api = api_with_queue(64);
        lcd_session_t *s = lcd_session_new(api, NULL);
        lcd_msg_t *m = msg("z");
        for (int i = 0; i < 8; i++) /* the first ring holds 8 */
                assert_int_equal(lcd_session_push(s, m, 0), 0);
        lcd_alloc_fail_at(1);
        assert_int_equal(lcd_session_push(s, m, 0), -ENOMEM);
        assert_true(lcd_alloc_fail_hit());
        lcd_alloc_fail_at(0);
        assert_int_equal(s->q_count, 8);
        assert_true(s->open);
        assert_int_equal(lcd_session_push(s, m, 0), 0); /* it grows once memory is back */
        assert_int_equal(s->q_cap, 16);
        /* FIFO order survives the growth */
        for (unsigned i = 0; i < s->q_count; i++)
                assert_ptr_equal(s->queue[(s->q_head + i) % s->q_cap], m);
        lcd_session_close(s);
        lcd_session_unref(s);
        lcd_msg_unref(m);
        lcd_free(api);
}

static void test_send_json_kills_when_full(void **state)
{
        (void)state;
        lcd_api_t *api = api_with_queue(2);
        lcd_session_t *s = lcd_session_new(api, NULL);
        lcd_session_send_json(s, json_object_new_int(1));
        lcd_session_send_json(s, json_object_new_int(2));
        assert_true(s->open);
        lcd_session_send_json(s, json_object_new_int(3));
        assert_false(s->open); /* not reading: closed rather than grown */
        assert_int_equal(s->q_count, 2);
        lcd_session_send_json(s, NULL); /* a reply that could not be built: no crash on a dead session */
        lcd_session_close(s);
        lcd_session_unref(s);
        lcd_free(api);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text_and_headroom),         cmocka_unit_test(test_bounded_with_room),
                cmocka_unit_test(test_killed_drops_quietly),      cmocka_unit_test(test_nomem_is_not_full),
                cmocka_unit_test(test_send_json_kills_when_full),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* fuzz_rpc.c - libFuzzer target: a client message through the real
 * request path (tests/support/api_driver.h): the JSON-RPC decoder, the
 * method table and every method's parameter validation (names, tags, env,
 * image references, limits), the engine behind it with the fake tool
 * runner, and the encoder.
 *
 * One engine lives across inputs (containers made by one input may meet
 * the next, as on a real connection). Every message the session sends
 * must be valid JSON, and a request with a numeric id gets exactly one
 * reply (or an anonymous error when its id could not be read). Every
 * 1000 inputs the engine's state is checked against its event ring and
 * disk (api_driver_check) and the driver is rebuilt. */
#include "api_driver.h"

#include "lcd/log.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static api_driver_t *d;
static unsigned inputs;
static char out[1 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (d == NULL) {
                lcd_log_set_level((lcd_log_level_t)-1);
                d = api_driver_new();
                if (d == NULL)
                        abort();
        }
        api_driver_feed(d, (const char *)data, size);
        if (!api_driver_settle(d, 10000)) {
                fprintf(stderr, "fuzz_rpc: the engine did not settle\n");
                abort();
        }
        /* a request with an id is answered before the engine goes idle,
         * except container.wait, which may wait for a later input */
        bool want_reply = false;
        if (size < 65536) {
                json_tokener *tok = json_tokener_new();
                json_object *req = tok ? json_tokener_parse_ex(tok, (const char *)data, (int)size) : NULL;
                json_object *m = NULL;
                want_reply = req != NULL && json_tokener_get_error(tok) == json_tokener_success &&
                             json_object_is_type(req, json_type_object) && json_object_object_get_ex(req, "id", NULL) &&
                             !(json_object_object_get_ex(req, "method", &m) &&
                               strcmp(json_object_get_string(m), "container.wait") == 0);
                json_object_put(req);
                if (tok != NULL)
                        json_tokener_free(tok);
        }
        size_t r;
        int replies = 0;
        while ((r = api_driver_next(d, out, sizeof out)) > 0) {
                json_object *o = json_tokener_parse(out);
                if (o == NULL) {
                        fprintf(stderr, "fuzz_rpc: not JSON: %.300s\n", out);
                        abort();
                }
                if (json_object_object_get_ex(o, "result", NULL) || json_object_object_get_ex(o, "error", NULL))
                        replies++;
                json_object_put(o);
        }
        if (want_reply && replies == 0 && api_driver_open(d)) {
                fprintf(stderr, "fuzz_rpc: no reply to a request with an id\n");
                abort();
        }
        if (++inputs % 1000 == 0) {
                if (api_driver_check(d) < 0)
                        abort();
                api_driver_free(d);
                d = NULL;
        }
        return 0;
}

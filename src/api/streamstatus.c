/* streamstatus.c - see streamstatus.h: {"metadata":{},"status":"Success"},
 * or {"metadata":{},"status":"Failure","message","reason","details":
 * {"causes":[{"reason":"ExitCode","message":"N"}]}} (details only for an
 * exit code), as Kubernetes clients read it. */
#include "streamstatus.h"

#include "lcd/jsonwrite.h"

#include <json-c/json.h>
#include <stdio.h>

/* reason NULL: Success; code < 0: no details. */
static char *status_json(const char *reason, const char *message, int code)
{
        json_object *o = json_object_new_object();
        int rc = lcd_json_set(o, "metadata", json_object_new_object());
        rc |= lcd_json_set_str(o, "status", reason == NULL ? "Success" : "Failure");
        if (reason != NULL) {
                rc |= lcd_json_set_str(o, "message", message);
                rc |= lcd_json_set_str(o, "reason", reason);
        }
        if (reason != NULL && code >= 0) {
                char num[16];
                snprintf(num, sizeof num, "%d", code);
                json_object *cause = json_object_new_object(), *causes = json_object_new_array(),
                            *details = json_object_new_object();
                rc |= lcd_json_set_str(cause, "reason", "ExitCode");
                rc |= lcd_json_set_str(cause, "message", num);
                rc |= lcd_json_append(causes, cause);
                rc |= lcd_json_set(details, "causes", causes);
                rc |= lcd_json_set(o, "details", details);
        }
        size_t len;
        char *text = rc == 0 ? lcd_json_write(o, 0, 0, &len) : NULL;
        json_object_put(o);
        return text;
}

char *lcd_stream_status_exit(int code, const char *why)
{
        if (code == 0)
                return status_json(NULL, NULL, -1);
        char msg[512];
        snprintf(msg, sizeof msg, "command terminated with non-zero exit code: %s%sexit code %d", why,
                 why[0] ? ", " : "", code);
        return status_json("NonZeroExitCode", msg, code);
}

static const char *k8s_reason(lcd_errkind_t k)
{
        switch (k) {
        case LCD_E_NOT_FOUND:
                return "NotFound";
        case LCD_E_CONFLICT:
                return "Conflict";
        case LCD_E_BUSY:
                return "ServiceUnavailable";
        case LCD_E_INVALID:
        case LCD_E_BAD_REQUEST:
                return "BadRequest";
        default:
                return "InternalError";
        }
}

char *lcd_stream_status_error(lcd_errkind_t kind, const char *msg)
{
        return status_json(k8s_reason(kind), msg, -1);
}

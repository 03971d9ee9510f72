/* error.c - see error.h. */
#include "lcd/error.h"

#include "lcd/alloc.h"
#include "lcd/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char nomem_msg[] = "out of memory";
static lcd_error_t nomem_error = {.kind = LCD_E_NOMEM, .msg = nomem_msg};

static const struct {
        int code;
        const char *reason;
} kinds[LCD_E__COUNT] = {
#define LCD_X_TABLE(kind, code, word) [LCD_E_##kind] = {code, word},
        LCD_ERROR_KINDS(LCD_X_TABLE)
#undef LCD_X_TABLE
};

int lcd_errkind_code(lcd_errkind_t kind)
{
        return (unsigned)kind < LCD_E__COUNT ? kinds[kind].code : -32603;
}

const char *lcd_errkind_reason(lcd_errkind_t kind)
{
        return (unsigned)kind < LCD_E__COUNT ? kinds[kind].reason : "internal";
}

int lcd_error_nomem(lcd_error_t **err)
{
        if (err != NULL && *err == NULL)
                *err = &nomem_error;
        return LCD_ERR;
}

/* The error's optional strings (NULL: none). */
struct extras {
        const char *param, *tool, *tail;
};

static char *dup_param(const char *param)
{
        size_t n = strnlen(param, LCD_ERROR_PARAM_MAX + 1);
        if (n > LCD_ERROR_PARAM_MAX)
                n = lcd_utf8_trim(param, LCD_ERROR_PARAM_MAX);
        return lcd_strndup(param, n);
}

static int error_vset(lcd_error_t **err, lcd_errkind_t kind, struct extras x, const char *fmt, va_list ap)
{
        if (err == NULL)
                return LCD_ERR;
        if (*err != NULL) /* keep the first error */
                return LCD_ERR;
        char buf[1024];
        int n = vsnprintf(buf, sizeof buf, fmt, ap);
        if (n >= (int)sizeof buf) /* cut on a code point boundary */
                buf[lcd_utf8_trim(buf, sizeof buf - 1)] = '\0';
        lcd_error_t *e = lcd_calloc(1, sizeof *e);
        if (e == NULL)
                return lcd_error_nomem(err);
        e->kind = kind;
        e->msg = lcd_strdup(buf);
        if (x.param != NULL)
                e->param = dup_param(x.param);
        if (x.tool != NULL)
                e->tool = lcd_strdup(x.tool);
        if (x.tail != NULL)
                e->stderr_tail = lcd_strdup(x.tail);
        if (e->msg == NULL || (x.param != NULL && e->param == NULL) || (x.tool != NULL && e->tool == NULL) ||
            (x.tail != NULL && e->stderr_tail == NULL)) {
                lcd_error_free(e);
                return lcd_error_nomem(err);
        }
        *err = e;
        return LCD_ERR;
}

int lcd_error_set(lcd_error_t **err, lcd_errkind_t kind, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_vset(err, kind, (struct extras){0}, fmt, ap);
        va_end(ap);
        return r;
}

int lcd_error_invalid(lcd_error_t **err, const char *param, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_vset(err, LCD_E_INVALID, (struct extras){.param = param}, fmt, ap);
        va_end(ap);
        return r;
}

int lcd_error_tool(lcd_error_t **err, const char *tool, const char *stderr_tail, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_vset(err, LCD_E_TOOL_FAILED, (struct extras){.tool = tool, .tail = stderr_tail}, fmt, ap);
        va_end(ap);
        return r;
}

int lcd_error_wrap(lcd_error_t **err, const char *fmt, ...)
{
        if (err == NULL || *err == NULL || *err == &nomem_error)
                return LCD_ERR;
        char ctx[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(ctx, sizeof ctx, fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof ctx)
                ctx[lcd_utf8_trim(ctx, sizeof ctx - 1)] = '\0';
        char *msg = lcd_strdup_printf("%s: %s", ctx, (*err)->msg);
        if (msg == NULL)
                return LCD_ERR; /* keep the unwrapped message */
        lcd_free((*err)->msg);
        (*err)->msg = msg;
        return LCD_ERR;
}

void lcd_error_free(lcd_error_t *err)
{
        if (err == NULL || err == &nomem_error)
                return;
        lcd_free(err->msg);
        lcd_free(err->param);
        lcd_free(err->tool);
        lcd_free(err->stderr_tail);
        lcd_free(err);
}

/* ident.h - the input rules for everything that reaches a path, an argv or a
 * tool: container names and tags, environment entries, image references.
 *
 * DESIGN: pure functions, no allocation except in lcd_imageref_parse's
 * output (fixed buffers, none), any thread. Names and tags become directory
 * names, so only the documented alphabets pass. An image reference becomes
 * a skopeo argument: only registry references are accepted (an optional
 * docker:// prefix, host[:port]/repo[:tag|@sha256:hex], or a Docker Hub
 * short name); every other skopeo transport and anything starting with '-'
 * is refused.
 */
#ifndef LCD_IDENT_H
#define LCD_IDENT_H

#include <stdbool.h>
#include <stddef.h>

#include "lcd/events.h" /* LCD_NAME_MAX, LCD_TAG_MAX */

#define LCD_REF_MAX 255 /* canonical reference length */
#define LCD_HOST_MAX 255
#define LCD_DIGEST_LEN 71 /* "sha256:" + 64 hex */
#define LCD_ID_LEN 64     /* a container's id: hex digits */

/* [a-z0-9][a-z0-9_.-]{0,62} */
bool lcd_name_valid(const char *s);
/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
bool lcd_tag_valid(const char *s);
/* "KEY=VALUE": KEY [A-Za-z_][A-Za-z0-9_]*, no NUL/newline, <= 32 KiB. */
bool lcd_env_valid(const char *s);
/* sha256:[0-9a-f]{64} */
bool lcd_digest_valid(const char *s);

typedef struct {
        char host[LCD_HOST_MAX + 1];       /* "docker.io", "127.0.0.1:5000" */
        char repo[LCD_REF_MAX + 1];        /* "library/busybox", "acc/busybox" */
        char tag[LCD_TAG_MAX + 1];         /* "" when a digest is given without tag */
        char digest[LCD_DIGEST_LEN + 1];   /* "" or "sha256:..." */
        char canonical[LCD_REF_MAX + 1];   /* host/repo[:tag][@digest] */
        char name[LCD_NAME_MAX + 1];       /* default container name: last repo component, "" if unusable */
        char default_tag[LCD_TAG_MAX + 1]; /* tag, or "latest" */
} lcd_imageref_t;

/* Parse and normalise an image reference. Returns 0, or -EINVAL with a
 * static reason in *why ("transport 'oci' is not allowed", ...). */
int lcd_imageref_parse(const char *s, lcd_imageref_t *out, const char **why);

/* Encode a canonical reference as a single, reversible directory name
 * ('/' -> '+', ':' -> '=', '@' -> '%'); buf >= LCD_REF_MAX + 1. */
void lcd_imageref_dirname(const lcd_imageref_t *ref, char *buf, size_t len);

#endif

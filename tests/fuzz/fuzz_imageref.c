/* fuzz_imageref.c - libFuzzer target: the image reference parser.
 *
 * Any input must either be refused with a reason or give a reference whose
 * parts obey the rules that make it safe as a skopeo argument and a
 * directory name: no leading '-', no transport but docker://, a canonical
 * form that parses again to itself, a default name that is a valid
 * container name, a directory name without '/'. */
#include "lcd/ident.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                                       \
        do {                                                                                                           \
                if (!(c)) {                                                                                            \
                        fprintf(stderr, "fuzz_imageref: %s failed for '%s'\n", #c, in);                                \
                        abort();                                                                                       \
                }                                                                                                      \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char in[1024];
        if (size >= sizeof in)
                return 0;
        memcpy(in, data, size);
        in[size] = '\0';
        lcd_imageref_t r;
        const char *why = NULL;
        if (lcd_imageref_parse(in, &r, &why) != 0) {
                CHECK(why != NULL && why[0] != '\0');
                return 0;
        }
        CHECK(r.canonical[0] != '\0' && r.canonical[0] != '-');
        CHECK(strstr(r.canonical, "://") == NULL);
        CHECK(strlen(r.canonical) <= LCD_REF_MAX);
        CHECK(r.host[0] != '\0' && strchr(r.host, '/') == NULL);
        CHECK(r.name[0] == '\0' || lcd_name_valid(r.name));
        CHECK(lcd_tag_valid(r.default_tag));
        CHECK(r.digest[0] == '\0' || lcd_digest_valid(r.digest));
        /* the canonical form is a fixed point */
        lcd_imageref_t again;
        CHECK(lcd_imageref_parse(r.canonical, &again, &why) == 0);
        CHECK(strcmp(again.canonical, r.canonical) == 0);
        char dir[LCD_REF_MAX + 1];
        lcd_imageref_dirname(&r, dir, sizeof dir);
        CHECK(dir[0] != '\0' && dir[0] != '.' && strchr(dir, '/') == NULL);
        return 0;
}

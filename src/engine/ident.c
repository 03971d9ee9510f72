/* ident.c - see ident.h. Hand-written matchers instead of regex(3): they
 * allocate nothing and say exactly which rule failed. */
#include "lcd/ident.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool lcd_name_valid(const char *s)
{
        if (s == NULL || !is_lower_alnum(s[0]))
                return false;
        size_t i = 1;
        for (; s[i] != '\0'; i++) {
                if (i >= LCD_NAME_MAX)
                        return false;
                if (!is_lower_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
                        return false;
        }
        return true;
}

bool lcd_tag_valid(const char *s)
{
        if (s == NULL || !(is_alnum(s[0]) || s[0] == '_'))
                return false;
        size_t i = 1;
        for (; s[i] != '\0'; i++) {
                if (i >= LCD_TAG_MAX)
                        return false;
                if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
                        return false;
        }
        return true;
}

bool lcd_env_valid(const char *s)
{
        if (s == NULL || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return false;
        size_t i = 1;
        while (is_alnum(s[i]) || s[i] == '_')
                i++;
        if (s[i] != '=')
                return false;
        size_t len = i + strnlen(s + i, 32 * 1024 + 1);
        if (len > 32 * 1024)
                return false;
        for (; s[i] != '\0'; i++)
                if (s[i] == '\n' || s[i] == '\r')
                        return false;
        return true;
}

bool lcd_digest_valid(const char *s)
{
        if (s == NULL || strncmp(s, "sha256:", 7) != 0)
                return false;
        for (int i = 0; i < 64; i++)
                if (!is_hex(s[7 + i]))
                        return false;
        return s[7 + 64] == '\0';
}

/* A repository path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool component_valid(const char *s, size_t len)
{
        if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
                return false;
        for (size_t i = 1; i < len; i++) {
                if (is_lower_alnum(s[i]))
                        continue;
                if (s[i] == '.' || s[i] == '_') {
                        size_t run = 1;
                        while (i + run < len && s[i + run] == s[i])
                                run++;
                        if (run > (s[i] == '_' ? 2u : 1u))
                                return false;
                        i += run - 1;
                        continue;
                }
                if (s[i] == '-')
                        continue;
                return false;
        }
        return true;
}

/* host: [A-Za-z0-9.-]+ with an optional :port (1..65535). */
static bool host_valid(const char *s, size_t len)
{
        size_t i = 0;
        for (; i < len && s[i] != ':'; i++)
                if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '-')
                        return false;
        if (i == 0 || s[0] == '-' || s[0] == '.')
                return false;
        if (i == len)
                return true;
        size_t digits = len - i - 1;
        if (digits == 0 || digits > 5)
                return false;
        unsigned long port = 0;
        for (size_t j = i + 1; j < len; j++) {
                if (s[j] < '0' || s[j] > '9')
                        return false;
                port = port * 10 + (unsigned long)(s[j] - '0');
        }
        return port >= 1 && port <= 65535;
}

static const char *const transports[] = {
        "oci",     "oci-archive", "dir", "docker-archive", "docker-daemon", "containers-storage", "ostree", "sif",
        "tarball", "atomic",      NULL};

int lcd_imageref_parse(const char *s, lcd_imageref_t *out, const char **why)
{
        const char *dummy;
        if (why == NULL)
                why = &dummy;
        memset(out, 0, sizeof *out);
        if (s == NULL || s[0] == '\0') {
                *why = "image reference is empty";
                return -EINVAL;
        }
        if (s[0] == '-') {
                *why = "image reference must not start with '-'";
                return -EINVAL;
        }
        if (strncmp(s, "docker://", 9) == 0)
                s += 9;
        else
                for (int i = 0; transports[i] != NULL; i++) {
                        size_t n = strlen(transports[i]);
                        if (strncmp(s, transports[i], n) == 0 && s[n] == ':') {
                                *why = "only registry references (docker://) are allowed";
                                return -EINVAL;
                        }
                }
        size_t len = strnlen(s, LCD_REF_MAX + 1);
        if (len > LCD_REF_MAX) {
                *why = "image reference is too long";
                return -EINVAL;
        }
        /* split off @digest */
        char buf[LCD_REF_MAX + 1];
        memcpy(buf, s, len + 1);
        char *at = strchr(buf, '@');
        if (at != NULL) {
                if (!lcd_digest_valid(at + 1)) {
                        *why = "digest must be sha256: followed by 64 lowercase hex digits";
                        return -EINVAL;
                }
                snprintf(out->digest, sizeof out->digest, "%s", at + 1);
                *at = '\0';
        }
        /* host: the first component when it has '.' or ':' or is localhost */
        char *path = buf;
        char *slash = strchr(buf, '/');
        if (slash != NULL) {
                size_t hlen = (size_t)(slash - buf);
                bool is_host = memchr(buf, '.', hlen) || memchr(buf, ':', hlen) ||
                               (hlen == 9 && strncmp(buf, "localhost", 9) == 0);
                if (is_host) {
                        if (!host_valid(buf, hlen)) {
                                *why = "registry host is not valid (host[:port])";
                                return -EINVAL;
                        }
                        memcpy(out->host, buf, hlen);
                        out->host[hlen] = '\0';
                        path = slash + 1;
                }
        }
        if (out->host[0] == '\0')
                snprintf(out->host, sizeof out->host, "docker.io");
        /* :tag on the last component */
        char *last = strrchr(path, '/');
        char *colon = strchr(last ? last : path, ':');
        if (colon != NULL) {
                *colon = '\0';
                if (!lcd_tag_valid(colon + 1)) {
                        *why = "image tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
                        return -EINVAL;
                }
                snprintf(out->tag, sizeof out->tag, "%s", colon + 1);
        }
        if (path[0] == '\0') {
                *why = "image repository is empty";
                return -EINVAL;
        }
        for (char *c = path; *c != '\0';) {
                char *end = strchr(c, '/');
                size_t clen = end ? (size_t)(end - c) : strlen(c);
                if (!component_valid(c, clen)) {
                        *why = "image repository components must be lowercase [a-z0-9] with . _ - separators";
                        return -EINVAL;
                }
                c += clen + (end ? 1 : 0);
                if (end && *c == '\0') {
                        *why = "image repository must not end with '/'";
                        return -EINVAL;
                }
        }
        if (strcmp(out->host, "docker.io") == 0 && strchr(path, '/') == NULL)
                snprintf(out->repo, sizeof out->repo, "library/%s", path);
        else
                snprintf(out->repo, sizeof out->repo, "%s", path);
        if (out->tag[0] == '\0' && out->digest[0] == '\0')
                snprintf(out->tag, sizeof out->tag, "latest");
        snprintf(out->default_tag, sizeof out->default_tag, "%s", out->tag[0] ? out->tag : "latest");
        int n = snprintf(out->canonical, sizeof out->canonical, "%s/%s%s%s%s%s", out->host, out->repo,
                         out->tag[0] ? ":" : "", out->tag, out->digest[0] ? "@" : "", out->digest);
        if (n < 0 || (size_t)n >= sizeof out->canonical) {
                *why = "image reference is too long";
                return -EINVAL;
        }
        const char *base = strrchr(out->repo, '/');
        base = base ? base + 1 : out->repo;
        if (lcd_name_valid(base))
                snprintf(out->name, sizeof out->name, "%s", base);
        return 0;
}

void lcd_imageref_dirname(const lcd_imageref_t *ref, char *buf, size_t len)
{
        size_t j = 0;
        for (size_t i = 0; ref->canonical[i] != '\0' && j + 1 < len; i++) {
                char c = ref->canonical[i];
                buf[j++] = c == '/' ? '+' : c == ':' ? '=' : c == '@' ? '%' : c;
        }
        buf[j] = '\0';
}

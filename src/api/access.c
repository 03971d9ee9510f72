/* access.c - see access.h. */
#include "access.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

bool lcd_token_equal(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        unsigned char diff = (unsigned char)(la != lb);
        for (size_t i = 0; i < la; i++) /* as long as the secret; b shorter reads its NUL */
                diff |= (unsigned char)(a[i] ^ b[i < lb ? i : lb]);
        return diff == 0;
}

int lcd_token_new(char out[LCD_TOKEN_HEX + 1])
{
        unsigned char rnd[LCD_TOKEN_HEX / 2];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
                return -EIO;
        for (size_t i = 0; i < sizeof rnd; i++)
                snprintf(out + 2 * i, 3, "%02x", rnd[i]);
        return 0;
}

int lcd_access_peer(int fd, unsigned *peer_uid, lcd_error_t **err)
{
        struct ucred cred;
        socklen_t len = sizeof cred;
        *peer_uid = (unsigned)-1;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof cred) {
                return lcd_error_set(err, LCD_E_FORBIDDEN, "cannot read the peer's credentials");
        }
        *peer_uid = (unsigned)cred.uid;
        if (cred.uid != geteuid()) {
                /* in the daemon's user namespace, every uid but its own may show as the overflow uid */
                return lcd_error_set(err, LCD_E_FORBIDDEN, "only the daemon's own user may use its Unix socket");
        }
        return 0;
}

/* host[:port] without the port; IPv6 literals keep their brackets. */
static size_t host_len(const char *h)
{
        if (h[0] == '[') {
                const char *e = strchr(h, ']');
                return e ? (size_t)(e - h) + 1 : strlen(h);
        }
        return strcspn(h, ":");
}

static bool listed(const char *const *list, const char *v, size_t n)
{
        for (size_t i = 0; list != NULL && list[i] != NULL; i++)
                if (strlen(list[i]) == n && strncmp(list[i], v, n) == 0)
                        return true;
        return false;
}

static bool host_allowed(const lcd_access_t *a, const char *host)
{
        static const char *const loopback[] = {"127.0.0.1", "localhost", "[::1]", NULL};
        size_t n = host_len(host);
        if (host[n] != '\0' && host[n] != ':')
                return false;
        return listed(loopback, host, n) || listed(a->allow_hosts, host, strlen(host)) ||
               listed(a->allow_hosts, host, n);
}

static bool origin_allowed(const lcd_access_t *a, const char *origin, const char *host)
{
        if (listed(a->allow_origins, origin, strlen(origin)))
                return true;
        const char *rest = NULL;
        if (strncmp(origin, "http://", 7) == 0)
                rest = origin + 7;
        else if (strncmp(origin, "https://", 8) == 0)
                rest = origin + 8;
        return rest != NULL && host != NULL && strcmp(rest, host) == 0; /* the daemon's own origin */
}

/* Does the list (items separated by any of seps) hold prefix<token>? */
static bool list_has_token(const char *list, const char *seps, const char *prefix, const char *token)
{
        size_t plen = strlen(prefix);
        for (const char *p = list; p != NULL && *p != '\0';) {
                p += strspn(p, seps);
                size_t n = strcspn(p, seps);
                char item[160];
                if (n < sizeof item && n > plen && strncmp(p, prefix, plen) == 0) {
                        memcpy(item, p + plen, n - plen);
                        item[n - plen] = '\0';
                        if (lcd_token_equal(token, item))
                                return true;
                }
                p += n;
        }
        return false;
}

/* Was the token given: as a bearer header, a subprotocol, or a query parameter? */
static bool token_given(const lcd_access_t *a, const char *authorization, const char *protocols, const char *query)
{
        if (authorization != NULL && strncmp(authorization, "Bearer ", 7) == 0 &&
            lcd_token_equal(a->token, authorization + 7))
                return true;
        return list_has_token(protocols, ", ", "bearer.", a->token) || /* "light-containerd.v1, bearer.<t>" */
               list_has_token(query, "&", "access_token=", a->token);
}

int lcd_access_check(const lcd_access_t *a, bool tcp, const char *host, const char *origin, const char *authorization,
                     const char *protocols, const char *query, lcd_error_t **err)
{
        if (host == NULL || !host_allowed(a, host))
                return lcd_error_set(err, LCD_E_FORBIDDEN,
                                     "the Host header is not a loopback name or an --allow-host entry");
        if (origin != NULL && !origin_allowed(a, origin, host))
                return lcd_error_set(err, LCD_E_FORBIDDEN,
                                     "the Origin is not the daemon's own or an --allow-origin entry");
        if (tcp && a->token != NULL && !token_given(a, authorization, protocols, query))
                return lcd_error_set(err, LCD_E_UNAUTHORIZED,
                                     "a valid token is required on TCP (Authorization: Bearer, subprotocol "
                                     "bearer.<token>, or access_token=)");
        return LCD_OK;
}

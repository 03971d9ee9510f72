/* api.c - the API's state (api-internal.h): made, read and released.
 *
 * DESIGN: service thread only. lcd_api_new_detached() fills in what needs
 * no libwebsockets context; server.c builds the listeners on it. The boot
 * id (random, per daemon run) lets a subscriber tell a restarted daemon
 * from a reconnect.
 */
#include "api-internal.h"

#include "lcd/alloc.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

lcd_api_t *lcd_api_new_detached(const lcd_api_config_t *cfg, lcd_error_t **err)
{
        lcd_api_t *api = lcd_calloc(1, sizeof *api);
        if (api == NULL) {
                lcd_error_nomem(err);
                return NULL;
        }
        api->engine = cfg->engine;
        api->access = cfg->access;
        api->checks = cfg->checks;
        api->limits = cfg->limits;
        api->n_checks = cfg->n_checks;
        api->events = cfg->events;
        api->delivered = lcd_events_latest(cfg->events);
        api->follow_fd = -1;
        if (cfg->token_path != NULL && (api->token_path = lcd_strdup(cfg->token_path)) == NULL) {
                lcd_free(api);
                lcd_error_nomem(err);
                return NULL;
        }
        unsigned char rnd[16];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
                memset(rnd, 0, sizeof rnd);
        for (size_t i = 0; i < sizeof rnd; i++)
                snprintf(api->boot_id + 2 * i, 3, "%02x", rnd[i]);
        pthread_mutex_init(&api->mail_mu, NULL);
        return api;
}

void lcd_api_release(lcd_api_t *api)
{
        pthread_mutex_destroy(&api->mail_mu);
        lcd_free(api->token_path);
        lcd_free(api);
}

int lcd_api_tcp_port(lcd_api_t *api)
{
        return api->tcp_port;
}

const char *lcd_api_dashboard_url(lcd_api_t *api)
{
        return api->dashboard;
}

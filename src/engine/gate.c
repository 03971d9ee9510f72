/* gate.c - see gate.h. Lock order: `mu` only; never held while the caller
 * works. */
#include "gate.h"

#include "lcd/alloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct entry {
        struct entry *next;
        char key[LCD_GATE_KEY_MAX + 1];
        unsigned readers;
        bool writer;
        unsigned users; /* holders and waiters */
};

struct lcd_gate {
        pthread_mutex_t mu;
        pthread_cond_t cond;
        struct entry *entries;
};

lcd_gate_t *lcd_gate_new(void)
{
        lcd_gate_t *g = lcd_calloc(1, sizeof *g);
        if (g == NULL)
                return NULL;
        if (pthread_mutex_init(&g->mu, NULL) != 0) {
                lcd_free(g);
                return NULL;
        }
        if (pthread_cond_init(&g->cond, NULL) != 0) {
                pthread_mutex_destroy(&g->mu);
                lcd_free(g);
                return NULL;
        }
        return g;
}

void lcd_gate_free(lcd_gate_t *g)
{
        if (g == NULL)
                return;
        pthread_cond_destroy(&g->cond);
        pthread_mutex_destroy(&g->mu);
        lcd_free(g);
}

static struct entry *find(lcd_gate_t *g, const char *key)
{
        struct entry *e = g->entries;
        while (e != NULL && strncmp(e->key, key, LCD_GATE_KEY_MAX) != 0)
                e = e->next;
        return e;
}

int lcd_gate_enter(lcd_gate_t *g, const char *key, bool write)
{
        pthread_mutex_lock(&g->mu);
        struct entry *e = find(g, key);
        if (e == NULL) {
                e = lcd_calloc(1, sizeof *e);
                if (e == NULL) {
                        pthread_mutex_unlock(&g->mu);
                        return -ENOMEM;
                }
                snprintf(e->key, sizeof e->key, "%s", key);
                e->next = g->entries;
                g->entries = e;
        }
        e->users++;
        while (e->writer || (write && e->readers > 0))
                pthread_cond_wait(&g->cond, &g->mu);
        if (write)
                e->writer = true;
        else
                e->readers++;
        pthread_mutex_unlock(&g->mu);
        return 0;
}

void lcd_gate_leave(lcd_gate_t *g, const char *key, bool write)
{
        pthread_mutex_lock(&g->mu);
        struct entry *e = find(g, key);
        if (e != NULL) {
                if (write)
                        e->writer = false;
                else if (e->readers > 0)
                        e->readers--;
                if (--e->users == 0) {
                        for (struct entry **pp = &g->entries; *pp; pp = &(*pp)->next)
                                if (*pp == e) {
                                        *pp = e->next;
                                        break;
                                }
                        lcd_free(e);
                }
                pthread_cond_broadcast(&g->cond);
        }
        pthread_mutex_unlock(&g->mu);
}

/* pool.c - see pool.h. Lock order: only `mu` exists. */
#include "pool.h"

#include "lcd/alloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

struct job {
        lcd_job_fn fn;
        void *arg;
};

struct lcd_pool {
        pthread_mutex_t mu;
        pthread_cond_t not_empty;
        struct job *ring;
        unsigned cap, head, count;           /* ring[head] is the oldest job */
        lcd_pool_node_t *nodes, *nodes_tail; /* continuations, taken before the ring */
        unsigned n_nodes;
        unsigned running;
        bool stopping, joined;
        unsigned nthreads;
        pthread_t *threads;
};

static void *worker_main(void *arg)
{
        lcd_pool_t *p = arg;
        pthread_mutex_lock(&p->mu);
        for (;;) {
                while (p->count == 0 && p->nodes == NULL && !p->stopping)
                        pthread_cond_wait(&p->not_empty, &p->mu);
                struct job j;
                if (p->nodes != NULL) {
                        lcd_pool_node_t *n = p->nodes;
                        p->nodes = n->next;
                        if (p->nodes == NULL)
                                p->nodes_tail = NULL;
                        p->n_nodes--;
                        j = (struct job){n->fn, n->arg};
                } else if (p->count > 0) {
                        j = p->ring[p->head];
                        p->head = (p->head + 1) % p->cap;
                        p->count--;
                } else {
                        break; /* stopping and drained */
                }
                p->running++;
                pthread_mutex_unlock(&p->mu);
                j.fn(j.arg);
                pthread_mutex_lock(&p->mu);
                p->running--;
        }
        pthread_mutex_unlock(&p->mu);
        return NULL;
}

lcd_pool_t *lcd_pool_new(unsigned workers, unsigned queue)
{
        if (workers == 0 || queue == 0)
                return NULL;
        lcd_pool_t *p = lcd_calloc(1, sizeof *p);
        if (p == NULL)
                return NULL;
        p->ring = lcd_calloc(queue, sizeof *p->ring);
        p->threads = lcd_calloc(workers, sizeof *p->threads);
        if (p->ring == NULL || p->threads == NULL)
                goto err_alloc;
        p->cap = queue;
        if (pthread_mutex_init(&p->mu, NULL) != 0)
                goto err_alloc;
        if (pthread_cond_init(&p->not_empty, NULL) != 0)
                goto err_mutex;
        for (; p->nthreads < workers; p->nthreads++)
                if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) != 0)
                        goto err_threads;
        return p;

err_threads:
        lcd_pool_shutdown(p);
        pthread_cond_destroy(&p->not_empty);
err_mutex:
        pthread_mutex_destroy(&p->mu);
err_alloc:
        lcd_free(p->threads);
        lcd_free(p->ring);
        lcd_free(p);
        return NULL;
}

int lcd_pool_submit(lcd_pool_t *p, lcd_job_fn fn, void *arg)
{
        int r = 0;
        pthread_mutex_lock(&p->mu);
        if (p->stopping)
                r = -ESHUTDOWN;
        else if (p->count == p->cap)
                r = -EBUSY;
        else {
                p->ring[(p->head + p->count) % p->cap] = (struct job){fn, arg};
                p->count++;
                pthread_cond_signal(&p->not_empty);
        }
        pthread_mutex_unlock(&p->mu);
        return r;
}

int lcd_pool_submit_node(lcd_pool_t *p, lcd_pool_node_t *n)
{
        int r = 0;
        pthread_mutex_lock(&p->mu);
        if (p->stopping) {
                r = -ESHUTDOWN;
        } else {
                n->next = NULL;
                if (p->nodes_tail)
                        p->nodes_tail->next = n;
                else
                        p->nodes = n;
                p->nodes_tail = n;
                p->n_nodes++;
                pthread_cond_signal(&p->not_empty);
        }
        pthread_mutex_unlock(&p->mu);
        return r;
}

static unsigned read_locked(lcd_pool_t *p, const unsigned *field)
{
        pthread_mutex_lock(&p->mu);
        unsigned v = *field;
        pthread_mutex_unlock(&p->mu);
        return v;
}

unsigned lcd_pool_queued(lcd_pool_t *p)
{
        pthread_mutex_lock(&p->mu);
        unsigned v = p->count + p->n_nodes;
        pthread_mutex_unlock(&p->mu);
        return v;
}

unsigned lcd_pool_running(lcd_pool_t *p)
{
        return read_locked(p, &p->running);
}

unsigned lcd_pool_workers(lcd_pool_t *p)
{
        return p->nthreads;
}

unsigned lcd_pool_capacity(lcd_pool_t *p)
{
        return p->cap;
}

void lcd_pool_shutdown(lcd_pool_t *p)
{
        pthread_mutex_lock(&p->mu);
        p->stopping = true;
        bool joined = p->joined;
        p->joined = true;
        pthread_cond_broadcast(&p->not_empty);
        pthread_mutex_unlock(&p->mu);
        if (joined)
                return;
        for (unsigned i = 0; i < p->nthreads; i++)
                pthread_join(p->threads[i], NULL);
}

void lcd_pool_free(lcd_pool_t *p)
{
        if (p == NULL)
                return;
        lcd_pool_shutdown(p);
        pthread_cond_destroy(&p->not_empty);
        pthread_mutex_destroy(&p->mu);
        lcd_free(p->threads);
        lcd_free(p->ring);
        lcd_free(p);
}

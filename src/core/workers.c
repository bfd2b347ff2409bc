/*
 * workers.c — the thread pool: a mutex-guarded FIFO and a condition
 * variable; ap_workers_free() lets the queue drain before joining.
 */
#include "core/workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/mem.h"

struct job {
    struct job *next;
    void (*fn)(void *arg);
    void *arg;
};

struct ap_workers {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct job *head, *tail;
    size_t queued, max_queue;
    bool stopping;
    int nthreads;
    pthread_t *threads;
};

static struct job *take(struct ap_workers *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->head && !w->stopping)
        pthread_cond_wait(&w->wake, &w->lock);
    struct job *j = w->head;
    if (j) {
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        w->queued--;
    }
    pthread_mutex_unlock(&w->lock);
    return j;
}

static void *worker_main(void *arg)
{
    struct ap_workers *w = arg;
    struct job *j;
    while ((j = take(w))) {
        j->fn(j->arg);
        free(j);
    }
    return NULL;
}

struct ap_workers *ap_workers_new(int nthreads, size_t max_queue)
{
    struct ap_workers *w = ap_xcalloc(1, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    w->max_queue = max_queue ? max_queue : 1;
    w->threads = ap_xcalloc((size_t)(nthreads > 0 ? nthreads : 1), sizeof(pthread_t));
    for (int i = 0; i < (nthreads > 0 ? nthreads : 1); i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0) {
            ap_workers_free(w);
            return NULL;
        }
        w->nthreads++;
    }
    return w;
}

enum ap_err ap_workers_submit(struct ap_workers *w, void (*fn)(void *arg), void *arg)
{
    struct job *j = ap_xmalloc(sizeof(*j));
    j->next = NULL;
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&w->lock);
    bool ok = !w->stopping && w->queued < w->max_queue;
    if (ok) {
        if (w->tail)
            w->tail->next = j;
        else
            w->head = j;
        w->tail = j;
        w->queued++;
        pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    if (!ok)
        free(j);
    return ok ? AP_OK : AP_EBUSY;
}

void ap_workers_free(struct ap_workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true; /* workers finish the queue: take() returns jobs until it is empty */
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w->threads);
    free(w);
}

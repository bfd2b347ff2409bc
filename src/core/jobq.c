/*
 * jobq.c — the fair work queue of jobq.h.
 *
 * Under one mutex: a hash of keys (accounts), each with a waiting list per
 * kind and a list of its running jobs; the keys that have waiting jobs form
 * a ring that the workers walk round robin, starting after the key they
 * served last, taking in each key the next kind after the one served last.
 * Workers sleep on a condition variable; the timer thread sleeps on a
 * semaphore (so a signal handler can wake it) until the next deadline or
 * start time, then tells the waiters whose deadline passed, drops jobs
 * nobody waits for, and carries out a requested stop.
 *
 * Waiters are told, and jobs freed, after the mutex is released: callbacks
 * may submit again.
 */
#include "core/jobq.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"

#define NBUCKETS  1024 /* key hash buckets (chains grow past that) */
#define NOUTCOMES 6    /* done, joined, refused, late, timeout, canceled */
#define HINT_S    5    /* retry hint when no deadline says better */

enum outcome { O_DONE, O_JOINED, O_REFUSED, O_LATE, O_TIMEOUT, O_CANCELED };

struct waiter {
    struct waiter *next;
    ap_jobq_tell_fn tell;
    void *ctx;
    int64_t deadline_ns;
    bool binding;
    enum ap_jobq_end end; /* once told */
};

struct list {
    struct ap_jobq_job *head, *tail;
};

struct ap_jobq_job {
    struct ap_jobq *q;
    struct keyq *k;
    struct ap_jobq_job *prev, *next; /* in a waiting list, the running list, or a drop list */
    int kind;
    bool running, background, abandoned, committed;
    char *coalesce;
    ap_jobq_run_fn run;
    void (*free)(void *arg);
    void *arg;
    int64_t not_before_ns, own_deadline_ns;
    struct waiter *waiters;
    size_t nwaiters;
};

struct kindq {
    struct list waiting;
    int nwaiting, nrunning;
};

struct keyq {
    int64_t key;
    struct keyq *hnext;
    struct keyq *rprev, *rnext; /* the ring of keys with waiting jobs */
    bool in_ring;
    int nwaiting, nrunning, kind_cursor;
    struct list running;
    struct kindq kinds[];
};

struct ap_jobq {
    char name[32];
    const struct ap_jobq_kind *kinds;
    size_t nkinds;
    int kind_cap[AP_JOBQ_MAX_KINDS], kind_running[AP_JOBQ_MAX_KINDS];
    int max_running_per_key;
    size_t max_waiting;

    pthread_mutex_t lock;
    pthread_cond_t work; /* workers: a job may be ready, or stop */
    pthread_cond_t idle; /* ap_jobq_free(): a running job ended */
    sem_t tick;          /* the timer: look again */
    atomic_bool stop_requested, exiting;
    bool stopping;
    int64_t stop_ns;

    struct keyq *buckets[NBUCKETS];
    struct keyq *cursor;      /* the key to serve next */
    struct keyq *last_served; /* may be freed: compared, never followed */
    _Atomic size_t nwaiting, nrunning;
    int64_t next_wake_ns;
    struct ap_jobq_stats counts;
    struct ap_counter *outcomes[AP_JOBQ_MAX_KINDS][NOUTCOMES];

    int nthreads;
    pthread_t *threads;
    pthread_t timer;
    bool timer_started;
};

const char *ap_jobq_end_name(enum ap_jobq_end end)
{
    static const char *const names[] = {"done", "late", "timeout", "canceled"};
    return (size_t)end < AP_COUNTOF(names) ? names[end] : "unknown";
}

/* ---- lists, keys, the ring ------------------------------------------------------ */

static void list_append(struct list *l, struct ap_jobq_job *j)
{
    j->next = NULL;
    j->prev = l->tail;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static void list_remove(struct list *l, struct ap_jobq_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        l->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        l->tail = j->prev;
    j->prev = j->next = NULL;
}

static size_t bucket_of(int64_t key)
{
    uint64_t h = (uint64_t)key * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 54) % NBUCKETS;
}

static struct keyq *key_get(struct ap_jobq *q, int64_t key)
{
    size_t b = bucket_of(key);
    for (struct keyq *k = q->buckets[b]; k; k = k->hnext) {
        if (k->key == key)
            return k;
    }
    struct keyq *k = ap_xcalloc(1, sizeof(*k) + q->nkinds * sizeof(struct kindq));
    k->key = key;
    k->hnext = q->buckets[b];
    q->buckets[b] = k;
    return k;
}

static void ring_insert(struct ap_jobq *q, struct keyq *k)
{
    if (k->in_ring)
        return;
    k->in_ring = true;
    if (!q->cursor) {
        k->rprev = k->rnext = k;
        q->cursor = k;
        return;
    }
    /* just before the cursor: the last to be served in this round */
    k->rnext = q->cursor;
    k->rprev = q->cursor->rprev;
    k->rprev->rnext = k;
    q->cursor->rprev = k;
    /* unless the cursor is the key just served (it was alone): then a new round starts here */
    if (q->cursor == q->last_served)
        q->cursor = k;
}

static void ring_remove(struct ap_jobq *q, struct keyq *k)
{
    if (!k->in_ring)
        return;
    k->in_ring = false;
    if (k->rnext == k) {
        q->cursor = NULL;
    } else {
        k->rprev->rnext = k->rnext;
        k->rnext->rprev = k->rprev;
        if (q->cursor == k)
            q->cursor = k->rnext;
    }
    k->rprev = k->rnext = NULL;
}

/* Frees k when it holds no job any more. */
static void key_release(struct ap_jobq *q, struct keyq *k)
{
    if (k->nwaiting || k->nrunning)
        return;
    ring_remove(q, k);
    struct keyq **pp = &q->buckets[bucket_of(k->key)];
    while (*pp != k)
        pp = &(*pp)->hnext;
    *pp = k->hnext;
    free(k);
}

/* ---- counting --------------------------------------------------------------------- */

static void count(struct ap_jobq *q, int kind, enum outcome o, uint64_t n)
{
    uint64_t *c[] = {&q->counts.done, &q->counts.joined,    &q->counts.refused,
                     &q->counts.late, &q->counts.timed_out, &q->counts.canceled};
    *c[o] += n;
    ap_counter_add(q->outcomes[kind][o], n);
}

static void unqueue(struct ap_jobq *q, struct ap_jobq_job *j)
{
    struct keyq *k = j->k;
    list_remove(&k->kinds[j->kind].waiting, j);
    k->kinds[j->kind].nwaiting--;
    k->nwaiting--;
    q->nwaiting--;
    if (!k->nwaiting)
        ring_remove(q, k);
}

static void job_free(struct ap_jobq_job *j)
{
    if (j->free)
        j->free(j->arg);
    free(j->coalesce);
    free(j);
}

/* Moves the waiters of j whose deadline passed (all when all is set) onto *told as end. */
static size_t detach_waiters(struct ap_jobq_job *j, int64_t now, bool all, enum ap_jobq_end end,
                             struct waiter **told)
{
    size_t n = 0;
    for (struct waiter **pp = &j->waiters; *pp;) {
        struct waiter *w = *pp;
        if (!all && !(w->deadline_ns && w->deadline_ns <= now)) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        w->end = end;
        w->next = *told;
        *told = w;
        j->nwaiters--;
        n++;
    }
    return n;
}

/* Tells each waiter of the list (outside the lock) and frees it. */
static void deliver(struct waiter *told, void *arg)
{
    while (told) {
        struct waiter *w = told;
        told = w->next;
        if (w->tell)
            w->tell(w->ctx, w->end, w->end == AP_JOBQ_DONE ? arg : NULL);
        free(w);
    }
}

static void free_dropped(struct ap_jobq_job *dropped)
{
    while (dropped) {
        struct ap_jobq_job *j = dropped;
        dropped = j->next;
        job_free(j);
    }
}

/* ---- picking and running ------------------------------------------------------------ */

static struct ap_jobq_job *first_ready(struct list *l, int64_t now)
{
    for (struct ap_jobq_job *j = l->head; j; j = j->next) {
        if (j->not_before_ns <= now)
            return j;
    }
    return NULL;
}

static void start(struct ap_jobq *q, struct ap_jobq_job *j)
{
    struct keyq *k = j->k;
    unqueue(q, j);
    j->running = true;
    list_append(&k->running, j);
    k->kinds[j->kind].nrunning++;
    k->nrunning++;
    q->kind_running[j->kind]++;
    q->nrunning++;
}

/* The next job the limits allow, started; NULL when none. */
static struct ap_jobq_job *pick(struct ap_jobq *q, int64_t now)
{
    struct keyq *first = q->cursor, *k = first;
    if (!k)
        return NULL;
    do {
        for (size_t n = 0; k->nrunning < q->max_running_per_key && n < q->nkinds; n++) {
            int i = (int)(((size_t)k->kind_cursor + n) % q->nkinds);
            struct kindq *kq = &k->kinds[i];
            if (kq->nrunning >= q->kinds[i].max_running || q->kind_running[i] >= q->kind_cap[i])
                continue;
            struct ap_jobq_job *j = first_ready(&kq->waiting, now);
            if (!j)
                continue;
            k->kind_cursor = (int)(((size_t)i + 1) % q->nkinds);
            q->cursor = k->rnext; /* the next key goes first next time */
            q->last_served = k;
            start(q, j);
            return j;
        }
        k = k->rnext;
    } while (k != first);
    return NULL;
}

static void end_job(struct ap_jobq_job *j)
{
    struct ap_jobq *q = j->q;
    struct keyq *k = j->k;
    pthread_mutex_lock(&q->lock);
    list_remove(&k->running, j);
    k->kinds[j->kind].nrunning--;
    k->nrunning--;
    q->kind_running[j->kind]--;
    q->nrunning--;
    struct waiter *told = NULL;
    size_t n = detach_waiters(j, 0, true, AP_JOBQ_DONE, &told);
    count(q, j->kind, O_DONE, n ? n : 1);
    key_release(q, k);
    pthread_cond_broadcast(&q->work);
    pthread_cond_broadcast(&q->idle);
    pthread_mutex_unlock(&q->lock);
    deliver(told, j->arg);
    job_free(j);
}

void ap_jobq_finish(struct ap_jobq_job *job)
{
    if (job)
        end_job(job);
}

static void *worker_main(void *arg)
{
    struct ap_jobq *q = arg;
    pthread_mutex_lock(&q->lock);
    while (!atomic_load(&q->exiting) && !q->stopping && !atomic_load(&q->stop_requested)) {
        struct ap_jobq_job *j = pick(q, ap_clock_mono_ns());
        if (!j) {
            pthread_cond_wait(&q->work, &q->lock);
            continue;
        }
        pthread_mutex_unlock(&q->lock);
        if (j->run(j, j->arg) == AP_JOBQ_FINISHED)
            end_job(j);
        pthread_mutex_lock(&q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

bool ap_jobq_commit(struct ap_jobq_job *job)
{
    if (!job)
        return true;
    pthread_mutex_lock(&job->q->lock);
    bool ok = !job->abandoned;
    job->committed = ok;
    pthread_mutex_unlock(&job->q->lock);
    return ok;
}

bool ap_jobq_should_stop(const struct ap_jobq_job *job)
{
    if (!job)
        return false;
    pthread_mutex_lock(&job->q->lock);
    bool stop = job->abandoned || job->q->stopping;
    pthread_mutex_unlock(&job->q->lock);
    return stop;
}

/* ---- the timer: deadlines, start times, stop ------------------------------------------ */

/* Waiting job: late waiters told; the job dropped when nobody wants it any more. */
static void sweep_waiting(struct ap_jobq *q, struct ap_jobq_job *j, int64_t now,
                          struct waiter **told, struct ap_jobq_job **dropped)
{
    size_t n = detach_waiters(j, now, false, AP_JOBQ_LATE, told);
    if (n)
        count(q, j->kind, O_LATE, n);
    bool own_over = j->own_deadline_ns && j->own_deadline_ns <= now;
    if (j->nwaiters || (j->background && !own_over))
        return;
    if (j->background)
        count(q, j->kind, O_LATE, 1);
    unqueue(q, j);
    j->next = *dropped;
    *dropped = j;
}

/* Running job: waiters past their deadline told; a binding one abandons the job. */
static void sweep_running(struct ap_jobq *q, struct ap_jobq_job *j, int64_t now,
                          struct waiter **told)
{
    if (j->committed)
        return;
    bool binding = false;
    for (struct waiter *w = j->waiters; w; w = w->next)
        binding |= w->binding && w->deadline_ns && w->deadline_ns <= now;
    if (binding) {
        j->abandoned = true;
        ap_log_warn("jobq.abandoned", "queue=%s kind=%s key=%lld", q->name, q->kinds[j->kind].name,
                    (long long)j->k->key);
    }
    size_t n = detach_waiters(j, now, binding, AP_JOBQ_TIMEOUT, told);
    if (n)
        count(q, j->kind, O_TIMEOUT, n);
}

static void sweep_key(struct ap_jobq *q, struct keyq *k, int64_t now, struct waiter **told,
                      struct ap_jobq_job **dropped)
{
    for (size_t i = 0; i < q->nkinds; i++) {
        for (struct ap_jobq_job *j = k->kinds[i].waiting.head, *next; j; j = next) {
            next = j->next;
            sweep_waiting(q, j, now, told, dropped);
        }
    }
    for (struct ap_jobq_job *j = k->running.head; j; j = j->next)
        sweep_running(q, j, now, told);
}

static void sweep(struct ap_jobq *q, int64_t now, struct waiter **told,
                  struct ap_jobq_job **dropped)
{
    for (size_t b = 0; b < NBUCKETS; b++) {
        for (struct keyq *k = q->buckets[b], *next; k; k = next) {
            next = k->hnext;
            sweep_key(q, k, now, told, dropped);
            key_release(q, k);
        }
    }
}

/* Every waiting job: its waiters told CANCELED, the job dropped unstarted. */
static void cancel_all(struct ap_jobq *q, struct waiter **told, struct ap_jobq_job **dropped)
{
    q->stopping = true;
    q->stop_ns = ap_clock_mono_ns();
    size_t n = 0;
    for (size_t b = 0; b < NBUCKETS; b++) {
        for (struct keyq *k = q->buckets[b], *next; k; k = next) {
            next = k->hnext;
            for (size_t i = 0; i < q->nkinds; i++) {
                struct ap_jobq_job *j;
                while ((j = k->kinds[i].waiting.head)) {
                    detach_waiters(j, 0, true, AP_JOBQ_CANCELED, told);
                    count(q, j->kind, O_CANCELED, 1);
                    unqueue(q, j);
                    j->next = *dropped;
                    *dropped = j;
                    n++;
                }
            }
            key_release(q, k);
        }
    }
    ap_log_info("jobq.stopping", "queue=%s canceled=%zu running=%zu", q->name, n,
                (size_t)q->nrunning);
    pthread_cond_broadcast(&q->work);
    pthread_cond_broadcast(&q->idle);
}

static int64_t earlier(int64_t a, int64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

/* When the timer must look next: the earliest deadline or future start time (0: none). */
static int64_t next_wake(struct ap_jobq *q, int64_t now)
{
    int64_t t = 0;
    for (size_t b = 0; b < NBUCKETS; b++) {
        for (struct keyq *k = q->buckets[b]; k; k = k->hnext) {
            for (size_t i = 0; i < q->nkinds; i++) {
                for (struct ap_jobq_job *j = k->kinds[i].waiting.head; j; j = j->next) {
                    t = earlier(t, j->not_before_ns > now ? j->not_before_ns : 0);
                    t = earlier(t, j->background ? j->own_deadline_ns : 0);
                    for (struct waiter *w = j->waiters; w; w = w->next)
                        t = earlier(t, w->deadline_ns);
                }
            }
            for (struct ap_jobq_job *j = k->running.head; j; j = j->next) {
                for (struct waiter *w = j->waiters; w && !j->committed; w = w->next)
                    t = earlier(t, w->deadline_ns);
            }
        }
    }
    return t;
}

/* The real monotonic clock at ap_clock's `at` (which a test may fake). */
static struct timespec abs_mono(int64_t at)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t rel = at - ap_clock_mono_ns();
    int64_t ns = (int64_t)ts.tv_sec * AP_NS_PER_S + ts.tv_nsec + (rel > 0 ? rel : 0);
    ts.tv_sec = (time_t)(ns / AP_NS_PER_S);
    ts.tv_nsec = (long)(ns % AP_NS_PER_S);
    return ts;
}

static void timer_wait(struct ap_jobq *q, int64_t wake)
{
    int rc;
    if (!wake) {
        do
            rc = sem_wait(&q->tick);
        while (rc != 0 && errno == EINTR);
        return;
    }
    struct timespec ts = abs_mono(wake);
    do
        rc = sem_clockwait(&q->tick, CLOCK_MONOTONIC, &ts);
    while (rc != 0 && errno == EINTR);
}

static void *timer_main(void *arg)
{
    struct ap_jobq *q = arg;
    int64_t wake = 0;
    for (;;) {
        timer_wait(q, wake);
        if (atomic_load(&q->exiting))
            break;
        struct waiter *told = NULL;
        struct ap_jobq_job *dropped = NULL;
        pthread_mutex_lock(&q->lock);
        if (atomic_load(&q->stop_requested) && !q->stopping)
            cancel_all(q, &told, &dropped);
        int64_t now = ap_clock_mono_ns();
        sweep(q, now, &told, &dropped);
        wake = q->next_wake_ns = next_wake(q, now);
        pthread_cond_broadcast(&q->work); /* a start time may have come */
        pthread_mutex_unlock(&q->lock);
        deliver(told, NULL);
        free_dropped(dropped);
    }
    return NULL;
}

/* ---- submitting ------------------------------------------------------------------------ */

static struct ap_jobq_job *find_joinable(struct keyq *k, int kind, const char *word)
{
    struct list *lists[] = {&k->kinds[kind].waiting, &k->running};
    for (size_t i = 0; i < AP_COUNTOF(lists); i++) {
        for (struct ap_jobq_job *j = lists[i]->head; j; j = j->next) {
            if (j->kind == kind && !j->abandoned && j->coalesce && strcmp(j->coalesce, word) == 0)
                return j;
        }
    }
    return NULL;
}

/* Seconds until the earliest deadline among k's jobs of this kind (a slot frees by then). */
static int retry_hint(struct keyq *k, int kind, int64_t now)
{
    int64_t t = 0;
    struct list *lists[] = {&k->kinds[kind].waiting, &k->running};
    for (size_t i = 0; i < AP_COUNTOF(lists); i++) {
        for (struct ap_jobq_job *j = lists[i]->head; j; j = j->next) {
            for (struct waiter *w = j->waiters; w && j->kind == kind; w = w->next)
                t = earlier(t, w->deadline_ns > now ? w->deadline_ns : 0);
        }
    }
    if (!t)
        return HINT_S;
    int64_t s = (t - now + AP_NS_PER_S - 1) / AP_NS_PER_S;
    return s < 1 ? 1 : s > 3600 ? 3600 : (int)s;
}

static void add_waiter(struct ap_jobq_job *j, const struct ap_jobq_spec *s)
{
    struct waiter *w = ap_xcalloc(1, sizeof(*w));
    w->tell = s->tell;
    w->ctx = s->waiter;
    w->deadline_ns = s->deadline_ns;
    w->binding = s->binding;
    struct waiter **pp = &j->waiters;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    j->nwaiters++;
}

static struct ap_jobq_job *job_new(struct ap_jobq *q, struct keyq *k, const struct ap_jobq_spec *s)
{
    struct ap_jobq_job *j = ap_xcalloc(1, sizeof(*j));
    j->q = q;
    j->k = k;
    j->kind = s->kind;
    j->coalesce = s->coalesce ? ap_xstrdup(s->coalesce) : NULL;
    j->run = s->run;
    j->free = s->free;
    j->arg = s->arg;
    j->not_before_ns = s->not_before_ns;
    j->background = !s->tell;
    j->own_deadline_ns = s->tell ? 0 : s->deadline_ns;
    if (s->tell)
        add_waiter(j, s);
    list_append(&k->kinds[s->kind].waiting, j);
    k->kinds[s->kind].nwaiting++;
    k->nwaiting++;
    q->nwaiting++;
    ring_insert(q, k);
    return j;
}

/* Under the lock: join, refuse or queue. */
static enum ap_err submit_locked(struct ap_jobq *q, const struct ap_jobq_spec *s,
                                 struct ap_jobq_ticket *t, int64_t now)
{
    struct keyq *k = key_get(q, s->key);
    struct ap_jobq_job *j = s->coalesce ? find_joinable(k, s->kind, s->coalesce) : NULL;
    if (j && j->nwaiters < AP_JOBQ_MAX_WAITERS) {
        if (s->tell)
            add_waiter(j, s);
        t->joined = true;
        count(q, s->kind, O_JOINED, 1);
        return AP_OK;
    }
    if (j || k->kinds[s->kind].nwaiting >= q->kinds[s->kind].max_waiting ||
        q->nwaiting >= q->max_waiting) {
        t->retry_after_s = retry_hint(k, s->kind, now);
        count(q, s->kind, O_REFUSED, 1);
        key_release(q, k);
        return AP_EBUSY;
    }
    job_new(q, k, s);
    pthread_cond_signal(&q->work);
    return AP_OK;
}

enum ap_err ap_jobq_submit(struct ap_jobq *q, const struct ap_jobq_spec *spec,
                           struct ap_jobq_ticket *ticket)
{
    struct ap_jobq_ticket t = {0};
    if (!q || !spec || !spec->run || spec->kind < 0 || (size_t)spec->kind >= q->nkinds ||
        (spec->coalesce && strlen(spec->coalesce) > AP_JOBQ_MAX_COALESCE))
        return AP_EINVAL;
    int64_t now = ap_clock_mono_ns();
    pthread_mutex_lock(&q->lock);
    enum ap_err err = AP_EUNAVAIL;
    if (!q->stopping && !atomic_load(&q->stop_requested))
        err = submit_locked(q, spec, &t, now);
    int64_t soon = earlier(spec->deadline_ns, spec->not_before_ns);
    bool wake = !err && soon && (!q->next_wake_ns || soon < q->next_wake_ns);
    if (wake)
        q->next_wake_ns = soon;
    pthread_mutex_unlock(&q->lock);
    if (wake)
        sem_post(&q->tick);
    if (!err && t.joined && spec->free)
        spec->free(spec->arg);
    if (ticket)
        *ticket = t;
    return err;
}

/* ---- life ------------------------------------------------------------------------------- */

void ap_jobq_stats(struct ap_jobq *q, struct ap_jobq_stats *out)
{
    pthread_mutex_lock(&q->lock);
    *out = q->counts;
    out->waiting = q->nwaiting;
    out->running = q->nrunning;
    pthread_mutex_unlock(&q->lock);
}

void ap_jobq_stop(struct ap_jobq *q)
{
    if (!q)
        return;
    atomic_store(&q->stop_requested, true);
    sem_post(&q->tick);
}

void ap_jobq_poke(struct ap_jobq *q)
{
    if (q)
        sem_post(&q->tick);
}

static double gauge_waiting(void *ud)
{
    return (double)atomic_load(&((struct ap_jobq *)ud)->nwaiting);
}

static double gauge_running(void *ud)
{
    return (double)atomic_load(&((struct ap_jobq *)ud)->nrunning);
}

static void register_metrics(struct ap_jobq *q, struct ap_metrics *m)
{
    static const char *const outcomes[NOUTCOMES] = {"done", "joined",  "refused",
                                                    "late", "timeout", "canceled"};
    char name[96], help[160], labels[160];
    snprintf(name, sizeof(name), "appointd_%s_jobs_total", q->name);
    snprintf(help, sizeof(help), "Waiters of the %s work queue by kind and how their job ended",
             q->name);
    int fam = ap_metrics_counter_family(m, name, help);
    for (size_t i = 0; i < q->nkinds; i++) {
        for (size_t o = 0; o < NOUTCOMES; o++) {
            snprintf(labels, sizeof(labels), "kind=\"%s\",outcome=\"%s\"", q->kinds[i].name,
                     outcomes[o]);
            q->outcomes[i][o] = ap_metrics_counter_get(m, fam, labels);
        }
    }
    snprintf(name, sizeof(name), "appointd_%s_jobs_waiting", q->name);
    ap_metrics_gauge_fn(m, name, "Jobs waiting to start", gauge_waiting, q);
    snprintf(name, sizeof(name), "appointd_%s_jobs_running", q->name);
    ap_metrics_gauge_fn(m, name, "Jobs running (holding a slot)", gauge_running, q);
}

static bool config_ok(const struct ap_jobq_config *c, char *err, size_t errlen)
{
    const char *why = NULL;
    if (!c->name || !*c->name || strlen(c->name) >= 32)
        why = "a name of 1 to 31 characters";
    else if (c->threads < 1 || c->max_running_per_key < 1 || c->max_waiting < 1)
        why = "at least one thread, one running job per key and one waiting job";
    else if (!c->kinds || c->nkinds < 1 || c->nkinds > AP_JOBQ_MAX_KINDS)
        why = "1 to 16 kinds";
    for (size_t i = 0; !why && i < c->nkinds; i++) {
        const struct ap_jobq_kind *k = &c->kinds[i];
        if (!k->name || k->max_running < 1 || k->max_waiting < 1 || k->max_share < 0 ||
            k->max_share > 100)
            why = "kinds with a name, max_running >= 1, max_waiting >= 1, max_share 0..100";
    }
    if (why)
        snprintf(err, errlen, "work queue %s: needs %s", c->name ? c->name : "?", why);
    return !why;
}

static void init_sync(struct ap_jobq *q)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->idle, &ca);
    pthread_condattr_destroy(&ca);
    sem_init(&q->tick, 0, 0);
}

struct ap_jobq *ap_jobq_new(const struct ap_jobq_config *cfg, char *err, size_t errlen)
{
    if (!config_ok(cfg, err, errlen))
        return NULL;
    struct ap_jobq *q = ap_xcalloc(1, sizeof(*q));
    snprintf(q->name, sizeof(q->name), "%s", cfg->name);
    q->kinds = cfg->kinds;
    q->nkinds = cfg->nkinds;
    q->max_running_per_key = cfg->max_running_per_key;
    q->max_waiting = cfg->max_waiting;
    for (size_t i = 0; i < q->nkinds; i++) {
        int share = q->kinds[i].max_share ? q->kinds[i].max_share : 100;
        int cap = cfg->threads * share / 100;
        q->kind_cap[i] = cap < 1 ? 1 : cap;
    }
    init_sync(q);
    if (cfg->metrics)
        register_metrics(q, cfg->metrics);
    q->threads = ap_xcalloc((size_t)cfg->threads, sizeof(pthread_t));
    bool ok = pthread_create(&q->timer, NULL, timer_main, q) == 0;
    q->timer_started = ok;
    for (int i = 0; ok && i < cfg->threads; i++) {
        ok = pthread_create(&q->threads[i], NULL, worker_main, q) == 0;
        q->nthreads += ok;
    }
    if (!ok) {
        snprintf(err, errlen, "work queue %s: could not start its threads", q->name);
        ap_jobq_free(q, 0);
        return NULL;
    }
    return q;
}

/* Waits until no job runs or the grace since the stop is over; false when jobs still run. */
static bool wait_idle(struct ap_jobq *q, int grace_ms)
{
    int64_t until = q->stop_ns + (int64_t)grace_ms * AP_NS_PER_MS;
    while (q->nrunning > 0 && ap_clock_mono_ns() < until) {
        struct timespec ts = abs_mono(until);
        pthread_cond_timedwait(&q->idle, &q->lock, &ts);
    }
    return q->nrunning == 0;
}

enum ap_err ap_jobq_free(struct ap_jobq *q, int grace_ms)
{
    if (!q)
        return AP_OK;
    struct waiter *told = NULL;
    struct ap_jobq_job *dropped = NULL;
    atomic_store(&q->stop_requested, true);
    pthread_mutex_lock(&q->lock);
    if (!q->stopping)
        cancel_all(q, &told, &dropped);
    pthread_mutex_unlock(&q->lock);
    deliver(told, NULL);
    free_dropped(dropped);
    pthread_mutex_lock(&q->lock);
    bool idle = wait_idle(q, grace_ms);
    pthread_mutex_unlock(&q->lock);
    if (!idle) {
        ap_log_warn("jobq.abandoned_at_exit", "queue=%s running=%zu", q->name, (size_t)q->nrunning);
        return AP_ETIMEOUT;
    }
    atomic_store(&q->exiting, true);
    pthread_mutex_lock(&q->lock);
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->lock);
    sem_post(&q->tick);
    for (int i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    if (q->timer_started)
        pthread_join(q->timer, NULL);
    sem_destroy(&q->tick);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->idle);
    pthread_mutex_destroy(&q->lock);
    free(q->threads);
    free(q);
    return AP_OK;
}

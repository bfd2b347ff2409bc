/*
 * writer.c — the writer thread: queued writes run in batches on the store's
 * write connection, one transaction per batch committed durably, each write
 * in a savepoint of its own (group commit; contract in store.h).
 * Backend-neutral: durability per batch is the backend's
 * ap_db_conn_set_durable(); whether a failed batch or write may simply run
 * again (a deadlock, a lost connection before COMMIT) is the backend's
 * ap_db_conn_retryable(), and then it does, up to AP_DB_TX_TRIES times.
 *
 * The queue is a ring of queue_max slots filled by any thread under mu. The
 * thread waits for work, takes the write connection (so writes made through
 * ap_store_acquire() interleave with batches), and only then takes what is
 * queued, up to batch_max: whatever arrives while a batch commits waits for
 * the next one, which is what makes the commits shared.
 *
 * A batch is first tried without a savepoint per write (run_fast): when
 * every write succeeds, as nearly all do, that is one statement less per
 * write, or a round trip or two on PostgreSQL. When one fails, the batch is
 * undone and run the careful way, each write in a savepoint of its own, so
 * that a failing write undoes only itself; its writes thus run twice.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/db_int.h"
#include "db/store.h"

/* A blocked ap_db_writer_run() caller. */
struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    enum ap_err err;
};

struct job {
    ap_db_write_fn fn;
    void *arg;
    ap_db_write_done_fn done;
    struct waiter *waiter; /* instead of done */
    enum ap_err err;
};

struct ap_db_writer {
    struct ap_store *s;
    pthread_t thread;
    pthread_mutex_t mu; /* guards the queue, stopping and stats */
    pthread_cond_t cv;  /* work queued, or stopping */
    struct job *ring;
    size_t cap, head, count;
    struct job *batch; /* batch_max slots, the thread's own */
    size_t batch_max;
    bool stopping;
    struct ap_db_writer_stats stats;
};

/* Gives err to every job of [from, to) that has none yet. */
static void fail_ok(struct job *jobs, size_t from, size_t to, enum ap_err err)
{
    for (size_t i = from; i < to; i++)
        if (jobs[i].err == AP_OK)
            jobs[i].err = err;
}

/*
 * Runs one job in its savepoint, again when its statement hit a failure that
 * undid it and may pass (a deadlock); afterwards the savepoint is gone
 * either way. False when the transaction is gone too.
 */
static bool run_one(struct ap_db_conn *c, struct job *j)
{
    for (int tried = 0;; tried++) {
        j->err = ap_db_exec(c, "SAVEPOINT ap_write", NULL, 0);
        if (j->err != AP_OK)
            return ap_db_in_transaction(c);
        j->err = j->fn(c, j->arg);
        if (!ap_db_in_transaction(c))
            return false; /* the whole transaction is gone: run_transaction sees it */
        if (j->err == AP_OK)
            j->err = ap_db_exec(c, "RELEASE SAVEPOINT ap_write", NULL, 0);
        if (j->err == AP_OK)
            return true;
        bool again = ap_db_conn_retryable(c) && tried + 1 < AP_DB_TX_TRIES;
        /* Never commit what a failed write did: if its statements cannot be
         * undone alone, the whole transaction goes (run_transaction sees it). */
        if (ap_db_exec(c, "ROLLBACK TO SAVEPOINT ap_write", NULL, 0) != AP_OK) {
            ap_db_rollback(c);
            return false;
        }
        ap_db_exec(c, "RELEASE SAVEPOINT ap_write", NULL, 0);
        if (!again)
            return true;
        ap_log_warn("db.retry", "what=write try=%d path=%s", tried + 2, c->s->log_path);
        ap_db_retry_pause(tried + 1);
    }
}

/*
 * Runs the batch's jobs [first, n) in one transaction and commits it.
 * Returns the index of the first job not run: n, or less when the
 * transaction was undone under a job (its statements failed in a way that
 * rolls back everything, or it ended the transaction itself, a bug) — the
 * jobs run in it so far then fail with that job's error. *again is set when
 * the transaction failed in a way that undid it for sure and may pass: the
 * caller may run [first, n) again.
 */
static size_t run_transaction(struct ap_db_writer *w, struct ap_db_conn *c, size_t first, size_t n,
                              bool *again)
{
    struct job *jobs = w->batch;
    enum ap_err err = ap_db_begin(c);

    *again = false;
    if (err != AP_OK) {
        *again = ap_db_conn_retryable(c);
        fail_ok(jobs, first, n, err);
        return n;
    }
    for (size_t i = first; i < n; i++) {
        if (run_one(c, &jobs[i]))
            continue;
        if (jobs[i].err == AP_OK) {
            ap_log_error("db.writer", "bug=write_ended_transaction path=%s", ap_db_log_path(w->s));
            jobs[i].err = AP_EINTERNAL;
        } else {
            *again = ap_db_conn_retryable(c);
        }
        fail_ok(jobs, first, i, jobs[i].err);
        return i + 1;
    }
    err = ap_db_commit(c);
    if (err != AP_OK) {
        *again = ap_db_conn_retryable(c);
        fail_ok(jobs, first, n, err);
    }
    return n;
}

enum fast { FAST_DONE, FAST_FAILED, FAST_AGAIN };

/*
 * The first try at a batch: every job in one transaction without
 * savepoints (a savepoint costs a round trip or two per write on
 * PostgreSQL). FAST_DONE: all ran and the batch is committed. FAST_AGAIN:
 * a job failed (or the transaction was undone under it, or the commit was
 * undone in a way that may pass): nothing is stored, run it the careful
 * way. FAST_FAILED: the commit failed otherwise; every job has its error.
 */
static enum fast run_fast(struct ap_db_writer *w, struct ap_db_conn *c, size_t n)
{
    struct job *jobs = w->batch;
    enum ap_err err = ap_db_begin(c);

    for (size_t i = 0; err == AP_OK && i < n; i++) {
        err = jobs[i].fn(c, jobs[i].arg);
        if (err == AP_OK && !ap_db_in_transaction(c))
            err = AP_EINTERNAL; /* it ended the transaction: the careful way tells */
    }
    if (err != AP_OK) {
        ap_db_rollback(c);
        return FAST_AGAIN;
    }
    err = ap_db_commit(c);
    if (err == AP_OK)
        return FAST_DONE;
    if (ap_db_conn_retryable(c))
        return FAST_AGAIN;
    /* Never again after a commit whose outcome may be unknown. */
    fail_ok(jobs, 0, n, err);
    return FAST_FAILED;
}

/* Runs the n jobs of w->batch with durable commits; each ends with its err. */
static void run_batch(struct ap_db_writer *w, struct ap_db_conn *c, size_t n)
{
    enum ap_err err = ap_db_conn_set_durable(c, true);
    size_t next = 0, tries = 1;
    int retried = 0;

    if (err != AP_OK) {
        fail_ok(w->batch, 0, n, err);
        return;
    }
    if (run_fast(w, c, n) != FAST_AGAIN)
        next = n;
    while (next < n) {
        size_t from = next;
        bool again = false;

        next = run_transaction(w, c, from, n, &again);
        tries++;
        if (!again || retried + 1 >= AP_DB_TX_TRIES)
            continue;
        /* Nothing of [from, n) is stored: run it all again. */
        retried++;
        ap_log_warn("db.retry", "what=batch try=%d writes=%zu path=%s", retried + 1, n - from,
                    ap_db_log_path(w->s));
        for (size_t i = from; i < n; i++)
            w->batch[i].err = AP_OK;
        next = from;
        ap_db_retry_pause(retried);
    }
    ap_db_conn_set_durable(c, false);
    pthread_mutex_lock(&w->mu);
    w->stats.batches += tries;
    pthread_mutex_unlock(&w->mu);
}

/* Moves up to batch_max queued jobs into w->batch; returns how many. Under mu. */
static size_t take(struct ap_db_writer *w)
{
    size_t n = w->count < w->batch_max ? w->count : w->batch_max;

    for (size_t i = 0; i < n; i++) {
        w->batch[i] = w->ring[w->head];
        w->batch[i].err = AP_OK;
        w->head = (w->head + 1) % w->cap;
    }
    w->count -= n;
    return n;
}

/* Tells each job of the batch how it ended, in submission order. */
static void complete(struct ap_db_writer *w, size_t n)
{
    uint64_t failed = 0;

    for (size_t i = 0; i < n; i++)
        failed += w->batch[i].err != AP_OK;
    /* Counted before anyone is told, so a caller who was told sees it. */
    pthread_mutex_lock(&w->mu);
    w->stats.writes += n;
    w->stats.failed += failed;
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < n; i++) {
        struct job *j = &w->batch[i];

        if (j->waiter != NULL) {
            pthread_mutex_lock(&j->waiter->mu);
            j->waiter->err = j->err;
            j->waiter->done = true;
            pthread_cond_signal(&j->waiter->cv);
            pthread_mutex_unlock(&j->waiter->mu);
        } else if (j->done != NULL) {
            j->done(j->arg, j->err);
        }
    }
}

static void *writer_main(void *arg)
{
    struct ap_db_writer *w = arg;

    for (;;) {
        struct ap_db_conn *c;
        size_t n;

        pthread_mutex_lock(&w->mu);
        while (w->count == 0 && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->count == 0) { /* stopping, and everything is done */
            pthread_mutex_unlock(&w->mu);
            break;
        }
        pthread_mutex_unlock(&w->mu);
        /* The connection first, then the jobs: what arrives meanwhile joins. */
        c = ap_store_acquire(w->s, true);
        pthread_mutex_lock(&w->mu);
        n = take(w);
        pthread_mutex_unlock(&w->mu);
        run_batch(w, c, n);
        ap_store_release(c);
        complete(w, n);
    }
    return NULL;
}

struct ap_db_writer *ap_db_writer_new(struct ap_store *s, const struct ap_db_writer_opts *opts,
                                      char *err, size_t errlen)
{
    struct ap_db_writer *w = ap_xcalloc(1, sizeof(*w));

    w->s = s;
    w->cap = opts != NULL && opts->queue_max > 0 ? opts->queue_max : AP_DB_WRITER_QUEUE_MAX;
    w->batch_max = opts != NULL && opts->batch_max > 0 ? opts->batch_max : AP_DB_WRITER_BATCH_MAX;
    w->ring = ap_xcalloc(w->cap, sizeof(*w->ring));
    w->batch = ap_xcalloc(w->batch_max, sizeof(*w->batch));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        snprintf(err, errlen, "cannot start the database writer thread");
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w->batch);
        free(w->ring);
        free(w);
        return NULL;
    }
    return w;
}

static enum ap_err enqueue(struct ap_db_writer *w, const struct job *j)
{
    enum ap_err err = AP_OK;

    pthread_mutex_lock(&w->mu);
    if (w->stopping)
        err = AP_EUNAVAIL;
    else if (w->count == w->cap)
        err = AP_EBUSY;
    if (err == AP_OK) {
        w->ring[(w->head + w->count) % w->cap] = *j;
        w->count++;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return err;
}

enum ap_err ap_db_writer_submit(struct ap_db_writer *w, ap_db_write_fn fn, void *arg,
                                ap_db_write_done_fn done)
{
    struct job j = {.fn = fn, .arg = arg, .done = done};

    return enqueue(w, &j);
}

enum ap_err ap_db_writer_run(struct ap_db_writer *w, ap_db_write_fn fn, void *arg)
{
    struct waiter wt = {.done = false, .err = AP_OK};
    struct job j = {.fn = fn, .arg = arg, .waiter = &wt};
    enum ap_err err;

    if (pthread_equal(pthread_self(), w->thread)) {
        ap_log_error("db.writer", "bug=run_from_writer_thread path=%s", ap_db_log_path(w->s));
        return AP_EINTERNAL;
    }
    pthread_mutex_init(&wt.mu, NULL);
    pthread_cond_init(&wt.cv, NULL);
    err = enqueue(w, &j);
    if (err == AP_OK) {
        pthread_mutex_lock(&wt.mu);
        while (!wt.done)
            pthread_cond_wait(&wt.cv, &wt.mu);
        err = wt.err;
        pthread_mutex_unlock(&wt.mu);
    }
    pthread_cond_destroy(&wt.cv);
    pthread_mutex_destroy(&wt.mu);
    return err;
}

void ap_db_writer_get_stats(struct ap_db_writer *w, struct ap_db_writer_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    out->queued = w->count;
    pthread_mutex_unlock(&w->mu);
}

void ap_db_writer_free(struct ap_db_writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->batch);
    free(w->ring);
    free(w);
}

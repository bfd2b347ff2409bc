/*
 * jobq.h — fair work queues for slow work done on behalf of an account:
 * ServiceTitan calls today (connect, rotate, check), the catalog refresh,
 * availability fetches and the booking push next. Password hashing has a
 * pool of its own (core/workers.h) so a login never waits behind this.
 *
 * A queue owns a few worker threads and one timer thread. A job is a run
 * function and its argument, submitted for a key (the account id) and a kind
 * (what the work is; the kinds and their limits are the queue's config).
 * Whoever waits for a job's outcome is a waiter: the submitter, and every
 * later submitter that joined the job. The queue promises:
 *
 *   fairness   keys take turns (round robin), and kinds take turns within a
 *              key: one account's flood waits behind itself, never in front
 *              of another account's work.
 *   limits     per key at most max_running_per_key jobs run at once (every
 *              kind together); per (key, kind) at most kind.max_running run
 *              and kind.max_waiting wait; per kind at most kind.max_share
 *              percent of the threads run it (so one kind cannot starve the
 *              others); the queue holds at most max_waiting jobs. A submit
 *              past a limit is refused at once (AP_EBUSY) with a retry hint.
 *   deadlines  every waiter has one. A waiter whose deadline passes before
 *              the job starts is told AP_JOBQ_LATE; a job nobody waits for
 *              any more is dropped unstarted. A waiter whose deadline passes
 *              while the job runs is told AP_JOBQ_TIMEOUT at once; when that
 *              waiter is binding (it will tell its caller "nothing was
 *              changed") the job is abandoned: every waiter is told
 *              AP_JOBQ_TIMEOUT and ap_jobq_commit() answers false from then
 *              on, so the job must not save what it found.
 *   joining    a submit with a coalesce word joins the job of the same (key,
 *              kind, word) that is waiting or running (single flight): one
 *              run, every waiter told the one outcome. An abandoned job is
 *              not joined.
 *   later      a job may ask not to start before a time (retry backoff).
 *   async      run() may hand the work to an event-driven engine and return
 *              AP_JOBQ_CONTINUES: the job keeps its slot until
 *              ap_jobq_finish(). A job never holds a thread while it waits.
 *   shutdown   ap_jobq_stop() (async-signal-safe) makes the timer thread
 *              cancel every job that has not started — each waiter is told
 *              AP_JOBQ_CANCELED at once and the job never runs — and refuse
 *              new ones; running jobs go on until ap_jobq_free()'s deadline.
 *
 * Callbacks (run, tell, free) are called without any queue lock held, on a
 * worker or the timer thread (never inside ap_jobq_submit), and may submit.
 * Times are monotonic nanoseconds (ap_clock_mono_ns()).
 */
#ifndef AP_CORE_JOBQ_H
#define AP_CORE_JOBQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct ap_jobq;
struct ap_jobq_job;
struct ap_metrics;

/* Most kinds a queue has, waiters a job has, bytes of a coalesce word. */
#define AP_JOBQ_MAX_KINDS    16
#define AP_JOBQ_MAX_WAITERS  1024
#define AP_JOBQ_MAX_COALESCE 256

/* A kind of work and its limits (per key unless said otherwise). */
struct ap_jobq_kind {
    const char *name; /* "connect", "check", ...: logs and metrics labels */
    int max_running;  /* >= 1 */
    int max_waiting;  /* >= 1 (joiners do not count) */
    int max_share;    /* percent of the queue's threads, 1..100 (0: 100) */
};

struct ap_jobq_config {
    const char *name; /* "st": logs, and metrics appointd_<name>_jobs_* */
    int threads;      /* worker threads, >= 1 */
    int max_running_per_key;
    size_t max_waiting; /* jobs waiting in the whole queue */
    const struct ap_jobq_kind *kinds;
    size_t nkinds;              /* 1..AP_JOBQ_MAX_KINDS; borrowed, must outlive the queue */
    struct ap_metrics *metrics; /* may be NULL; registered at ap_jobq_new */
};

/*
 * Starts the threads. NULL (err set) for a bad config or when a thread
 * cannot start.
 */
struct ap_jobq *ap_jobq_new(const struct ap_jobq_config *cfg, char *err, size_t errlen);

/* How a job ended for one waiter. */
enum ap_jobq_end {
    AP_JOBQ_DONE,     /* it ran to its end: its outcome is in arg */
    AP_JOBQ_LATE,     /* it had not started by this waiter's deadline */
    AP_JOBQ_TIMEOUT,  /* it was running at this waiter's deadline */
    AP_JOBQ_CANCELED, /* the queue stopped before it started: it never runs */
};
const char *ap_jobq_end_name(enum ap_jobq_end end);

/* What run() did. */
enum ap_jobq_ran {
    AP_JOBQ_FINISHED,  /* the outcome is in arg */
    AP_JOBQ_CONTINUES, /* handed on: ap_jobq_finish(job) follows, exactly once, from any thread
                          (maybe before run returns: once it hands on, run must not touch job or
                          arg again) */
};

/* Runs the job on a worker thread; job is valid until it finishes. */
typedef enum ap_jobq_ran (*ap_jobq_run_fn)(struct ap_jobq_job *job, void *arg);
/*
 * Tells a waiter how the job ended, exactly once per waiter. arg is the
 * job's argument, borrowed for the call, for AP_JOBQ_DONE only (NULL
 * otherwise: the job may still be running).
 */
typedef void (*ap_jobq_tell_fn)(void *waiter, enum ap_jobq_end end, void *arg);

struct ap_jobq_spec {
    int64_t key;           /* whose work: the account id */
    int kind;              /* index into the config's kinds */
    const char *coalesce;  /* join the same (key, kind, coalesce) job; NULL: never join; copied */
    int64_t deadline_ns;   /* this waiter's deadline (0: none); with tell NULL, the job's own
                              start-by time */
    bool binding;          /* this waiter's TIMEOUT abandons the job (see above) */
    int64_t not_before_ns; /* do not start before (0: at once) */
    ap_jobq_run_fn run;
    /* Called once when the job is over (after the last tell); may be NULL. */
    void (*free)(void *arg);
    void *arg;
    ap_jobq_tell_fn tell; /* NULL: nobody waits (background work) */
    void *waiter;
};

/* What a submit did besides queueing. */
struct ap_jobq_ticket {
    bool joined;       /* AP_OK: the spec joined a job already there; its arg was freed at once */
    int retry_after_s; /* AP_EBUSY: when a slot is likely free again (>= 1) */
};

/*
 * Queues a job, or joins one (spec->coalesce). On AP_OK the queue owns arg
 * and tell will be called once. AP_EBUSY: a limit is reached (ticket's
 * retry_after_s); AP_EUNAVAIL: the queue is stopping; AP_EINVAL: a bad kind
 * or run missing. On any error nothing was taken: arg stays the caller's and
 * tell is never called. ticket may be NULL.
 */
enum ap_err ap_jobq_submit(struct ap_jobq *q, const struct ap_jobq_spec *spec,
                           struct ap_jobq_ticket *ticket);

/*
 * Inside a job, just before it saves or changes anything: true when it may
 * (and from then on its waiters' deadlines no longer fire: keep what follows
 * short, a local write); false when the job was abandoned (a binding waiter
 * was told it timed out, so it must not save). job NULL (the caller runs
 * outside a queue, e.g. the CLI): true.
 */
bool ap_jobq_commit(struct ap_jobq_job *job);
/* True when the job may as well stop between steps: abandoned, or the queue is stopping. */
bool ap_jobq_should_stop(const struct ap_jobq_job *job);
/* Ends a job whose run returned AP_JOBQ_CONTINUES. Any thread, once. */
void ap_jobq_finish(struct ap_jobq_job *job);

/* Counts for metrics and tests (a snapshot). */
struct ap_jobq_stats {
    size_t waiting, running;
    uint64_t done, joined, refused, late, timed_out, canceled;
};
void ap_jobq_stats(struct ap_jobq *q, struct ap_jobq_stats *out);

/*
 * Stop taking work: cancels every job not yet started (see shutdown above).
 * Async-signal-safe (the timer thread does the work at once); idempotent.
 */
void ap_jobq_stop(struct ap_jobq *q);
/* Tests with a fake clock: re-examine deadlines and start times now. */
void ap_jobq_poke(struct ap_jobq *q);

/*
 * Stops (as ap_jobq_stop), waits until every running job has finished or
 * grace_ms has passed since the stop, then joins the threads and frees:
 * AP_OK. AP_ETIMEOUT when jobs are still running at that point: the queue is
 * then left alone, alive, because their threads still use it (and whatever
 * the jobs use): the caller may call again later, or end the process. NULL ok.
 */
enum ap_err ap_jobq_free(struct ap_jobq *q, int grace_ms);

#endif

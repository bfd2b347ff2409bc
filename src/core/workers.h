/*
 * workers.h — a small fixed pool of threads for short CPU-bound work that
 * must never run on an HTTP loop thread: password hashing. (Work that waits
 * on ServiceTitan goes on the fair per-account queue, core/jobq.h, so a
 * login never waits behind it.)
 *
 * Jobs run in submission order on whichever worker is free. The queue has a
 * maximum; a full queue refuses the job (AP_EBUSY) so a caller can answer
 * 503 at once instead of piling up work.
 */
#ifndef AP_CORE_WORKERS_H
#define AP_CORE_WORKERS_H

#include <stddef.h>

#include "core/err.h"

struct ap_workers;

/* nthreads >= 1; max_queue >= 1 jobs waiting. NULL if a thread cannot start. */
struct ap_workers *ap_workers_new(int nthreads, size_t max_queue);
/*
 * Queues fn(arg). AP_EBUSY when the queue is full or the pool is stopping;
 * then fn never runs and arg stays the caller's.
 */
enum ap_err ap_workers_submit(struct ap_workers *w, void (*fn)(void *arg), void *arg);
/* Runs every queued job to the end, joins the threads, frees. NULL ok. */
void ap_workers_free(struct ap_workers *w);

#endif

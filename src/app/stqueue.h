/*
 * stqueue.h — the account work queue for ServiceTitan work (core/jobq.h):
 * the kinds of work that share it, each with its own per-account limits so
 * that one kind cannot starve another, and the queue itself.
 *
 *   connect  connect, rotate, "Add to ServiceTitan": one at a time per
 *            account, two more may wait (then 429); at most 3/4 of the threads
 *   check    health checks and "Check connection now": one per account, and
 *            a second one joins it (AP_FMS_CHECK_COALESCE); at most half the
 *            threads
 *
 *   catalog  reading the ServiceTitan catalog (hourly, and "Refresh from
 *            ServiceTitan"): one per account, a second one joins it
 *            (AP_ST_CATALOG_COALESCE); at most half the threads
 *
 * Availability fetches and the booking push make no blocking calls: they run
 * on the titan engine itself (bounded per key and per account there), not on
 * this queue.
 */
#ifndef AP_APP_STQUEUE_H
#define AP_APP_STQUEUE_H

#include <stddef.h>

#include "core/jobq.h"

struct ap_metrics;

enum ap_st_work { AP_ST_WORK_CONNECT, AP_ST_WORK_CHECK, AP_ST_WORK_CATALOG, AP_ST_NWORK };
extern const struct ap_jobq_kind ap_st_work_kinds[AP_ST_NWORK];

#define AP_ST_CATALOG_COALESCE "catalog"

/* Jobs waiting in the whole queue. */
#define AP_ST_QUEUE_MAX_WAITING 4096

/*
 * The queue: threads workers, at most per_account jobs of one account
 * running at once (every kind together); metrics appointd_st_jobs_* when m
 * is not NULL. NULL with err set when it cannot start.
 */
struct ap_jobq *ap_st_queue_new(int threads, int per_account, struct ap_metrics *m, char *err,
                                size_t errlen);

#endif

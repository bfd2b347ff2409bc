/*
 * stqueue.c — the kinds of ServiceTitan work and their limits (stqueue.h).
 */
#include "app/stqueue.h"

const struct ap_jobq_kind ap_st_work_kinds[AP_ST_NWORK] = {
    [AP_ST_WORK_CONNECT] = {"connect", 1, 2, 75},
    [AP_ST_WORK_CHECK] = {"check", 1, 1, 50},
    [AP_ST_WORK_CATALOG] = {"catalog", 1, 1, 50},
};

struct ap_jobq *ap_st_queue_new(int threads, int per_account, struct ap_metrics *m, char *err,
                                size_t errlen)
{
    struct ap_jobq_config c = {
        .name = "st",
        .threads = threads,
        .max_running_per_key = per_account,
        .max_waiting = AP_ST_QUEUE_MAX_WAITING,
        .kinds = ap_st_work_kinds,
        .nkinds = AP_ST_NWORK,
        .metrics = m,
    };
    return ap_jobq_new(&c, err, errlen);
}

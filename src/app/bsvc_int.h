/*
 * bsvc_int.h — the insides of the booking service shared by bsvc.c (life,
 * the scheduler snapshots, the connection cache, the holds ledger, the
 * capacity fetcher) and bsvc_flow.c (availability and acceptance).
 */
#ifndef AP_APP_BSVC_INT_H
#define AP_APP_BSVC_INT_H

#include <pthread.h>

#include "app/avail.h"
#include "app/avail_cache.h"
#include "app/bsvc.h"

/* A window's holds: what our own bookings take from it that ServiceTitan may not show yet. */
struct hold {
    int64_t tenant_id, bu, start; /* the window (UTC ns) */
    int64_t scheduler_id;
    int64_t unpushed;     /* seconds held by accepted/pushing/parked bookings */
    int64_t count;        /* bookings in it, not canceled (local capacity) */
    int64_t pushed_s[8];  /* seconds of booked ones, with when each was pushed */
    int64_t pushed_at[8]; /* wall ns */
    int npushed;
    struct hold *next;
};

struct ap_bsvc {
    struct ap_bsvc_config c;
    struct ap_avail_cache *cache;
    pthread_mutex_t mu; /* scheds, conns, holds */
    struct bsched_slot {
        char key[AP_SCHED_KEY_LEN];
        struct ap_bsched *s;
    } * scheds;
    size_t nscheds;
    struct conn_slot {
        int64_t account_id;
        int64_t tenant_id;
        char *client_id, *secret;
        int64_t loaded;
    } * conns;
    size_t nconns;
    struct hold **holds; /* hash buckets */
    size_t nholds_buckets;
    pthread_t ledger;
    bool ledger_started;
    pthread_cond_t cv;
    bool stopping;
    _Atomic uint64_t n_answers, n_stale, n_created, n_replayed, n_taken;
};

/* bsvc.c */
/* Seconds (ServiceTitan mode) held in the window starting at start, counting booked ones only
 * when pushed after fetched_real (wall ns of the capacity answer). */
int64_t ap_bsvc_held(struct ap_bsvc *b, int64_t tenant_id, int64_t bu, int64_t start,
                     int64_t fetched_real);
/* Bookings (local mode) in the scheduler's window starting at start. */
int64_t ap_bsvc_count(struct ap_bsvc *b, int64_t scheduler_id, int64_t start);
/* A booking this process just accepted, until the next ledger rebuild sees it. */
void ap_bsvc_hold_add(struct ap_bsvc *b, int64_t tenant_id, int64_t bu, int64_t scheduler_id,
                      int64_t start, int64_t seconds);
/* Wall ns of a mono instant. */
int64_t ap_bsvc_real_of(int64_t mono);

#endif

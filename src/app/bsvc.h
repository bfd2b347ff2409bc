/*
 * bsvc.h — the booking service: everything the public widget API needs,
 * without HTTP. Schedulers as the public sees them (cached snapshots with
 * their catalog), availability (the capacity cache fed by the titan engine,
 * the rules, our own holds), and the acceptance of a booking (checked,
 * re-checked against recent capacity, written durably through the db writer
 * with its idempotency key, then handed to the push).
 *
 * Outcomes are domain codes (struct ap_bres); src/api maps them to HTTP.
 *
 * Threads: calls come from HTTP loop threads and never block on ServiceTitan
 * or on a write: what must wait finishes later through a callback, on the
 * titan engine's or the db writer's thread (the callback must not block
 * either). A few quick store reads happen on the calling thread (a
 * scheduler's snapshot at most every 2 s, an idempotency key).
 *
 * The capacity a booking is accepted against is at most recheck_max_age old:
 * older answers are fetched again first (coalesced per key), and answers
 * older than half of it are refreshed in the background, so a steady stream
 * of bookings never waits on ServiceTitan. When ServiceTitan cannot answer,
 * an answer within the availability staleness bound still decides (the
 * booking is accepted on what the homeowner was shown; the push follows when
 * ServiceTitan is back); without one the answer is "try again" and nothing
 * is stored.
 */
#ifndef AP_APP_BSVC_H
#define AP_APP_BSVC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/booking_req.h"
#include "app/scheduler.h"
#include "core/datetime.h"
#include "core/err.h"
#include "json/json.h"

struct ap_store;
struct ap_db_writer;
struct ap_titan;
struct ap_fms;
struct ap_push;
struct ap_catalog;
struct ap_metrics;

struct ap_bsvc_config {
    struct ap_store *st;
    struct ap_db_writer *w;
    struct ap_titan *t;
    struct ap_fms *fms;
    struct ap_push *push;       /* kicked after each booking; may be NULL */
    struct ap_metrics *metrics; /* may be NULL */
    int avail_ttl_s;            /* default 60 */
    int avail_max_stale_s;      /* default 900 */
    int recheck_max_age_s;      /* default 5 (0: every booking waits for a fresh answer) */
    int fetch_timeout_ms;       /* default 10000 */
};

struct ap_bsvc;
/* The holds ledger's query (two integer binds), for the tests of its plan. */
extern const char ap_bsvc_ledger_sql[];
struct ap_bsvc *ap_bsvc_new(const struct ap_bsvc_config *c);
/* After the HTTP server stopped and the titan client was shut down (so every fetch ended).
 * NULL ok. */
void ap_bsvc_free(struct ap_bsvc *b);

/* A scheduler as the public API serves it: an immutable snapshot with its account's catalog. */
struct ap_bsched {
    struct ap_sched *s;
    struct ap_catalog *cat;
    _Atomic int refs;
    int64_t loaded; /* mono ns */
    int64_t tenant_id;
};
/* The live (not paused) scheduler of key: AP_ENOTFOUND otherwise. Release with ap_bsched_put. */
enum ap_err ap_bsvc_sched(struct ap_bsvc *b, const char *key, struct ap_bsched **out);
void ap_bsched_put(struct ap_bsched *s);

/* ---- outcomes ---------------------------------------------------------------------- */

enum ap_bres_code {
    AP_BRES_OK,                 /* body: the answer */
    AP_BRES_CREATED,            /* body: {reference, status} */
    AP_BRES_INVALID,            /* a bad parameter or field (field named) */
    AP_BRES_OUTSIDE_AREA,       /* the ZIP is not served */
    AP_BRES_WINDOW_UNAVAILABLE, /* body: {nextWindows: […]} */
    AP_BRES_KEY_REUSED,         /* the idempotency key came with another body */
    AP_BRES_UNAVAILABLE,        /* ServiceTitan cannot answer and nothing is cached: retry_after */
    AP_BRES_BUSY,               /* our own queues are full: retry_after */
};

struct ap_bres {
    enum ap_bres_code code;
    char error[40];    /* a stable word ("invalid_parameter", "window_unavailable", …) */
    char message[240]; /* for the homeowner (or the widget's developer) */
    char field[64];    /* the parameter or field at fault, "" none */
    int retry_after_s;
    json_t *body; /* owned; may be NULL */
    char *text;   /* owned; may be NULL: the success body as JSON text already (instead of body) */
};
void ap_bres_cleanup(struct ap_bres *r);

/* Called exactly once with the outcome, which the callee owns (ap_bres_cleanup). */
typedef void (*ap_bsvc_done_fn)(void *ud, struct ap_bres *r);

/* ---- availability --------------------------------------------------------------------- */

struct ap_bsvc_avail_q {
    const char *service, *zip;
    bool has_from;
    struct ap_date from; /* default: today in the scheduler's zone */
    int days;            /* 1..31; 0: 7 */
};

/*
 * Answers at once when it can (fresh or stale capacity, local capacity, or
 * a bad request): true with *now filled. false: nothing started; call
 * ap_bsvc_availability() (after deferring the HTTP request).
 */
bool ap_bsvc_availability_now(struct ap_bsvc *b, struct ap_bsched *s,
                              const struct ap_bsvc_avail_q *q, struct ap_bres *now);
/* The availability answer; done runs exactly once, possibly before this returns. */
void ap_bsvc_availability(struct ap_bsvc *b, struct ap_bsched *s, const struct ap_bsvc_avail_q *q,
                          ap_bsvc_done_fn done, void *ud);

/* ---- booking ------------------------------------------------------------------------------- */

/*
 * Accepts a parsed booking request for scheduler s: checks the service, the
 * ZIP and the window against the scheduler and recent capacity, then writes
 * it (with its idempotency key, may be NULL) through the db writer. done runs
 * exactly once, possibly before this returns: CREATED (also for a replay of
 * the same key and body, with the first reference), INVALID, OUTSIDE_AREA,
 * WINDOW_UNAVAILABLE, KEY_REUSED, UNAVAILABLE, BUSY. req is copied.
 */
void ap_bsvc_book(struct ap_bsvc *b, struct ap_bsched *s, const struct ap_booking_req *req,
                  const char *idem_key, ap_bsvc_done_fn done, void *ud);

struct ap_bsvc_stats {
    uint64_t avail_answers, avail_stale, bookings_created, bookings_replayed, windows_taken;
    uint64_t tz_mismatches; /* windows shown whose ServiceTitan wall time disagreed with the zone */
};
void ap_bsvc_stats(struct ap_bsvc *b, struct ap_bsvc_stats *out);

#endif

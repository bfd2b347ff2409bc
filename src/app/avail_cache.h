/*
 * avail_cache.h — ServiceTitan's capacity, cached per (tenant, business
 * unit, job type, UTC day), so a warm availability request never waits on
 * ServiceTitan.
 *
 *   - Fresh entries (younger than ttl) answer at once.
 *   - Stale entries (ttl .. max_stale) answer at once too, marked stale, and
 *     a refresh starts in the background.
 *   - Missing or expired days are fetched: contiguous runs of at most
 *     chunk_days days per ServiceTitan call, one call in flight per day
 *     however many requests ask (single flight); the requests wait for it.
 *   - A failed fetch answers its waiters with the error (and ServiceTitan's
 *     Retry-After); for a short while after (fail_hold) new requests for
 *     those days get the same error at once instead of another call.
 *   - fresh_after > 0 asks for an answer fetched after that instant,
 *     bypassing the cache but still coalesced (the re-check at booking time).
 *
 * Fetching is the caller's: the cache calls fetch() outside its lock for each
 * run, and the fetcher reports with ap_avail_fetch_done() exactly once, from
 * any thread (the titan engine's, in appointd; a fake in tests). Callbacks
 * run outside the cache's lock. Thread-safe.
 *
 * Memory is bounded: at most max_entries (key, day) entries, least recently
 * used evicted first.
 */
#ifndef AP_APP_AVAIL_CACHE_H
#define AP_APP_AVAIL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/avail.h"
#include "core/err.h"
#include "json/json.h"

struct ap_avail_key {
    int64_t tenant_id, business_unit_id, job_type_id;
    int64_t account_id; /* whose connection fetches it (not part of the key's identity) */
};

struct ap_avail_fetch; /* one ServiceTitan call in flight, owned by the cache */

/*
 * Starts fetching capacity for key over [from, to) (UTC ns; whole UTC days,
 * plus windows that start before `to`: ask ServiceTitan for a little more).
 * Return AP_OK and later call ap_avail_fetch_done(f, …) exactly once; or
 * return an error and never call it.
 */
typedef enum ap_err (*ap_avail_fetch_fn)(void *ud, const struct ap_avail_key *key, int64_t from,
                                         int64_t to, struct ap_avail_fetch *f);

/*
 * The fetcher's report: err AP_OK with ServiceTitan's capacity answer
 * (borrowed; {"availabilities": […]}), or an error with the Retry-After
 * ServiceTitan gave (0 none). From any thread.
 */
void ap_avail_fetch_done(struct ap_avail_fetch *f, enum ap_err err, json_t *answer,
                         int retry_after_s);

struct ap_avail_cache_opts {
    int64_t ttl_ns;       /* default 60 s */
    int64_t max_stale_ns; /* default 15 min */
    int64_t fail_hold_ns; /* default 2 s */
    int chunk_days;       /* default 14 */
    size_t max_entries;   /* default 100000 */
    const char *tz;       /* zone of the tenant's local "start" texts, for the cross-check (may be
                             NULL) */
    ap_avail_fetch_fn fetch;
    void *fetch_ud;
};

struct ap_avail_cache;
struct ap_avail_cache *ap_avail_cache_new(const struct ap_avail_cache_opts *o);
/* Every fetch must have reported (stop the fetcher first). NULL ok. */
void ap_avail_cache_free(struct ap_avail_cache *c);

/* An answer: the slots of [from, to), ordered by start (malloc'd, caller frees). */
struct ap_avail_answer {
    enum ap_err err;
    struct ap_avail_slot *slots;
    size_t n;
    bool stale;         /* some day was older than ttl */
    int64_t fetched_at; /* the oldest day's fetch start (mono ns) */
    int retry_after_s;  /* with an error */
};
void ap_avail_answer_cleanup(struct ap_avail_answer *a);

typedef void (*ap_avail_got_fn)(void *ud, struct ap_avail_answer *a);

/*
 * Answers at once when it can: true with *now filled (fresh or stale days,
 * or a failure still held); stale days start a background refresh. false:
 * nothing was started. For the warm path, which must not defer.
 */
bool ap_avail_cache_peek(struct ap_avail_cache *c, const struct ap_avail_key *key, int64_t from,
                         int64_t to, struct ap_avail_answer *now);

/*
 * Slots of key over [from, to): got runs exactly once — possibly before this
 * returns — with an answer it owns (clean it up): from the cache when it can
 * (fresh_after 0), else after fetching, on the fetcher's thread.
 * fresh_after: 0, or a mono instant the data must have been fetched after
 * (the re-check at booking time: no stale data, no held failure).
 */
void ap_avail_cache_get(struct ap_avail_cache *c, const struct ap_avail_key *key, int64_t from,
                        int64_t to, int64_t fresh_after, ap_avail_got_fn got, void *ud);

/*
 * Starts fetches (no one waits for them) for the days of [from, to) not
 * fetched after fresh_after and not being fetched: a background refresh.
 */
void ap_avail_cache_refresh(struct ap_avail_cache *c, const struct ap_avail_key *key, int64_t from,
                            int64_t to, int64_t fresh_after);

/* The mono instant capacity of key covering utc_start was last fetched at (0 never): holds
 * pushed before it are in ServiceTitan's numbers already. */
int64_t ap_avail_cache_fetched_at(struct ap_avail_cache *c, const struct ap_avail_key *key,
                                  int64_t utc_start);

struct ap_avail_cache_stats {
    uint64_t hits, stale_hits, misses, fetches, fetch_errors, coalesced, evictions;
    int64_t tz_mismatches;
};
void ap_avail_cache_stats(struct ap_avail_cache *c, struct ap_avail_cache_stats *out);

#endif

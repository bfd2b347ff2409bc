/*
 * avail_cache.c — capacity per (tenant, business unit, job type, UTC day)
 * with single flight and stale-while-revalidate. See avail_cache.h.
 *
 * One mutex guards everything: a hash table of day entries with an LRU list,
 * and the list of fetches in flight with the waiters attached to each. A
 * waiter (one get) counts the fetches it still waits for; when the last one
 * reports, its answer is built from the entries and handed to got() — after
 * the lock is let go. Fetches are started after it too.
 */
#include "app/avail_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"

/* Most days one request spans (31 days asked, plus one at each edge). */
#define SPAN_DAYS_MAX 40

struct entry {
    struct ap_avail_key key;
    int64_t day; /* days since the epoch, UTC */
    struct ap_avail_slot *slots;
    size_t n;
    int64_t fetched; /* mono instant the fetch that filled it started; 0: a failure */
    int64_t fail_until;
    enum ap_err fail_err;
    int retry_after_s;
    struct entry *hnext, *prev, *next; /* hash chain; LRU list (head = most recent) */
};

struct waiter {
    struct ap_avail_key key;
    int64_t from, to, fresh_after;
    int pending;
    enum ap_err err;
    int retry_after_s;
    ap_avail_got_fn got;
    void *ud;
    struct waiter *next_ready;
};

struct wref {
    struct waiter *w;
    struct wref *next;
};

struct ap_avail_fetch {
    struct ap_avail_cache *c;
    struct ap_avail_key key;
    int64_t day0, day1; /* [day0, day1) */
    int64_t started;
    struct wref *waiters;
    struct ap_avail_fetch *next;       /* in flight */
    struct ap_avail_fetch *start_next; /* queued to start, after the lock */
};

struct ap_avail_cache {
    struct ap_avail_cache_opts o;
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t nbuckets, nentries;
    struct entry *lru_head, *lru_tail;
    struct ap_avail_fetch *inflight;
    struct ap_avail_cache_stats st;
};

/* ---- entries ------------------------------------------------------------------ */

static bool key_eq(const struct ap_avail_key *a, const struct ap_avail_key *b)
{
    return a->tenant_id == b->tenant_id && a->business_unit_id == b->business_unit_id &&
           a->job_type_id == b->job_type_id;
}

static size_t hash(const struct ap_avail_cache *c, const struct ap_avail_key *k, int64_t day)
{
    uint64_t h = 1469598103934665603ULL;
    int64_t parts[4] = {k->tenant_id, k->business_unit_id, k->job_type_id, day};

    for (int i = 0; i < 4; i++)
        h = (h ^ (uint64_t)parts[i]) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29)) & (c->nbuckets - 1);
}

static struct entry *find(struct ap_avail_cache *c, const struct ap_avail_key *k, int64_t day)
{
    for (struct entry *e = c->buckets[hash(c, k, day)]; e; e = e->hnext)
        if (e->day == day && key_eq(&e->key, k))
            return e;
    return NULL;
}

static void lru_unlink(struct ap_avail_cache *c, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void touch(struct ap_avail_cache *c, struct entry *e)
{
    if (c->lru_head == e)
        return;
    if (e->prev) /* in the list already */
        lru_unlink(c, e);
    e->next = c->lru_head;
    if (c->lru_head)
        c->lru_head->prev = e;
    c->lru_head = e;
    if (!c->lru_tail)
        c->lru_tail = e;
}

static void evict(struct ap_avail_cache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[hash(c, &e->key, e->day)];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(c, e);
    free(e->slots);
    free(e);
    c->nentries--;
}

/* The entry of (k, day), created (and older ones evicted) when missing. */
static struct entry *upsert(struct ap_avail_cache *c, const struct ap_avail_key *k, int64_t day)
{
    struct entry *e = find(c, k, day);
    size_t h;

    if (e) {
        touch(c, e);
        return e;
    }
    while (c->nentries >= c->o.max_entries && c->lru_tail) {
        evict(c, c->lru_tail);
        c->st.evictions++;
    }
    e = ap_xcalloc(1, sizeof(*e));
    e->key = *k;
    e->day = day;
    h = hash(c, k, day);
    e->hnext = c->buckets[h];
    c->buckets[h] = e;
    c->nentries++;
    touch(c, e);
    return e;
}

/* ---- life ------------------------------------------------------------------------ */

struct ap_avail_cache *ap_avail_cache_new(const struct ap_avail_cache_opts *o)
{
    struct ap_avail_cache *c = ap_xcalloc(1, sizeof(*c));

    c->o = *o;
    if (c->o.ttl_ns <= 0)
        c->o.ttl_ns = 60 * AP_NS_PER_S;
    if (c->o.max_stale_ns < c->o.ttl_ns)
        c->o.max_stale_ns = c->o.max_stale_ns > 0 ? c->o.ttl_ns : 15 * 60 * AP_NS_PER_S;
    if (c->o.fail_hold_ns <= 0)
        c->o.fail_hold_ns = 2 * AP_NS_PER_S;
    if (c->o.chunk_days <= 0 || c->o.chunk_days > 14)
        c->o.chunk_days = 14;
    if (c->o.max_entries == 0)
        c->o.max_entries = 100000;
    c->nbuckets = 1024;
    while (c->nbuckets < c->o.max_entries / 2 && c->nbuckets < (1u << 22))
        c->nbuckets <<= 1;
    c->buckets = ap_xcalloc(c->nbuckets, sizeof(*c->buckets));
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void ap_avail_cache_free(struct ap_avail_cache *c)
{
    if (!c)
        return;
    if (c->inflight)
        ap_log_error("avail.cache_free", "reason=\"fetches still in flight\"");
    while (c->lru_head)
        evict(c, c->lru_head);
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void ap_avail_answer_cleanup(struct ap_avail_answer *a)
{
    if (!a)
        return;
    free(a->slots);
    memset(a, 0, sizeof(*a));
}

/* ---- days ------------------------------------------------------------------------- */

static int64_t day_of(int64_t ns)
{
    int64_t d = ns / AP_NS_PER_DAY;
    return ns % AP_NS_PER_DAY < 0 ? d - 1 : d;
}

/* The days [*d0, *d1) holding [from, to); false when too many. */
static bool span_days(int64_t from, int64_t to, int64_t *d0, int64_t *d1)
{
    *d0 = day_of(from);
    *d1 = to > from ? day_of(to - 1) + 1 : *d0;
    return *d1 - *d0 <= SPAN_DAYS_MAX;
}

/* Whether entry e may answer now: 2 fresh, 1 stale (allowed: fresh_after 0), 0 no. */
static int usable(const struct ap_avail_cache *c, const struct entry *e, int64_t now,
                  int64_t fresh_after)
{
    if (!e || !e->fetched || e->fetched < fresh_after)
        return 0;
    if (now - e->fetched < c->o.ttl_ns)
        return 2;
    return fresh_after == 0 && now - e->fetched < c->o.max_stale_ns ? 1 : 0;
}

/* Copies the slots of [from, to) out of the day entries (all present). */
static void build(struct ap_avail_cache *c, const struct ap_avail_key *k, int64_t from, int64_t to,
                  struct ap_avail_answer *a)
{
    int64_t d0, d1;
    size_t cap = 0;

    span_days(from, to, &d0, &d1);
    a->fetched_at = INT64_MAX;
    for (int64_t d = d0; d < d1; d++) {
        struct entry *e = find(c, k, d);
        if (!e)
            continue;
        if (e->fetched && e->fetched < a->fetched_at)
            a->fetched_at = e->fetched;
        for (size_t i = 0; i < e->n; i++) {
            if (e->slots[i].start < from || e->slots[i].start >= to)
                continue;
            if (a->n == cap) {
                cap = cap ? cap * 2 : 16;
                a->slots = ap_xrealloc(a->slots, cap * sizeof(*a->slots));
            }
            a->slots[a->n++] = e->slots[i];
        }
    }
    if (a->fetched_at == INT64_MAX)
        a->fetched_at = 0;
}

/* ---- fetches ---------------------------------------------------------------------- */

static struct ap_avail_fetch *inflight_for(struct ap_avail_cache *c, const struct ap_avail_key *k,
                                           int64_t day, int64_t fresh_after)
{
    for (struct ap_avail_fetch *f = c->inflight; f; f = f->next)
        if (key_eq(&f->key, k) && day >= f->day0 && day < f->day1 && f->started >= fresh_after)
            return f;
    return NULL;
}

static void attach(struct ap_avail_fetch *f, struct waiter *w)
{
    for (struct wref *r = f->waiters; r; r = r->next)
        if (r->w == w)
            return;
    struct wref *r = ap_xcalloc(1, sizeof(*r));
    r->w = w;
    r->next = f->waiters;
    f->waiters = r;
    w->pending++;
}

/* Queues fetches for the days in need[] (sorted), in runs of at most chunk_days, attaching w
 * (may be NULL: a background refresh). They go in flight now and start after the lock. */
static void fetch_runs(struct ap_avail_cache *c, const struct ap_avail_key *k, const int64_t *need,
                       size_t n, int64_t now, struct waiter *w, struct ap_avail_fetch **to_start)
{
    size_t i = 0;

    while (i < n) {
        size_t j = i + 1;
        while (j < n && need[j] == need[j - 1] + 1 && need[j] - need[i] < c->o.chunk_days)
            j++;
        struct ap_avail_fetch *f = ap_xcalloc(1, sizeof(*f));
        *f = (struct ap_avail_fetch){.c = c,
                                     .key = *k,
                                     .day0 = need[i],
                                     .day1 = need[j - 1] + 1,
                                     .started = now,
                                     .next = c->inflight,
                                     .start_next = *to_start};
        c->inflight = f;
        *to_start = f;
        c->st.fetches++;
        if (w)
            attach(f, w);
        i = j;
    }
}

/* Starts the fetches fetch_runs() queued (lock not held). */
static void start_all(struct ap_avail_cache *c, struct ap_avail_fetch *f)
{
    while (f) {
        struct ap_avail_fetch *next = f->start_next;
        /* one more day: windows that start on the last day may end after it */
        enum ap_err err = c->o.fetch(c->o.fetch_ud, &f->key, f->day0 * AP_NS_PER_DAY,
                                     (f->day1 + 1) * AP_NS_PER_DAY, f);
        if (err)
            ap_avail_fetch_done(f, err, NULL, 0);
        f = next;
    }
}

/* Builds a finished waiter's answer and hands it over (lock not held). */
static void finish(struct ap_avail_cache *c, struct waiter *w)
{
    struct ap_avail_answer a = {0};

    if (w->err) {
        a.err = w->err;
        a.retry_after_s = w->retry_after_s;
    } else {
        pthread_mutex_lock(&c->mu);
        build(c, &w->key, w->from, w->to, &a);
        pthread_mutex_unlock(&c->mu);
    }
    w->got(w->ud, &a);
    free(w);
}

/* Drops the guard count get() holds while attaching. */
static void release(struct ap_avail_cache *c, struct waiter *w)
{
    bool done;

    pthread_mutex_lock(&c->mu);
    done = --w->pending == 0;
    pthread_mutex_unlock(&c->mu);
    if (done)
        finish(c, w);
}

bool ap_avail_cache_peek(struct ap_avail_cache *c, const struct ap_avail_key *k, int64_t from,
                         int64_t to, struct ap_avail_answer *out)
{
    struct ap_avail_fetch *start = NULL;
    int64_t d0, d1, now = ap_clock_mono_ns(), stale[SPAN_DAYS_MAX];
    size_t nstale = 0;
    bool ok = true;

    memset(out, 0, sizeof(*out));
    if (!span_days(from, to, &d0, &d1))
        return false;
    pthread_mutex_lock(&c->mu);
    for (int64_t d = d0; d < d1 && ok; d++) {
        struct entry *e = find(c, k, d);
        int u = usable(c, e, now, 0);

        if (u == 0 && e && now < e->fail_until) { /* a failure still held */
            out->err = e->fail_err;
            out->retry_after_s = e->retry_after_s;
            pthread_mutex_unlock(&c->mu);
            return true;
        }
        if (u == 0)
            ok = false;
        else if (u == 1 && !inflight_for(c, k, d, 0))
            stale[nstale++] = d;
        out->stale |= u == 1;
    }
    if (ok) {
        build(c, k, from, to, out);
        c->st.hits++;
        c->st.stale_hits += out->stale;
        fetch_runs(c, k, stale, nstale, now, NULL, &start);
    } else {
        memset(out, 0, sizeof(*out));
    }
    pthread_mutex_unlock(&c->mu);
    start_all(c, start);
    return ok;
}

void ap_avail_cache_get(struct ap_avail_cache *c, const struct ap_avail_key *k, int64_t from,
                        int64_t to, int64_t fresh_after, ap_avail_got_fn got, void *ud)
{
    struct ap_avail_answer a = {0};
    struct ap_avail_fetch *start = NULL;
    int64_t d0, d1, now = ap_clock_mono_ns(), need[SPAN_DAYS_MAX];
    size_t nneed = 0;
    struct waiter *w;

    if (fresh_after == 0 && ap_avail_cache_peek(c, k, from, to, &a)) {
        got(ud, &a);
        return;
    }
    if (!span_days(from, to, &d0, &d1)) {
        a.err = AP_EINVAL;
        got(ud, &a);
        return;
    }
    w = ap_xcalloc(1, sizeof(*w));
    *w = (struct waiter){*k, from, to, fresh_after, 1, AP_OK, 0, got, ud, NULL};
    pthread_mutex_lock(&c->mu);
    for (int64_t d = d0; d < d1; d++) {
        struct ap_avail_fetch *f;
        if (usable(c, find(c, k, d), now, fresh_after))
            continue;
        if ((f = inflight_for(c, k, d, fresh_after))) {
            attach(f, w);
            c->st.coalesced++;
        } else {
            need[nneed++] = d;
        }
    }
    c->st.misses++;
    fetch_runs(c, k, need, nneed, now, w, &start);
    pthread_mutex_unlock(&c->mu);
    start_all(c, start);
    release(c, w);
}

void ap_avail_cache_refresh(struct ap_avail_cache *c, const struct ap_avail_key *k, int64_t from,
                            int64_t to, int64_t fresh_after)
{
    struct ap_avail_fetch *start = NULL;
    int64_t d0, d1, now = ap_clock_mono_ns(), need[SPAN_DAYS_MAX];
    size_t nneed = 0;

    if (!span_days(from, to, &d0, &d1))
        return;
    pthread_mutex_lock(&c->mu);
    for (int64_t d = d0; d < d1; d++) {
        struct entry *e = find(c, k, d);
        if ((e && e->fetched && e->fetched >= fresh_after) || (e && now < e->fail_until) ||
            inflight_for(c, k, d, fresh_after))
            continue;
        need[nneed++] = d;
    }
    fetch_runs(c, k, need, nneed, now, NULL, &start);
    pthread_mutex_unlock(&c->mu);
    start_all(c, start);
}

/* Stores a successful answer into the fetch's days (lock held). */
static void store(struct ap_avail_cache *c, struct ap_avail_fetch *f, struct ap_avail_slot *v,
                  size_t n)
{
    size_t i = 0;

    for (int64_t d = f->day0; d < f->day1; d++) {
        struct entry *e = upsert(c, &f->key, d);
        size_t j;

        while (i < n && day_of(v[i].start) < d)
            i++;
        for (j = i; j < n && day_of(v[j].start) == d; j++)
            ;
        free(e->slots);
        e->slots = j > i ? ap_xmalloc((j - i) * sizeof(*v)) : NULL;
        if (j > i)
            memcpy(e->slots, &v[i], (j - i) * sizeof(*v));
        e->n = j - i;
        if (e->fetched <= f->started)
            e->fetched = f->started;
        e->fail_until = 0;
        i = j;
    }
}

/* Records a failure on the fetch's days (lock held); their data, if any, stays. */
static void store_failure(struct ap_avail_cache *c, struct ap_avail_fetch *f, enum ap_err err,
                          int retry_after_s)
{
    int64_t until = ap_clock_mono_ns() + c->o.fail_hold_ns;

    for (int64_t d = f->day0; d < f->day1; d++) {
        struct entry *e = upsert(c, &f->key, d);
        e->fail_until = until;
        e->fail_err = err;
        e->retry_after_s = retry_after_s;
    }
    c->st.fetch_errors++;
}

void ap_avail_fetch_done(struct ap_avail_fetch *f, enum ap_err err, json_t *answer,
                         int retry_after_s)
{
    struct ap_avail_cache *c = f->c;
    struct ap_avail_slot *v = NULL;
    struct waiter *ready = NULL;
    size_t n = 0;
    int mismatch = 0;

    if (!err)
        err = ap_avail_parse_capacity(answer, f->key.business_unit_id, c->o.tz, &v, &n, &mismatch);
    if (mismatch)
        ap_log_warn("avail.tz_mismatch",
                    "tenant=%lld business_unit=%lld rows=%d reason=\"start and startUtc disagree "
                    "in the scheduler's zone\"",
                    (long long)f->key.tenant_id, (long long)f->key.business_unit_id, mismatch);
    pthread_mutex_lock(&c->mu);
    for (struct ap_avail_fetch **pp = &c->inflight; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    c->st.tz_mismatches += mismatch;
    if (err)
        store_failure(c, f, err, retry_after_s);
    else
        store(c, f, v, n);
    while (f->waiters) {
        struct wref *r = f->waiters;
        struct waiter *w = r->w;
        f->waiters = r->next;
        free(r);
        if (err && !w->err) {
            w->err = err;
            w->retry_after_s = retry_after_s;
        }
        if (--w->pending == 0) {
            w->next_ready = ready;
            ready = w;
        }
    }
    pthread_mutex_unlock(&c->mu);
    free(v);
    free(f);
    while (ready) {
        struct waiter *w = ready;
        ready = w->next_ready;
        finish(c, w);
    }
}

int64_t ap_avail_cache_fetched_at(struct ap_avail_cache *c, const struct ap_avail_key *k,
                                  int64_t utc_start)
{
    struct entry *e;
    int64_t at;

    pthread_mutex_lock(&c->mu);
    e = find(c, k, day_of(utc_start));
    at = e ? e->fetched : 0;
    pthread_mutex_unlock(&c->mu);
    return at;
}

void ap_avail_cache_stats(struct ap_avail_cache *c, struct ap_avail_cache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    pthread_mutex_unlock(&c->mu);
}

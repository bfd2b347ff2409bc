/*
 * bsvc.c — the booking service's machinery: its life, the public scheduler
 * snapshots, the cache of opened connections, the holds ledger (rebuilt
 * from the store every few seconds, plus what this process just accepted)
 * and the capacity fetcher that feeds the availability cache from the titan
 * engine. The flows are bsvc_flow.c's. See bsvc.h.
 */
#include "app/bsvc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/catalog.h"
#include "app/fms_conn.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"
#include "titan/titan.h"

#define SCHED_RELOAD_NS (2 * AP_NS_PER_S)
#define CONN_RELOAD_NS  (60 * AP_NS_PER_S)
#define LEDGER_EVERY_NS (3 * AP_NS_PER_S)
#define SCHEDS_MAX      10000

int64_t ap_bsvc_real_of(int64_t mono)
{
    return ap_clock_real_ns() - (ap_clock_mono_ns() - mono);
}

void ap_bres_cleanup(struct ap_bres *r)
{
    if (!r)
        return;
    json_decref(r->body);
    r->body = NULL;
    free(r->text);
    r->text = NULL;
}

/* ---- scheduler snapshots -------------------------------------------------------------- */

void ap_bsched_put(struct ap_bsched *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        ap_sched_free(s->s);
        ap_catalog_free(s->cat);
        free(s);
    }
}

/* The account's tenant (0 when not connected). */
static int64_t tenant_of(struct ap_bsvc *b, int64_t account_id)
{
    struct ap_db_conn *c = ap_store_acquire(b->c.st, false);
    struct ap_db_val v = ap_db_int(account_id);
    int64_t t = 0;

    if (!c)
        return 0;
    if (ap_db_query_int(c,
                        "SELECT COALESCE(tenant_id, 0) FROM fms_connections WHERE account_id = ?",
                        &v, 1, &t) != AP_OK)
        t = 0;
    ap_store_release(c);
    return t;
}

/* The scheduler of key with its catalog, read from the store: AP_ENOTFOUND when there is none, or
 * the store's error. */
static enum ap_err load_sched(struct ap_bsvc *b, const char *key, struct ap_bsched **out)
{
    struct ap_sched *s = NULL;
    struct ap_bsched *bs;
    enum ap_err err;

    *out = NULL;
    if ((err = ap_sched_get(b->c.st, 0, key, &s)))
        return err;
    bs = ap_xcalloc(1, sizeof(*bs));
    bs->s = s;
    bs->cat = ap_catalog_load(b->c.st, s->account_id);
    bs->tenant_id = tenant_of(b, s->account_id);
    bs->loaded = ap_clock_mono_ns();
    atomic_store(&bs->refs, 1);
    if (!bs->cat) {
        ap_bsched_put(bs);
        return AP_EUNAVAIL;
    }
    /* the durations the catalog knows (the stored config does not keep them) */
    for (size_t i = 0; i < s->nservices; i++)
        s->services[i].duration_s = ap_catalog_job_duration_s(
            ap_catalog_find(bs->cat, AP_CAT_JOB_TYPE, s->services[i].job_type_id));
    *out = bs;
    return AP_OK;
}

/* Where key is (or would go) in b->scheds, kept ordered by key: every public request looks its
 * scheduler up, among thousands on a busy server. */
static size_t sched_pos(struct ap_bsvc *b, const char *key, bool *found)
{
    size_t lo = 0, hi = b->nscheds;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->scheds[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct bsched_slot *sched_slot(struct ap_bsvc *b, const char *key)
{
    bool found;
    size_t i = sched_pos(b, key, &found);
    return found ? &b->scheds[i] : NULL;
}

/* A new slot for key at its place (lock held). */
static struct bsched_slot *sched_insert(struct ap_bsvc *b, const char *key)
{
    bool found;
    size_t i = sched_pos(b, key, &found);

    b->scheds = ap_xrealloc(b->scheds, (b->nscheds + 1) * sizeof(*b->scheds));
    memmove(&b->scheds[i + 1], &b->scheds[i], (b->nscheds - i) * sizeof(*b->scheds));
    b->nscheds++;
    snprintf(b->scheds[i].key, sizeof(b->scheds[i].key), "%s", key);
    b->scheds[i].s = NULL;
    return &b->scheds[i];
}

enum ap_err ap_bsvc_sched(struct ap_bsvc *b, const char *key, struct ap_bsched **out)
{
    struct bsched_slot *slot;
    struct ap_bsched *fresh = NULL, *old = NULL;
    int64_t now = ap_clock_mono_ns();

    *out = NULL;
    if (!key || strncmp(key, "sch_", 4) != 0 || strlen(key) >= AP_SCHED_KEY_LEN)
        return AP_ENOTFOUND;
    pthread_mutex_lock(&b->mu);
    slot = sched_slot(b, key);
    if (slot && now - slot->s->loaded < SCHED_RELOAD_NS) {
        atomic_fetch_add(&slot->s->refs, 1);
        *out = slot->s;
    }
    pthread_mutex_unlock(&b->mu);
    if (!*out) {
        enum ap_err err = load_sched(b, key, &fresh); /* a quick read, outside the lock */
        pthread_mutex_lock(&b->mu);
        slot = sched_slot(b, key);
        if (fresh && !slot && b->nscheds < SCHEDS_MAX)
            slot = sched_insert(b, key);
        if (fresh && slot) {
            old = slot->s;
            slot->s = fresh;
            atomic_fetch_add(&fresh->refs, 1);
        } else if (err == AP_ENOTFOUND && slot) { /* deleted meanwhile */
            size_t i = (size_t)(slot - b->scheds);
            old = slot->s;
            memmove(slot, slot + 1, (b->nscheds - i - 1) * sizeof(*slot));
            b->nscheds--;
        } else if (err && slot) { /* the store is busy: the snapshot we have still serves */
            fresh = slot->s;
            atomic_fetch_add(&fresh->refs, 1);
        }
        pthread_mutex_unlock(&b->mu);
        ap_bsched_put(old);
        *out = fresh;
    }
    if (*out && (*out)->s->paused) {
        ap_bsched_put(*out);
        *out = NULL;
    }
    return *out ? AP_OK : AP_ENOTFOUND;
}

/* ---- connections --------------------------------------------------------------------- */

static struct conn_slot *conn_slot(struct ap_bsvc *b, int64_t account_id)
{
    for (size_t i = 0; i < b->nconns; i++)
        if (b->conns[i].account_id == account_id)
            return &b->conns[i];
    return NULL;
}

static void conn_wipe(struct conn_slot *s)
{
    if (s->secret)
        ap_crypto_wipe(s->secret, strlen(s->secret));
    free(s->secret);
    free(s->client_id);
    s->secret = s->client_id = NULL;
}

/* Copies the account's credentials (opened at most once a minute) into out, strings malloc'd. */
static enum ap_err creds_of(struct ap_bsvc *b, int64_t account_id, struct ap_titan_creds *out)
{
    struct ap_fms_conn fc;
    struct conn_slot *s;
    int64_t now = ap_clock_mono_ns();
    enum ap_err err = AP_OK;

    pthread_mutex_lock(&b->mu);
    s = conn_slot(b, account_id);
    if (!s || now - s->loaded >= CONN_RELOAD_NS) {
        pthread_mutex_unlock(&b->mu);
        if ((err = ap_fms_conn_open(b->c.fms, account_id, &fc)))
            return err;
        pthread_mutex_lock(&b->mu);
        if (!(s = conn_slot(b, account_id))) {
            b->conns = ap_xrealloc(b->conns, (b->nconns + 1) * sizeof(*b->conns));
            s = &b->conns[b->nconns++];
            memset(s, 0, sizeof(*s));
            s->account_id = account_id;
        }
        conn_wipe(s);
        s->tenant_id = fc.tenant_id;
        s->client_id = ap_xstrdup(fc.client_id);
        s->secret = ap_xstrdup(fc.secret);
        s->loaded = now;
        ap_fms_conn_cleanup(&fc);
    }
    *out = (struct ap_titan_creds){s->tenant_id, ap_xstrdup(s->client_id), ap_xstrdup(s->secret)};
    pthread_mutex_unlock(&b->mu);
    return err;
}

static void creds_free(struct ap_titan_creds *c)
{
    if (c->client_secret)
        ap_crypto_wipe((char *)c->client_secret, strlen(c->client_secret));
    free((char *)c->client_secret);
    free((char *)c->client_id);
}

/* ---- the capacity fetcher -------------------------------------------------------------- */

struct fetch_ctx {
    struct ap_bsvc *b;
    struct ap_avail_fetch *f;
    int64_t account_id;
};

static void fetched(void *ud, enum ap_err err, json_t *body, const struct ap_titan_error *e)
{
    struct fetch_ctx *x = ud;

    if (err) {
        ap_log_warn("avail.fetch_failed", "account=%lld status=%d err=%s", (long long)x->account_id,
                    e->status, ap_err_str(err));
        if (err == AP_EPERM) { /* open the connection again next time: it may have changed */
            pthread_mutex_lock(&x->b->mu);
            struct conn_slot *s = conn_slot(x->b, x->account_id);
            if (s)
                s->loaded = 0;
            pthread_mutex_unlock(&x->b->mu);
        }
    }
    ap_avail_fetch_done(x->f, err, body, e->retry_after_s);
    free(x);
}

static enum ap_err fetch(void *ud, const struct ap_avail_key *k, int64_t from, int64_t to,
                         struct ap_avail_fetch *f)
{
    struct ap_bsvc *b = ud;
    struct ap_titan_creds cr;
    char a[AP_TIME_BUF], z[AP_TIME_BUF];
    enum ap_err err;

    if ((err = creds_of(b, k->account_id, &cr)))
        return err == AP_ENOTFOUND ? AP_EPERM : err;
    ap_time_format(from, 0, a);
    ap_time_format(to, 0, z);
    json_t *body = json_pack("{s:s, s:s, s:[I], s:I, s:b}", "startsOnOrAfter", a, "endsOnOrBefore",
                             z, "businessUnitIds", (json_int_t)k->business_unit_id, "jobTypeId",
                             (json_int_t)k->job_type_id, "skillBasedAvailability", false);
    struct ap_titan_req req = {"POST", "dispatch", "/capacity", NULL, body};
    struct ap_titan_opts opts = {.deadline_ns = ap_clock_mono_ns() +
                                                (int64_t)b->c.fetch_timeout_ms * AP_NS_PER_MS,
                                 .repeatable = true};
    struct fetch_ctx *x = ap_xcalloc(1, sizeof(*x));

    *x = (struct fetch_ctx){b, f, k->account_id};
    err = ap_titan_call_async(b->c.t, &cr, &req, &opts, fetched, x);
    json_decref(body);
    creds_free(&cr);
    if (err)
        free(x);
    return err;
}

/* ---- the holds ledger ------------------------------------------------------------------ */

/*
 * A ledger table has 2 × nholds_buckets heads: the first half chains holds by window (tenant,
 * business unit, start: ServiceTitan capacity), the second by (scheduler, start: local capacity),
 * so that either lookup costs one chain.
 */
static size_t hold_bucket(const struct ap_bsvc *b, int64_t tenant, int64_t bu, int64_t start)
{
    uint64_t h = (uint64_t)tenant * 0x9e3779b97f4a7c15ULL ^ (uint64_t)bu * 0xbf58476d1ce4e5b9ULL ^
                 (uint64_t)(start / AP_NS_PER_S);
    return (size_t)(h ^ (h >> 31)) % b->nholds_buckets;
}

static size_t sched_bucket(const struct ap_bsvc *b, int64_t sched, int64_t start)
{
    uint64_t h = (uint64_t)sched * 0x94d049bb133111ebULL ^ (uint64_t)(start / AP_NS_PER_S);
    return b->nholds_buckets + (size_t)(h ^ (h >> 31)) % b->nholds_buckets;
}

static struct hold *hold_get(struct ap_bsvc *b, struct hold **tab, int64_t tenant, int64_t bu,
                             int64_t sched, int64_t start)
{
    struct hold **bucket = &tab[hold_bucket(b, tenant, bu, start)];
    struct hold **sbucket = &tab[sched_bucket(b, sched, start)];
    struct hold *h;

    for (h = *bucket; h; h = h->next)
        if (h->start == start && h->tenant_id == tenant && h->bu == bu && h->scheduler_id == sched)
            return h;
    h = ap_xcalloc(1, sizeof(*h));
    *h = (struct hold){.tenant_id = tenant,
                       .bu = bu,
                       .start = start,
                       .scheduler_id = sched,
                       .next = *bucket,
                       .snext = *sbucket};
    *bucket = h;
    *sbucket = h;
    return h;
}

static struct hold **holds_new(struct ap_bsvc *b)
{
    return ap_xcalloc(2 * b->nholds_buckets, sizeof(struct hold *));
}

/* Frees a table of n buckets a side (each hold is on both sides: freed from the first). */
static void holds_free(struct hold **tab, size_t n)
{
    for (size_t i = 0; tab && i < n; i++)
        while (tab[i]) {
            struct hold *h = tab[i];
            tab[i] = h->next;
            free(h);
        }
    free(tab);
}

int64_t ap_bsvc_held(struct ap_bsvc *b, int64_t tenant, int64_t bu, int64_t start,
                     int64_t fetched_real)
{
    int64_t sum = 0;

    pthread_mutex_lock(&b->mu);
    for (struct hold *h = b->holds[hold_bucket(b, tenant, bu, start)]; h; h = h->next) {
        if (h->start != start || h->tenant_id != tenant || h->bu != bu)
            continue;
        sum += h->unpushed;
        for (int i = 0; i < h->npushed; i++)
            if (h->pushed_at[i] > fetched_real)
                sum += h->pushed_s[i];
    }
    pthread_mutex_unlock(&b->mu);
    return sum;
}

int64_t ap_bsvc_count(struct ap_bsvc *b, int64_t scheduler_id, int64_t start)
{
    int64_t n = 0;

    pthread_mutex_lock(&b->mu);
    for (struct hold *h = b->holds[sched_bucket(b, scheduler_id, start)]; h; h = h->snext)
        if (h->start == start && h->scheduler_id == scheduler_id)
            n += h->count;
    pthread_mutex_unlock(&b->mu);
    return n;
}

void ap_bsvc_hold_add(struct ap_bsvc *b, int64_t tenant, int64_t bu, int64_t scheduler_id,
                      int64_t start, int64_t seconds)
{
    pthread_mutex_lock(&b->mu);
    struct hold *h = hold_get(b, b->holds, tenant, bu, scheduler_id, start);
    h->unpushed += seconds;
    h->count++;
    pthread_mutex_unlock(&b->mu);
}

/* What the ledger reads every few seconds: bookings not pushed yet, those pushed lately, and
 * those whose window is still ahead. Each term of the OR has an index (migration 8), so the read
 * follows those bookings, not every booking ever taken. */
const char ap_bsvc_ledger_sql[] =
    "SELECT tenant_id, business_unit_id, scheduler_id, window_start, hold, state, "
    "COALESCE(pushed_at, 0) FROM bookings WHERE state IN ('accepted', 'pushing', 'parked') OR "
    "(state = 'booked' AND pushed_at > ?) OR (state <> 'canceled' AND window_start > ?)";

/* Reads every hold that matters now from the store into a new table. */
static struct hold **ledger_read(struct ap_bsvc *b)
{
    struct ap_db_conn *c = ap_store_acquire(b->c.st, false);
    int64_t since = ap_clock_real_ns() - (int64_t)b->c.avail_max_stale_s * AP_NS_PER_S;
    struct ap_db_val v[2] = {ap_db_int(since), ap_db_int(ap_clock_real_ns() - AP_NS_PER_DAY)};
    struct hold **tab;
    struct ap_db_rows *r;

    if (!c)
        return NULL;
    tab = holds_new(b);
    if (ap_db_query(c, ap_bsvc_ledger_sql, v, 2, &r) == AP_OK) {
        while (ap_db_next(r)) {
            const char *state = ap_db_row_text(r, 5);
            struct hold *h = hold_get(b, tab, ap_db_row_int(r, 0), ap_db_row_int(r, 1),
                                      ap_db_row_int(r, 2), ap_db_row_int(r, 3));
            bool unpushed =
                !strcmp(state, "accepted") || !strcmp(state, "pushing") || !strcmp(state, "parked");
            if (strcmp(state, "canceled") != 0)
                h->count++;
            if (unpushed)
                h->unpushed += ap_db_row_int(r, 4);
            else if (!strcmp(state, "booked") && ap_db_row_int(r, 6) > since &&
                     h->npushed < (int)AP_COUNTOF(h->pushed_s)) {
                h->pushed_s[h->npushed] = ap_db_row_int(r, 4);
                h->pushed_at[h->npushed++] = ap_db_row_int(r, 6);
            }
        }
        ap_db_done(r);
    }
    ap_store_release(c);
    return tab;
}

static void *ledger_thread(void *arg)
{
    struct ap_bsvc *b = arg;

    pthread_mutex_lock(&b->mu);
    while (!b->stopping) {
        struct timespec ts;
        pthread_mutex_unlock(&b->mu);
        struct hold **fresh = ledger_read(b);
        pthread_mutex_lock(&b->mu);
        if (fresh) {
            struct hold **old = b->holds;
            b->holds = fresh;
            pthread_mutex_unlock(&b->mu);
            holds_free(old, b->nholds_buckets);
            pthread_mutex_lock(&b->mu);
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += LEDGER_EVERY_NS / AP_NS_PER_S;
        if (!b->stopping)
            pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* ---- zones ---------------------------------------------------------------------------------- */

#define TZ_WARN_EVERY_NS (600 * AP_NS_PER_S)

void ap_bsvc_tz_mismatch(struct ap_bsvc *b, const struct ap_sched *s, int n)
{
    int64_t now = ap_clock_mono_ns();
    struct tz_warned *w = NULL;
    bool say = false;

    atomic_fetch_add(&b->n_tz_mismatch, (uint64_t)n);
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < b->ntz_warned && !w; i++)
        if (b->tz_warned[i].scheduler_id == s->id)
            w = &b->tz_warned[i];
    if (!w && b->ntz_warned < SCHEDS_MAX) {
        b->tz_warned = ap_xrealloc(b->tz_warned, (b->ntz_warned + 1) * sizeof(*b->tz_warned));
        w = &b->tz_warned[b->ntz_warned++];
        *w = (struct tz_warned){s->id, 0};
    }
    if (w && (w->at == 0 || now - w->at >= TZ_WARN_EVERY_NS)) {
        w->at = now;
        say = true;
    }
    pthread_mutex_unlock(&b->mu);
    if (say)
        ap_log_warn("avail.tz_mismatch",
                    "scheduler=%s account=%lld zone=%s windows=%d reason=\"ServiceTitan's wall "
                    "times are at another UTC offset than the scheduler's zone: windows are shown "
                    "from startUtc; check the scheduler's timeZone\"",
                    s->key, (long long)s->account_id, s->time_zone, n);
}

/* ---- life ---------------------------------------------------------------------------------- */

struct ap_bsvc *ap_bsvc_new(const struct ap_bsvc_config *c)
{
    struct ap_bsvc *b = ap_xcalloc(1, sizeof(*b));

    b->c = *c;
    if (b->c.avail_ttl_s <= 0)
        b->c.avail_ttl_s = 60;
    if (b->c.avail_max_stale_s <= 0)
        b->c.avail_max_stale_s = 900;
    if (b->c.recheck_max_age_s < 0)
        b->c.recheck_max_age_s = 5;
    if (b->c.fetch_timeout_ms <= 0)
        b->c.fetch_timeout_ms = 10000;
    struct ap_avail_cache_opts o = {
        .ttl_ns = (int64_t)b->c.avail_ttl_s * AP_NS_PER_S,
        .max_stale_ns = (int64_t)b->c.avail_max_stale_s * AP_NS_PER_S,
        .fetch = fetch,
        .fetch_ud = b,
    };
    b->cache = ap_avail_cache_new(&o);
    b->nholds_buckets = 4096;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->holds = ledger_read(b);
    if (!b->holds)
        b->holds = holds_new(b);
    if (pthread_create(&b->ledger, NULL, ledger_thread, b) != 0) {
        ap_bsvc_free(b);
        return NULL;
    }
    b->ledger_started = true;
    return b;
}

void ap_bsvc_free(struct ap_bsvc *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    bool running = b->ledger_started;
    b->stopping = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    if (running)
        pthread_join(b->ledger, NULL);
    ap_avail_cache_free(b->cache);
    for (size_t i = 0; i < b->nscheds; i++)
        ap_bsched_put(b->scheds[i].s);
    for (size_t i = 0; i < b->nconns; i++)
        conn_wipe(&b->conns[i]);
    free(b->scheds);
    free(b->conns);
    free(b->tz_warned);
    holds_free(b->holds, b->nholds_buckets);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

void ap_bsvc_stats(struct ap_bsvc *b, struct ap_bsvc_stats *out)
{
    out->avail_answers = atomic_load(&b->n_answers);
    out->avail_stale = atomic_load(&b->n_stale);
    out->bookings_created = atomic_load(&b->n_created);
    out->bookings_replayed = atomic_load(&b->n_replayed);
    out->windows_taken = atomic_load(&b->n_taken);
    out->tz_mismatches = atomic_load(&b->n_tz_mismatch);
}

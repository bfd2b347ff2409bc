/*
 * throttle.c — the bounded attempt table of throttle.h: sets of SET_WAYS
 * entries under one mutex, keyed by a truncated HMAC-SHA256 of the key text
 * under a random per-table key, cost-ordered eviction that never gives up a
 * penalised entry, and one shared overflow bucket per budget for keys that
 * find their set full of penalised entries.
 */
#include "app/throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"

#define SET_WAYS        16
#define OVERFLOW_FACTOR 10 /* an overflow bucket's budget, in budgets of its keys */
#define OVERFLOW_MAX    8  /* distinct budgets with an overflow bucket */
#define WARN_EVERY_NS   (60 * AP_NS_PER_S)

struct entry {
    uint8_t id[16];
    bool used;
    bool busy;       /* being charged by the current take(): not to be evicted by it */
    int32_t n;       /* attempts charged and not refunded */
    int32_t budget;  /* of the key that made it */
    int64_t last_ns; /* last charge (monotonic) */
    int64_t next_ns; /* with n >= budget: no attempt before this */
};

struct overflow {
    int budget; /* of the keys it takes; 0 when unused */
    struct entry e;
};

struct ap_throttle {
    pthread_mutex_t mu;
    struct ap_throttle_config cfg;
    uint8_t hkey[32];
    size_t nsets;
    struct entry *ents; /* nsets * SET_WAYS */
    struct overflow over[OVERFLOW_MAX];
    uint64_t evicted, overflowed;
    int64_t warned_ns;
};

struct ap_throttle *ap_throttle_new(const struct ap_throttle_config *cfg)
{
    struct ap_throttle *t = ap_xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    t->cfg = *cfg;
    t->nsets = (cfg->entries + SET_WAYS - 1) / SET_WAYS;
    if (t->nsets == 0)
        t->nsets = 1;
    t->ents = ap_xcalloc(t->nsets * SET_WAYS, sizeof(*t->ents));
    ap_crypto_random(t->hkey, sizeof(t->hkey));
    return t;
}

void ap_throttle_free(struct ap_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->ents);
    free(t);
}

static void key_id(const struct ap_throttle *t, struct ap_throttle_key *k)
{
    uint8_t mac[AP_CRYPTO_HMAC_LEN];
    k->text[sizeof(k->text) - 1] = '\0';
    ap_crypto_hmac_sha256(t->hkey, sizeof(t->hkey), k->text, strlen(k->text), mac);
    memcpy(k->id, mac, sizeof(k->id));
}

static struct entry *set_of(const struct ap_throttle *t, const uint8_t id[16])
{
    uint64_t h;
    memcpy(&h, id, sizeof(h));
    return &t->ents[(h % t->nsets) * SET_WAYS];
}

static bool expired(const struct ap_throttle *t, const struct entry *e, int64_t now)
{
    int64_t quiet = e->last_ns > e->next_ns ? e->last_ns : e->next_ns;
    return now - quiet >= t->cfg.forget_ns;
}

static bool penalised(const struct entry *e)
{
    return e->n >= e->budget;
}

/* The live entry of id, or NULL; forgets expired entries of the set on the way. */
static struct entry *find(struct ap_throttle *t, const uint8_t id[16], int64_t now)
{
    struct entry *set = set_of(t, id);
    for (int i = 0; i < SET_WAYS; i++) {
        struct entry *e = &set[i];
        if (e->used && !e->busy && expired(t, e, now))
            e->used = false;
        if (e->used && memcmp(e->id, id, 16) == 0)
            return e;
    }
    return NULL;
}

/* The overflow bucket of budget (made when create), whole again once it has been quiet. */
static struct overflow *overflow_of(struct ap_throttle *t, int budget, bool create)
{
    for (int i = 0; i < OVERFLOW_MAX; i++) {
        struct overflow *o = &t->over[i];
        if (o->budget == budget) {
            if (expired(t, &o->e, ap_clock_mono_ns()))
                o->e.n = 0, o->e.next_ns = 0;
            return o;
        }
        if (o->budget == 0 && create) {
            o->budget = budget;
            o->e = (struct entry){.used = true, .budget = budget * OVERFLOW_FACTOR};
            return o;
        }
    }
    return create ? &t->over[OVERFLOW_MAX - 1] : NULL; /* more budgets than buckets: share */
}

/*
 * A place for a new key in its set: a free entry, else the cheapest that is
 * not penalised (fewest attempts, then least recent). NULL when every entry
 * of the set is penalised.
 */
static struct entry *place(struct ap_throttle *t, const uint8_t id[16])
{
    struct entry *set = set_of(t, id), *best = NULL;
    for (int i = 0; i < SET_WAYS; i++) {
        struct entry *e = &set[i];
        if (!e->used)
            return e;
        if (penalised(e) || e->busy)
            continue;
        if (!best || e->n < best->n || (e->n == best->n && e->last_ns < best->last_ns))
            best = e;
    }
    return best;
}

static int64_t backoff(const struct ap_throttle *t, int32_t over)
{
    int64_t d = t->cfg.base_ns;
    for (int32_t i = 0; i < over && d < t->cfg.cap_ns; i++)
        d *= 2;
    return d < t->cfg.cap_ns ? d : t->cfg.cap_ns;
}

/* How long e must wait before its next attempt (0: now). */
static int64_t wait_of(const struct entry *e, int64_t now)
{
    if (!penalised(e) || now >= e->next_ns)
        return 0;
    return e->next_ns - now;
}

static void charge(struct ap_throttle *t, struct entry *e, int64_t now)
{
    e->n++;
    e->last_ns = now;
    if (penalised(e))
        e->next_ns = now + backoff(t, e->n - e->budget);
}

/* The entry a new key is charged to: its own, a new one, or its overflow bucket. */
static struct entry *entry_for(struct ap_throttle *t, struct ap_throttle_key *k, int64_t now,
                               bool create)
{
    k->overflowed = false;
    struct entry *e = find(t, k->id, now);
    if (e || !create)
        return e;
    e = place(t, k->id);
    if (e) {
        t->evicted += e->used;
        /* last_ns now: a new entry is live from the start, not "quiet since 0" */
        *e = (struct entry){.used = true, .budget = k->budget, .last_ns = now};
        memcpy(e->id, k->id, 16);
        return e;
    }
    k->overflowed = true;
    t->overflowed++;
    if (now - t->warned_ns >= WARN_EVERY_NS || t->warned_ns == 0) {
        t->warned_ns = now;
        ap_log_warn("throttle.overflow",
                    "budget=%d entries=%zu hint=\"a set of the attempt "
                    "table is full of penalised keys; new keys share one "
                    "bucket (raise login-throttle-entries?)\"",
                    k->budget, t->nsets * SET_WAYS);
    }
    return &overflow_of(t, k->budget, true)->e;
}

/*
 * Charges every key (lock held). Keys already known are marked first, so
 * that placing a new key of the same call never evicts one of them.
 */
static void charge_all(struct ap_throttle *t, struct ap_throttle_key *keys, size_t n, int64_t now)
{
    struct entry *es[AP_THROTTLE_TAKE_MAX];
    for (size_t i = 0; i < n; i++) {
        keys[i].overflowed = false;
        if ((es[i] = find(t, keys[i].id, now)) != NULL)
            es[i]->busy = true;
    }
    for (size_t i = 0; i < n; i++) {
        if (!es[i] && !(es[i] = entry_for(t, &keys[i], now, true))->busy && !keys[i].overflowed)
            es[i]->busy = true;
    }
    for (size_t i = 0; i < n; i++)
        charge(t, es[i], now);
    for (size_t i = 0; i < n; i++)
        es[i]->busy = false;
}

bool ap_throttle_take(struct ap_throttle *t, struct ap_throttle_key *keys, size_t n,
                      int64_t *retry_ns)
{
    if (n > AP_THROTTLE_TAKE_MAX) {
        ap_log_error("throttle.too_many_keys", "n=%zu max=%d", n, AP_THROTTLE_TAKE_MAX);
        abort(); /* a caller's bug */
    }
    int64_t now = ap_clock_mono_ns(), wait = 0;
    for (size_t i = 0; i < n; i++) {
        if (keys[i].budget < 1)
            keys[i].budget = 1;
        key_id(t, &keys[i]);
    }
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < n; i++) {
        struct entry *e = entry_for(t, &keys[i], now, false);
        if (!e && place(t, keys[i].id) == NULL)
            e = &overflow_of(t, keys[i].budget, true)->e; /* where it would go */
        int64_t w = e ? wait_of(e, now) : 0;
        wait = w > wait ? w : wait;
    }
    if (wait == 0)
        charge_all(t, keys, n, now);
    pthread_mutex_unlock(&t->mu);
    if (retry_ns)
        *retry_ns = wait;
    return wait == 0;
}

void ap_throttle_settle(struct ap_throttle *t, const struct ap_throttle_key *key,
                        enum ap_throttle_outcome how)
{
    if (how == AP_THROTTLE_KEEP)
        return;
    pthread_mutex_lock(&t->mu);
    struct overflow *o = key->overflowed ? overflow_of(t, key->budget, false) : NULL;
    struct entry *e = o ? &o->e : key->overflowed ? NULL : find(t, key->id, ap_clock_mono_ns());
    if (e && how == AP_THROTTLE_CLEAR && !o) {
        e->used = false;
    } else if (e && e->n > 0) {
        /* a refund, or a clear of a shared bucket: only this attempt goes */
        e->n--;
        if (!penalised(e))
            e->next_ns = 0;
    }
    pthread_mutex_unlock(&t->mu);
}

void ap_throttle_stats(struct ap_throttle *t, struct ap_throttle_stats *out)
{
    int64_t now = ap_clock_mono_ns();
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&t->mu);
    out->entries = t->nsets * SET_WAYS;
    for (size_t i = 0; i < out->entries; i++) {
        const struct entry *e = &t->ents[i];
        if (!e->used || expired(t, e, now))
            continue;
        out->used++;
        out->penalised += penalised(e);
    }
    out->evicted = t->evicted;
    out->overflow = t->overflowed;
    pthread_mutex_unlock(&t->mu);
}

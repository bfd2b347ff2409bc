/*
 * limiter.c — the client-side rate limit per (app, tenant): one token bucket
 * per tenant (the app is the one of this struct ap_titan), shared by every
 * thread. ServiceTitan allows 60 requests/s per app per tenant; a bucket of
 * rate r with burst b lets at most b + r requests through in any one-second
 * window, so the burst is kept to a tenth of a second's worth (default 50/s
 * and burst 5: at most 55 in any second, with room for network jitter).
 *
 * The bucket is in GCRA form (a theoretical arrival time): a call reserves
 * its slot and the engine sets a timer for the slot's time, so waiting calls
 * are served in order, never spin and hold no thread. A call whose slot would
 * come after its deadline reserves nothing (it ends at once).
 */
#include <stdlib.h>

#include "core/mem.h"
#include "titan/titan_int.h"

struct ap_titan_lim {
    struct ap_titan_lim *next;
    int64_t tenant_id;
    int share_gen; /* of the share its rate was set for */
    struct ap_titan_limiter l;
};

/* While the share's window is shut, how often a waiting call looks again. */
#define SHARE_RECHECK_NS (50 * 1000 * 1000LL)

int ap_titan_burst_for(double rate)
{
    int b = (int)(rate / 10);
    return b < 1 ? 1 : b;
}

void ap_titan_limiter_init(struct ap_titan_limiter *l, double rate, int burst)
{
    pthread_mutex_init(&l->mu, NULL);
    if (rate < 0.001)
        rate = 0.001;
    if (burst < 1)
        burst = 1;
    l->interval_ns = (int64_t)(1e9 / rate);
    if (l->interval_ns < 1)
        l->interval_ns = 1;
    l->tolerance_ns = (int64_t)(burst - 1) * l->interval_ns;
    l->tat_ns = INT64_MIN / 2;
}

void ap_titan_limiter_cleanup(struct ap_titan_limiter *l)
{
    if (l)
        pthread_mutex_destroy(&l->mu);
}

bool ap_titan_limiter_reserve_by(struct ap_titan_limiter *l, int64_t now_ns, int64_t latest_ns,
                                 int64_t *at)
{
    int64_t tat;
    bool ok;

    pthread_mutex_lock(&l->mu);
    tat = l->tat_ns < now_ns ? now_ns : l->tat_ns;
    *at = tat - l->tolerance_ns;
    if (*at < now_ns)
        *at = now_ns;
    if ((ok = *at <= latest_ns))
        l->tat_ns = tat + l->interval_ns;
    pthread_mutex_unlock(&l->mu);
    return ok;
}

int64_t ap_titan_limiter_reserve(struct ap_titan_limiter *l, int64_t now_ns)
{
    int64_t at;

    ap_titan_limiter_reserve_by(l, now_ns, INT64_MAX, &at);
    return at;
}

static struct ap_titan_lim *limiter_of(struct ap_titan *t, int64_t tenant_id)
{
    struct ap_titan_lim *x;

    for (x = t->limiters; x && x->tenant_id != tenant_id; x = x->next)
        ;
    if (!x) {
        x = ap_xcalloc(1, sizeof(*x));
        x->tenant_id = tenant_id;
        ap_titan_limiter_init(&x->l, t->cfg.rate_limit, t->burst);
        x->next = t->limiters;
        t->limiters = x;
    }
    return x;
}

/* Sets l's rate to 1/n of the configured one (and of its burst); the bucket's arrival time
 * stays, so a lowered rate takes effect from the next slot. */
static void limiter_share(struct ap_titan *t, struct ap_titan_limiter *l, int n)
{
    double rate = t->cfg.rate_limit / n;
    int burst = t->burst / n;

    pthread_mutex_lock(&l->mu);
    if (rate < 0.001)
        rate = 0.001;
    l->interval_ns = (int64_t)(1e9 / rate);
    if (l->interval_ns < 1)
        l->interval_ns = 1;
    l->tolerance_ns = (int64_t)((burst < 1 ? 1 : burst) - 1) * l->interval_ns;
    pthread_mutex_unlock(&l->mu);
}

void ap_titan_set_rate_share(struct ap_titan *t, int n, int64_t from_ns, int64_t until_ns)
{
    pthread_mutex_lock(&t->share_mu);
    if (n < 1)
        n = 1;
    if (n != t->share_n)
        t->share_gen++;
    t->share_n = n;
    t->share_from_ns = from_ns;
    t->share_until_ns = until_ns;
    pthread_mutex_unlock(&t->share_mu);
}

bool ap_titan_limit(struct ap_titan *t, int64_t tenant_id, int64_t now_ns, int64_t latest_ns,
                    int64_t *at, bool *again)
{
    struct ap_titan_lim *x;
    int n, gen;
    int64_t from, until;

    pthread_mutex_lock(&t->share_mu);
    n = t->share_n;
    gen = t->share_gen;
    from = t->share_from_ns;
    until = t->share_until_ns;
    pthread_mutex_unlock(&t->share_mu);
    *again = now_ns < from || now_ns >= until;
    if (*again) {
        *at = now_ns < from ? from : now_ns + SHARE_RECHECK_NS;
        return *at <= latest_ns;
    }
    x = limiter_of(t, tenant_id);
    if (x->share_gen != gen) {
        limiter_share(t, &x->l, n);
        x->share_gen = gen;
    }
    return ap_titan_limiter_reserve_by(&x->l, now_ns, latest_ns, at);
}

void ap_titan_limiters_free(struct ap_titan *t)
{
    struct ap_titan_lim *x, *next;

    for (x = t->limiters; x; x = next) {
        next = x->next;
        ap_titan_limiter_cleanup(&x->l);
        free(x);
    }
    t->limiters = NULL;
}

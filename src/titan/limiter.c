/*
 * limiter.c — the client-side rate limit per (app, tenant): one token bucket
 * per tenant (the app is the one of this struct ap_titan), shared by every
 * thread. ServiceTitan allows 60 requests/s per app per tenant; a bucket of
 * rate r with burst b lets at most b + r requests through in any one-second
 * window, so the burst is kept to a tenth of a second's worth (default 50/s
 * and burst 5: at most 55 in any second, with room for network jitter).
 *
 * The bucket is in GCRA form (a theoretical arrival time): a caller reserves
 * its slot under the bucket's mutex and then sleeps outside it until the
 * slot's time, so waiting callers are served in order and never spin.
 */
#include <stdlib.h>

#include "core/clock.h"
#include "core/mem.h"
#include "titan/titan_int.h"

struct ap_titan_lim {
    struct ap_titan_lim *next;
    int64_t tenant_id;
    struct ap_titan_limiter l;
};

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

int64_t ap_titan_limiter_reserve(struct ap_titan_limiter *l, int64_t now_ns)
{
    int64_t at;

    pthread_mutex_lock(&l->mu);
    if (l->tat_ns < now_ns)
        l->tat_ns = now_ns;
    at = l->tat_ns - l->tolerance_ns;
    if (at < now_ns)
        at = now_ns;
    l->tat_ns += l->interval_ns;
    pthread_mutex_unlock(&l->mu);
    return at;
}

static struct ap_titan_limiter *limiter_of(struct ap_titan *t, int64_t tenant_id)
{
    struct ap_titan_lim *x;

    pthread_mutex_lock(&t->mu);
    for (x = t->limiters; x && x->tenant_id != tenant_id; x = x->next)
        ;
    if (!x) {
        x = ap_xcalloc(1, sizeof(*x));
        x->tenant_id = tenant_id;
        ap_titan_limiter_init(&x->l, t->cfg.rate_limit, t->burst);
        x->next = t->limiters;
        t->limiters = x;
    }
    pthread_mutex_unlock(&t->mu);
    return &x->l;
}

void ap_titan_limit(struct ap_titan *t, int64_t tenant_id)
{
    struct ap_titan_limiter *l = limiter_of(t, tenant_id);
    int64_t now = ap_clock_mono_ns(), at = ap_titan_limiter_reserve(l, now);

    if (at > now) {
        atomic_fetch_add(&t->n_waits, 1);
        ap_titan_sleep(t, at - now);
    }
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

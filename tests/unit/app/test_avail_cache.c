/*
 * test_avail_cache.c — the capacity cache with a fake fetcher and the fake
 * clock: single flight (64 cold requests, one fetch), fresh, stale with a
 * background refresh, expired, failures held briefly and reported with
 * Retry-After, the re-check that bypasses the cache, chunks of at most 14
 * days, the memory bound, and a fetcher that refuses at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/avail_cache.h"
#include "core/clock.h"
#include "core/datetime.h"
#include "core/defs.h"

#define S   AP_NS_PER_S
#define DAY AP_NS_PER_DAY

struct fake {
    struct ap_avail_fetch *f[64];
    int64_t from[64], to[64];
    int n;
    enum ap_err refuse; /* returned by the fetcher when set */
};

static enum ap_err fake_fetch(void *ud, const struct ap_avail_key *k, int64_t from, int64_t to,
                              struct ap_avail_fetch *f)
{
    struct fake *fk = ud;
    if (fk->refuse)
        return fk->refuse;
    assert_true(fk->n < 64);
    fk->f[fk->n] = f;
    fk->from[fk->n] = from;
    fk->to[fk->n] = to;
    fk->n++;
    return AP_OK;
}

/* An answer with one 2-hour window at 14:00Z every day of [from, to), open = hours. */
static json_t *answer(int64_t from, int64_t to, double open)
{
    json_t *rows = json_array();
    char a[AP_TIME_BUF], b[AP_TIME_BUF];
    for (int64_t d = from; d < to; d += DAY) {
        ap_time_format(d + 14 * 3600 * S, 0, a);
        ap_time_format(d + 16 * 3600 * S, 0, b);
        json_array_append_new(rows, json_pack("{s:s, s:s, s:[i], s:f, s:b}", "startUtc", a,
                                              "endUtc", b, "businessUnitIds", 1, "openAvailability",
                                              open, "isAvailable", 1));
    }
    return json_pack("{s:o}", "availabilities", rows);
}

static void complete(struct fake *fk, int i, double open)
{
    json_t *a = answer(fk->from[i], fk->to[i], open);
    ap_avail_fetch_done(fk->f[i], AP_OK, a, 0);
    json_decref(a);
}

struct got {
    int calls;
    struct ap_avail_answer last;
};

static void on_got(void *ud, struct ap_avail_answer *a)
{
    struct got *g = ud;
    g->calls++;
    ap_avail_answer_cleanup(&g->last);
    g->last = *a;
}

static const struct ap_avail_key K = {1234567, 1, 10};
static const int64_t D0 = 20500 * DAY; /* some day in 2026 */

static struct ap_avail_cache *mk(struct fake *fk, size_t max_entries)
{
    struct ap_avail_cache_opts o = {.ttl_ns = 60 * S,
                                    .max_stale_ns = 900 * S,
                                    .fail_hold_ns = 2 * S,
                                    .max_entries = max_entries,
                                    .fetch = fake_fetch,
                                    .fetch_ud = fk};
    ap_clock_fake_begin(D0, 1000 * S);
    return ap_avail_cache_new(&o);
}

static void done(struct ap_avail_cache *c, struct got *g, int n)
{
    for (int i = 0; i < n; i++)
        ap_avail_answer_cleanup(&g[i].last);
    ap_avail_cache_free(c);
    ap_clock_fake_end();
}

static void test_single_flight(void **state)
{
    struct fake fk = {0};
    struct ap_avail_cache *c = mk(&fk, 0);
    struct got g[64] = {0};
    struct ap_avail_answer now;

    assert_false(ap_avail_cache_peek(c, &K, D0, D0 + 7 * DAY, &now)); /* cold: nothing */
    assert_int_equal(fk.n, 0);
    for (int i = 0; i < 64; i++)
        ap_avail_cache_get(c, &K, D0, D0 + 7 * DAY, 0, on_got, &g[i]);
    assert_int_equal(fk.n, 1); /* one call however many ask */
    assert_true(fk.from[0] == D0 && fk.to[0] == D0 + 8 * DAY);
    for (int i = 0; i < 64; i++)
        assert_int_equal(g[i].calls, 0);
    complete(&fk, 0, 4.0);
    for (int i = 0; i < 64; i++) {
        assert_int_equal(g[i].calls, 1);
        assert_int_equal(g[i].last.err, AP_OK);
        assert_int_equal(g[i].last.n, 7);
        assert_false(g[i].last.stale);
    }
    /* warm: answered at once, no call */
    assert_true(ap_avail_cache_peek(c, &K, D0 + DAY, D0 + 3 * DAY, &now));
    assert_int_equal(now.n, 2);
    ap_avail_answer_cleanup(&now);
    assert_int_equal(fk.n, 1);
    done(c, g, 64);
}

static void test_stale_then_expired(void **state)
{
    struct fake fk = {0};
    struct ap_avail_cache *c = mk(&fk, 0);
    struct got g = {0};
    struct ap_avail_answer now;

    ap_avail_cache_get(c, &K, D0, D0 + DAY, 0, on_got, &g);
    complete(&fk, 0, 4.0);
    ap_clock_fake_advance(61 * S); /* past the TTL: stale, served, refreshed in the background */
    assert_true(ap_avail_cache_peek(c, &K, D0, D0 + DAY, &now));
    assert_true(now.stale);
    assert_int_equal(now.n, 1);
    ap_avail_answer_cleanup(&now);
    assert_int_equal(fk.n, 2);
    assert_true(ap_avail_cache_peek(c, &K, D0, D0 + DAY, &now)); /* no second refresh */
    ap_avail_answer_cleanup(&now);
    assert_int_equal(fk.n, 2);
    /* the refresh fails: the stale data still answers */
    ap_avail_fetch_done(fk.f[1], AP_EUNAVAIL, NULL, 5);
    assert_true(ap_avail_cache_peek(c, &K, D0, D0 + DAY, &now));
    assert_int_equal(now.err, AP_OK);
    assert_true(now.stale);
    ap_avail_answer_cleanup(&now);
    /* past the staleness bound: a request must wait for ServiceTitan */
    ap_clock_fake_advance(900 * S);
    assert_false(ap_avail_cache_peek(c, &K, D0, D0 + DAY, &now));
    ap_avail_cache_get(c, &K, D0, D0 + DAY, 0, on_got, &g);
    assert_int_equal(g.calls, 1);
    assert_int_equal(fk.n, 3);
    complete(&fk, 2, 1.0);
    assert_int_equal(g.calls, 2);
    assert_true(g.last.n == 1 && g.last.slots[0].open == 1.0 && !g.last.stale);
    done(c, &g, 1);
}

static void test_failure_held_with_retry_after(void **state)
{
    struct fake fk = {0};
    struct ap_avail_cache *c = mk(&fk, 0);
    struct got g = {0};
    struct ap_avail_answer now;

    ap_avail_cache_get(c, &K, D0, D0 + DAY, 0, on_got, &g);
    ap_avail_fetch_done(fk.f[0], AP_EUNAVAIL, NULL, 7);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.last.err, AP_EUNAVAIL);
    assert_int_equal(g.last.retry_after_s, 7);
    /* held: the next request is answered at once with the same error, no call */
    assert_true(ap_avail_cache_peek(c, &K, D0, D0 + DAY, &now));
    assert_int_equal(now.err, AP_EUNAVAIL);
    assert_int_equal(fk.n, 1);
    ap_clock_fake_advance(3 * S);
    assert_false(ap_avail_cache_peek(c, &K, D0, D0 + DAY, &now));
    ap_avail_cache_get(c, &K, D0, D0 + DAY, 0, on_got, &g);
    assert_int_equal(fk.n, 2);
    complete(&fk, 1, 2.0);
    assert_int_equal(g.last.err, AP_OK);
    done(c, &g, 1);
}

static void test_recheck_bypasses_but_coalesces(void **state)
{
    struct fake fk = {0};
    struct ap_avail_cache *c = mk(&fk, 0);
    struct got g[3] = {0};

    ap_avail_cache_get(c, &K, D0, D0 + DAY, 0, on_got, &g[0]);
    complete(&fk, 0, 4.0);
    int64_t t = ap_clock_mono_ns();
    ap_clock_fake_advance(S);
    ap_avail_cache_get(c, &K, D0, D0 + DAY, t + 1, on_got, &g[1]); /* fresh data wanted */
    ap_avail_cache_get(c, &K, D0, D0 + DAY, t + 1, on_got, &g[2]);
    assert_int_equal(fk.n, 2); /* one new call for both */
    assert_int_equal(g[1].calls, 0);
    complete(&fk, 1, 2.0);
    assert_true(g[1].calls == 1 && g[1].last.slots[0].open == 2.0);
    assert_true(g[2].calls == 1 && g[2].last.slots[0].open == 2.0);
    assert_true(ap_avail_cache_fetched_at(c, &K, D0 + 14 * 3600 * S) >= t + 1);
    done(c, g, 3);
}

static void test_chunks_and_bound(void **state)
{
    struct fake fk = {0};
    struct ap_avail_cache *c = mk(&fk, 20);
    struct got g = {0};
    struct ap_avail_cache_stats st;

    ap_avail_cache_get(c, &K, D0, D0 + 31 * DAY, 0, on_got, &g);
    assert_int_equal(fk.n, 3); /* 14 + 14 + 3 days */
    for (int i = 0; i < 3; i++) {
        assert_true(fk.to[i] - fk.from[i] <= 15 * DAY);
        complete(&fk, i, 3.0);
    }
    assert_int_equal(g.calls, 1);
    ap_avail_cache_stats(c, &st);
    assert_true(st.evictions >= 11); /* 31 days into 20 entries */
    assert_true(g.last.err == AP_OK);
    done(c, &g, 1);
}

static void test_refused_fetch(void **state)
{
    struct fake fk = {.refuse = AP_EBUSY};
    struct ap_avail_cache *c = mk(&fk, 0);
    struct got g = {0};

    ap_avail_cache_get(c, &K, D0, D0 + DAY, 0, on_got, &g);
    assert_int_equal(g.calls, 1); /* at once */
    assert_int_equal(g.last.err, AP_EBUSY);
    done(c, &g, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_flight),
        cmocka_unit_test(test_stale_then_expired),
        cmocka_unit_test(test_failure_held_with_retry_after),
        cmocka_unit_test(test_recheck_bypasses_but_coalesces),
        cmocka_unit_test(test_chunks_and_bound),
        cmocka_unit_test(test_refused_fetch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

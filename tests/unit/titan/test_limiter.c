/*
 * test_limiter.c — unit tests of the client-side rate limiter (token bucket
 * per (app, tenant)) over the fake clock: however requests arrive, no
 * one-second window sees more than the limit, the bucket refills at the
 * rate, waits are counted, and many threads share one bucket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "titan/titan_int.h"

#define SEC 1000000000LL

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Largest number of times in any half-open window [t, t + 1 s). */
static int max_per_second(int64_t *times, int n)
{
    int best = 0, j = 0;
    qsort(times, (size_t)n, sizeof(*times), cmp64);
    for (int i = 0; i < n; i++) {
        while (times[i] - times[j] >= SEC)
            j++;
        if (i - j + 1 > best)
            best = i - j + 1;
    }
    return best;
}

static void test_burst_never_exceeds_window(void **state)
{
    (void)state;
    struct ap_titan_limiter l;
    int64_t times[1000];
    int burst = ap_titan_burst_for(50);

    assert_int_equal(burst, 5);
    ap_titan_limiter_init(&l, 50, burst);
    /* 1000 callers arrive at once: they are spread out, 5 at once then 50/s */
    for (int i = 0; i < 1000; i++)
        times[i] = ap_titan_limiter_reserve(&l, 100 * SEC);
    assert_int_equal(times[burst - 1], 100 * SEC);
    assert_true(times[burst] > 100 * SEC);
    assert_true(max_per_second(times, 1000) <= 50 + burst);
    assert_true(max_per_second(times, 1000) < 60);
    /* the last one waits about (1000 - burst) / 50 seconds */
    assert_true(times[999] >= 100 * SEC + (995 * SEC) / 50 - SEC / 50);
    ap_titan_limiter_cleanup(&l);
}

static void test_irregular_arrivals(void **state)
{
    (void)state;
    struct ap_titan_limiter l;
    enum { N = 5000 };
    static int64_t times[N];
    int64_t now = 0;
    uint32_t x = 7;

    ap_titan_limiter_init(&l, 50, ap_titan_burst_for(50));
    /* arrivals in clumps and pauses, each caller sending at its reserved time */
    for (int i = 0; i < N; i++) {
        x = x * 1664525u + 1013904223u;
        if (x % 7 == 0)
            now += (int64_t)(x % 3000) * 1000000LL; /* a pause of up to 3 s */
        times[i] = ap_titan_limiter_reserve(&l, now);
        assert_true(times[i] >= now);
    }
    assert_true(max_per_second(times, N) <= 55);
    ap_titan_limiter_cleanup(&l);
}

static void test_refills_at_rate(void **state)
{
    (void)state;
    struct ap_titan_limiter l;

    ap_titan_limiter_init(&l, 10, 1);
    assert_int_equal(ap_titan_limiter_reserve(&l, 0), 0);
    assert_int_equal(ap_titan_limiter_reserve(&l, 0), SEC / 10);
    /* after a long pause the bucket is full again: no wait, no credit hoarded */
    assert_int_equal(ap_titan_limiter_reserve(&l, 50 * SEC), 50 * SEC);
    assert_int_equal(ap_titan_limiter_reserve(&l, 50 * SEC), 50 * SEC + SEC / 10);
    ap_titan_limiter_cleanup(&l);
}

/* ---- through struct ap_titan: threads share one bucket per tenant -------- */

static _Atomic int64_t max_sleep;
static _Atomic int sleeps;

/* The clock stays put: every caller sees the same "now" and sleeps (here:
 * records) until its own slot. */
static void record_sleep(void *ud, int64_t ns)
{
    (void)ud;
    atomic_fetch_add(&sleeps, 1);
    int64_t m = atomic_load(&max_sleep);
    while (ns > m && !atomic_compare_exchange_weak(&max_sleep, &m, ns))
        ;
}

static void *burst_thread(void *arg)
{
    struct ap_titan *t = arg;
    for (int i = 0; i < 50; i++)
        ap_titan_limit(t, 42);
    return NULL;
}

static void test_threads_share_tenant_bucket(void **state)
{
    (void)state;
    char err[128];
    struct ap_titan_config c = {.env = AP_TITAN_INTEGRATION, .app_key = "ak1.test"};
    struct ap_titan_hooks h = {.sleep_ns = record_sleep};
    struct ap_titan_stats st;
    struct ap_titan *t;
    pthread_t th[8];

    ap_clock_fake_begin(0, 1000 * SEC);
    t = ap_titan_new(&c, err, sizeof(err));
    assert_non_null(t);
    ap_titan_set_hooks(t, &h);
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, burst_thread, t);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    ap_titan_stats(t, &st);
    /* 400 requests at 50/s with a burst of 5: 395 wait, the last ~7.9 s */
    assert_int_equal(st.rate_limited_waits, 395);
    assert_int_equal(atomic_load(&sleeps), 395);
    assert_int_equal(atomic_load(&max_sleep), 395 * (SEC / 50));
    /* another tenant has its own bucket: no wait */
    ap_titan_limit(t, 43);
    ap_titan_stats(t, &st);
    assert_int_equal(st.rate_limited_waits, 395);
    ap_titan_free(t);
    ap_clock_fake_end();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_never_exceeds_window),
        cmocka_unit_test(test_irregular_arrivals),
        cmocka_unit_test(test_refills_at_rate),
        cmocka_unit_test(test_threads_share_tenant_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

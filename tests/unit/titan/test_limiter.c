/*
 * test_limiter.c — unit tests of the client-side rate limiter (token bucket
 * per (app, tenant)) over the fake clock: however requests arrive, no
 * one-second window sees more than the limit, the bucket refills at the
 * rate, a slot past the caller's deadline is not taken, and many threads
 * share one bucket. The engine's use of it (timers, counts) is in
 * test_call.c.
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

/* A slot past the caller's latest time is not reserved: a call that would
 * miss its deadline in the queue leaves the bucket as it was. */
static void test_reserve_by_deadline(void **state)
{
    (void)state;
    struct ap_titan_limiter l;
    int64_t at;

    ap_titan_limiter_init(&l, 10, 1);
    assert_true(ap_titan_limiter_reserve_by(&l, 0, 0, &at));
    assert_int_equal(at, 0);
    assert_false(ap_titan_limiter_reserve_by(&l, 0, SEC / 20, &at));
    assert_int_equal(at, SEC / 10);
    assert_false(ap_titan_limiter_reserve_by(&l, 0, SEC / 20, &at));
    assert_int_equal(at, SEC / 10); /* nothing was taken by the refusals */
    assert_true(ap_titan_limiter_reserve_by(&l, 0, SEC / 10, &at));
    assert_int_equal(at, SEC / 10);
    assert_int_equal(ap_titan_limiter_reserve(&l, 0), 2 * SEC / 10);
    ap_titan_limiter_cleanup(&l);
}

/* ---- threads share one bucket ------------------------------------------- */

static struct ap_titan_limiter shared;
static int64_t slots[400];
static _Atomic int nslots;

static void *burst_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++)
        slots[atomic_fetch_add(&nslots, 1)] = ap_titan_limiter_reserve(&shared, 0);
    return NULL;
}

static void test_threads_share_bucket(void **state)
{
    (void)state;
    pthread_t th[8];

    ap_titan_limiter_init(&shared, 50, ap_titan_burst_for(50));
    atomic_store(&nslots, 0);
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, burst_thread, NULL);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    /* 400 reservations at 50/s with a burst of 5, all at time 0: five at once,
     * then one slot every 20 ms, none given twice */
    qsort(slots, 400, sizeof(slots[0]), cmp64);
    for (int i = 0; i < 400; i++)
        assert_int_equal(slots[i], i < 5 ? 0 : (i - 4) * (SEC / 50));
    assert_true(max_per_second(slots, 400) <= 55);
    ap_titan_limiter_cleanup(&shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_never_exceeds_window),
        cmocka_unit_test(test_irregular_arrivals),
        cmocka_unit_test(test_refills_at_rate),
        cmocka_unit_test(test_reserve_by_deadline),
        cmocka_unit_test(test_threads_share_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

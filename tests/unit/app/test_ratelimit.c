/*
 * test_ratelimit.c — GCRA buckets per key: the burst, the rate, separate
 * keys, and a flood that cannot evict a key being limited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "app/ratelimit.h"
#include "core/defs.h"

static void test_burst_then_rate(void **state)
{
    struct ap_ratelimit *r = ap_ratelimit_new(10, 5, 64);
    int64_t t = 1000 * AP_NS_PER_S;
    int retry = 0;

    for (int i = 0; i < 5; i++)
        assert_true(ap_ratelimit_allow(r, "a:192.0.2.1", t, &retry));
    assert_false(ap_ratelimit_allow(r, "a:192.0.2.1", t, &retry));
    assert_int_equal(retry, 1);
    assert_true(ap_ratelimit_allow(r, "a:192.0.2.2", t, &retry)); /* another key */
    t += 100 * AP_NS_PER_MS;                                      /* one more slot */
    assert_true(ap_ratelimit_allow(r, "a:192.0.2.1", t, &retry));
    assert_false(ap_ratelimit_allow(r, "a:192.0.2.1", t, &retry));
    ap_ratelimit_free(r);
}

static void test_flood_keeps_limited_keys(void **state)
{
    struct ap_ratelimit *r = ap_ratelimit_new(1, 1, 16);
    int64_t t = 5000 * AP_NS_PER_S;
    char key[32];
    int retry, limited_after = 0;

    /* the victim spends its budget */
    assert_true(ap_ratelimit_allow(r, "victim", t, &retry));
    assert_false(ap_ratelimit_allow(r, "victim", t, &retry));
    /* a flood of 2,000 new addresses in the same instant */
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "a:10.0.%d.%d", i / 256, i % 256);
        if (!ap_ratelimit_allow(r, key, t, &retry))
            limited_after++;
    }
    assert_true(limited_after > 1900); /* they shared the overflow bucket */
    /* the victim is still limited: its entry was not given away */
    assert_false(ap_ratelimit_allow(r, "victim", t, &retry));
    assert_true(ap_ratelimit_allow(r, "victim", t + 2 * AP_NS_PER_S, &retry));
    ap_ratelimit_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_flood_keeps_limited_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

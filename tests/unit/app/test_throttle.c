/*
 * test_throttle.c — the bounded attempt table (src/app/throttle.c) on the
 * fake clock: budgets, doubling backoff and its cap, forgetting, refunds and
 * clears, several keys charged together or not at all, eviction of the
 * cheapest entries only, and the shared overflow bucket once a set holds
 * nothing but penalised keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "app/throttle.h"
#include "core/clock.h"
#include "core/defs.h"

#define SEC AP_NS_PER_S

static struct ap_throttle *make(size_t entries)
{
    struct ap_throttle_config c = {entries, 30 * SEC, 900 * SEC, 900 * SEC};
    return ap_throttle_new(&c);
}

static struct ap_throttle_key key(const char *text, int budget)
{
    struct ap_throttle_key k = {.budget = budget};
    snprintf(k.text, sizeof(k.text), "%s", text);
    return k;
}

/* One attempt on a single key; *wait_s gets the refusal's wait in seconds. */
static bool try1(struct ap_throttle *t, const char *text, int budget, int64_t *wait_s)
{
    struct ap_throttle_key k = key(text, budget);
    int64_t w = -1;
    bool ok = ap_throttle_take(t, &k, 1, &w);
    if (wait_s)
        *wait_s = (w + SEC - 1) / SEC;
    return ok;
}

static int setup(void **state)
{
    ap_clock_fake_begin(1700000000 * SEC, 1000 * SEC);
    return 0;
}

static int teardown(void **state)
{
    ap_clock_fake_end();
    return 0;
}

static void test_budget_then_doubling_backoff(void **state)
{
    struct ap_throttle *t = make(1024);
    int64_t w = 0;
    for (int i = 0; i < 3; i++)
        assert_true(try1(t, "k", 3, NULL));
    assert_false(try1(t, "k", 3, &w));
    assert_int_equal(w, 30);
    ap_clock_fake_advance(29 * SEC);
    assert_false(try1(t, "k", 3, &w));
    assert_int_equal(w, 1);
    /* each attempt past the budget doubles the next wait: 30, 60, 120, ... capped at 900 */
    int64_t want[] = {60, 120, 240, 480, 900, 900};
    ap_clock_fake_advance(1 * SEC);
    for (size_t i = 0; i < AP_COUNTOF(want); i++) {
        assert_true(try1(t, "k", 3, NULL));
        assert_false(try1(t, "k", 3, &w));
        assert_int_equal(w, want[i]);
        ap_clock_fake_advance(want[i] * SEC);
    }
    /* quiet for forget_ns after the backoff: the budget is whole again */
    ap_clock_fake_advance(900 * SEC);
    for (int i = 0; i < 3; i++)
        assert_true(try1(t, "k", 3, NULL));
    assert_false(try1(t, "k", 3, NULL));
    /* other keys are untouched */
    assert_true(try1(t, "other", 3, NULL));
    ap_throttle_free(t);
}

static void test_refund_and_clear(void **state)
{
    struct ap_throttle *t = make(1024);
    struct ap_throttle_key k = key("k", 2);
    int64_t w;
    assert_true(ap_throttle_take(t, &k, 1, &w));
    assert_true(ap_throttle_take(t, &k, 1, &w));
    assert_false(ap_throttle_take(t, &k, 1, &w));
    ap_throttle_settle(t, &k, AP_THROTTLE_REFUND); /* one attempt does not count: room again */
    assert_true(ap_throttle_take(t, &k, 1, &w));
    assert_false(ap_throttle_take(t, &k, 1, &w));
    ap_throttle_settle(t, &k, AP_THROTTLE_CLEAR);
    assert_true(ap_throttle_take(t, &k, 1, &w));
    assert_true(ap_throttle_take(t, &k, 1, &w));
    ap_throttle_settle(t, &k, AP_THROTTLE_KEEP);
    assert_false(ap_throttle_take(t, &k, 1, &w));
    ap_throttle_free(t);
}

static void test_keys_charged_together_or_not_at_all(void **state)
{
    struct ap_throttle *t = make(1024);
    struct ap_throttle_key ks[2] = {key("pair", 5), key("addr", 2)};
    int64_t w;
    assert_true(ap_throttle_take(t, ks, 2, &w));
    assert_true(ap_throttle_take(t, ks, 2, &w));
    assert_false(ap_throttle_take(t, ks, 2, &w)); /* addr is spent */
    assert_int_equal(w, 30 * SEC);
    /* the refused attempt charged nothing: pair has spent 2 of 5 */
    for (int i = 0; i < 3; i++)
        assert_true(try1(t, "pair", 5, NULL));
    assert_false(try1(t, "pair", 5, NULL));
    ap_throttle_free(t);
}

static void test_two_new_keys_of_one_attempt_in_one_set(void **state)
{
    /* one set: both keys of the attempt are new in it at once */
    struct ap_throttle *t = make(16);
    struct ap_throttle_stats st;
    int64_t w;
    for (int i = 0; i < 10; i++) {
        struct ap_throttle_key ks[2] = {key("p:198.51.100.1|owner@acme.test", 10),
                                        key("a:198.51.100.1", 100)};
        assert_true(ap_throttle_take(t, ks, 2, &w));
        ap_throttle_stats(t, &st);
        assert_int_equal(st.used, 2); /* one entry each, from the first attempt on */
    }
    struct ap_throttle_key ks[2] = {key("p:198.51.100.1|owner@acme.test", 10),
                                    key("a:198.51.100.1", 100)};
    assert_false(ap_throttle_take(t, ks, 2, &w));
    assert_int_equal(w, 30 * SEC);
    ap_throttle_free(t);
}

static void test_new_key_never_evicts_its_companion(void **state)
{
    /* one set of 16: "addr" is its cheapest entry when a new key of the same attempt needs room */
    struct ap_throttle *t = make(16);
    char k[32];
    assert_true(try1(t, "addr", 2, NULL));
    ap_clock_fake_advance(1 * SEC);
    for (int i = 0; i < 15; i++) {
        snprintf(k, sizeof(k), "filler%d", i);
        assert_true(try1(t, k, 5, NULL));
        assert_true(try1(t, k, 5, NULL));
    }
    struct ap_throttle_key ks[2] = {key("new-pair", 10), key("addr", 2)};
    int64_t w;
    assert_true(ap_throttle_take(t, ks, 2, &w));
    /* "addr" was charged, not evicted: its budget of 2 is spent */
    assert_false(try1(t, "addr", 2, NULL));
    ap_throttle_free(t);
}

static void test_flood_evicts_cheapest_never_penalised(void **state)
{
    /* 256 entries (16 sets); the victim key is penalised, then 393 addresses x 10 failures */
    struct ap_throttle *t = make(256);
    struct ap_throttle_stats st;
    char k[64];
    for (int i = 0; i < 10; i++)
        assert_true(try1(t, "victim", 10, NULL));
    assert_false(try1(t, "victim", 10, NULL));
    for (int a = 0; a < 393; a++) {
        for (int i = 0; i < 10; i++) {
            snprintf(k, sizeof(k), "p:10.%d.%d.1|user%d@x.test", a / 250, a % 250, i);
            try1(t, k, 10, NULL);
            snprintf(k, sizeof(k), "a:10.%d.%d.1", a / 250, a % 250);
            try1(t, k, 100, NULL);
        }
    }
    ap_throttle_stats(t, &st);
    assert_int_equal(st.entries, 256);
    assert_true(st.evicted > 3000);
    int64_t w = 0;
    assert_false(try1(t, "victim", 10, &w)); /* still under its penalty */
    assert_true(w > 0 && w <= 30);
    ap_throttle_free(t);
}

static void test_full_of_penalised_overflows_to_shared_bucket(void **state)
{
    /* one set of 16: fill it with penalised keys (budget 1), then new keys share a bucket */
    struct ap_throttle *t = make(16);
    struct ap_throttle_stats st;
    char k[32];
    for (int i = 0; i < 16; i++) {
        snprintf(k, sizeof(k), "bad%d", i);
        assert_true(try1(t, k, 1, NULL));
    }
    ap_throttle_stats(t, &st);
    assert_int_equal(st.penalised, 16);
    /* new keys land in the overflow bucket of budget 1, which takes 10 attempts in all */
    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof(k), "new%d", i);
        assert_true(try1(t, k, 1, NULL));
    }
    assert_false(try1(t, "new-late", 1, NULL));
    ap_throttle_stats(t, &st);
    assert_int_equal(st.penalised, 16); /* nobody's penalty was forgotten */
    assert_int_equal(st.evicted, 0);
    assert_int_equal(st.overflow, 10);
    for (int i = 0; i < 16; i++) {
        snprintf(k, sizeof(k), "bad%d", i);
        assert_false(try1(t, k, 1, NULL));
    }
    /* a refund from an overflowed key gives the shared bucket its attempt back */
    struct ap_throttle_key nk = key("new-refund", 1);
    int64_t w;
    ap_clock_fake_advance(2000 * SEC); /* everything forgotten */
    for (int i = 0; i < 16; i++) {
        snprintf(k, sizeof(k), "bad%d", i);
        assert_true(try1(t, k, 1, NULL));
    }
    assert_true(ap_throttle_take(t, &nk, 1, &w));
    assert_true(nk.overflowed);
    ap_throttle_settle(t, &nk, AP_THROTTLE_REFUND);
    for (int i = 0; i < 10; i++)
        assert_true(try1(t, "x", 1, NULL));
    assert_false(try1(t, "x", 1, NULL));
    ap_throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_budget_then_doubling_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refund_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_charged_together_or_not_at_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_new_keys_of_one_attempt_in_one_set, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_key_never_evicts_its_companion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_evicts_cheapest_never_penalised, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_of_penalised_overflows_to_shared_bucket, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

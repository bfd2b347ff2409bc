/*
 * test_gate.c — the emulator gate's pure parts: access tokens (mint, verify,
 * expiry, tampering, another key), the token bucket behind 429s and their
 * Retry-After, fault path matching and counting, and the request-log ring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "sim/core/backbone.h"

#define SEC 1000000000LL

static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const uint8_t other_key[32] = {9, 9, 9};

static char *mint(int64_t now, int lifetime)
{
    static const char *const scopes[] = {"tn.crm.customers:r", "tn.jpm.jobs:w"};
    return sim_token_mint(key, "https://auth-integration.servicetitan.io", "cid.abc", 1234567,
                          scopes, 2, now, lifetime);
}

static void test_token_roundtrip(void **state)
{
    (void)state;
    char *t = mint(1000, 900);
    struct sim_token_claims cl;
    assert_int_equal(sim_token_verify(key, t, 1000, &cl), SIM_TOKEN_OK);
    assert_string_equal(cl.client_id, "cid.abc");
    assert_int_equal(cl.tenant, 1234567);
    assert_int_equal(cl.exp, 1900);
    assert_int_equal(json_array_size(cl.scope), 2);
    assert_string_equal(json_string_value(json_array_get(cl.scope, 1)), "tn.jpm.jobs:w");
    json_decref(cl.scope);
    /* three base64url parts, JWT-shaped */
    size_t dots = 0;
    for (const char *p = t; *p; p++) {
        dots += *p == '.';
        assert_true(*p == '.' || *p == '-' || *p == '_' || (*p >= '0' && *p <= '9') ||
                    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'));
    }
    assert_int_equal(dots, 2);
    free(t);
}

static void test_token_expiry(void **state)
{
    (void)state;
    char *t = mint(1000, 2);
    struct sim_token_claims cl;
    assert_int_equal(sim_token_verify(key, t, 1001, &cl), SIM_TOKEN_OK);
    json_decref(cl.scope);
    assert_int_equal(sim_token_verify(key, t, 1002, &cl), SIM_TOKEN_EXPIRED);
    assert_null(cl.scope);
    free(t);
}

static void test_token_tampering(void **state)
{
    (void)state;
    char *t = mint(1000, 900);
    struct sim_token_claims cl;
    assert_int_equal(sim_token_verify(other_key, t, 1000, &cl), SIM_TOKEN_BAD);
    /* flip one character of the payload */
    char *dot = strchr(t, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    assert_int_equal(sim_token_verify(key, t, 1000, &cl), SIM_TOKEN_BAD);
    assert_int_equal(sim_token_verify(key, "garbage", 1000, &cl), SIM_TOKEN_BAD);
    assert_int_equal(sim_token_verify(key, "a.b.c", 1000, &cl), SIM_TOKEN_BAD);
    assert_int_equal(sim_token_verify(key, "", 1000, &cl), SIM_TOKEN_BAD);
    free(t);
}

static void test_bucket_burst_then_retry_after(void **state)
{
    (void)state;
    struct sim_bucket b = {0};
    int ra = 0;
    int64_t now = 50 * SEC;
    for (int i = 0; i < 60; i++)
        assert_true(sim_bucket_take(&b, 60, 60, SEC, now, &ra));
    assert_false(sim_bucket_take(&b, 60, 60, SEC, now, &ra));
    assert_int_equal(ra, 1);
    /* 1/60 s later one token is back */
    assert_true(sim_bucket_take(&b, 60, 60, SEC, now + SEC / 60 + 1, &ra));
    /* a per-minute bucket of 2: the wait is whole seconds, rounded up */
    struct sim_bucket m = {0};
    assert_true(sim_bucket_take(&m, 2, 2, 60 * SEC, now, &ra));
    assert_true(sim_bucket_take(&m, 2, 2, 60 * SEC, now, &ra));
    assert_false(sim_bucket_take(&m, 2, 2, 60 * SEC, now, &ra));
    assert_int_equal(ra, 30);
    assert_false(sim_bucket_take(&m, 2, 2, 60 * SEC, now + 29 * SEC, &ra));
    assert_int_equal(ra, 1);
    assert_true(sim_bucket_take(&m, 2, 2, 60 * SEC, now + 30 * SEC, &ra));
}

static void test_fault_path_match(void **state)
{
    (void)state;
    const char *p = "/crm/v2/tenant/1234567/customers";
    assert_true(sim_fault_path_match("*", p));
    assert_true(sim_fault_path_match("/crm/v2/tenant/*/customers", p));
    assert_true(
        sim_fault_path_match("/crm/v2/tenant/*/customers", "/crm/v2/tenant/1/customers/42"));
    assert_true(sim_fault_path_match("/crm", p));
    assert_true(sim_fault_path_match("/crm/", p));
    assert_false(sim_fault_path_match("/crm/v2/tenant/*/customers", "/crm/v2/tenant/1/customersX"));
    assert_false(sim_fault_path_match("/crm/v2/tenant/*/customers", "/crm/v2/tenant/1/locations"));
    assert_false(sim_fault_path_match("/cr", p));
    assert_false(sim_fault_path_match("/jpm", p));
    assert_false(
        sim_fault_path_match("/crm/v2/tenant/*/customers/*", "/crm/v2/tenant/1/customers"));
}

static struct sim *new_sim(void)
{
    struct sim_config cfg = {.token_lifetime_s = 900, .rate_limit = 60, .token_rate_limit = 2};
    return sim_new(&cfg);
}

static void free_sim(struct sim *s)
{
    sim_gate_free(s);
    sim_free(s);
}

static void test_fault_counts_and_hosts(void **state)
{
    (void)state;
    struct sim *s = new_sim();
    struct sim_fault f = {.kind = SIM_FAULT_STATUS, .status = 500, .count = 2};
    snprintf(f.match, sizeof(f.match), "/crm/v2/tenant/*/customers");
    snprintf(f.method, sizeof(f.method), "POST");
    struct sim_fault down = {.kind = SIM_FAULT_TOKEN_DOWN, .count = -1};
    snprintf(down.match, sizeof(down.match), "token");
    assert_int_equal(sim_fault_add(s, &f), 1);
    assert_int_equal(sim_fault_add(s, &down), 2);
    struct sim_fault got;
    const char *p = "/crm/v2/tenant/5/customers";
    assert_false(sim_fault_take(s, false, "GET", p, &got)); /* other method */
    assert_false(sim_fault_take(s, false, "POST", "/jpm/v2/tenant/5/jobs", &got));
    assert_true(sim_fault_take(s, false, "POST", p, &got));
    assert_int_equal(got.status, 500);
    assert_true(sim_fault_take(s, false, "POST", p, &got));
    assert_false(sim_fault_take(s, false, "POST", p, &got)); /* count used up */
    /* token_down only on the auth host, until cleared */
    for (int i = 0; i < 3; i++) {
        assert_true(sim_fault_take(s, true, "POST", "/connect/token", &got));
        assert_int_equal(got.kind, SIM_FAULT_TOKEN_DOWN);
    }
    sim_fault_clear(s);
    assert_false(sim_fault_take(s, true, "POST", "/connect/token", &got));
    free_sim(s);
}

static void test_token_throttle(void **state)
{
    (void)state;
    struct sim *s = new_sim();
    int ra = 0;
    assert_true(sim_token_throttle(s, "cid.a", &ra));
    assert_true(sim_token_throttle(s, "cid.a", &ra));
    assert_false(sim_token_throttle(s, "cid.a", &ra));
    assert_true(ra >= 1 && ra <= 30);
    assert_true(sim_token_throttle(s, "cid.b", &ra)); /* per client */
    free_sim(s);
}

static void test_log_ring(void **state)
{
    (void)state;
    struct sim *s = new_sim();
    for (int i = 0; i < SIM_LOG_CAP + 5; i++) {
        struct sim_log_entry e = {.auth = i % 2 == 1, .status = i % 3 == 0 ? 404 : 200};
        snprintf(e.method, sizeof(e.method), "GET");
        e.path = ap_xasprintf("/x/%d", i);
        sim_log_add(s, &e);
    }
    struct sim_log_filter any = {.host = -1, .status_hi = 999};
    json_t *all = sim_log_json(s, &any);
    assert_int_equal(json_array_size(all), SIM_LOG_CAP); /* the oldest 5 fell out */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(all, 0), "seq")), 6);
    json_decref(all);
    struct sim_log_filter api_tail = {.since = SIM_LOG_CAP + 3, .host = 0, .status_hi = 999};
    json_t *tail = sim_log_json(s, &api_tail);
    assert_int_equal(json_array_size(tail), 1); /* of the last two, one is an api entry */
    json_decref(tail);
    /* status filter: entries i = 0, 3, 6, ... answered 404 (seq = i + 1) */
    struct sim_log_filter nf = {.host = -1, .status_lo = 404, .status_hi = 404};
    json_t *missing = sim_log_json(s, &nf);
    size_t i;
    json_t *e;
    assert_true(json_array_size(missing) > 0);
    json_array_foreach (missing, i, e) {
        assert_int_equal(json_integer_value(json_object_get(e, "status")), 404);
        assert_int_equal((json_integer_value(json_object_get(e, "seq")) - 1) % 3, 0);
    }
    json_decref(missing);
    json_t *counts = sim_status_counts(s);
    assert_true(json_integer_value(json_object_get(counts, "200")) > 0);
    json_decref(counts);
    sim_log_clear(s);
    all = sim_log_json(s, &any);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
    free_sim(s);
}

static void test_problem_body_shape(void **state)
{
    (void)state;
    json_t *b = sim_problem_body(429, "Rate limit is exceeded. Try again in 1 seconds.", NULL);
    static const char *const keys[] = {"type", "title", "status", "traceId", "errors", "data"};
    assert_int_equal(json_object_size(b), 6);
    for (size_t i = 0; i < 6; i++)
        assert_non_null(json_object_get(b, keys[i]));
    assert_int_equal(json_integer_value(json_object_get(b, "status")), 429);
    const char *tr = json_string_value(json_object_get(b, "traceId"));
    assert_int_equal(strlen(tr), 55); /* 00-<32>-<16>-00 */
    assert_memory_equal(tr, "00-", 3);
    assert_true(json_is_object(json_object_get(b, "errors")));
    json_decref(b);
}

/* Numbers in their shortest round-trip form; strings escaped as the json adapter does. */
static void test_json_text(void **state)
{
    static const struct {
        double d;
        const char *want;
    } reals[] = {
        {32.7191, "32.7191"},
        {0.1, "0.1"},
        {5.0, "5.0"},
        {-96.8274, "-96.8274"},
        {1.0 / 3.0, "0.3333333333333333"},
        {32.719100000000005, "32.719100000000005"},
        {1e21, "1e+21"},
        {349.5, "349.5"},
    };
    char buf[32];
    size_t len;

    (void)state;
    for (size_t i = 0; i < AP_COUNTOF(reals); i++) {
        sim_json_real(reals[i].d, buf);
        assert_string_equal(buf, reals[i].want);
    }
    json_t *j = json_pack("{s:s, s:I, s:f, s:[b, n], s:{}}", "s", "a\"b\\c\n\x01\xc3\xa9", "i",
                          (json_int_t)-42, "r", 32.7191, "a", 1, "o");
    char *text = sim_json_text(j, &len);
    assert_string_equal(text, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\",\"i\":-42,\"r\":32.7191,"
                              "\"a\":[true,null],\"o\":{}}");
    assert_int_equal(len, strlen(text));
    free(text);
    json_decref(j);
}

int main(void)
{
    ap_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_roundtrip),
        cmocka_unit_test(test_token_expiry),
        cmocka_unit_test(test_token_tampering),
        cmocka_unit_test(test_bucket_burst_then_retry_after),
        cmocka_unit_test(test_fault_path_match),
        cmocka_unit_test(test_fault_counts_and_hosts),
        cmocka_unit_test(test_token_throttle),
        cmocka_unit_test(test_log_ring),
        cmocka_unit_test(test_problem_body_shape),
        cmocka_unit_test(test_json_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

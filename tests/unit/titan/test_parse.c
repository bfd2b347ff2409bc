/*
 * test_parse.c — unit tests of the ServiceTitan client's pure pieces: the
 * jittered backoff, Retry-After (seconds, HTTP date, the "… N seconds."
 * title), status mapping, the token endpoint's answer, the JWT claims, the
 * ApiErrorResponse body and timestamps with 0–7 fractional digits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "titan/titan_int.h"

#define S(x) (x), strlen(x)

static void test_backoff_grows_and_caps(void **state)
{
    (void)state;
    /* the top of each step (rnd at its maximum) doubles from 200 ms up to 5 s */
    int64_t want[] = {200, 400, 800, 1600, 3200, 5000, 5000, 5000};
    for (int r = 1; r <= 8; r++) {
        assert_int_equal(ap_titan_backoff_ns(r, (uint32_t)(want[r - 1] * 500000)),
                         want[r - 1] * 1000000LL);
        assert_int_equal(ap_titan_backoff_ns(r, 0), want[r - 1] * 1000000LL / 2);
    }
    assert_int_equal(ap_titan_backoff_ns(100, 0), 2500 * 1000000LL);
}

static void test_backoff_jitter_bounds(void **state)
{
    (void)state;
    uint32_t x = 12345;
    int64_t min = INT64_MAX, max = 0;
    for (int i = 0; i < 10000; i++) {
        x = x * 1103515245u + 12345u;
        int64_t d = ap_titan_backoff_ns(3, x);
        assert_true(d >= 400 * 1000000LL && d <= 800 * 1000000LL);
        min = d < min ? d : min;
        max = d > max ? d : max;
    }
    /* the jitter really spreads the delays */
    assert_true(max - min > 300 * 1000000LL);
}

static void test_retry_after_forms(void **state)
{
    (void)state;
    int s = -1;
    /* 2015-10-21T07:28:00Z */
    int64_t now = 1445412480LL * 1000000000LL;

    assert_true(ap_titan_retry_after("7", NULL, now, &s));
    assert_int_equal(s, 7);
    assert_true(ap_titan_retry_after("0", NULL, now, &s));
    assert_int_equal(s, 0);
    assert_true(ap_titan_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", NULL, now, &s));
    assert_int_equal(s, 30);
    assert_true(ap_titan_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", NULL, now, &s));
    assert_int_equal(s, 0); /* a date in the past: go now */
    assert_true(
        ap_titan_retry_after(NULL, "Rate limit is exceeded. Try again in 12 seconds.", now, &s));
    assert_int_equal(s, 12);
    assert_true(ap_titan_retry_after("", "Try again in 1 second.", now, &s));
    assert_int_equal(s, 1);
    /* the header wins over the title */
    assert_true(ap_titan_retry_after("3", "Try again in 12 seconds.", now, &s));
    assert_int_equal(s, 3);
    /* huge values are clamped */
    assert_true(ap_titan_retry_after("99999999999999", NULL, now, &s));
    assert_int_equal(s, AP_TITAN_MAX_RETRY_AFTER_S + 1);
    s = -1;
    assert_false(ap_titan_retry_after("soon", "Too many requests", now, &s));
    assert_false(ap_titan_retry_after("-5", NULL, now, &s));
    assert_false(ap_titan_retry_after("Wed, 32 Foo 2015 07:28:30 GMT", "seconds.", now, &s));
    assert_false(ap_titan_retry_after(NULL, NULL, now, &s));
    assert_int_equal(s, -1);
}

static void test_status_mapping(void **state)
{
    (void)state;
    assert_int_equal(ap_titan_status_err(200), AP_OK);
    assert_int_equal(ap_titan_status_err(204), AP_OK);
    assert_int_equal(ap_titan_status_err(400), AP_EINVAL);
    assert_int_equal(ap_titan_status_err(422), AP_EINVAL);
    assert_int_equal(ap_titan_status_err(401), AP_EPERM);
    assert_int_equal(ap_titan_status_err(403), AP_EPERM);
    assert_int_equal(ap_titan_status_err(404), AP_ENOTFOUND);
    assert_int_equal(ap_titan_status_err(409), AP_ECONFLICT);
    assert_int_equal(ap_titan_status_err(429), AP_EBUSY);
    assert_int_equal(ap_titan_status_err(503), AP_EUNAVAIL);
    assert_int_equal(ap_titan_status_err(0), AP_EUNAVAIL);
    int no[] = {400, 401, 403, 404, 409, 422};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(ap_titan_status_retryable(no[i]));
    assert_true(ap_titan_status_retryable(0));
    assert_true(ap_titan_status_retryable(429));
    assert_true(ap_titan_status_retryable(500));
    assert_true(ap_titan_status_retryable(503));
}

static void test_error_body(void **state)
{
    (void)state;
    struct ap_titan_error e = {0};
    const char *body = "{\"type\":\"https://x/\",\"title\":\"One or more validation errors "
                       "occurred.\",\"status\":400,\"traceId\":\"00-abc-01-00\",\"errors\":{"
                       "\"Appointments[0].End\":[\"End must be after Start.\"],\"name\":[\"Name "
                       "is required.\",\"Too short.\"]},\"data\":{}}";
    ap_titan_parse_error_body(400, S(body), &e);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.title, "One or more validation errors occurred.");
    assert_string_equal(e.trace_id, "00-abc-01-00");
    assert_string_equal(e.fields, "Appointments[0].End: End must be after Start.; name: Name is "
                                  "required.; name: Too short.");

    memset(&e, 0, sizeof(e));
    ap_titan_parse_error_body(502, S("<html>bad gateway</html>"), &e);
    assert_string_equal(e.title, "Bad Gateway");
    assert_string_equal(e.fields, "");
    assert_string_equal(e.trace_id, "");
}

static void test_error_body_truncates(void **state)
{
    (void)state;
    struct ap_titan_error e = {0};
    char *body = malloc(20000), *p = body;
    p += sprintf(p, "{\"title\":\"");
    for (int i = 0; i < 1000; i++)
        *p++ = 'x';
    p += sprintf(p, "\",\"errors\":{");
    for (int i = 0; i < 200; i++)
        p += sprintf(p, "%s\"f%d\":[\"bad value number %d\"]", i ? "," : "", i, i);
    sprintf(p, "}}");
    ap_titan_parse_error_body(400, body, strlen(body), &e);
    assert_int_equal(strlen(e.title), sizeof(e.title) - 1);
    assert_true(strlen(e.fields) < sizeof(e.fields));
    assert_true(strncmp(e.fields, "f0: bad value number 0; f1:", 27) == 0);
    /* only whole "field: message" parts */
    assert_true(e.fields[strlen(e.fields) - 1] != ';');
    free(body);
}

static void test_token_response(void **state)
{
    (void)state;
    struct ap_titan_token_resp r;
    struct ap_titan_error e = {0};

    assert_int_equal(ap_titan_parse_token_response(200,
                                                   S("{\"access_token\":\"a.b.c\","
                                                     "\"expires_in\":900,\"token_type\":"
                                                     "\"Bearer\",\"scope\":\"x:r y:w\"}"),
                                                   &r, &e),
                     AP_OK);
    assert_string_equal(r.access_token, "a.b.c");
    assert_int_equal(r.expires_in, 900);
    assert_string_equal(r.scope, "x:r y:w");
    ap_titan_token_resp_cleanup(&r);

    assert_int_equal(
        ap_titan_parse_token_response(401,
                                      S("{\"error\":\"invalid_client\",\"error_description\":\"The "
                                        "connection is disabled.\"}"),
                                      &r, &e),
        AP_EPERM);
    assert_int_equal(e.stage, AP_TITAN_STAGE_TOKEN);
    assert_int_equal(e.status, 401);
    assert_string_equal(e.oauth_error, "invalid_client");
    assert_string_equal(e.title, "The connection is disabled.");
    assert_null(r.access_token);

    memset(&e, 0, sizeof(e));
    assert_int_equal(
        ap_titan_parse_token_response(400, S("{\"error\":\"unsupported_grant_type\"}"), &r, &e),
        AP_EINVAL);
    assert_string_equal(e.oauth_error, "unsupported_grant_type");
    assert_non_null(strstr(e.title, "unsupported_grant_type"));

    /* a 200 that is no token */
    const char *bad[] = {"",
                         "[]",
                         "{\"access_token\":\"\",\"expires_in\":900}",
                         "{\"access_token\":\"t\",\"expires_in\":0}",
                         "{\"access_token\":\"t\",\"expires_in\":\"900\"}",
                         "{\"access_token\":\"t u\",\"expires_in\":9}",
                         "{\"access_token\":\"t\",\"expires_in\":9,\"token_type\":\"MAC\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ap_titan_parse_token_response(200, S(bad[i]), &r, &e), AP_EPARSE);
        assert_null(r.access_token);
    }
    assert_int_equal(ap_titan_parse_token_response(503, S("down"), &r, &e), AP_EUNAVAIL);
    assert_int_equal(e.status, 503);
}

static char *b64url(const char *s)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(s), o = 0;
    char *out = malloc(n * 2 + 4);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | (unsigned char)s[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = a[(acc >> bits) & 63];
        }
    }
    if (bits)
        out[o++] = a[(acc << (6 - bits)) & 63];
    out[o] = '\0';
    return out;
}

static char *make_jwt(const char *payload)
{
    char *h = b64url("{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}"), *p = b64url(payload);
    char *out = malloc(strlen(h) + strlen(p) + 16);
    sprintf(out, "%s.%s.c2ln", h, p);
    free(h);
    free(p);
    return out;
}

static void test_jwt_claims(void **state)
{
    (void)state;
    struct ap_titan_token_info ti;
    char *jwt =
        make_jwt("{\"nbf\":1700000000,\"exp\":1700000900,\"client_id\":\"cid.x\","
                 "\"iss\":\"https://auth-integration.servicetitan.io\","
                 "\"tenant\":\"8450\",\"scope\":[\"tn.crm.customers:r\",\"tn.jpm.jobs:w\"]}");

    assert_int_equal(ap_titan_jwt_claims(jwt, &ti), AP_OK);
    assert_int_equal(ti.tenant_id, 8450);
    assert_int_equal(ti.nscopes, 2);
    assert_string_equal(ti.scopes[0], "tn.crm.customers:r");
    assert_string_equal(ti.scopes[1], "tn.jpm.jobs:w");
    assert_int_equal(ti.expires_at_ns, 1700000900LL * 1000000000LL);
    assert_string_equal(ti.iss, "https://auth-integration.servicetitan.io");
    ap_titan_token_info_cleanup(&ti);
    free(jwt);

    jwt = make_jwt("{\"tenant\":1234567,\"scope\":\"a:r b:w\"}");
    assert_int_equal(ap_titan_jwt_claims(jwt, &ti), AP_OK);
    assert_string_equal(ti.iss, "");
    assert_int_equal(ti.tenant_id, 1234567);
    assert_int_equal(ti.nscopes, 2);
    assert_string_equal(ti.scopes[1], "b:w");
    ap_titan_token_info_cleanup(&ti);
    free(jwt);

    const char *bad[] = {"{\"tenant\":\"84x0\"}", "{\"tenant\":\"-1\"}", "{\"scope\":[]}",
                         "{\"tenant\":\"1\",\"scope\":[1]}", "[1]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        jwt = make_jwt(bad[i]);
        assert_int_equal(ap_titan_jwt_claims(jwt, &ti), AP_EPARSE);
        assert_null(ti.scopes);
        free(jwt);
    }
    assert_int_equal(ap_titan_jwt_claims("no-dots", &ti), AP_EPARSE);
    assert_int_equal(ap_titan_jwt_claims("a.!!!.c", &ti), AP_EPARSE);
    assert_int_equal(ap_titan_jwt_claims(NULL, &ti), AP_EPARSE);
}

static void test_parse_time(void **state)
{
    (void)state;
    int64_t ns = 0, base = 1626726938LL * 1000000000LL; /* 2021-07-19T20:35:38Z */

    assert_true(ap_titan_parse_time("2021-07-19T20:35:38Z", &ns));
    assert_int_equal(ns, base);
    assert_true(ap_titan_parse_time("2021-07-19T20:35:38.2876004Z", &ns));
    assert_int_equal(ns, base + 287600400);
    assert_true(ap_titan_parse_time("2021-07-19T20:35:38.2Z", &ns));
    assert_int_equal(ns, base + 200000000);
    assert_true(ap_titan_parse_time("2021-07-19T20:35:38.123456Z", &ns));
    assert_int_equal(ns, base + 123456000);
    assert_true(ap_titan_parse_time("2021-07-19T15:35:38-05:00", &ns));
    assert_int_equal(ns, base);
    assert_true(ap_titan_parse_time("2021-07-19T22:35:38.5+0200", &ns));
    assert_int_equal(ns, base + 500000000);
    assert_true(ap_titan_parse_time("2021-07-19T20:35:38", &ns)); /* no offset: UTC */
    assert_int_equal(ns, base);
    assert_true(ap_titan_parse_time("2021-07-19", &ns));
    assert_int_equal(ns, base - (20 * 3600 + 35 * 60 + 38) * 1000000000LL);
    assert_true(ap_titan_parse_time("2024-02-29T00:00:00Z", &ns));

    const char *bad[] = {"",
                         "2021-07-19T20:35:38.12345678Z", /* 8 digits */
                         "2021-07-19T20:35:38.Z",
                         "2021-13-01",
                         "2023-02-29",
                         "2021-07-19T24:00:00Z",
                         "2021-07-19T20:35:38Zjunk",
                         "21-07-19",
                         "2021-07-19T20:35:38+25:00",
                         "1500-01-01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ap_titan_parse_time(bad[i], &ns));
}

static void test_env(void **state)
{
    (void)state;
    enum ap_titan_env env;
    assert_int_equal(ap_titan_env_parse("production", &env), AP_OK);
    assert_int_equal(env, AP_TITAN_PRODUCTION);
    assert_int_equal(ap_titan_env_parse("integration", &env), AP_OK);
    assert_int_equal(env, AP_TITAN_INTEGRATION);
    assert_int_equal(ap_titan_env_parse("custom", &env), AP_OK);
    assert_int_equal(ap_titan_env_parse("staging", &env), AP_EINVAL);
    assert_string_equal(ap_titan_env_name(AP_TITAN_INTEGRATION), "integration");
    assert_non_null(strstr(ap_titan_app_access_url(AP_TITAN_PRODUCTION), "go.servicetitan.com"));
    assert_non_null(
        strstr(ap_titan_app_access_url(AP_TITAN_INTEGRATION), "integration.servicetitan.com"));
    assert_null(ap_titan_app_access_url(AP_TITAN_CUSTOM));

    char err[256];
    struct ap_titan_config c = {.env = AP_TITAN_CUSTOM, .app_key = "ak1.x"};
    assert_null(ap_titan_new(&c, err, sizeof(err)));
    assert_non_null(strstr(err, "st-auth-url"));
    c = (struct ap_titan_config){.env = AP_TITAN_INTEGRATION};
    assert_null(ap_titan_new(&c, err, sizeof(err)));
    assert_non_null(strstr(err, "APPOINTD_ST_APP_KEY"));
    c.app_key = "ak1.x";
    struct ap_titan *t = ap_titan_new(&c, err, sizeof(err));
    assert_non_null(t);
    assert_string_equal(t->token_url, "https://auth-integration.servicetitan.io/connect/token");
    assert_string_equal(t->api_base, "https://api-integration.servicetitan.io");
    ap_titan_free(t);
    c.env = AP_TITAN_PRODUCTION;
    t = ap_titan_new(&c, err, sizeof(err));
    assert_string_equal(t->token_url, "https://auth.servicetitan.io/connect/token");
    assert_string_equal(t->api_base, "https://api.servicetitan.io");
    ap_titan_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_grows_and_caps),
        cmocka_unit_test(test_backoff_jitter_bounds),
        cmocka_unit_test(test_retry_after_forms),
        cmocka_unit_test(test_status_mapping),
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_error_body_truncates),
        cmocka_unit_test(test_token_response),
        cmocka_unit_test(test_jwt_claims),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_call.c — unit tests of the blocking calls (ap_titan_call and the
 * iterators) against the ServiceTitan stand-in (standin.c), which answers
 * from a script. Tokens come from an injected fetch, every wait of the
 * engine advances the fake clock, so retries and backoff cost no wall time.
 * Each test checks what the caller got (result, error, attempts) and what
 * the stand-in saw (requests, headers, tokens). The asynchronous engine's
 * own tests are in test_engine.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/mem.h"
#include "standin.h"
#include "titan/titan_int.h"

#define SEC 1000000000LL

/* ---- the client under test ---------------------------------------------- */

static _Atomic int fetches;
static int64_t slept[64];
static int nslept;

static enum ap_err fake_fetch(void *ud, const struct ap_titan_creds *c,
                              struct ap_titan_token_resp *out, struct ap_titan_error *e)
{
    (void)ud;
    (void)c;
    (void)e;
    out->access_token = ap_xasprintf("tok-%d", atomic_fetch_add(&fetches, 1) + 1);
    out->expires_in = 900;
    out->scope = ap_xstrdup("");
    return AP_OK;
}

static void fake_sleep(void *ud, int64_t ns)
{
    (void)ud;
    if (nslept < 64)
        slept[nslept++] = ns;
    ap_clock_fake_advance(ns);
}

static uint32_t fixed_random(void *ud)
{
    (void)ud;
    return 0; /* the low end of the jitter: step / 2 */
}

static const struct ap_titan_creds creds = {1234567, "cid.abc", "cs2.secret"};

static struct ap_titan *client(int port, int budget_ms)
{
    char err[128], url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    struct ap_titan_config c = {.env = AP_TITAN_CUSTOM,
                                .auth_url = url,
                                .api_url = url,
                                .app_key = "ak1.appkey",
                                .rate_limit = 1e6,
                                .retry_budget_ms = budget_ms};
    struct ap_titan_hooks h = {
        .fetch_token = fake_fetch, .sleep_ns = fake_sleep, .random = fixed_random};
    struct ap_titan *t = ap_titan_new(&c, err, sizeof(err));
    assert_non_null(t);
    ap_titan_set_hooks(t, &h);
    return t;
}

static int setup(void **state)
{
    (void)state;
    atomic_store(&fetches, 0);
    nslept = 0;
    ap_clock_fake_begin(1700000000LL * SEC, 5000 * SEC);
    si_start();
    *state = client(si.port, 0);
    return 0;
}

static int teardown(void **state)
{
    ap_titan_free(*state);
    si_stop();
    ap_clock_fake_end();
    return 0;
}

static enum ap_err get(struct ap_titan *t, json_t **out, struct ap_titan_error *e)
{
    return ap_titan_call(t, &creds, "GET", "settings", "/business-units", "pageSize=5", NULL, out,
                         e);
}

static void test_headers_and_url(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    json_t *out = NULL, *body = json_pack("{s:s}", "name", "Jo");
    const struct si_reply r[] = {{200, NULL, "{\"id\":7}"}};

    si_script(r, 1);
    assert_int_equal(ap_titan_call(t, &creds, "POST", "crm", "/customers", NULL, body, &out, &e),
                     AP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "id")), 7);
    assert_int_equal(si.nseen, 1);
    assert_true(strncmp(si.seen[0], "POST /crm/v2/tenant/1234567/customers HTTP/1.1", 46) == 0);
    assert_non_null(strstr(si.seen[0], "ST-App-Key: ak1.appkey\r\n"));
    assert_non_null(strstr(si.seen[0], "Authorization: Bearer tok-1\r\n"));
    assert_non_null(strstr(si.seen[0], "Content-Type: application/json\r\n"));
    assert_non_null(strstr(si.seen[0], "Accept: application/json\r\n"));
    assert_string_equal(si.seen_body[0], "{\"name\":\"Jo\"}");
    json_decref(out);
    json_decref(body);
    /* the query string is passed on; the token is reused */
    si_script(r, 1);
    assert_int_equal(get(t, NULL, &e), AP_OK);
    assert_true(
        strncmp(si.seen[0], "GET /settings/v2/tenant/1234567/business-units?pageSize=5 ", 58) == 0);
    assert_int_equal(fetches, 1);
}

static void test_429_retry_after_header(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    json_t *out = NULL;
    struct ap_titan_stats st;
    const struct si_reply r[] = {{429, "Retry-After: 2\r\n", "{\"title\":\"Slow down\"}"},
                                 {200, NULL, "{\"data\":[]}"}};

    si_script(r, 2);
    assert_int_equal(get(t, &out, &e), AP_OK);
    assert_int_equal(e.attempts, 2);
    assert_int_equal(nslept, 1);
    assert_int_equal(slept[0], 2 * SEC);
    ap_titan_stats(t, &st);
    assert_int_equal(st.http_429, 1);
    assert_int_equal(st.retries, 1);
    json_decref(out);
}

static void test_429_title_seconds(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    const struct si_reply r[] = {
        {429, NULL,
         "{\"title\":\"Rate limit is exceeded. Try again in 3 seconds.\",\"status\":429}"},
        {200, NULL, "{}"}};

    si_script(r, 2);
    assert_int_equal(get(t, NULL, &e), AP_OK);
    assert_int_equal(slept[0], 3 * SEC);
}

static void test_429_storm_gives_busy(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    const struct si_reply r[] = {{429, NULL, "{}"},
                                 {429, NULL, "{}"},
                                 {429, NULL, "{}"},
                                 {429, NULL, "{\"title\":\"Too many\",\"traceId\":\"t-4\"}"}};

    si_script(r, 4);
    assert_int_equal(get(t, NULL, &e), AP_EBUSY);
    assert_int_equal(e.status, 429);
    assert_int_equal(e.stage, AP_TITAN_STAGE_API);
    assert_int_equal(e.attempts, 4); /* max_attempts */
    assert_string_equal(e.trace_id, "t-4");
    /* no Retry-After: the backoff, growing (jitter at its low end) */
    assert_int_equal(nslept, 3);
    assert_int_equal(slept[0], 100 * 1000000LL);
    assert_int_equal(slept[1], 200 * 1000000LL);
    assert_int_equal(slept[2], 400 * 1000000LL);
}

static void test_retry_budget(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    struct ap_titan *small = client(si.port, 10000);
    const struct si_reply r[] = {{429, "Retry-After: 100\r\n", "{}"}, {200, NULL, "{}"}};

    (void)t;
    si_script(r, 2);
    /* waiting 100 s does not fit a 10 s budget: the caller hears it at once,
     * with ServiceTitan's answer and its Retry-After */
    assert_int_equal(get(small, NULL, &e), AP_ETIMEOUT);
    assert_int_equal(e.attempts, 1);
    assert_int_equal(e.status, 429);
    assert_int_equal(e.retry_after_s, 100);
    assert_non_null(strstr(e.title, "Retry-After of 100 s"));
    assert_int_equal(nslept, 0);
    assert_int_equal(si.nseen, 1);
    ap_titan_free(small);
}

static void test_5xx_retried(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    const struct si_reply ok[] = {{503, NULL, "oops"}, {500, NULL, "{}"}, {200, NULL, "{}"}};
    const struct si_reply bad[] = {{500, NULL, "{}"},
                                   {502, NULL, "{}"},
                                   {503, NULL, "{}"},
                                   {504, NULL, "{\"title\":\"Gateway Timeout\"}"}};

    si_script(ok, 3);
    assert_int_equal(get(t, NULL, &e), AP_OK);
    assert_int_equal(e.attempts, 3);
    si_script(bad, 4);
    assert_int_equal(get(t, NULL, &e), AP_EUNAVAIL);
    assert_int_equal(e.status, 504);
    assert_int_equal(e.attempts, 4);
    assert_int_equal(si.nseen, 4);
}

static void test_no_retry_for_client_errors(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    const struct {
        int status;
        enum ap_err err;
    } cases[] = {{400, AP_EINVAL},
                 {403, AP_EPERM},
                 {404, AP_ENOTFOUND},
                 {409, AP_ECONFLICT},
                 {422, AP_EINVAL}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct si_reply r[] = {{cases[i].status, NULL,
                                      "{\"title\":\"Nope\",\"status\":0,\"traceId\":\"tr-1\","
                                      "\"errors\":{\"name\":[\"Name is required.\"]}}"},
                                     {200, NULL, "{}"}};
        si_script(r, 2);
        assert_int_equal(get(t, NULL, &e), cases[i].err);
        assert_int_equal(e.status, cases[i].status);
        assert_int_equal(e.attempts, 1);
        assert_int_equal(si.nseen, 1);
        assert_string_equal(e.title, "Nope");
        assert_string_equal(e.trace_id, "tr-1");
        assert_string_equal(e.fields, "name: Name is required.");
    }
    assert_int_equal(nslept, 0);
}

static void test_401_refresh_once(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    struct ap_titan_stats st;
    const struct si_reply once[] = {{200, NULL, "{}"}, {401, NULL, "{}"}, {200, NULL, "{}"}};
    const struct si_reply twice[] = {
        {401, NULL, "{}"}, {401, NULL, "{\"title\":\"expired\"}"}, {200, NULL, "{}"}};

    si_script(once, 3);
    assert_int_equal(get(t, NULL, &e), AP_OK);
    assert_int_equal(get(t, NULL, &e), AP_OK);
    assert_int_equal(e.attempts, 2);
    assert_non_null(strstr(si.seen[1], "Bearer tok-1\r\n"));
    assert_non_null(strstr(si.seen[2], "Bearer tok-2\r\n"));
    assert_int_equal(fetches, 2);
    /* a fresh token refused too: that is final */
    si_script(twice, 3);
    assert_int_equal(get(t, NULL, &e), AP_EPERM);
    assert_int_equal(e.status, 401);
    assert_int_equal(e.attempts, 2);
    assert_int_equal(si.nseen, 2);
    assert_int_equal(fetches, 3);
    ap_titan_stats(t, &st);
    assert_int_equal(st.http_401, 3);
    assert_int_equal(nslept, 0);
}

static void test_network_error(void **state)
{
    (void)state;
    struct ap_titan_error e;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);

    /* a port that was free a moment ago: connection refused */
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);
    close(fd);
    struct ap_titan *t = client(port, 0);
    assert_int_equal(get(t, NULL, &e), AP_EUNAVAIL);
    assert_int_equal(e.stage, AP_TITAN_STAGE_NETWORK);
    assert_int_equal(e.status, 0);
    assert_int_equal(e.attempts, 4);
    assert_true(e.title[0] != '\0');
    ap_titan_free(t);
}

/* Issue 8 item 3: a ServiceTitan that answers 429 + Retry-After: 1 to the
 * first call of every token. A connect-like sequence (a token check, then
 * several reads) must succeed on one token: a 429 says nothing about the
 * token, only a 401 makes it stale. */
static void test_429_keeps_the_token(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    struct ap_titan_stats st;

    si_script(NULL, 0);
    si.first_call_429 = true;
    assert_int_equal(ap_titan_token(t, &creds, true, NULL, &e), AP_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(get(t, NULL, &e), AP_OK);
        assert_int_equal(e.attempts, i == 0 ? 2 : 1);
    }
    assert_int_equal(fetches, 1);
    assert_int_equal(si.ntokens, 1);
    assert_int_equal(si.nseen, 5); /* one 429, four answers */
    assert_int_equal(nslept, 1);
    assert_int_equal(slept[0], 1 * SEC);
    ap_titan_stats(t, &st);
    assert_int_equal(st.token_fetches, 1);
    assert_int_equal(st.http_429, 1);
}

/* A 2xx that is not JSON: AP_EPARSE, counted as ServiceTitan's fault; an
 * empty 2xx is a success with no value. */
static void test_2xx_unreadable(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    struct ap_titan_stats st;
    json_t *stale = json_object(), *out = stale;
    const struct si_reply r[] = {{200, NULL, "<html>oops</html>"}, {204, NULL, ""}};

    si_script(r, 2);
    assert_int_equal(get(t, &out, &e), AP_EPARSE);
    assert_null(out);
    assert_int_equal(e.stage, AP_TITAN_STAGE_API);
    assert_int_equal(e.status, 200);
    assert_non_null(strstr(e.title, "unusable JSON"));
    assert_int_equal(e.attempts, 1);
    assert_int_equal(get(t, &out, &e), AP_OK);
    assert_null(out);
    ap_titan_stats(t, &st);
    assert_int_equal(st.server_errors, 1);
    assert_int_equal(st.ok, 1);
    json_decref(stale);
}

static bool collect(json_t *row, void *ud)
{
    json_array_append(ud, row);
    return true;
}

static void test_each_pages(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    json_t *rows = json_array();
    const struct si_reply r[] = {
        {200, NULL,
         "{\"page\":1,\"pageSize\":2,\"hasMore\":true,\"data\":[{\"id\":1},{\"id\":2}]}"},
        {200, NULL, "{\"page\":2,\"pageSize\":2,\"hasMore\":false,\"data\":[{\"id\":3}]}"}};

    si_script(r, 2);
    assert_int_equal(
        ap_titan_each(t, &creds, "crm", "/customers", "active=Any", 2, collect, rows, &e), AP_OK);
    assert_int_equal(json_array_size(rows), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 2), "id")), 3);
    assert_int_equal(si.nseen, 2);
    assert_non_null(strstr(si.seen[0], "customers?active=Any&page=1&pageSize=2 "));
    assert_non_null(strstr(si.seen[1], "customers?active=Any&page=2&pageSize=2 "));
    json_decref(rows);
}

static void test_export_continues(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    json_t *rows = json_array();
    char *next = NULL;
    const struct si_reply r[] = {
        {200, NULL, "{\"hasMore\":true,\"continueFrom\":\"a+b/c\",\"data\":[{\"id\":1}]}"},
        {200, NULL, "{\"hasMore\":false,\"continueFrom\":\"zz\",\"data\":[{\"id\":2}]}"}};

    si_script(r, 2);
    assert_int_equal(
        ap_titan_export(t, &creds, "crm", "customers", "2020-01-01", collect, rows, &next, &e),
        AP_OK);
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(next, "zz");
    assert_non_null(
        strstr(si.seen[0], "GET /crm/v2/tenant/1234567/export/customers?from=2020-01-01 "));
    assert_non_null(strstr(si.seen[1], "export/customers?from=a%2Bb%2Fc "));
    free(next);
    json_decref(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_headers_and_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_retry_after_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_title_seconds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_storm_gives_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_5xx_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_for_client_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_401_refresh_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_keeps_the_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_2xx_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_continues, setup, teardown),
    };
    si_no_proxy_env();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

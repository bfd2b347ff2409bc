/*
 * test_engine.c — unit tests of the asynchronous titan engine against the
 * ServiceTitan stand-in (standin.c), with real token requests over HTTP:
 *   - callbacks run once, on the engine thread; a blocking call made there
 *     is refused;
 *   - single flight over HTTP: calls queued while a token request is held
 *     share it (its token or its error); a burst of 401s costs one refresh;
 *     one token per (tenant, client id) however many calls;
 *   - an adversarial ServiceTitan: a POST applied then dropped (ambiguous:
 *     stage NETWORK, sent, not retried, not re-sent by libcurl); an answer
 *     slower than the deadline; a Retry-After longer than the deadline; the
 *     limiter holding a call past its deadline;
 *   - limiter waits on timers, not threads;
 *   - cancellation of one tenant, shutdown of all: every callback once;
 *   - the outcome counters.
 * Waits in the tests are on conditions (a 30 s guard fails instead of
 * hanging); no assertion depends on how long anything took.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "httpc/loop.h"
#include "standin.h"
#include "titan/titan_int.h"

#define SEC 1000000000LL
#define MS  1000000LL

/* ---- results of asynchronous calls ------------------------------------- */

struct result {
    int calls; /* how many times the callback ran */
    enum ap_err err;
    struct ap_titan_error e;
    long long id; /* the answer's "id", when there is one */
    bool on_engine;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
} done_count = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static struct ap_titan *cur; /* the client under test, for on_engine */

static void on_done(void *ud, enum ap_err err, json_t *body, const struct ap_titan_error *e)
{
    struct result *r = ud;

    r->calls++;
    r->err = err;
    r->e = *e;
    r->id = json_integer_value(json_object_get(body, "id"));
    r->on_engine = ap_httpc_loop_on_thread(cur->loop);
    pthread_mutex_lock(&done_count.mu);
    done_count.n++;
    pthread_cond_broadcast(&done_count.cv);
    pthread_mutex_unlock(&done_count.mu);
}

/* Waits until n callbacks ran in all (30 s guard). */
static void wait_done(int n)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&done_count.mu);
    while (done_count.n < n)
        assert_int_equal(pthread_cond_timedwait(&done_count.cv, &done_count.mu, &until), 0);
    pthread_mutex_unlock(&done_count.mu);
}

/* Runs on the engine after everything submitted before it started there. */
static void barrier_fn(void *arg)
{
    atomic_store((_Atomic bool *)arg, true);
}

static void engine_barrier(struct ap_titan *t)
{
    _Atomic bool hit = false;

    assert_int_equal(ap_httpc_loop_post(t->loop, barrier_fn, (void *)&hit), AP_OK);
    for (int i = 0; i < 3000 && !atomic_load(&hit); i++) {
        struct timespec ts = {0, 10 * MS};
        nanosleep(&ts, NULL);
    }
    assert_true(atomic_load(&hit));
}

/* ---- the client ----------------------------------------------------------- */

static const struct ap_titan_creds creds = {1234567, "cid.abc", "cs2.secret"};
static const struct ap_titan_creds creds_b = {7654321, "cid.other", "cs2.other"};

static struct ap_titan *client(double rate, const struct ap_titan_hooks *h)
{
    char err[128];
    struct ap_titan_config c = {.env = AP_TITAN_CUSTOM,
                                .auth_url = si_url(),
                                .api_url = si_url(),
                                .app_key = "ak1.appkey",
                                .rate_limit = rate > 0 ? rate : 1e6};
    struct ap_titan *t = ap_titan_new(&c, err, sizeof(err));

    assert_non_null(t);
    if (h)
        ap_titan_set_hooks(t, h);
    cur = t;
    return t;
}

static int setup(void **state)
{
    (void)state;
    si_start();
    done_count.n = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    si_stop();
    ap_clock_fake_end();
    return 0;
}

static const struct ap_titan_req get_bu = {"GET", "settings", "/business-units", "pageSize=5",
                                           NULL};

static void submit(struct ap_titan *t, const struct ap_titan_creds *c,
                   const struct ap_titan_req *req, const struct ap_titan_opts *o, struct result *r)
{
    memset(r, 0, sizeof(*r));
    assert_int_equal(ap_titan_call_async(t, c, req, o, on_done, r), AP_OK);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_async_call(void **state)
{
    struct ap_titan *t = client(0, NULL);
    struct result r;
    const struct si_reply rep[] = {{200, NULL, "{\"id\":42}"}};
    struct ap_titan_req bad = get_bu;

    si_script(rep, 1);
    submit(t, &creds, &get_bu, NULL, &r);
    wait_done(1);
    assert_int_equal(r.calls, 1);
    assert_true(r.on_engine);
    assert_int_equal(r.err, AP_OK);
    assert_int_equal(r.id, 42);
    assert_int_equal(r.e.stage, AP_TITAN_STAGE_NONE);
    assert_int_equal(si_token_requests(), 1);
    assert_non_null(strstr(si.seen[0], "Authorization: Bearer tok-1\r\n"));
    /* a refused submit never runs its callback */
    bad.path = "/a?b";
    assert_int_equal(ap_titan_call_async(t, &creds, &bad, NULL, on_done, &r), AP_EINVAL);
    ap_titan_free(t);
    assert_int_equal(r.calls, 1);
}

/* Sixteen calls queued while the token request is held at the stand-in's
 * gate: one token request, one token on every call. */
static void test_single_flight_over_http(void **state)
{
    struct ap_titan *t = client(0, NULL);
    struct result r[16];

    si.token_gate = true;
    for (int i = 0; i < 16; i++)
        submit(t, &creds, &get_bu, NULL, &r[i]);
    si_wait_token_gate();
    engine_barrier(t); /* all sixteen are queued on the fetch now */
    si_open_token_gate();
    wait_done(16);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(r[i].err, AP_OK);
        assert_non_null(strstr(si.seen[i], "Authorization: Bearer tok-1\r\n"));
    }
    assert_int_equal(si_token_requests(), 1);
    ap_titan_free(t);
}

static void test_single_flight_shares_refusal(void **state)
{
    struct ap_titan *t = client(0, NULL);
    struct result r[16];
    struct ap_titan_stats st;

    si.token_gate = true;
    si.token_reply = (struct si_reply){401, NULL, "{\"error\":\"invalid_client\"}"};
    for (int i = 0; i < 16; i++)
        submit(t, &creds, &get_bu, NULL, &r[i]);
    si_wait_token_gate();
    engine_barrier(t);
    si_open_token_gate();
    wait_done(16);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(r[i].err, AP_EPERM);
        assert_int_equal(r[i].e.stage, AP_TITAN_STAGE_TOKEN);
        assert_string_equal(r[i].e.oauth_error, "invalid_client");
    }
    assert_int_equal(si_token_requests(), 1);
    assert_int_equal(si_seen(), 0);
    ap_titan_stats(t, &st);
    assert_int_equal(st.client_errors, 16);
    ap_titan_free(t);
}

/* Two calls refused with the same token: one refresh between them. */
static void test_401_burst_one_refresh(void **state)
{
    struct ap_titan *t = client(0, NULL);
    struct result r[2];

    si.reject_token = "Bearer tok-1\r\n";
    si.token_gate = true;
    submit(t, &creds, &get_bu, NULL, &r[0]);
    submit(t, &creds, &get_bu, NULL, &r[1]);
    si_wait_token_gate();
    engine_barrier(t);
    si_open_token_gate();
    wait_done(2);
    assert_int_equal(r[0].err, AP_OK);
    assert_int_equal(r[1].err, AP_OK);
    assert_int_equal(r[0].e.attempts + r[1].e.attempts, 4);
    assert_int_equal(si_token_requests(), 2);
    ap_titan_free(t);
}

/* 200 calls over four tenants: one token each. */
static void test_one_token_per_tenant(void **state)
{
    struct ap_titan *t = client(0, NULL);
    static struct result r[200];
    struct ap_titan_stats st;

    for (int i = 0; i < 200; i++) {
        struct ap_titan_creds c = {1000 + i % 4, "cid.x", "cs2.x"};
        submit(t, &c, &get_bu, NULL, &r[i]);
    }
    wait_done(200);
    for (int i = 0; i < 200; i++)
        assert_int_equal(r[i].err, AP_OK);
    assert_int_equal(si_token_requests(), 4);
    ap_titan_stats(t, &st);
    assert_int_equal(st.token_fetches, 4);
    assert_int_equal(st.ok, 200);
    ap_titan_free(t);
}

/* The stand-in applies a POST and closes without answering: the caller gets
 * an ambiguous network error (sent), the POST is not retried, and libcurl
 * does not re-send it on another connection. A repeatable POST is retried. */
static void test_apply_then_drop(void **state)
{
    struct ap_titan *t = client(0, NULL);
    struct result warm, r, again;
    json_t *body = json_pack("{s:s}", "name", "Pat");
    struct ap_titan_req post = {"POST", "crm", "/customers", NULL, body};
    struct ap_titan_opts rep = {.repeatable = true};
    const struct si_reply script[] = {
        {200, NULL, "{}"}, {0, NULL, NULL, 0, true}, {0, NULL, NULL, 0, true}, {200, NULL, "{}"}};

    si_script(script, 4);
    submit(t, &creds, &get_bu, NULL, &warm); /* a connection to reuse is open */
    wait_done(1);
    submit(t, &creds, &post, NULL, &r);
    wait_done(2);
    assert_int_equal(r.err, AP_EUNAVAIL);
    assert_int_equal(r.e.stage, AP_TITAN_STAGE_NETWORK);
    assert_true(r.e.sent);
    assert_int_equal(r.e.status, 0);
    assert_int_equal(r.e.attempts, 1);
    assert_int_equal(si_seen(), 2); /* the POST reached the stand-in once */
    assert_string_equal(si.seen_body[1], "{\"name\":\"Pat\"}");
    /* the same POST marked repeatable (a query): retried after the drop */
    submit(t, &creds, &post, &rep, &again);
    wait_done(3);
    assert_int_equal(again.err, AP_OK);
    assert_true(again.e.attempts <= 2); /* libcurl may re-send it itself on a new connection */
    assert_int_equal(si_seen(), 4);
    json_decref(body);
    ap_titan_free(t);
}

/* The token request is dropped: a POST waiting for the token is retried
 * (its own request never left), and reaches the stand-in once. */
static void test_post_retried_after_token_drop(void **state)
{
    struct ap_titan *t = client(0, NULL);
    struct result r;
    struct ap_titan_req post = {"POST", "crm", "/customers", NULL, NULL};

    si.token_drops = 1;
    submit(t, &creds, &post, NULL, &r);
    wait_done(1);
    assert_int_equal(r.err, AP_OK);
    assert_int_equal(r.e.attempts, 2);
    assert_int_equal(si_token_requests(), 2);
    assert_int_equal(si_seen(), 1);
    ap_titan_free(t);
}

/* An answer slower than the caller's deadline: AP_ETIMEOUT when the deadline
 * passes, the request counted as sent (it may have been applied). */
static void test_slow_answer_past_deadline(void **state)
{
    struct ap_titan *t = client(0, NULL);
    struct result r;
    struct ap_titan_opts o = {.deadline_ns = ap_clock_mono_ns() + 300 * MS};
    const struct si_reply script[] = {{200, NULL, "{}", 20000, false}};
    struct ap_titan_stats st;

    si_script(script, 1);
    submit(t, &creds, &get_bu, &o, &r);
    wait_done(1);
    assert_int_equal(r.err, AP_ETIMEOUT);
    assert_int_equal(r.e.stage, AP_TITAN_STAGE_NETWORK);
    assert_true(r.e.sent);
    assert_non_null(strstr(r.e.title, "deadline"));
    assert_int_equal(si_seen(), 1);
    ap_titan_stats(t, &st);
    assert_int_equal(st.timeouts, 1);
    ap_titan_free(t);
}

/* ---- with the fake clock ------------------------------------------------- */

static int64_t slept[64];
static int nslept;

static void advance_sleep(void *ud, int64_t ns)
{
    (void)ud;
    if (nslept < 64)
        slept[nslept++] = ns;
    ap_clock_fake_advance(ns);
}

static void record_sleep(void *ud, int64_t ns)
{
    (void)ud;
    if (nslept < 64)
        slept[nslept++] = ns;
}

static struct ap_titan *fake_client(double rate, void (*sleep)(void *, int64_t))
{
    struct ap_titan_hooks h = {.sleep_ns = sleep};

    nslept = 0;
    ap_clock_fake_begin(1700000000LL * SEC, 5000 * SEC);
    return client(rate, &h);
}

/* 429 with a Retry-After longer than the deadline: the call ends at once
 * with the Retry-After in the error; nothing sleeps. */
static void test_retry_after_past_deadline(void **state)
{
    struct ap_titan *t = fake_client(0, advance_sleep);
    struct result r;
    struct ap_titan_opts o = {.deadline_ns = ap_clock_mono_ns() + 10 * SEC};
    const struct si_reply script[] = {{429, "Retry-After: 100\r\n", "{\"title\":\"Slow down\"}"},
                                      {200, NULL, "{}"}};

    si_script(script, 2);
    submit(t, &creds, &get_bu, &o, &r);
    wait_done(1);
    assert_int_equal(r.err, AP_ETIMEOUT);
    assert_int_equal(r.e.status, 429);
    assert_int_equal(r.e.retry_after_s, 100);
    assert_non_null(strstr(r.e.title, "Retry-After of 100 s"));
    assert_int_equal(nslept, 0);
    assert_int_equal(si_seen(), 1);
    ap_titan_free(t);
}

/* 5xx, then a success: retried with backoff on a timer. */
static void test_5xx_then_success(void **state)
{
    struct ap_titan *t = fake_client(0, advance_sleep);
    struct result r;
    const struct si_reply script[] = {{503, NULL, "{}"}, {500, NULL, "{}"}, {200, NULL, "{}"}};
    struct ap_titan_stats st;

    si_script(script, 3);
    submit(t, &creds, &get_bu, NULL, &r);
    wait_done(1);
    assert_int_equal(r.err, AP_OK);
    assert_int_equal(r.e.attempts, 3);
    assert_int_equal(nslept, 2);
    ap_titan_stats(t, &st);
    assert_int_equal(st.retries, 2);
    assert_int_equal(si_token_requests(), 1);
    ap_titan_free(t);
}

/* The limiter at 10/s (burst 1) with the clock held still: the first call
 * goes, the others wait on timers for their slots (100 ms apart) and go when
 * the clock reaches them; a call whose slot is past its deadline ends at once
 * without being sent. */
static void test_limiter_waits_on_timers(void **state)
{
    struct ap_titan *t = fake_client(10, record_sleep);
    struct result r[6];
    struct ap_titan_opts soon = {.deadline_ns = ap_clock_mono_ns() + 450 * MS};
    struct ap_titan_stats st;

    for (int i = 0; i < 5; i++)
        submit(t, &creds, &get_bu, NULL, &r[i]);
    submit(t, &creds, &get_bu, &soon, &r[5]);
    si_wait_seen(1);
    engine_barrier(t);
    wait_done(2); /* the first call, and the one past its deadline */
    assert_int_equal(r[5].err, AP_ETIMEOUT);
    assert_int_equal(r[5].e.stage, AP_TITAN_STAGE_NONE);
    assert_non_null(strstr(r[5].e.title, "rate limit"));
    assert_int_equal(si_seen(), 1);
    assert_int_equal(nslept, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(slept[i], (i + 1) * 100 * MS);
    ap_clock_fake_advance(400 * MS);
    wait_done(6);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r[i].err, AP_OK);
    assert_int_equal(si_seen(), 5);
    ap_titan_stats(t, &st);
    assert_int_equal(st.rate_limited_waits, 4);
    assert_int_equal(st.timeouts, 1);
    ap_titan_free(t);
}

/* ---- cancellation ----------------------------------------------------------- */

/* A disconnect: the tenant's call in flight and its call waiting out a
 * Retry-After end canceled; another tenant's call is untouched. */
static void test_cancel_tenant(void **state)
{
    struct ap_titan *t = client(0, NULL);
    struct result waiting, flying, other;
    struct ap_titan_opts o = {.deadline_ns = ap_clock_mono_ns() + 600 * SEC};
    const struct si_reply script[] = {{429, "Retry-After: 300\r\n", "{}"},
                                      {200, NULL, "{}", 20000, false},
                                      {200, NULL, "{\"id\":7}"}};
    struct ap_titan_stats st;

    si_script(script, 3);
    submit(t, &creds, &get_bu, &o, &waiting);
    si_wait_seen(1);
    submit(t, &creds, &get_bu, &o, &flying);
    si_wait_seen(2);
    ap_titan_cancel_tenant(t, creds.tenant_id);
    wait_done(2);
    assert_int_equal(waiting.err, AP_EUNAVAIL);
    assert_int_equal(waiting.e.stage, AP_TITAN_STAGE_CANCELED);
    assert_int_equal(waiting.e.status, 429);
    assert_non_null(strstr(waiting.e.title, "disconnected"));
    assert_int_equal(flying.err, AP_EUNAVAIL);
    assert_int_equal(flying.e.stage, AP_TITAN_STAGE_CANCELED);
    assert_true(flying.e.sent);
    submit(t, &creds_b, &get_bu, NULL, &other);
    wait_done(3);
    assert_int_equal(other.err, AP_OK);
    assert_int_equal(other.id, 7);
    ap_titan_stats(t, &st);
    assert_int_equal(st.canceled, 2);
    assert_int_equal(st.ok, 1);
    ap_titan_free(t);
}

/* Shutdown with calls in every state: each callback runs once, canceled;
 * afterwards submits are refused and blocking calls return at once. */
static void test_shutdown(void **state)
{
    struct ap_titan *t = client(0, NULL);
    struct result r[3], late;
    struct ap_titan_opts o = {.deadline_ns = ap_clock_mono_ns() + 600 * SEC};
    const struct si_reply script[] = {{429, "Retry-After: 300\r\n", "{}"},
                                      {200, NULL, "{}", 20000, false}};
    struct ap_titan_error e;
    struct ap_titan_stats st;

    si_script(script, 2);
    submit(t, &creds, &get_bu, &o, &r[0]);
    si_wait_seen(1);
    submit(t, &creds, &get_bu, &o, &r[1]);
    si_wait_seen(2);
    si.token_gate = true;
    submit(t, &creds_b, &get_bu, &o, &r[2]); /* waits for its token */
    si_wait_token_gate();
    ap_titan_stats(t, &st);
    assert_int_equal(st.in_flight, 3);
    ap_titan_shutdown(t);
    assert_int_equal(done_count.n, 3);
    ap_titan_stats(t, &st);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.canceled, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].err, AP_EUNAVAIL);
        assert_int_equal(r[i].e.stage, AP_TITAN_STAGE_CANCELED);
        assert_non_null(strstr(r[i].e.title, "shutting down"));
    }
    memset(&late, 0, sizeof(late));
    assert_int_equal(ap_titan_call_async(t, &creds, &get_bu, NULL, on_done, &late), AP_EUNAVAIL);
    assert_int_equal(ap_titan_call(t, &creds, "GET", "crm", "/customers", NULL, NULL, NULL, &e),
                     AP_EUNAVAIL);
    assert_int_equal(e.stage, AP_TITAN_STAGE_CANCELED);
    ap_titan_free(t);
    assert_int_equal(late.calls, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r[i].calls, 1);
}

/* A blocking call from a callback would wait for itself: refused. */
static enum ap_err nested_err = AP_OK;

static void call_inside(void *ud, enum ap_err err, json_t *body, const struct ap_titan_error *e)
{
    struct ap_titan_error e2;

    nested_err = ap_titan_call(cur, &creds, "GET", "crm", "/customers", NULL, NULL, NULL, &e2);
    on_done(ud, err, body, e);
}

static void test_blocking_on_engine_refused(void **state)
{
    struct ap_titan *t = client(0, NULL);
    struct result r = {0};

    assert_int_equal(ap_titan_call_async(t, &creds, &get_bu, NULL, call_inside, &r), AP_OK);
    wait_done(1);
    assert_int_equal(r.err, AP_OK);
    assert_int_equal(nested_err, AP_EINTERNAL);
    ap_titan_free(t);
}

/* How calls ended, counted. */
static void test_outcome_counters(void **state)
{
    struct ap_titan *t = client(0, NULL);
    struct result r[6];
    struct ap_titan_opts once = {.max_attempts = 1};
    struct ap_titan_req post = {"POST", "crm", "/customers", NULL, NULL};
    const struct si_reply script[] = {
        {200, NULL, "{}"},        {404, NULL, "{\"title\":\"Customer not found\"}"},
        {500, NULL, "{}"},        {429, NULL, "{}"},
        {0, NULL, NULL, 0, true}, {200, NULL, "{\"a\":1,\"a\":2}"}};
    struct ap_titan_stats st;

    si_script(script, 6);
    for (int i = 0; i < 6; i++) { /* the drop on a POST: a GET libcurl would re-send itself */
        submit(t, &creds, i != 4 ? &get_bu : &post, &once, &r[i]);
        wait_done(i + 1);
    }
    assert_int_equal(r[1].err, AP_ENOTFOUND);
    assert_string_equal(r[1].e.title, "Customer not found");
    assert_int_equal(r[2].err, AP_EUNAVAIL);
    assert_int_equal(r[3].err, AP_EBUSY);
    assert_int_equal(r[4].err, AP_EUNAVAIL);
    assert_int_equal(r[4].e.stage, AP_TITAN_STAGE_NETWORK);
    assert_int_equal(r[5].err, AP_EPARSE); /* duplicate keys: the json adapter's limits */
    ap_titan_stats(t, &st);
    assert_int_equal(st.calls, 6);
    assert_int_equal(st.ok, 1);
    assert_int_equal(st.client_errors, 1);
    assert_int_equal(st.server_errors, 2);
    assert_int_equal(st.rate_limited, 1);
    assert_int_equal(st.network_errors, 1);
    assert_int_equal(st.http_429, 1);
    assert_int_equal(st.retries, 0);
    ap_titan_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_async_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_flight_over_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_flight_shares_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_401_burst_one_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_token_per_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_then_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_retried_after_token_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_answer_past_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_past_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_5xx_then_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limiter_waits_on_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocking_on_engine_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcome_counters, setup, teardown),
    };
    si_no_proxy_env();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

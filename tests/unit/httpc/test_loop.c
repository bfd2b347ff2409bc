/*
 * test_loop.c — unit tests of the event-driven HTTP client (httpc/loop.h)
 * against the in-test HTTP/1.1 server (testsrv.c): requests from any thread
 * with callbacks on the loop thread, many in flight at once on one thread,
 * connection reuse and fresh connections, per-request timeouts, a request
 * the server read and dropped (sent, no answer), aborts, timers in order,
 * FIFO posting from many threads, and a shutdown that completes everything
 * exactly once. Nothing here depends on how long anything takes: waits are
 * on conditions (with a generous guard so a bug fails instead of hanging).
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
#include <unistd.h>

#include "core/clock.h"
#include "httpc/loop.h"
#include "testsrv.h"

#define NS_PER_MS 1000000LL

/* ---- waiting for callbacks ---------------------------------------------- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} latch = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void latch_reset(void)
{
    pthread_mutex_lock(&latch.mu);
    latch.done = 0;
    pthread_mutex_unlock(&latch.mu);
}

static void latch_hit(void)
{
    pthread_mutex_lock(&latch.mu);
    latch.done++;
    pthread_cond_broadcast(&latch.cv);
    pthread_mutex_unlock(&latch.mu);
}

/* Waits until n callbacks ran; fails the test after 30 s (a hang guard). */
static void latch_wait(int n)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&latch.mu);
    while (latch.done < n)
        assert_int_equal(pthread_cond_timedwait(&latch.cv, &latch.mu, &until), 0);
    pthread_mutex_unlock(&latch.mu);
}

/* Polls f until it is true (server-side counters); same guard. */
static void wait_until(bool (*f)(int), int arg)
{
    for (int i = 0; i < 3000 && !f(arg); i++)
        usleep(10000);
    assert_true(f(arg));
}

static bool requests_at_least(int n)
{
    return server_requests() >= n;
}

/* ---- what a callback saw -------------------------------------------------- */

struct outcome {
    struct ap_httpc_loop *l;
    enum ap_err err;
    long status;
    bool sent, canceled, on_loop;
    int calls; /* how many times done ran */
    char body[64], retry_after[16];
};

static void on_done(void *arg, enum ap_err err, struct ap_httpc_resp *resp)
{
    struct outcome *o = arg;
    const char *ra = ap_httpc_resp_header(resp, "Retry-After");

    o->err = err;
    o->status = resp->status;
    o->sent = resp->sent;
    o->canceled = resp->canceled;
    o->on_loop = ap_httpc_loop_on_thread(o->l);
    o->calls++;
    snprintf(o->body, sizeof(o->body), "%s", resp->body ? resp->body : "");
    snprintf(o->retry_after, sizeof(o->retry_after), "%s", ra ? ra : "");
    latch_hit();
}

static struct ap_httpc_loop *loop_new(void)
{
    char err[128] = "";
    struct ap_httpc_loop_opts o = {.thread_name = "test-httpc"};
    struct ap_httpc_loop *l = ap_httpc_loop_new(&o, err, sizeof(err));

    assert_non_null(l);
    latch_reset();
    return l;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_submit_round_trip(void **state)
{
    struct ap_httpc_loop *l = loop_new();
    struct outcome o = {.l = l};
    const char *hdrs[] = {"ST-App-Key: ak1.test", NULL};
    struct ap_httpc_req req = {.method = "POST",
                               .url = url("/crm/v2/tenant/7/customers"),
                               .headers = hdrs,
                               .body = "{\"a\":1}",
                               .body_len = 7};

    srv.status = 429;
    srv.reply_headers = "Retry-After: 3\r\n";
    assert_int_equal(ap_httpc_submit(l, &req, NULL, on_done, &o), AP_OK);
    latch_wait(1);
    assert_int_equal(o.calls, 1);
    assert_true(o.on_loop);
    assert_int_equal(o.err, AP_OK);
    assert_int_equal(o.status, 429);
    assert_true(o.sent);
    assert_false(o.canceled);
    assert_string_equal(o.body, "{\"ok\":true}");
    assert_string_equal(o.retry_after, "3");
    assert_true(saw_line("POST /crm/v2/tenant/7/customers HTTP/1.1"));
    assert_true(saw_line("ST-App-Key: ak1.test"));
    assert_string_equal(srv.body, "{\"a\":1}");
    ap_httpc_loop_free(l);
    assert_int_equal(o.calls, 1);
}

/* Twenty slow requests at once on the one loop thread: each holds its own
 * connection while the server sits on it, so twenty connections prove they
 * were in flight together. */
static void test_many_in_flight(void **state)
{
    struct ap_httpc_loop *l = loop_new();
    struct outcome o[20];
    struct ap_httpc_req req = {.url = url("/slow")};
    struct ap_httpc_loop_stats st;

    srv.delay_ms = 500;
    for (int i = 0; i < 20; i++) {
        o[i] = (struct outcome){.l = l};
        assert_int_equal(ap_httpc_submit(l, &req, NULL, on_done, &o[i]), AP_OK);
    }
    latch_wait(20);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(o[i].err, AP_OK);
        assert_int_equal(o[i].status, 200);
        assert_int_equal(o[i].calls, 1);
    }
    assert_int_equal(server_requests(), 20);
    assert_int_equal(server_conns(), 20);
    ap_httpc_loop_stats(l, &st);
    assert_int_equal(st.started, 20);
    assert_int_equal(st.completed, 20);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.connections_opened, 20);
    ap_httpc_loop_free(l);
}

/* A chain of requests, each started from the previous one's callback. */
struct chain {
    struct ap_httpc_loop *l;
    int left;
    bool fresh;
    enum ap_err last;
};

static void chain_next(void *arg, enum ap_err err, struct ap_httpc_resp *resp)
{
    struct chain *c = arg;
    struct ap_httpc_req req = {.url = url("/again")};
    struct ap_httpc_req_opts o = {.fresh_connect = c->fresh};

    c->last = err;
    if (err == AP_OK && --c->left > 0 &&
        ap_httpc_start(c->l, &req, &o, chain_next, c, NULL) == AP_OK)
        return;
    latch_hit();
}

static void chain_first(void *arg)
{
    chain_next(arg, AP_OK, NULL);
}

static void test_connection_reuse(void **state)
{
    struct ap_httpc_loop *l = loop_new();
    struct chain c = {.l = l, .left = 6};
    struct ap_httpc_loop_stats st;

    assert_int_equal(ap_httpc_loop_post(l, chain_first, &c), AP_OK);
    latch_wait(1);
    assert_int_equal(c.last, AP_OK);
    assert_int_equal(server_requests(), 5);
    assert_int_equal(server_conns(), 1);
    /* fresh_connect: a new connection each time */
    c = (struct chain){.l = l, .left = 4, .fresh = true};
    assert_int_equal(ap_httpc_loop_post(l, chain_first, &c), AP_OK);
    latch_wait(2);
    assert_int_equal(server_requests(), 8);
    assert_int_equal(server_conns(), 4);
    ap_httpc_loop_stats(l, &st);
    assert_int_equal(st.connections_opened, 4);
    ap_httpc_loop_free(l);
}

static void test_per_request_timeout(void **state)
{
    struct ap_httpc_loop *l = loop_new();
    struct outcome o = {.l = l};
    struct ap_httpc_req req = {.url = url("/slow")};
    struct ap_httpc_req_opts ro = {.total_timeout_ms = 200};

    srv.delay_ms = 10000;
    assert_int_equal(ap_httpc_submit(l, &req, &ro, on_done, &o), AP_OK);
    latch_wait(1);
    assert_int_equal(o.err, AP_ETIMEOUT);
    assert_int_equal(o.status, 0);
    assert_true(o.sent);
    assert_false(o.canceled);
    ap_httpc_loop_free(l);
}

/* The server reads a POST and closes without answering: no answer, but the
 * request was sent (the server may have applied it). With fresh_connect it
 * reaches the server exactly once even though a reusable connection is
 * there (libcurl re-sends on a dead reused connection). */
static void test_sent_then_dropped(void **state)
{
    struct ap_httpc_loop *l = loop_new();
    struct outcome o = {.l = l}, g = {.l = l};
    struct ap_httpc_req get = {.url = url("/warm")};
    struct ap_httpc_req post = {
        .method = "POST", .url = url("/jpm/v2/tenant/7/jobs"), .body = "{}", .body_len = 2};
    struct ap_httpc_req_opts fresh = {.fresh_connect = true};

    assert_int_equal(ap_httpc_submit(l, &get, NULL, on_done, &g), AP_OK);
    latch_wait(1);
    assert_int_equal(g.status, 200);
    srv.drop = true;
    assert_int_equal(ap_httpc_submit(l, &post, &fresh, on_done, &o), AP_OK);
    latch_wait(2);
    assert_int_equal(o.err, AP_EUNAVAIL);
    assert_int_equal(o.status, 0);
    assert_true(o.sent);
    assert_false(o.canceled);
    assert_int_equal(server_requests(), 2);
    ap_httpc_loop_free(l);
}

static void test_refused_is_not_sent(void **state)
{
    struct ap_httpc_loop *l = loop_new();
    struct outcome o = {.l = l};
    char u[64];
    int port, fd = listen_any(&port);
    struct ap_httpc_req req = {.method = "POST", .url = u, .body = "{}", .body_len = 2};

    close(fd);
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/x", port);
    assert_int_equal(ap_httpc_submit(l, &req, NULL, on_done, &o), AP_OK);
    latch_wait(1);
    assert_int_equal(o.err, AP_EUNAVAIL);
    assert_false(o.sent);
    ap_httpc_loop_free(l);
}

/* Aborting from the loop thread: done runs later, once, canceled. */
struct aborter {
    struct ap_httpc_loop *l;
    struct ap_httpc_xfer *x;
    struct outcome o;
    bool in_abort, ran_inside;
};

static void abort_done(void *arg, enum ap_err err, struct ap_httpc_resp *resp)
{
    struct aborter *a = arg;

    a->ran_inside = a->in_abort;
    on_done(&a->o, err, resp);
}

static void abort_start(void *arg)
{
    struct aborter *a = arg;
    struct ap_httpc_req req = {.url = url("/slow")};

    assert_int_equal(ap_httpc_start(a->l, &req, NULL, abort_done, a, &a->x), AP_OK);
}

static void abort_now(void *arg)
{
    struct aborter *a = arg;

    a->in_abort = true;
    ap_httpc_abort(a->l, a->x);
    ap_httpc_abort(a->l, a->x); /* twice is harmless */
    a->in_abort = false;
}

static void test_abort(void **state)
{
    struct ap_httpc_loop *l = loop_new();
    struct aborter a = {.l = l, .o = {.l = l}};

    srv.delay_ms = 10000;
    assert_int_equal(ap_httpc_loop_post(l, abort_start, &a), AP_OK);
    wait_until(requests_at_least, 1);
    assert_int_equal(ap_httpc_loop_post(l, abort_now, &a), AP_OK);
    latch_wait(1);
    assert_int_equal(a.o.calls, 1);
    assert_false(a.ran_inside);
    assert_int_equal(a.o.err, AP_EUNAVAIL);
    assert_true(a.o.canceled);
    assert_true(a.o.sent);
    ap_httpc_loop_free(l);
    assert_int_equal(a.o.calls, 1);
}

/* Timers fire in due order (ties in start order); a stopped one never. */
struct timers {
    struct ap_httpc_loop *l;
    char order[16];
    int n;
    bool canceled[8];
};

static struct timers tms;

static void tm_fire(void *arg, bool canceled)
{
    int i = (int)(intptr_t)arg;

    tms.order[tms.n++] = (char)('0' + i);
    tms.canceled[i] = canceled;
    latch_hit();
}

static void tm_start(void *arg)
{
    int64_t now = ap_clock_mono_ns();
    struct ap_httpc_timer *stop = NULL;

    (void)arg;
    assert_int_equal(ap_httpc_timer_start(tms.l, now + 60 * NS_PER_MS, tm_fire, (void *)3, NULL),
                     AP_OK);
    assert_int_equal(ap_httpc_timer_start(tms.l, now + 20 * NS_PER_MS, tm_fire, (void *)1, NULL),
                     AP_OK);
    assert_int_equal(ap_httpc_timer_start(tms.l, now + 20 * NS_PER_MS, tm_fire, (void *)2, &stop),
                     AP_OK);
    assert_int_equal(ap_httpc_timer_start(tms.l, now - NS_PER_MS, tm_fire, (void *)0, NULL), AP_OK);
    assert_int_equal(ap_httpc_timer_start(tms.l, now + 20 * NS_PER_MS, tm_fire, (void *)4, NULL),
                     AP_OK);
    ap_httpc_timer_stop(tms.l, stop);
}

static void test_timers(void **state)
{
    struct ap_httpc_loop *l = loop_new();

    memset(&tms, 0, sizeof(tms));
    tms.l = l;
    assert_int_equal(ap_httpc_loop_post(l, tm_start, NULL), AP_OK);
    latch_wait(4);
    ap_httpc_loop_free(l);
    assert_int_equal(tms.n, 4);
    assert_string_equal(tms.order, "0143");
    for (int i = 0; i < 5; i++)
        assert_false(tms.canceled[i]);
}

/* Timers follow the injectable clock: moving the fake clock fires them. */
static void tm_far(void *arg)
{
    assert_int_equal(ap_httpc_timer_start(tms.l, ap_clock_mono_ns() + 3600LL * 1000 * NS_PER_MS,
                                          tm_fire, (void *)5, NULL),
                     AP_OK);
    latch_hit();
}

static void test_timers_follow_fake_clock(void **state)
{
    struct ap_httpc_loop *l;

    ap_clock_fake_begin(1700000000LL * 1000 * NS_PER_MS, 1000 * 1000 * NS_PER_MS);
    l = loop_new();
    memset(&tms, 0, sizeof(tms));
    tms.l = l;
    assert_int_equal(ap_httpc_loop_post(l, tm_far, NULL), AP_OK);
    latch_wait(1);
    assert_int_equal(tms.n, 0);
    ap_clock_fake_advance(3600LL * 1000 * NS_PER_MS);
    latch_wait(2);
    assert_string_equal(tms.order, "5");
    assert_false(tms.canceled[5]);
    ap_httpc_loop_free(l);
    ap_clock_fake_end();
}

/* Posting from four threads at once: every function runs, each thread's in
 * its order. */
#define POSTERS 4
#define PER     200

static struct ap_httpc_loop *post_loop;
static int post_seen[POSTERS], post_bad;

static void posted(void *arg)
{
    int v = (int)(intptr_t)arg, th = v / PER, seq = v % PER;

    if (post_seen[th] != seq)
        post_bad++;
    post_seen[th] = seq + 1;
    if (!ap_httpc_loop_on_thread(post_loop))
        post_bad++;
    latch_hit();
}

static void *poster(void *arg)
{
    int th = (int)(intptr_t)arg;

    for (int i = 0; i < PER; i++)
        if (ap_httpc_loop_post(post_loop, posted, (void *)(intptr_t)(th * PER + i)) != AP_OK)
            post_bad++;
    return NULL;
}

static void test_post_fifo(void **state)
{
    pthread_t th[POSTERS];

    post_loop = loop_new();
    memset(post_seen, 0, sizeof(post_seen));
    post_bad = 0;
    for (int i = 0; i < POSTERS; i++)
        pthread_create(&th[i], NULL, poster, (void *)(intptr_t)i);
    for (int i = 0; i < POSTERS; i++)
        pthread_join(th[i], NULL);
    latch_wait(POSTERS * PER);
    ap_httpc_loop_free(post_loop);
    assert_int_equal(post_bad, 0);
    for (int i = 0; i < POSTERS; i++)
        assert_int_equal(post_seen[i], PER);
}

/* Shutdown with requests in flight and timers pending: every callback runs
 * exactly once, as a cancellation, before ap_httpc_loop_free returns. */
static void tm_later(void *arg)
{
    int64_t far = ap_clock_mono_ns() + 3600LL * 1000 * NS_PER_MS;

    assert_int_equal(ap_httpc_timer_start(tms.l, far, tm_fire, (void *)6, NULL), AP_OK);
    assert_int_equal(ap_httpc_timer_start(tms.l, far, tm_fire, (void *)7, NULL), AP_OK);
    latch_hit();
}

static void test_shutdown_completes_everything(void **state)
{
    struct ap_httpc_loop *l = loop_new();
    struct outcome o[5];
    struct ap_httpc_req req = {.url = url("/slow")};

    srv.delay_ms = 20000;
    memset(&tms, 0, sizeof(tms));
    tms.l = l;
    for (int i = 0; i < 5; i++) {
        o[i] = (struct outcome){.l = l};
        assert_int_equal(ap_httpc_submit(l, &req, NULL, on_done, &o[i]), AP_OK);
    }
    assert_int_equal(ap_httpc_loop_post(l, tm_later, NULL), AP_OK);
    latch_wait(1);
    wait_until(requests_at_least, 5);
    ap_httpc_loop_free(l);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(o[i].calls, 1);
        assert_int_equal(o[i].err, AP_EUNAVAIL);
        assert_true(o[i].canceled);
        assert_true(o[i].sent);
    }
    assert_int_equal(tms.n, 2);
    assert_true(tms.canceled[6]);
    assert_true(tms.canceled[7]);
}

/* A function that takes a callback and fails never runs it. */
static void test_refusals_run_no_callback(void **state)
{
    struct ap_httpc_loop *l = loop_new();
    struct outcome o = {.l = l};
    struct ap_httpc_req req = {.url = NULL};

    assert_int_equal(ap_httpc_submit(l, &req, NULL, on_done, &o), AP_EINVAL);
    ap_httpc_loop_free(l);
    assert_int_equal(o.calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submit_round_trip, server_start, server_stop),
        cmocka_unit_test_setup_teardown(test_many_in_flight, server_start, server_stop),
        cmocka_unit_test_setup_teardown(test_connection_reuse, server_start, server_stop),
        cmocka_unit_test_setup_teardown(test_per_request_timeout, server_start, server_stop),
        cmocka_unit_test_setup_teardown(test_sent_then_dropped, server_start, server_stop),
        cmocka_unit_test(test_refused_is_not_sent),
        cmocka_unit_test_setup_teardown(test_abort, server_start, server_stop),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_timers_follow_fake_clock),
        cmocka_unit_test(test_post_fifo),
        cmocka_unit_test_setup_teardown(test_shutdown_completes_everything, server_start,
                                        server_stop),
        cmocka_unit_test(test_refusals_run_no_callback),
    };
    no_proxy_env();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_jobq.c — the fair work queue (core/jobq.h): turns between accounts,
 * the per-account, per-kind and share limits, joining, deadlines before and
 * after a job starts (and what an abandoned job may still save), start
 * times, async jobs, and stopping with jobs waiting and running.
 *
 * Jobs here hold until the test releases them, so every assertion is about
 * order and state, never about how long something took. The clock is faked:
 * deadlines pass when the test moves it and pokes the queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/jobq.h"
#include "core/log.h"

#define MAXJ 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

/* What happened, in order (guarded by mu). */
static struct {
    int started[MAXJ], nstarted;
    int running, running_max;
    bool release[MAXJ];
    int told[MAXJ]; /* end + 1 per waiter id */
    void *told_arg[MAXJ];
    int ntold, nfreed;
    bool committed[MAXJ], should_stop[MAXJ];
    struct ap_jobq_job *async_job;
} w;

struct tj {
    int id;
    bool hold, async;
};

static enum ap_jobq_ran run(struct ap_jobq_job *job, void *arg)
{
    struct tj *t = arg;
    pthread_mutex_lock(&mu);
    w.started[w.nstarted++] = t->id;
    if (++w.running > w.running_max)
        w.running_max = w.running;
    pthread_cond_broadcast(&cv);
    while (t->hold && !w.release[t->id])
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    bool stop = ap_jobq_should_stop(job); /* outside mu: these take the queue's lock */
    bool ok = ap_jobq_commit(job);
    pthread_mutex_lock(&mu);
    w.should_stop[t->id] = stop;
    w.committed[t->id] = ok;
    w.running--;
    bool async = t->async; /* once handed on, t may be gone: ap_jobq_finish() can come first */
    if (async)
        w.async_job = job;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return async ? AP_JOBQ_CONTINUES : AP_JOBQ_FINISHED;
}

static void tell(void *waiter, enum ap_jobq_end end, void *arg)
{
    int id = (int)(intptr_t)waiter;
    pthread_mutex_lock(&mu);
    w.told[id] = (int)end + 1;
    w.told_arg[id] = arg;
    w.ntold++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void tfree(void *arg)
{
    pthread_mutex_lock(&mu);
    w.nfreed++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    free(arg);
}

/* Waits until *v >= n (a safety limit of 20 s turns a hang into a failure). */
static void wait_until(const int *v, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&mu);
    while (*v < n) {
        if (pthread_cond_timedwait(&cv, &mu, &until) != 0)
            break;
    }
    int got = *v;
    pthread_mutex_unlock(&mu);
    if (got < n)
        fail_msg("waited for %d, got %d", n, got);
}

static void release(int id)
{
    pthread_mutex_lock(&mu);
    w.release[id] = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static bool was_started(int id)
{
    pthread_mutex_lock(&mu);
    bool yes = false;
    for (int i = 0; i < w.nstarted; i++)
        yes |= w.started[i] == id;
    pthread_mutex_unlock(&mu);
    return yes;
}

static const struct ap_jobq_kind kinds[] = {
    {"x", 4, 4, 0},
    {"y", 4, 4, 0},
};

static struct ap_jobq *queue(int threads, int per_key, const struct ap_jobq_kind *k, size_t nk)
{
    char err[200];
    struct ap_jobq_config c = {.name = "test",
                               .threads = threads,
                               .max_running_per_key = per_key,
                               .max_waiting = 100,
                               .kinds = k ? k : kinds,
                               .nkinds = k ? nk : AP_COUNTOF(kinds)};
    struct ap_jobq *q = ap_jobq_new(&c, err, sizeof(err));
    assert_non_null(q);
    return q;
}

/* Submits job id for key (hold: until released); the waiter is id too. */
static enum ap_err submit(struct ap_jobq *q, int64_t key, int kind, int id, bool hold,
                          struct ap_jobq_spec extra, struct ap_jobq_ticket *t)
{
    struct tj *a = calloc(1, sizeof(*a));
    a->id = id;
    a->hold = hold;
    a->async = extra.arg != NULL; /* a non-NULL extra.arg marks an async job */
    struct ap_jobq_spec s = extra;
    s.key = key;
    s.kind = kind;
    s.run = run;
    s.free = tfree;
    s.arg = a;
    s.tell = tell;
    s.waiter = (void *)(intptr_t)id;
    enum ap_err err = ap_jobq_submit(q, &s, t);
    if (err)
        free(a);
    return err;
}

static const struct ap_jobq_spec plain = {0};

static int setup(void **state)
{
    (void)state;
    memset(&w, 0, sizeof(w));
    ap_clock_fake_begin(1700000000 * AP_NS_PER_S, 1000 * AP_NS_PER_S);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ap_clock_fake_end();
    return 0;
}

/* ---- turns and limits ------------------------------------------------------------- */

static void test_accounts_take_turns(void **state)
{
    (void)state;
    struct ap_jobq *q = queue(1, 1, NULL, 0);
    assert_int_equal(submit(q, 1, 0, 1, true, plain, NULL), AP_OK);
    wait_until(&w.nstarted, 1);
    for (int id = 2; id <= 5; id++) /* account 1 floods */
        assert_int_equal(submit(q, 1, 0, id, false, plain, NULL), AP_OK);
    assert_int_equal(submit(q, 2, 0, 9, false, plain, NULL), AP_OK); /* account 2: one job */
    release(1);
    wait_until(&w.nstarted, 6);
    /* account 2 goes right after the job that was running, not after the flood */
    int want[] = {1, 9, 2, 3, 4, 5};
    for (int i = 0; i < 6; i++)
        assert_int_equal(w.started[i], want[i]);
    assert_int_equal(ap_jobq_free(q, 1000), AP_OK);
    assert_int_equal(w.nfreed, 6);
    assert_int_equal(w.ntold, 6);
    assert_int_equal(w.told[9], AP_JOBQ_DONE + 1);
}

static void test_per_account_limit(void **state)
{
    (void)state;
    struct ap_jobq *q = queue(3, 2, NULL, 0);
    for (int id = 1; id <= 3; id++)
        assert_int_equal(submit(q, 1, 0, id, true, plain, NULL), AP_OK);
    wait_until(&w.nstarted, 2);
    /* the third thread is free, but account 1 holds its two slots: another account gets it */
    assert_int_equal(submit(q, 2, 0, 7, true, plain, NULL), AP_OK);
    wait_until(&w.nstarted, 3);
    assert_int_equal(w.started[2], 7);
    assert_false(was_started(3));
    struct ap_jobq_stats st;
    ap_jobq_stats(q, &st);
    assert_int_equal(st.running, 3);
    assert_int_equal(st.waiting, 1);
    release(1);
    wait_until(&w.nstarted, 4);
    assert_int_equal(w.started[3], 3);
    release(2);
    release(3);
    release(7);
    assert_int_equal(ap_jobq_free(q, 5000), AP_OK);
}

static void test_kind_share(void **state)
{
    (void)state;
    /* two threads; kind "bulk" may use half of them, "user" all */
    static const struct ap_jobq_kind k[] = {{"bulk", 4, 4, 50}, {"user", 4, 4, 100}};
    struct ap_jobq *q = queue(2, 4, k, 2);
    assert_int_equal(submit(q, 1, 0, 1, true, plain, NULL), AP_OK);
    wait_until(&w.nstarted, 1);
    assert_int_equal(submit(q, 2, 0, 2, true, plain, NULL), AP_OK); /* bulk of another account */
    assert_int_equal(submit(q, 3, 1, 3, true, plain, NULL), AP_OK); /* user work */
    wait_until(&w.nstarted, 2);
    assert_int_equal(w.started[1], 3); /* the second thread went to the other kind */
    assert_false(was_started(2));
    release(1);
    wait_until(&w.nstarted, 3);
    release(2);
    release(3);
    assert_int_equal(ap_jobq_free(q, 5000), AP_OK);
}

static void test_waiting_cap(void **state)
{
    (void)state;
    static const struct ap_jobq_kind k[] = {{"x", 1, 2, 0}};
    struct ap_jobq *q = queue(1, 1, k, 1);
    struct ap_jobq_ticket t;
    struct ap_jobq_spec s = {.deadline_ns = ap_clock_mono_ns() + 30 * AP_NS_PER_S};
    assert_int_equal(submit(q, 1, 0, 1, true, s, NULL), AP_OK);
    wait_until(&w.nstarted, 1);
    assert_int_equal(submit(q, 1, 0, 2, false, s, NULL), AP_OK);
    assert_int_equal(submit(q, 1, 0, 3, false, s, NULL), AP_OK);
    assert_int_equal(submit(q, 1, 0, 4, false, s, &t), AP_EBUSY);
    assert_int_equal(t.retry_after_s, 30); /* the earliest deadline of the account's jobs */
    assert_int_equal(submit(q, 2, 0, 5, false, s, &t), AP_OK); /* another account is not capped */
    struct ap_jobq_stats st;
    ap_jobq_stats(q, &st);
    assert_int_equal(st.refused, 1);
    release(1);
    wait_until(&w.nstarted, 4);
    assert_int_equal(ap_jobq_free(q, 5000), AP_OK);
    assert_int_equal(w.told[4], 0); /* a refused waiter is never told */
    assert_int_equal(w.nfreed, 4);  /* and its arg stayed the caller's */
}

/* ---- joining ------------------------------------------------------------------------ */

static void test_join_running_and_waiting(void **state)
{
    (void)state;
    struct ap_jobq *q = queue(1, 1, NULL, 0);
    struct ap_jobq_ticket t;
    struct ap_jobq_spec chk = {.coalesce = "check"};
    assert_int_equal(submit(q, 1, 0, 1, true, chk, &t), AP_OK);
    assert_false(t.joined);
    wait_until(&w.nstarted, 1);
    assert_int_equal(submit(q, 1, 0, 2, false, chk, &t), AP_OK); /* joins the running one */
    assert_true(t.joined);
    wait_until(&w.nfreed, 1); /* the joiner's own arg is freed at once */
    assert_int_equal(submit(q, 2, 0, 3, false, chk, &t), AP_OK); /* another account: its own */
    assert_false(t.joined);
    assert_int_equal(submit(q, 2, 0, 4, false, chk, &t), AP_OK); /* joins the waiting one */
    assert_true(t.joined);
    assert_int_equal(submit(q, 1, 1, 5, false, chk, &t), AP_OK); /* another kind: its own */
    assert_false(t.joined);
    release(1);
    wait_until(&w.ntold, 5);
    assert_int_equal(w.nstarted, 3);
    assert_int_equal(w.told[1], AP_JOBQ_DONE + 1);
    assert_int_equal(w.told[2], AP_JOBQ_DONE + 1);
    assert_non_null(w.told_arg[1]);
    assert_ptr_equal(w.told_arg[1], w.told_arg[2]); /* both got the one outcome */
    assert_ptr_equal(w.told_arg[3], w.told_arg[4]);
    assert_int_equal(ap_jobq_free(q, 5000), AP_OK);
    assert_int_equal(w.nfreed, 5);
}

/* ---- deadlines ------------------------------------------------------------------------ */

static void test_late_job_never_runs(void **state)
{
    (void)state;
    struct ap_jobq *q = queue(1, 4, NULL, 0);
    assert_int_equal(submit(q, 1, 0, 1, true, plain, NULL), AP_OK);
    wait_until(&w.nstarted, 1);
    int64_t now = ap_clock_mono_ns();
    struct ap_jobq_spec d5 = {.deadline_ns = now + 5 * AP_NS_PER_S};
    struct ap_jobq_spec d60 = {.deadline_ns = now + 60 * AP_NS_PER_S};
    assert_int_equal(submit(q, 2, 0, 2, false, d5, NULL), AP_OK);
    assert_int_equal(submit(q, 3, 0, 3, false, d60, NULL), AP_OK);
    ap_clock_fake_advance(6 * AP_NS_PER_S);
    ap_jobq_poke(q);
    wait_until(&w.ntold, 1);
    assert_int_equal(w.told[2], AP_JOBQ_LATE + 1);
    assert_null(w.told_arg[2]);
    wait_until(&w.nfreed, 1); /* dropped: nobody waits for it */
    release(1);
    wait_until(&w.ntold, 3);
    assert_false(was_started(2));
    assert_int_equal(w.told[3], AP_JOBQ_DONE + 1);
    struct ap_jobq_stats st;
    ap_jobq_stats(q, &st);
    assert_int_equal(st.late, 1);
    assert_int_equal(ap_jobq_free(q, 5000), AP_OK);
}

static void test_timeout_abandons_binding_job(void **state)
{
    (void)state;
    struct ap_jobq *q = queue(2, 4, NULL, 0);
    int64_t now = ap_clock_mono_ns();
    struct ap_jobq_spec bind = {
        .coalesce = "c", .deadline_ns = now + 5 * AP_NS_PER_S, .binding = true};
    struct ap_jobq_spec later = {.coalesce = "c", .deadline_ns = now + 100 * AP_NS_PER_S};
    struct ap_jobq_spec soft = {.deadline_ns = now + 5 * AP_NS_PER_S};
    struct ap_jobq_ticket t;
    assert_int_equal(submit(q, 1, 0, 1, true, bind, NULL), AP_OK);
    assert_int_equal(submit(q, 2, 0, 3, true, soft, NULL), AP_OK);
    wait_until(&w.nstarted, 2);
    assert_int_equal(submit(q, 1, 0, 2, false, later, &t), AP_OK);
    assert_true(t.joined);
    ap_clock_fake_advance(6 * AP_NS_PER_S);
    ap_jobq_poke(q);
    wait_until(&w.ntold, 3);
    /* the binding waiter's timeout ends the job for everyone waiting on it */
    assert_int_equal(w.told[1], AP_JOBQ_TIMEOUT + 1);
    assert_int_equal(w.told[2], AP_JOBQ_TIMEOUT + 1);
    assert_int_equal(w.told[3], AP_JOBQ_TIMEOUT + 1);
    /* an abandoned job is not joined: a new check starts afresh */
    assert_int_equal(submit(q, 1, 0, 4, false, later, &t), AP_OK);
    assert_false(t.joined);
    release(1);
    release(3);
    wait_until(&w.ntold, 4);
    wait_until(&w.nfreed, 4);     /* job 1 (abandoned, nobody told) has ended too */
    assert_false(w.committed[1]); /* may not save: its caller was told nothing changed */
    assert_true(w.should_stop[1]);
    assert_false(w.should_stop[3]);
    assert_true(w.committed[3]); /* a soft deadline only lets its waiter go */
    assert_true(w.committed[4]);
    assert_int_equal(w.told[4], AP_JOBQ_DONE + 1);
    assert_int_equal(ap_jobq_free(q, 5000), AP_OK);
}

static void test_not_before(void **state)
{
    (void)state;
    struct ap_jobq *q = queue(1, 4, NULL, 0);
    struct ap_jobq_spec later = {.not_before_ns = ap_clock_mono_ns() + 10 * AP_NS_PER_S};
    assert_int_equal(submit(q, 1, 0, 1, false, later, NULL), AP_OK);
    assert_int_equal(submit(q, 1, 0, 2, false, plain, NULL), AP_OK);
    wait_until(&w.ntold, 1);
    assert_int_equal(w.started[0], 2); /* the one submitted first is not due yet */
    assert_false(was_started(1));
    ap_clock_fake_advance(11 * AP_NS_PER_S);
    ap_jobq_poke(q);
    wait_until(&w.ntold, 2);
    assert_int_equal(w.started[1], 1);
    assert_int_equal(ap_jobq_free(q, 5000), AP_OK);
}

static void test_async_job_keeps_its_slot(void **state)
{
    (void)state;
    struct ap_jobq *q = queue(2, 1, NULL, 0);
    struct ap_jobq_spec async = {.arg = (void *)1};
    assert_int_equal(submit(q, 1, 0, 1, false, async, NULL), AP_OK);
    assert_int_equal(submit(q, 1, 0, 2, false, plain, NULL), AP_OK);
    pthread_mutex_lock(&mu);
    while (!w.async_job)
        pthread_cond_wait(&cv, &mu);
    struct ap_jobq_job *job = w.async_job;
    pthread_mutex_unlock(&mu);
    /* its run returned, but the account's one slot stays taken until it finishes */
    assert_int_equal(submit(q, 2, 0, 3, false, plain, NULL), AP_OK);
    wait_until(&w.ntold, 1);
    assert_int_equal(w.told[3], AP_JOBQ_DONE + 1);
    assert_false(was_started(2));
    ap_jobq_finish(job);
    wait_until(&w.ntold, 3);
    assert_int_equal(w.told[1], AP_JOBQ_DONE + 1);
    assert_int_equal(w.told[2], AP_JOBQ_DONE + 1);
    assert_int_equal(ap_jobq_free(q, 5000), AP_OK);
}

/* ---- stopping -------------------------------------------------------------------------- */

static void test_stop_cancels_waiting_jobs(void **state)
{
    (void)state;
    struct ap_jobq *q = queue(1, 4, NULL, 0);
    assert_int_equal(submit(q, 1, 0, 1, true, plain, NULL), AP_OK);
    wait_until(&w.nstarted, 1);
    assert_int_equal(submit(q, 2, 0, 2, false, plain, NULL), AP_OK);
    assert_int_equal(submit(q, 3, 1, 3, false, plain, NULL), AP_OK);
    ap_jobq_stop(q);
    wait_until(&w.ntold, 2);
    assert_int_equal(w.told[2], AP_JOBQ_CANCELED + 1);
    assert_int_equal(w.told[3], AP_JOBQ_CANCELED + 1);
    wait_until(&w.nfreed, 2);
    assert_int_equal(submit(q, 4, 0, 4, false, plain, NULL), AP_EUNAVAIL);
    /* the running job outlives a grace of 0: the queue stays, alive */
    assert_int_equal(ap_jobq_free(q, 0), AP_ETIMEOUT);
    release(1);
    assert_int_equal(ap_jobq_free(q, 60000), AP_OK);
    assert_int_equal(w.nstarted, 1);
    assert_int_equal(w.told[1], AP_JOBQ_DONE + 1);
    assert_int_equal(w.nfreed, 3);
}

static void test_bad_config(void **state)
{
    (void)state;
    char err[200];
    struct ap_jobq_config c = {.name = "bad", .threads = 0, .kinds = kinds, .nkinds = 1};
    assert_null(ap_jobq_new(&c, err, sizeof(err)));
    assert_non_null(strstr(err, "work queue bad"));
    struct ap_jobq *q = queue(1, 1, NULL, 0);
    struct ap_jobq_spec s = {.kind = 7, .run = run};
    assert_int_equal(ap_jobq_submit(q, &s, NULL), AP_EINVAL);
    assert_int_equal(ap_jobq_free(q, 0), AP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accounts_take_turns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_account_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kind_share, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_running_and_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_job_never_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_abandons_binding_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_job_keeps_its_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_cancels_waiting_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
    };
    ap_log_set_level(AP_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

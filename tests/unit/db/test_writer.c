/*
 * test_writer.c — unit tests of the store's writer thread (group commit), on
 * both backends: order, a failing write undoing only itself, durable commits
 * (inside a batch: SQLite's FULL, PostgreSQL's synchronous_commit on;
 * outside: the store's default), completed writes surviving a crash and a
 * reopen, many threads at once, a full queue refused at once, shutdown
 * draining what was queued, and the misuses it must survive; SQLite: a disk
 * failure; PostgreSQL: a batch whose session is lost runs again on a new
 * one, a write that hit a deadlock runs again in its savepoint.
 *
 * Batches are made deterministic by holding the write connection: the writer
 * takes its jobs only once it has the connection, so everything submitted
 * meanwhile lands in one batch.
 */
#include "db_fixture.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"
#include "db/store.h"

static const struct ap_migration LIST[] = {
    {1, "one", "CREATE TABLE w (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL UNIQUE)"},
};

/* One write: inserts seq; what happened to it. */
struct ins {
    int64_t seq;
    bool fail_after; /* insert, then report a failure */
    bool end_tx;     /* roll the whole transaction back (a misuse) */
    enum ap_err got; /* its completion's err */
    bool done;       /* its completion ran */
    int order;       /* completion order */
    int64_t sync;    /* SQLite: PRAGMA synchronous seen inside the write */
    char pgsync[8];  /* PostgreSQL: synchronous_commit seen inside the write */
    int runs;        /* times it ran */
    int trouble;     /* PostgreSQL: runs that first end their session (1) or fake a deadlock (2) */
};

static atomic_int completions;

/* The case runs on PostgreSQL (set by open_w). */
static bool on_pg;

/* Opens the case's store with LIST. */
static struct ap_store *open_w(struct fixture *f)
{
    on_pg = f->pg;
    return db_fixture_open(f, LIST, 1);
}

/* What the write sees of durability: SQLite's PRAGMA, PostgreSQL's setting. */
static enum ap_err see_sync(struct ap_db_conn *c, struct ins *a)
{
    struct ap_db_rows *r = NULL;
    enum ap_err e;

    if (!on_pg)
        return ap_db_query_int(c, "PRAGMA synchronous", NULL, 0, &a->sync);
    e = ap_db_query(c, "SHOW synchronous_commit", NULL, 0, &r);
    if (e == AP_OK && ap_db_next(r))
        snprintf(a->pgsync, sizeof(a->pgsync), "%s", ap_db_row_text(r, 0));
    return e == AP_OK ? ap_db_done(r) : e;
}

/* PostgreSQL troubles a write may meet: its session ended under it, or a
 * deadlock (raised by hand: the same SQLSTATE the server would give). */
static enum ap_err make_trouble(struct ap_db_conn *c, int kind)
{
    if (kind == 1)
        return ap_db_exec(c, "SELECT pg_terminate_backend(pg_backend_pid())", NULL, 0);
    return ap_db_exec(c,
                      "DO $$ BEGIN RAISE EXCEPTION 'deadlock (test)' USING ERRCODE = "
                      "'deadlock_detected'; END $$",
                      NULL, 0);
}

static enum ap_err insert_seq(struct ap_db_conn *c, void *arg)
{
    struct ins *a = arg;
    struct ap_db_val v = ap_db_int(a->seq);
    enum ap_err e = ap_db_exec(c, "INSERT INTO w (seq) VALUES (?)", &v, 1);

    if (a->runs++ < a->trouble / 10 && e == AP_OK)
        e = make_trouble(c, a->trouble % 10);
    if (e == AP_OK)
        e = see_sync(c, a);
    if (e == AP_OK && a->end_tx)
        ap_db_rollback(c);
    if (e == AP_OK && a->fail_after)
        return AP_EINVAL;
    return e;
}

static enum ap_err noop(struct ap_db_conn *c, void *arg)
{
    (void)c;
    (void)arg;
    return AP_OK;
}

static void on_done(void *arg, enum ap_err err)
{
    struct ins *a = arg;

    a->got = err;
    a->order = atomic_fetch_add(&completions, 1);
    a->done = true;
}

static struct ap_db_writer *writer(struct ap_store *s, size_t queue_max)
{
    struct ap_db_writer_opts o = {.queue_max = queue_max};
    char err[256] = "";
    struct ap_db_writer *w = ap_db_writer_new(s, &o, err, sizeof(err));

    if (w == NULL)
        fail_msg("writer: %s", err);
    return w;
}

/* Submits a[from..to) with seq = index; each must be taken. */
static void submit_range(struct ap_db_writer *w, struct ins *a, int from, int to)
{
    for (int i = from; i < to; i++) {
        a[i].seq = i;
        assert_int_equal(ap_db_writer_submit(w, insert_seq, &a[i], on_done), AP_OK);
    }
}

static int64_t count_w(struct ap_store *s, const char *where)
{
    struct ap_db_conn *c = ap_store_acquire(s, false);
    char sql[128];
    int64_t n = -1;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM w %s", where);
    assert_int_equal(ap_db_query_int(c, sql, NULL, 0, &n), AP_OK);
    ap_store_release(c);
    return n;
}

static void test_writes_run_and_complete_in_order(void **state)
{
    struct fixture *f = *state;
    enum { N = 500 };
    struct ins *a = calloc(N, sizeof(*a));
    struct ap_db_writer *w;
    struct ap_db_conn *c;
    struct ap_db_rows *r = NULL;
    int64_t expect = 0;

    open_w(f);
    w = writer(f->s, 0);
    atomic_store(&completions, 0);
    submit_range(w, a, 0, N);
    ap_db_writer_free(w); /* drains */
    for (int i = 0; i < N; i++) {
        assert_true(a[i].done);
        assert_int_equal(a[i].got, AP_OK);
        assert_int_equal(a[i].order, i);
    }
    /* Stored in submission order. */
    c = ap_store_acquire(f->s, false);
    assert_int_equal(ap_db_query(c, "SELECT seq FROM w ORDER BY id", NULL, 0, &r), AP_OK);
    while (ap_db_next(r))
        assert_int_equal(ap_db_row_int(r, 0), expect++);
    assert_int_equal(ap_db_done(r), AP_OK);
    ap_store_release(c);
    assert_int_equal(expect, N);
    free(a);
}

static void test_a_failing_write_undoes_only_itself(void **state)
{
    struct fixture *f = *state;
    struct ins a[4] = {{.seq = 1}, {.seq = 2, .fail_after = true}, {.seq = 1}, {.seq = 3}};
    struct ap_db_writer_stats st;
    struct ap_db_writer *w;
    struct ap_db_conn *hold;

    open_w(f);
    w = writer(f->s, 0);
    hold = ap_store_acquire(f->s, true); /* all four land in one batch */
    for (int i = 0; i < 4; i++)
        assert_int_equal(ap_db_writer_submit(w, insert_seq, &a[i], on_done), AP_OK);
    ap_store_release(hold);
    assert_int_equal(ap_db_writer_run(w, noop, NULL), AP_OK);
    ap_db_writer_get_stats(w, &st);
    ap_db_writer_free(w);

    assert_int_equal(st.writes, 5);
    assert_int_equal(st.failed, 2);
    assert_true(st.batches <= 2); /* the four (and maybe the noop) in one transaction */
    assert_int_equal(a[0].got, AP_OK);
    assert_int_equal(a[1].got, AP_EINVAL);    /* its own error */
    assert_int_equal(a[2].got, AP_ECONFLICT); /* a statement's, mapped as everywhere */
    assert_int_equal(a[3].got, AP_OK);
    assert_int_equal(count_w(f->s, ""), 2);
    assert_int_equal(count_w(f->s, "WHERE seq IN (1, 3)"), 2);
}

static void test_one_batch_one_commit(void **state)
{
    struct fixture *f = *state;
    enum { N = 100 };
    struct ins a[N];
    struct ap_db_writer_stats st;
    struct ap_db_writer *w;
    struct ap_db_conn *hold;

    memset(a, 0, sizeof(a));
    open_w(f);
    w = writer(f->s, 0);
    hold = ap_store_acquire(f->s, true);
    submit_range(w, a, 0, N);
    ap_db_writer_get_stats(w, &st);
    assert_int_equal(st.queued, N);
    ap_store_release(hold);
    assert_int_equal(ap_db_writer_run(w, noop, NULL), AP_OK);
    ap_db_writer_get_stats(w, &st);
    ap_db_writer_free(w);
    /* N writes (and maybe the noop) shared one durable commit. */
    assert_int_equal(st.writes, N + 1);
    assert_true(st.batches <= 2);
    for (int i = 0; i < N; i++)
        assert_int_equal(a[i].got, AP_OK);
    assert_int_equal(count_w(f->s, ""), N);
}

static void test_batches_commit_durably(void **state)
{
    struct fixture *f = *state;
    struct ins a = {.seq = 1};
    struct ap_db_writer *w;
    struct ap_db_conn *c;
    int64_t sync = -1;

    open_w(f);
    w = writer(f->s, 0);
    assert_int_equal(ap_db_writer_run(w, insert_seq, &a), AP_OK);
    if (f->pg) {
        /* on, though the test server's default is off */
        assert_string_equal(a.pgsync, "on");
        c = ap_store_acquire(f->s, true);
        struct ins outside = {0};
        assert_int_equal(see_sync(c, &outside), AP_OK);
        assert_string_equal(outside.pgsync, "off");
        ap_store_release(c);
        ap_db_writer_free(w);
        return;
    }
    assert_int_equal(a.sync, 2); /* FULL: the commit waits for the disk */
    c = ap_store_acquire(f->s, true);
    assert_int_equal(ap_db_query_int(c, "PRAGMA synchronous", NULL, 0, &sync), AP_OK);
    assert_int_equal(sync, 1); /* the store's NORMAL for everything else */
    ap_store_release(c);
    ap_db_writer_free(w);
}

/* In a child: completes 100 writes, then dies without closing anything. */
static const char *write_and_die(void *arg)
{
    struct fixture *f = arg;
    static char err[256];
    struct ap_db_writer *w;
    struct ins a = {0};
    const char *msg = db_fixture_try_open(f, LIST, 1);

    on_pg = f->pg;

    if (msg != NULL)
        return msg;
    w = ap_db_writer_new(f->s, NULL, err, sizeof(err));
    if (w == NULL)
        return err;
    for (int i = 0; i < 100; i++) {
        a.seq = i;
        if (ap_db_writer_run(w, insert_seq, &a) != AP_OK)
            return "a write failed";
    }
    _exit(0); /* like kill -9: no close, no checkpoint */
}

static void test_completed_writes_survive_a_crash_and_a_reopen(void **state)
{
    struct fixture *f = *state;
    struct ap_db_writer *w;
    struct ins a = {.seq = 1000};
    char err[256] = "";

    db_in_child(write_and_die, f);
    open_w(f);
    assert_int_equal(count_w(f->s, ""), 100);

    w = writer(f->s, 0);
    assert_int_equal(ap_db_writer_run(w, insert_seq, &a), AP_OK);
    ap_db_writer_free(w);
    ap_store_close(f->s);
    f->s = ap_store_open(f->where, err, sizeof(err));
    assert_non_null(f->s);
    assert_int_equal(count_w(f->s, ""), 101);
}

struct worker {
    struct ap_db_writer *w;
    int id;
    int ok;
};

static void *hammer(void *arg)
{
    struct worker *k = arg;

    for (int i = 0; i < 100; i++) {
        struct ins a = {.seq = (int64_t)k->id * 1000 + i};

        k->ok += ap_db_writer_run(k->w, insert_seq, &a) == AP_OK;
    }
    return NULL;
}

static void test_many_threads_at_once(void **state)
{
    struct fixture *f = *state;
    enum { T = 16 };
    struct worker k[T];
    pthread_t th[T];
    struct ap_db_writer_stats st;
    struct ap_db_writer *w;

    open_w(f);
    w = writer(f->s, 0);
    for (int i = 0; i < T; i++) {
        k[i] = (struct worker){.w = w, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &k[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(k[i].ok, 100);
    }
    ap_db_writer_get_stats(w, &st);
    assert_int_equal(st.writes, T * 100);
    assert_int_equal(st.failed, 0);
    assert_true(st.batches >= 1 && st.batches <= T * 100);
    ap_db_writer_free(w);
    assert_int_equal(count_w(f->s, ""), T * 100);
}

static void test_a_full_queue_is_busy_at_once(void **state)
{
    struct fixture *f = *state;
    struct ins a[9];
    struct ap_db_writer *w;
    struct ap_db_conn *hold;

    memset(a, 0, sizeof(a));
    open_w(f);
    w = writer(f->s, 8);
    hold = ap_store_acquire(f->s, true);
    submit_range(w, a, 0, 8);
    a[8].seq = 8;
    assert_int_equal(ap_db_writer_submit(w, insert_seq, &a[8], on_done), AP_EBUSY);
    assert_int_equal(ap_db_writer_run(w, insert_seq, &a[8]), AP_EBUSY);
    ap_store_release(hold);
    ap_db_writer_free(w);
    for (int i = 0; i < 8; i++)
        assert_int_equal(a[i].got, AP_OK);
    assert_false(a[8].done); /* a refused write never completes */
    assert_int_equal(count_w(f->s, ""), 8);
}

static void *free_writer(void *arg)
{
    ap_db_writer_free(arg);
    return NULL;
}

static void test_shutdown_drains_then_refuses(void **state)
{
    struct fixture *f = *state;
    enum { N = 20 };
    struct ins a[N];
    struct ap_db_writer *w;
    struct ap_db_conn *hold;
    pthread_t th;
    enum ap_err e;

    memset(a, 0, sizeof(a));
    open_w(f);
    w = writer(f->s, 64);
    hold = ap_store_acquire(f->s, true);
    submit_range(w, a, 0, N);
    assert_int_equal(pthread_create(&th, NULL, free_writer, w), 0);
    /* Until the writer is told to stop it still takes writes (no-ops here,
     * busy once the queue is full); then it refuses them. */
    while ((e = ap_db_writer_submit(w, noop, NULL, NULL)) != AP_EUNAVAIL) {
        assert_true(e == AP_OK || e == AP_EBUSY);
        sched_yield();
    }
    /* The writer could not start a batch (we hold the connection): every
     * write queued before the stop is still to run. */
    ap_store_release(hold);
    assert_int_equal(pthread_join(th, NULL), 0);
    for (int i = 0; i < N; i++) {
        assert_true(a[i].done);
        assert_int_equal(a[i].got, AP_OK);
    }
    assert_int_equal(count_w(f->s, ""), N);
}

struct nested {
    struct ap_db_writer *w;
    struct ins inner;
    enum ap_err got;
};

static void run_from_completion(void *arg, enum ap_err err)
{
    struct nested *n = arg;

    (void)err;
    n->got = ap_db_writer_run(n->w, insert_seq, &n->inner);
}

static void test_misuses_are_survived(void **state)
{
    struct fixture *f = *state;
    struct ins a[3] = {{.seq = 1}, {.seq = 2, .end_tx = true}, {.seq = 3}};
    struct nested n = {.inner = {.seq = 9}, .got = AP_OK};
    struct ap_db_writer *w;
    struct ap_db_conn *hold;

    open_w(f);
    w = writer(f->s, 0);
    n.w = w;
    hold = ap_store_acquire(f->s, true);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ap_db_writer_submit(w, insert_seq, &a[i], on_done), AP_OK);
    assert_int_equal(ap_db_writer_submit(w, noop, &n, run_from_completion), AP_OK);
    ap_store_release(hold);
    ap_db_writer_free(w);
    /* A write that ended the transaction took the one before it along; the
     * one after ran in a new transaction. */
    assert_int_equal(a[0].got, AP_EINTERNAL);
    assert_int_equal(a[1].got, AP_EINTERNAL);
    assert_int_equal(a[2].got, AP_OK);
    assert_int_equal(count_w(f->s, ""), 1);
    assert_int_equal(count_w(f->s, "WHERE seq = 3"), 1);
    /* Waiting for the writer on its own thread would deadlock: refused. */
    assert_int_equal(n.got, AP_EINTERNAL);
}

/* In a child: a write that cannot reach the disk fails with AP_EIO and
 * leaves nothing behind; writes work again once the disk does. */
static const char *disk_failure(void *arg)
{
    struct fixture *f = arg;
    struct rlimit rl;
    char err[256] = "";
    struct ap_db_writer *w;
    struct ins a = {.seq = 1}, b = {.seq = 2};

    signal(SIGXFSZ, SIG_IGN);
    on_pg = false;
    if (db_fixture_try_open(f, LIST, 1) != NULL)
        return "open";
    w = ap_db_writer_new(f->s, NULL, err, sizeof(err));
    if (w == NULL || getrlimit(RLIMIT_FSIZE, &rl) != 0)
        return "writer";
    rlim_t max = rl.rlim_cur;
    rl.rlim_cur = 1;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return "setrlimit";
    if (ap_db_writer_run(w, insert_seq, &a) != AP_EIO)
        return "a write past the file-size limit did not fail with AP_EIO";
    rl.rlim_cur = max;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return "setrlimit";
    if (ap_db_writer_run(w, insert_seq, &b) != AP_OK)
        return "writes did not resume";
    ap_db_writer_free(w);
    struct ap_db_conn *c = ap_store_acquire(f->s, false);
    int64_t n = -1;
    ap_db_query_int(c, "SELECT count(*) FROM w", NULL, 0, &n);
    ap_store_release(c);
    return n == 1 ? NULL : "the failed write left a row";
}

static void test_a_disk_failure_fails_the_write(void **state)
{
    db_in_child(disk_failure, *state);
}

/* PostgreSQL: the session ends under the second write of a batch; the
 * whole batch runs again on a new session, and every write is stored once. */
static void test_a_lost_session_reruns_the_batch(void **state)
{
    struct fixture *f = *state;
    struct ins a[3] = {{.seq = 1}, {.seq = 2, .trouble = 11}, {.seq = 3}};
    struct ap_db_writer_stats st;
    struct ap_db_writer *w;
    struct ap_db_conn *hold;

    open_w(f);
    w = writer(f->s, 0);
    hold = ap_store_acquire(f->s, true); /* all three in one batch */
    for (int i = 0; i < 3; i++)
        assert_int_equal(ap_db_writer_submit(w, insert_seq, &a[i], on_done), AP_OK);
    ap_store_release(hold);
    assert_int_equal(ap_db_writer_run(w, noop, NULL), AP_OK);
    ap_db_writer_get_stats(w, &st);
    ap_db_writer_free(w);
    for (int i = 0; i < 3; i++)
        assert_int_equal(a[i].got, AP_OK);
    assert_int_equal(a[0].runs, 2); /* ran in the lost transaction, then again */
    assert_int_equal(a[1].runs, 2);
    assert_int_equal(a[2].runs, 1);
    assert_true(st.batches >= 2);
    assert_int_equal(st.failed, 0);
    assert_int_equal(count_w(f->s, ""), 3);
}

/* PostgreSQL: a write that hit a deadlock runs again in its savepoint; the
 * batch's other writes are stored; one that keeps failing fails alone after
 * AP_DB_TX_TRIES runs. */
static void test_a_deadlocked_write_runs_again(void **state)
{
    struct fixture *f = *state;
    struct ins a[3] = {{.seq = 1}, {.seq = 2, .trouble = 22}, {.seq = 3, .trouble = 992}};
    struct ap_db_writer *w;
    struct ap_db_conn *hold;

    open_w(f);
    w = writer(f->s, 0);
    hold = ap_store_acquire(f->s, true);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ap_db_writer_submit(w, insert_seq, &a[i], on_done), AP_OK);
    ap_store_release(hold);
    ap_db_writer_free(w);
    /* The first try (no savepoints) stopped at the deadlock; the careful
     * way ran each write again, the deadlocked one in its savepoint until it
     * passed, the one that never passes AP_DB_TX_TRIES times. */
    assert_int_equal(a[0].got, AP_OK);
    assert_int_equal(a[0].runs, 2);
    assert_int_equal(a[1].got, AP_OK);
    assert_int_equal(a[1].runs, 3);
    assert_int_equal(a[2].got, AP_EBUSY);
    assert_int_equal(a[2].runs, AP_DB_TX_TRIES);
    assert_int_equal(count_w(f->s, ""), 2);
    assert_int_equal(count_w(f->s, "WHERE seq IN (1, 2)"), 2);
}

int main(void)
{
    static const struct db_case cases[] = {
        DB_BOTH(test_writes_run_and_complete_in_order),
        DB_BOTH(test_a_failing_write_undoes_only_itself),
        DB_BOTH(test_one_batch_one_commit),
        DB_BOTH(test_batches_commit_durably),
        DB_BOTH(test_completed_writes_survive_a_crash_and_a_reopen),
        DB_BOTH(test_many_threads_at_once),
        DB_BOTH(test_a_full_queue_is_busy_at_once),
        DB_BOTH(test_shutdown_drains_then_refuses),
        DB_BOTH(test_misuses_are_survived),
        DB_SQLITE(test_a_disk_failure_fails_the_write),
        DB_PG(test_a_lost_session_reruns_the_batch),
        DB_PG(test_a_deadlocked_write_runs_again),
    };

    ap_log_set_level(AP_LOG_OFF);
    return db_run_cases("writer", cases, sizeof(cases) / sizeof(cases[0]));
}

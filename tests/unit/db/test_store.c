/*
 * test_store.c — unit tests of src/db through store.h only, on both
 * backends where the behaviour is shared: migrations, typed binds and
 * cursors, errors a caller acts on, transactions, readers beside a writer;
 * SQLite's own: opening a data dir, damaged and unwritable data dirs, the
 * data-dir lock. Health is in test_health.c, the writer thread in
 * test_writer.c, PostgreSQL's own behaviour in test_pg.c.
 */
#include "db_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "db/store.h"

static const struct ap_migration TEST_LIST[] = {
    {1, "one", "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER, b BLOB)"},
    {2, "two",
     "CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER NOT NULL REFERENCES t(id));"
     "CREATE INDEX u_t ON u(t_id);"},
    {3, "three", "ALTER TABLE t ADD COLUMN note TEXT"},
};

/* Opens f->data and applies TEST_LIST. */
static struct ap_store *open_migrated(struct fixture *f)
{
    return db_fixture_open(f, TEST_LIST, 3);
}

static void test_open_creates_dir_and_wal_db(void **state)
{
    struct fixture *f = *state;
    char err[512] = "", nested[160];
    struct ap_db_conn *c;
    struct ap_db_rows *r = NULL;
    struct stat st;

    snprintf(nested, sizeof(nested), "%s/a/b", f->data);
    f->s = ap_store_open(nested, err, sizeof(err));
    assert_non_null(f->s);
    assert_int_equal(stat(nested, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(nested, sizeof(nested), "%s/a/b/appointd.db", f->data);
    assert_string_equal(ap_store_path(f->s), nested);
    assert_int_equal(stat(nested, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* private whatever the umask */

    c = ap_store_acquire(f->s, false);
    assert_int_equal(ap_db_query(c, "PRAGMA journal_mode", NULL, 0, &r), AP_OK);
    assert_true(ap_db_next(r));
    assert_string_equal(ap_db_row_text(r, 0), "wal");
    assert_int_equal(ap_db_done(r), AP_OK);
    int64_t fk = 0;
    assert_int_equal(ap_db_query_int(c, "PRAGMA foreign_keys", NULL, 0, &fk), AP_OK);
    assert_int_equal(fk, 1);
    ap_store_release(c);
    assert_int_equal(ap_store_schema_version(f->s), 0);
    assert_int_equal(ap_store_ping(f->s, err, sizeof(err)), AP_OK);
}

static void test_migrate_once_and_refuse_newer(void **state)
{
    struct fixture *f = *state;
    char err[512] = "";
    int applied = -1;
    struct ap_db_conn *c;

    f->s = ap_store_open(f->where, err, sizeof(err));
    assert_non_null(f->s);
    assert_int_equal(ap_store_migrate(f->s, TEST_LIST, 2, &applied, err, sizeof(err)), AP_OK);
    assert_int_equal(applied, 2);
    assert_int_equal(ap_store_schema_version(f->s), 2);
    assert_int_equal(ap_store_migrate(f->s, TEST_LIST, 2, &applied, err, sizeof(err)), AP_OK);
    assert_int_equal(applied, 0);
    assert_int_equal(ap_store_migrate(f->s, TEST_LIST, 3, &applied, err, sizeof(err)), AP_OK);
    assert_int_equal(applied, 1);
    assert_int_equal(ap_store_schema_version(f->s), 3);

    /* The column migration 3 added is there. */
    c = ap_store_acquire(f->s, true);
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name, note) VALUES ('x', 'y')", NULL, 0), AP_OK);
    /* A newer appointd has been here. */
    assert_int_equal(ap_db_exec(c,
                                "INSERT INTO schema_migrations (version, name, applied_at) "
                                "VALUES (7, 'future', 'now')",
                                NULL, 0),
                     AP_OK);
    ap_store_release(c);
    assert_int_equal(ap_store_migrate(f->s, TEST_LIST, 3, &applied, err, sizeof(err)),
                     AP_ECONFLICT);
    assert_string_equal(err, "database is at schema version 7 but this appointd knows up to 3; "
                             "upgrade appointd");
    assert_int_equal(applied, 0);
}

static void test_failed_migration_is_rolled_back(void **state)
{
    struct fixture *f = *state;
    const struct ap_migration bad[] = {
        {1, "one", "CREATE TABLE a (x INTEGER)"},
        {2, "broken", "CREATE TABLE b (x INTEGER); INSERT INTO nosuch VALUES (1)"},
    };
    char err[512] = "";
    int applied = -1;
    struct ap_db_conn *c;

    f->s = ap_store_open(f->where, err, sizeof(err));
    assert_non_null(f->s);
    assert_int_not_equal(ap_store_migrate(f->s, bad, 2, &applied, err, sizeof(err)), AP_OK);
    assert_int_equal(applied, 1);
    assert_non_null(strstr(err, "migration 2 (broken) failed"));
    assert_non_null(strstr(err, "nosuch"));
    assert_int_equal(ap_store_schema_version(f->s), 1);
    /* Table b of the failed migration was not left behind. */
    c = ap_store_acquire(f->s, true);
    assert_int_not_equal(ap_db_exec(c, "INSERT INTO b VALUES (1)", NULL, 0), AP_OK);
    assert_non_null(
        strstr(ap_db_errmsg(c), f->pg ? "relation \"b\" does not exist" : "no such table"));
    ap_store_release(c);
}

static void test_appointd_migrations(void **state)
{
    struct fixture *f = *state;
    char err[512] = "";
    int applied = -1;
    struct ap_db_conn *c;
    int64_t n = 0;

    f->s = ap_store_open(f->where, err, sizeof(err));
    assert_non_null(f->s);
    assert_int_equal(
        ap_store_migrate(f->s, ap_db_migrations, ap_db_nmigrations, &applied, err, sizeof(err)),
        AP_OK);
    assert_int_equal(applied, (int)ap_db_nmigrations);
    assert_int_equal(ap_store_schema_version(f->s),
                     ap_db_migrations[ap_db_nmigrations - 1].version);
    c = ap_store_acquire(f->s, false);
    assert_int_equal(
        ap_db_query_int(c, "SELECT count(*) FROM meta WHERE key = 'created_at'", NULL, 0, &n),
        AP_OK);
    assert_int_equal(n, 1);
    ap_store_release(c);
}

static void test_crud_with_every_bind_type(void **state)
{
    struct fixture *f = *state;
    const unsigned char blob[] = {0x00, 0x01, 0x00, 0xff, 0x00};
    struct ap_db_conn *c;
    struct ap_db_rows *r = NULL;
    int64_t id = 0;
    size_t len = 99;
    const void *p;

    open_migrated(f);
    c = ap_store_acquire(f->s, true);
    struct ap_db_val ins[] = {ap_db_text("alice"), ap_db_int(INT64_MIN), ap_db_blob(blob, 5),
                              ap_db_null()};
    assert_int_equal(ap_db_query_int(c,
                                     "INSERT INTO t (name, n, b, note) VALUES (?, ?, ?, ?) "
                                     "RETURNING id",
                                     ins, 4, &id),
                     AP_OK);
    assert_true(id > 0);
    assert_int_equal(ap_db_last_insert_id(c), id);
    struct ap_db_val ins2[] = {ap_db_textn("bob and more", 3), ap_db_int(INT64_MAX),
                               ap_db_blob(NULL, 0), ap_db_text(NULL)};
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name, n, b, note) VALUES (?, ?, ?, ?)", ins2, 4),
                     AP_OK);
    ap_store_release(c);

    c = ap_store_acquire(f->s, false);
    assert_int_equal(ap_db_query(c, "SELECT id, name, n, b, note FROM t ORDER BY id", NULL, 0, &r),
                     AP_OK);
    assert_int_equal(ap_db_row_count(r), 5);
    assert_true(ap_db_next(r));
    assert_int_equal(ap_db_row_int(r, 0), id);
    assert_string_equal(ap_db_row_text(r, 1), "alice");
    assert_true(ap_db_row_int(r, 2) == INT64_MIN);
    p = ap_db_row_blob(r, 3, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(p, blob, 5);
    assert_true(ap_db_row_is_null(r, 4));
    assert_null(ap_db_row_text(r, 4));
    assert_true(ap_db_next(r));
    assert_string_equal(ap_db_row_text(r, 1), "bob");
    assert_true(ap_db_row_int(r, 2) == INT64_MAX);
    ap_db_row_blob(r, 3, &len);
    assert_int_equal(len, 0);
    assert_false(ap_db_row_is_null(r, 3)); /* an empty blob is not NULL */
    assert_true(ap_db_row_is_null(r, 4));
    assert_false(ap_db_next(r));
    assert_int_equal(ap_db_done(r), AP_OK);
    ap_store_release(c);

    /* Update and delete report how many rows they touched. */
    c = ap_store_acquire(f->s, true);
    struct ap_db_val upd[] = {ap_db_text("note"), ap_db_text("bob")};
    assert_int_equal(ap_db_exec(c, "UPDATE t SET note = ? WHERE name = ?", upd, 2), AP_OK);
    assert_int_equal(ap_db_changes(c), 1);
    assert_int_equal(ap_db_exec(c, "DELETE FROM t", NULL, 0), AP_OK);
    assert_int_equal(ap_db_changes(c), 2);
    ap_store_release(c);
}

static void test_errors_callers_act_on(void **state)
{
    struct fixture *f = *state;
    struct ap_db_conn *c;
    struct ap_db_val v = ap_db_text("dup-7f3a");
    struct ap_db_val orphan = ap_db_int(12345);
    int64_t n = 0;

    open_migrated(f);
    c = ap_store_acquire(f->s, true);
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name) VALUES (?)", &v, 1), AP_OK);
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name) VALUES (?)", &v, 1), AP_ECONFLICT);
    assert_non_null(strstr(ap_db_errmsg(c), f->pg ? "duplicate key value violates unique "
                                                    "constraint \"t_name_key\""
                                                  : "UNIQUE constraint failed: t.name"));
    assert_null(strstr(ap_db_errmsg(c), "7f3a")); /* never a value */
    /* Foreign keys are enforced. */
    assert_int_equal(ap_db_exec(c, "INSERT INTO u (t_id) VALUES (?)", &orphan, 1), AP_ECONFLICT);
    /* Bind count mismatch and bad SQL are bugs, reported as such. */
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name) VALUES (?)", NULL, 0), AP_EINTERNAL);
    assert_non_null(strstr(ap_db_errmsg(c), "1 placeholders but 0"));
    assert_int_equal(ap_db_exec(c, "SELEKT 1", NULL, 0), AP_EINTERNAL);
    assert_int_equal(ap_db_exec(c, "SELECT 1; SELECT 2", NULL, 0), AP_EINTERNAL);
    assert_int_equal(ap_db_query_int(c, "SELECT id FROM t WHERE name = 'none'", NULL, 0, &n),
                     AP_ENOTFOUND);
    /* The connection is still fine after all that. */
    assert_int_equal(ap_db_query_int(c, "SELECT count(*) FROM t", NULL, 0, &n), AP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ap_db_errmsg(c), "");
    ap_store_release(c);

    /* A read connection refuses to write. */
    c = ap_store_acquire(f->s, false);
    assert_int_equal(ap_db_exec(c, "DELETE FROM t", NULL, 0), AP_EPERM);
    ap_store_release(c);
    c = ap_store_acquire(f->s, false);
    assert_int_equal(ap_db_query_int(c, "SELECT count(*) FROM t", NULL, 0, &n), AP_OK);
    assert_int_equal(n, 1);
    ap_store_release(c);
}

static int64_t count_t(struct ap_store *s)
{
    struct ap_db_conn *c = ap_store_acquire(s, false);
    int64_t n = -1;

    assert_int_equal(ap_db_query_int(c, "SELECT count(*) FROM t", NULL, 0, &n), AP_OK);
    ap_store_release(c);
    return n;
}

static void test_transactions(void **state)
{
    struct fixture *f = *state;
    struct ap_db_conn *c;
    struct ap_db_val v = ap_db_text("a");

    open_migrated(f);
    c = ap_store_acquire(f->s, true);
    assert_int_equal(ap_db_begin(c), AP_OK);
    assert_true(ap_db_in_transaction(c));
    assert_int_equal(ap_db_begin(c), AP_EINTERNAL);
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name) VALUES (?)", &v, 1), AP_OK);
    assert_int_equal(count_t(f->s), 0); /* readers do not see uncommitted rows */
    assert_int_equal(ap_db_rollback(c), AP_OK);
    assert_false(ap_db_in_transaction(c));
    assert_int_equal(count_t(f->s), 0);

    assert_int_equal(ap_db_begin(c), AP_OK);
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name) VALUES (?)", &v, 1), AP_OK);
    assert_int_equal(ap_db_commit(c), AP_OK);
    assert_int_equal(count_t(f->s), 1);

    /* Releasing with a transaction open rolls it back. */
    v = ap_db_text("b");
    assert_int_equal(ap_db_begin(c), AP_OK);
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name) VALUES (?)", &v, 1), AP_OK);
    ap_store_release(c);
    assert_int_equal(count_t(f->s), 1);
    c = ap_store_acquire(f->s, true);
    assert_false(ap_db_in_transaction(c));
    ap_store_release(c);
}

static void test_two_cursors_on_one_statement(void **state)
{
    struct fixture *f = *state;
    const char *sql = "SELECT id FROM t ORDER BY id";
    struct ap_db_conn *c;
    struct ap_db_rows *a = NULL, *b = NULL;
    int pairs = 0;

    open_migrated(f);
    c = ap_store_acquire(f->s, true);
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name) VALUES ('x'), ('y'), ('z')", NULL, 0),
                     AP_OK);
    assert_int_equal(ap_db_query(c, sql, NULL, 0, &a), AP_OK);
    while (ap_db_next(a)) {
        assert_int_equal(ap_db_query(c, sql, NULL, 0, &b), AP_OK);
        while (ap_db_next(b))
            pairs++;
        assert_int_equal(ap_db_done(b), AP_OK);
    }
    assert_int_equal(ap_db_done(a), AP_OK);
    assert_int_equal(pairs, 9);
    ap_store_release(c);
}

#define BATCHES   40
#define PER_BATCH 10
#define READERS   3

struct race {
    struct ap_store *s;
    _Atomic int writer_done;
    int bad; /* a reader saw a half-committed batch or an error */
    int reads;
};

static void *writer_main(void *arg)
{
    struct race *rc = arg;

    for (int b = 0; b < BATCHES; b++) {
        struct ap_db_conn *c = ap_store_acquire(rc->s, true);

        if (ap_db_begin(c) != AP_OK)
            __atomic_add_fetch(&rc->bad, 1, __ATOMIC_SEQ_CST);
        for (int i = 0; i < PER_BATCH; i++) {
            struct ap_db_val v = ap_db_int(b * PER_BATCH + i);

            if (ap_db_exec(c, "INSERT INTO t (n) VALUES (?)", &v, 1) != AP_OK)
                __atomic_add_fetch(&rc->bad, 1, __ATOMIC_SEQ_CST);
        }
        if (ap_db_commit(c) != AP_OK)
            __atomic_add_fetch(&rc->bad, 1, __ATOMIC_SEQ_CST);
        ap_store_release(c);
    }
    rc->writer_done = 1;
    return NULL;
}

static void *reader_main(void *arg)
{
    struct race *rc = arg;
    int64_t last = 0;

    while (!rc->writer_done || last < BATCHES * PER_BATCH) {
        struct ap_db_conn *c = ap_store_acquire(rc->s, false);
        int64_t n = -1;

        if (c == NULL || ap_db_query_int(c, "SELECT count(*) FROM t", NULL, 0, &n) != AP_OK ||
            n % PER_BATCH != 0 || n < last)
            __atomic_add_fetch(&rc->bad, 1, __ATOMIC_SEQ_CST);
        __atomic_add_fetch(&rc->reads, 1, __ATOMIC_SEQ_CST);
        last = n;
        ap_store_release(c);
        if (n < 0)
            break;
    }
    return NULL;
}

static void test_readers_beside_a_writer(void **state)
{
    struct fixture *f = *state;
    struct race rc = {0};
    pthread_t w, r[READERS];

    rc.s = open_migrated(f);
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&r[i], NULL, reader_main, &rc), 0);
    assert_int_equal(pthread_create(&w, NULL, writer_main, &rc), 0);
    pthread_join(w, NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    assert_int_equal(rc.bad, 0);
    assert_true(rc.reads >= READERS);
    assert_int_equal(count_t(f->s), BATCHES * PER_BATCH);
}

static void test_corrupt_file_fails_at_open(void **state)
{
    struct fixture *f = *state;
    char err[512] = "", want[256];
    char junk[8192];
    int fd;

    assert_int_equal(mkdir(f->data, 0700), 0);
    memset(junk, 'x', sizeof(junk));
    fd = open(f->db, O_WRONLY | O_CREAT, 0600);
    assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);

    f->s = ap_store_open(f->data, err, sizeof(err));
    assert_null(f->s);
    snprintf(want, sizeof(want), "database %s is not a SQLite database or is corrupt", f->db);
    if (strstr(err, want) == NULL)
        fail_msg("unexpected error: %s", err);
    assert_null(strchr(err, '\n'));
}

static void test_damaged_pages_fail_at_open(void **state)
{
    struct fixture *f = *state;
    char err[512] = "";
    char junk[4096];
    int fd;

    /* A real database whose schema page is overwritten after the header. */
    open_migrated(f);
    ap_store_close(f->s);
    f->s = NULL;
    memset(junk, 0xa5, sizeof(junk));
    fd = open(f->db, O_WRONLY);
    assert_int_equal(pwrite(fd, junk, sizeof(junk) - 100, 100), (ssize_t)sizeof(junk) - 100);
    close(fd);
    f->s = ap_store_open(f->data, err, sizeof(err));
    assert_null(f->s);
    assert_non_null(strstr(err, f->db));
    assert_non_null(strstr(err, "corrupt"));
}

static void test_data_dir_under_a_file(void **state)
{
    struct fixture *f = *state;
    char err[512] = "", dir[160];
    int fd;

    /* Works as root too: no permission bits can make a file a directory. */
    fd = open(f->data, O_WRONLY | O_CREAT, 0600);
    close(fd);
    snprintf(dir, sizeof(dir), "%s/sub", f->data);
    f->s = ap_store_open(dir, err, sizeof(err));
    assert_null(f->s);
    assert_non_null(strstr(err, dir));
    assert_non_null(strstr(err, "Not a directory"));

    f->s = ap_store_open(f->data, err, sizeof(err));
    assert_null(f->s);
    assert_non_null(strstr(err, "is not a directory"));
}

/* The 0500 case as the current user; returns a message or NULL when ok. */
static const char *check_unwritable(const char *base)
{
    static char err[512];
    char dir[160], want[256];
    struct ap_store *s;

    snprintf(dir, sizeof(dir), "%s/ro", base);
    if (mkdir(dir, 0700) != 0 || chmod(dir, 0500) != 0)
        return "cannot make the test dir";
    s = ap_store_open(dir, err, sizeof(err));
    if (s != NULL) {
        ap_store_close(s);
        return "opened a store in a 0500 dir";
    }
    snprintf(want, sizeof(want), "data dir %s is not writable: Permission denied", dir);
    return strcmp(err, want) == 0 ? NULL : err;
}

/* In a child: root ignores permission bits, nobody does not. */
static const char *unwritable_as_nobody(void *base)
{
    if (setgid(65534) != 0 || setuid(65534) != 0)
        return "cannot become nobody";
    return check_unwritable(base);
}

static void test_unwritable_dir(void **state)
{
    struct fixture *f = *state;
    const char *msg;

    if (geteuid() != 0) {
        msg = check_unwritable(f->dir);
        if (msg != NULL)
            fail_msg("%s", msg);
        return;
    }
    assert_int_equal(chmod(f->dir, 0777), 0);
    db_in_child(unwritable_as_nobody, f->dir);
}

static void test_dir_lock(void **state)
{
    struct fixture *f = *state;
    char err[512] = "", want[400];
    int fd1 = -1, fd2 = -1;

    assert_int_equal(ap_store_lock_dir(f->data, &fd1, err, sizeof(err)), AP_OK);
    assert_true(fd1 >= 0);
    assert_int_equal(ap_store_lock_dir(f->data, &fd2, err, sizeof(err)), AP_EBUSY);
    assert_int_equal(fd2, -1);
    snprintf(want, sizeof(want),
             "data dir %s is in use by another appointd serve (pid %ld); stop it or choose "
             "another --data-dir",
             f->data, (long)getpid());
    assert_string_equal(err, want);

    /* A store opens beside the lock (CLI commands do not lock). */
    open_migrated(f);

    ap_store_unlock_dir(fd1);
    assert_int_equal(ap_store_lock_dir(f->data, &fd2, err, sizeof(err)), AP_OK);
    ap_store_unlock_dir(fd2);
}

static void test_bad_places_refused(void **state)
{
    char err[512] = "";

    (void)state;
    assert_null(ap_store_open("", err, sizeof(err)));
    assert_non_null(strstr(err, "--data-dir"));
    /* Nothing listens on port 1; the message names the URL, never its password. */
    assert_null(ap_store_open("postgres://app:s3cret-pw@127.0.0.1:1/appointd?connect_timeout=2",
                              err, sizeof(err)));
    assert_non_null(strstr(err, "cannot connect to database "
                                "postgres://app:***@127.0.0.1:1/appointd?connect_timeout=2: "));
    assert_non_null(strstr(err, "Connection refused"));
    assert_null(strstr(err, "s3cret"));
    assert_null(strchr(err, '\n'));
    struct ap_store_opts o = {.readers = AP_DB_MAX_READERS_LIMIT + 1};
    assert_null(ap_store_open_with("/tmp", &o, err, sizeof(err)));
    assert_non_null(strstr(err, "read connections must be from 1 to"));
}

/* FOR UPDATE [SKIP LOCKED] is common SQL: SQLite runs it without the clause. */
static void test_locking_clause(void **state)
{
    struct fixture *f = *state;
    struct ap_db_conn *c;
    struct ap_db_rows *r = NULL;
    int n = 0;

    open_migrated(f);
    c = ap_store_acquire(f->s, true);
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name, n) VALUES ('a', 1), ('b', 2)", NULL, 0),
                     AP_OK);
    assert_int_equal(ap_db_begin(c), AP_OK);
    assert_int_equal(ap_db_query(c,
                                 "SELECT id FROM t WHERE n > ? ORDER BY id LIMIT 10 FOR UPDATE "
                                 "SKIP LOCKED",
                                 &(struct ap_db_val){.type = AP_DB_INT, .i = 0}, 1, &r),
                     AP_OK);
    while (ap_db_next(r))
        n++;
    assert_int_equal(ap_db_done(r), AP_OK);
    assert_int_equal(ap_db_commit(c), AP_OK);
    ap_store_release(c);
    assert_int_equal(n, 2);
}

/* ap_db_row_type and ap_db_row_name, which a copy between stores reads by. */
static void test_row_types_and_names(void **state)
{
    struct fixture *f = *state;
    const unsigned char blob[] = {1, 2, 3};
    struct ap_db_conn *c;
    struct ap_db_rows *r = NULL;

    open_migrated(f);
    c = ap_store_acquire(f->s, true);
    struct ap_db_val v[] = {ap_db_text("x"), ap_db_int(7), ap_db_blob(blob, 3)};
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name, n, b) VALUES (?, ?, ?)", v, 3), AP_OK);
    assert_int_equal(ap_db_query(c, "SELECT name, n, b, note, n = 7 AS seven FROM t", NULL, 0, &r),
                     AP_OK);
    assert_int_equal(ap_db_row_count(r), 5);
    assert_string_equal(ap_db_row_name(r, 0), "name");
    assert_string_equal(ap_db_row_name(r, 4), "seven");
    assert_string_equal(ap_db_row_name(r, 5), "");
    assert_true(ap_db_next(r));
    assert_int_equal(ap_db_row_type(r, 0), AP_DB_TEXT);
    assert_int_equal(ap_db_row_type(r, 1), AP_DB_INT);
    assert_int_equal(ap_db_row_type(r, 2), AP_DB_BLOB);
    assert_int_equal(ap_db_row_type(r, 3), AP_DB_NULL);
    /* A comparison read as a column is 0/1 on both (PostgreSQL: a boolean). */
    assert_int_equal(ap_db_row_type(r, 4), AP_DB_INT);
    assert_int_equal(ap_db_row_int(r, 4), 1);
    assert_string_equal(ap_db_row_text(r, 4), "1");
    assert_int_equal(ap_db_done(r), AP_OK);
    ap_store_release(c);
}

/* ap_db_run_tx commits what its function did, and undoes it on an error. */
static enum ap_err insert_then(struct ap_db_conn *c, void *arg)
{
    struct ap_db_val v = ap_db_text("run_tx");
    enum ap_err e = ap_db_exec(c, "INSERT INTO t (name) VALUES (?)", &v, 1);

    return e == AP_OK && arg != NULL ? AP_EINVAL : e;
}

static void test_run_tx(void **state)
{
    struct fixture *f = *state;
    struct ap_db_conn *c;

    open_migrated(f);
    c = ap_store_acquire(f->s, true);
    assert_int_equal(ap_db_run_tx(c, insert_then, "fail"), AP_EINVAL);
    assert_false(ap_db_in_transaction(c));
    ap_store_release(c);
    assert_int_equal(count_t(f->s), 0);
    c = ap_store_acquire(f->s, true);
    assert_int_equal(ap_db_run_tx(c, insert_then, NULL), AP_OK);
    /* ap_db_lock is a no-op on SQLite, a lock on PostgreSQL: fine in a transaction only. */
    assert_int_equal(ap_db_lock(c, 42), AP_EINTERNAL);
    assert_int_equal(ap_db_begin(c), AP_OK);
    assert_int_equal(ap_db_lock(c, 42), AP_OK);
    assert_int_equal(ap_db_commit(c), AP_OK);
    ap_store_release(c);
    assert_int_equal(count_t(f->s), 1);
}

int main(void)
{
    static const struct db_case cases[] = {
        DB_SQLITE(test_open_creates_dir_and_wal_db),
        DB_BOTH(test_migrate_once_and_refuse_newer),
        DB_BOTH(test_failed_migration_is_rolled_back),
        DB_BOTH(test_appointd_migrations),
        DB_BOTH(test_crud_with_every_bind_type),
        DB_BOTH(test_errors_callers_act_on),
        DB_BOTH(test_transactions),
        DB_BOTH(test_two_cursors_on_one_statement),
        DB_BOTH(test_readers_beside_a_writer),
        DB_BOTH(test_locking_clause),
        DB_BOTH(test_row_types_and_names),
        DB_BOTH(test_run_tx),
        DB_SQLITE(test_corrupt_file_fails_at_open),
        DB_SQLITE(test_damaged_pages_fail_at_open),
        DB_SQLITE(test_data_dir_under_a_file),
        DB_SQLITE(test_unwritable_dir),
        DB_SQLITE(test_dir_lock),
        DB_SQLITE(test_bad_places_refused),
    };

    ap_log_set_level(AP_LOG_WARN);
    return db_run_cases("store", cases, sizeof(cases) / sizeof(cases[0]));
}

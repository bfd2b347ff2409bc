/*
 * test_health.c — unit tests of the store's health and failure reporting:
 * ap_store_ping() keeps SQLite's locks (it opens no file), notices a deleted
 * or replaced file, reports a database that cannot be written (SQLite: a
 * real RLIMIT_FSIZE limit, so writes fail with EFBIG; PostgreSQL: a
 * read-only database, a database that refuses connections) and recovers,
 * and probes with a write of its own at most every few seconds; failed
 * statements are logged with their name and never their values; the lists
 * of sealed columns and of tables match appointd's schema.
 */
#include "db_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "db/db_int.h"
#include "db/store.h"

static const struct ap_migration LIST[] = {
    {1, "one", "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"},
};

static enum ap_err insert_t(struct ap_store *s, const char *name)
{
    struct ap_db_conn *c = ap_store_acquire(s, true);
    struct ap_db_val v = ap_db_text(name);
    enum ap_err e = ap_db_exec(c, "INSERT INTO t (name) VALUES (?)", &v, 1);

    ap_store_release(c);
    return e;
}

static int64_t query_int(struct ap_store *s, const char *sql)
{
    struct ap_db_conn *c = ap_store_acquire(s, false);
    int64_t n = -1;

    if (ap_db_query_int(c, sql, NULL, 0, &n) != AP_OK)
        n = -1;
    ap_store_release(c);
    return n;
}

/* Does some process other than the caller's child hold a lock on path?
 * Asked from a child, whose own descriptor cannot disturb our locks. */
static bool locked_by_parent(const char *path)
{
    pid_t parent = getpid(), pid;
    int status = 0;

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        int fd = open(path, O_RDWR | O_CLOEXEC);

        if (fd < 0 || fcntl(fd, F_GETLK, &fl) != 0)
            _exit(2);
        _exit(fl.l_type != F_UNLCK && fl.l_pid == parent ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 2);
    return WEXITSTATUS(status) == 0;
}

static void test_ping_keeps_sqlites_locks(void **state)
{
    struct fixture *f = *state;
    char err[512] = "";

    db_fixture_open(f, LIST, 1);
    assert_true(locked_by_parent(f->db));
    for (int i = 0; i < 3; i++)
        assert_int_equal(ap_store_ping(f->s, err, sizeof(err)), AP_OK);
    /* Closing any descriptor of the file would have dropped them all. */
    assert_true(locked_by_parent(f->db));
}

static void test_ping_notices_a_deleted_or_replaced_file(void **state)
{
    struct fixture *f = *state;
    char err[512] = "", moved[160];

    db_fixture_open(f, LIST, 1);
    assert_int_equal(ap_store_ping(f->s, err, sizeof(err)), AP_OK);

    snprintf(moved, sizeof(moved), "%s.moved", f->db);
    assert_int_equal(rename(f->db, moved), 0);
    assert_int_equal(ap_store_ping(f->s, err, sizeof(err)), AP_EUNAVAIL);
    assert_non_null(strstr(err, f->db));
    assert_non_null(strstr(err, "deleted"));

    /* Another file in its place (made by a child: a descriptor of ours on
     * any file is fine, but the test shows the path is only stat()ed). */
    int fd = open(f->db, O_WRONLY | O_CREAT, 0600);
    close(fd);
    assert_int_equal(ap_store_ping(f->s, err, sizeof(err)), AP_EUNAVAIL);
    assert_non_null(strstr(err, "replaced"));

    assert_int_equal(unlink(f->db), 0);
    assert_int_equal(rename(moved, f->db), 0);
    assert_int_equal(ap_store_ping(f->s, err, sizeof(err)), AP_OK);
}

static bool probe_table_exists(struct ap_store *s)
{
    struct ap_db_conn *c = ap_store_acquire(s, false);
    bool yes = ap_db_table_exists(c, "store_probe");

    ap_store_release(c);
    return yes;
}

static void test_ping_probes_at_most_every_few_seconds(void **state)
{
    struct fixture *f = *state;
    char err[512] = "";

    ap_clock_fake_begin(1000 * AP_NS_PER_S, 1000 * AP_NS_PER_S);
    db_fixture_open(f, LIST, 1);
    assert_int_equal(insert_t(f->s, "a"), AP_OK);
    /* A write just succeeded: nothing to probe. */
    assert_int_equal(ap_store_ping(f->s, err, sizeof(err)), AP_OK);
    ap_clock_fake_advance(4 * AP_NS_PER_S);
    assert_int_equal(ap_store_ping(f->s, err, sizeof(err)), AP_OK);
    assert_false(probe_table_exists(f->s));
    /* Nothing written for 5 s: ping writes once. */
    ap_clock_fake_advance(1 * AP_NS_PER_S);
    assert_int_equal(ap_store_ping(f->s, err, sizeof(err)), AP_OK);
    assert_true(probe_table_exists(f->s));
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM store_probe"), 1);
    ap_clock_fake_end();
}

/* Lowers (limit > 0) or lifts (0) this process's file-size limit. */
static bool set_fsize(rlim_t limit)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_FSIZE, &rl) != 0)
        return false;
    rl.rlim_cur = limit > 0 ? limit : rl.rlim_max;
    return setrlimit(RLIMIT_FSIZE, &rl) == 0;
}

/* A child's start: writes past the file-size limit fail (EFBIG) instead of
 * killing it, the clock is ours, the store is open. NULL or what failed. */
static const char *child_open(struct fixture *f)
{
    signal(SIGXFSZ, SIG_IGN);
    ap_clock_fake_begin(1000 * AP_NS_PER_S, 1000 * AP_NS_PER_S);
    return db_fixture_try_open(f, LIST, 1);
}

/* In a child: a real write fails with EFBIG, ping says so, and recovers
 * after the limit is lifted once a probe (5 s later) succeeds. */
static const char *unwritable_after_a_failed_write(void *arg)
{
    struct fixture *f = arg;
    static char err[512];

    const char *msg = child_open(f);

    if (msg != NULL)
        return msg;
    if (insert_t(f->s, "a") != AP_OK || ap_store_ping(f->s, err, sizeof(err)) != AP_OK)
        return "a write before the limit failed";
    if (!set_fsize(1))
        return "setrlimit";
    if (insert_t(f->s, "b") != AP_EIO)
        return "a write past the limit did not fail with AP_EIO";
    if (ap_store_ping(f->s, err, sizeof(err)) != AP_EIO)
        return "ping did not report the failed write";
    if (strstr(err, "cannot be written") == NULL || strstr(err, f->db) == NULL ||
        strstr(err, "File too large") == NULL)
        return err;
    if (!set_fsize(0))
        return "setrlimit";
    /* Until something is written again the verdict stands (no probe yet). */
    if (ap_store_ping(f->s, err, sizeof(err)) != AP_EIO)
        return "the verdict changed without a write";
    ap_clock_fake_advance(5 * AP_NS_PER_S);
    if (ap_store_ping(f->s, err, sizeof(err)) != AP_OK)
        return "ping did not recover after the limit was lifted";
    if (insert_t(f->s, "b") != AP_OK || query_int(f->s, "SELECT count(*) FROM t") != 2)
        return "writes did not resume";
    return NULL;
}

static void test_ping_reports_a_failed_write_and_recovers(void **state)
{
    db_in_child(unwritable_after_a_failed_write, *state);
}

/* In a child: with no traffic, the probe itself finds the database cannot
 * be written, and a real write that succeeds clears it at once. */
static const char *unwritable_found_by_probe(void *arg)
{
    struct fixture *f = arg;
    static char err[512];

    const char *msg = child_open(f);

    if (msg != NULL)
        return msg;
    if (!set_fsize(1))
        return "setrlimit";
    ap_clock_fake_advance(5 * AP_NS_PER_S);
    if (ap_store_ping(f->s, err, sizeof(err)) != AP_EIO || strstr(err, "File too large") == NULL)
        return "the probe did not find the database unwritable";
    if (!set_fsize(0))
        return "setrlimit";
    if (insert_t(f->s, "a") != AP_OK || ap_store_ping(f->s, err, sizeof(err)) != AP_OK)
        return "a successful write did not clear the verdict";
    return NULL;
}

static void test_probe_finds_an_unwritable_database(void **state)
{
    db_in_child(unwritable_found_by_probe, *state);
}

static void test_statement_names(void **state)
{
    static const char *const cases[][2] = {
        {"INSERT INTO sessions (token_hash) VALUES (?)", "insert.sessions"},
        {"insert or ignore into \"role_permissions\" VALUES (?)", "insert.role_permissions"},
        {"  SELECT COALESCE(MAX(version), 0) FROM schema_migrations", "select.schema_migrations"},
        {"SELECT u.id, (SELECT count(*) FROM sessions) FROM users u JOIN accounts a",
         "select.users"},
        {"SELECT 'from x' AS y FROM [t]", "select.t"},
        {"SELECT 1", "select"},
        {"UPDATE fms_connections SET state = ? WHERE account_id = ?", "update.fms_connections"},
        {"DELETE FROM sessions WHERE expires_at < ?", "delete.sessions"},
        {"CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER)",
         "create.schema_migrations"},
        {"PRAGMA journal_mode=WAL", "pragma.journal_mode"},
        {"BEGIN IMMEDIATE", "begin"},
        {"-- why\nCOMMIT", "commit"},
        {"SAVEPOINT ap_write", "savepoint"},
        {"", "unknown"},
    };
    char name[AP_DB_STMT_NAME_MAX];

    (void)state;
    for (size_t i = 0; i < AP_COUNTOF(cases); i++)
        assert_string_equal(ap_db_stmt_name(cases[i][0], name, sizeof(name)), cases[i][1]);
    /* Bounded however long the SQL. */
    char small[8];
    assert_string_equal(ap_db_stmt_name("SELECT * FROM a_very_long_table", small, sizeof(small)),
                        "select.");
}

/* The lines logged while fn ran, as one string (caller frees). */
static char *logged(void (*fn)(struct ap_store *), struct ap_store *s)
{
    char path[] = "/tmp/ap-log-XXXXXX";
    int fd = mkstemp(path);
    char *text = calloc(1, 65536);

    assert_true(fd >= 0);
    ap_log_set_fd(fd);
    fn(s);
    ap_log_set_fd(2);
    assert_true(pread(fd, text, 65535, 0) >= 0);
    close(fd);
    unlink(path);
    return text;
}

static void fail_some(struct ap_store *s)
{
    struct ap_db_conn *c = ap_store_acquire(s, true);
    struct ap_db_val v = ap_db_text("owner@example.test");
    int64_t n = 0;

    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name) VALUES (?)", &v, 1), AP_OK);
    assert_int_equal(ap_db_exec(c, "INSERT INTO t (name) VALUES (?)", &v, 1), AP_ECONFLICT);
    assert_int_equal(ap_db_exec(c, "UPDATE nosuch SET name = ?", &v, 1), AP_EINTERNAL);
    /* A value of the wrong type: PostgreSQL quotes it in its message. */
    assert_int_equal(ap_db_exec(c, "UPDATE t SET id = ? WHERE id < 0", &v, 1),
                     ap_store_backend(s)[0] == 'p' ? AP_EINTERNAL : AP_OK);
    /* A missing row is an answer, not a failure. */
    assert_int_equal(ap_db_query_int(c, "SELECT id FROM t WHERE id = 99", NULL, 0, &n),
                     AP_ENOTFOUND);
    ap_store_release(c);
}

static void test_failures_are_logged_with_the_statement_name(void **state)
{
    struct fixture *f = *state;
    char *text;

    db_fixture_open(f, LIST, 1);
    ap_log_set_level(AP_LOG_INFO);
    text = logged(fail_some, f->s);
    ap_log_set_level(AP_LOG_WARN);
    assert_non_null(strstr(text, "level=warn event=db.query"));
    assert_non_null(strstr(text, "stmt=insert.t err=econflict conn=write"));
    assert_non_null(strstr(text, f->pg ? "duplicate key value violates unique constraint"
                                       : "UNIQUE constraint failed: t.name"));
    assert_non_null(strstr(text, "level=error event=db.query"));
    assert_non_null(strstr(text, "stmt=update.nosuch err=einternal"));
    assert_non_null(
        strstr(text, f->pg ? "relation \\\"nosuch\\\" does not exist" : "no such table: nosuch"));
    if (f->pg)
        assert_non_null(strstr(text, "invalid input syntax for type bigint: (a value)"));
    assert_null(strstr(text, "select.t"));
    assert_null(strstr(text, "owner@example.test")); /* values never */
    free(text);
}

/* Every column of every table of the schema: (table, column). */
static const char SQLITE_COLUMNS[] = "SELECT m.name, p.name FROM sqlite_schema m, "
                                     "pragma_table_info(m.name) p WHERE m.type = 'table' "
                                     "ORDER BY m.name, p.cid";
static const char PG_COLUMNS[] = "SELECT table_name, column_name FROM information_schema.columns "
                                 "WHERE table_schema = current_schema() "
                                 "ORDER BY table_name, ordinal_position";

static bool ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), m = strlen(end);
    return n >= m && strcmp(s + n - m, end) == 0;
}

static void test_sealed_columns_match_the_schema(void **state)
{
    struct fixture *f = *state;
    struct ap_db_conn *c;
    struct ap_db_rows *r = NULL;
    char err[512] = "";
    int64_t n = -1;
    size_t found = 0;

    db_fixture_open(f, ap_db_migrations, ap_db_nmigrations);
    c = ap_store_acquire(f->s, false);
    assert_int_equal(ap_db_query(c, f->pg ? PG_COLUMNS : SQLITE_COLUMNS, NULL, 0, &r), AP_OK);
    while (ap_db_next(r)) {
        bool listed = false;

        if (!ends_with(ap_db_row_text(r, 1), "_sealed"))
            continue;
        for (size_t i = 0; i < ap_db_nsealed_cols; i++)
            listed |= strcmp(ap_db_sealed_cols[i].table, ap_db_row_text(r, 0)) == 0 &&
                      strcmp(ap_db_sealed_cols[i].column, ap_db_row_text(r, 1)) == 0;
        if (!listed)
            fail_msg("%s.%s is not in ap_db_sealed_cols", ap_db_row_text(r, 0),
                     ap_db_row_text(r, 1));
        found++;
    }
    assert_int_equal(ap_db_done(r), AP_OK);
    ap_store_release(c);
    assert_int_equal(found, ap_db_nsealed_cols);

    assert_int_equal(ap_store_count_sealed(f->s, &n, err, sizeof(err)), AP_OK);
    assert_int_equal(n, 0);
    c = ap_store_acquire(f->s, true);
    assert_int_equal(ap_db_exec(c,
                                "INSERT INTO accounts (id, name, created_at) VALUES (1, 'a', 'x'), "
                                "(2, 'b', 'x')",
                                NULL, 0),
                     AP_OK);
    assert_int_equal(ap_db_exec(c,
                                "INSERT INTO fms_connections (account_id, state, environment, "
                                "secret_sealed, v1_key_sealed, updated_at) VALUES "
                                "(1, 'connected', 'custom', 'v1:x', NULL, 'x'), "
                                "(2, 'v1_migration_required', 'custom', 'v1:y', 'v1:z', 'x')",
                                NULL, 0),
                     AP_OK);
    ap_store_release(c);
    assert_int_equal(ap_store_count_sealed(f->s, &n, err, sizeof(err)), AP_OK);
    assert_int_equal(n, 3);
}

/* ap_db_tables lists every table of the schema (but the store's own),
 * each after the tables it references, with its primary key. */
static void test_tables_match_the_schema(void **state)
{
    struct fixture *f = *state;
    struct ap_db_conn *c;
    struct ap_db_rows *r = NULL;
    size_t found = 0;

    db_fixture_open(f, ap_db_migrations, ap_db_nmigrations);
    c = ap_store_acquire(f->s, false);
    assert_int_equal(ap_db_query(c,
                                 f->pg ? "SELECT table_name FROM information_schema.tables "
                                         "WHERE table_schema = current_schema()"
                                       : "SELECT name FROM sqlite_schema WHERE type = 'table'",
                                 NULL, 0, &r),
                     AP_OK);
    while (ap_db_next(r)) {
        const char *name = ap_db_row_text(r, 0);
        bool listed = false;

        if (strcmp(name, "schema_migrations") == 0 || strcmp(name, "store_probe") == 0)
            continue;
        for (size_t i = 0; i < ap_db_ntables; i++)
            listed |= strcmp(ap_db_tables[i].name, name) == 0;
        if (!listed)
            fail_msg("table %s is not in ap_db_tables (src/db/tables.c)", name);
        found++;
    }
    assert_int_equal(ap_db_done(r), AP_OK);
    assert_int_equal(found, ap_db_ntables);
    /* Each key is a real key: selecting and ordering by it works, and it is unique. */
    for (size_t i = 0; i < ap_db_ntables; i++) {
        char sql[256];
        int64_t dups = -1;

        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM (SELECT %s FROM %s GROUP BY %s HAVING count(*) > 1) d",
                 ap_db_tables[i].key, ap_db_tables[i].name, ap_db_tables[i].key);
        assert_int_equal(ap_db_query_int(c, sql, NULL, 0, &dups), AP_OK);
        assert_int_equal(dups, 0);
    }
    ap_store_release(c);
}

int main(void)
{
    static const struct db_case cases[] = {
        DB_SQLITE(test_ping_keeps_sqlites_locks),
        DB_SQLITE(test_ping_notices_a_deleted_or_replaced_file),
        DB_BOTH(test_ping_probes_at_most_every_few_seconds),
        DB_SQLITE(test_ping_reports_a_failed_write_and_recovers),
        DB_SQLITE(test_probe_finds_an_unwritable_database),
        DB_SQLITE(test_statement_names),
        DB_BOTH(test_failures_are_logged_with_the_statement_name),
        DB_BOTH(test_sealed_columns_match_the_schema),
        DB_BOTH(test_tables_match_the_schema),
    };

    ap_log_set_level(AP_LOG_OFF);
    return db_run_cases("health", cases, AP_COUNTOF(cases));
}

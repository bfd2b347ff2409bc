/*
 * test_copy.c — unit tests of ap_store_copy() (`appointd db copy`): a SQLite
 * data dir with appointd's schema and rows in every table copied into
 * PostgreSQL (and, in the SQLite run, into another data dir) — values, NULLs and 64-bit integers
 * intact, ids handed out next past the copied ones, counts checked; a second run writes nothing, a
 * changed row is brought up to date; a target holding other data, or filled
 * from another source, is refused untouched; rows deleted in the source
 * since are reported; and back from PostgreSQL into a new SQLite data dir.
 */
#include "db_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/defs.h"
#include "core/log.h"
#include "db/store.h"

/* A row in every table of appointd's schema (ap_db_tables), some columns NULL. */
static const char *const ROWS[] = {
    "INSERT INTO accounts (id, name, created_at) VALUES (1, 'Acme Heating', 't0'), "
    "(7, 'Bolt Plumbing', 't1')",
    "INSERT INTO users (id, account_id, email, password_hash, role, created_at, "
    "password_changed_at, is_operator) VALUES (3, 1, 'owner@acme.test', 'h', 'owner', 't', 't', "
    "0), (9, 7, 'ops@bolt.test', 'h', 'admin', 't', 't', 1)",
    "INSERT INTO role_permissions (account_id, role, permission) VALUES (1, 'owner', "
    "'manage_integrations'), (7, 'staff', 'manage_schedulers')",
    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES "
    "('th1', 3, 'csrf', 't', 't9')",
    "INSERT INTO fms_connections (account_id, state, environment, tenant_id, client_id, "
    "secret_sealed, updated_at) VALUES (1, 'connected', 'custom', 9876543210, 'cid.x', "
    "'v1:sealed', 't')",
    "INSERT INTO st_catalog (account_id, kind, st_id, name, active, data, refreshed_at) VALUES "
    "(1, 'job_type', 5, 'AC repair', 1, '{}', 't')",
    "INSERT INTO st_catalog_state (account_id, kind, refreshed_at, error) VALUES (1, "
    "'job_type', 't', NULL)",
    "INSERT INTO schedulers (id, account_id, key, name, config, created_at, updated_at) VALUES "
    "(4, 1, 'sch_k', 'Main', '{}', 't', 't')",
    "INSERT INTO bookings (id, reference, account_id, scheduler_id, state, mode, service_id, "
    "tenant_id, business_unit_id, job_type_id, campaign_id, window_start, window_end, hold, "
    "request, name, phone, summary, created_at, updated_at, pushed_at) VALUES (12, 'bk_1', 1, 4, "
    "'accepted', 'job', 'ac', 9876543210, 1, 5, 2, 1796630400000000000, 1796637600000000000, "
    "7200, '{}', 'Pat', '+15125550123', 's', 't', 't', NULL)",
    "INSERT INTO booking_calls (id, booking_id, at, method, path, status, outcome, duration_ms) "
    "VALUES (2, 12, 't', 'POST', '/crm/v2/tenant/1/customers', 200, 'ok', 31)",
    "INSERT INTO idempotency_keys (scheduler_id, key, body_hash, booking_id, created_at) VALUES "
    "(4, 'idem-1', 'bh', 12, 't')",
    "INSERT INTO instances (id, started_at, seen_at) VALUES ('h:1:ab', 1, 2)",
    "INSERT INTO leases (name, owner, until_ms) VALUES ('jobs', 'h:1:ab', 3)",
    "INSERT INTO st_tokens (tenant_id, client_id, token_sealed, expires_at, gen) VALUES "
    "(9876543210, 'cid.x', 'v1:sealed', 4, 1)",
    "INSERT INTO login_throttle (key, n, last_ms, next_ms) VALUES ('k', 1, 5, 0)",
};

static void exec_all(struct ap_store *s, const char *const *sql, size_t n)
{
    struct ap_db_conn *c = ap_store_acquire(s, true);

    for (size_t i = 0; i < n; i++)
        if (ap_db_exec(c, sql[i], NULL, 0) != AP_OK)
            fail_msg("%s: %s", sql[i], ap_db_errmsg(c));
    ap_store_release(c);
}

static struct ap_store *open_at(const char *where)
{
    char err[512] = "";
    struct ap_store *s = ap_store_open(where, err, sizeof(err));

    if (s == NULL ||
        ap_store_migrate(s, ap_db_migrations, ap_db_nmigrations, NULL, err, sizeof(err)) != AP_OK)
        fail_msg("open %s: %s", where, err);
    return s;
}

/* The source: a data dir of its own beside the case's store, with ROWS. */
static struct ap_store *source(struct fixture *f)
{
    char dir[160];

    snprintf(dir, sizeof(dir), "%s/source", f->dir);
    struct ap_store *src = open_at(dir);

    exec_all(src, ROWS, AP_COUNTOF(ROWS));
    return src;
}

/* Rows written (or, with source, rows in the source), meta left out: its
 * one row differs between the two or not, by when each was made. */
static int64_t total(const struct ap_db_copy_report *r, bool source)
{
    int64_t n = 0;

    for (size_t i = 0; i < r->ntables; i++)
        if (strcmp(r->t[i].table, "meta") != 0)
            n += source ? r->t[i].source : r->t[i].written;
    return n;
}

static int64_t written(const struct ap_db_copy_report *r)
{
    return total(r, false);
}

static void test_copy_sqlite_into_postgres(void **state)
{
    struct fixture *f = *state;
    struct ap_store *src = source(f);
    struct ap_db_copy_report rep;
    struct ap_db_conn *c;
    char err[512] = "";
    int64_t id = 0;

    f->s = open_at(f->where);
    assert_int_equal(ap_store_copy(src, f->s, &rep, err, sizeof(err)), AP_OK);
    assert_int_equal(rep.ntables, ap_db_ntables);
    for (size_t i = 0; i < rep.ntables; i++) {
        assert_int_equal(rep.t[i].source, rep.t[i].target);
        assert_true(rep.t[i].source >= 1); /* every table had rows */
    }
    assert_int_equal(written(&rep), total(&rep, true)); /* every row, once */
    assert_int_equal(total(&rep, true), 18);
    /* Values as they were: big integers, NULLs, ids. */
    assert_int_equal(db_query_int(f->s, "SELECT window_start FROM bookings WHERE id = 12"),
                     1796630400000000000);
    assert_int_equal(db_query_int(f->s, "SELECT tenant_id FROM fms_connections"), 9876543210);
    assert_int_equal(db_query_int(f->s, "SELECT count(*) FROM bookings WHERE pushed_at IS NULL"),
                     1);
    assert_int_equal(db_query_int(f->s, "SELECT id FROM users WHERE email = 'ops@bolt.test'"), 9);
    assert_int_equal(db_query_int(f->s, "SELECT count(*) FROM meta WHERE key = 'copied_from'"), 1);
    /* New rows get ids past the copied ones. */
    c = ap_store_acquire(f->s, true);
    assert_int_equal(ap_db_query_int(c,
                                     "INSERT INTO accounts (name, created_at) VALUES ('New', 't') "
                                     "RETURNING id",
                                     NULL, 0, &id),
                     AP_OK);
    assert_int_equal(id, 8);
    assert_int_equal(ap_db_exec(c, "DELETE FROM accounts WHERE id = 8", NULL, 0), AP_OK);
    ap_store_release(c);

    /* Again: nothing to write. Then a changed row is brought up to date. */
    assert_int_equal(ap_store_copy(src, f->s, &rep, err, sizeof(err)), AP_OK);
    assert_int_equal(written(&rep), 0);
    exec_all(src, (const char *const[]){"UPDATE bookings SET state = 'booked' WHERE id = 12"}, 1);
    assert_int_equal(ap_store_copy(src, f->s, &rep, err, sizeof(err)), AP_OK);
    assert_int_equal(written(&rep), 1);
    assert_int_equal(db_query_int(f->s, "SELECT count(*) FROM bookings WHERE state = 'booked'"), 1);

    /* A row deleted in the source since: the counts differ, and it says so. */
    exec_all(src, (const char *const[]){"DELETE FROM sessions"}, 1);
    assert_int_equal(ap_store_copy(src, f->s, &rep, err, sizeof(err)), AP_ECONFLICT);
    assert_non_null(strstr(err, "table sessions has 0 rows"));
    ap_store_close(src);
}

static void test_copy_refuses_other_data(void **state)
{
    struct fixture *f = *state;
    struct ap_store *src = source(f), *other;
    char err[512] = "", dir[160];

    /* A target that holds data of its own. */
    f->s = open_at(f->where);
    exec_all(f->s,
             (const char *const[]){"INSERT INTO accounts (name, created_at) VALUES ('Mine', 't')"},
             1);
    assert_int_equal(ap_store_copy(src, f->s, NULL, err, sizeof(err)), AP_ECONFLICT);
    assert_non_null(strstr(err, "already holds data (rows: accounts: 1)"));
    assert_int_equal(db_query_int(f->s, "SELECT count(*) FROM accounts"), 1); /* untouched */
    assert_int_equal(db_query_int(f->s, "SELECT count(*) FROM meta WHERE key = 'copied_from'"), 0);
    exec_all(f->s, (const char *const[]){"DELETE FROM accounts"}, 1);

    /* A target filled from another source. */
    assert_int_equal(ap_store_copy(src, f->s, NULL, err, sizeof(err)), AP_OK);
    snprintf(dir, sizeof(dir), "%s/other", f->dir);
    other = open_at(dir);
    exec_all(other,
             (const char *const[]){"UPDATE meta SET value = 'another' WHERE key = 'created_at'"},
             1);
    assert_int_equal(ap_store_copy(other, f->s, NULL, err, sizeof(err)), AP_ECONFLICT);
    assert_non_null(strstr(err, "filled by a copy from another source"));
    ap_store_close(other);
    ap_store_close(src);
}

static void test_copy_back_into_sqlite(void **state)
{
    struct fixture *f = *state;
    struct ap_store *src = source(f), *back;
    struct ap_db_copy_report rep;
    char err[512] = "", dir[160];

    f->s = open_at(f->where);
    assert_int_equal(ap_store_copy(src, f->s, NULL, err, sizeof(err)), AP_OK);
    snprintf(dir, sizeof(dir), "%s/back", f->dir);
    back = open_at(dir);
    assert_int_equal(ap_store_copy(f->s, back, &rep, err, sizeof(err)), AP_OK);
    for (size_t i = 0; i < rep.ntables; i++)
        assert_int_equal(rep.t[i].source, rep.t[i].target);
    assert_int_equal(db_query_int(back, "SELECT window_end FROM bookings"), 1796637600000000000);
    ap_store_close(back);
    ap_store_close(src);
}

int main(void)
{
    static const struct db_case cases[] = {
        DB_BOTH(test_copy_sqlite_into_postgres),
        DB_BOTH(test_copy_refuses_other_data),
        DB_BOTH(test_copy_back_into_sqlite),
    };

    ap_log_set_level(AP_LOG_OFF);
    return db_run_cases("copy", cases, AP_COUNTOF(cases));
}

/*
 * db_fixture.h — what the store's unit tests share: a fresh store per test
 * on either backend — a temporary data dir (SQLite), or a fresh database on
 * the test PostgreSQL server named by APPOINTD_TEST_PG (its admin URL;
 * scripts/check starts one with tests/e2e/lib/pg.mjs) — opening it with a
 * migration list, and running a check in a forked child (for process-wide
 * state such as resource limits, or for a process that dies without
 * closing the store).
 *
 * Each test file lists its cases with DB_BOTH(fn) (run on SQLite, then on
 * PostgreSQL), DB_SQLITE(fn) or DB_PG(fn), and runs them with
 * db_run_cases(). Without APPOINTD_TEST_PG the PostgreSQL cases are left
 * out (a TAP comment says so) — except under CI=true, where that fails.
 */
#ifndef AP_TESTS_DB_FIXTURE_H
#define AP_TESTS_DB_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db/store.h"

struct db_case;

struct fixture {
    const struct db_case *c; /* the case being run */
    bool pg;                 /* the PostgreSQL run */
    char dir[64];            /* a fresh temporary dir (both runs) */
    char data[96];           /* <dir>/data, not yet created */
    char db[128];            /* <data>/appointd.db (SQLite) */
    char pgdb[64];           /* the fresh database (PostgreSQL) */
    char where[1024];        /* what ap_store_open() takes: data, or the database's URL */
    struct ap_store *s;
};

/* A case: a test function and the backend it runs on. */
struct db_case {
    const char *name;
    CMUnitTestFunction fn;
    bool pg;
};

#define DB_SQLITE(f)                                                                               \
    {                                                                                              \
        "sqlite: " #f, f, false                                                                    \
    }
#define DB_PG(f)                                                                                   \
    {                                                                                              \
        "postgres: " #f, f, true                                                                   \
    }
#define DB_BOTH(f) DB_SQLITE(f), DB_PG(f)

/* Runs the n cases (sorted: every SQLite case, then every PostgreSQL one)
 * as one cmocka group named group; returns cmocka's result. */
int db_run_cases(const char *group, const struct db_case *cases, size_t n);

/* Opens f->where into f->s and applies list; fails the test on error. */
struct ap_store *db_fixture_open(struct fixture *f, const struct ap_migration *list, size_t n);

/* The same for a child (no cmocka): NULL, or what went wrong. */
const char *db_fixture_try_open(struct fixture *f, const struct ap_migration *list, size_t n);

/*
 * Runs check(arg) in a forked child and fails the test unless it returns
 * NULL; otherwise the message it returns is the failure. The child must not
 * use cmocka's assertions (they would jump back into the parent's runner).
 */
void db_in_child(const char *(*check)(void *arg), void *arg);

/* ---- PostgreSQL only ---- */

/* The URL of database db on the test server (with params, "a=b&c=d", or
 * NULL); false when APPOINTD_TEST_PG is unset or out does not fit. */
bool db_pg_url(const char *db, const char *params, char *out, size_t n);

/* Runs sql on the test server's admin database; fails the test on error. */
void db_pg_admin(const char *sql);

/* Ends every session of the test database of f but our own admin one
 * (pg_terminate_backend), as a server restart or a failover would. */
void db_pg_kill_sessions(const struct fixture *f);

/* A query's one integer on f's store, read on a read connection; -1 on error. */
int64_t db_query_int(struct ap_store *s, const char *sql);

#endif

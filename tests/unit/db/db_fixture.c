/*
 * db_fixture.c — the shared fixture of the store's unit tests (db_fixture.h).
 */
#include "db_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The admin URL of the test server, or NULL. */
static const char *pg_admin_url(void)
{
    const char *url = getenv("APPOINTD_TEST_PG");
    return url != NULL && url[0] != '\0' ? url : NULL;
}

bool db_pg_url(const char *db, const char *params, char *out, size_t n)
{
    const char *url = pg_admin_url(), *auth, *path, *query;
    int w;

    if (url == NULL || (auth = strstr(url, "://")) == NULL)
        return false;
    path = strchr(auth + 3, '/');
    if (path == NULL)
        return false;
    query = strchr(path, '?');
    /* scheme://authority/ + db + ?query [&params] */
    w = snprintf(out, n, "%.*s/%s%s%s%s", (int)(path - url), url, db, query ? query : "",
                 params ? (query ? "&" : "?") : "", params ? params : "");
    return w > 0 && (size_t)w < n;
}

void db_pg_admin(const char *sql)
{
    char err[512] = "";
    struct ap_store *s = ap_store_open(pg_admin_url(), err, sizeof(err));
    struct ap_db_conn *c;
    enum ap_err e;

    if (s == NULL)
        fail_msg("admin connection: %s", err);
    c = ap_store_acquire(s, true);
    e = ap_db_exec(c, sql, NULL, 0);
    if (e != AP_OK)
        fail_msg("admin SQL %s: %s", sql, ap_db_errmsg(c));
    ap_store_release(c);
    ap_store_close(s);
}

void db_pg_kill_sessions(const struct fixture *f)
{
    char sql[256], err[512] = "";
    int64_t left = -1;

    snprintf(sql, sizeof(sql),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' AND "
             "pid <> pg_backend_pid()",
             f->pgdb);
    db_pg_admin(sql);
    /* pg_terminate_backend only asks: wait until they are gone (bounded). */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'",
             f->pgdb);
    struct ap_store *s = ap_store_open(pg_admin_url(), err, sizeof(err));
    assert_non_null(s);
    for (int i = 0; i < 500 && left != 0; i++) {
        left = db_query_int(s, sql);
        if (left != 0)
            usleep(10000);
    }
    ap_store_close(s);
    assert_int_equal(left, 0);
}

int64_t db_query_int(struct ap_store *s, const char *sql)
{
    struct ap_db_conn *c = ap_store_acquire(s, false);
    int64_t n = -1;

    if (c == NULL || ap_db_query_int(c, sql, NULL, 0, &n) != AP_OK)
        n = -1;
    ap_store_release(c);
    return n;
}

static int setup(void **state)
{
    static unsigned seq;
    struct fixture *f = calloc(1, sizeof(*f));
    char sql[128];

    f->c = *state;
    f->pg = f->c->pg;
    strcpy(f->dir, "/tmp/ap-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
    snprintf(f->db, sizeof(f->db), "%s/appointd.db", f->data);
    snprintf(f->where, sizeof(f->where), "%s", f->data);
    *state = f;
    if (!f->pg)
        return 0;
    snprintf(f->pgdb, sizeof(f->pgdb), "ap_t_%ld_%u", (long)getpid(), ++seq);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->pgdb);
    db_pg_admin(sql);
    assert_true(db_pg_url(f->pgdb, NULL, f->where, sizeof(f->where)));
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[256];

    ap_store_close(f->s);
    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", f->dir, f->dir);
    assert_int_equal(system(cmd), 0);
    if (f->pg) {
        snprintf(cmd, sizeof(cmd), "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pgdb);
        db_pg_admin(cmd);
    }
    free(f);
    return 0;
}

static void run_case(void **state)
{
    struct fixture *f = *state;

    f->c->fn(state);
}

int db_run_cases(const char *group, const struct db_case *cases, size_t n)
{
    struct CMUnitTest *tests = calloc(n, sizeof(*tests));
    bool pg = pg_admin_url() != NULL;
    size_t k = 0;
    int rc;

    if (!pg) {
        const char *ci = getenv("CI");

        printf("# %s: the PostgreSQL cases are not run: APPOINTD_TEST_PG (the admin URL of a "
               "test server, see tests/e2e/lib/pg.mjs) is unset\n",
               group);
        if (ci != NULL && strcmp(ci, "true") == 0) {
            printf("Bail out! CI=true needs the PostgreSQL cases run\n");
            free(tests);
            return 1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (cases[i].pg && !pg)
            continue;
        tests[k++] =
            (struct CMUnitTest){cases[i].name, run_case, setup, teardown, (void *)&cases[i]};
    }
    rc = _cmocka_run_group_tests(group, tests, k, NULL, NULL);
    free(tests);
    return rc;
}

const char *db_fixture_try_open(struct fixture *f, const struct ap_migration *list, size_t n)
{
    static char err[512];

    f->s = ap_store_open(f->where, err, sizeof(err));
    if (f->s == NULL || ap_store_migrate(f->s, list, n, NULL, err, sizeof(err)) != AP_OK)
        return err;
    return NULL;
}

struct ap_store *db_fixture_open(struct fixture *f, const struct ap_migration *list, size_t n)
{
    const char *msg = db_fixture_try_open(f, list, n);

    if (msg != NULL)
        fail_msg("open: %s", msg);
    return f->s;
}

void db_in_child(const char *(*check)(void *arg), void *arg)
{
    int status = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *msg = check(arg);

        if (msg != NULL)
            fprintf(stderr, "child: %s\n", msg);
        _exit(msg == NULL ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

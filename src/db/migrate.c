/*
 * migrate.c — schema migrations over the backend-neutral store interface:
 * the schema_migrations table, applying what is missing in order (each in
 * its own transaction), and refusing a database newer than this binary.
 * Processes migrating at once take turns: the backend's migration lock
 * (PostgreSQL: an advisory lock) is held throughout, and each migration is
 * applied only if it is not recorded yet.
 */
#include <stdio.h>

#include "core/clock.h"
#include "core/log.h"
#include "db/db_int.h"
#include "db/store.h"

static const char CREATE_TABLE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                   " version INTEGER PRIMARY KEY,"
                                   " name TEXT NOT NULL,"
                                   " applied_at TEXT NOT NULL)";

static enum ap_err current_version(struct ap_db_conn *c, int *out)
{
    int64_t v = 0;
    enum ap_err err = AP_OK;

    if (ap_db_table_exists(c, "schema_migrations"))
        err = ap_db_query_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0,
                              &v);
    *out = (int)v;
    return err;
}

int ap_store_schema_version(struct ap_store *s)
{
    struct ap_db_conn *c = ap_store_acquire(s, false);
    int v = -1;

    if (c == NULL)
        return -1;
    if (current_version(c, &v) != AP_OK) {
        char q[600];

        ap_log_error("db.schema_version", "path=%s error=%s", ap_db_log_path(s),
                     ap_log_quote(ap_db_errmsg(c), q, sizeof(q)));
        v = -1;
    }
    ap_store_release(c);
    return v;
}

static bool list_ok(const struct ap_migration *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].version <= 0 || (i > 0 && list[i].version <= list[i - 1].version) ||
            list[i].name == NULL || list[i].sql == NULL)
            return false;
    return true;
}

/* Applies m unless it is recorded already (another process may have been
 * first); *did tells which. */
static enum ap_err apply_one(struct ap_db_conn *c, const struct ap_migration *m, bool *did)
{
    struct ap_db_val v = ap_db_int(m->version);
    char when[32];
    int64_t n = 0;
    enum ap_err err;

    *did = false;
    err = ap_db_begin(c);
    if (err != AP_OK)
        return err;
    err = ap_db_query_int(c, "SELECT count(*) FROM schema_migrations WHERE version = ?", &v, 1, &n);
    if (err != AP_OK || n > 0)
        goto out;
    err = ap_db_exec_script(c, m->sql);
    if (err != AP_OK)
        goto out;
    ap_clock_format_utc(ap_clock_real_ns(), when);
    struct ap_db_val row[] = {v, ap_db_text(m->name), ap_db_text(when)};
    err = ap_db_exec(
        c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", row, 3);
    if (err != AP_OK)
        goto out;
    err = ap_db_commit(c);
    *did = err == AP_OK;
out:
    ap_db_rollback(c);
    return err;
}

static enum ap_err migrate_conn(struct ap_db_conn *c, const struct ap_migration *list, size_t n,
                                int *applied, char *err, size_t errlen)
{
    int have = 0, knows = n > 0 ? list[n - 1].version : 0;
    enum ap_err e;

    e = ap_db_exec(c, CREATE_TABLE, NULL, 0);
    if (e == AP_OK)
        e = current_version(c, &have);
    if (e != AP_OK) {
        snprintf(err, errlen, "cannot read the schema version: %s", ap_db_errmsg(c));
        return e;
    }
    if (have > knows) {
        snprintf(err, errlen,
                 "database is at schema version %d but this appointd knows up to %d; upgrade "
                 "appointd",
                 have, knows);
        return AP_ECONFLICT;
    }
    for (size_t i = 0; i < n; i++) {
        bool did = false;

        e = apply_one(c, &list[i], &did);
        if (e != AP_OK) {
            snprintf(err, errlen, "migration %d (%s) failed: %s", list[i].version, list[i].name,
                     ap_db_errmsg(c));
            return e;
        }
        if (did) {
            ap_log_info("db.migrate", "version=%d name=%s", list[i].version, list[i].name);
            (*applied)++;
        }
    }
    return AP_OK;
}

enum ap_err ap_store_migrate(struct ap_store *s, const struct ap_migration *list, size_t n,
                             int *applied, char *err, size_t errlen)
{
    struct ap_db_conn *c;
    int count = 0;
    enum ap_err e;

    if (applied != NULL)
        *applied = 0;
    if (!list_ok(list, n)) {
        snprintf(err, errlen, "migration list is not in strictly increasing version order");
        return AP_EINTERNAL;
    }
    c = ap_store_acquire(s, true);
    e = c->s->be->migrate_lock(c, true);
    if (e != AP_OK) {
        snprintf(err, errlen, "cannot take the migration lock: %s", ap_db_errmsg(c));
    } else {
        e = migrate_conn(c, list, n, &count, err, errlen);
        c->s->be->migrate_lock(c, false); /* a lost connection let go of it already */
    }
    ap_store_release(c);
    if (applied != NULL)
        *applied = count;
    return e;
}

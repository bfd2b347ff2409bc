/*
 * copy.c — ap_store_copy(): copies appointd's tables from one store into
 * another (a SQLite data dir into PostgreSQL, for `appointd db copy`).
 * Backend-neutral: it reads with SELECT * and writes with upserts, so the
 * two stores may be of either kind.
 *
 * Safe to run again: rows are upserted by primary key and only rows that
 * differ are written, so a second run writes nothing (or what changed in
 * the source meanwhile). A target is accepted only when it is empty or was
 * filled from the same source: the first write of a copy is the target's
 * meta row "copied_from" naming the source (its meta "created_at", set once
 * when its schema was made). The source is read in one snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/db_int.h"

#define MARK_KEY "copied_from"

/* The source's identity, for the target's mark. */
static enum ap_err source_id(struct ap_db_conn *c, char *out, size_t n)
{
    struct ap_db_rows *r = NULL;
    enum ap_err err =
        ap_db_query(c, "SELECT value FROM meta WHERE key = 'created_at'", NULL, 0, &r);

    if (err != AP_OK)
        return err;
    snprintf(out, n, "%s", ap_db_next(r) ? ap_db_row_text(r, 0) : "");
    err = ap_db_done(r);
    if (err == AP_OK && out[0] == '\0')
        err = ap_db_fail(c, AP_ENOTFOUND, "SELECT value FROM meta", "the source has no meta row");
    return err;
}

/* Rows of table t, leaving out the target's mark in meta. */
static enum ap_err count_rows(struct ap_db_conn *c, const struct ap_db_table *t, int64_t *out)
{
    char *sql = ap_xasprintf("SELECT count(*) FROM %s%s", t->name,
                             strcmp(t->name, "meta") == 0 ? " WHERE key <> '" MARK_KEY "'" : "");
    enum ap_err err = ap_db_query_int(c, sql, NULL, 0, out);

    free(sql);
    return err;
}

/* The target's mark ("" when none). */
static enum ap_err target_mark(struct ap_db_conn *c, char *out, size_t n)
{
    struct ap_db_rows *r = NULL;
    enum ap_err err =
        ap_db_query(c, "SELECT value FROM meta WHERE key = '" MARK_KEY "'", NULL, 0, &r);

    if (err != AP_OK)
        return err;
    snprintf(out, n, "%s", ap_db_next(r) ? ap_db_row_text(r, 0) : "");
    return ap_db_done(r);
}

/* AP_OK when `to` is empty or marked as a copy of id; else why not in err. */
static enum ap_err check_target(struct ap_store *to, struct ap_db_conn *c, const char *id,
                                char *err, size_t errlen)
{
    char mark[256];
    struct ap_buf held;
    enum ap_err e = target_mark(c, mark, sizeof(mark));

    if (e != AP_OK) {
        snprintf(err, errlen, "cannot read database %s: %s", ap_store_path(to), ap_db_errmsg(c));
        return e;
    }
    if (strcmp(mark, id) == 0)
        return AP_OK; /* an earlier copy from this source: go on */
    ap_buf_init(&held, 1024);
    for (size_t i = 0; e == AP_OK && i < ap_db_ntables; i++) {
        int64_t n = 0;

        if (strcmp(ap_db_tables[i].name, "meta") == 0)
            continue;
        e = count_rows(c, &ap_db_tables[i], &n);
        if (e == AP_OK && n > 0)
            ap_buf_printf(&held, "%s%s: %lld", held.len > 0 ? ", " : "", ap_db_tables[i].name,
                          (long long)n);
    }
    if (e != AP_OK)
        snprintf(err, errlen, "cannot read database %s: %s", ap_store_path(to), ap_db_errmsg(c));
    if (e == AP_OK && mark[0] != '\0') {
        snprintf(err, errlen,
                 "database %s was filled by a copy from another source (made %s); copy into an "
                 "empty database",
                 ap_store_path(to), mark);
        e = AP_ECONFLICT;
    } else if (e == AP_OK && held.len > 0) {
        snprintf(err, errlen,
                 "database %s already holds data (rows: %s); copy into an empty "
                 "database",
                 ap_store_path(to), held.data);
        e = AP_ECONFLICT;
    }
    ap_buf_cleanup(&held);
    return e;
}

/*
 * "INSERT INTO t (a, b, c) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET
 * b = excluded.b, ... WHERE t.b IS DISTINCT FROM excluded.b OR ..." for the
 * columns of r (or DO NOTHING when every column is in the key).
 */
static char *upsert_sql(const struct ap_db_table *t, struct ap_db_rows *r)
{
    struct ap_buf b, set, differ;
    int ncols = ap_db_row_count(r);
    char key[256];

    ap_buf_init(&b, 1 << 16);
    ap_buf_init(&set, 1 << 16);
    ap_buf_init(&differ, 1 << 16);
    snprintf(key, sizeof(key), ", %s,", t->key);
    ap_buf_printf(&b, "INSERT INTO %s (", t->name);
    for (int i = 0; i < ncols; i++)
        ap_buf_printf(&b, "%s%s", i > 0 ? ", " : "", ap_db_row_name(r, i));
    ap_buf_puts(&b, ") VALUES (");
    for (int i = 0; i < ncols; i++) {
        const char *col = ap_db_row_name(r, i);
        char probe[128];

        ap_buf_puts(&b, i > 0 ? ", ?" : "?");
        snprintf(probe, sizeof(probe), " %s,", col);
        if (strstr(key, probe) != NULL)
            continue;
        ap_buf_printf(&set, "%s%s = excluded.%s", set.len > 0 ? ", " : "", col, col);
        ap_buf_printf(&differ, "%s%s.%s IS DISTINCT FROM excluded.%s", differ.len > 0 ? " OR " : "",
                      t->name, col, col);
    }
    if (set.len > 0)
        ap_buf_printf(&b, ") ON CONFLICT (%s) DO UPDATE SET %s WHERE %s", t->key, set.data,
                      differ.data);
    else
        ap_buf_printf(&b, ") ON CONFLICT (%s) DO NOTHING", t->key);
    ap_buf_cleanup(&set);
    ap_buf_cleanup(&differ);
    return ap_buf_take(&b);
}

/* The current row of r as binds. */
static void row_binds(struct ap_db_rows *r, struct ap_db_val *v, int ncols)
{
    for (int i = 0; i < ncols; i++) {
        size_t len = 0;
        const void *p;

        switch (ap_db_row_type(r, i)) {
        case AP_DB_NULL:
            v[i] = ap_db_null();
            break;
        case AP_DB_INT:
            v[i] = ap_db_int(ap_db_row_int(r, i));
            break;
        case AP_DB_BLOB:
            p = ap_db_row_blob(r, i, &len);
            v[i] = ap_db_blob(p != NULL ? p : "", len);
            break;
        case AP_DB_TEXT:
            v[i] = ap_db_text(ap_db_row_text(r, i));
            break;
        }
    }
}

/* Upserts every row of t from src (in its snapshot) into dst, in one transaction. */
static enum ap_err copy_table(struct ap_db_conn *src, struct ap_db_conn *dst,
                              const struct ap_db_table *t, int64_t *written)
{
    char *select =
        ap_xasprintf("SELECT * FROM %s%s ORDER BY %s", t->name,
                     strcmp(t->name, "meta") == 0 ? " WHERE key <> '" MARK_KEY "'" : "", t->key);
    struct ap_db_val v[AP_DB_MAX_BINDS];
    struct ap_db_rows *r = NULL;
    char *upsert = NULL;
    enum ap_err err = ap_db_query(src, select, NULL, 0, &r);
    int ncols;

    *written = 0;
    if (err != AP_OK)
        goto out;
    ncols = ap_db_row_count(r);
    if (ncols > AP_DB_MAX_BINDS) {
        err = ap_db_fail(dst, AP_ETOOBIG, select, "the table has more columns than binds allowed");
        goto out;
    }
    upsert = upsert_sql(t, r);
    err = ap_db_begin(dst);
    while (err == AP_OK && ap_db_next(r)) {
        row_binds(r, v, ncols);
        err = ap_db_exec(dst, upsert, v, (size_t)ncols);
        if (err == AP_OK)
            *written += ap_db_changes(dst);
    }
    if (err == AP_OK)
        err = ap_db_done(r);
    else
        ap_db_done(r);
    r = NULL;
    if (err == AP_OK)
        err = ap_db_commit(dst);
    ap_db_rollback(dst);
out:
    ap_db_done(r);
    free(select);
    free(upsert);
    return err;
}

/* Writes the mark first, so a copy cut short is still recognised. */
static enum ap_err mark_target(struct ap_db_conn *dst, const char *id)
{
    struct ap_db_val v = ap_db_text(id);

    return ap_db_exec(dst,
                      "INSERT INTO meta (key, value) VALUES ('" MARK_KEY "', ?) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                      &v, 1);
}

/* Copies every table and moves identities on; the report's written counts. */
static enum ap_err copy_all(struct ap_store *to, struct ap_db_conn *src, struct ap_db_conn *dst,
                            struct ap_db_copy_report *rep, char *err, size_t errlen)
{
    enum ap_err e = AP_OK;

    for (size_t i = 0; e == AP_OK && i < ap_db_ntables; i++) {
        const struct ap_db_table *t = &ap_db_tables[i];

        rep->t[i].table = t->name;
        e = copy_table(src, dst, t, &rep->t[i].written);
        if (e != AP_OK)
            snprintf(err, errlen, "copying table %s failed: %s", t->name,
                     ap_db_errmsg(src)[0] != '\0' ? ap_db_errmsg(src) : ap_db_errmsg(dst));
        else if (t->identity != NULL && (e = ap_db_sync_identity(dst, t->name, t->identity)))
            snprintf(err, errlen, "cannot move the ids of %s in %s on: %s", t->name,
                     ap_store_path(to), ap_db_errmsg(dst));
    }
    rep->ntables = ap_db_ntables;
    return e;
}

static enum ap_err count_mismatch(struct ap_store *from, struct ap_store *to,
                                  const struct ap_db_copy_table *t, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "table %s has %lld rows in %s but %lld in %s (rows deleted in the source since an "
             "earlier copy?); copy into an empty database",
             t->table, (long long)t->source, ap_store_path(from), (long long)t->target,
             ap_store_path(to));
    return AP_ECONFLICT;
}

/* Compares the row counts per table; AP_ECONFLICT naming the first that differs. */
static enum ap_err verify(struct ap_store *from, struct ap_store *to, struct ap_db_conn *src,
                          struct ap_db_conn *dst, struct ap_db_copy_report *rep, char *err,
                          size_t errlen)
{
    enum ap_err e = AP_OK;

    for (size_t i = 0; e == AP_OK && i < ap_db_ntables; i++) {
        e = count_rows(src, &ap_db_tables[i], &rep->t[i].source);
        if (e == AP_OK)
            e = count_rows(dst, &ap_db_tables[i], &rep->t[i].target);
        if (e != AP_OK)
            snprintf(err, errlen, "cannot count the rows of %s: %s", ap_db_tables[i].name,
                     ap_db_errmsg(src)[0] != '\0' ? ap_db_errmsg(src) : ap_db_errmsg(dst));
        else if (rep->t[i].source != rep->t[i].target)
            e = count_mismatch(from, to, &rep->t[i], err, errlen);
    }
    return e;
}

enum ap_err ap_store_copy(struct ap_store *from, struct ap_store *to,
                          struct ap_db_copy_report *report, char *err, size_t errlen)
{
    struct ap_db_copy_report own = {0};
    struct ap_db_conn *src = NULL, *dst = NULL;
    int vf = ap_store_schema_version(from), vt = ap_store_schema_version(to);
    char id[256];
    enum ap_err e;

    struct ap_db_copy_report *rep = report != NULL ? report : &own;
    memset(rep, 0, sizeof(*rep));
    if (vf < 0 || vf != vt) {
        snprintf(err, errlen,
                 "the source is at schema version %d and the target at %d; both must be "
                 "migrated by this appointd first",
                 vf, vt);
        return AP_ECONFLICT;
    }
    src = ap_store_acquire(from, false);
    if (src == NULL) {
        snprintf(err, errlen, "cannot read database %s (see the log)", ap_store_path(from));
        return AP_EUNAVAIL;
    }
    dst = ap_store_acquire(to, true);
    e = ap_db_begin(src); /* one snapshot of the source throughout */
    if (e == AP_OK)
        e = source_id(src, id, sizeof(id));
    if (e != AP_OK) {
        snprintf(err, errlen, "cannot read database %s: %s", ap_store_path(from),
                 ap_db_errmsg(src));
        goto out;
    }
    e = check_target(to, dst, id, err, errlen);
    if (e == AP_OK && (e = mark_target(dst, id)) != AP_OK)
        snprintf(err, errlen, "cannot write database %s: %s", ap_store_path(to), ap_db_errmsg(dst));
    if (e == AP_OK)
        e = copy_all(to, src, dst, rep, err, errlen);
    if (e == AP_OK)
        e = verify(from, to, src, dst, rep, err, errlen);
out:
    ap_db_rollback(src);
    ap_store_release(src);
    ap_store_release(dst);
    if (e == AP_OK)
        ap_log_info("db.copied", "from=%s to=%s tables=%zu", ap_store_path(from), ap_store_path(to),
                    rep->ntables);
    return e;
}

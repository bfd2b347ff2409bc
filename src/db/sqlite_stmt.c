/*
 * sqlite_stmt.c — statements on a SQLite connection: the per-connection
 * cache of prepared statements (keyed by SQL text), typed binds, cursors,
 * transactions, the mapping of SQLite result codes to enum ap_err, and the
 * log line of every failed statement.
 *
 * A cached statement is lent to one cursor at a time; a second cursor on the
 * same SQL while the first is open gets a private statement, finalized when
 * it is done. Statements are reset as soon as a cursor is done so that no
 * idle statement pins a read snapshot (which would stall WAL checkpoints).
 *
 * Every failure is recorded and logged once, where it happens (ap_db_fail).
 * How writes on the write connection end (committed, or failed because the
 * file cannot be written) is noted for ap_store_ping(). SQL is run as
 * written, but for a locking clause (FOR UPDATE) that SQLite does not know
 * and does not need (ap_db_sql_sqlite).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/sqlite_int.h"

static enum ap_err map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return AP_OK;
    case SQLITE_CONSTRAINT:
        return AP_ECONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return AP_EBUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return AP_ECORRUPT;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
        return AP_EIO;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return AP_EPERM;
    case SQLITE_TOOBIG:
        return AP_ETOOBIG;
    default:
        return AP_EINTERNAL;
    }
}

static enum ap_err fail(struct sq_conn *c, enum ap_err e, const char *sql, const char *msg)
{
    return ap_db_fail(&c->base, e, sql, msg);
}

/* True for results that say the database file cannot be written. */
static bool is_disk_failure(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return true;
    default:
        return false;
    }
}

/* A failure of sql on c with SQLite's result rc; sys_errno is errno right
 * after the call that failed (SQLite does not always keep it). */
static enum ap_err fail_os(struct sq_conn *c, int rc, const char *sql, int sys_errno)
{
    char msg[300];
    int sys = sqlite3_system_errno(c->db) != 0 ? sqlite3_system_errno(c->db) : sys_errno;

    /* The operating system's reason says what to fix (EFBIG, ENOSPC, EROFS). */
    if (is_disk_failure(rc) && sys != 0)
        snprintf(msg, sizeof(msg), "%s (%s)", sqlite3_errmsg(c->db), strerror(sys));
    else
        snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(c->db));
    if (c->base.write && is_disk_failure(rc))
        ap_db_note_write(c->base.s, map_rc(rc), msg);
    return fail(c, map_rc(rc), sql, msg);
}

static enum ap_err fail_rc(struct sq_conn *c, int rc, const char *sql)
{
    return fail_os(c, rc, sql, 0);
}

static bool only_space(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == ';')
        p++;
    return *p == '\0';
}

static enum ap_err prepare(struct sq_conn *c, const char *sql, unsigned flags, sqlite3_stmt **out)
{
    struct ap_buf own;
    const char *tail = NULL;
    enum ap_err err = AP_OK;

    ap_buf_init(&own, AP_DB_VALUE_MAX);
    const char *run = ap_db_sql_sqlite(sql, &own) ? own.data : sql;
    int rc = sqlite3_prepare_v3(c->db, run, -1, flags, out, &tail);

    if (rc != SQLITE_OK) {
        err = fail_rc(c, rc, sql);
    } else if (*out == NULL || !only_space(tail)) {
        sqlite3_finalize(*out);
        *out = NULL;
        err = fail(c, AP_EINTERNAL, sql, "not exactly one SQL statement");
    }
    ap_buf_cleanup(&own);
    return err;
}

/* Lends the statement for sql to r: cached when possible. */
static enum ap_err stmt_get(struct sq_conn *c, const char *sql, struct sq_rows *r)
{
    size_t b = ap_db_sql_hash(sql, AP_DB_CACHE_BUCKETS);
    struct sq_stmt *e;
    enum ap_err err;

    for (e = c->cache[b]; e != NULL; e = e->next)
        if (strcmp(e->sql, sql) == 0)
            break;
    if (e != NULL && !e->busy) {
        e->busy = true;
        r->st = e->st;
        r->cached = e;
        return AP_OK;
    }
    if (e != NULL || c->ncached >= AP_DB_CACHE_MAX)
        return prepare(c, sql, 0, &r->st);
    err = prepare(c, sql, SQLITE_PREPARE_PERSISTENT, &r->st);
    if (err != AP_OK)
        return err;
    e = ap_xcalloc(1, sizeof(*e));
    e->sql = ap_xstrdup(sql);
    e->st = r->st;
    e->busy = true;
    e->next = c->cache[b];
    c->cache[b] = e;
    c->ncached++;
    r->cached = e;
    return AP_OK;
}

/* Resets a lent statement and gives it back (or finalizes a private one). */
static void stmt_put(struct sq_rows *r)
{
    if (r->st == NULL)
        return;
    if (r->cached == NULL) {
        sqlite3_finalize(r->st);
    } else {
        sqlite3_reset(r->st);
        sqlite3_clear_bindings(r->st);
        r->cached->busy = false;
    }
    r->st = NULL;
    r->cached = NULL;
}

void ap_db_sq_cache_clear(struct sq_conn *c)
{
    for (size_t b = 0; b < AP_DB_CACHE_BUCKETS; b++) {
        while (c->cache[b] != NULL) {
            struct sq_stmt *e = c->cache[b];

            c->cache[b] = e->next;
            sqlite3_finalize(e->st);
            free(e->sql);
            free(e);
        }
    }
    c->ncached = 0;
}

static int bind_one(sqlite3_stmt *st, int i, const struct ap_db_val *v)
{
    switch (v->type) {
    case AP_DB_NULL:
        return sqlite3_bind_null(st, i);
    case AP_DB_INT:
        return sqlite3_bind_int64(st, i, v->i);
    case AP_DB_TEXT:
        return sqlite3_bind_text64(st, i, v->p != NULL ? v->p : "", v->len, SQLITE_TRANSIENT,
                                   SQLITE_UTF8);
    case AP_DB_BLOB:
        /* A NULL pointer would bind SQL NULL; an empty blob is not NULL. */
        if (v->len == 0)
            return sqlite3_bind_zeroblob(st, i, 0);
        return sqlite3_bind_blob64(st, i, v->p, v->len, SQLITE_TRANSIENT);
    }
    return SQLITE_MISUSE;
}

static enum ap_err bind_all(struct sq_conn *c, const char *sql, sqlite3_stmt *st,
                            const struct ap_db_val *binds, size_t n)
{
    char msg[128];

    if (n > AP_DB_MAX_BINDS || (int)n != sqlite3_bind_parameter_count(st)) {
        snprintf(msg, sizeof(msg), "statement has %d placeholders but %zu values were bound",
                 sqlite3_bind_parameter_count(st), n);
        return fail(c, AP_EINTERNAL, sql, msg);
    }
    for (size_t i = 0; i < n; i++) {
        int rc;

        if ((binds[i].type == AP_DB_TEXT || binds[i].type == AP_DB_BLOB) &&
            binds[i].len > AP_DB_VALUE_MAX) {
            snprintf(msg, sizeof(msg), "value %zu is %zu bytes, more than the %zu allowed", i + 1,
                     binds[i].len, AP_DB_VALUE_MAX);
            return fail(c, AP_ETOOBIG, sql, msg);
        }
        rc = bind_one(st, (int)i + 1, &binds[i]);
        if (rc != SQLITE_OK)
            return fail_rc(c, rc, sql);
    }
    return AP_OK;
}

/* Prepares (or borrows), binds and arms r; on error r holds nothing. */
static enum ap_err rows_start(struct sq_conn *c, const char *sql, const struct ap_db_val *binds,
                              size_t n, struct sq_rows *r)
{
    enum ap_err err;

    memset(r, 0, sizeof(*r));
    r->base.c = &c->base;
    c->base.errmsg[0] = '\0';
    err = stmt_get(c, sql, r);
    if (err == AP_OK)
        err = bind_all(c, sql, r->st, binds, n);
    if (err != AP_OK) {
        stmt_put(r);
        return err;
    }
    r->changes0 = sqlite3_total_changes64(c->db);
    c->base.ncursors++;
    return AP_OK;
}

static enum ap_err rows_finish(struct sq_rows *r)
{
    enum ap_err err = r->err;

    stmt_put(r);
    r->base.c->ncursors--;
    return err;
}

enum ap_err ap_db_sq_query(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                           size_t nbinds, struct ap_db_rows **out)
{
    struct sq_rows *r = ap_xmalloc(sizeof(*r));
    enum ap_err err = rows_start(sq_conn(c), sql, binds, nbinds, r);

    if (err != AP_OK) {
        free(r);
        *out = NULL;
        return err;
    }
    *out = &r->base;
    return AP_OK;
}

/* The connection of r. */
static struct sq_conn *rconn(const struct sq_rows *r)
{
    return sq_conn(r->base.c);
}

static bool step(struct sq_rows *r)
{
    struct sq_conn *c = rconn(r);
    int rc;

    if (r->done)
        return false;
    errno = 0; /* so that a failing write's reason (EFBIG, EIO) can be told */
    rc = sqlite3_step(r->st);
    if (rc == SQLITE_ROW)
        return true;
    r->done = true;
    if (rc != SQLITE_DONE)
        r->err = fail_os(c, rc, sqlite3_sql(r->st), errno);
    else if (c->base.write && sqlite3_get_autocommit(c->db) &&
             sqlite3_total_changes64(c->db) > r->changes0)
        ap_db_note_write(c->base.s, AP_OK, NULL); /* a statement that committed itself */
    return false;
}

bool ap_db_sq_next(struct ap_db_rows *r)
{
    return step((struct sq_rows *)r);
}

enum ap_err ap_db_sq_done(struct ap_db_rows *base)
{
    struct sq_rows *r = (struct sq_rows *)base;
    enum ap_err err = rows_finish(r);

    free(r);
    return err;
}

enum ap_err ap_db_sq_exec(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                          size_t nbinds)
{
    struct sq_rows r;
    enum ap_err err = rows_start(sq_conn(c), sql, binds, nbinds, &r);

    if (err != AP_OK)
        return err;
    while (step(&r))
        ;
    return rows_finish(&r);
}

enum ap_err ap_db_sq_exec_script(struct ap_db_conn *base, const char *sql)
{
    struct sq_conn *c = sq_conn(base);
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    enum ap_err err = AP_OK;

    base->errmsg[0] = '\0';
    if (rc != SQLITE_OK && base->write && is_disk_failure(rc))
        ap_db_note_write(base->s, map_rc(rc), msg != NULL ? msg : sqlite3_errstr(rc));
    if (rc != SQLITE_OK)
        err = fail(c, map_rc(rc), sql, msg != NULL ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return err;
}

static bool col_ok(const struct sq_rows *r, int col)
{
    return r->st != NULL && col >= 0 && col < sqlite3_column_count(r->st);
}

int ap_db_sq_row_count(const struct ap_db_rows *base)
{
    const struct sq_rows *r = (const struct sq_rows *)base;

    return r->st != NULL ? sqlite3_column_count(r->st) : 0;
}

const char *ap_db_sq_row_name(struct ap_db_rows *base, int col)
{
    struct sq_rows *r = (struct sq_rows *)base;
    const char *name = col_ok(r, col) ? sqlite3_column_name(r->st, col) : NULL;

    return name != NULL ? name : "";
}

enum ap_db_type ap_db_sq_row_type(struct ap_db_rows *base, int col)
{
    struct sq_rows *r = (struct sq_rows *)base;

    if (!col_ok(r, col))
        return AP_DB_NULL;
    switch (sqlite3_column_type(r->st, col)) {
    case SQLITE_INTEGER:
        return AP_DB_INT;
    case SQLITE_BLOB:
        return AP_DB_BLOB;
    case SQLITE_NULL:
        return AP_DB_NULL;
    default:
        return AP_DB_TEXT;
    }
}

int64_t ap_db_sq_row_int(struct ap_db_rows *base, int col)
{
    struct sq_rows *r = (struct sq_rows *)base;

    return col_ok(r, col) ? sqlite3_column_int64(r->st, col) : 0;
}

const char *ap_db_sq_row_text(struct ap_db_rows *base, int col)
{
    struct sq_rows *r = (struct sq_rows *)base;

    return col_ok(r, col) ? (const char *)sqlite3_column_text(r->st, col) : NULL;
}

const void *ap_db_sq_row_blob(struct ap_db_rows *base, int col, size_t *len)
{
    struct sq_rows *r = (struct sq_rows *)base;
    const void *p;

    *len = 0;
    if (!col_ok(r, col))
        return NULL;
    p = sqlite3_column_blob(r->st, col);
    *len = (size_t)sqlite3_column_bytes(r->st, col);
    return p;
}

enum ap_err ap_db_sq_begin(struct ap_db_conn *base)
{
    struct sq_conn *c = sq_conn(base);

    if (ap_db_sq_in_transaction(base))
        return fail(c, AP_EINTERNAL, "BEGIN", "a transaction is already open");
    c->tx_changes = sqlite3_total_changes64(c->db);
    return ap_db_sq_exec(base, base->write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, 0);
}

enum ap_err ap_db_sq_commit(struct ap_db_conn *base)
{
    struct sq_conn *c = sq_conn(base);
    enum ap_err err = ap_db_sq_exec(base, "COMMIT", NULL, 0);

    /* A failed COMMIT can leave the transaction open; callers get a clean
     * connection either way. */
    if (err != AP_OK)
        ap_db_sq_rollback(base);
    else if (base->write && sqlite3_total_changes64(c->db) > c->tx_changes)
        ap_db_note_write(base->s, AP_OK, NULL);
    return err;
}

enum ap_err ap_db_sq_rollback(struct ap_db_conn *c)
{
    char keep[sizeof(c->errmsg)];
    enum ap_err err;

    if (!ap_db_sq_in_transaction(c))
        return AP_OK;
    /* Rolling back follows a failure whose message the caller still wants. */
    memcpy(keep, c->errmsg, sizeof(keep));
    err = ap_db_sq_exec(c, "ROLLBACK", NULL, 0);
    if (err == AP_OK)
        memcpy(c->errmsg, keep, sizeof(keep));
    return err;
}

bool ap_db_sq_in_transaction(const struct ap_db_conn *c)
{
    return sqlite3_get_autocommit(((const struct sq_conn *)c)->db) == 0;
}

int64_t ap_db_sq_last_insert_id(struct ap_db_conn *c)
{
    return sqlite3_last_insert_rowid(sq_conn(c)->db);
}

int64_t ap_db_sq_changes(struct ap_db_conn *c)
{
    return sqlite3_changes64(sq_conn(c)->db);
}

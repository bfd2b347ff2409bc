/*
 * store.c — store.h over either backend: opening (a postgres:// URL or a data
 * dir), the calls that go through the backend's table, and what both do
 * alike: the one-line error and the log line of a failed statement, the
 * record of how the last write ended, the health check built on it
 * (ap_store_ping), ap_db_query_int() and transactions that run again after
 * a failure that may pass (ap_db_run_tx).
 *
 * Health and writing: every write on the write connection notes how it ended
 * (ap_db_note_write, from the backends). When nothing was written for
 * WRITE_PROBE_NS, ping has the backend write one row of its own — at most
 * that often, and only when the write connection is free at that moment. So
 * /healthz neither writes per request nor waits, and a database that cannot
 * be written turns it 503 until a write succeeds again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/db_int.h"

/* Least time between two probe writes. */
#define WRITE_PROBE_NS (5 * AP_NS_PER_S)

bool ap_store_is_url(const char *s)
{
    return s != NULL &&
           (strncmp(s, "postgres://", 11) == 0 || strncmp(s, "postgresql://", 13) == 0);
}

struct ap_store *ap_store_open_with(const char *url_or_dir, const struct ap_store_opts *opts,
                                    char *err, size_t errlen)
{
    if (url_or_dir == NULL || url_or_dir[0] == '\0') {
        snprintf(err, errlen, "no data dir given; set --data-dir");
        return NULL;
    }
    if (opts != NULL && (opts->readers < 0 || opts->readers > AP_DB_MAX_READERS_LIMIT)) {
        snprintf(err, errlen, "read connections must be from 1 to %d, not %d",
                 AP_DB_MAX_READERS_LIMIT, opts->readers);
        return NULL;
    }
    if (ap_store_is_url(url_or_dir))
        return ap_db_pg_open(url_or_dir, opts, err, errlen);
    if (ap_store_ensure_dir(url_or_dir, err, errlen) != AP_OK)
        return NULL;
    size_t dlen = strlen(url_or_dir);
    while (dlen > 1 && url_or_dir[dlen - 1] == '/')
        dlen--;
    return ap_db_sqlite_open(ap_xasprintf("%.*s/appointd.db", (int)dlen, url_or_dir), opts, err,
                             errlen);
}

struct ap_store *ap_store_open(const char *url_or_dir, char *err, size_t errlen)
{
    return ap_store_open_with(url_or_dir, NULL, err, errlen);
}

struct ap_store *ap_store_open_file(const char *path, char *err, size_t errlen)
{
    if (path == NULL || path[0] == '\0') {
        snprintf(err, errlen, "no database file given");
        return NULL;
    }
    return ap_db_sqlite_open(ap_xstrdup(path), NULL, err, errlen);
}

void ap_db_store_init(struct ap_store *s, const struct ap_db_backend *be, char *path,
                      const struct ap_store_opts *opts)
{
    char q[2048];

    s->be = be;
    s->path = path;
    s->log_path = ap_xstrdup(ap_log_quote(path, q, sizeof(q)));
    s->readers.max = opts != NULL && opts->readers > 0 ? opts->readers : AP_DB_MAX_READERS;
    pthread_mutex_init(&s->readers.mu, NULL);
    pthread_cond_init(&s->readers.cv, NULL);
    pthread_mutex_init(&s->write_mu, NULL);
    pthread_mutex_init(&s->wr_mu, NULL);
}

void ap_db_store_cleanup(struct ap_store *s)
{
    pthread_mutex_destroy(&s->write_mu);
    pthread_cond_destroy(&s->readers.cv);
    pthread_mutex_destroy(&s->readers.mu);
    pthread_mutex_destroy(&s->wr_mu);
    free(s->path);
    free(s->log_path);
    s->path = s->log_path = NULL;
}

const char *ap_db_log_path(const struct ap_store *s)
{
    return s->log_path;
}

/* ---- the pool of read connections ----------------------------------------- */

struct ap_db_conn *ap_db_pool_take(struct ap_db_pool *p)
{
    struct ap_db_conn *c;

    pthread_mutex_lock(&p->mu);
    while (p->idle == NULL && p->open >= p->max)
        pthread_cond_wait(&p->cv, &p->mu);
    c = p->idle;
    if (c != NULL)
        p->idle = c->next_idle;
    else
        p->open++;
    p->out++;
    pthread_mutex_unlock(&p->mu);
    return c;
}

void ap_db_pool_put(struct ap_db_pool *p, struct ap_db_conn *c)
{
    pthread_mutex_lock(&p->mu);
    c->next_idle = p->idle;
    p->idle = c;
    p->out--;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void ap_db_pool_forget(struct ap_db_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->open--;
    p->out--;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

struct ap_db_conn *ap_db_pool_drain(struct ap_db_pool *p, const char *path)
{
    struct ap_db_conn *c;

    pthread_mutex_lock(&p->mu);
    if (p->out > 0) {
        ap_log_error("db.close", "bug=unreleased_connections count=%d path=%s", p->out, path);
        p->out = 0; /* said once */
    }
    c = p->idle;
    if (c != NULL) {
        p->idle = c->next_idle;
        p->open--;
    }
    pthread_mutex_unlock(&p->mu);
    return c;
}

size_t ap_db_sql_hash(const char *sql, size_t buckets)
{
    size_t h = 14695981039346656037ULL;

    for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h % buckets;
}

void ap_store_close(struct ap_store *s)
{
    if (s != NULL)
        s->be->close(s);
}

const char *ap_store_path(const struct ap_store *s)
{
    return s->path;
}

const char *ap_store_backend(const struct ap_store *s)
{
    return s->be->name;
}

struct ap_db_conn *ap_store_acquire(struct ap_store *s, bool write)
{
    struct ap_db_conn *c;
    char err[512], q[600];

    if (write) {
        pthread_mutex_lock(&s->write_mu);
        if (s->be->ready != NULL)
            s->be->ready(s->writer); /* if not, the first statement says why */
        s->writer->errmsg[0] = '\0';
        return s->writer;
    }
    c = ap_db_pool_take(&s->readers);
    if (c == NULL && (c = s->be->open_reader(s, err, sizeof(err))) == NULL) {
        ap_log_error("db.acquire", "path=%s error=%s", s->log_path,
                     ap_log_quote(err, q, sizeof(q)));
        ap_db_pool_forget(&s->readers);
        return NULL;
    }
    if (s->be->ready != NULL && s->be->ready(c) != AP_OK) {
        ap_db_pool_put(&s->readers, c); /* tried again at its next use */
        return NULL;
    }
    return c;
}

void ap_store_release(struct ap_db_conn *c)
{
    struct ap_store *s;

    if (c == NULL)
        return;
    s = c->s;
    if (c->ncursors > 0)
        ap_log_error("db.release", "bug=open_cursors count=%d path=%s", c->ncursors, s->log_path);
    if (ap_db_in_transaction(c)) {
        ap_log_error("db.release", "bug=open_transaction path=%s", s->log_path);
        ap_db_rollback(c);
    }
    c->errmsg[0] = '\0';
    if (c->write)
        pthread_mutex_unlock(&s->write_mu);
    else
        ap_db_pool_put(&s->readers, c);
}

/* ---- failures ------------------------------------------------------------ */

/* One log line for a failed statement: its name, never its values. */
static void log_failure(const struct ap_db_conn *c, enum ap_err e, const char *sql, const char *msg)
{
    char name[AP_DB_STMT_NAME_MAX], q[400];

    enum ap_log_level lvl = e == AP_ECONFLICT             ? AP_LOG_WARN
                            : e == AP_EBUSY && c->probing ? AP_LOG_DEBUG
                                                          : AP_LOG_ERROR;

    ap_log_at(lvl, "db.query", "stmt=%s err=%s conn=%s path=%s error=%s",
              ap_db_stmt_name(sql, name, sizeof(name)), ap_err_str(e), c->write ? "write" : "read",
              c->s->log_path, ap_log_quote(msg, q, sizeof(q)));
}

enum ap_err ap_db_fail(struct ap_db_conn *c, enum ap_err e, const char *sql, const char *msg)
{
    snprintf(c->errmsg, sizeof(c->errmsg), "%s (sql: %.80s)", msg, sql);
    /* Keep the message to one line whatever the SQL looked like. */
    for (char *p = c->errmsg; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    if (e != AP_ENOTFOUND)
        log_failure(c, e, sql, msg);
    return e;
}

const char *ap_db_errmsg(const struct ap_db_conn *c)
{
    return c->errmsg;
}

/* ---- statements ------------------------------------------------------------ */

enum ap_err ap_db_exec(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                       size_t nbinds)
{
    return c->s->be->exec(c, sql, binds, nbinds);
}

enum ap_err ap_db_exec_script(struct ap_db_conn *c, const char *sql)
{
    return c->s->be->exec_script(c, sql);
}

enum ap_err ap_db_query(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                        size_t nbinds, struct ap_db_rows **out)
{
    return c->s->be->query(c, sql, binds, nbinds, out);
}

bool ap_db_next(struct ap_db_rows *r)
{
    return r->c->s->be->next(r);
}

enum ap_err ap_db_done(struct ap_db_rows *r)
{
    return r == NULL ? AP_OK : r->c->s->be->done(r);
}

int ap_db_row_count(const struct ap_db_rows *r)
{
    return r->c->s->be->row_count(r);
}

const char *ap_db_row_name(struct ap_db_rows *r, int col)
{
    return r->c->s->be->row_name(r, col);
}

enum ap_db_type ap_db_row_type(struct ap_db_rows *r, int col)
{
    return r->c->s->be->row_type(r, col);
}

bool ap_db_row_is_null(struct ap_db_rows *r, int col)
{
    return r->c->s->be->row_type(r, col) == AP_DB_NULL;
}

int64_t ap_db_row_int(struct ap_db_rows *r, int col)
{
    return r->c->s->be->row_int(r, col);
}

const char *ap_db_row_text(struct ap_db_rows *r, int col)
{
    return r->c->s->be->row_text(r, col);
}

const void *ap_db_row_blob(struct ap_db_rows *r, int col, size_t *len)
{
    return r->c->s->be->row_blob(r, col, len);
}

enum ap_err ap_db_query_int(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                            size_t nbinds, int64_t *out)
{
    struct ap_db_rows *r = NULL;
    enum ap_err err = ap_db_query(c, sql, binds, nbinds, &r);
    bool row;

    *out = 0;
    if (err != AP_OK)
        return err;
    row = ap_db_next(r);
    if (row)
        *out = ap_db_row_int(r, 0);
    err = ap_db_done(r);
    if (err == AP_OK && !row)
        err = ap_db_fail(c, AP_ENOTFOUND, sql, "no row");
    return err;
}

/* ---- transactions ------------------------------------------------------------ */

enum ap_err ap_db_begin(struct ap_db_conn *c)
{
    return c->s->be->begin(c);
}

enum ap_err ap_db_commit(struct ap_db_conn *c)
{
    return c->s->be->commit(c);
}

enum ap_err ap_db_rollback(struct ap_db_conn *c)
{
    return c->s->be->rollback(c);
}

bool ap_db_in_transaction(const struct ap_db_conn *c)
{
    return c->s->be->in_transaction(c);
}

bool ap_db_conn_retryable(const struct ap_db_conn *c)
{
    return c->s->be->retryable(c);
}

void ap_db_retry_pause(int tried)
{
    int64_t ns = (int64_t)20 * AP_NS_PER_MS << (2 * (tried - 1));
    struct timespec ts = {.tv_sec = ns / AP_NS_PER_S, .tv_nsec = ns % AP_NS_PER_S};

    nanosleep(&ts, NULL);
}

enum ap_err ap_db_run_tx(struct ap_db_conn *c, ap_db_write_fn fn, void *arg)
{
    enum ap_err err = AP_OK;

    for (int tried = 0; tried < AP_DB_TX_TRIES; tried++) {
        if (tried > 0) {
            ap_log_warn("db.retry", "what=transaction try=%d path=%s", tried + 1, c->s->log_path);
            ap_db_retry_pause(tried);
        }
        err = ap_db_begin(c);
        if (err == AP_OK)
            err = fn(c, arg);
        if (err == AP_OK && !ap_db_in_transaction(c)) {
            ap_log_error("db.run_tx", "bug=fn_ended_transaction path=%s", c->s->log_path);
            return AP_EINTERNAL;
        }
        if (err == AP_OK)
            err = ap_db_commit(c);
        if (err == AP_OK)
            return AP_OK;
        bool again = ap_db_conn_retryable(c);
        ap_db_rollback(c);
        if (!again)
            return err;
    }
    return err;
}

enum ap_err ap_db_lock(struct ap_db_conn *c, int64_t key)
{
    if (!c->write || !ap_db_in_transaction(c))
        return ap_db_fail(c, AP_EINTERNAL, "lock", "ap_db_lock outside a write transaction");
    return c->s->be->lock_key(c, key);
}

enum ap_err ap_db_sync_identity(struct ap_db_conn *c, const char *table, const char *column)
{
    return c->s->be->sync_identity(c, table, column);
}

int64_t ap_db_last_insert_id(struct ap_db_conn *c)
{
    return c->s->be->last_insert_id(c);
}

int64_t ap_db_changes(struct ap_db_conn *c)
{
    return c->s->be->changes(c);
}

bool ap_db_table_exists(struct ap_db_conn *c, const char *table)
{
    return c->s->be->table_exists(c, table);
}

enum ap_err ap_db_conn_set_durable(struct ap_db_conn *c, bool on)
{
    return c->s->be->set_durable(c, on);
}

/* ---- health -------------------------------------------------------------------- */

void ap_db_note_write(struct ap_store *s, enum ap_err err, const char *msg)
{
    char q[300];
    bool was_ok;

    pthread_mutex_lock(&s->wr_mu);
    was_ok = s->wr_err == AP_OK;
    s->wr_at_ns = ap_clock_mono_ns();
    s->wr_err = err;
    snprintf(s->wr_msg, sizeof(s->wr_msg), "%s", err != AP_OK && msg != NULL ? msg : "");
    pthread_mutex_unlock(&s->wr_mu);
    /* One line per change of state, not per write. */
    if (was_ok && err != AP_OK)
        ap_log_error("db.unwritable", "path=%s err=%s error=%s", s->log_path, ap_err_str(err),
                     ap_log_quote(msg != NULL ? msg : "", q, sizeof(q)));
    else if (!was_ok && err == AP_OK)
        ap_log_info("db.writable", "path=%s", s->log_path);
}

static enum ap_err check_write(struct ap_store *s, char *err, size_t errlen)
{
    int64_t now = ap_clock_mono_ns(), at;
    enum ap_err e;

    pthread_mutex_lock(&s->wr_mu);
    at = s->wr_at_ns;
    pthread_mutex_unlock(&s->wr_mu);
    if (at == 0 || now - at >= WRITE_PROBE_NS)
        s->be->probe_write(s);
    pthread_mutex_lock(&s->wr_mu);
    e = s->wr_err;
    if (e != AP_OK)
        snprintf(err, errlen, "database %s cannot be written: %s", s->path, s->wr_msg);
    pthread_mutex_unlock(&s->wr_mu);
    return e;
}

enum ap_err ap_store_ping(struct ap_store *s, char *err, size_t errlen)
{
    enum ap_err e = s->be->check_read(s, err, errlen);

    if (e == AP_OK)
        e = check_write(s, err, errlen);
    return e;
}

/*
 * db_int.h — what the two backends of store.h (SQLite: sqlite*.c,
 * PostgreSQL: pg*.c) share with the backend-neutral parts of src/db
 * (store.c, migrations, the writer, statement names, SQL dialects). Private
 * to src/db.
 *
 * Each backend's store, connection and cursor begin with the neutral head
 * below (struct ap_store, ap_db_conn, ap_db_rows) and are reached through
 * its table of functions, struct ap_db_backend; store.c implements store.h
 * by calling through that table, and keeps what both backends do alike: the
 * one-line error of a failed statement and its log line, and the record of
 * how the last write ended that ap_store_ping() reports.
 */
#ifndef AP_DB_DB_INT_H
#define AP_DB_DB_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "db/store.h"

struct ap_db_backend;

/*
 * A store's read connections: idle ones on a list, at most max open. Both
 * backends keep theirs here (store.c); opening and closing one is theirs.
 */
struct ap_db_pool {
    pthread_mutex_t mu; /* guards the fields below */
    pthread_cond_t cv;  /* a connection came back */
    struct ap_db_conn *idle;
    int open; /* open, idle or out */
    int out;  /* acquired */
    int max;
};

/* The neutral head of every backend's store. */
struct ap_store {
    const struct ap_db_backend *be;
    char *path;                /* for messages: a file path, or a URL without its password */
    char *log_path;            /* the same as a logfmt value (quoted when it must be) */
    struct ap_db_conn *writer; /* the write connection (the backend opens it) */
    pthread_mutex_t write_mu;  /* held by whoever acquired the writer */
    struct ap_db_pool readers;
    /* The last write on the write connection (a caller's or the health
     * probe's), for ap_store_ping(): when, and how it ended. */
    pthread_mutex_t wr_mu;
    int64_t wr_at_ns; /* monotonic; 0: none yet */
    enum ap_err wr_err;
    char wr_msg[256]; /* why it failed, "" when it did not */
};

/* The neutral head of every backend's connection. */
struct ap_db_conn {
    struct ap_store *s;
    bool write;
    bool probing; /* the health probe's write: a busy database is no failure */
    int ncursors; /* cursors not yet ap_db_done() */
    char errmsg[512];
    struct ap_db_conn *next_idle; /* in the pool */
};

/* The neutral head of every backend's cursor. */
struct ap_db_rows {
    struct ap_db_conn *c;
};

/*
 * A backend: store.h's functions, each called with objects of this backend
 * only. Contracts are store.h's unless said here.
 */
struct ap_db_backend {
    const char *name; /* "sqlite", "postgres" */
    void (*close)(struct ap_store *s);
    /* A new read connection for the pool; NULL with one line in err. */
    struct ap_db_conn *(*open_reader)(struct ap_store *s, char *err, size_t errlen);
    /* Makes c ready for use as it is acquired (PostgreSQL: a lost session
     * opened again); NULL when there is nothing to do. A read connection
     * that is not ready is not handed out (the reason is logged). */
    enum ap_err (*ready)(struct ap_db_conn *c);
    /* Is the database still there and readable? AP_OK or err filled. */
    enum ap_err (*check_read)(struct ap_store *s, char *err, size_t errlen);
    /* Writes one row of the backend's own, without waiting for a busy write
     * connection (then skipped); the outcome is noted like any write's. */
    void (*probe_write)(struct ap_store *s);

    enum ap_err (*exec)(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                        size_t nbinds);
    enum ap_err (*exec_script)(struct ap_db_conn *c, const char *sql);
    enum ap_err (*query)(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                         size_t nbinds, struct ap_db_rows **out);
    bool (*next)(struct ap_db_rows *r);
    enum ap_err (*done)(struct ap_db_rows *r);
    int (*row_count)(const struct ap_db_rows *r);
    const char *(*row_name)(struct ap_db_rows *r, int col);
    enum ap_db_type (*row_type)(struct ap_db_rows *r, int col);
    int64_t (*row_int)(struct ap_db_rows *r, int col);
    const char *(*row_text)(struct ap_db_rows *r, int col);
    const void *(*row_blob)(struct ap_db_rows *r, int col, size_t *len);

    enum ap_err (*begin)(struct ap_db_conn *c);
    enum ap_err (*commit)(struct ap_db_conn *c);
    enum ap_err (*rollback)(struct ap_db_conn *c);
    bool (*in_transaction)(const struct ap_db_conn *c);
    /* True when the last failure on c was transient and undid the whole
     * transaction (or the statement, outside one) for sure, so running it
     * again is safe: a deadlock, a serialization failure, a connection lost
     * before COMMIT was sent. */
    bool (*retryable)(const struct ap_db_conn *c);
    int64_t (*last_insert_id)(struct ap_db_conn *c);
    int64_t (*changes)(struct ap_db_conn *c);

    bool (*table_exists)(struct ap_db_conn *c, const char *table);
    enum ap_err (*set_durable)(struct ap_db_conn *c, bool on);
    /* Holds (on) or lets go of the lock that serialises migrations across
     * processes, on the write connection outside a transaction. */
    enum ap_err (*migrate_lock)(struct ap_db_conn *c, bool on);
    enum ap_err (*lock_key)(struct ap_db_conn *c, int64_t key);
    enum ap_err (*sync_identity)(struct ap_db_conn *c, const char *table, const char *column);
};

/* The backends. */
extern const struct ap_db_backend ap_db_sqlite;
extern const struct ap_db_backend ap_db_pg;

/* Opens a PostgreSQL store at url (pg.c); contract of ap_store_open_with(). */
struct ap_store *ap_db_pg_open(const char *url, const struct ap_store_opts *opts, char *err,
                               size_t errlen);
/* Opens the SQLite file at path (a malloc'd string the store takes over). */
struct ap_store *ap_db_sqlite_open(char *path, const struct ap_store_opts *opts, char *err,
                                   size_t errlen);

/*
 * The pool: ap_db_pool_take() returns an idle connection, or NULL when the
 * caller is to open one (then counted as open and out: on failure hand the
 * place back with ap_db_pool_forget()); it waits while max are out.
 * ap_db_pool_put() makes c idle again. ap_db_pool_drain() pops the idle
 * ones for the caller to close, NULL when none is left (logs a bug when some
 * are still out).
 */
struct ap_db_conn *ap_db_pool_take(struct ap_db_pool *p);
void ap_db_pool_put(struct ap_db_pool *p, struct ap_db_conn *c);
void ap_db_pool_forget(struct ap_db_pool *p);
struct ap_db_conn *ap_db_pool_drain(struct ap_db_pool *p, const char *path);

/* Sleeps before try number tried + 1 of something that may pass (tried >=
 * 1): 20 ms, 80 ms, 320 ms ... */
void ap_db_retry_pause(int tried);

/* A hash of sql for a backend's statement cache, below buckets. */
size_t ap_db_sql_hash(const char *sql, size_t buckets);

/* s's path as a logfmt value, for log lines ("path=%s"). */
const char *ap_db_log_path(const struct ap_store *s);

/* Fills the neutral head of a new store (its path is taken over). */
void ap_db_store_init(struct ap_store *s, const struct ap_db_backend *be, char *path,
                      const struct ap_store_opts *opts);
/* Frees what ap_db_store_init() made. */
void ap_db_store_cleanup(struct ap_store *s);

/*
 * Records a failure of sql on c: ap_db_errmsg(c) becomes "msg (sql: …)" on
 * one line, and the failure is logged once (event=db.query) with the
 * statement's name and msg, never a value — at warn for AP_ECONFLICT, debug
 * for AP_EBUSY while probing, error otherwise; AP_ENOTFOUND is not logged.
 * Returns e.
 */
enum ap_err ap_db_fail(struct ap_db_conn *c, enum ap_err e, const char *sql, const char *msg);

/*
 * Notes how a write on s's write connection ended: err AP_OK when it reached
 * the database (msg ignored), else the error of a failure that says the
 * database cannot be written (disk full, I/O error, read-only, unreachable)
 * with the backend's message. Thread-safe.
 */
void ap_db_note_write(struct ap_store *s, enum ap_err err, const char *msg);

/* True when table exists in c's database; false when not or on error (the
 * query that follows then reports the error). */
bool ap_db_table_exists(struct ap_db_conn *c, const char *table);

/*
 * Makes commits on the write connection c durable against power loss (on:
 * each commit waits for the disk) or returns them to the store's default
 * (off). Outside a transaction only. For the writer's batches, which answer
 * callers only once durable.
 */
enum ap_err ap_db_conn_set_durable(struct ap_db_conn *c, bool on);

/* ap_db_backend.retryable for c. */
bool ap_db_conn_retryable(const struct ap_db_conn *c);

/* Longest statement name, terminator included. */
#define AP_DB_STMT_NAME_MAX 64

/*
 * A short stable name for sql, for logs: the verb and the first table it
 * names, lowercased ("insert.sessions", "select.users", "update.fms_connections",
 * "pragma.journal_mode"), or the verb alone ("begin", "commit"). Written into
 * out (n bytes, at least 1). Returns out.
 */
char *ap_db_stmt_name(const char *sql, char *out, size_t n);

/* ---- dialects (sql_dialect.c) ------------------------------------------ */

/*
 * The SQL PostgreSQL runs for sql, written in store.h's common subset,
 * appended to out: '?' placeholders become $1, $2 …; INTEGER becomes BIGINT
 * (SQLite's integers are 64-bit) and "INTEGER PRIMARY KEY" an identity
 * column, BLOB becomes BYTEA. String literals, quoted names and comments
 * are copied as they are. *nparams gets the number of placeholders.
 */
enum ap_err ap_db_sql_pg(const char *sql, struct ap_buf *out, int *nparams);

/*
 * The SQL SQLite runs for sql, appended to out: a locking clause (FOR
 * UPDATE, optionally with SKIP LOCKED or NOWAIT) is left out, since a write
 * transaction on SQLite already excludes every other writer. Returns true
 * when something was changed (else out holds sql unchanged).
 */
bool ap_db_sql_sqlite(const char *sql, struct ap_buf *out);

#endif

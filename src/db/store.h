/*
 * store.h — the backend-neutral store: connections, prepared statements with
 * typed binds, row cursors, transactions, migrations, health, sealed-secret
 * accounting, the writer thread with group commit, copying a store into
 * another, and the data-dir lock of `appointd serve`.
 *
 * Two backends: SQLite, the default (a data dir; src/db/sqlite*.c, the only
 * code that includes <sqlite3.h>), and PostgreSQL (a postgres:// URL;
 * src/db/pg*.c, the only code that includes <libpq-fe.h>). Callers write
 * SQL in the subset both speak, and the backends translate the rest
 * (src/db/sql_dialect.c):
 *   - placeholders are '?' only (PostgreSQL gets $1, $2 ...); a placeholder
 *     is never a boolean by itself: write "? = 1", not "? OR ...";
 *   - one statement per ap_db_exec()/ap_db_query(); scripts (migrations) go
 *     through ap_db_exec_script() and take no binds;
 *   - types: INTEGER (64-bit on both: PostgreSQL gets BIGINT), TEXT, BLOB
 *     (BYTEA). "id INTEGER PRIMARY KEY" numbers new rows on both (an
 *     identity column on PostgreSQL); no AUTOINCREMENT;
 *   - booleans are integers 0/1: compare ("flag = 0"), never "NOT flag";
 *     a comparison read as a column ("SELECT a = b") reads as 0/1 on both;
 *   - new ids come back with "INSERT ... RETURNING id" through ap_db_query()
 *     (ap_db_last_insert_id() exists but is SQLite-flavoured);
 *   - upserts are "INSERT ... ON CONFLICT (cols) DO NOTHING | DO UPDATE SET
 *     c = excluded.c" (never INSERT OR IGNORE/REPLACE); NULL-safe equality
 *     is "IS NOT DISTINCT FROM ?" (never "IS ?");
 *   - times are TEXT (RFC 3339, bound by the caller) or INTEGER ns; no
 *     date functions, no CURRENT_TIMESTAMP in comparisons (their text
 *     differs between the two);
 *   - LIKE is case-sensitive on PostgreSQL, not on SQLite: store text
 *     already normalised (emails lowercased) and compare with "=";
 *   - "SELECT ... FOR UPDATE [SKIP LOCKED]" is allowed: PostgreSQL locks the
 *     rows, SQLite leaves the clause out (its write transaction already
 *     excludes every other writer);
 *   - no PRAGMA, sqlite_schema, pg_catalog, functions of one engine only.
 *
 * Connections. A store owns one write connection, guarded by a mutex, and a
 * pool of read connections (at most AP_DB_MAX_READERS, or opts->readers,
 * opened on demand). ap_store_acquire(store, true) blocks until the write
 * connection is free; ap_store_acquire(store, false) takes an idle read
 * connection, opening one or waiting for one. A connection belongs to the
 * acquiring thread until ap_store_release(); never acquire the write
 * connection twice on one thread (it deadlocks). Read connections refuse
 * writes (AP_EPERM). Each connection caches its prepared statements keyed
 * by SQL text, so pass the same string for the same statement and never
 * splice values into SQL. PostgreSQL connections that were lost (a restart,
 * a failover) are opened again at their next use.
 *
 * Several processes. SQLite: one `appointd serve` per data dir (the
 * data-dir lock) and CLI commands beside it. PostgreSQL: any number of
 * appointd processes on one database; each has its own connections, so
 * within a process writes are serialised by the write connection, across
 * processes by the database: a write transaction is READ COMMITTED, so a
 * read-modify-write that other processes may race must lock what it reads
 * (SELECT ... FOR UPDATE, ap_db_lock()) or be one conditional statement
 * (UPDATE ... WHERE state = ?, INSERT ... ON CONFLICT).
 *
 * Errors. Every function returning enum ap_err on a connection leaves a one-
 * line message in ap_db_errmsg(conn). Mapping: constraint violations (unique,
 * foreign key, check, not null) → AP_ECONFLICT; busy/locked, a deadlock, a
 * serialization failure, a lock wait past AP_DB_BUSY_TIMEOUT_MS → AP_EBUSY;
 * the database unreachable or the connection lost → AP_EUNAVAIL; corrupt /
 * not a database → AP_ECORRUPT; disk and I/O failures, disk full →
 * AP_EIO; writes on a read connection / read-only files or databases /
 * missing privileges → AP_EPERM; oversize values → AP_ETOOBIG; anything
 * else (bad SQL, wrong number of binds, a value of the wrong type) →
 * AP_EINTERNAL, which is a bug. AP_EBUSY and AP_EUNAVAIL are transient: the
 * caller may try again (ap_db_run_tx() and the writer do it for their
 * transactions when that is safe). Every failure is also logged once
 * (event=db.query) with a short name of the statement ("insert.sessions")
 * and the database's reason, never a value; at error, but at warn for
 * constraint violations, which callers answer.
 *
 * On PostgreSQL a failed statement inside a transaction aborts the whole
 * transaction (SQLite undoes the statement alone): after a failure, roll
 * back — or run the statement that may fail in a savepoint (the writer runs
 * each write in one).
 *
 * All functions are thread-safe in the sense above: a store may be shared by
 * any number of threads; a connection is used by one thread at a time.
 */
#ifndef AP_DB_STORE_H
#define AP_DB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"

/* Largest text or blob bound or read, in bytes. */
#define AP_DB_VALUE_MAX ((size_t)16 * 1024 * 1024)
/* Most binds one statement takes. */
#define AP_DB_MAX_BINDS 64
/* Read connections a store opens at most, unless told otherwise. */
#define AP_DB_MAX_READERS 16
/* How long a connection waits for a lock held by another process (SQLite's
 * busy timeout, PostgreSQL's lock_timeout); then AP_EBUSY. */
#define AP_DB_BUSY_TIMEOUT_MS 5000

struct ap_store;
struct ap_db_conn;
struct ap_db_rows;

/* ---- store ------------------------------------------------------------- */

/* How a store is opened; zero values take the defaults. */
struct ap_store_opts {
    int readers; /* read connections at most (1..AP_DB_MAX_READERS_LIMIT); 0: AP_DB_MAX_READERS */
};
/* Most read connections a store may be given. */
#define AP_DB_MAX_READERS_LIMIT 256

/*
 * Opens the store named by url_or_dir:
 *   - a "postgres://" or "postgresql://" URL: a PostgreSQL database (libpq's
 *     URL syntax; "?sslmode=require" or "verify-full" for TLS). One write
 *     connection is opened at once, so an unreachable server or a refused
 *     login fails here. Messages name the URL without its password.
 *   - anything else is a data directory: the SQLite file <dir>/appointd.db,
 *     created with the directory (mode 0700) when missing, in WAL mode with
 *     foreign keys on, synchronous=NORMAL and a 5 s busy timeout. The file's
 *     schema is read at once, so a damaged or foreign file fails here.
 * opts may be NULL. Returns a new store (free with ap_store_close()) or NULL
 * with one line in err naming the database and what to do, e.g.
 *   data dir /x is not writable: Permission denied
 *   database /x/appointd.db is not a SQLite database or is corrupt: file is
 *   not a database; restore it from a backup or move it aside
 *   cannot connect to database postgres://app@db:5432/appointd: connection
 *   to server at "db" (10.0.0.5), port 5432 failed: Connection refused
 */
struct ap_store *ap_store_open_with(const char *url_or_dir, const struct ap_store_opts *opts,
                                    char *err, size_t errlen);

/* ap_store_open_with(url_or_dir, NULL, err, errlen). */
struct ap_store *ap_store_open(const char *url_or_dir, char *err, size_t errlen);

/* True when s names a PostgreSQL database (a postgres:// or postgresql://
 * URL) rather than a data dir. */
bool ap_store_is_url(const char *s);

/*
 * Opens (creating it, mode 0600, when missing) the SQLite file at path itself
 * rather than <dir>/appointd.db, with the same settings and checks as
 * ap_store_open(). The directory must exist. For stsim's --state-file.
 */
struct ap_store *ap_store_open_file(const char *path, char *err, size_t errlen);

/* Closes every connection; all must have been released. NULL ok. */
void ap_store_close(struct ap_store *s);

/* Human-readable location ("/x/appointd.db", or the URL without its
 * password); owned by the store. */
const char *ap_store_path(const struct ap_store *s);

/* "sqlite" or "postgres". */
const char *ap_store_backend(const struct ap_store *s);

/*
 * Takes the write connection (write true; waits for it) or a read connection
 * (write false; waits only when AP_DB_MAX_READERS are all busy). Returns NULL
 * only when a new read connection cannot be opened; the reason goes to the
 * log. The connection stays the store's: hand it back with ap_store_release().
 */
struct ap_db_conn *ap_store_acquire(struct ap_store *s, bool write);

/* Gives c back. An open transaction is rolled back (and logged, as a bug).
 * NULL ok. */
void ap_store_release(struct ap_db_conn *c);

/*
 * Health, cheap enough for a route polled every second: is the database
 * still the one opened (SQLite: not deleted or replaced; PostgreSQL: it can
 * be reached), can it be read (a real query), and can it be written — the
 * outcome of the last write the store made, refreshed by one small write of
 * the backend's own (table store_probe) when nothing was written for a few
 * seconds (never more often, never waiting for a busy writer). It opens no
 * file beside the backend's connections. AP_OK, or one line in err naming
 * the database and the reason: AP_EUNAVAIL (deleted, replaced, no
 * connection), AP_EIO / AP_EPERM / AP_ECORRUPT (cannot be read or written,
 * with the system's reason, e.g. "File too large", "No space left on
 * device", "cannot execute INSERT in a read-only transaction").
 */
enum ap_err ap_store_ping(struct ap_store *s, char *err, size_t errlen);

/* ---- values and statements --------------------------------------------- */

enum ap_db_type { AP_DB_NULL, AP_DB_INT, AP_DB_TEXT, AP_DB_BLOB };

/* A bound value. Text and blob bytes are borrowed for the call only. */
struct ap_db_val {
    enum ap_db_type type;
    int64_t i;
    const void *p; /* AP_DB_TEXT: UTF-8, need not be NUL-terminated */
    size_t len;
};

static inline struct ap_db_val ap_db_null(void)
{
    return (struct ap_db_val){.type = AP_DB_NULL};
}
static inline struct ap_db_val ap_db_int(int64_t i)
{
    return (struct ap_db_val){.type = AP_DB_INT, .i = i};
}
/* A NUL-terminated string; NULL binds SQL NULL. */
static inline struct ap_db_val ap_db_text(const char *s)
{
    if (s == NULL)
        return ap_db_null();
    return (struct ap_db_val){.type = AP_DB_TEXT, .p = s, .len = strlen(s)};
}
static inline struct ap_db_val ap_db_textn(const char *s, size_t n)
{
    return (struct ap_db_val){.type = AP_DB_TEXT, .p = s, .len = n};
}
static inline struct ap_db_val ap_db_blob(const void *p, size_t n)
{
    return (struct ap_db_val){.type = AP_DB_BLOB, .p = p, .len = n};
}

/* Runs one statement with nbinds values for its '?' placeholders (the count
 * must match) and discards any rows it returns. */
enum ap_err ap_db_exec(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                       size_t nbinds);

/* Runs a script of ';'-separated statements without binds (migrations). */
enum ap_err ap_db_exec_script(struct ap_db_conn *c, const char *sql);

/*
 * Starts one statement and returns a cursor in *out (NULL on error):
 *
 *   struct ap_db_rows *r;
 *   err = ap_db_query(c, "SELECT id, name FROM t WHERE a = ?", &v, 1, &r);
 *   if (err == AP_OK) {
 *       while (ap_db_next(r))
 *           use(ap_db_row_int(r, 0), ap_db_row_text(r, 1));
 *       err = ap_db_done(r);
 *   }
 *
 * A cursor must be finished with ap_db_done() before its connection is
 * released or a transaction on it ends. The same connection may hold several
 * cursors at once.
 */
enum ap_err ap_db_query(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                        size_t nbinds, struct ap_db_rows **out);
/* Moves to the next row: true when there is one; false at the end or on an
 * error, which ap_db_done() then returns. */
bool ap_db_next(struct ap_db_rows *r);
/* Frees r and returns the first error met while stepping (AP_OK if none).
 * NULL ok (AP_OK). */
enum ap_err ap_db_done(struct ap_db_rows *r);

/* Columns of the current row, counted from 0. A NULL reads as 0 / NULL. */
int ap_db_row_count(const struct ap_db_rows *r);
/* The column's name as the statement gave it; owned by the cursor, known
 * from the start (before the first ap_db_next()). "" when col is out of
 * range. ap_db_row_count() too is known from the start. */
const char *ap_db_row_name(struct ap_db_rows *r, int col);
/* What the current row holds in col: AP_DB_NULL, AP_DB_INT (integers and
 * booleans), AP_DB_BLOB, else AP_DB_TEXT (text, and numbers of other kinds
 * read as text). */
enum ap_db_type ap_db_row_type(struct ap_db_rows *r, int col);
bool ap_db_row_is_null(struct ap_db_rows *r, int col);
int64_t ap_db_row_int(struct ap_db_rows *r, int col);
/* NUL-terminated text owned by the cursor, valid until the next
 * ap_db_next()/ap_db_done(); NULL for SQL NULL. */
const char *ap_db_row_text(struct ap_db_rows *r, int col);
/* Bytes owned by the cursor, valid as above; *len set. May be NULL when *len
 * is 0. */
const void *ap_db_row_blob(struct ap_db_rows *r, int col, size_t *len);

/*
 * The first column of the first row as an integer: AP_ENOTFOUND when there is
 * no row. For counts, versions, existence checks.
 */
enum ap_err ap_db_query_int(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                            size_t nbinds, int64_t *out);

/*
 * Transactions. On the write connection ap_db_begin() starts a write
 * transaction: SQLite takes the write lock at once (BEGIN IMMEDIATE), so a
 * transaction never fails halfway for lack of it; PostgreSQL starts a READ
 * COMMITTED transaction beside other processes' (see "Several processes").
 * On a read connection it opens a consistent snapshot. Nesting is a bug
 * (AP_EINTERNAL). A failed ap_db_commit() rolls back before it returns; a
 * commit whose outcome is unknown (the connection was lost while COMMIT was
 * on its way) answers AP_EUNAVAIL and is logged as such.
 * ap_db_rollback() without a transaction does nothing.
 */
enum ap_err ap_db_begin(struct ap_db_conn *c);
enum ap_err ap_db_commit(struct ap_db_conn *c);
enum ap_err ap_db_rollback(struct ap_db_conn *c);
bool ap_db_in_transaction(const struct ap_db_conn *c);

/*
 * Runs fn(c, arg) in a transaction on the write connection c and commits it.
 * fn returning an error rolls back and returns it. When the transaction
 * fails in a way that undid it for sure and may pass (PostgreSQL: a
 * deadlock, a serialization failure, a connection lost before COMMIT was
 * sent), it is run again from the start, at most AP_DB_TX_TRIES times in
 * all, with a short pause between: fn must do database work only and may
 * run more than once (only the last run counts). Returns AP_OK once
 * committed, else the last error. c must not be in a transaction.
 */
#define AP_DB_TX_TRIES 4
typedef enum ap_err (*ap_db_write_fn)(struct ap_db_conn *c, void *arg);
enum ap_err ap_db_run_tx(struct ap_db_conn *c, ap_db_write_fn fn, void *arg);

/*
 * Inside a write transaction: waits (up to AP_DB_BUSY_TIMEOUT_MS, then
 * AP_EBUSY) for the exclusive lock on key, held until the transaction ends,
 * so processes that check then write something keyed by it (a time window's
 * capacity, a tenant's token) take turns. PostgreSQL: an advisory lock;
 * SQLite: nothing to do, its write transaction excludes every other writer.
 */
enum ap_err ap_db_lock(struct ap_db_conn *c, int64_t key);

/*
 * After rows were inserted into table with explicit values for its
 * "INTEGER PRIMARY KEY" column, makes the ids the database hands out next
 * larger than every id in it (PostgreSQL: the identity's sequence; SQLite
 * does so by itself). On the write connection.
 */
enum ap_err ap_db_sync_identity(struct ap_db_conn *c, const char *table, const char *column);

/* Rowid of the last INSERT on c (SQLite; PostgreSQL: lastval()); prefer
 * RETURNING. */
int64_t ap_db_last_insert_id(struct ap_db_conn *c);
/* Rows changed by the last INSERT/UPDATE/DELETE on c. */
int64_t ap_db_changes(struct ap_db_conn *c);
/* One line about the last failure on c ("" when none); owned by c, valid
 * until its next call. */
const char *ap_db_errmsg(const struct ap_db_conn *c);

/* ---- migrations -------------------------------------------------------- */

struct ap_migration {
    int version;      /* 1, 2, 3 ... strictly increasing in a list */
    const char *name; /* short, e.g. "meta" */
    const char *sql;  /* a script for ap_db_exec_script() */
};

/* appointd's own schema, in src/db/migrations.c. */
extern const struct ap_migration ap_db_migrations[];
extern const size_t ap_db_nmigrations;

/*
 * Brings the schema up to date: records applied migrations in
 * schema_migrations(version, name, applied_at) and applies the missing ones of
 * list in order, each in its own transaction (two processes migrating at once
 * is safe). Refuses with AP_ECONFLICT when the database is newer than list
 * ("database is at schema version 7 but this appointd knows up to 3; upgrade
 * appointd"). *applied (may be NULL) counts the migrations applied now. On
 * error err holds one line.
 */
enum ap_err ap_store_migrate(struct ap_store *s, const struct ap_migration *list, size_t n,
                             int *applied, char *err, size_t errlen);

/* Highest applied migration: 0 for a fresh database, -1 when it cannot be
 * read (the reason goes to the log). */
int ap_store_schema_version(struct ap_store *s);

/* ---- sealed secrets ---------------------------------------------------- */

/*
 * A column of appointd's schema holding ap_crypto_seal() output (readable
 * only with the master key). Every such column is named "*_sealed" and is
 * listed in ap_db_sealed_cols (src/db/sealed.c); a unit test checks the
 * migrated schema against the list.
 */
struct ap_db_sealed_col {
    const char *table;
    const char *column;
};
extern const struct ap_db_sealed_col ap_db_sealed_cols[];
extern const size_t ap_db_nsealed_cols;

/*
 * Counts the values in s sealed with the master key (non-NULL cells of the
 * sealed columns), so a missing key is only ever created for a database
 * that holds none. Needs appointd's schema migrated. On error one line in
 * err naming the database.
 */
enum ap_err ap_store_count_sealed(struct ap_store *s, int64_t *out, char *err, size_t errlen);

/* ---- tables, and copying a store into another ----------------------------- */

/*
 * A table of appointd's schema (src/db/tables.c), listed so that each comes
 * after the tables it references; a unit test checks the list against the
 * migrated schema.
 */
struct ap_db_table {
    const char *name;
    const char *key;      /* its primary key's columns, "a, b" */
    const char *identity; /* its "INTEGER PRIMARY KEY" column that numbers new rows, or NULL */
};
extern const struct ap_db_table ap_db_tables[];
extern const size_t ap_db_ntables;

/* What ap_store_copy() did to one table. */
struct ap_db_copy_table {
    const char *table; /* from ap_db_tables */
    int64_t source;    /* rows in the source */
    int64_t target;    /* rows in the target after the copy */
    int64_t written;   /* rows inserted or brought up to date now */
};

/* What ap_store_copy() did, table by table (in ap_db_tables order). */
struct ap_db_copy_report {
    size_t ntables;
    struct ap_db_copy_table t[64];
};

/*
 * Copies every table of appointd's schema from `from` into `to`, both
 * migrated to the same schema version (else AP_ECONFLICT), table by table in
 * ap_db_tables order, each in one transaction on to's write connection:
 * rows are upserted by primary key, so running it again writes what changed
 * and never a row twice. Refuses (AP_ECONFLICT, nothing written) a target
 * that holds data not copied from this source: the target must be empty, or
 * marked by an earlier copy from the same source (meta key "copied_from",
 * written first). Then moves each identity past the copied ids, and checks
 * the row counts per table: AP_ECONFLICT when they differ (rows deleted in
 * the source since an earlier copy; copy into an empty database again).
 * report (may be NULL) gets the counts. On error one line in err.
 * Nothing else may write to `from` meanwhile (stop the server first).
 */
enum ap_err ap_store_copy(struct ap_store *from, struct ap_store *to,
                          struct ap_db_copy_report *report, char *err, size_t errlen);

/* ---- the writer: one thread, group commit ------------------------------ */

/*
 * Writes that must be durable once answered (bookings) go through a writer:
 * one thread that takes queued writes in batches, runs each batch in one
 * transaction on the write connection, and commits it durably — it survives
 * a power cut, not only a crash (SQLite: synchronous=FULL; PostgreSQL:
 * synchronous_commit=on for the batch, whatever the server's default) —
 * before telling the callers. A batch costs
 * one durable commit however many writes it holds, so concurrent writers
 * share it (group commit). Writes run in submission order.
 *
 * A write is a function run inside the batch's transaction: returning AP_OK
 * keeps what it did; returning an error undoes its own statements only, and
 * the rest of the batch commits. (A batch is first run without savepoints;
 * when a write fails, the batch is undone and run again with a savepoint
 * per write — so every write of that batch runs twice, and a write must
 * give the same outcome when run again.) It may read and
 * write through c (ap_db_errmsg(c) is valid until it returns), but must not
 * begin, commit or roll back, nor acquire a connection of the store (that
 * deadlocks). It runs on the writer thread and holds up every other write
 * while it runs: database work only, never a network call.
 *
 * Its completion gets err: the write's own error; else the commit's when the
 * batch could not be made durable (nothing of the batch is then stored); else
 * AP_OK once the write is durable. A failure that makes the database undo the
 * whole transaction (a disk failure) fails every write run in it — unless it
 * is one that may pass and undid the batch for sure (PostgreSQL: a deadlock,
 * a serialization failure, the connection lost before COMMIT was sent):
 * then the whole batch runs again, as ap_db_run_tx() does, so a write may
 * run more than once (only the last run counts). A write whose own statement
 * hit a deadlock is run again in its savepoint the same way. Errors are
 * those of the statements (AP_ECONFLICT, AP_EBUSY, AP_EIO ... as above).
 * Completions run on the writer thread, in submission order, after the
 * commit, with no connection held: keep them short (hand the answer on, e.g.
 * with ap_http_reply()) and never wait for the writer from one.
 *
 * Every other write keeps using ap_store_acquire(s, true): the writer takes
 * that same write connection for each batch, so the two interleave.
 */
typedef void (*ap_db_write_done_fn)(void *arg, enum ap_err err);

/* Defaults of struct ap_db_writer_opts. */
#define AP_DB_WRITER_QUEUE_MAX 4096
#define AP_DB_WRITER_BATCH_MAX 512

struct ap_db_writer_opts {
    size_t queue_max; /* writes waiting at most; 0: AP_DB_WRITER_QUEUE_MAX */
    size_t batch_max; /* writes in one transaction at most; 0: AP_DB_WRITER_BATCH_MAX */
};

struct ap_db_writer_stats {
    uint64_t writes;  /* completed, whatever their outcome */
    uint64_t failed;  /* completed with an error */
    uint64_t batches; /* transactions tried */
    size_t queued;    /* waiting now */
};

struct ap_db_writer;

/*
 * Starts the writer thread of s (one writer per store; s outlives it). opts
 * may be NULL. Returns the writer (stop it with ap_db_writer_free()), or NULL
 * with one line in err.
 */
struct ap_db_writer *ap_db_writer_new(struct ap_store *s, const struct ap_db_writer_opts *opts,
                                      char *err, size_t errlen);

/*
 * Queues the write fn(c, arg) and returns at once. AP_OK: done(arg, err)
 * runs exactly once (done may be NULL). Otherwise done never runs:
 * AP_EBUSY when queue_max writes are waiting already (answer "busy, try
 * again"; the queue never grows past its bound), AP_EUNAVAIL once the writer
 * is stopping.
 */
enum ap_err ap_db_writer_submit(struct ap_db_writer *w, ap_db_write_fn fn, void *arg,
                                ap_db_write_done_fn done);

/*
 * Queues fn(c, arg), waits for its completion and returns its err (or
 * submit's). Blocks: never from an event loop thread, nor from the writer
 * thread (AP_EINTERNAL).
 */
enum ap_err ap_db_writer_run(struct ap_db_writer *w, ap_db_write_fn fn, void *arg);

/* Counters since the writer started. */
void ap_db_writer_get_stats(struct ap_db_writer *w, struct ap_db_writer_stats *out);

/*
 * Orderly shutdown: refuses new writes (AP_EUNAVAIL), runs and completes every
 * write already queued, stops the thread and frees w. NULL ok.
 */
void ap_db_writer_free(struct ap_db_writer *w);

/* ---- data-dir lock ----------------------------------------------------- */

/*
 * SQLite only: one `appointd serve` per data dir, because one process must
 * own the database file's writes (CLI commands write beside it through
 * SQLite's own locks). On PostgreSQL there is no such lock: several
 * `appointd serve` on one database is the point (the data dir then holds
 * only the master key).
 */

/*
 * Takes the exclusive lock of `appointd serve` on dir (flock on
 * <dir>/appointd.lock, which then holds our pid), creating dir if missing.
 * AP_EBUSY when another process holds it, with err "data dir DIR is in use by
 * another appointd serve (pid N); stop it or choose another --data-dir".
 * *fd_out is the lock's descriptor: hold it for the life of the server and
 * hand it to ap_store_unlock_dir(). CLI commands do not lock.
 */
enum ap_err ap_store_lock_dir(const char *dir, int *fd_out, char *err, size_t errlen);
/* Releases the lock taken by ap_store_lock_dir(). fd < 0 ok. */
void ap_store_unlock_dir(int fd);

/*
 * Creates dir (and missing parents) with mode 0700 if needed and checks that
 * it is a writable directory; otherwise one line in err naming dir. Used by
 * ap_store_open() and ap_store_lock_dir().
 */
enum ap_err ap_store_ensure_dir(const char *dir, char *err, size_t errlen);

#endif

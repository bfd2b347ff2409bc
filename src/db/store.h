/*
 * store.h — the backend-neutral store: connections, prepared statements with
 * typed binds, row cursors, transactions, migrations, health, sealed-secret
 * accounting, the writer thread with group commit, and the data-dir lock of
 * `appointd serve`.
 *
 * Today the one backend is SQLite (src/db/sqlite.c, the only code that
 * includes <sqlite3.h>); PostgreSQL comes later behind this same interface.
 * So callers write SQL in the subset both speak:
 *   - placeholders are '?' only (the pg backend rewrites them to $1, $2 ...);
 *   - one statement per ap_db_exec()/ap_db_query(); scripts (migrations) go
 *     through ap_db_exec_script() and take no binds;
 *   - new ids come back with "INSERT ... RETURNING id" through ap_db_query()
 *     (ap_db_last_insert_id() exists but is SQLite-flavoured);
 *   - values are NULL, 64-bit integers, text or blobs (struct ap_db_val).
 *
 * Connections. A store owns one write connection, guarded by a mutex, and a
 * pool of read connections (at most AP_DB_MAX_READERS, opened on demand).
 * ap_store_acquire(store, true) blocks until the write connection is free;
 * ap_store_acquire(store, false) takes an idle read connection, opening one
 * or waiting for one. A connection belongs to the acquiring thread until
 * ap_store_release(); never acquire the write connection twice on one thread
 * (it deadlocks). Read connections refuse writes (AP_EPERM). Each connection
 * caches its prepared statements keyed by SQL text, so pass the same string
 * for the same statement and never splice values into SQL.
 *
 * Errors. Every function returning enum ap_err on a connection leaves a one-
 * line message in ap_db_errmsg(conn). Mapping: constraint violations →
 * AP_ECONFLICT, busy/locked → AP_EBUSY, corrupt / not a database →
 * AP_ECORRUPT, disk and I/O failures → AP_EIO, writes on a read connection /
 * read-only files → AP_EPERM, oversize values → AP_ETOOBIG, anything else
 * (bad SQL, wrong number of binds) → AP_EINTERNAL, which is a bug. Every
 * failure is also logged once (event=db.query) with a short name of the
 * statement ("insert.sessions") and the database's reason, never a value;
 * at error, but at warn for constraint violations, which callers answer.
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
/* Most read connections a store opens. */
#define AP_DB_MAX_READERS 16
/* How long a connection waits for a lock held by another process. */
#define AP_DB_BUSY_TIMEOUT_MS 5000

struct ap_store;
struct ap_db_conn;
struct ap_db_rows;

/* ---- store ------------------------------------------------------------- */

/*
 * Opens the store named by url_or_dir. Today that is a data directory: the
 * SQLite file <dir>/appointd.db, created with the directory (mode 0700) when
 * missing, in WAL mode with foreign keys on, synchronous=NORMAL and a 5 s busy
 * timeout. The file's schema is read at once, so a damaged or foreign file
 * fails here. "postgres://" URLs are refused until that backend exists.
 * Returns a new store (free with ap_store_close()) or NULL with one line in
 * err naming the path and what to do, e.g.
 *   data dir /x is not writable: Permission denied
 *   database /x/appointd.db is not a SQLite database or is corrupt: file is
 *   not a database; restore it from a backup or move it aside
 */
struct ap_store *ap_store_open(const char *url_or_dir, char *err, size_t errlen);

/*
 * Opens (creating it, mode 0600, when missing) the SQLite file at path itself
 * rather than <dir>/appointd.db, with the same settings and checks as
 * ap_store_open(). The directory must exist. For stsim's --state-file.
 */
struct ap_store *ap_store_open_file(const char *path, char *err, size_t errlen);

/* Closes every connection; all must have been released. NULL ok. */
void ap_store_close(struct ap_store *s);

/* Human-readable location ("/x/appointd.db"); owned by the store. */
const char *ap_store_path(const struct ap_store *s);

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
 * still the one opened (not deleted or replaced), can it be read (a real
 * query), and can it be written — the outcome of the last write the store
 * made, refreshed by one small write of the backend's own when nothing was
 * written for a few seconds (never more often, never waiting for a busy
 * writer). It opens no file beside the backend's connections. AP_OK, or one
 * line in err naming the database and the reason: AP_EUNAVAIL (deleted,
 * replaced, no connection), AP_EIO / AP_EPERM / AP_ECORRUPT (cannot be read
 * or written, with the system's reason, e.g. "File too large", "No space
 * left on device").
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
 * Transactions. On the write connection ap_db_begin() takes the write lock at
 * once (BEGIN IMMEDIATE), so a transaction never fails halfway for lack of
 * it; on a read connection it opens a consistent snapshot. Nesting is a bug
 * (AP_EINTERNAL). A failed ap_db_commit() rolls back before it returns.
 * ap_db_rollback() without a transaction does nothing.
 */
enum ap_err ap_db_begin(struct ap_db_conn *c);
enum ap_err ap_db_commit(struct ap_db_conn *c);
enum ap_err ap_db_rollback(struct ap_db_conn *c);
bool ap_db_in_transaction(const struct ap_db_conn *c);

/* Rowid of the last INSERT on c (SQLite); prefer RETURNING. */
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

/* ---- the writer: one thread, group commit ------------------------------ */

/*
 * Writes that must be durable once answered (bookings) go through a writer:
 * one thread that takes queued writes in batches, runs each batch in one
 * transaction on the write connection, and commits it durably — it survives
 * a power cut, not only a crash — before telling the callers. A batch costs
 * one durable commit however many writes it holds, so concurrent writers
 * share it (group commit). Writes run in submission order.
 *
 * A write is a function run inside the batch's transaction, in a savepoint
 * of its own: returning AP_OK keeps what it did; returning an error undoes
 * its own statements only, and the rest of the batch commits. It may read and
 * write through c (ap_db_errmsg(c) is valid until it returns), but must not
 * begin, commit or roll back, nor acquire a connection of the store (that
 * deadlocks). It runs on the writer thread and holds up every other write
 * while it runs: database work only, never a network call.
 *
 * Its completion gets err: the write's own error; else the commit's when the
 * batch could not be made durable (nothing of the batch is then stored); else
 * AP_OK once the write is durable. A failure that makes the database undo the
 * whole transaction (a disk failure) fails every write run in it. Errors are
 * those of the statements (AP_ECONFLICT, AP_EBUSY, AP_EIO ... as above).
 * Completions run on the writer thread, in submission order, after the
 * commit, with no connection held: keep them short (hand the answer on, e.g.
 * with ap_http_reply()) and never wait for the writer from one.
 *
 * Every other write keeps using ap_store_acquire(s, true): the writer takes
 * that same write connection for each batch, so the two interleave.
 */
typedef enum ap_err (*ap_db_write_fn)(struct ap_db_conn *c, void *arg);
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

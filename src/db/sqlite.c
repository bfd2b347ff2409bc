/*
 * sqlite.c — the SQLite backend of store.h: opening <dir>/appointd.db (or a
 * named file), the write connection and the pool of read connections, and
 * the backend's table (ap_db_sqlite). Statements, cursors and transactions
 * are in sqlite_stmt.c, health checks in sqlite_health.c. These are the only
 * files that include <sqlite3.h>.
 *
 * Every connection runs in WAL mode with a busy timeout, foreign keys on and
 * synchronous=NORMAL (a commit is durable at the next checkpoint or WAL
 * fsync; a power cut can lose the last commits but never corrupts); the
 * writer's batches switch to FULL (ap_db_conn_set_durable). Read connections
 * set query_only, so a write through one fails loudly.
 *
 * Only SQLite opens, reads or closes the database's files once a connection
 * has them open: SQLite's locks are POSIX fcntl locks, and a process loses
 * all of them on a file when it closes any descriptor of that file. The one
 * open() here creates a missing file before SQLite has ever opened it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/sqlite_int.h"

static void sq_close(struct ap_store *base);

static const char *const WRITE_PRAGMAS[] = {
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
};
static const char *const READ_PRAGMAS[] = {
    "PRAGMA foreign_keys=ON",
    "PRAGMA query_only=1",
};

/* One line for a failure while opening s->path, saying what to do. */
static void open_error(struct ap_store *s, sqlite3 *db, int rc, char *err, size_t errlen)
{
    const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int sys = db != NULL ? sqlite3_system_errno(db) : 0;

    switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        snprintf(err, errlen,
                 "database %s is not a SQLite database or is corrupt: %s; restore it from a "
                 "backup or move it aside",
                 s->path, msg);
        break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
        snprintf(err, errlen, "database %s is not writable: %s", s->path, msg);
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        snprintf(err, errlen, "database %s is locked by another process: %s", s->path, msg);
        break;
    default:
        if (sys != 0)
            snprintf(err, errlen, "database %s cannot be opened: %s (%s)", s->path, msg,
                     strerror(sys));
        else
            snprintf(err, errlen, "database %s cannot be opened: %s", s->path, msg);
    }
}

/* Runs setup SQL on a fresh handle; a pragma that answers (journal_mode)
 * must answer what was asked. */
static int run_setup(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);

        if (strstr(sql, "journal_mode") != NULL && (v == NULL || strcmp(v, "wal") != 0)) {
            rc = SQLITE_CANTOPEN;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Opens one connection to s->path; NULL with one line in err on failure. */
static struct sq_conn *conn_open(struct ap_store *s, bool write, char *err, size_t errlen)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (write ? SQLITE_OPEN_CREATE : 0);
    const char *const *pragmas = write ? WRITE_PRAGMAS : READ_PRAGMAS;
    size_t npragmas = write ? sizeof(WRITE_PRAGMAS) / sizeof(WRITE_PRAGMAS[0])
                            : sizeof(READ_PRAGMAS) / sizeof(READ_PRAGMAS[0]);
    sqlite3 *db = NULL;
    int rc;

    rc = sqlite3_open_v2(s->path, &db, flags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(db, 1);
        rc = sqlite3_busy_timeout(db, AP_DB_BUSY_TIMEOUT_MS);
    }
    for (size_t i = 0; rc == SQLITE_OK && i < npragmas; i++)
        rc = run_setup(db, pragmas[i]);
    /* Reading the schema touches the file now: a damaged one fails here. */
    if (rc == SQLITE_OK)
        rc = run_setup(db, "SELECT count(*) FROM sqlite_schema");
    if (rc != SQLITE_OK) {
        open_error(s, db, rc, err, errlen);
        sqlite3_close_v2(db);
        return NULL;
    }
    struct sq_conn *c = ap_xcalloc(1, sizeof(*c));
    c->base.s = s;
    c->base.write = write;
    c->db = db;
    return c;
}

static void conn_close(struct sq_conn *c)
{
    if (c == NULL)
        return;
    ap_db_sq_cache_clear(c);
    sqlite3_close_v2(c->db);
    free(c);
}

struct ap_store *ap_db_sqlite_open(char *path, const struct ap_store_opts *opts, char *err,
                                   size_t errlen)
{
    struct sq_store *s = ap_xcalloc(1, sizeof(*s));
    struct stat st;

    ap_db_store_init(&s->base, &ap_db_sqlite, path, opts);
    /* Create the file ourselves so that it, and the -wal and -shm files that
     * SQLite gives the same mode, are private whatever the umask. O_EXCL:
     * only a file that did not exist, so no connection of this process has
     * it open and closing this descriptor drops no lock. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    struct sq_conn *w = conn_open(&s->base, true, err, errlen);
    if (w == NULL)
        goto fail;
    s->base.writer = &w->base;
    /* The identity ap_store_ping() compares the path with: the stat() of the
     * path, confirmed by SQLite to be the file it has open. */
    if (stat(path, &st) != 0 || ap_db_sq_file_moved(w)) {
        snprintf(err, errlen, "database %s was moved or deleted while opening; try again", path);
        goto fail;
    }
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    ap_log_info("db.open", "path=%s backend=sqlite version=%s", s->base.log_path,
                sqlite3_libversion());
    return &s->base;
fail:
    sq_close(&s->base);
    return NULL;
}

static void sq_close(struct ap_store *base)
{
    struct sq_store *s = sq_store(base);
    struct ap_db_conn *c;

    while ((c = ap_db_pool_drain(&base->readers, base->log_path)) != NULL)
        conn_close(sq_conn(c));
    if (base->writer != NULL)
        conn_close(sq_conn(base->writer));
    ap_db_store_cleanup(base);
    free(s);
}

static struct ap_db_conn *sq_open_reader(struct ap_store *s, char *err, size_t errlen)
{
    struct sq_conn *c = conn_open(s, false, err, errlen);

    return c != NULL ? &c->base : NULL;
}

static bool sq_table_exists(struct ap_db_conn *c, const char *table)
{
    struct ap_db_val v = ap_db_text(table);
    int64_t n = 0;

    return ap_db_query_int(c,
                           "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?",
                           &v, 1, &n) == AP_OK &&
           n > 0;
}

static enum ap_err sq_set_durable(struct ap_db_conn *c, bool on)
{
    return ap_db_sq_exec(c, on ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, 0);
}

/* Each migration's BEGIN IMMEDIATE already keeps other processes out. */
static enum ap_err sq_migrate_lock(struct ap_db_conn *c, bool on)
{
    (void)c;
    (void)on;
    return AP_OK;
}

/* A write transaction already excludes every other writer. */
static enum ap_err sq_lock_key(struct ap_db_conn *c, int64_t key)
{
    (void)c;
    (void)key;
    return AP_OK;
}

/* An INTEGER PRIMARY KEY hands out max(rowid) + 1 by itself. */
static enum ap_err sq_sync_identity(struct ap_db_conn *c, const char *table, const char *column)
{
    (void)c;
    (void)table;
    (void)column;
    return AP_OK;
}

/* With BEGIN IMMEDIATE and a busy timeout nothing fails halfway that would
 * pass by running it again at once. */
static bool sq_retryable(const struct ap_db_conn *c)
{
    (void)c;
    return false;
}

const struct ap_db_backend ap_db_sqlite = {
    .name = "sqlite",
    .close = sq_close,
    .open_reader = sq_open_reader,
    .ready = NULL,
    .check_read = ap_db_sq_check_read,
    .probe_write = ap_db_sq_probe_write,
    .exec = ap_db_sq_exec,
    .exec_script = ap_db_sq_exec_script,
    .query = ap_db_sq_query,
    .next = ap_db_sq_next,
    .done = ap_db_sq_done,
    .row_count = ap_db_sq_row_count,
    .row_name = ap_db_sq_row_name,
    .row_type = ap_db_sq_row_type,
    .row_int = ap_db_sq_row_int,
    .row_text = ap_db_sq_row_text,
    .row_blob = ap_db_sq_row_blob,
    .begin = ap_db_sq_begin,
    .commit = ap_db_sq_commit,
    .rollback = ap_db_sq_rollback,
    .in_transaction = ap_db_sq_in_transaction,
    .retryable = sq_retryable,
    .last_insert_id = ap_db_sq_last_insert_id,
    .changes = ap_db_sq_changes,
    .table_exists = sq_table_exists,
    .set_durable = sq_set_durable,
    .migrate_lock = sq_migrate_lock,
    .lock_key = sq_lock_key,
    .sync_identity = sq_sync_identity,
};

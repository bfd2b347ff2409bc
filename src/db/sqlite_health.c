/*
 * sqlite_health.c — ap_store_ping() for the SQLite backend: is the file at
 * the path still the one SQLite has open, can it be read, can it be written.
 *
 * Nothing here opens the database's files: SQLite's locks are POSIX fcntl
 * locks, which a process loses on a file as soon as it closes any descriptor
 * of it — a health check that opened appointd.db once let the next CLI run
 * think it was the last user and delete the live -wal. Identity is a stat()
 * of the path against the identity taken at open (which SQLite confirmed with
 * SQLITE_FCNTL_HAS_MOVED); reading is a query on a read connection.
 *
 * Writing: every write on the write connection notes how it ended
 * (ap_db_note_write, from sqlite_stmt.c). When nothing was written for
 * WRITE_PROBE_NS, ping writes one row of its own (table store_probe, which
 * the backend owns) — at most that often, and only when the write connection
 * is free at that moment and the file's write lock can be had without
 * waiting. So /healthz neither writes per request nor waits, and a database
 * that cannot be written (disk full, file too large, read-only, I/O errors)
 * turns it 503 until a write succeeds again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "db/sqlite_int.h"

/* Least time between two probe writes. */
#define WRITE_PROBE_NS (5 * AP_NS_PER_S)

static const char PROBE_TABLE[] = "CREATE TABLE IF NOT EXISTS store_probe ("
                                  " id INTEGER PRIMARY KEY,"
                                  " probed_at TEXT NOT NULL)";
static const char PROBE_UPSERT[] = "INSERT INTO store_probe (id, probed_at) VALUES (1, ?) "
                                   "ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at";

bool ap_db_conn_file_moved(struct ap_db_conn *c)
{
    int moved = 0;

    if (sqlite3_file_control(c->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK)
        return true;
    return moved != 0;
}

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
        ap_log_error("db.unwritable", "path=%s err=%s error=%s", s->path, ap_err_str(err),
                     ap_log_quote(msg != NULL ? msg : "", q, sizeof(q)));
    else if (!was_ok && err == AP_OK)
        ap_log_info("db.writable", "path=%s", s->path);
}

/* Is s->path still the file SQLite opened? */
static enum ap_err check_identity(struct ap_store *s, char *err, size_t errlen)
{
    struct stat st;

    if (stat(s->path, &st) != 0) {
        if (errno == ENOENT) {
            snprintf(err, errlen,
                     "database %s was deleted while appointd was running; restore it and "
                     "restart appointd",
                     s->path);
            return AP_EUNAVAIL;
        }
        snprintf(err, errlen, "database %s cannot be checked: %s", s->path, strerror(errno));
        return AP_EIO;
    }
    if (st.st_dev != s->dev || st.st_ino != s->ino) {
        snprintf(err, errlen,
                 "database %s was replaced while appointd was running; restart appointd", s->path);
        return AP_EUNAVAIL;
    }
    return AP_OK;
}

static enum ap_err check_read(struct ap_store *s, char *err, size_t errlen)
{
    struct ap_db_conn *c = ap_store_acquire(s, false);
    enum ap_err e;
    int64_t n = 0;

    if (c == NULL) {
        snprintf(err, errlen, "database %s cannot be opened for reading (see the log)", s->path);
        return AP_EUNAVAIL;
    }
    e = ap_db_query_int(c, "SELECT count(*) FROM sqlite_schema", NULL, 0, &n);
    if (e != AP_OK)
        snprintf(err, errlen, "database %s cannot be read: %s", s->path, ap_db_errmsg(c));
    ap_store_release(c);
    return e;
}

/* One small write in a transaction of its own; its outcome is noted by the
 * statement layer like any other write. Skipped when the write connection or
 * the file's write lock is taken: that writer's outcome will be noted. */
static void probe_write(struct ap_store *s)
{
    struct ap_db_conn *c = s->writer;
    char when[32];
    struct ap_db_val v;
    enum ap_err e;

    if (pthread_mutex_trylock(&s->write_mu) != 0)
        return;
    sqlite3_busy_timeout(c->db, 0);
    c->probing = true;
    e = ap_db_begin(c);
    if (e == AP_OK)
        e = ap_db_exec(c, PROBE_TABLE, NULL, 0);
    if (e == AP_OK) {
        ap_clock_format_utc(ap_clock_real_ns(), when);
        v = ap_db_text(when);
        e = ap_db_exec(c, PROBE_UPSERT, &v, 1);
    }
    if (e == AP_OK)
        e = ap_db_commit(c);
    if (e != AP_OK) /* the outcome itself is recorded by the failing statement */
        ap_db_rollback(c);
    c->probing = false;
    sqlite3_busy_timeout(c->db, AP_DB_BUSY_TIMEOUT_MS);
    c->errmsg[0] = '\0';
    pthread_mutex_unlock(&s->write_mu);
}

static enum ap_err check_write(struct ap_store *s, char *err, size_t errlen)
{
    int64_t now = ap_clock_mono_ns(), at;
    enum ap_err e;

    pthread_mutex_lock(&s->wr_mu);
    at = s->wr_at_ns;
    pthread_mutex_unlock(&s->wr_mu);
    if (at == 0 || now - at >= WRITE_PROBE_NS)
        probe_write(s);
    pthread_mutex_lock(&s->wr_mu);
    e = s->wr_err;
    if (e != AP_OK)
        snprintf(err, errlen, "database %s cannot be written: %s", s->path, s->wr_msg);
    pthread_mutex_unlock(&s->wr_mu);
    return e;
}

enum ap_err ap_store_ping(struct ap_store *s, char *err, size_t errlen)
{
    enum ap_err e = check_identity(s, err, errlen);

    if (e == AP_OK)
        e = check_read(s, err, errlen);
    if (e == AP_OK)
        e = check_write(s, err, errlen);
    return e;
}

/*
 * sqlite_health.c — the SQLite backend's part of ap_store_ping() (store.c):
 * is the file at the path still the one SQLite has open, can it be read, and
 * the probe write.
 *
 * Nothing here opens the database's files: SQLite's locks are POSIX fcntl
 * locks, which a process loses on a file as soon as it closes any descriptor
 * of it — a health check that opened appointd.db once let the next CLI run
 * think it was the last user and delete the live -wal. Identity is a stat()
 * of the path against the identity taken at open (which SQLite confirmed with
 * SQLITE_FCNTL_HAS_MOVED); reading is a query on a read connection.
 *
 * Writing: when store.c finds nothing was written for a while, the probe
 * writes one row of its own (table store_probe, which the backend owns) —
 * only when the write connection is free at that moment and the file's
 * write lock can be had without waiting. A database that cannot be written
 * (disk full, file too large, read-only, I/O errors) is then found even
 * without traffic.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "db/sqlite_int.h"

static const char PROBE_TABLE[] = "CREATE TABLE IF NOT EXISTS store_probe ("
                                  " id INTEGER PRIMARY KEY,"
                                  " probed_at TEXT NOT NULL)";
static const char PROBE_UPSERT[] = "INSERT INTO store_probe (id, probed_at) VALUES (1, ?) "
                                   "ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at";

bool ap_db_sq_file_moved(struct sq_conn *c)
{
    int moved = 0;

    if (sqlite3_file_control(c->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK)
        return true;
    return moved != 0;
}

/* Is s->path still the file SQLite opened? */
static enum ap_err check_identity(struct sq_store *sq, char *err, size_t errlen)
{
    const struct ap_store *s = &sq->base;
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
    if (st.st_dev != sq->dev || st.st_ino != sq->ino) {
        snprintf(err, errlen,
                 "database %s was replaced while appointd was running; restart appointd", s->path);
        return AP_EUNAVAIL;
    }
    return AP_OK;
}

enum ap_err ap_db_sq_check_read(struct ap_store *s, char *err, size_t errlen)
{
    enum ap_err e = check_identity(sq_store(s), err, errlen);
    struct ap_db_conn *c;
    int64_t n = 0;

    if (e != AP_OK)
        return e;
    c = ap_store_acquire(s, false);
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
void ap_db_sq_probe_write(struct ap_store *base)
{
    struct ap_db_conn *c = base->writer;
    struct sq_conn *sc = sq_conn(c);
    char when[32];
    struct ap_db_val v;
    enum ap_err e;

    if (pthread_mutex_trylock(&base->write_mu) != 0)
        return;
    sqlite3_busy_timeout(sc->db, 0);
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
    sqlite3_busy_timeout(sc->db, AP_DB_BUSY_TIMEOUT_MS);
    c->errmsg[0] = '\0';
    pthread_mutex_unlock(&base->write_mu);
}

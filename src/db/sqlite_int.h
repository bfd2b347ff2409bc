/*
 * sqlite_int.h — the SQLite backend's structures, shared by sqlite.c
 * (store, connections) and sqlite_stmt.c (statements). Private to src/db.
 */
#ifndef AP_DB_SQLITE_INT_H
#define AP_DB_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "db/db_int.h"
#include "db/store.h"

#define AP_DB_CACHE_BUCKETS 64
#define AP_DB_CACHE_MAX     256 /* statements cached per connection */

struct ap_db_stmt {
    char *sql; /* the cache key */
    sqlite3_stmt *st;
    bool busy; /* a cursor or call is using it */
    struct ap_db_stmt *next;
};

struct ap_db_conn {
    struct ap_store *s;
    sqlite3 *db;
    bool write;
    bool probing;       /* the health probe's write: a busy file is no failure */
    int ncursors;       /* cursors not yet ap_db_done() */
    int64_t tx_changes; /* sqlite3_total_changes64() when the transaction began */
    struct ap_db_stmt *cache[AP_DB_CACHE_BUCKETS];
    size_t ncached;
    char errmsg[512];
    struct ap_db_conn *next_idle;
};

struct ap_db_rows {
    struct ap_db_conn *c;
    sqlite3_stmt *st;
    struct ap_db_stmt *cached; /* NULL: st is ours to finalize */
    enum ap_err err;
    bool done;
    int64_t changes0; /* sqlite3_total_changes64() when it started */
};

struct ap_store {
    char *path; /* <dir>/appointd.db */
    dev_t dev;  /* identity of the file opened, for ping */
    ino_t ino;
    struct ap_db_conn *writer;
    pthread_mutex_t write_mu; /* held by whoever acquired the writer */
    pthread_mutex_t pool_mu;  /* guards the fields below */
    pthread_cond_t pool_cv;
    struct ap_db_conn *idle; /* idle read connections */
    int nreaders;            /* read connections open (idle or out) */
    int nreaders_out;        /* read connections acquired */
    /* The last write on the write connection (a caller's or the health
     * probe's), for ap_store_ping(): when, and how it ended. */
    pthread_mutex_t wr_mu;
    int64_t wr_at_ns; /* monotonic; 0: none yet */
    enum ap_err wr_err;
    char wr_msg[256]; /* why it failed, "" when it did not */
};

/*
 * Notes how a write on s's write connection ended: err AP_OK when it reached
 * the database file (msg ignored), else the error of a failure that says the
 * file cannot be written (disk full, I/O error, read-only) with SQLite's
 * message. Thread-safe.
 */
void ap_db_note_write(struct ap_store *s, enum ap_err err, const char *msg);

/* True when the file at the store's path is no longer the one c has open
 * (SQLite's own check, SQLITE_FCNTL_HAS_MOVED; it opens nothing). */
bool ap_db_conn_file_moved(struct ap_db_conn *c);

/* Finalizes every cached statement of c. */
void ap_db_stmt_cache_clear(struct ap_db_conn *c);

#endif

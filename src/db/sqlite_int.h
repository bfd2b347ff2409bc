/*
 * sqlite_int.h — the SQLite backend's structures, shared by sqlite.c
 * (store, connections) and sqlite_stmt.c (statements). Private to src/db.
 */
#ifndef AP_DB_SQLITE_INT_H
#define AP_DB_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
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
    int ncursors; /* cursors not yet ap_db_done() */
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
};

/* Finalizes every cached statement of c. */
void ap_db_stmt_cache_clear(struct ap_db_conn *c);

#endif

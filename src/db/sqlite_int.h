/*
 * sqlite_int.h — the SQLite backend's structures, shared by sqlite.c
 * (store, connections), sqlite_stmt.c (statements) and sqlite_health.c.
 * Private to src/db.
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

struct sq_stmt {
    char *sql; /* the cache key */
    sqlite3_stmt *st;
    bool busy; /* a cursor or call is using it */
    struct sq_stmt *next;
};

struct sq_conn {
    struct ap_db_conn base;
    sqlite3 *db;
    int64_t tx_changes; /* sqlite3_total_changes64() when the transaction began */
    struct sq_stmt *cache[AP_DB_CACHE_BUCKETS];
    size_t ncached;
};

struct sq_rows {
    struct ap_db_rows base;
    sqlite3_stmt *st;
    struct sq_stmt *cached; /* NULL: st is ours to finalize */
    enum ap_err err;
    bool done;
    int64_t changes0; /* sqlite3_total_changes64() when it started */
};

struct sq_store {
    struct ap_store base; /* base.path: the database file */
    dev_t dev;            /* identity of the file opened, for ping */
    ino_t ino;
};

static inline struct sq_conn *sq_conn(struct ap_db_conn *c)
{
    return (struct sq_conn *)c;
}

static inline struct sq_store *sq_store(struct ap_store *s)
{
    return (struct sq_store *)s;
}

/* True when the file at the store's path is no longer the one c has open
 * (SQLite's own check, SQLITE_FCNTL_HAS_MOVED; it opens nothing). */
bool ap_db_sq_file_moved(struct sq_conn *c);

/* Finalizes every cached statement of c. */
void ap_db_sq_cache_clear(struct sq_conn *c);

/* sqlite_stmt.c's functions of the backend table. */
enum ap_err ap_db_sq_exec(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                          size_t nbinds);
enum ap_err ap_db_sq_exec_script(struct ap_db_conn *c, const char *sql);
enum ap_err ap_db_sq_query(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                           size_t nbinds, struct ap_db_rows **out);
bool ap_db_sq_next(struct ap_db_rows *r);
enum ap_err ap_db_sq_done(struct ap_db_rows *r);
int ap_db_sq_row_count(const struct ap_db_rows *r);
const char *ap_db_sq_row_name(struct ap_db_rows *r, int col);
enum ap_db_type ap_db_sq_row_type(struct ap_db_rows *r, int col);
int64_t ap_db_sq_row_int(struct ap_db_rows *r, int col);
const char *ap_db_sq_row_text(struct ap_db_rows *r, int col);
const void *ap_db_sq_row_blob(struct ap_db_rows *r, int col, size_t *len);
enum ap_err ap_db_sq_begin(struct ap_db_conn *c);
enum ap_err ap_db_sq_commit(struct ap_db_conn *c);
enum ap_err ap_db_sq_rollback(struct ap_db_conn *c);
bool ap_db_sq_in_transaction(const struct ap_db_conn *c);
int64_t ap_db_sq_last_insert_id(struct ap_db_conn *c);
int64_t ap_db_sq_changes(struct ap_db_conn *c);

/* sqlite_health.c's. */
enum ap_err ap_db_sq_check_read(struct ap_store *s, char *err, size_t errlen);
void ap_db_sq_probe_write(struct ap_store *s);

#endif

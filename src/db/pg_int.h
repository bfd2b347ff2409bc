/*
 * pg_int.h — the PostgreSQL backend's structures, shared by pg.c (store,
 * connections, pool), pg_stmt.c (statements, cursors, transactions) and
 * pg_health.c. Private to src/db.
 */
#ifndef AP_DB_PG_INT_H
#define AP_DB_PG_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db_int.h"
#include "db/store.h"

#define PG_CACHE_BUCKETS 64
#define PG_CACHE_MAX     256 /* statements prepared per connection */

/* A statement prepared on one connection, under the name "ap<id>". */
struct pg_stmt {
    char *sql; /* the cache key: the caller's SQL */
    char name[24];
    int nparams;
    struct pg_stmt *next;
};

struct pg_conn {
    struct ap_db_conn base;
    PGconn *pg;         /* NULL: lost, to be opened again */
    bool tx_lost;       /* the connection went away inside the transaction */
    enum ap_err tx_err; /* the first failure inside the transaction */
    bool durable;       /* the next transaction commits with synchronous_commit=on */
    bool retryable;     /* the last failure undid its work for sure and may pass */
    char sqlstate[6];   /* of the last failure, "" for none or not from the server */
    int64_t changes;    /* rows changed by the last statement */
    int64_t tx_changes; /* rows changed in the transaction so far */
    uint64_t next_id;   /* for statement names */
    int64_t down_at_ns; /* when opening a session last failed; 0: it did not */
    char down_msg[400]; /* why */
    struct pg_stmt *cache[PG_CACHE_BUCKETS];
    size_t ncached;
};

struct pg_rows {
    struct ap_db_rows base;
    PGresult *res;
    int row; /* current row; -1 before the first */
    int nrows;
    enum ap_err err;
    void *blob; /* the last blob decoded, owned */
};

struct pg_store {
    struct ap_store base; /* base.path: the URL without its password */
    char *url;            /* the URL as given, password included: never logged */
    pthread_mutex_t down_mu;
    char down_msg[400]; /* why a session could not be opened last (under down_mu) */
};

static inline struct pg_conn *pg_conn(struct ap_db_conn *c)
{
    return (struct pg_conn *)c;
}

static inline const struct pg_conn *pg_cconn(const struct ap_db_conn *c)
{
    return (const struct pg_conn *)c;
}

static inline struct pg_store *pg_store(struct ap_store *s)
{
    return (struct pg_store *)s;
}

/*
 * Makes sure c has a live session: opens one when it has none, or when the
 * server closed it while it was idle (a restart, pg_terminate_backend).
 * Outside a transaction only (inside one, a lost session is the
 * transaction's failure). AP_OK, or AP_EUNAVAIL with the reason recorded on
 * c (logged).
 */
enum ap_err ap_db_pg_ensure(struct pg_conn *c);

/* Forgets c's session after it was lost: closes it, drops its prepared
 * statements; the next ap_db_pg_ensure() opens a new one. */
void ap_db_pg_drop(struct pg_conn *c);

/* pg_stmt.c's functions of the backend table, and its helpers. */
enum ap_err ap_db_pg_exec(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                          size_t nbinds);
enum ap_err ap_db_pg_exec_script(struct ap_db_conn *c, const char *sql);
enum ap_err ap_db_pg_query(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                           size_t nbinds, struct ap_db_rows **out);
bool ap_db_pg_next(struct ap_db_rows *r);
enum ap_err ap_db_pg_done(struct ap_db_rows *r);
int ap_db_pg_row_count(const struct ap_db_rows *r);
const char *ap_db_pg_row_name(struct ap_db_rows *r, int col);
enum ap_db_type ap_db_pg_row_type(struct ap_db_rows *r, int col);
int64_t ap_db_pg_row_int(struct ap_db_rows *r, int col);
const char *ap_db_pg_row_text(struct ap_db_rows *r, int col);
const void *ap_db_pg_row_blob(struct ap_db_rows *r, int col, size_t *len);
enum ap_err ap_db_pg_begin(struct ap_db_conn *c);
enum ap_err ap_db_pg_commit(struct ap_db_conn *c);
enum ap_err ap_db_pg_rollback(struct ap_db_conn *c);
bool ap_db_pg_in_transaction(const struct ap_db_conn *c);
/* Frees every prepared statement c knows of (not on the server). */
void ap_db_pg_cache_clear(struct pg_conn *c);

/* pg_health.c's. */
enum ap_err ap_db_pg_check_read(struct ap_store *s, char *err, size_t errlen);
void ap_db_pg_probe_write(struct ap_store *s);

/* Keys of the advisory locks the backend takes itself, as SQL text: the
 * first of two 32-bit keys (the second is the schema's hash), so
 * ap_db_lock()'s 64-bit keys never meet them. 0x6170 is "ap". */
#define PG_LOCK_MIGRATE "1634729985" /* 0x61700001: migrations */
#define PG_LOCK_PROBE   "1634729986" /* 0x61700002: making store_probe */

#endif

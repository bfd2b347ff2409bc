/*
 * pg_health.c — the PostgreSQL backend's part of ap_store_ping() (store.c):
 * can the database be reached and read, and the probe write.
 *
 * There is no file to compare identities with: reaching the server and
 * reading through a read connection is the first check (a server that is
 * down, refuses us, or was restarted answers here; a lost session is opened
 * again on the way). Writing is judged as on SQLite by the outcome of the
 * last write, refreshed by a probe: one row of the backend's own table
 * store_probe, written in a transaction of its own with synchronous commit
 * off (it proves the database takes writes; it need not survive a crash).
 * The table is made by the first probe, under an advisory lock so that
 * several appointd processes starting at once do not race to make it. A
 * database that refuses writes — read-only (default_transaction_read_only,
 * a standby after a failover), out of disk, or gone — is thus reported
 * even without traffic.
 */
#include <stdio.h>
#include <string.h>

#include "db/pg_int.h"

static const char PROBE[] =
    "SET LOCAL synchronous_commit = off;\n"
    "SELECT pg_advisory_xact_lock(" PG_LOCK_PROBE ", hashtext(current_schema()));\n"
    "CREATE TABLE IF NOT EXISTS store_probe (id BIGINT PRIMARY KEY, probed_at TEXT NOT NULL);\n"
    "INSERT INTO store_probe (id, probed_at) VALUES (1, now()::text) "
    "ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at";

enum ap_err ap_db_pg_check_read(struct ap_store *base, char *err, size_t errlen)
{
    struct pg_store *s = pg_store(base);
    struct ap_db_conn *c = ap_store_acquire(base, false);
    enum ap_err e;
    int64_t n = 0;

    if (c == NULL) {
        pthread_mutex_lock(&s->down_mu);
        snprintf(err, errlen, "database %s cannot be reached: %s", base->path, s->down_msg);
        pthread_mutex_unlock(&s->down_mu);
        return AP_EUNAVAIL;
    }
    e = ap_db_query_int(c, "SELECT 1", NULL, 0, &n);
    if (e != AP_OK)
        snprintf(err, errlen, "database %s cannot be %s: %s", base->path,
                 e == AP_EUNAVAIL ? "reached" : "read", ap_db_errmsg(c));
    ap_store_release(c);
    return e;
}

/* One small write; its outcome is noted by the statement layer like any
 * other write's. Skipped when the write connection is taken: that
 * writer's outcome will be noted. */
void ap_db_pg_probe_write(struct ap_store *base)
{
    struct ap_db_conn *c = base->writer;
    enum ap_err e;

    if (pthread_mutex_trylock(&base->write_mu) != 0)
        return;
    c->probing = true;
    e = ap_db_begin(c);
    if (e == AP_OK)
        e = ap_db_exec_script(c, PROBE);
    if (e == AP_OK)
        e = ap_db_commit(c);
    if (e != AP_OK) /* the outcome itself is recorded by the failing statement */
        ap_db_rollback(c);
    c->probing = false;
    c->errmsg[0] = '\0';
    pthread_mutex_unlock(&base->write_mu);
}

/*
 * pg.c — the PostgreSQL backend of store.h: opening a database from a
 * postgres:// URL, the write connection and the pool of read connections,
 * sessions opened again after they were lost, and the backend's table
 * (ap_db_pg). Statements, cursors and transactions are in pg_stmt.c, health
 * in pg_health.c. These are the only files that include <libpq-fe.h>.
 *
 * The URL goes to libpq as it is (TLS, hosts, ports and the rest are libpq's
 * to read), after defaults the URL may override: a 5 s connect timeout, TCP
 * keepalives that notice a vanished server within ~30 s, and appointd as the
 * application name. Every session then sets lock_timeout (a lock waited for
 * longer fails with AP_EBUSY, like SQLite's busy timeout); read sessions set
 * default_transaction_read_only, so a write through one fails loudly.
 *
 * The URL keeps its password for libpq only: messages and logs name the
 * database by the URL with its password masked (ap_store_path).
 *
 * Lost sessions: a session found closed by the server (a restart, a
 * failover, pg_terminate_backend) is opened again at the next use, outside
 * a transaction; attempts are at most one per RECONNECT_GAP_NS per
 * connection, so a server that is down answers at once instead of making
 * every caller wait for a connect timeout.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/pg_int.h"

/* Least time between two attempts to open a lost session. */
#define RECONNECT_GAP_NS (1 * AP_NS_PER_S)
/* Oldest server spoken to: identity columns came with 10. */
#define PG_MIN_VERSION 100000

static void pg_close(struct ap_store *base);

/* libpq's message as one line: its messages end with a newline and may
 * carry a tabbed hint on the next line. */
static void one_line(const char *msg, char *out, size_t n)
{
    size_t at = 0;
    bool blank = false;

    for (const char *p = msg; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
            blank = at > 0;
            continue;
        }
        if (blank && at + 1 < n)
            out[at++] = ' ';
        blank = false;
        if (at + 1 < n)
            out[at++] = *p;
    }
    out[at] = '\0';
}

/* Runs setup SQL on a new session; false with libpq's reason in why. */
static bool setup_session(PGconn *pg, bool write, char *why, size_t n)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "SET lock_timeout = %d; SET bytea_output = hex; SET client_min_messages = warning%s",
             AP_DB_BUSY_TIMEOUT_MS, write ? "" : "; SET default_transaction_read_only = on");
    PGresult *res = PQexec(pg, sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

    if (!ok)
        one_line(PQresultErrorMessage(res), why, n);
    PQclear(res);
    return ok;
}

/* The server's warnings go to the log, not to stderr (libpq's default). */
static void on_notice(void *arg, const char *message)
{
    const struct pg_store *s = arg;
    char line[400], q[500];

    one_line(message, line, sizeof(line));
    ap_log_warn("db.notice", "path=%s message=%s", s->base.log_path,
                ap_log_quote(line, q, sizeof(q)));
}

/* A new session to s's database; NULL with the reason in why. */
static PGconn *connect_session(struct pg_store *s, bool write, char *why, size_t n)
{
    /* Defaults first: the URL (expanded from dbname) overrides them. */
    static const char *const keys[] = {"connect_timeout",
                                       "fallback_application_name",
                                       "keepalives_idle",
                                       "keepalives_interval",
                                       "keepalives_count",
                                       "dbname",
                                       NULL};
    const char *vals[] = {"5", "appointd", "10", "5", "4", s->url, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);

    if (pg == NULL) {
        snprintf(why, n, "out of memory");
        return NULL;
    }
    if (PQstatus(pg) != CONNECTION_OK) {
        one_line(PQerrorMessage(pg), why, n);
        PQfinish(pg);
        return NULL;
    }
    if (PQserverVersion(pg) < PG_MIN_VERSION) {
        snprintf(why, n, "the server is PostgreSQL %d.%d; appointd needs 10 or newer",
                 PQserverVersion(pg) / 10000, PQserverVersion(pg) / 100 % 100);
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, on_notice, s);
    if (!setup_session(pg, write, why, n)) {
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

/* A connection (no session yet) of s. */
static struct pg_conn *conn_new(struct pg_store *s, bool write)
{
    struct pg_conn *c = ap_xcalloc(1, sizeof(*c));

    c->base.s = &s->base;
    c->base.write = write;
    return c;
}

void ap_db_pg_drop(struct pg_conn *c)
{
    ap_db_pg_cache_clear(c);
    if (c->pg != NULL)
        PQfinish(c->pg);
    c->pg = NULL;
}

static void conn_free(struct pg_conn *c)
{
    if (c == NULL)
        return;
    ap_db_pg_drop(c);
    free(c);
}

/* True when the server closed c's idle session: its socket has something to
 * read (the server's goodbye, or the end of the stream) and libpq then finds
 * the session bad. An idle session is never sent anything else. */
static bool closed_by_server(PGconn *pg)
{
    struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};

    if (p.fd < 0)
        return true;
    if (poll(&p, 1, 0) <= 0)
        return false;
    return PQconsumeInput(pg) == 0 || PQstatus(pg) != CONNECTION_OK;
}

enum ap_err ap_db_pg_ensure(struct pg_conn *c)
{
    struct pg_store *s = pg_store(c->base.s);
    char why[400], q[500];
    int64_t now;

    if (c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK && !closed_by_server(c->pg))
        return AP_OK;
    if (c->pg != NULL) {
        ap_log_warn("db.session_lost", "conn=%s path=%s", c->base.write ? "write" : "read",
                    s->base.log_path);
        ap_db_pg_drop(c);
    }
    now = ap_clock_mono_ns();
    if (c->down_at_ns != 0 && now - c->down_at_ns < RECONNECT_GAP_NS) {
        snprintf(c->base.errmsg, sizeof(c->base.errmsg), "cannot connect to database %s: %s",
                 s->base.path, c->down_msg);
        return AP_EUNAVAIL;
    }
    c->pg = connect_session(s, c->base.write, why, sizeof(why));
    if (c->pg != NULL) {
        if (c->down_at_ns != 0)
            ap_log_info("db.reconnected", "conn=%s path=%s", c->base.write ? "write" : "read",
                        s->base.log_path);
        c->down_at_ns = 0;
        return AP_OK;
    }
    c->down_at_ns = now;
    snprintf(c->down_msg, sizeof(c->down_msg), "%s", why);
    pthread_mutex_lock(&s->down_mu);
    snprintf(s->down_msg, sizeof(s->down_msg), "%s", why);
    pthread_mutex_unlock(&s->down_mu);
    snprintf(c->base.errmsg, sizeof(c->base.errmsg), "cannot connect to database %s: %s",
             s->base.path, why);
    ap_log_error("db.connect", "conn=%s path=%s error=%s", c->base.write ? "write" : "read",
                 s->base.log_path, ap_log_quote(why, q, sizeof(q)));
    return AP_EUNAVAIL;
}

struct ap_store *ap_db_pg_open(const char *url, const struct ap_store_opts *opts, char *err,
                               size_t errlen)
{
    struct pg_store *s = ap_xcalloc(1, sizeof(*s));
    char shown[1024], why[400];

    ap_db_store_init(&s->base, &ap_db_pg, ap_xstrdup(ap_conf_redact_url(url, shown, sizeof(shown))),
                     opts);
    s->url = ap_xstrdup(url);
    pthread_mutex_init(&s->down_mu, NULL);
    struct pg_conn *w = conn_new(s, true);
    s->base.writer = &w->base;
    w->pg = connect_session(s, true, why, sizeof(why));
    if (w->pg == NULL) {
        snprintf(err, errlen, "cannot connect to database %s: %s", s->base.path, why);
        pg_close(&s->base);
        return NULL;
    }
    ap_log_info("db.open", "path=%s backend=postgres server_version=%d tls=%s", s->base.log_path,
                PQserverVersion(w->pg), PQsslInUse(w->pg) ? "yes" : "no");
    return &s->base;
}

static void pg_close(struct ap_store *base)
{
    struct pg_store *s = pg_store(base);
    struct ap_db_conn *c;

    while ((c = ap_db_pool_drain(&base->readers, base->log_path)) != NULL)
        conn_free(pg_conn(c));
    if (base->writer != NULL)
        conn_free(pg_conn(base->writer));
    pthread_mutex_destroy(&s->down_mu);
    if (s->url != NULL)
        explicit_bzero(s->url, strlen(s->url));
    free(s->url);
    ap_db_store_cleanup(base);
    free(s);
}

/* A read connection without a session yet: pg_ready opens it. */
static struct ap_db_conn *pg_open_reader(struct ap_store *s, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    return &conn_new(pg_store(s), false)->base;
}

/* A lost session is opened again as its connection is acquired. */
static enum ap_err pg_ready(struct ap_db_conn *c)
{
    return ap_db_pg_in_transaction(c) ? AP_OK : ap_db_pg_ensure(pg_conn(c));
}

static bool pg_table_exists(struct ap_db_conn *c, const char *table)
{
    struct ap_db_val v = ap_db_text(table);
    int64_t n = 0;

    return ap_db_query_int(c,
                           "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = "
                           "current_schema() AND tablename = ?",
                           &v, 1, &n) == AP_OK &&
           n > 0;
}

/* Durable commits are the next transactions' (SET LOCAL in ap_db_begin). */
static enum ap_err pg_set_durable(struct ap_db_conn *c, bool on)
{
    pg_conn(c)->durable = on;
    return AP_OK;
}

/* Waits for the session lock that serialises migrations (per schema, so
 * stores side by side in one database do not wait for each other), polling
 * so that lock_timeout does not cut a long wait short. */
static enum ap_err pg_migrate_lock(struct ap_db_conn *c, bool on)
{
    static const char TRY[] =
        "SELECT pg_try_advisory_lock(" PG_LOCK_MIGRATE ", hashtext(current_schema()))";
    static const char UNLOCK[] =
        "SELECT pg_advisory_unlock(" PG_LOCK_MIGRATE ", hashtext(current_schema()))";
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 50 * AP_NS_PER_MS};
    int64_t got = 0;
    enum ap_err err;

    if (!on)
        return ap_db_query_int(c, UNLOCK, NULL, 0, &got);
    for (int i = 0;; i++) {
        err = ap_db_query_int(c, TRY, NULL, 0, &got);
        if (err != AP_OK || got != 0)
            return err;
        if (i == 0)
            ap_log_info("db.migrate_wait", "reason=\"another process is migrating\" path=%s",
                        c->s->log_path);
        nanosleep(&pause, NULL);
    }
}

static enum ap_err pg_lock_key(struct ap_db_conn *c, int64_t key)
{
    struct ap_db_val v = ap_db_int(key);

    return ap_db_exec(c, "SELECT pg_advisory_xact_lock(?)", &v, 1);
}

static enum ap_err pg_sync_identity(struct ap_db_conn *c, const char *table, const char *column)
{
    /* Names from appointd's own table list, never from input. */
    char *sql = ap_xasprintf("SELECT setval(pg_get_serial_sequence(?, ?), "
                             "COALESCE((SELECT max(%s) FROM %s), 0) + 1, false)",
                             column, table);
    struct ap_db_val v[] = {ap_db_text(table), ap_db_text(column)};
    enum ap_err err = ap_db_exec(c, sql, v, 2);

    free(sql);
    return err;
}

static bool pg_retryable(const struct ap_db_conn *c)
{
    return pg_cconn(c)->retryable;
}

/* lastval(): the last id a sequence handed out in this session, 0 if none. */
static int64_t pg_last_insert_id(struct ap_db_conn *base)
{
    struct pg_conn *c = pg_conn(base);
    PGresult *res;
    int64_t id = 0;

    if (c->pg == NULL)
        return 0;
    res = PQexec(c->pg, "SELECT lastval()");
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return id;
}

static int64_t pg_changes(struct ap_db_conn *c)
{
    return pg_conn(c)->changes;
}

const struct ap_db_backend ap_db_pg = {
    .name = "postgres",
    .close = pg_close,
    .open_reader = pg_open_reader,
    .ready = pg_ready,
    .check_read = ap_db_pg_check_read,
    .probe_write = ap_db_pg_probe_write,
    .exec = ap_db_pg_exec,
    .exec_script = ap_db_pg_exec_script,
    .query = ap_db_pg_query,
    .next = ap_db_pg_next,
    .done = ap_db_pg_done,
    .row_count = ap_db_pg_row_count,
    .row_name = ap_db_pg_row_name,
    .row_type = ap_db_pg_row_type,
    .row_int = ap_db_pg_row_int,
    .row_text = ap_db_pg_row_text,
    .row_blob = ap_db_pg_row_blob,
    .begin = ap_db_pg_begin,
    .commit = ap_db_pg_commit,
    .rollback = ap_db_pg_rollback,
    .in_transaction = ap_db_pg_in_transaction,
    .retryable = pg_retryable,
    .last_insert_id = pg_last_insert_id,
    .changes = pg_changes,
    .table_exists = pg_table_exists,
    .set_durable = pg_set_durable,
    .migrate_lock = pg_migrate_lock,
    .lock_key = pg_lock_key,
    .sync_identity = pg_sync_identity,
};

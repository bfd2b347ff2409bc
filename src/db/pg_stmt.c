/*
 * pg_stmt.c — statements on a PostgreSQL connection: the SQL PostgreSQL
 * runs (ap_db_sql_pg), prepared statements cached per connection by the
 * caller's SQL text, typed binds, cursors over complete results, and
 * transactions; the mapping of SQLSTATEs to enum ap_err; what to do when
 * the session is lost.
 *
 * Binds: integers go as text (the server reads them into whatever type the
 * placeholder has), text as text, blobs in binary. A statement is prepared
 * with the types of its first binds where they are certain (integers int8,
 * blobs bytea) and the rest left to the server; a placeholder whose type
 * the server cannot tell ("SELECT ?") is prepared again as text.
 *
 * Results are text, read whole: a cursor walks a complete result, so a
 * connection may hold several cursors at once. Booleans read as 0/1 (a
 * comparison in a select list), bytea is decoded for ap_db_row_blob().
 *
 * Messages: the server's primary message only, never its DETAIL (which
 * repeats the row's values); in data errors (class 22), whose primary
 * message quotes the bad value, quoted text is replaced.
 *
 * A lost session: outside a transaction, a read (any statement on a read
 * connection, a SELECT on the write connection) is sent once more on a new
 * session; a write is not (it may have been applied) and fails with
 * AP_EUNAVAIL. Inside a transaction the transaction is lost: every
 * statement fails at once with AP_EUNAVAIL until the caller rolls back, and
 * the failure is retryable (nothing of it was committed) — except at
 * COMMIT, whose outcome is then unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/pg_int.h"

/* Type OIDs fixed by PostgreSQL (pg_type.dat). */
#define OID_BOOL  16
#define OID_BYTEA 17
#define OID_INT8  20
#define OID_INT2  21
#define OID_INT4  23
#define OID_TEXT  25
#define OID_OID   26

/* ---- errors ------------------------------------------------------------------ */

static bool state_is(const char *st, const char *want)
{
    return st != NULL && strncmp(st, want, strlen(want)) == 0;
}

static enum ap_err map_state(const char *st)
{
    if (state_is(st, "23"))
        return AP_ECONFLICT; /* integrity: unique, foreign key, check, not null */
    if (state_is(st, "40001") || state_is(st, "40P01") || state_is(st, "55P03") ||
        state_is(st, "55006"))
        return AP_EBUSY; /* serialization, deadlock, lock timeout, object in use */
    if (state_is(st, "08") || state_is(st, "57P0") || state_is(st, "53300"))
        return AP_EUNAVAIL; /* connection, shutdown, too many connections */
    if (state_is(st, "25006") || state_is(st, "42501") || state_is(st, "28"))
        return AP_EPERM; /* read-only transaction, privileges, authorization */
    if (state_is(st, "22001") || state_is(st, "54"))
        return AP_ETOOBIG;
    if (state_is(st, "53") || state_is(st, "58"))
        return AP_EIO; /* disk full, out of memory, I/O */
    if (state_is(st, "XX001") || state_is(st, "XX002"))
        return AP_ECORRUPT;
    if (state_is(st, "57014"))
        return AP_ETIMEOUT; /* statement_timeout */
    return AP_EINTERNAL;
}

/* Failures that undid the statement or transaction and may pass at once. */
static bool state_retryable(const char *st)
{
    return state_is(st, "40001") || state_is(st, "40P01");
}

/* msg as one line, with text in double quotes replaced when redact (the
 * server quotes the offending value in data errors). */
static void clean_msg(const char *msg, bool redact, char *out, size_t n)
{
    size_t at = 0;
    bool quoted = false;

    for (const char *p = msg; *p != '\0' && at + 12 < n; p++) {
        char ch = *p == '\n' || *p == '\t' || *p == '\r' ? ' ' : *p;

        if (redact && ch == '"') {
            quoted = !quoted;
            if (quoted) {
                memcpy(out + at, "(a value)", 9);
                at += 9;
            }
            continue;
        }
        if (!quoted)
            out[at++] = ch;
    }
    while (at > 0 && out[at - 1] == ' ')
        at--;
    out[at] = '\0';
}

static bool verb_is(const char *sql, const char *verb)
{
    size_t n = strlen(verb);

    sql += strspn(sql, " \t\r\n");
    return strncasecmp(sql, verb, n) == 0 && (sql[n] == '\0' || strchr(" \t\r\n;", sql[n]));
}

/* May sql be sent again after the session was lost under it, outside a
 * transaction? Reads only: it may have been applied. */
static bool resendable(const struct pg_conn *c, const char *sql)
{
    return !c->base.write || verb_is(sql, "SELECT") || verb_is(sql, "SHOW") ||
           verb_is(sql, "BEGIN");
}

/* Did the session go away under res? */
static bool session_lost(const struct pg_conn *c, const PGresult *res)
{
    const char *st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    return c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK || state_is(st, "08") ||
           state_is(st, "57P0");
}

static bool in_tx(const struct pg_conn *c)
{
    if (c->tx_lost)
        return true;
    if (c->pg == NULL)
        return false;
    PGTransactionStatusType t = PQtransactionStatus(c->pg);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* A write on the write connection that says the database cannot be written. */
static bool unwritable(enum ap_err e)
{
    return e == AP_EUNAVAIL || e == AP_EIO || e == AP_EPERM || e == AP_ECORRUPT;
}

/*
 * Records the failed result res of sql (NULL: no result) and returns its
 * error. lost: the session went away; tx: it happened inside a transaction.
 */
static enum ap_err fail_result(struct pg_conn *c, const char *sql, const PGresult *res, bool lost,
                               bool tx)
{
    const char *st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[400];
    enum ap_err e = lost ? AP_EUNAVAIL : map_state(st);

    if (primary == NULL)
        primary = c->pg != NULL ? PQerrorMessage(c->pg) : "no connection to the database";
    if (primary[0] == '\0')
        primary = "the connection to the database was lost";
    clean_msg(primary, state_is(st, "22"), msg, sizeof(msg));
    snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", st != NULL ? st : "");
    if (lost) {
        bool commit = verb_is(sql, "COMMIT");

        c->retryable = tx ? !commit : resendable(c, sql);
        c->tx_lost = tx && !commit;
        ap_db_pg_drop(c);
        if (commit)
            ap_log_error("db.commit_unknown",
                         "path=%s reason=\"the connection was lost while COMMIT was on its way: "
                         "the transaction may or may not be stored\"",
                         c->base.s->log_path);
    } else {
        c->retryable = state_retryable(st);
    }
    if (tx)
        c->tx_err = e;
    if (c->base.write && unwritable(e))
        ap_db_note_write(c->base.s, e, msg);
    return ap_db_fail(&c->base, e, sql, msg);
}

/* ---- prepared statements --------------------------------------------------------- */

void ap_db_pg_cache_clear(struct pg_conn *c)
{
    for (size_t b = 0; b < PG_CACHE_BUCKETS; b++) {
        while (c->cache[b] != NULL) {
            struct pg_stmt *e = c->cache[b];

            c->cache[b] = e->next;
            free(e->sql);
            free(e);
        }
    }
    c->ncached = 0;
}

static struct pg_stmt *cache_find(struct pg_conn *c, const char *sql)
{
    for (struct pg_stmt *e = c->cache[ap_db_sql_hash(sql, PG_CACHE_BUCKETS)]; e != NULL;
         e = e->next)
        if (strcmp(e->sql, sql) == 0)
            return e;
    return NULL;
}

/* Prepares pgsql as name with the types the binds make certain; a second
 * time with text for the uncertain ones when the server cannot tell them. */
static PGresult *prepare(struct pg_conn *c, const char *name, const char *pgsql,
                         const struct ap_db_val *binds, int n)
{
    Oid types[AP_DB_MAX_BINDS];
    PGresult *res;

    for (int i = 0; i < n; i++)
        types[i] = binds[i].type == AP_DB_INT    ? OID_INT8
                   : binds[i].type == AP_DB_BLOB ? OID_BYTEA
                                                 : 0;
    res = PQprepare(c->pg, name, pgsql, n, types);
    if (PQresultStatus(res) == PGRES_COMMAND_OK ||
        !state_is(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42P18"))
        return res;
    PQclear(res);
    for (int i = 0; i < n; i++)
        types[i] = types[i] == 0 ? OID_TEXT : types[i];
    return PQprepare(c->pg, name, pgsql, n, types);
}

/*
 * The prepared statement for sql on c: cached, or prepared now (and cached
 * while there is room; else prepared unnamed, for this one call). NULL with
 * *res the failed result, or with *res NULL and the failure recorded.
 */
static const struct pg_stmt *stmt_get(struct pg_conn *c, const char *sql,
                                      const struct ap_db_val *binds, size_t n, struct pg_stmt *tmp,
                                      PGresult **res)
{
    struct pg_stmt *e = cache_find(c, sql);
    struct ap_buf pgsql;
    char msg[128];
    int nparams = 0;

    *res = NULL;
    if (e != NULL && e->nparams == (int)n)
        return e;
    ap_buf_init(&pgsql, AP_DB_VALUE_MAX);
    if (ap_db_sql_pg(sql, &pgsql, &nparams) != AP_OK || nparams != (int)n || n > AP_DB_MAX_BINDS) {
        snprintf(msg, sizeof(msg), "statement has %d placeholders but %zu values were bound",
                 nparams, n);
        ap_buf_cleanup(&pgsql);
        ap_db_fail(&c->base, AP_EINTERNAL, sql, msg);
        return NULL;
    }
    bool keep = c->ncached < PG_CACHE_MAX;
    memset(tmp, 0, sizeof(*tmp));
    if (keep)
        snprintf(tmp->name, sizeof(tmp->name), "ap%llu", (unsigned long long)++c->next_id);
    tmp->nparams = nparams;
    *res = prepare(c, tmp->name, pgsql.data, binds, nparams);
    ap_buf_cleanup(&pgsql);
    if (PQresultStatus(*res) != PGRES_COMMAND_OK)
        return NULL;
    PQclear(*res);
    *res = NULL;
    if (!keep)
        return tmp;
    e = ap_xmalloc(sizeof(*e));
    *e = *tmp;
    e->sql = ap_xstrdup(sql);
    e->next = c->cache[ap_db_sql_hash(sql, PG_CACHE_BUCKETS)];
    c->cache[ap_db_sql_hash(sql, PG_CACHE_BUCKETS)] = e;
    c->ncached++;
    return e;
}

/* ---- binds and execution ------------------------------------------------------------ */

struct params {
    const char *values[AP_DB_MAX_BINDS];
    int lengths[AP_DB_MAX_BINDS];
    int formats[AP_DB_MAX_BINDS];
    char ints[AP_DB_MAX_BINDS][24];
    char *texts[AP_DB_MAX_BINDS]; /* NUL-terminated copies, owned */
};

static void params_free(struct params *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p->texts[i]);
}

/* Fills p from binds; on error the failure is recorded and returned. */
static enum ap_err params_fill(struct pg_conn *c, const char *sql, struct params *p,
                               const struct ap_db_val *binds, size_t n)
{
    char msg[128];

    memset(p->texts, 0, sizeof(p->texts));
    for (size_t i = 0; i < n; i++) {
        const struct ap_db_val *v = &binds[i];

        p->values[i] = NULL;
        p->lengths[i] = 0;
        p->formats[i] = 0;
        if ((v->type == AP_DB_TEXT || v->type == AP_DB_BLOB) && v->len > AP_DB_VALUE_MAX) {
            snprintf(msg, sizeof(msg), "value %zu is %zu bytes, more than the %zu allowed", i + 1,
                     v->len, AP_DB_VALUE_MAX);
            return ap_db_fail(&c->base, AP_ETOOBIG, sql, msg);
        }
        switch (v->type) {
        case AP_DB_NULL:
            break;
        case AP_DB_INT:
            snprintf(p->ints[i], sizeof(p->ints[i]), "%lld", (long long)v->i);
            p->values[i] = p->ints[i];
            break;
        case AP_DB_TEXT:
            if (v->len > 0 && memchr(v->p, '\0', v->len) != NULL) {
                snprintf(msg, sizeof(msg), "text value %zu holds a NUL byte", i + 1);
                return ap_db_fail(&c->base, AP_EINTERNAL, sql, msg);
            }
            p->texts[i] = ap_xstrndup(v->len > 0 ? v->p : "", v->len);
            p->values[i] = p->texts[i];
            break;
        case AP_DB_BLOB:
            p->values[i] = v->len > 0 ? v->p : "";
            p->lengths[i] = (int)v->len;
            p->formats[i] = 1;
            break;
        }
    }
    return AP_OK;
}

/* Statements that go as they are, without binds, in the simple protocol. */
static bool simple(const char *sql, size_t n)
{
    static const char *const verbs[] = {"BEGIN",   "COMMIT", "ROLLBACK", "SAVEPOINT",
                                        "RELEASE", "SET",    "SHOW"};

    if (n > 0)
        return false;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (verb_is(sql, verbs[i]))
            return true;
    return false;
}

/* Sends sql once: *res its result (maybe a failure), or NULL with the
 * failure recorded and returned. */
static enum ap_err send_once(struct pg_conn *c, const char *sql, const struct ap_db_val *binds,
                             size_t n, bool script, PGresult **res)
{
    struct pg_stmt tmp;
    struct params p;
    enum ap_err err;

    *res = NULL;
    if (script || simple(sql, n)) {
        struct ap_buf pgsql;
        int nparams = 0;

        ap_buf_init(&pgsql, AP_DB_VALUE_MAX);
        err = ap_db_sql_pg(sql, &pgsql, &nparams);
        if (err == AP_OK && nparams > 0)
            err = ap_db_fail(&c->base, AP_EINTERNAL, sql, "a script takes no placeholders");
        if (err == AP_OK)
            *res = PQexec(c->pg, pgsql.data);
        ap_buf_cleanup(&pgsql);
        return err;
    }
    const struct pg_stmt *st = stmt_get(c, sql, binds, n, &tmp, res);
    if (st == NULL)
        return *res != NULL ? AP_OK : AP_EINTERNAL;
    err = params_fill(c, sql, &p, binds, n);
    if (err == AP_OK)
        *res = PQexecPrepared(c->pg, st->name, (int)n, p.values, p.lengths, p.formats, 0);
    params_free(&p, n);
    return err;
}

/* After a statement succeeded: rows changed, and a write noted. */
static void succeeded(struct pg_conn *c, const PGresult *res, bool tx)
{
    c->changes = strtoll(PQcmdTuples((PGresult *)res), NULL, 10);
    if (!c->base.write || c->changes <= 0)
        return;
    if (tx)
        c->tx_changes += c->changes;
    else
        ap_db_note_write(c->base.s, AP_OK, NULL);
}

/*
 * Runs sql (a script when script) on c: AP_OK with *out the result (the
 * caller clears it), or the failure recorded and returned.
 */
static enum ap_err run(struct pg_conn *c, const char *sql, const struct ap_db_val *binds, size_t n,
                       bool script, PGresult **out)
{
    bool tx = in_tx(c);
    enum ap_err err;

    *out = NULL;
    c->base.errmsg[0] = '\0';
    c->sqlstate[0] = '\0';
    c->retryable = false;
    if (c->tx_lost) {
        c->retryable = true;
        return ap_db_fail(&c->base, AP_EUNAVAIL, sql,
                          "the connection to the database was lost in this transaction; roll "
                          "back");
    }
    for (int tried = 0;; tried++) {
        PGresult *res = NULL;

        if (!tx && ap_db_pg_ensure(c) != AP_OK) {
            char msg[sizeof(c->base.errmsg)];

            snprintf(msg, sizeof(msg), "%s", c->base.errmsg);
            c->retryable = true; /* nothing was sent */
            if (c->base.write)
                ap_db_note_write(c->base.s, AP_EUNAVAIL, msg);
            return ap_db_fail(&c->base, AP_EUNAVAIL, sql, msg);
        }
        err = send_once(c, sql, binds, n, script, &res);
        if (err != AP_OK)
            return err;
        ExecStatusType st = PQresultStatus(res);
        if (res != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
            succeeded(c, res, tx);
            *out = res;
            return AP_OK;
        }
        bool lost = session_lost(c, res);
        if (lost && !tx && tried == 0 && resendable(c, sql)) {
            PQclear(res);
            ap_log_warn("db.session_lost", "conn=%s path=%s resend=yes",
                        c->base.write ? "write" : "read", c->base.s->log_path);
            ap_db_pg_drop(c);
            continue;
        }
        err = fail_result(c, sql, res, lost, tx);
        PQclear(res);
        return err;
    }
}

enum ap_err ap_db_pg_exec(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                          size_t nbinds)
{
    PGresult *res = NULL;
    enum ap_err err = run(pg_conn(c), sql, binds, nbinds, false, &res);

    PQclear(res);
    return err;
}

enum ap_err ap_db_pg_exec_script(struct ap_db_conn *c, const char *sql)
{
    PGresult *res = NULL;
    enum ap_err err = run(pg_conn(c), sql, NULL, 0, true, &res);

    PQclear(res);
    return err;
}

/* ---- cursors ---------------------------------------------------------------------- */

enum ap_err ap_db_pg_query(struct ap_db_conn *c, const char *sql, const struct ap_db_val *binds,
                           size_t nbinds, struct ap_db_rows **out)
{
    PGresult *res = NULL;
    enum ap_err err = run(pg_conn(c), sql, binds, nbinds, false, &res);
    struct pg_rows *r;

    *out = NULL;
    if (err != AP_OK)
        return err;
    r = ap_xcalloc(1, sizeof(*r));
    r->base.c = c;
    r->res = res;
    r->row = -1;
    r->nrows = PQntuples(res);
    c->ncursors++;
    *out = &r->base;
    return AP_OK;
}

static struct pg_rows *rows(struct ap_db_rows *r)
{
    return (struct pg_rows *)r;
}

bool ap_db_pg_next(struct ap_db_rows *base)
{
    struct pg_rows *r = rows(base);

    if (r->row + 1 >= r->nrows) {
        r->row = r->nrows;
        return false;
    }
    r->row++;
    return true;
}

enum ap_err ap_db_pg_done(struct ap_db_rows *base)
{
    struct pg_rows *r = rows(base);
    enum ap_err err = r->err;

    PQclear(r->res);
    free(r->blob);
    base->c->ncursors--;
    free(r);
    return err;
}

/* Is there a current row with column col? */
static bool cell_ok(const struct pg_rows *r, int col)
{
    return r->row >= 0 && r->row < r->nrows && col >= 0 && col < PQnfields(r->res);
}

int ap_db_pg_row_count(const struct ap_db_rows *base)
{
    return PQnfields(((const struct pg_rows *)base)->res);
}

const char *ap_db_pg_row_name(struct ap_db_rows *base, int col)
{
    struct pg_rows *r = rows(base);
    const char *name = col >= 0 && col < PQnfields(r->res) ? PQfname(r->res, col) : NULL;

    return name != NULL ? name : "";
}

enum ap_db_type ap_db_pg_row_type(struct ap_db_rows *base, int col)
{
    struct pg_rows *r = rows(base);

    if (!cell_ok(r, col) || PQgetisnull(r->res, r->row, col))
        return AP_DB_NULL;
    switch (PQftype(r->res, col)) {
    case OID_BOOL:
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        return AP_DB_INT;
    case OID_BYTEA:
        return AP_DB_BLOB;
    default:
        return AP_DB_TEXT;
    }
}

int64_t ap_db_pg_row_int(struct ap_db_rows *base, int col)
{
    struct pg_rows *r = rows(base);

    if (!cell_ok(r, col) || PQgetisnull(r->res, r->row, col))
        return 0;
    const char *v = PQgetvalue(r->res, r->row, col);
    if (PQftype(r->res, col) == OID_BOOL)
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

const char *ap_db_pg_row_text(struct ap_db_rows *base, int col)
{
    struct pg_rows *r = rows(base);

    if (!cell_ok(r, col) || PQgetisnull(r->res, r->row, col))
        return NULL;
    const char *v = PQgetvalue(r->res, r->row, col);
    if (PQftype(r->res, col) == OID_BOOL)
        return v[0] == 't' ? "1" : "0";
    return v;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* bytea's text form ("\x0aff..."; sessions set bytea_output = hex) as bytes
 * in a new buffer (never NULL); *len their count. */
static unsigned char *hex_decode(const char *v, size_t *len)
{
    size_t n = strlen(v);
    unsigned char *out;

    if (n >= 2 && v[0] == '\\' && v[1] == 'x') {
        v += 2;
        n -= 2;
    }
    out = ap_xmalloc(n / 2 + 1);
    *len = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        int hi = hex_digit(v[i]), lo = hex_digit(v[i + 1]);

        if (hi < 0 || lo < 0)
            break;
        out[(*len)++] = (unsigned char)(hi << 4 | lo);
    }
    return out;
}

const void *ap_db_pg_row_blob(struct ap_db_rows *base, int col, size_t *len)
{
    struct pg_rows *r = rows(base);

    *len = 0;
    if (!cell_ok(r, col) || PQgetisnull(r->res, r->row, col))
        return NULL;
    if (PQftype(r->res, col) != OID_BYTEA) {
        *len = (size_t)PQgetlength(r->res, r->row, col);
        return PQgetvalue(r->res, r->row, col);
    }
    free(r->blob);
    r->blob = hex_decode(PQgetvalue(r->res, r->row, col), len);
    return r->blob;
}

/* ---- transactions -------------------------------------------------------------------- */

enum ap_err ap_db_pg_begin(struct ap_db_conn *base)
{
    struct pg_conn *c = pg_conn(base);
    PGresult *res = NULL;
    const char *sql = !base->write ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                      : c->durable ? "BEGIN; SET LOCAL synchronous_commit = on"
                                   : "BEGIN";
    enum ap_err err;

    if (in_tx(c))
        return ap_db_fail(base, AP_EINTERNAL, "BEGIN", "a transaction is already open");
    err = run(c, sql, NULL, 0, false, &res);
    PQclear(res);
    c->tx_changes = 0;
    c->tx_err = AP_OK;
    return err;
}

enum ap_err ap_db_pg_commit(struct ap_db_conn *base)
{
    struct pg_conn *c = pg_conn(base);
    PGresult *res = NULL;
    enum ap_err err;

    if (c->tx_lost) {
        c->tx_lost = false;
        c->retryable = true;
        return ap_db_fail(base, AP_EUNAVAIL, "COMMIT",
                          "the connection to the database was lost during the transaction; "
                          "nothing of it was stored");
    }
    if (!in_tx(c))
        return ap_db_fail(base, AP_EINTERNAL, "COMMIT", "no transaction is open");
    enum ap_err earlier = c->tx_err;
    err = run(c, "COMMIT", NULL, 0, false, &res);
    if (err == AP_OK && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        /* A statement of the transaction had failed: the server undid it all. */
        err = ap_db_fail(base, earlier != AP_OK ? earlier : AP_EINTERNAL, "COMMIT",
                         "the transaction was rolled back: a statement in it had failed");
    } else if (err == AP_OK && base->write && c->tx_changes > 0) {
        ap_db_note_write(base->s, AP_OK, NULL);
    }
    PQclear(res);
    if (err != AP_OK)
        ap_db_pg_rollback(base);
    return err;
}

enum ap_err ap_db_pg_rollback(struct ap_db_conn *base)
{
    struct pg_conn *c = pg_conn(base);
    char keep[sizeof(base->errmsg)], state[sizeof(c->sqlstate)];
    bool retryable = c->retryable;
    PGresult *res = NULL;
    enum ap_err err;

    if (c->tx_lost) { /* the server rolled it back when the session went */
        c->tx_lost = false;
        return AP_OK;
    }
    if (!in_tx(c))
        return AP_OK;
    /* Rolling back follows a failure whose account the caller still wants. */
    memcpy(keep, base->errmsg, sizeof(keep));
    memcpy(state, c->sqlstate, sizeof(state));
    err = run(c, "ROLLBACK", NULL, 0, false, &res);
    PQclear(res);
    if (c->tx_lost) { /* lost on the way: rolled back all the same */
        c->tx_lost = false;
        err = AP_OK;
    }
    if (err == AP_OK) {
        memcpy(base->errmsg, keep, sizeof(keep));
        memcpy(c->sqlstate, state, sizeof(state));
        c->retryable = retryable;
    }
    return err;
}

bool ap_db_pg_in_transaction(const struct ap_db_conn *c)
{
    return in_tx(pg_cconn(c));
}

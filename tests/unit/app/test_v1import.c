/*
 * test_v1import.c — unit tests of the V1-era import (src/app/v1import*.c):
 * the CSV splitter on RFC 4180 quoting and its refusals, whole-file parsing
 * of CSV and JSON lines with bad rows reported by line and never quoting a
 * key, format detection, and the import into a real store — accounts
 * created, rows in v1_migration_required with the tenant unconfirmed and the
 * key sealed, re-runs idempotent, changed keys re-sealed, V2 connections
 * never downgraded — plus the migration-status view.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/fms.h"
#include "core/buf.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "db/store.h"

/* ---- ap_fms_v1_csv_split ------------------------------------------------- */

struct split {
    enum ap_err err;
    size_t n;
    char *f[8];
    char buf[256];
    char why[200];
};

static void split(const char *line, struct split *s)
{
    memset(s, 0, sizeof(*s));
    s->err = ap_fms_v1_csv_split(line, strlen(line), s->buf, sizeof(s->buf), s->f, 8, &s->n, s->why,
                                 sizeof(s->why));
}

static void test_split_plain_and_quoted(void **state)
{
    (void)state;
    struct split s;
    split("Acme Heating,1234567,abc-def", &s);
    assert_int_equal(s.err, AP_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.f[0], "Acme Heating");
    assert_string_equal(s.f[1], "1234567");
    assert_string_equal(s.f[2], "abc-def");

    split("\"Smith, Jones & Co\",\"12\",\"say \"\"hi\"\"\"", &s);
    assert_int_equal(s.err, AP_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.f[0], "Smith, Jones & Co");
    assert_string_equal(s.f[1], "12");
    assert_string_equal(s.f[2], "say \"hi\"");

    /* blanks around values go, blanks inside quotes stay; empty fields count */
    split("  a  , \" b \" ,,", &s);
    assert_int_equal(s.err, AP_OK);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.f[0], "a");
    assert_string_equal(s.f[1], " b ");
    assert_string_equal(s.f[2], "");
    assert_string_equal(s.f[3], "");

    split("", &s);
    assert_int_equal(s.err, AP_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.f[0], "");

    split("\"\"", &s);
    assert_int_equal(s.err, AP_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.f[0], "");
}

static void test_split_refuses_bad_quotes(void **state)
{
    (void)state;
    struct split s;
    split("a,\"open ended,3", &s);
    assert_int_equal(s.err, AP_EPARSE);
    assert_non_null(strstr(s.why, "field 2"));
    assert_non_null(strstr(s.why, "not closed"));

    split("\"closed\"trailing,2,3", &s);
    assert_int_equal(s.err, AP_EPARSE);
    assert_non_null(strstr(s.why, "field 1"));
    assert_non_null(strstr(s.why, "after its closing quote"));

    split("a,b\"c,3", &s);
    assert_int_equal(s.err, AP_EPARSE);
    assert_non_null(strstr(s.why, "field 2"));

    split("a,b,c,d,e,f,g,h,i", &s);
    assert_int_equal(s.err, AP_ETOOBIG);

    char nul[] = "a,b\0c";
    memset(&s, 0, sizeof(s));
    s.err = ap_fms_v1_csv_split(nul, 5, s.buf, sizeof(s.buf), s.f, 8, &s.n, s.why, sizeof(s.why));
    assert_int_equal(s.err, AP_EPARSE);
    assert_non_null(strstr(s.why, "NUL"));

    /* the reason never quotes the line (it may hold a key) */
    split("acct,1,\"SECRET-KEY-XYZ", &s);
    assert_int_equal(s.err, AP_EPARSE);
    assert_null(strstr(s.why, "SECRET"));

    /* too small a buffer is the caller's bug */
    memset(&s, 0, sizeof(s));
    assert_int_equal(ap_fms_v1_csv_split("abc", 3, s.buf, 3, s.f, 8, &s.n, s.why, sizeof(s.why)),
                     AP_EINTERNAL);
}

/* ---- ap_fms_v1_parse ---------------------------------------------------------- */

struct parsed {
    enum ap_err err;
    struct ap_fms_v1_row *rows;
    size_t n;
    int bad;
    struct ap_buf report;
};

static void parse(const char *text, bool json, struct parsed *p)
{
    memset(p, 0, sizeof(*p));
    ap_buf_init(&p->report, 1 << 20);
    p->err = ap_fms_v1_parse(text, strlen(text), json, &p->rows, &p->n, &p->bad, &p->report);
}

static void parsed_free(struct parsed *p)
{
    free(p->rows);
    ap_buf_cleanup(&p->report);
}

static const char *report_of(struct parsed *p)
{
    return p->report.data ? p->report.data : "";
}

static void test_parse_csv_good_and_bad_rows(void **state)
{
    (void)state;
    char toolong[AP_FMS_V1_LINE_MAX + 64];
    memset(toolong, 'x', sizeof(toolong) - 1);
    toolong[sizeof(toolong) - 1] = '\0';
    memcpy(toolong, "Long,1,", 7);
    char *text = NULL;
    assert_true(asprintf(&text,
                         "\xef\xbb\xbfV1_API_KEY, Account ,tenant_id\r\n" /* 1: BOM, any order */
                         "k-1111,Acme Heating,1234567\r\n"                /* 2 good */
                         "\r\n"                                           /* 3 blank */
                         "k-2222,\"Smith, Jones & Co\",7654321\n"         /* 4 good */
                         "k-3333,Bad Tenant,12ab\n"                       /* 5 */
                         "k-4444,,55\n"                                   /* 6 */
                         ",No Key,66\n"                                   /* 7 */
                         "\"k-5555,Broken Quote,77\n"                     /* 8 */
                         "%s\n"                                           /* 9 too long */
                         "k-6666,Zero,0\n"                                /* 10 */
                         "k-7777,Acme Heating,1234567\n"                  /* 11 dup */
                         "k-8888,Short\n"                                 /* 12 */
                         "k-9999,Last,99",                                /* 13 good, no \n */
                         toolong) > 0);
    struct parsed p;
    parse(text, false, &p);
    assert_int_equal(p.err, AP_OK);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.bad, 8);
    assert_int_equal(p.rows[0].line, 2);
    assert_string_equal(p.rows[0].account, "Acme Heating");
    assert_int_equal(p.rows[0].tenant_id, 1234567);
    assert_string_equal(p.rows[0].v1_key, "k-1111");
    assert_string_equal(p.rows[1].account, "Smith, Jones & Co");
    assert_int_equal(p.rows[1].line, 4);
    assert_int_equal(p.rows[2].line, 13);
    assert_int_equal(p.rows[2].tenant_id, 99);
    const char *r = report_of(&p);
    static const char *const expect[] = {
        "line 5: the tenant id is not a positive whole number; skipped\n",
        "line 6: the account name is empty; skipped\n",
        "line 7: the V1 API key is missing; skipped\n",
        "line 8: field 1 has a quote that is not closed",
        "line 9: the line is longer than 2048 bytes; skipped\n",
        "line 10: the tenant id is not a positive whole number; skipped\n",
        "line 11: account \"Acme Heating\" appears again (first on line 2); skipped\n",
        "line 12: the line has 2 fields but the header has 3; skipped\n",
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        if (!strstr(r, expect[i]))
            fail_msg("report lacks \"%s\":\n%s", expect[i], r);
    /* no key of any row, good or bad, is in the report */
    for (char k = '1'; k <= '9'; k++) {
        char key[8];
        snprintf(key, sizeof(key), "k-%c%c%c%c", k, k, k, k);
        assert_null(strstr(r, key));
    }
    assert_null(strstr(r, "line 3"));
    parsed_free(&p);
    free(text);
}

static void test_parse_csv_header_problems(void **state)
{
    (void)state;
    struct parsed p;
    parse("account,tenant,v1_api_key\nAcme,1,k\n", false, &p);
    assert_int_equal(p.err, AP_EINVAL);
    assert_non_null(strstr(report_of(&p), "line 1: the header has no column tenant_id"));
    assert_int_equal(p.n, 0);
    parsed_free(&p);

    parse("\n\naccount,tenant_id,v1_api_key,account\n", false, &p);
    assert_int_equal(p.err, AP_EINVAL);
    assert_non_null(strstr(report_of(&p), "line 3: the header names column account twice"));
    parsed_free(&p);

    parse("  \n", false, &p);
    assert_int_equal(p.err, AP_EINVAL);
    assert_non_null(strstr(report_of(&p), "empty"));
    parsed_free(&p);

    /* extra columns are fine; a header alone imports nothing */
    parse("note,account,tenant_id,v1_api_key\n", false, &p);
    assert_int_equal(p.err, AP_OK);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.bad, 0);
    parsed_free(&p);
}

static void test_parse_csv_values(void **state)
{
    (void)state;
    struct parsed p;
    char longname[AP_FMS_V1_ACCOUNT_MAX + 2], longkey[AP_FMS_V1_KEY_MAX + 2], *text = NULL;
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_true(asprintf(&text,
                         "account,tenant_id,v1_api_key\n"
                         "%s,1,k\n"                       /* 2: 101 characters */
                         "%.100s,2,k\n"                   /* 3: 100: good */
                         "Caf\xc3\xa9 \xe2\x98\x95,3,k\n" /* 4: UTF-8, 6 characters: good */
                         "Bad\xff,4,k\n"                  /* 5: not UTF-8 */
                         "Tab\tIn,5,k\n"                  /* 6: control character */
                         "Big,9007199254740992,k\n"       /* 7: 2^53 */
                         "Max,9007199254740991,k\n"       /* 8: good */
                         "Neg,-5,k\n"                     /* 9 */
                         "LongKey,9,%s\n"                 /* 10: 201 */
                         "OkKey,9,%.200s\n"               /* 11: 200 good */
                         "CtlKey,9,\"a\tb\"\n",           /* 12 */
                         longname, longname, longkey, longkey) > 0);
    parse(text, false, &p);
    assert_int_equal(p.err, AP_OK);
    const char *r = report_of(&p);
    assert_non_null(strstr(r, "line 2: the account name is longer than 100 characters"));
    assert_non_null(strstr(r, "line 5: the account name has a control character or is not UTF-8"));
    assert_non_null(strstr(r, "line 6: the account name has a control character"));
    assert_non_null(strstr(r, "line 7: the tenant id is too large"));
    assert_non_null(strstr(r, "line 9: the tenant id is not a positive whole number"));
    assert_non_null(strstr(r, "line 10: the V1 API key is longer than 200 characters"));
    assert_non_null(strstr(r, "line 12: the V1 API key has a character that is not printable"));
    assert_int_equal(p.bad, 7);
    assert_int_equal(p.n, 4);
    assert_int_equal(p.rows[0].line, 3);
    assert_string_equal(p.rows[1].account, "Caf\xc3\xa9 \xe2\x98\x95");
    assert_int_equal(p.rows[2].tenant_id, 9007199254740991LL);
    assert_int_equal(strlen(p.rows[3].v1_key), 200);
    parsed_free(&p);
    free(text);
}

static void test_parse_json_lines(void **state)
{
    (void)state;
    struct parsed p;
    parse("{\"account\":\"Acme\",\"tenantId\":1234567,\"v1ApiKey\":\"j-1111\"}\n"        /* 1 */
          "\n"                                                                           /* 2 */
          "{\"account\":\"Beta\",\"tenantId\":\"42\",\"v1ApiKey\":\"j-2222\",\"x\":1}\n" /* 3 */
          "{\"account\":\"Gamma\",\"tenantId\":0,\"v1ApiKey\":\"j-3333\"}\n"             /* 4 */
          "{\"account\":\"Delta\",\"tenantId\":1.5,\"v1ApiKey\":\"j-4444\"}\n"           /* 5 */
          "{\"account\":\"Eps\",\"tenantId\":5,\"v1ApiKey\":j-5555}\n"                   /* 6 */
          "[1,2]\n"                                                                      /* 7 */
          "{\"account\":\"Zeta\",\"tenantId\":6}\n"                                      /* 8 */
          "{\"account\":7,\"tenantId\":6,\"v1ApiKey\":\"j-6666\"}\n"                     /* 9 */
          "{\"account\":\"Eta\",\"tenantId\":-3,\"v1ApiKey\":\"j-7777\"}\n",             /* 10 */
          true, &p);
    assert_int_equal(p.err, AP_OK);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.rows[0].account, "Acme");
    assert_int_equal(p.rows[0].tenant_id, 1234567);
    assert_string_equal(p.rows[0].v1_key, "j-1111");
    assert_int_equal(p.rows[1].line, 3);
    assert_int_equal(p.rows[1].tenant_id, 42);
    assert_int_equal(p.bad, 7);
    const char *r = report_of(&p);
    assert_non_null(strstr(r, "line 4: the tenant id is not a positive whole number"));
    assert_non_null(strstr(r, "line 5: tenantId must be a whole number"));
    assert_non_null(strstr(r, "line 6: malformed JSON at column"));
    assert_non_null(strstr(r, "line 7: the line is not a JSON object"));
    assert_non_null(strstr(r, "line 8: the V1 API key is missing"));
    assert_non_null(strstr(r, "line 9: account must be a string"));
    assert_non_null(strstr(r, "line 10: the tenant id is not a positive whole number"));
    assert_null(strstr(r, "j-5555"));
    assert_null(strstr(r, "j-"));
    parsed_free(&p);
}

static void test_is_json_lines(void **state)
{
    (void)state;
    assert_true(ap_fms_v1_is_json_lines("x.jsonl", "account,", 8));
    assert_true(ap_fms_v1_is_json_lines("X.NDJSON", "", 0));
    assert_false(ap_fms_v1_is_json_lines("x.csv", "{", 1));
    assert_true(ap_fms_v1_is_json_lines("x.txt", "\xef\xbb\xbf \n {\"a\":1}", 13));
    assert_false(ap_fms_v1_is_json_lines("x.txt", "account,tenant_id", 17));
    assert_false(ap_fms_v1_is_json_lines(NULL, "", 0));
}

static void test_parse_too_big(void **state)
{
    (void)state;
    struct ap_buf rep;
    struct ap_fms_v1_row *rows = (void *)1;
    size_t n = 1;
    int bad = 1;
    ap_buf_init(&rep, 4096);
    assert_int_equal(ap_fms_v1_parse("", AP_FMS_V1_FILE_MAX + 1, false, &rows, &n, &bad, &rep),
                     AP_ETOOBIG);
    assert_null(rows);
    assert_int_equal(n, 0);
    ap_buf_cleanup(&rep);
}

/* ---- the import into a store --------------------------------------------------- */

struct fx {
    char dir[64];
    struct ap_store *st;
    struct ap_crypto_key *key;
    struct ap_fms f;
    struct ap_buf report;
};

static int setup_store(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    char err[256];
    int applied = 0;
    strcpy(x->dir, "/tmp/ap-v1import-XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    x->st = ap_store_open(x->dir, err, sizeof(err));
    assert_non_null(x->st);
    assert_int_equal(
        ap_store_migrate(x->st, ap_db_migrations, ap_db_nmigrations, &applied, err, sizeof(err)),
        AP_OK);
    assert_int_equal(ap_crypto_init(), AP_OK);
    x->key = ap_crypto_key_new_random();
    x->f.store = x->st;
    x->f.key = x->key;
    x->f.environment = "integration";
    ap_buf_init(&x->report, 1 << 20);
    *state = x;
    return 0;
}

static int teardown_store(void **state)
{
    struct fx *x = *state;
    char cmd[128];
    ap_buf_cleanup(&x->report);
    ap_crypto_key_free(x->key);
    ap_store_close(x->st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
    assert_int_equal(system(cmd), 0);
    free(x);
    return 0;
}

static enum ap_err import(struct fx *x, const char *text, bool json, struct ap_fms_v1_summary *s)
{
    ap_buf_reset(&x->report);
    return ap_fms_import_v1_text(&x->f, text, strlen(text), json, s, &x->report);
}

/* The account's connection row (as text columns), or false when none. */
struct conn {
    char state[32];
    int64_t tenant;
    int confirmed;
    char sealed[512];
    char updated[40];
};

static bool read_conn(struct fx *x, const char *name, struct conn *out)
{
    struct ap_account a;
    if (ap_account_find(x->st, name, &a) != AP_OK)
        return false;
    struct ap_db_conn *c = ap_store_acquire(x->st, false);
    struct ap_db_rows *r = NULL;
    struct ap_db_val v = ap_db_int(a.id);
    bool found = false;
    assert_int_equal(ap_db_query(c,
                                 "SELECT state, tenant_id, tenant_confirmed, "
                                 "COALESCE(v1_key_sealed, ''), updated_at "
                                 "FROM fms_connections WHERE account_id = ?",
                                 &v, 1, &r),
                     AP_OK);
    if (ap_db_next(r)) {
        found = true;
        snprintf(out->state, sizeof(out->state), "%s", ap_db_row_text(r, 0));
        out->tenant = ap_db_row_int(r, 1);
        out->confirmed = (int)ap_db_row_int(r, 2);
        snprintf(out->sealed, sizeof(out->sealed), "%s", ap_db_row_text(r, 3));
        snprintf(out->updated, sizeof(out->updated), "%s", ap_db_row_text(r, 4));
    }
    assert_int_equal(ap_db_done(r), AP_OK);
    ap_store_release(c);
    return found;
}

/* The V1 key the row holds, opened with its context. */
static void assert_key(struct fx *x, const char *name, const char *sealed, const char *want)
{
    struct ap_account a;
    char ctx[64];
    void *plain = NULL;
    size_t n = 0;
    assert_int_equal(ap_account_find(x->st, name, &a), AP_OK);
    snprintf(ctx, sizeof(ctx), "fms.v1_key:acct=%lld", (long long)a.id);
    assert_int_equal(ap_crypto_open(x->key, sealed, ctx, &plain, &n), AP_OK);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(plain, want, n);
    free(plain);
}

static void exec_sql(struct fx *x, const char *sql, int64_t id)
{
    struct ap_db_conn *c = ap_store_acquire(x->st, true);
    struct ap_db_val v = ap_db_int(id);
    assert_int_equal(ap_db_exec(c, sql, &v, 1), AP_OK);
    ap_store_release(c);
}

static const char FILE1[] = "account,tenant_id,v1_api_key\n"
                            "Acme Heating,1234567,V1KEY-AAAA\n"
                            "Bad Row,abc,V1KEY-BBBB\n"
                            "Beta Plumbing,7654321,V1KEY-CCCC\n";

static void test_import_creates_rows(void **state)
{
    struct fx *x = *state;
    struct ap_fms_v1_summary s;
    struct conn c;
    assert_int_equal(import(x, FILE1, false, &s), AP_OK);
    assert_int_equal(s.imported, 2);
    assert_int_equal(s.changed, 2);
    assert_int_equal(s.accounts_created, 2);
    assert_int_equal(s.skipped, 1);
    assert_non_null(strstr(x->report.data, "line 3: the tenant id"));
    assert_true(read_conn(x, "Acme Heating", &c));
    assert_string_equal(c.state, "v1_migration_required");
    assert_int_equal(c.tenant, 1234567);
    assert_int_equal(c.confirmed, 0);
    assert_null(strstr(c.sealed, "V1KEY"));
    assert_key(x, "Acme Heating", c.sealed, "V1KEY-AAAA");
    assert_true(read_conn(x, "Beta Plumbing", &c));
    assert_key(x, "Beta Plumbing", c.sealed, "V1KEY-CCCC");
    struct ap_account a;
    assert_int_equal(ap_account_find(x->st, "Bad Row", &a), AP_ENOTFOUND);
}

static void test_import_rerun_is_idempotent(void **state)
{
    struct fx *x = *state;
    struct ap_fms_v1_summary s;
    struct conn before, after;
    assert_int_equal(import(x, FILE1, false, &s), AP_OK);
    assert_true(read_conn(x, "Acme Heating", &before));
    assert_int_equal(import(x, FILE1, false, &s), AP_OK);
    assert_int_equal(s.imported, 2);
    assert_int_equal(s.changed, 0);
    assert_int_equal(s.unchanged, 2);
    assert_int_equal(s.accounts_created, 0);
    assert_true(read_conn(x, "Acme Heating", &after));
    assert_string_equal(after.sealed, before.sealed);
    assert_string_equal(after.updated, before.updated);
    json_t *ms = ap_fms_migration_status(x->st);
    assert_int_equal(json_array_size(json_object_get(ms, "accounts")), 2);
    json_decref(ms);

    /* a changed key re-seals; a changed tenant replaces the unconfirmed one */
    assert_int_equal(import(x,
                            "account,tenant_id,v1_api_key\n"
                            "Acme Heating,1234567,V1KEY-NEW1\n"
                            "Beta Plumbing,999,V1KEY-CCCC\n",
                            false, &s),
                     AP_OK);
    assert_int_equal(s.changed, 2);
    assert_true(read_conn(x, "Acme Heating", &after));
    assert_string_not_equal(after.sealed, before.sealed);
    assert_key(x, "Acme Heating", after.sealed, "V1KEY-NEW1");
    assert_true(read_conn(x, "Beta Plumbing", &after));
    assert_int_equal(after.tenant, 999);
}

static void test_import_never_downgrades_v2(void **state)
{
    struct fx *x = *state;
    struct ap_fms_v1_summary s;
    struct ap_account a, b, c;
    struct conn row;
    char err[200];
    assert_int_equal(ap_account_create(x->st, "Live", &a, err, sizeof(err)), AP_OK);
    assert_int_equal(ap_account_create(x->st, "Started", &b, err, sizeof(err)), AP_OK);
    assert_int_equal(ap_account_create(x->st, "Confirmed", &c, err, sizeof(err)), AP_OK);
    exec_sql(x,
             "INSERT INTO fms_connections (account_id, state, environment, tenant_id, client_id, "
             "connected_at, updated_at) VALUES (?, 'connected', 'integration', 555, 'cid.x', "
             "'2026-01-01T00:00:00.000Z', 'now')",
             a.id);
    exec_sql(x,
             "INSERT INTO fms_connections (account_id, state, environment, tenant_id, updated_at) "
             "VALUES (?, 'awaiting_app_access', 'integration', 556, 'now')",
             b.id);
    exec_sql(x,
             "INSERT INTO fms_connections (account_id, state, environment, tenant_id, "
             "tenant_confirmed, updated_at) VALUES (?, 'v1_migration_required', 'integration', "
             "557, 1, 'now')",
             c.id);
    assert_int_equal(import(x,
                            "account,tenant_id,v1_api_key\n"
                            "Live,555,V1KEY-LIVE\n"
                            "Started,556,V1KEY-STARTED\n"
                            "Confirmed,999,V1KEY-CONF\n"
                            "New One,1,V1KEY-NEWONE\n",
                            false, &s),
                     AP_OK);
    assert_int_equal(s.imported, 1);
    assert_int_equal(s.skipped, 3);
    const char *r = x->report.data;
    assert_non_null(strstr(r, "line 2: account \"Live\" is already connected to V2; skipped"));
    assert_non_null(strstr(r, "line 3: account \"Started\" has started connecting to V2"));
    assert_non_null(strstr(r, "line 4: account \"Confirmed\" already confirmed Tenant ID 557"));
    assert_null(strstr(r, "V1KEY"));
    assert_true(read_conn(x, "Live", &row));
    assert_string_equal(row.state, "connected");
    assert_string_equal(row.sealed, "");
    assert_true(read_conn(x, "Started", &row));
    assert_string_equal(row.state, "awaiting_app_access");

    /* the confirmed tenant may get its key, and stays confirmed */
    assert_int_equal(
        import(x, "account,tenant_id,v1_api_key\nConfirmed,557,V1KEY-CONF\n", false, &s), AP_OK);
    assert_int_equal(s.changed, 1);
    assert_true(read_conn(x, "Confirmed", &row));
    assert_int_equal(row.confirmed, 1);
    assert_key(x, "Confirmed", row.sealed, "V1KEY-CONF");
}

static void test_migration_status(void **state)
{
    struct fx *x = *state;
    struct ap_fms_v1_summary s;
    struct ap_account a;
    char err[200];
    assert_int_equal(ap_account_create(x->st, "Aaa No Row", &a, err, sizeof(err)), AP_OK);
    assert_int_equal(import(x,
                            "{\"account\":\"Zed\",\"tenantId\":77,\"v1ApiKey\":\"k\"}\n"
                            "{\"account\":\"Mid\",\"tenantId\":\"78\",\"v1ApiKey\":\"k\"}\n",
                            true, &s),
                     AP_OK);
    json_t *ms = ap_fms_migration_status(x->st);
    assert_non_null(ms);
    json_t *counts = json_object_get(ms, "counts");
    assert_int_equal(json_object_size(counts), 6);
    assert_int_equal(json_integer_value(json_object_get(counts, "none")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "v1_migration_required")), 2);
    assert_int_equal(json_integer_value(json_object_get(counts, "connected")), 0);
    json_t *list = json_object_get(ms, "accounts");
    assert_int_equal(json_array_size(list), 3);
    json_t *first = json_array_get(list, 0), *mid = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(first, "account")), "Aaa No Row");
    assert_string_equal(json_string_value(json_object_get(first, "state")), "none");
    assert_true(json_is_null(json_object_get(first, "tenantId")));
    assert_string_equal(json_string_value(json_object_get(mid, "account")), "Mid");
    assert_int_equal(json_integer_value(json_object_get(mid, "tenantId")), 78);
    assert_true(json_is_false(json_object_get(mid, "tenantConfirmed")));
    assert_true(json_is_null(json_object_get(mid, "connectedAt")));
    json_decref(ms);
}

static void test_import_file_errors(void **state)
{
    struct fx *x = *state;
    struct ap_fms_v1_summary sum = {.imported = -1};
    char *report = NULL;
    assert_int_equal(ap_fms_import_v1_file(&x->f, "/nonexistent/v1.csv", &sum, &report),
                     AP_ENOTFOUND);
    assert_non_null(strstr(report, "cannot open /nonexistent/v1.csv"));
    assert_int_equal(sum.imported, 0);
    free(report);

    char path[128];
    snprintf(path, sizeof(path), "%s/v1.ndjson", x->dir);
    FILE *fp = fopen(path, "w");
    fputs("{\"account\":\"File\",\"tenantId\":5,\"v1ApiKey\":\"k\"}\nnope\n", fp);
    fclose(fp);
    assert_int_equal(ap_fms_import_v1_file(&x->f, path, &sum, &report), AP_OK);
    assert_int_equal(sum.imported, 1);
    assert_int_equal(sum.skipped, 1);
    assert_non_null(strstr(report, "line 2: malformed JSON"));
    free(report);
}

int main(void)
{
    ap_log_set_level(AP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_plain_and_quoted),
        cmocka_unit_test(test_split_refuses_bad_quotes),
        cmocka_unit_test(test_parse_csv_good_and_bad_rows),
        cmocka_unit_test(test_parse_csv_header_problems),
        cmocka_unit_test(test_parse_csv_values),
        cmocka_unit_test(test_parse_json_lines),
        cmocka_unit_test(test_is_json_lines),
        cmocka_unit_test(test_parse_too_big),
        cmocka_unit_test_setup_teardown(test_import_creates_rows, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_import_rerun_is_idempotent, setup_store,
                                        teardown_store),
        cmocka_unit_test_setup_teardown(test_import_never_downgrades_v2, setup_store,
                                        teardown_store),
        cmocka_unit_test_setup_teardown(test_migration_status, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_import_file_errors, setup_store, teardown_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

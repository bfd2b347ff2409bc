/*
 * v1import.c — bringing V1-era accounts over: the `appointd import-v1` file
 * (CSV or JSON lines of account name, ServiceTitan Tenant ID and V1 API key)
 * becomes accounts in v1_migration_required with the Tenant ID pre-filled but
 * unconfirmed and the V1 key sealed; and `appointd migration-status`, the
 * operator's view of every account's connection state.
 *
 * Parsing is pure (no I/O) so the unit tests and the fuzz target can drive
 * it with any bytes. The CSV reader is our own, small and strict: one record
 * per line (no column of this file may hold a line break, so a quote left
 * open cannot swallow the rest of the file), RFC 4180 quoting within a line,
 * a hard limit on line length. Nothing here ever writes a V1 key into a
 * report or a log: problems are described, values are not quoted (except the
 * account name, once it has been checked to be printable).
 */
#include "app/fms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"

static const char *const state_names[] = {
    "none",      "tenant_set",      "awaiting_app_access",
    "connected", "needs_attention", "v1_migration_required",
};
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

/* ---- checking values ------------------------------------------------------ */

/*
 * Code points of the UTF-8 string s, or -1 when it is not valid UTF-8 or
 * holds a control character (C0, DEL, C1).
 */
static long printable_utf8_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long count = 0;
    while (*p) {
        unsigned c = *p, cp, extra;
        if (c < 0x80) {
            cp = c, extra = 0;
        } else if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1f, extra = 1;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0f, extra = 2;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07, extra = 3;
        } else {
            return -1;
        }
        for (unsigned i = 1; i <= extra; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        static const unsigned min_cp[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return -1;
        p += extra + 1;
        count++;
    }
    return count;
}

static bool check_account(const char *s, char *why, size_t whylen)
{
    long len = printable_utf8_len(s);
    if (len == 0)
        snprintf(why, whylen, "the account name is empty");
    else if (len < 0)
        snprintf(why, whylen, "the account name has a control character or is not UTF-8");
    else if (len > AP_FMS_V1_ACCOUNT_MAX)
        snprintf(why, whylen, "the account name is longer than %d characters",
                 AP_FMS_V1_ACCOUNT_MAX);
    else
        return true;
    return false;
}

static bool check_tenant(const char *s, int64_t *out, char *why, size_t whylen)
{
    size_t n = strlen(s);
    if (n == 0) {
        snprintf(why, whylen, "the tenant id is missing");
        return false;
    }
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            snprintf(why, whylen, "the tenant id is not a positive whole number");
            return false;
        }
        v = v * 10 + (s[i] - '0');
        if (v > AP_FMS_V1_TENANT_MAX) {
            snprintf(why, whylen, "the tenant id is too large");
            return false;
        }
    }
    if (v == 0) {
        snprintf(why, whylen, "the tenant id is not a positive whole number");
        return false;
    }
    *out = v;
    return true;
}

static bool check_key(const char *s, char *why, size_t whylen)
{
    size_t n = strlen(s);
    if (n == 0) {
        snprintf(why, whylen, "the V1 API key is missing");
        return false;
    }
    if (n > AP_FMS_V1_KEY_MAX) {
        snprintf(why, whylen, "the V1 API key is longer than %d characters", AP_FMS_V1_KEY_MAX);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            snprintf(why, whylen, "the V1 API key has a character that is not printable ASCII");
            return false;
        }
    }
    return true;
}

/* Fills out from the three texts, or says why not. */
static bool check_row(const char *account, const char *tenant, const char *key,
                      struct ap_fms_v1_row *out, char *why, size_t whylen)
{
    if (!check_account(account, why, whylen) ||
        !check_tenant(tenant, &out->tenant_id, why, whylen) || !check_key(key, why, whylen))
        return false;
    snprintf(out->account, sizeof(out->account), "%s", account);
    snprintf(out->v1_key, sizeof(out->v1_key), "%s", key);
    return true;
}

/* ---- CSV ------------------------------------------------------------------- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* One quoted field starting at line[*i] == '"'; appends its text to buf at *o. */
static enum ap_err csv_quoted(const char *line, size_t n, size_t *i, char *buf, size_t *o,
                              size_t field, char *why, size_t whylen)
{
    size_t j = *i + 1;
    for (;;) {
        if (j >= n) {
            snprintf(why, whylen,
                     "field %zu has a quote that is not closed on this line (a quoted field must "
                     "end with a quote on the same line)",
                     field);
            return AP_EPARSE;
        }
        if (line[j] == '"') {
            if (j + 1 < n && line[j + 1] == '"') {
                buf[(*o)++] = '"';
                j += 2;
                continue;
            }
            j++;
            break;
        }
        buf[(*o)++] = line[j++];
    }
    while (j < n && is_blank(line[j]))
        j++;
    if (j < n && line[j] != ',') {
        snprintf(why, whylen,
                 "field %zu has text after its closing quote (write a quote inside a quoted field "
                 "as \"\")",
                 field);
        return AP_EPARSE;
    }
    *i = j;
    return AP_OK;
}

/* One unquoted field from line[*i]: up to the next ',', blanks trimmed. */
static enum ap_err csv_plain(const char *line, size_t n, size_t *i, char *buf, size_t *o,
                             size_t field, char *why, size_t whylen)
{
    size_t j = *i, start = *o;
    for (; j < n && line[j] != ','; j++) {
        if (line[j] == '"') {
            snprintf(why, whylen,
                     "field %zu has a quote inside an unquoted value (quote the whole field and "
                     "write the quote as \"\")",
                     field);
            return AP_EPARSE;
        }
        buf[(*o)++] = line[j];
    }
    while (*o > start && is_blank(buf[*o - 1]))
        (*o)--;
    *i = j;
    return AP_OK;
}

enum ap_err ap_fms_v1_csv_split(const char *line, size_t n, char *buf, size_t buflen, char **fields,
                                size_t max_fields, size_t *nfields, char *why, size_t whylen)
{
    *nfields = 0;
    if (buflen < n + 1)
        return AP_EINTERNAL;
    if (memchr(line, '\0', n)) {
        snprintf(why, whylen, "the line has a NUL byte");
        return AP_EPARSE;
    }
    size_t i = 0, o = 0;
    for (;;) {
        if (*nfields == max_fields) {
            snprintf(why, whylen, "the line has more than %zu fields", max_fields);
            return AP_ETOOBIG;
        }
        while (i < n && is_blank(line[i]))
            i++;
        fields[(*nfields)++] = buf + o;
        size_t field = *nfields;
        enum ap_err err = i < n && line[i] == '"'
                              ? csv_quoted(line, n, &i, buf, &o, field, why, whylen)
                              : csv_plain(line, n, &i, buf, &o, field, why, whylen);
        if (err)
            return err;
        buf[o++] = '\0';
        if (i >= n)
            return AP_OK;
        i++; /* the ',' */
    }
}

/* ---- lines and rows ---------------------------------------------------------- */

struct lines {
    const char *p, *end;
    int no;
};

/* The next physical line without its "\n" or "\r\n"; false at the end. */
static bool next_line(struct lines *it, const char **line, size_t *len)
{
    if (it->p >= it->end)
        return false;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *e = nl ? nl : it->end;
    *line = it->p;
    *len = (size_t)(e - it->p);
    if (*len > 0 && (*line)[*len - 1] == '\r')
        (*len)--;
    it->p = nl ? nl + 1 : it->end;
    it->no++;
    return true;
}

static bool blank_line(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_blank(line[i]))
            return false;
    return true;
}

/* What the parser collects: good rows, an index of their names, the report. */
struct collect {
    struct ap_fms_v1_row *rows;
    size_t n, cap;
    size_t *slots; /* open addressing: row index + 1, 0 = empty */
    size_t nslots;
    int bad;
    struct ap_buf *report;
};

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The slot holding name, or the empty slot where it goes. */
static size_t *find_slot(struct collect *c, const char *name)
{
    size_t mask = c->nslots - 1, i = (size_t)name_hash(name) & mask;
    while (c->slots[i] && strcmp(c->rows[c->slots[i] - 1].account, name) != 0)
        i = (i + 1) & mask;
    return &c->slots[i];
}

static void grow_index(struct collect *c)
{
    size_t *old = c->slots, nold = c->nslots;
    c->nslots = nold ? nold * 2 : 64;
    c->slots = ap_xcalloc(c->nslots, sizeof(*c->slots));
    for (size_t i = 0; i < nold; i++)
        if (old[i])
            *find_slot(c, c->rows[old[i] - 1].account) = old[i];
    free(old);
}

static void bad_row(struct collect *c, int line, const char *why)
{
    c->bad++;
    ap_buf_printf(c->report, "line %d: %s; skipped\n", line, why);
}

/* Keeps a checked row unless its account came earlier in the file. */
static void add_row(struct collect *c, const struct ap_fms_v1_row *r)
{
    if (2 * (c->n + 1) > c->nslots)
        grow_index(c);
    size_t *slot = find_slot(c, r->account);
    if (*slot) {
        c->bad++;
        ap_buf_printf(c->report,
                      "line %d: account \"%s\" appears again (first on line %d); skipped\n",
                      r->line, r->account, c->rows[*slot - 1].line);
        return;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->rows = ap_xrealloc(c->rows, c->cap * sizeof(*c->rows));
    }
    c->rows[c->n] = *r;
    *slot = ++c->n;
}

/* Where each needed column sits in a CSV record. */
struct csv_cols {
    int account, tenant, key;
    size_t count;
};

static enum ap_err csv_header(const char *line, size_t len, int no, struct csv_cols *cols,
                              struct ap_buf *report)
{
    char buf[AP_FMS_V1_LINE_MAX + 1], why[200];
    char *f[AP_FMS_V1_FIELDS_MAX];
    static const char *const want[] = {"account", "tenant_id", "v1_api_key"};
    int *where[] = {&cols->account, &cols->tenant, &cols->key};
    if (len > AP_FMS_V1_LINE_MAX) {
        ap_buf_printf(report, "line %d: the header is longer than %d bytes\n", no,
                      AP_FMS_V1_LINE_MAX);
        return AP_EINVAL;
    }
    if (ap_fms_v1_csv_split(line, len, buf, sizeof(buf), f, AP_FMS_V1_FIELDS_MAX, &cols->count, why,
                            sizeof(why))) {
        ap_buf_printf(report, "line %d: the header cannot be read: %s\n", no, why);
        return AP_EINVAL;
    }
    for (size_t w = 0; w < 3; w++) {
        *where[w] = -1;
        for (size_t i = 0; i < cols->count; i++) {
            if (strcasecmp(f[i], want[w]) != 0)
                continue;
            if (*where[w] >= 0) {
                ap_buf_printf(report, "line %d: the header names column %s twice\n", no, want[w]);
                return AP_EINVAL;
            }
            *where[w] = (int)i;
        }
        if (*where[w] < 0) {
            ap_buf_printf(report,
                          "line %d: the header has no column %s (the first line must name the "
                          "columns account,tenant_id,v1_api_key, in any order)\n",
                          no, want[w]);
            return AP_EINVAL;
        }
    }
    return AP_OK;
}

static void csv_row(struct collect *c, const struct csv_cols *cols, const char *line, size_t len,
                    int no)
{
    char buf[AP_FMS_V1_LINE_MAX + 1], why[200];
    char *f[AP_FMS_V1_FIELDS_MAX];
    size_t nf = 0;
    struct ap_fms_v1_row r = {.line = no};
    if (ap_fms_v1_csv_split(line, len, buf, sizeof(buf), f, AP_FMS_V1_FIELDS_MAX, &nf, why,
                            sizeof(why))) {
        bad_row(c, no, why);
        return;
    }
    if (nf != cols->count) {
        snprintf(why, sizeof(why), "the line has %zu fields but the header has %zu", nf,
                 cols->count);
        bad_row(c, no, why);
        return;
    }
    if (!check_row(f[cols->account], f[cols->tenant], f[cols->key], &r, why, sizeof(why))) {
        bad_row(c, no, why);
        return;
    }
    add_row(c, &r);
}

/* ---- JSON lines ---------------------------------------------------------------- */

/*
 * The text of member key of obj: a string (borrowed), or a whole number
 * written into num (when number_ok); "" when absent. NULL (why set) when it
 * has another type.
 */
static const char *json_text(json_t *obj, const char *key, bool number_ok, char num[32], char *why,
                             size_t whylen)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return "";
    if (json_is_string(v))
        return json_string_value(v);
    if (number_ok && json_is_integer(v)) {
        long long i = (long long)json_integer_value(v);
        snprintf(num, 32, i > 0 ? "%lld" : "-", i);
        return num;
    }
    snprintf(why, whylen, "%s must be %s", key,
             number_ok ? "a whole number or a string of digits" : "a string");
    return NULL;
}

static void json_row(struct collect *c, const char *line, size_t len, int no)
{
    char why[200], num[32];
    const char *account, *tenant, *key;
    struct ap_json_error je;
    json_t *obj = NULL;
    struct ap_fms_v1_row r = {.line = no};
    /* the parser's own message may quote the bad text, which may be a key */
    enum ap_err err = ap_json_parse_body(line, len, AP_JSON_OBJECT, &obj, &je);
    if (err == AP_EINVAL && strcmp(je.code, "not_an_object") == 0) {
        bad_row(c, no, "the line is not a JSON object");
        return;
    }
    if (err) {
        snprintf(why, sizeof(why), "malformed JSON at column %d", je.column);
        bad_row(c, no, why);
        return;
    }
    if (!(account = json_text(obj, "account", false, num, why, sizeof(why))) ||
        !(tenant = json_text(obj, "tenantId", true, num, why, sizeof(why))) ||
        !(key = json_text(obj, "v1ApiKey", false, num, why, sizeof(why))) ||
        !check_row(account, tenant, key, &r, why, sizeof(why)))
        bad_row(c, no, why);
    else
        add_row(c, &r);
    json_decref(obj);
}

/* ---- the whole file -------------------------------------------------------------- */

bool ap_fms_v1_is_json_lines(const char *path, const char *text, size_t n)
{
    static const char *const json_ext[] = {".jsonl", ".ndjson", ".json"};
    size_t plen = path ? strlen(path) : 0;
    for (size_t i = 0; i < 3; i++) {
        size_t el = strlen(json_ext[i]);
        if (plen > el && strcasecmp(path + plen - el, json_ext[i]) == 0)
            return true;
    }
    if (plen > 4 && strcasecmp(path + plen - 4, ".csv") == 0)
        return false;
    size_t i = (n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) ? 3 : 0;
    while (i < n && (is_blank(text[i]) || text[i] == '\r' || text[i] == '\n'))
        i++;
    return i < n && text[i] == '{';
}

/* Goes through the lines; false when the CSV header is unusable. */
static bool parse_lines(struct collect *c, const char *text, size_t n, bool json_lines)
{
    struct lines it = {text, text + n, 0};
    struct csv_cols cols = {0};
    bool have_header = json_lines;
    const char *line;
    size_t len;
    if (n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        it.p += 3; /* a spreadsheet's byte-order mark */
    while (next_line(&it, &line, &len)) {
        if (blank_line(line, len))
            continue;
        if (!have_header) {
            if (csv_header(line, len, it.no, &cols, c->report))
                return false;
            have_header = true;
        } else if (c->n + (size_t)c->bad >= AP_FMS_V1_ROWS_MAX) {
            c->bad++;
            ap_buf_printf(c->report,
                          "line %d: the file has more than %d rows; this line and "
                          "the rest were not read\n",
                          it.no, AP_FMS_V1_ROWS_MAX);
            break;
        } else if (len > AP_FMS_V1_LINE_MAX) {
            char why[80];
            snprintf(why, sizeof(why), "the line is longer than %d bytes", AP_FMS_V1_LINE_MAX);
            bad_row(c, it.no, why);
        } else if (json_lines) {
            json_row(c, line, len, it.no);
        } else {
            csv_row(c, &cols, line, len, it.no);
        }
    }
    if (!have_header) {
        ap_buf_printf(c->report, "the file is empty: the first line must name the columns "
                                 "account,tenant_id,v1_api_key\n");
        return false;
    }
    return true;
}

enum ap_err ap_fms_v1_parse(const char *text, size_t n, bool json_lines,
                            struct ap_fms_v1_row **rows, size_t *nrows, int *bad,
                            struct ap_buf *report)
{
    struct collect c = {.report = report};
    *rows = NULL;
    *nrows = 0;
    *bad = 0;
    if (n > AP_FMS_V1_FILE_MAX) {
        ap_buf_printf(report, "the file is larger than %zu MiB\n", AP_FMS_V1_FILE_MAX >> 20);
        return AP_ETOOBIG;
    }
    bool ok = parse_lines(&c, text, n, json_lines);
    free(c.slots);
    if (!ok) {
        ap_crypto_wipe(c.rows, c.n * sizeof(*c.rows));
        free(c.rows);
        return AP_EINVAL;
    }
    *rows = c.rows;
    *nrows = c.n;
    *bad = c.bad;
    return AP_OK;
}

/* ---- writing rows ------------------------------------------------------------------- */

/* The connection row as the import finds it. */
struct existing {
    bool found;
    char state[32];
    int64_t tenant_id; /* 0: none */
    bool confirmed;
    char *sealed; /* v1_key_sealed, malloc'd, NULL when none */
};

static enum ap_err read_existing(struct ap_db_conn *c, int64_t acct, struct existing *ex)
{
    struct ap_db_rows *r = NULL;
    struct ap_db_val v = ap_db_int(acct);
    enum ap_err err = ap_db_query(c,
                                  "SELECT state, tenant_id, tenant_confirmed, v1_key_sealed "
                                  "FROM fms_connections WHERE account_id = ?",
                                  &v, 1, &r);
    if (err)
        return err;
    if (ap_db_next(r)) {
        ex->found = true;
        snprintf(ex->state, sizeof(ex->state), "%s", ap_db_row_text(r, 0));
        ex->tenant_id = ap_db_row_int(r, 1);
        ex->confirmed = ap_db_row_int(r, 2) != 0;
        ex->sealed = ap_xstrdup(ap_db_row_text(r, 3));
    }
    return ap_db_done(r);
}

static bool same_key(const struct ap_fms *f, const char *sealed, const char *ctx, const char *key)
{
    void *plain = NULL;
    size_t n = 0;
    if (!sealed || ap_crypto_open(f->key, sealed, ctx, &plain, &n) != AP_OK)
        return false;
    bool same = n == strlen(key) && ap_crypto_equal(plain, key, n);
    ap_crypto_wipe(plain, n);
    free(plain);
    return same;
}

enum outcome { OUT_CHANGED, OUT_UNCHANGED, OUT_REFUSED };

/* Whether the account's state lets the import touch it; why when not. */
static bool may_import(const struct existing *ex, const struct ap_fms_v1_row *r, char *why,
                       size_t whylen)
{
    if (!ex->found || !strcmp(ex->state, "none"))
        return true;
    if (!strcmp(ex->state, "connected") || !strcmp(ex->state, "needs_attention")) {
        snprintf(why, whylen, "account \"%s\" is already connected to V2", r->account);
        return false;
    }
    if (strcmp(ex->state, "v1_migration_required") != 0) {
        snprintf(why, whylen, "account \"%s\" has started connecting to V2 (state %s)", r->account,
                 ex->state);
        return false;
    }
    if (ex->confirmed && ex->tenant_id != r->tenant_id) {
        snprintf(why, whylen, "account \"%s\" already confirmed Tenant ID %lld; the file says %lld",
                 r->account, (long long)ex->tenant_id, (long long)r->tenant_id);
        return false;
    }
    return true;
}

/* Inserts or updates the connection row (sealing the key anew). */
static enum ap_err write_row(struct ap_fms *f, struct ap_db_conn *c, int64_t acct,
                             const struct existing *ex, const struct ap_fms_v1_row *r,
                             const char *ctx)
{
    char *sealed = NULL, now[32];
    enum ap_err err = ap_crypto_seal(f->key, r->v1_key, strlen(r->v1_key), ctx, &sealed);
    if (err)
        return err;
    ap_clock_format_utc(ap_clock_real_ns(), now);
    const char *env = f->environment ? f->environment : "integration";
    /* a confirmed tenant stays confirmed: may_import() let only the same one through */
    bool confirmed = ex->found && ex->confirmed && !strcmp(ex->state, "v1_migration_required");
    struct ap_db_val v[] = {ap_db_text(env),    ap_db_int(r->tenant_id), ap_db_int(confirmed),
                            ap_db_text(sealed), ap_db_text(now),         ap_db_int(acct)};
    if (ex->found)
        err = ap_db_exec(c,
                         "UPDATE fms_connections SET state = 'v1_migration_required', "
                         "environment = ?, tenant_id = ?, tenant_confirmed = ?, "
                         "v1_key_sealed = ?, updated_at = ? WHERE account_id = ?",
                         v, 6);
    else
        err = ap_db_exec(c,
                         "INSERT INTO fms_connections (environment, tenant_id, tenant_confirmed, "
                         "v1_key_sealed, updated_at, account_id, state) "
                         "VALUES (?, ?, ?, ?, ?, ?, 'v1_migration_required')",
                         v, 6);
    free(sealed);
    return err;
}

/* One row's connection, in one transaction. */
static enum ap_err apply_row(struct ap_fms *f, int64_t acct, const struct ap_fms_v1_row *r,
                             enum outcome *out, char *why, size_t whylen)
{
    struct existing ex = {0};
    char ctx[64];
    snprintf(ctx, sizeof(ctx), "fms.v1_key:acct=%lld", (long long)acct);
    struct ap_db_conn *c = ap_store_acquire(f->store, true);
    if (!c)
        return AP_EUNAVAIL;
    enum ap_err err = ap_db_begin(c);
    if (err)
        goto out;
    if ((err = read_existing(c, acct, &ex)))
        goto out;
    if (!may_import(&ex, r, why, whylen)) {
        *out = OUT_REFUSED;
    } else if (ex.found && !strcmp(ex.state, "v1_migration_required") &&
               ex.tenant_id == r->tenant_id && same_key(f, ex.sealed, ctx, r->v1_key)) {
        *out = OUT_UNCHANGED;
    } else {
        *out = OUT_CHANGED;
        err = write_row(f, c, acct, &ex, r, ctx);
    }
    if (!err)
        err = ap_db_commit(c);
out:
    if (err) {
        snprintf(why, whylen, "cannot save: %s",
                 ap_db_errmsg(c)[0] ? ap_db_errmsg(c) : ap_err_str(err));
        ap_db_rollback(c);
    }
    ap_store_release(c);
    free(ex.sealed);
    return err;
}

/* Finds or creates the row's account; AP_EINVAL/AP_ECONFLICT: the row is bad (why). */
static enum ap_err row_account(struct ap_fms *f, const struct ap_fms_v1_row *r,
                               struct ap_account *a, bool *created, char *why, size_t whylen)
{
    char msg[200] = "";
    *created = false;
    enum ap_err err = ap_account_find(f->store, r->account, a);
    if (err != AP_ENOTFOUND) {
        if (err)
            snprintf(why, whylen, "cannot look up account \"%s\": %s", r->account, ap_err_str(err));
        return err;
    }
    err = ap_account_create(f->store, r->account, a, msg, sizeof(msg));
    if (err)
        snprintf(why, whylen, "cannot create account \"%s\": %s", r->account,
                 msg[0] ? msg : ap_err_str(err));
    else
        *created = true;
    return err;
}

/* One good row; AP_OK unless storage failed (then why says so). */
static enum ap_err import_row(struct ap_fms *f, const struct ap_fms_v1_row *r,
                              struct ap_fms_v1_summary *s, struct ap_buf *report)
{
    struct ap_account a;
    char why[1024] = "";
    bool created = false;
    enum outcome o = OUT_REFUSED;
    enum ap_err err = row_account(f, r, &a, &created, why, sizeof(why));
    if (err == AP_EINVAL || err == AP_ECONFLICT) {
        s->skipped++;
        ap_buf_printf(report, "line %d: %s; skipped\n", r->line, why);
        return AP_OK;
    }
    if (!err)
        err = apply_row(f, a.id, r, &o, why, sizeof(why));
    if (err) {
        ap_buf_printf(report, "line %d: %s; the import stopped here\n", r->line, why);
        return err;
    }
    s->accounts_created += created;
    if (o == OUT_REFUSED) {
        s->skipped++;
        ap_buf_printf(report, "line %d: %s; skipped\n", r->line, why);
        return AP_OK;
    }
    s->imported++;
    s->changed += o == OUT_CHANGED;
    s->unchanged += o == OUT_UNCHANGED;
    if (o == OUT_CHANGED)
        ap_log_info("fms.v1_imported", "account_id=%lld tenant=%lld created=%d", (long long)a.id,
                    (long long)r->tenant_id, (int)created);
    return AP_OK;
}

enum ap_err ap_fms_import_v1_text(struct ap_fms *f, const char *text, size_t n, bool json_lines,
                                  struct ap_fms_v1_summary *sum, struct ap_buf *report)
{
    struct ap_fms_v1_row *rows = NULL;
    size_t nrows = 0;
    int bad = 0;
    memset(sum, 0, sizeof(*sum));
    enum ap_err err = ap_fms_v1_parse(text, n, json_lines, &rows, &nrows, &bad, report);
    if (err)
        return err;
    sum->skipped = bad;
    for (size_t i = 0; i < nrows && !err; i++)
        err = import_row(f, &rows[i], sum, report);
    ap_crypto_wipe(rows, nrows * sizeof(*rows));
    free(rows);
    ap_log_info("fms.v1_import",
                "imported=%d changed=%d unchanged=%d accounts_created=%d "
                "skipped=%d ok=%d",
                sum->imported, sum->changed, sum->unchanged, sum->accounts_created, sum->skipped,
                err == AP_OK);
    return err;
}

/* Reads the whole file (at most AP_FMS_V1_FILE_MAX bytes) into *text. */
static enum ap_err read_file(const char *path, char **text, size_t *n, struct ap_buf *report)
{
    FILE *fp = fopen(path, "rb");
    struct ap_buf b;
    char chunk[65536];
    size_t got;
    enum ap_err err = AP_OK;
    if (!fp) {
        int e = errno;
        ap_buf_printf(report, "cannot open %s: %s\n", path, strerror(e));
        return e == ENOENT ? AP_ENOTFOUND : AP_EIO;
    }
    ap_buf_init(&b, AP_FMS_V1_FILE_MAX);
    while (!err && (got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        err = ap_buf_append(&b, chunk, got);
    if (err) {
        ap_buf_printf(report, "%s is larger than %zu MiB\n", path, AP_FMS_V1_FILE_MAX >> 20);
    } else if (ferror(fp)) {
        ap_buf_printf(report, "cannot read %s: %s\n", path, strerror(errno));
        err = AP_EIO;
    }
    fclose(fp);
    *n = b.len;
    *text = ap_buf_take(&b);
    ap_buf_cleanup(&b);
    return err;
}

enum ap_err ap_fms_import_v1_file(struct ap_fms *f, const char *path, struct ap_fms_v1_summary *sum,
                                  char **report)
{
    struct ap_buf rep;
    char *text = NULL;
    size_t n = 0;
    memset(sum, 0, sizeof(*sum));
    ap_buf_init(&rep, 1 << 24);
    enum ap_err err = read_file(path, &text, &n, &rep);
    if (!err)
        err = ap_fms_import_v1_text(f, text, n, ap_fms_v1_is_json_lines(path, text, n), sum, &rep);
    if (text) {
        ap_crypto_wipe(text, n);
        free(text);
    }
    *report = ap_buf_take(&rep);
    ap_buf_cleanup(&rep);
    return err;
}

enum ap_err ap_fms_import_v1(struct ap_fms *f, const char *path, int *imported, int *skipped,
                             char **report)
{
    struct ap_fms_v1_summary sum;
    enum ap_err err = ap_fms_import_v1_file(f, path, &sum, report);
    *imported = sum.imported;
    *skipped = sum.skipped;
    return err;
}

/* ---- migration status ------------------------------------------------------------------ */

static void status_row(struct ap_db_rows *r, json_t *counts, json_t *list)
{
    const char *state = ap_db_row_is_null(r, 2) ? "none" : ap_db_row_text(r, 2);
    bool has_tenant = !ap_db_row_is_null(r, 3);
    json_t *a = json_object();
    json_object_set_new(a, "account", json_string(ap_db_row_text(r, 1)));
    json_object_set_new(a, "accountId", json_integer(ap_db_row_int(r, 0)));
    json_object_set_new(a, "state", json_string(state));
    json_object_set_new(a, "tenantId",
                        has_tenant ? json_integer(ap_db_row_int(r, 3)) : json_null());
    json_object_set_new(a, "tenantConfirmed", json_boolean(has_tenant && ap_db_row_int(r, 4)));
    json_object_set_new(a, "connectedAt",
                        ap_db_row_is_null(r, 5) ? json_null() : json_string(ap_db_row_text(r, 5)));
    json_object_set_new(a, "v1KeyStored", json_boolean(ap_db_row_int(r, 6) != 0));
    json_array_append_new(list, a);
    json_t *cnt = json_object_get(counts, state);
    if (cnt)
        json_integer_set(cnt, json_integer_value(cnt) + 1);
}

json_t *ap_fms_migration_status(struct ap_store *st)
{
    struct ap_db_rows *r = NULL;
    json_t *counts = json_object(), *list = json_array(), *out = NULL;
    for (size_t i = 0; i < NSTATES; i++)
        json_object_set_new(counts, state_names[i], json_integer(0));
    struct ap_db_conn *c = ap_store_acquire(st, false);
    enum ap_err err = c ? AP_OK : AP_EUNAVAIL;
    if (!err)
        err = ap_db_query(c,
                          "SELECT a.id, a.name, f.state, f.tenant_id, f.tenant_confirmed, "
                          "f.connected_at, f.v1_key_sealed IS NOT NULL FROM accounts a "
                          "LEFT JOIN fms_connections f ON f.account_id = a.id "
                          "ORDER BY a.name, a.id",
                          NULL, 0, &r);
    if (!err) {
        while (ap_db_next(r))
            status_row(r, counts, list);
        err = ap_db_done(r);
    }
    if (err) {
        ap_log_error("fms.migration_status", "err=%s msg=\"%s\"", ap_err_str(err),
                     c ? ap_db_errmsg(c) : "no read connection");
    } else {
        out = json_object();
        json_object_set(out, "counts", counts);
        json_object_set(out, "accounts", list);
    }
    ap_store_release(c);
    json_decref(counts);
    json_decref(list);
    return out;
}

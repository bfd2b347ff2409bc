/*
 * v1import.c — bringing V1-era accounts over: `appointd import-v1 FILE`. The
 * file (CSV or JSON lines of account name, ServiceTitan Tenant ID and V1 API
 * key, read by v1import_parse.c) becomes accounts in v1_migration_required
 * with the Tenant ID pre-filled but unconfirmed and the V1 key sealed
 * (bound to "fms.v1_key:acct=N").
 *
 * Each good row is applied in its own transaction, just after its account is
 * found or created, so a storage failure stops the import with the earlier
 * rows kept and a re-run completes it; a row that changes nothing writes
 * nothing. An account already on V2, or that has started connecting itself,
 * is never touched, and a Tenant ID its admin confirmed is never replaced.
 * The report says what happened to each row that did not import; nothing
 * here ever writes a V1 key into a report or a log.
 */
#include "app/fms_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"

/* ---- writing rows ------------------------------------------------------------------- */

/* The connection row as the import finds it. */
struct existing {
    bool found;
    enum ap_fms_state state;
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
        ex->state = ap_fms_state_parse(ap_db_row_text(r, 0));
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
    if (!ex->found || ex->state == AP_FMS_NONE)
        return true;
    if (ex->state == AP_FMS_CONNECTED || ex->state == AP_FMS_NEEDS_ATTENTION) {
        snprintf(why, whylen, "account \"%s\" is already connected to V2", r->account);
        return false;
    }
    if (ex->state != AP_FMS_V1_MIGRATION_REQUIRED) {
        snprintf(why, whylen, "account \"%s\" has started connecting to V2 (state %s)", r->account,
                 ap_fms_state_name(ex->state));
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
    ap_fms_now(now);
    const char *env = f->environment ? f->environment : "integration";
    /* a confirmed tenant stays confirmed: may_import() let only the same one through */
    bool confirmed = ex->found && ex->confirmed && ex->state == AP_FMS_V1_MIGRATION_REQUIRED;
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
    } else if (ex.found && ex.state == AP_FMS_V1_MIGRATION_REQUIRED &&
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

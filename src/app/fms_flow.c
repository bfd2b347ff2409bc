/*
 * fms_flow.c — the steps of the seed's FMS Configuration flow that move an
 * account's connection between states (fms.h): save the Tenant ID, "Add to
 * ServiceTitan", connect, rotate the secret, disconnect; and the status.
 *
 * Each step reads the row, decides, and writes with one guarded UPDATE
 * whose WHERE clause restates what was decided on (state, tenant, client
 * id): if another request changed the row meanwhile, nothing is written and
 * the step answers 409. A step that fails writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/fms_int.h"
#include "core/defs.h"
#include "core/jobq.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"

static enum ap_err store_failed(struct ap_fms_error *e)
{
    return ap_fms_fail(e, AP_FMS_E_STORE_UNAVAILABLE,
                       "The database is not available right now. Nothing was saved: try again "
                       "in a minute.");
}

/* The job was abandoned: its caller was told it timed out and nothing changed. */
static enum ap_err abandoned(struct ap_fms_error *e)
{
    return ap_fms_fail(e, AP_FMS_E_SERVICETITAN_TIMEOUT,
                       "This took longer than the caller could wait. Nothing was saved: try "
                       "again in a minute.");
}

/* Runs one write statement; *changes (may be NULL) = rows changed. */
static enum ap_err write_sql(struct ap_fms *f, const char *sql, const struct ap_db_val *v, size_t n,
                             int64_t *changes)
{
    struct ap_db_conn *c = ap_store_acquire(f->store, true);
    if (!c)
        return AP_EUNAVAIL;
    enum ap_err err = ap_db_exec(c, sql, v, n);
    if (err)
        ap_log_error("fms.write_failed", "err=%s", ap_err_str(err));
    if (changes)
        *changes = err ? 0 : ap_db_changes(c);
    ap_store_release(c);
    return err;
}

static enum ap_err changed_meanwhile(struct ap_fms_error *e)
{
    return ap_fms_fail(e, AP_FMS_E_CHANGED_MEANWHILE,
                       "The ServiceTitan connection was changed by someone else meanwhile. "
                       "Reload the page and try again.");
}

static enum ap_err load(struct ap_fms *f, int64_t account_id, struct fms_row *row,
                        struct ap_fms_error *e)
{
    if (ap_fms_row_load(f, account_id, row))
        return store_failed(e);
    return AP_OK;
}

static bool is_live(enum ap_fms_state s)
{
    return s == AP_FMS_CONNECTED || s == AP_FMS_NEEDS_ATTENTION;
}

/* ---- Step 1 ---------------------------------------------------------------- */

enum ap_err ap_fms_set_tenant(struct ap_fms *f, int64_t account_id, const char *tenant_text,
                              struct ap_fms_error *e)
{
    int64_t tenant = 0, changes = 0;
    struct fms_row row;
    char now[32];
    enum ap_err err = ap_fms_parse_tenant(tenant_text, &tenant, e);
    if (err || (err = load(f, account_id, &row, e)))
        return err;
    ap_fms_now(now);
    if (is_live(row.state) && row.tenant_id != tenant) {
        err = ap_fms_fail(e, AP_FMS_E_DISCONNECT_FIRST,
                          "This account is connected to ServiceTitan tenant %lld. Disconnect it "
                          "first, then save the new Tenant ID.",
                          (long long)row.tenant_id);
    } else if (is_live(row.state)) {
        err = AP_OK; /* the same tenant again: nothing to do */
    } else if (!row.exists) {
        struct ap_db_val v[] = {ap_db_int(account_id), ap_db_text(f->environment),
                                ap_db_int(tenant), ap_db_text(now)};
        err = write_sql(f,
                        "INSERT INTO fms_connections (account_id, state, environment, tenant_id, "
                        "tenant_confirmed, updated_at) VALUES (?, 'tenant_set', ?, ?, 1, ?)",
                        v, 4, &changes);
        err = err == AP_ECONFLICT ? changed_meanwhile(e) : err ? store_failed(e) : AP_OK;
    } else {
        const char *st = row.state == AP_FMS_AWAITING_APP_ACCESS && row.tenant_id == tenant
                             ? "awaiting_app_access"
                             : "tenant_set";
        struct ap_db_val v[] = {ap_db_text(st), ap_db_int(tenant), ap_db_text(now),
                                ap_db_int(account_id)};
        err =
            write_sql(f,
                      "UPDATE fms_connections SET state = ?, tenant_id = ?, tenant_confirmed = 1, "
                      "updated_at = ? WHERE account_id = ? AND state NOT IN ('connected', "
                      "'needs_attention')",
                      v, 4, &changes);
        err = err ? store_failed(e) : changes == 0 ? changed_meanwhile(e) : AP_OK;
    }
    if (!err)
        ap_log_info("fms.tenant_set", "account=%lld tenant=%lld", (long long)account_id,
                    (long long)tenant);
    ap_fms_row_cleanup(&row);
    return err;
}

/*
 * The tenant must be saved (and, for V1-era accounts, confirmed) before Steps
 * 2–4; a Step 1 correction sent with the connect confirms it.
 */
static enum ap_err need_tenant(const struct fms_row *row, bool corrected, struct ap_fms_error *e)
{
    if (!row->exists || row->state == AP_FMS_NONE || (row->tenant_id <= 0 && !corrected))
        return ap_fms_fail(e, AP_FMS_E_TENANT_REQUIRED,
                           "Save your ServiceTitan Tenant ID in Step 1 first.");
    if (!corrected && (row->state == AP_FMS_V1_MIGRATION_REQUIRED || !row->tenant_confirmed))
        return ap_fms_fail(
            e, AP_FMS_E_TENANT_UNCONFIRMED,
            "Confirm your Tenant ID in Step 1 first: check in ServiceTitan (Settings "
            "> Integrations > API Application Access, upper right-hand corner) that "
            "%lld is correct, then save it.",
            (long long)row->tenant_id);
    return AP_OK;
}

enum ap_err ap_fms_add_to_servicetitan(struct ap_fms *f, int64_t account_id, const char **link,
                                       struct ap_jobq_job *job, struct ap_fms_error *e)
{
    struct fms_row row;
    int64_t changes = 0;
    char now[32];
    enum ap_err err = load(f, account_id, &row, e);
    if (err)
        return err;
    if ((err = need_tenant(&row, false, e)) || (err = ap_fms_run_hook(f, row.tenant_id, e)))
        goto out;
    if (!ap_jobq_commit(job)) {
        err = abandoned(e);
        goto out;
    }
    if (row.state == AP_FMS_TENANT_SET) {
        ap_fms_now(now);
        struct ap_db_val v[] = {ap_db_text(now), ap_db_int(account_id), ap_db_int(row.tenant_id)};
        err = write_sql(f,
                        "UPDATE fms_connections SET state = 'awaiting_app_access', updated_at = ? "
                        "WHERE account_id = ? AND tenant_id = ? AND state = 'tenant_set'",
                        v, 3, &changes);
        err = err ? store_failed(e) : changes == 0 ? changed_meanwhile(e) : AP_OK;
    }
    if (!err && link)
        *link = f->app_access_url;
out:
    ap_fms_row_cleanup(&row);
    return err;
}

/* ---- Steps 3–4, rotation, disconnect ---------------------------------------- */

static char *seal_secret(struct ap_fms *f, int64_t account_id, const char *secret)
{
    char ctx[64], *out = NULL;
    snprintf(ctx, sizeof(ctx), "fms.client_secret:acct=%lld", (long long)account_id);
    if (ap_crypto_seal(f->key, secret, strlen(secret), ctx, &out) != AP_OK)
        return NULL;
    return out;
}

enum ap_err ap_fms_open_secret(struct ap_fms *f, int64_t account_id, const struct fms_row *row,
                               char **secret)
{
    char ctx[64];
    size_t n = 0;
    void *plain = NULL;
    *secret = NULL;
    if (!row->secret_sealed)
        return AP_ENOTFOUND;
    snprintf(ctx, sizeof(ctx), "fms.client_secret:acct=%lld", (long long)account_id);
    enum ap_err err = ap_crypto_open(f->key, row->secret_sealed, ctx, &plain, &n);
    if (err == AP_OK)
        *secret = plain;
    return err;
}

static const char *last4(const char *secret)
{
    size_t n = strlen(secret);
    return n > 4 ? secret + n - 4 : secret;
}

/* What verify_and_save() verifies and stores. */
struct save_req {
    const char *cid, *secret;
    int64_t tenant_id; /* the row's, or a Step 1 correction */
    bool rotate;       /* the same client id, on a live connection */
    struct ap_jobq_job *job;
};

static enum ap_err save(struct ap_fms *f, int64_t account_id, const struct fms_row *row,
                        const struct save_req *rq, const char *granted, const char *missing,
                        struct ap_fms_error *e)
{
    char *sealed = seal_secret(f, account_id, rq->secret), now[32];
    int64_t changes = 0;
    if (!sealed)
        return ap_fms_fail(e, AP_FMS_E_INTERNAL,
                           "The Client Secret could not be encrypted. Nothing was saved.");
    ap_fms_now(now);
    struct ap_db_val v[] = {ap_db_int(rq->tenant_id),
                            ap_db_text(rq->cid),
                            ap_db_text(sealed),
                            ap_db_text(last4(rq->secret)),
                            ap_db_text(granted),
                            ap_db_text(missing),
                            ap_db_text(now),
                            ap_db_text(now),
                            ap_db_text(now),
                            ap_db_text(now),
                            ap_db_text(f->environment),
                            ap_db_int(account_id),
                            ap_db_int(row->tenant_id),
                            ap_db_int(rq->rotate ? 1 : 0),
                            ap_db_text(row->client_id)};
    enum ap_err err = write_sql(
        f,
        "UPDATE fms_connections SET state = 'connected', tenant_id = ?, tenant_confirmed = 1, "
        "client_id = ?, secret_sealed = ?, secret_last4 = ?, granted_scopes = ?, "
        "missing_scopes = ?, connected_at = CASE WHEN state = 'connected' OR state = "
        "'needs_attention' THEN COALESCE(connected_at, ?) ELSE ? END, last_success_at = ?, "
        "last_checked_at = ?, attention_reason = NULL, v1_key_sealed = NULL, environment = ?, "
        "updated_at = CURRENT_TIMESTAMP WHERE account_id = ? AND tenant_id = ? AND (CASE WHEN "
        "? = 1 THEN state IN ('connected', 'needs_attention') AND client_id = ? ELSE state <> "
        "'connected' END)",
        v, AP_COUNTOF(v), &changes);
    free(sealed);
    return err ? store_failed(e) : changes == 0 ? changed_meanwhile(e) : AP_OK;
}

/* Verifies and stores: connect (new client id) and rotate (same client id) share it. */
static enum ap_err verify_and_save(struct ap_fms *f, int64_t account_id, const struct fms_row *row,
                                   const struct save_req *rq, struct ap_fms_error *e)
{
    struct ap_fms_titan_ctx ctx = {
        .tenant_id = rq->tenant_id,
        .environment = f->environment,
        .known_client = row->client_id && strcmp(row->client_id, rq->cid) == 0 &&
                        rq->tenant_id == row->tenant_id,
    };
    char *granted = NULL, *missing = NULL;
    enum ap_err err = ap_fms_verify(f, &ctx, rq->cid, rq->secret, &granted, &missing, e);
    if (err)
        return err;
    ap_fms_memo_tested(f, account_id);
    err =
        ap_jobq_commit(rq->job) ? save(f, account_id, row, rq, granted, missing, e) : abandoned(e);
    if (!err)
        ap_log_info(rq->rotate ? "fms.secret_rotated" : "fms.connected",
                    "account=%lld tenant=%lld missing_scopes=\"%s\"", (long long)account_id,
                    (long long)rq->tenant_id, missing);
    free(granted);
    free(missing);
    return err;
}

enum ap_err ap_fms_connect(struct ap_fms *f, int64_t account_id, const struct ap_fms_connect_in *in,
                           struct ap_jobq_job *job, struct ap_fms_error *e)
{
    char cid[AP_FMS_CRED_MAX + 1], secret[AP_FMS_CRED_MAX + 1];
    struct fms_row row = {0};
    int64_t tenant = 0;
    bool corrected = in->tenant_id && *in->tenant_id;
    enum ap_err err = corrected ? ap_fms_parse_tenant(in->tenant_id, &tenant, e) : AP_OK;
    if (err || (err = ap_fms_check_formats(in->client_id, in->client_secret, cid, secret, e)) ||
        (err = load(f, account_id, &row, e)) || (err = need_tenant(&row, corrected, e)))
        goto out;
    if (row.state == AP_FMS_CONNECTED) {
        err = ap_fms_fail(e, AP_FMS_E_ALREADY_CONNECTED,
                          "This account is already connected to ServiceTitan. To use a new "
                          "Client Secret, rotate it; to use another Client ID, disconnect first.");
        goto out;
    }
    struct save_req rq = {cid, secret, corrected ? tenant : row.tenant_id, false, job};
    err = verify_and_save(f, account_id, &row, &rq, e);
out:
    ap_crypto_wipe(secret, sizeof(secret));
    ap_fms_row_cleanup(&row);
    return err;
}

enum ap_err ap_fms_rotate_secret(struct ap_fms *f, int64_t account_id, const char *client_secret,
                                 struct ap_jobq_job *job, struct ap_fms_error *e)
{
    char secret[AP_FMS_CRED_MAX + 1];
    struct fms_row row = {0};
    enum ap_err err = ap_fms_check_formats(NULL, client_secret, NULL, secret, e);
    if (err || (err = load(f, account_id, &row, e)))
        goto out;
    if (!is_live(row.state) || !row.client_id) {
        err = ap_fms_fail(e, AP_FMS_E_NOT_CONNECTED,
                          "This account is not connected to ServiceTitan: connect it first "
                          "(Steps 3 and 4).");
        goto out;
    }
    struct save_req rq = {row.client_id, secret, row.tenant_id, true, job};
    err = verify_and_save(f, account_id, &row, &rq, e);
out:
    ap_crypto_wipe(secret, sizeof(secret));
    ap_fms_row_cleanup(&row);
    return err;
}

enum ap_err ap_fms_disconnect(struct ap_fms *f, int64_t account_id, struct ap_fms_error *e)
{
    struct fms_row row;
    enum ap_err err = load(f, account_id, &row, e);
    if (err)
        return err;
    if (!row.exists) {
        err =
            ap_fms_fail(e, AP_FMS_E_NOT_CONNECTED, "This account has no ServiceTitan connection.");
        goto out;
    }
    char now[32];
    ap_fms_now(now);
    struct ap_db_val v[] = {ap_db_text(now), ap_db_int(account_id)};
    err = write_sql(f,
                    "UPDATE fms_connections SET client_id = NULL, secret_sealed = NULL, "
                    "secret_last4 = NULL, granted_scopes = NULL, missing_scopes = NULL, "
                    "connected_at = NULL, last_success_at = NULL, last_checked_at = NULL, "
                    "attention_reason = NULL, state = CASE WHEN state IN ('connected', "
                    "'needs_attention', 'awaiting_app_access') THEN 'tenant_set' ELSE state END, "
                    "updated_at = ? WHERE account_id = ?",
                    v, 2, NULL);
    if (err) {
        err = store_failed(e);
        goto out;
    }
    if (row.client_id)
        ap_titan_forget(f->titan, row.tenant_id, row.client_id);
    ap_log_info("fms.disconnected", "account=%lld tenant=%lld", (long long)account_id,
                (long long)row.tenant_id);
out:
    ap_fms_row_cleanup(&row);
    return err;
}

/* ---- status ----------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* True when the space-separated list holds word. */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && (p = strstr(p, word)); p += n) {
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return true;
    }
    return false;
}

/* grantedScopes (the token's claim), missingScopes and scopes (C1's table with granted). */
static void scope_lists(const struct fms_row *row, json_t *j)
{
    json_t *granted = json_array(), *missing = json_array(), *all = json_array();
    for (const char *p = row->granted; p && *p;) {
        size_t n = strcspn(p, " ");
        if (n)
            json_array_append_new(granted, json_stringn(p, n));
        p += n + (p[n] == ' ');
    }
    for (size_t i = 0; i < ap_fms_nscopes; i++) {
        const struct ap_fms_scope *sc = &ap_fms_scopes[i];
        bool miss = has_word(row->missing, sc->scope);
        if (miss)
            json_array_append_new(missing,
                                  json_pack("{s:s, s:s, s:b}", "scope", sc->scope, "disables",
                                            sc->feature, "required", sc->required));
        json_array_append_new(all, json_pack("{s:s, s:s, s:b, s:o}", "scope", sc->scope, "feature",
                                             sc->feature, "required", sc->required, "granted",
                                             row->granted ? json_boolean(!miss) : json_null()));
    }
    json_object_set_new(j, "grantedScopes", granted);
    json_object_set_new(j, "missingScopes", missing);
    json_object_set_new(j, "scopes", all);
}

/* "ServiceTitan production", "ServiceTitan integration", or the custom hosts' label. */
static const char *env_label(const struct ap_fms *f)
{
    if (f->environment && strcmp(f->environment, "production") == 0)
        return "ServiceTitan production";
    if (f->environment && strcmp(f->environment, "integration") == 0)
        return "ServiceTitan integration";
    return f->env_label && *f->env_label ? f->env_label : AP_FMS_CUSTOM_LABEL;
}

/* {"job": "<webUrl>/#/Job/Index/{id}", …}: where each kind of record opens in ServiceTitan's
 * web app ({id} is the record's), for the kinds the environment has a page for; null when the
 * web app is not known. */
static json_t *web_links(const struct ap_fms *f)
{
    static const char *const kinds[] = {"job", "customer", "location"};
    enum ap_titan_env env = AP_TITAN_CUSTOM;
    size_t n;

    if (!f->web_url || !*f->web_url)
        return json_null();
    ap_titan_env_parse(f->environment, &env);
    for (n = strlen(f->web_url); n > 0 && f->web_url[n - 1] == '/'; n--)
        ;
    json_t *o = json_object();
    for (size_t i = 0; i < AP_COUNTOF(kinds); i++) {
        const char *path = ap_titan_web_path(env, kinds[i]);
        if (path)
            json_object_set_new(o, kinds[i], json_sprintf("%.*s%s", (int)n, f->web_url, path));
    }
    return o;
}

json_t *ap_fms_status(struct ap_fms *f, int64_t account_id)
{
    struct fms_row row;
    if (ap_fms_row_load(f, account_id, &row))
        return NULL;
    char mask[32];
    snprintf(mask, sizeof(mask), "\u2022\u2022\u2022\u2022%s",
             row.secret_last4 ? row.secret_last4 : "");
    json_t *j = json_object();
    json_object_set_new(j, "state", json_string(ap_fms_state_name(row.state)));
    json_object_set_new(j, "tenantId",
                        row.tenant_id > 0 ? json_integer(row.tenant_id) : json_null());
    json_object_set_new(j, "tenantConfirmed", json_boolean(row.exists && row.tenant_confirmed));
    json_object_set_new(j, "environment", str_or_null(f->environment));
    json_object_set_new(j, "environmentLabel", json_string(env_label(f)));
    json_object_set_new(j, "clientId", str_or_null(row.client_id));
    json_object_set_new(j, "clientSecret", row.secret_sealed ? json_string(mask) : json_null());
    json_object_set_new(j, "connectedAt", str_or_null(row.connected_at));
    json_object_set_new(j, "lastSuccessAt", str_or_null(row.last_success_at));
    json_object_set_new(j, "lastCheckedAt", str_or_null(row.last_checked_at));
    scope_lists(&row, j);
    json_object_set_new(j, "attentionReason", str_or_null(row.attention_reason));
    json_object_set_new(j, "appAccessUrl", str_or_null(f->app_access_url));
    json_object_set_new(j, "webUrl", str_or_null(f->web_url));
    json_object_set_new(j, "webLinks", web_links(f));
    ap_fms_row_cleanup(&row);
    return j;
}

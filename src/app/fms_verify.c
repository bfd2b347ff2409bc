/*
 * fms_verify.c — checking a Client ID and Client Secret with ServiceTitan
 * before anything is saved, and turning each way ServiceTitan can say no
 * into the message (and the step to redo) a contractor admin sees.
 *
 * What ServiceTitan (and stsim, which follows it) tells us:
 *   - the token endpoint answers 401 invalid_client for an unknown Client ID,
 *     a wrong secret and a regenerated one alike (no way to tell them apart),
 *     and with an error_description for a connection that is disabled or not
 *     connected yet: those get their own messages;
 *   - a token's tenant claim names the tenant the Client ID belongs to;
 *   - its scope claim lists what the tenant granted; a probe read answering
 *     403 means a read grant is gone even if the claim lists it;
 *   - credentials of the other environment are simply unknown there
 *     (invalid_client): the refusal message says so for production and
 *     integration; a token whose iss names the other environment's auth host
 *     is refused as such (ap_fms_iss_mismatch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/fms_int.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"

#define UNAVAILABLE_TAIL "Nothing was saved: try again in a minute."
/* A refused secret: first the likely cause, then the way out (contract C2). */
#define WHOLE_SECRET                                                                               \
    "Check that you pasted the whole Client Secret: it is long, and ServiceTitan shows it only "   \
    "once."
#define IF_WHOLE                                                                                   \
    " If it is all there, it is wrong or a newer one was generated after it was copied (only the " \
    "newest works): "
#define NEW_SECRET                                                                                 \
    "in ServiceTitan, go to Settings > Integrations > API Application Access, open the app, "      \
    "click Generate new secret, and paste the new secret in Step 4."

static const char *env_hint(const char *environment)
{
    if (environment && strcmp(environment, "production") == 0)
        return " Credentials from ServiceTitan's integration (sandbox) environment do not work in "
               "production.";
    if (environment && strcmp(environment, "integration") == 0)
        return " Credentials from ServiceTitan's production environment do not work in the "
               "integration (sandbox) environment.";
    return "";
}

static enum ap_err invalid_client(const struct ap_titan_error *te,
                                  const struct ap_fms_titan_ctx *ctx, struct ap_fms_error *e)
{
    if (strstr(te->title, "disabled"))
        return ap_fms_fail(e, AP_FMS_E_APP_DISABLED,
                           "The app is disabled in ServiceTitan for tenant %lld: in ServiceTitan, "
                           "go to Settings > Integrations > API Application Access, open the app "
                           "and click Enable, then connect again.",
                           (long long)ctx->tenant_id);
    if (strstr(te->title, "not connected"))
        return ap_fms_fail(e, AP_FMS_E_APP_NOT_CONNECTED,
                           "The app is not connected to ServiceTitan tenant %lld yet. In "
                           "ServiceTitan, go to API Application Access, click Connect New App, "
                           "select the app, click Connect and then Allow Access (Step 2).",
                           (long long)ctx->tenant_id);
    if (ctx->known_client)
        return ap_fms_fail(
            e, AP_FMS_E_INVALID_CLIENT_SECRET,
            "ServiceTitan does not accept this Client Secret. " WHOLE_SECRET IF_WHOLE NEW_SECRET);
    return ap_fms_fail(
        e, AP_FMS_E_INVALID_CREDENTIALS,
        "ServiceTitan did not accept this Client ID and Client Secret. " WHOLE_SECRET IF_WHOLE
            NEW_SECRET " Not connected yet? Do Step 2 first: Connect New App, then Allow Access.%s",
        env_hint(ctx->environment));
}

enum ap_err ap_fms_error_from_titan(enum ap_err rc, const struct ap_titan_error *te,
                                    const struct ap_fms_titan_ctx *ctx, struct ap_fms_error *e)
{
    if (te->status == 429 || rc == AP_EBUSY)
        return ap_fms_fail(e, AP_FMS_E_SERVICETITAN_RATE_LIMITED,
                           "ServiceTitan is limiting how often it may be called right now "
                           "(HTTP 429). " UNAVAILABLE_TAIL);
    if (te->status >= 500)
        return ap_fms_fail(e, AP_FMS_E_SERVICETITAN_UNAVAILABLE,
                           "ServiceTitan is not answering properly (HTTP %d). " UNAVAILABLE_TAIL,
                           te->status);
    if (te->stage == AP_TITAN_STAGE_NETWORK || te->status == 0)
        return ap_fms_fail(e, AP_FMS_E_SERVICETITAN_UNAVAILABLE,
                           "ServiceTitan could not be reached. " UNAVAILABLE_TAIL);
    if (te->stage == AP_TITAN_STAGE_TOKEN && strcmp(te->oauth_error, "invalid_client") == 0)
        return invalid_client(te, ctx, e);
    if (te->stage == AP_TITAN_STAGE_API && te->status == 401)
        return ap_fms_fail(e, AP_FMS_E_APP_ACCESS_REFUSED,
                           "ServiceTitan refused the app's access to tenant %lld: it may have been "
                           "disabled. In ServiceTitan's API Application Access, open the app and "
                           "click Enable (or Connect New App, then Allow Access).",
                           (long long)ctx->tenant_id);
    return ap_fms_fail(e, AP_FMS_E_SERVICETITAN_ERROR,
                       "ServiceTitan answered HTTP %d%s%.200s%s. Nothing was saved; if this keeps "
                       "happening, contact support.",
                       te->status, te->title[0] ? " (" : "", te->title, te->title[0] ? ")" : "");
}

enum ap_err ap_fms_wrong_tenant(int64_t got, int64_t want, struct ap_fms_error *e)
{
    enum ap_err err = ap_fms_fail(e, AP_FMS_E_WRONG_TENANT,
                                  "The Client ID belongs to ServiceTitan tenant %lld, but Step 1 "
                                  "says %lld. Is your Tenant ID %lld?",
                                  (long long)got, (long long)want, (long long)got);
    if (e)
        e->token_tenant_id = got;
    return err;
}

bool ap_fms_iss_mismatch(const char *environment, const char *iss)
{
    if (!environment || !iss || !*iss)
        return false;
    bool integ = strstr(iss, "integration") != NULL;
    if (strcmp(environment, "production") == 0)
        return integ;
    if (strcmp(environment, "integration") == 0)
        return !integ && strstr(iss, "servicetitan.io") != NULL;
    return false;
}

/* Runs the probe reads of the granted read scopes; denied[i] for a 403. */
static enum ap_err probe(struct ap_fms *f, const struct ap_titan_creds *cr,
                         const struct ap_fms_titan_ctx *ctx, const bool *claim_missing,
                         bool *denied, struct ap_fms_error *e)
{
    for (size_t i = 0; i < ap_fms_nscopes; i++) {
        const struct ap_fms_scope *s = &ap_fms_scopes[i];
        if (!s->probe_module || claim_missing[i])
            continue;
        struct ap_titan_error te = {0};
        json_t *out = NULL;
        enum ap_err rc = ap_titan_call(f->titan, cr, "GET", s->probe_module, s->probe_path,
                                       s->probe_query, NULL, &out, &te);
        json_decref(out);
        if (rc == AP_OK)
            continue;
        if (te.status == 403) {
            denied[i] = true;
        } else if (te.status == 401 || te.status == 429 || te.status == 0 || te.status >= 500 ||
                   rc == AP_EUNAVAIL || rc == AP_EBUSY) {
            return ap_fms_error_from_titan(rc, &te, ctx, e);
        } else {
            ap_log_warn("fms.probe_unexpected", "tenant=%lld scope=%s status=%d",
                        (long long)ctx->tenant_id, s->scope, te.status);
        }
    }
    return AP_OK;
}

static char *join_claim(const struct ap_titan_token_info *ti)
{
    struct ap_buf b;
    ap_buf_init(&b, 64 * 1024);
    for (size_t i = 0; i < ti->nscopes; i++)
        ap_buf_printf(&b, "%s%s", i ? " " : "", ti->scopes[i]);
    return ap_buf_take(&b);
}

enum ap_err ap_fms_verify(struct ap_fms *f, const struct ap_fms_titan_ctx *ctx,
                          const char *client_id, const char *client_secret, char **granted,
                          char **missing, struct ap_fms_error *e)
{
    struct ap_titan_creds cr = {ctx->tenant_id, client_id, client_secret};
    struct ap_titan_token_info ti = {0};
    struct ap_titan_error te = {0};
    bool claim_missing[AP_FMS_MAX_SCOPES] = {0}, denied[AP_FMS_MAX_SCOPES] = {0};
    bool miss[AP_FMS_MAX_SCOPES] = {0};
    enum ap_err err = ap_titan_token(f->titan, &cr, true, &ti, &te);
    if (err) {
        err = ap_fms_error_from_titan(err, &te, ctx, e);
        goto out;
    }
    if (ap_fms_iss_mismatch(f->environment, ti.iss)) {
        bool prod = strcmp(f->environment, "production") == 0;
        err = ap_fms_fail(e, AP_FMS_E_OTHER_ENVIRONMENT,
                          "These credentials come from ServiceTitan's %s environment, but appointd "
                          "is set up for %s: copy the Client ID and Client Secret from the %s "
                          "tenant's API Application Access page (Steps 3 and 4).",
                          prod ? "integration" : "production", f->environment, f->environment);
        goto out;
    }
    if (ti.tenant_id != ctx->tenant_id) {
        err = ap_fms_wrong_tenant(ti.tenant_id, ctx->tenant_id, e);
        goto out;
    }
    ap_fms_scope_diff(ti.scopes, ti.nscopes, NULL, claim_missing);
    if ((err = probe(f, &cr, ctx, claim_missing, denied, e)))
        goto out;
    if (ap_fms_scope_diff(ti.scopes, ti.nscopes, denied, miss) > 0) {
        err = ap_fms_scopes_error(miss, e);
        goto out;
    }
    *granted = join_claim(&ti);
    *missing = ap_fms_scopes_join(miss);
out:
    if (err) {
        ap_titan_forget(f->titan, ctx->tenant_id, client_id);
        ap_log_info("fms.verify_failed", "tenant=%lld code=%s status=%d trace_id=%s",
                    (long long)ctx->tenant_id, e ? ap_fms_code_name(e->code) : "", te.status,
                    te.trace_id);
    }
    ap_titan_token_info_cleanup(&ti);
    return err;
}

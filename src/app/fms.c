/*
 * fms.c — the pieces of an account's ServiceTitan connection that do not
 * talk to ServiceTitan: the state names, the error codes (each with its step
 * and field), the scopes the product asks for (and which feature needs
 * each), the Tenant ID and Client ID / Secret checks of Steps 1, 3 and 4,
 * the scope diff, and the stored row.
 *
 * The scopes are the least the product uses (contract C1; stsim's demo app
 * asks for the same, sim_demo_scopes). Required ones are those booking
 * cannot work without; the two optional ones only switch a feature off and
 * are listed in the status.
 */
#include "app/fms_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/store.h"

static const char *const state_names[] = {
    [AP_FMS_NONE] = "none",
    [AP_FMS_TENANT_SET] = "tenant_set",
    [AP_FMS_AWAITING_APP_ACCESS] = "awaiting_app_access",
    [AP_FMS_CONNECTED] = "connected",
    [AP_FMS_NEEDS_ATTENTION] = "needs_attention",
    [AP_FMS_V1_MIGRATION_REQUIRED] = "v1_migration_required",
};

const char *ap_fms_state_name(enum ap_fms_state s)
{
    if ((size_t)s < AP_COUNTOF(state_names))
        return state_names[s];
    return "none";
}

enum ap_fms_state ap_fms_state_parse(const char *s)
{
    for (size_t i = 0; s && i < AP_COUNTOF(state_names); i++) {
        if (strcmp(s, state_names[i]) == 0)
            return (enum ap_fms_state)i;
    }
    return AP_FMS_NONE;
}

/* ---- error codes ---------------------------------------------------------------- */

static const struct {
    const char *name;
    enum ap_err err;
    int step;
    const char *field;
} codes[AP_FMS_E_NCODES] = {
    [AP_FMS_E_NONE] = {"none", AP_OK, 0, ""},
    [AP_FMS_E_MISSING_TENANT_ID] = {"missing_tenant_id", AP_EINVAL, 1, "tenantId"},
    [AP_FMS_E_INVALID_TENANT_ID] = {"invalid_tenant_id", AP_EINVAL, 1, "tenantId"},
    [AP_FMS_E_TENANT_REQUIRED] = {"tenant_required", AP_ECONFLICT, 1, "tenantId"},
    [AP_FMS_E_TENANT_UNCONFIRMED] = {"tenant_unconfirmed", AP_ECONFLICT, 1, "tenantId"},
    [AP_FMS_E_DISCONNECT_FIRST] = {"disconnect_first", AP_ECONFLICT, 1, "tenantId"},
    [AP_FMS_E_ADD_FAILED] = {"add_to_servicetitan_failed", AP_EUNAVAIL, 1, "tenantId"},
    [AP_FMS_E_WRONG_TENANT] = {"wrong_tenant", AP_EPERM, 1, "tenantId"},
    [AP_FMS_E_APP_DISABLED] = {"app_disabled", AP_EPERM, 2, ""},
    [AP_FMS_E_APP_NOT_CONNECTED] = {"app_not_connected", AP_EPERM, 2, ""},
    [AP_FMS_E_APP_ACCESS_REFUSED] = {"app_access_refused", AP_EPERM, 2, ""},
    [AP_FMS_E_SCOPES_MISSING] = {"scopes_missing", AP_EPERM, 2, ""},
    [AP_FMS_E_MISSING_CLIENT_ID] = {"missing_client_id", AP_EINVAL, 3, "clientId"},
    [AP_FMS_E_INVALID_CLIENT_ID] = {"invalid_client_id", AP_EINVAL, 3, "clientId"},
    [AP_FMS_E_SECRET_IN_CLIENT_ID] = {"secret_in_client_id", AP_EINVAL, 3, "clientId"},
    [AP_FMS_E_CREDENTIALS_SWAPPED] = {"credentials_swapped", AP_EINVAL, 3, "clientId"},
    [AP_FMS_E_OTHER_ENVIRONMENT] = {"other_environment", AP_EINVAL, 3, "clientId"},
    [AP_FMS_E_MISSING_CLIENT_SECRET] = {"missing_client_secret", AP_EINVAL, 4, "clientSecret"},
    [AP_FMS_E_INVALID_CLIENT_SECRET_FORMAT] = {"invalid_client_secret_format", AP_EINVAL, 4,
                                               "clientSecret"},
    [AP_FMS_E_CLIENT_ID_IN_SECRET] = {"client_id_in_secret", AP_EINVAL, 4, "clientSecret"},
    [AP_FMS_E_INVALID_CREDENTIALS] = {"invalid_credentials", AP_EPERM, 4, "clientSecret"},
    [AP_FMS_E_INVALID_CLIENT_SECRET] = {"invalid_client_secret", AP_EPERM, 4, "clientSecret"},
    [AP_FMS_E_ALREADY_CONNECTED] = {"already_connected", AP_ECONFLICT, 0, ""},
    [AP_FMS_E_NOT_CONNECTED] = {"not_connected", AP_ECONFLICT, 0, ""},
    [AP_FMS_E_CHANGED_MEANWHILE] = {"changed_meanwhile", AP_ECONFLICT, 0, ""},
    [AP_FMS_E_SERVICETITAN_UNAVAILABLE] = {"servicetitan_unavailable", AP_EUNAVAIL, 0, ""},
    [AP_FMS_E_SERVICETITAN_RATE_LIMITED] = {"servicetitan_rate_limited", AP_EUNAVAIL, 0, ""},
    [AP_FMS_E_SERVICETITAN_ERROR] = {"servicetitan_error", AP_EUNAVAIL, 0, ""},
    [AP_FMS_E_SERVICETITAN_TIMEOUT] = {"servicetitan_timeout", AP_ETIMEOUT, 0, ""},
    [AP_FMS_E_STORE_UNAVAILABLE] = {"unavailable", AP_EUNAVAIL, 0, ""},
    [AP_FMS_E_INTERNAL] = {"internal", AP_EINTERNAL, 0, ""},
};

const char *ap_fms_code_name(enum ap_fms_code code)
{
    if ((size_t)code < AP_COUNTOF(codes) && codes[code].name)
        return codes[code].name;
    return "internal";
}

enum ap_err ap_fms_fail(struct ap_fms_error *e, enum ap_fms_code code, const char *fmt, ...)
{
    if ((size_t)code >= AP_COUNTOF(codes) || !codes[code].name)
        code = AP_FMS_E_INTERNAL;
    if (!e)
        return codes[code].err;
    memset(e, 0, sizeof(*e));
    e->code = code;
    e->step = codes[code].step;
    e->field = codes[code].field;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return codes[code].err;
}

/* ---- the scopes (contract C1) ------------------------------------------------------ */

#define REQ true
#define OPT false
/* clang-format off */
const struct ap_fms_scope ap_fms_scopes[] = {
    {"tn.crm.customers:r", "finding the homeowner's customer record", REQ, "crm", "/customers", "pageSize=1"},
    {"tn.crm.customers:w", "creating customers (and their notes) for new bookings", REQ, NULL, NULL, NULL},
    {"tn.crm.locations:r", "finding the service location", REQ, "crm", "/locations", "pageSize=1"},
    {"tn.crm.locations:w", "adding service locations for new bookings", REQ, NULL, NULL, NULL},
    {"tn.crm.bookings:r", "finding bookings sent for review", REQ, NULL, NULL, NULL},
    {"tn.crm.bookings:w", "sending bookings to your CSRs for review", REQ, NULL, NULL, NULL},
    {"tn.crm.bookingprovidertags:r", "tagging bookings with their source", REQ, "crm", "/booking-provider-tags", "pageSize=1"},
    {"tn.jpm.jobs:r", "finding jobs booked online", REQ, "jpm", "/jobs", "pageSize=1"},
    {"tn.jpm.jobs:w", "creating jobs with their appointment (and job notes)", REQ, NULL, NULL, NULL},
    {"tn.jpm.jobtypes:r", "offering your job types as services", REQ, "jpm", "/job-types", "pageSize=1"},
    {"tn.settings.businessunits:r", "choosing the business unit of a booking", REQ, "settings", "/business-units", "pageSize=1"},
    {"tn.dis.capacity:w", "showing open arrival windows (dispatch capacity)", REQ, NULL, NULL, NULL},
    {"tn.dis.arrivalwindows:r", "offering your arrival windows", REQ, "dispatch", "/arrival-windows", NULL},
    {"tn.marketing.campaigns:r", "crediting bookings to a marketing campaign", REQ, "marketing", "/campaigns", "pageSize=1"},
    {"tn.settings.tagtypes:r", "tagging jobs booked online", OPT, "settings", "/tag-types", "pageSize=1"},
    {"tn.dis.zones:r", "limiting bookings to the ZIP codes of your ServiceTitan zones", OPT, "dispatch", "/zones", "pageSize=1"},
};
/* clang-format on */
const size_t ap_fms_nscopes = AP_COUNTOF(ap_fms_scopes);
_Static_assert(AP_COUNTOF(ap_fms_scopes) <= AP_FMS_MAX_SCOPES, "raise AP_FMS_MAX_SCOPES");

void ap_fms_now(char out[32])
{
    ap_clock_format_utc(ap_clock_real_ns(), out);
}

/* ---- Step 1 ------------------------------------------------------------- */

#define TENANT_WHERE                                                                               \
    "In ServiceTitan, go to Settings > Integrations > API Application Access: your Tenant ID "     \
    "is the number in the upper right-hand corner of the screen."

enum ap_err ap_fms_parse_tenant(const char *text, int64_t *out, struct ap_fms_error *e)
{
    const char *p = text ? text : "";
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    if (n == 0)
        return ap_fms_fail(e, AP_FMS_E_MISSING_TENANT_ID,
                           "Enter your ServiceTitan Tenant ID. " TENANT_WHERE);
    uint64_t v = 0;
    bool ok = n <= 16;
    for (size_t i = 0; ok && i < n; i++) {
        ok = p[i] >= '0' && p[i] <= '9';
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (!ok || v == 0 || v > (1ULL << 53))
        return ap_fms_fail(
            e, AP_FMS_E_INVALID_TENANT_ID,
            "A ServiceTitan Tenant ID is a whole number, like 1234567. " TENANT_WHERE);
    *out = (int64_t)v;
    return AP_OK;
}

/* ---- Steps 3 and 4 ---------------------------------------------------------- */

/* Copies s without surrounding blanks into out; false when too long. */
static bool trim_copy(const char *s, char out[AP_FMS_CRED_MAX + 1])
{
    const char *p = s ? s : "";
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    out[0] = '\0';
    if (n > AP_FMS_CRED_MAX)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static bool is_secret(const char *s)
{
    return strncmp(s, "cs1.", 4) == 0 || strncmp(s, "cs2.", 4) == 0;
}

/* Printable ASCII without blanks, and something after the prefix. */
static bool well_formed(const char *s)
{
    if (strlen(s) < 5)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p <= ' ' || *p > '~')
            return false;
    }
    return true;
}

#define SWAPPED_MSG                                                                                \
    "The Client ID and the Client Secret are the wrong way round: paste the Client ID (it starts " \
    "with \"cid.\") in Step 3 and the Client Secret (it starts with \"cs1.\" or \"cs2.\") in "     \
    "Step 4."

static enum ap_err check_client_id(const char *cid, const char *secret, struct ap_fms_error *e)
{
    if (!*cid)
        return ap_fms_fail(e, AP_FMS_E_MISSING_CLIENT_ID,
                           "Paste your ServiceTitan Client ID in Step 3: it is under Application "
                           "Details in ServiceTitan's API Application Access page.");
    if (is_secret(cid) && strncmp(secret, "cid.", 4) == 0)
        return ap_fms_fail(e, AP_FMS_E_CREDENTIALS_SWAPPED, SWAPPED_MSG);
    if (is_secret(cid))
        return ap_fms_fail(e, AP_FMS_E_SECRET_IN_CLIENT_ID,
                           "The Client ID field holds a Client Secret (it starts with \"%.4s\"). "
                           "Paste the Client ID (it starts with \"cid.\") in Step 3 and the "
                           "Client Secret in Step 4.",
                           cid);
    if (strncmp(cid, "cid.", 4) != 0 || !well_formed(cid))
        return ap_fms_fail(
            e, AP_FMS_E_INVALID_CLIENT_ID,
            "That is not a ServiceTitan Client ID: a Client ID starts with \"cid.\". "
            "Copy it from Application Details in ServiceTitan (Step 3).");
    return AP_OK;
}

static enum ap_err check_secret(const char *secret, struct ap_fms_error *e)
{
    if (!*secret)
        return ap_fms_fail(e, AP_FMS_E_MISSING_CLIENT_SECRET,
                           "Paste your ServiceTitan Client Secret in Step 4. In ServiceTitan's "
                           "Application Details, generate a Client Secret and copy it.");
    if (strncmp(secret, "cid.", 4) == 0)
        return ap_fms_fail(e, AP_FMS_E_CLIENT_ID_IN_SECRET,
                           "The Client Secret field holds a Client ID (it starts with \"cid.\"). "
                           "Paste the Client ID in Step 3 and the Client Secret (it starts with "
                           "\"cs1.\" or \"cs2.\") in Step 4.");
    if (!is_secret(secret) || !well_formed(secret))
        return ap_fms_fail(e, AP_FMS_E_INVALID_CLIENT_SECRET_FORMAT,
                           "That is not a ServiceTitan Client Secret: a Client Secret starts with "
                           "\"cs1.\" or \"cs2.\". Generate a new Client Secret in ServiceTitan "
                           "and paste it in Step 4.");
    return AP_OK;
}

enum ap_err ap_fms_check_formats(const char *client_id, const char *client_secret,
                                 char cid_out[AP_FMS_CRED_MAX + 1],
                                 char secret_out[AP_FMS_CRED_MAX + 1], struct ap_fms_error *e)
{
    if (!trim_copy(client_secret, secret_out))
        return ap_fms_fail(e, AP_FMS_E_INVALID_CLIENT_SECRET_FORMAT,
                           "That Client Secret is too long: copy only the secret ServiceTitan "
                           "shows (Step 4).");
    if (client_id) {
        if (!trim_copy(client_id, cid_out))
            return ap_fms_fail(e, AP_FMS_E_INVALID_CLIENT_ID,
                               "That Client ID is too long: copy only the Client ID ServiceTitan "
                               "shows (Step 3).");
        enum ap_err err = check_client_id(cid_out, secret_out, e);
        if (err)
            return err;
    }
    return check_secret(secret_out, e);
}

/* ---- scopes ---------------------------------------------------------------- */

size_t ap_fms_scope_diff(char *const *granted, size_t ngranted, const bool *probe_denied,
                         bool missing[AP_FMS_MAX_SCOPES])
{
    size_t nreq = 0;
    for (size_t i = 0; i < ap_fms_nscopes; i++) {
        bool have = false;
        for (size_t j = 0; !have && j < ngranted; j++)
            have = granted[j] && strcmp(granted[j], ap_fms_scopes[i].scope) == 0;
        missing[i] = !have || (probe_denied && probe_denied[i]);
        if (missing[i] && ap_fms_scopes[i].required)
            nreq++;
    }
    return nreq;
}

char *ap_fms_scopes_join(const bool missing[AP_FMS_MAX_SCOPES])
{
    struct ap_buf b;
    ap_buf_init(&b, 64 * 1024);
    for (size_t i = 0; i < ap_fms_nscopes; i++) {
        if (missing[i])
            ap_buf_printf(&b, "%s%s", b.len ? " " : "", ap_fms_scopes[i].scope);
    }
    return ap_buf_take(&b);
}

enum ap_err ap_fms_scopes_error(const bool missing[AP_FMS_MAX_SCOPES], struct ap_fms_error *e)
{
    char list[300] = "";
    size_t used = 0;
    for (size_t i = 0; i < ap_fms_nscopes && used < sizeof(list) - 1; i++) {
        if (!missing[i] || !ap_fms_scopes[i].required)
            continue;
        int n = snprintf(list + used, sizeof(list) - used, "%s%s (%s)", used ? "; " : "",
                         ap_fms_scopes[i].scope, ap_fms_scopes[i].feature);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used >= sizeof(list) - 1)
        memcpy(list + sizeof(list) - 4, "...", 4);
    return ap_fms_fail(e, AP_FMS_E_SCOPES_MISSING,
                       "The app's access in ServiceTitan lacks what booking needs: %s. Ask your "
                       "ServiceTitan admin to open the app under API Application Access, click "
                       "Upgrade to New Version (or Connect) and allow access to these (Step 2).",
                       list);
}

/* ---- the stored row -------------------------------------------------------- */

static char *dup_col(struct ap_db_rows *r, int col)
{
    const char *s = ap_db_row_text(r, col);
    return s ? ap_xstrdup(s) : NULL;
}

enum ap_err ap_fms_row_load(struct ap_fms *f, int64_t account_id, struct fms_row *row)
{
    memset(row, 0, sizeof(*row));
    struct ap_db_conn *c = ap_store_acquire(f->store, false);
    if (!c)
        return AP_EUNAVAIL;
    struct ap_db_val v = ap_db_int(account_id);
    struct ap_db_rows *r = NULL;
    enum ap_err err = ap_db_query(
        c,
        "SELECT state, tenant_id, tenant_confirmed, client_id, secret_sealed, secret_last4, "
        "granted_scopes, missing_scopes, connected_at, last_success_at, last_checked_at, "
        "attention_reason, v1_key_sealed IS NOT NULL FROM fms_connections WHERE account_id = ?",
        &v, 1, &r);
    if (err == AP_OK && ap_db_next(r)) {
        row->exists = true;
        row->state = ap_fms_state_parse(ap_db_row_text(r, 0));
        row->tenant_id = ap_db_row_int(r, 1);
        row->tenant_confirmed = ap_db_row_int(r, 2) != 0;
        row->client_id = dup_col(r, 3);
        row->secret_sealed = dup_col(r, 4);
        row->secret_last4 = dup_col(r, 5);
        row->granted = dup_col(r, 6);
        row->missing = dup_col(r, 7);
        row->connected_at = dup_col(r, 8);
        row->last_success_at = dup_col(r, 9);
        row->last_checked_at = dup_col(r, 10);
        row->attention_reason = dup_col(r, 11);
        row->has_v1_key = ap_db_row_int(r, 12) != 0;
    }
    if (err == AP_OK)
        err = ap_db_done(r);
    if (err)
        ap_log_error("fms.load_failed", "account=%lld err=%s", (long long)account_id,
                     ap_err_str(err));
    ap_store_release(c);
    return err ? AP_EUNAVAIL : AP_OK;
}

void ap_fms_row_cleanup(struct fms_row *row)
{
    if (!row)
        return;
    char **strs[] = {&row->client_id,       &row->secret_sealed,   &row->secret_last4,
                     &row->granted,         &row->missing,         &row->connected_at,
                     &row->last_success_at, &row->last_checked_at, &row->attention_reason};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

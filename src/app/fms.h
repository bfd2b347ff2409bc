/*
 * fms.h — an account's ServiceTitan connection (the seed's FMS
 * Configuration): its states, the steps that move it, the verification that
 * must pass before anything is saved, its status, and its health check.
 *
 *   none ─(tenant id saved)→ tenant_set ─("Add to ServiceTitan")→ awaiting_app_access
 *     ─(client id + secret verified)→ connected ─(token refused / app disabled)→ needs_attention
 *   V1-era account: v1_migration_required (tenant id pre-filled, must be confirmed)
 *
 * Every failure is an enum ap_err plus a struct ap_fms_error: a code (a
 * stable word for the API, ap_fms_code_name()), the step of the seed's flow
 * to redo (1 Tenant ID, 2 connect the app in ServiceTitan, 3 Client ID,
 * 4 Client Secret, 0 none), the input at fault, and a message for a
 * contractor admin. The dashboard, the admin API and the CLI all show
 * exactly this message; which HTTP status goes with a code is the admin
 * API's business (src/api). A failed step changes nothing.
 *
 * The client secret is sealed with the master key (context
 * "fms.client_secret:acct=<id>") and never returned: status shows its last 4.
 * Verification calls ServiceTitan and blocks: call these from the account
 * work queue (app/stqueue.h) or the CLI, never from an HTTP loop thread.
 * Steps that call ServiceTitan take the queue's job (NULL from the CLI) and
 * save only while ap_jobq_commit(job) allows it: a caller already told "it
 * timed out, nothing was changed" is never proven wrong.
 */
#ifndef AP_APP_FMS_H
#define AP_APP_FMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/jobq.h"
#include "json/json.h"

struct ap_store;
struct ap_titan;
struct ap_crypto_key;

enum ap_fms_state {
    AP_FMS_NONE,
    AP_FMS_TENANT_SET,
    AP_FMS_AWAITING_APP_ACCESS,
    AP_FMS_CONNECTED,
    AP_FMS_NEEDS_ATTENTION,
    AP_FMS_V1_MIGRATION_REQUIRED,
};
const char *ap_fms_state_name(enum ap_fms_state s);

/* What went wrong; each code has one step and one field (see fms.c's table). */
enum ap_fms_code {
    AP_FMS_E_NONE,
    /* Step 1 */
    AP_FMS_E_MISSING_TENANT_ID,
    AP_FMS_E_INVALID_TENANT_ID,
    AP_FMS_E_TENANT_REQUIRED,
    AP_FMS_E_TENANT_UNCONFIRMED,
    AP_FMS_E_DISCONNECT_FIRST,
    AP_FMS_E_ADD_FAILED,
    AP_FMS_E_WRONG_TENANT,
    /* Step 2 */
    AP_FMS_E_APP_DISABLED,
    AP_FMS_E_APP_NOT_CONNECTED,
    AP_FMS_E_APP_ACCESS_REFUSED,
    AP_FMS_E_SCOPES_MISSING,
    /* Step 3 */
    AP_FMS_E_MISSING_CLIENT_ID,
    AP_FMS_E_INVALID_CLIENT_ID,
    AP_FMS_E_SECRET_IN_CLIENT_ID,
    AP_FMS_E_CREDENTIALS_SWAPPED,
    AP_FMS_E_OTHER_ENVIRONMENT,
    /* Step 4 */
    AP_FMS_E_MISSING_CLIENT_SECRET,
    AP_FMS_E_INVALID_CLIENT_SECRET_FORMAT,
    AP_FMS_E_CLIENT_ID_IN_SECRET,
    AP_FMS_E_INVALID_CREDENTIALS,
    AP_FMS_E_INVALID_CLIENT_SECRET,
    /* the connection's state */
    AP_FMS_E_ALREADY_CONNECTED,
    AP_FMS_E_NOT_CONNECTED,
    AP_FMS_E_CHANGED_MEANWHILE,
    /* ServiceTitan, the store, appointd */
    AP_FMS_E_SERVICETITAN_UNAVAILABLE,
    AP_FMS_E_SERVICETITAN_RATE_LIMITED,
    AP_FMS_E_SERVICETITAN_ERROR,
    AP_FMS_E_SERVICETITAN_TIMEOUT, /* the caller's deadline passed: nothing was saved */
    AP_FMS_E_STORE_UNAVAILABLE,
    AP_FMS_E_INTERNAL,
    AP_FMS_E_NCODES
};
/* "wrong_tenant", ...: the API's error code; "internal" for an unknown value. */
const char *ap_fms_code_name(enum ap_fms_code code);

struct ap_fms_error {
    enum ap_fms_code code;
    int step;                /* 1..4, 0 */
    const char *field;       /* "tenantId", "clientId", "clientSecret", "" (static) */
    int64_t token_tenant_id; /* wrong_tenant: the tenant the Client ID belongs to; else 0 */
    char message[640];       /* what happened and what to do, in the seed's words */
};

/* A scope the product asks for (contract C1), what needs it, and how it is proven. */
struct ap_fms_scope {
    const char *scope;   /* "tn.crm.customers:w" */
    const char *feature; /* "creating customers (and their notes) for new bookings" */
    bool required;       /* booking cannot work without it: connect refuses */
    /* A minimal read that proves a read scope ("crm", "/customers", "pageSize=1"); NULL for
     * write scopes and scopes without a harmless GET: those are judged by the token's claim. */
    const char *probe_module, *probe_path, *probe_query;
};
extern const struct ap_fms_scope ap_fms_scopes[];
extern const size_t ap_fms_nscopes;

/* How "Add to ServiceTitan" asks the operator's side to add the tenant to the app. */
enum ap_fms_hook_kind { AP_FMS_HOOK_NONE, AP_FMS_HOOK_COMMAND, AP_FMS_HOOK_URL };

struct ap_fms_memo;

/* The status's environmentLabel for custom hosts when st-env-label is not set. */
#define AP_FMS_CUSTOM_LABEL "custom ServiceTitan hosts"

struct ap_fms {
    struct ap_store *store;
    struct ap_titan *titan;
    const struct ap_crypto_key *key;
    const char *environment;    /* "production" | "integration" | "custom" */
    const char *env_label;      /* custom: how the status names it (setting st-env-label) */
    const char *app_access_url; /* link to ServiceTitan's API Application Access page */
    const char *web_url;        /* ServiceTitan's web app (links to jobs); NULL: unknown */
    enum ap_fms_hook_kind hook_kind;
    const char *hook;         /* command (TENANT_ID in env) or URL (POST {"tenantId"}) */
    struct ap_fms_memo *memo; /* when each account's secret was last tested; NULL until used */
};

/* Frees what the fms made for itself (the memo); the borrowed pieces stay. NULL ok. */
void ap_fms_cleanup(struct ap_fms *f);

/* Step 1: save the tenant id (text as typed). V1-era: also confirms it. */
enum ap_err ap_fms_set_tenant(struct ap_fms *f, int64_t account_id, const char *tenant_text,
                              struct ap_fms_error *e);
/* "Add to ServiceTitan": runs the hook, → awaiting_app_access; *link = app_access_url (borrowed).
 */
enum ap_err ap_fms_add_to_servicetitan(struct ap_fms *f, int64_t account_id, const char **link,
                                       struct ap_jobq_job *job, struct ap_fms_error *e);

/* What "Connect to ServiceTitan" sends (borrowed strings). */
struct ap_fms_connect_in {
    const char *client_id, *client_secret;
    /* Optional Step 1 correction (the text as typed; NULL or "": none): verified against this
     * tenant instead, and saved with the connection only if the connect succeeds. */
    const char *tenant_id;
};
/* Steps 3–4 + "Connect to ServiceTitan": verify, then save (sealed) and → connected. */
enum ap_err ap_fms_connect(struct ap_fms *f, int64_t account_id, const struct ap_fms_connect_in *in,
                           struct ap_jobq_job *job, struct ap_fms_error *e);
/* Replaces the secret after verifying the new one; the old one stays on failure. */
enum ap_err ap_fms_rotate_secret(struct ap_fms *f, int64_t account_id, const char *client_secret,
                                 struct ap_jobq_job *job, struct ap_fms_error *e);
/* Wipes the secret and client id; → tenant_set. */
enum ap_err ap_fms_disconnect(struct ap_fms *f, int64_t account_id, struct ap_fms_error *e);

/*
 * Status as JSON (new reference): state, tenantId, tenantConfirmed,
 * environment, environmentLabel ("ServiceTitan production", "ServiceTitan
 * integration", or env_label), clientId, clientSecret ("••••1234" or null),
 * connectedAt, lastSuccessAt, lastCheckedAt, grantedScopes, missingScopes
 * [{scope, disables, required}], scopes [{scope, feature, required, granted}]
 * (every scope of ap_fms_scopes in order; granted null before a connect),
 * attentionReason, appAccessUrl. Never a secret.
 */
json_t *ap_fms_status(struct ap_fms *f, int64_t account_id);

/*
 * Health check of one connected / needs_attention account: a token and one
 * minimal read; moves to needs_attention (reason saved) when the secret was
 * regenerated or the app disabled, and back to connected when it works
 * again. Network trouble alone changes nothing (AP_EUNAVAIL, e says why).
 * AP_ENOTFOUND (not_connected) for an account without a connection.
 *
 * The token: AP_FMS_CHECK_CACHED uses the cached one (fetching one only when
 * none is cached). AP_FMS_CHECK_SECRET is for checks whose point is to test
 * the secret (the health check, "Check connection now"): it fetches a fresh
 * token, but at most once per AP_FMS_SECRET_TEST_S per account in this
 * process (a connect or rotation counts); within that it uses the cached one.
 */
enum ap_fms_check_mode { AP_FMS_CHECK_CACHED, AP_FMS_CHECK_SECRET };
#define AP_FMS_SECRET_TEST_S 60
enum ap_err ap_fms_check(struct ap_fms *f, int64_t account_id, enum ap_fms_check_mode mode,
                         struct ap_jobq_job *job, struct ap_fms_error *e);

/*
 * A check as a job of the account work queue (app/stqueue.h): kind
 * AP_ST_WORK_CHECK, coalesce AP_FMS_CHECK_COALESCE, run ap_fms_check_job_run,
 * free ap_fms_check_job_free. The health thread and the admin API submit
 * the same, so a check joins the one already waiting or running for the
 * account, and every waiter gets its one outcome: err and e, and the status
 * after the check (JSON text; NULL when err).
 */
#define AP_FMS_CHECK_COALESCE "check"
struct ap_fms_check_job {
    struct ap_fms *f;
    int64_t account_id;
    enum ap_fms_check_mode mode;
    enum ap_err err;
    struct ap_fms_error e;
    char *status;
};
struct ap_fms_check_job *ap_fms_check_job_new(struct ap_fms *f, int64_t account_id,
                                              enum ap_fms_check_mode mode);
enum ap_jobq_ran ap_fms_check_job_run(struct ap_jobq_job *job, void *arg);
void ap_fms_check_job_free(void *arg);
/* Every account that is connected or needs attention (ids malloc'd; caller frees). */
enum ap_err ap_fms_live_accounts(struct ap_fms *f, int64_t **ids, size_t *n);

/*
 * The background health check: a thread that every interval_s seconds (and
 * early, at most once a minute, when the ServiceTitan client has counted a
 * burst of 401s since the last look) submits a check (AP_FMS_CHECK_SECRET)
 * of each live account to the account work queue q, where it joins a check
 * already waiting or running for that account. f and q are borrowed and
 * must outlive the thread. NULL when the thread cannot start.
 */
struct ap_fms_health;
struct ap_fms_health *ap_fms_health_start(struct ap_fms *f, struct ap_jobq *q, int interval_s);
/* Stops and joins the thread. NULL ok. */
void ap_fms_health_stop(struct ap_fms_health *h);

/* What one import did. */
struct ap_fms_v1_summary {
    int imported;         /* good rows: changed + unchanged */
    int changed;          /* rows whose connection row was written */
    int unchanged;        /* rows already exactly so */
    int accounts_created; /* accounts that did not exist */
    int skipped;          /* bad rows and rows refused by the account's state */
};

/*
 * V1-era import: CSV (header: account,tenant_id,v1_api_key) or JSON lines
 * ({"account","tenantId","v1ApiKey"}). Creates or updates accounts in
 * v1_migration_required with the tenant pre-filled (unconfirmed), the V1 key
 * sealed. Bad rows are reported (line number + reason) into report and
 * skipped; good rows import; re-running is idempotent.
 *
 * (v1import*.c) The format is JSON lines when the file name ends in .jsonl,
 * .ndjson or .json, CSV when it ends in .csv, else JSON lines when its first
 * non-blank character is '{'. Each good row is applied in its own
 * transaction (an account created for it is created just before), so a
 * failure stops the import with the earlier rows kept, and a re-run
 * completes it. A row whose account is already on V2 (connected,
 * needs_attention) or has started connecting itself (tenant_set,
 * awaiting_app_access) is skipped and reported; a V1-era Tenant ID the
 * account's admin already confirmed is not replaced by a different one.
 * An unchanged row changes nothing (the sealed key is compared opened).
 * Returns AP_OK when the file was read, however many rows were bad;
 * AP_ENOTFOUND / AP_EIO / AP_ETOOBIG for the file, AP_EINVAL for a CSV
 * without a usable header, a storage error when a row could not be
 * written: *report (malloc'd, caller frees; "" when nothing to say) then
 * ends with the reason. Neither the report nor the logs ever hold a V1 key.
 * sum counts the rows (imported: created, updated or already up to date).
 */
enum ap_err ap_fms_import_v1_file(struct ap_fms *f, const char *path, struct ap_fms_v1_summary *sum,
                                  char **report);

/* Limits of an import file. */
#define AP_FMS_V1_FILE_MAX    ((size_t)16 * 1024 * 1024)
#define AP_FMS_V1_LINE_MAX    2048 /* bytes of one line, line ending excluded */
#define AP_FMS_V1_ROWS_MAX    100000
#define AP_FMS_V1_FIELDS_MAX  32
#define AP_FMS_V1_ACCOUNT_MAX 100                /* characters */
#define AP_FMS_V1_KEY_MAX     200                /* characters (printable ASCII) */
#define AP_FMS_V1_TENANT_MAX  9007199254740991LL /* 2^53 - 1: exact in every JSON reader */

/* One good row of an import file. */
struct ap_fms_v1_row {
    int line; /* 1-based physical line */
    char account[AP_FMS_V1_ACCOUNT_MAX * 4 + 1];
    int64_t tenant_id;
    char v1_key[AP_FMS_V1_KEY_MAX + 1];
};

struct ap_buf;

/*
 * The import of text[0..n) already in memory (json_lines picks the format):
 * what ap_fms_import_v1_file() does after reading the file. Report lines are
 * appended to report ("line N: reason\n").
 */
enum ap_err ap_fms_import_v1_text(struct ap_fms *f, const char *text, size_t n, bool json_lines,
                                  struct ap_fms_v1_summary *sum, struct ap_buf *report);

/*
 * Pure parsing, no I/O (unit tests and the fuzz target call these).
 *
 * ap_fms_v1_csv_split: one CSV record — a single line without its line
 * ending — into fields, RFC 4180 quoting: a field that starts with '"' runs
 * to the next lone '"', with "" standing for one quote; spaces and tabs
 * around a field are dropped unless inside quotes. A quoted field must close
 * on its own line (no column of this file may hold a line break). Fields are
 * written NUL-terminated into buf (at least n + 1 bytes) and pointed to by
 * fields[0..*nfields). AP_EPARSE with a reason in why (never quoting the
 * line) for an unterminated quote, text after a closing quote, a quote
 * inside an unquoted field or a NUL byte; AP_ETOOBIG for more than
 * max_fields fields.
 */
enum ap_err ap_fms_v1_csv_split(const char *line, size_t n, char *buf, size_t buflen, char **fields,
                                size_t max_fields, size_t *nfields, char *why, size_t whylen);

/*
 * ap_fms_v1_parse: the rows of a whole file. Good rows go to *rows (malloc'd,
 * caller frees; NULL when none) and *nrows; each bad row adds a line to
 * report and counts in *bad. AP_EINVAL (reason in report) when the CSV
 * header is missing or lacks a column; AP_ETOOBIG when n > AP_FMS_V1_FILE_MAX.
 */
enum ap_err ap_fms_v1_parse(const char *text, size_t n, bool json_lines,
                            struct ap_fms_v1_row **rows, size_t *nrows, int *bad,
                            struct ap_buf *report);

/* True when path or the content says JSON lines (see ap_fms_import_v1_file). */
bool ap_fms_v1_is_json_lines(const char *path, const char *text, size_t n);

/*
 * `appointd migration-status`: every account with its connection state, as
 * JSON (new reference) —
 *   {"counts": {"none": n, "tenant_set": n, ... every state},
 *    "accounts": [{"account", "accountId", "state", "tenantId" (null when
 *    none), "tenantConfirmed", "connectedAt" (null unless connected once),
 *    "v1KeyStored" (a sealed V1 key is still held)}]}
 * ordered by account name; accounts without a connection row are "none".
 * Operator-wide (all accounts): for the CLI and the admin API's operator
 * route (users with the operator flag only), never a contractor's session.
 * NULL on a storage error (logged).
 */
json_t *ap_fms_migration_status(struct ap_store *st);

#endif

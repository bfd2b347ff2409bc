/*
 * fms_int.h — private to src/app/fms*.c (and their unit tests): the stored
 * row of an account's ServiceTitan connection, and the pure pieces of the
 * flow (tenant id parsing, Client ID / Secret format checks, the scope diff,
 * the mapping of ServiceTitan's answers to the messages a contractor sees).
 */
#ifndef AP_APP_FMS_INT_H
#define AP_APP_FMS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/fms.h"
#include "titan/titan.h"

/* Most scopes ap_fms_scopes holds (a static bound for bool arrays). */
#define AP_FMS_MAX_SCOPES 64
/* Longest Client ID / Client Secret accepted (ServiceTitan's are ~30 / ~54). */
#define AP_FMS_CRED_MAX 200

/* The fms_connections row of one account. Strings are owned (free with fms_row_cleanup). */
struct fms_row {
    bool exists;
    enum ap_fms_state state;
    int64_t tenant_id; /* 0: none */
    bool tenant_confirmed;
    char *client_id, *secret_sealed, *secret_last4, *granted, *missing;
    char *connected_at, *last_success_at, *last_checked_at, *attention_reason;
    bool has_v1_key;
};

/* Loads the row (exists false when there is none). AP_EUNAVAIL when the store fails. */
enum ap_err ap_fms_row_load(struct ap_fms *f, int64_t account_id, struct fms_row *row);
void ap_fms_row_cleanup(struct fms_row *row);
/* Looks a state name up ("tenant_set"); AP_FMS_NONE for unknown text. */
enum ap_fms_state ap_fms_state_parse(const char *s);
/* "now" as RFC 3339 UTC. */
void ap_fms_now(char out[32]);

/* Fills e (code, its step and field from fms.c's table) with a printf-formatted message;
 * returns the code's enum ap_err. */
enum ap_err ap_fms_fail(struct ap_fms_error *e, enum ap_fms_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Step 1: digits only (spaces around are trimmed), 1 .. 2^53. */
enum ap_err ap_fms_parse_tenant(const char *text, int64_t *out, struct ap_fms_error *e);

/*
 * Steps 3–4: trims blanks around both values into the caller's buffers and
 * checks their shapes (Client ID "cid.…", Client Secret "cs1.…"/"cs2.…",
 * printable, no inner blanks, at most AP_FMS_CRED_MAX). A value pasted into
 * the other field is named as such. client_id may be NULL (rotation: only
 * the secret is checked).
 */
enum ap_err ap_fms_check_formats(const char *client_id, const char *client_secret,
                                 char cid_out[AP_FMS_CRED_MAX + 1],
                                 char secret_out[AP_FMS_CRED_MAX + 1], struct ap_fms_error *e);

/*
 * Which of ap_fms_scopes are missing: not in the token's scope claim, or
 * refused (403) by their probe read (probe_denied[i], may be NULL).
 * missing[i] is set per scope; returns how many required ones are missing.
 */
size_t ap_fms_scope_diff(char *const *granted, size_t ngranted, const bool *probe_denied,
                         bool missing[AP_FMS_MAX_SCOPES]);
/* The refusal for missing required scopes (lists each with what it disables). */
enum ap_err ap_fms_scopes_error(const bool missing[AP_FMS_MAX_SCOPES], struct ap_fms_error *e);
/* Space-separated names of the missing scopes (malloc'd; "" when none). */
char *ap_fms_scopes_join(const bool missing[AP_FMS_MAX_SCOPES]);

/* What the flow knows when ServiceTitan refuses. */
struct ap_fms_titan_ctx {
    int64_t tenant_id;
    const char *environment; /* "production" | "integration" | "custom" */
    bool known_client; /* this Client ID worked for the account before: a refusal is the secret */
};

/*
 * Maps a failed ap_titan_token()/ap_titan_call() (rc, te) to the message the
 * contractor sees: invalid_client (wrong or regenerated secret, unknown
 * client id, other environment), a disabled or not-yet-connected app,
 * ServiceTitan unreachable or rate limiting. Returns the enum ap_err of e.
 */
enum ap_err ap_fms_error_from_titan(enum ap_err rc, const struct ap_titan_error *te,
                                    const struct ap_fms_titan_ctx *ctx, struct ap_fms_error *e);

/* The token was issued for another tenant: Step 1's Tenant ID is probably wrong. */
enum ap_err ap_fms_wrong_tenant(int64_t got, int64_t want, struct ap_fms_error *e);

/*
 * A token issued by the other environment's auth host (its iss claim):
 * production configured but an integration token, or the other way round.
 * iss may be NULL/"" (unknown: no verdict). Custom environments never judge.
 */
bool ap_fms_iss_mismatch(const char *environment, const char *iss);

/*
 * Verifies client id + secret against ServiceTitan for the tenant: a forced
 * token, the tenant claim, the probe reads, the scope diff. On AP_OK granted
 * (space-separated claim) and missing (space-separated scope names) are
 * malloc'd for the caller; the token stays cached. On failure nothing is
 * returned and the tokens of (tenant, client id) are forgotten.
 */
enum ap_err ap_fms_verify(struct ap_fms *f, const struct ap_fms_titan_ctx *ctx,
                          const char *client_id, const char *client_secret, char **granted,
                          char **missing, struct ap_fms_error *e);

/* Runs the operator's "add the tenant to the app" hook (fms_hook.c). */
enum ap_err ap_fms_run_hook(struct ap_fms *f, int64_t tenant_id, struct ap_fms_error *e);

/* The secret of the account was proven by a fresh token just now (connect, rotate, check). */
void ap_fms_memo_tested(struct ap_fms *f, int64_t account_id);
/* True when the secret was proven within AP_FMS_SECRET_TEST_S seconds. */
bool ap_fms_memo_recent(struct ap_fms *f, int64_t account_id);

/* The account's client secret, opened (caller wipes and frees). */
enum ap_err ap_fms_open_secret(struct ap_fms *f, int64_t account_id, const struct fms_row *row,
                               char **secret);

#endif

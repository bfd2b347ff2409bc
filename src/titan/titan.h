/*
 * titan.h — the ServiceTitan V2 client every part of appointd uses.
 *
 * Environments: "production" and "integration" use ServiceTitan's real
 * hosts (API-NOTES §1.1); "custom" takes explicit base URLs (stsim). One app
 * key (the operator's, `ST-App-Key`) serves every tenant.
 *
 * A struct ap_titan is shared by all threads of the process. It owns
 *   - the per-(app, tenant) client-side rate limiters (token buckets under
 *     60 requests/s by default, shared by all threads);
 *   - the token cache: one entry per (tenant, client id), holding the token
 *     until expiry minus a margin; one fetch in flight per entry however many
 *     threads ask (the others wait for it); never a token per call.
 * Calls block the calling thread: make them from worker threads, never from
 * an HTTP loop thread. Each thread gets its own libcurl handle (through the
 * httpc adapter) so connections are reused.
 *
 * Requests: JSON in and out; connect/total timeouts; retries with jittered
 * exponential backoff for network errors, 429 (honouring Retry-After,
 * seconds or an HTTP date, and the "… N seconds." title) and 5xx, within a
 * retry budget (attempts and total time); no retry for 400/403/404/409/422.
 * A 401 drops the cached token, fetches a fresh one and retries once.
 * Every failure fills struct ap_titan_error with ServiceTitan's own status,
 * title, field errors and traceId, plus which stage failed.
 *
 * Secrets: the client secret is handed in by the caller per call (it is
 * kept by the caller, sealed at rest) and is never logged; tokens are never
 * logged either.
 */
#ifndef AP_TITAN_TITAN_H
#define AP_TITAN_TITAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "json/json.h"

enum ap_titan_env { AP_TITAN_PRODUCTION, AP_TITAN_INTEGRATION, AP_TITAN_CUSTOM };

struct ap_titan_config {
    enum ap_titan_env env;
    const char *auth_url;   /* custom only: base, "/connect/token" is appended */
    const char *api_url;    /* custom only: base, "/{module}/v2/tenant/{t}/..." appended */
    const char *app_key;    /* "ak1.…" */
    double rate_limit;      /* requests/s per (app, tenant); default 50. The bucket's burst is a
                               tenth of it, so any 1 s window sees at most 1.1 × rate. */
    int connect_timeout_ms; /* default 5000 */
    int total_timeout_ms;   /* default 30000 */
    int max_attempts;       /* default 4 (1 try + 3 retries) */
    int retry_budget_ms;    /* all attempts of one call; default 60000 */
    int token_margin_s;     /* refresh this long before expiry; default 60. Tokens living less
                               than twice the margin are used to their end (a 401 refreshes). */
};

/* Parses "production" | "integration" | "custom". */
enum ap_err ap_titan_env_parse(const char *s, enum ap_titan_env *out);
const char *ap_titan_env_name(enum ap_titan_env env);
/* ServiceTitan's own API Application Access page for the environment (the
 * link "Add to ServiceTitan" opens); custom: NULL (the caller knows better). */
const char *ap_titan_app_access_url(enum ap_titan_env env);

struct ap_titan;

/* Copies cfg. NULL with err set when it is incomplete (custom without URLs, no app key). */
struct ap_titan *ap_titan_new(const struct ap_titan_config *cfg, char *err, size_t errlen);
void ap_titan_free(struct ap_titan *t);

/* What a call is made for: one tenant's connection. Borrowed strings. */
struct ap_titan_creds {
    int64_t tenant_id;
    const char *client_id;
    const char *client_secret;
};

enum ap_titan_stage {
    AP_TITAN_STAGE_NONE,
    AP_TITAN_STAGE_TOKEN,   /* the auth host refused or failed */
    AP_TITAN_STAGE_API,     /* the API host answered with an error */
    AP_TITAN_STAGE_NETWORK, /* no answer: refused, reset, timeout, TLS */
};

struct ap_titan_error {
    enum ap_titan_stage stage;
    int status;           /* HTTP status; 0 when there was no answer */
    char oauth_error[48]; /* token stage: "invalid_client", ... */
    char title[256];      /* ApiErrorResponse title or OAuth error_description or network message */
    char trace_id[80];
    char fields[512];  /* "Field: message; Field2: message" from errors{} */
    int attempts;      /* how many were made */
    int retry_after_s; /* last Retry-After seen, 0 if none */
};

/* Decoded token claims (for the "token is for this tenant" check). */
struct ap_titan_token_info {
    int64_t tenant_id; /* the "tenant" claim */
    char **scopes;     /* the "scope" claim; free with ap_titan_token_info_cleanup */
    size_t nscopes;
    int64_t expires_at_ns; /* the "exp" claim: wall-clock ns since the epoch; 0 if absent */
    char iss[128];         /* the "iss" claim (which auth host issued it); "" if absent */
};
void ap_titan_token_info_cleanup(struct ap_titan_token_info *ti);

/*
 * Makes sure a valid token is cached for creds (fetching one if needed) and
 * decodes its claims into info (may be NULL). force: drop any cached token
 * first (used when verifying new credentials).
 */
enum ap_err ap_titan_token(struct ap_titan *t, const struct ap_titan_creds *creds, bool force,
                           struct ap_titan_token_info *info, struct ap_titan_error *e);
/* Forgets cached tokens of (tenant, client id) — after a disconnect or a secret rotation. */
void ap_titan_forget(struct ap_titan *t, int64_t tenant_id, const char *client_id);

/*
 * One API call: method, module ("crm"), path after /tenant/{t} ("/customers"),
 * optional query ("pageSize=5&active=Any", already encoded), optional JSON
 * body (borrowed). On AP_OK *out is the parsed response (new reference; NULL
 * for an empty body) and status 2xx. Errors: AP_EUNAVAIL (network, 5xx after
 * retries), AP_EBUSY (429 after retries), AP_EPERM (401/403), AP_ENOTFOUND
 * (404), AP_ECONFLICT (409), AP_EINVAL (400/422, or a bad module/path), AP_EPARSE
 * (a 2xx whose body is not JSON), with e filled. out and e may be NULL.
 * Failures of the token fetch come back the same way with stage TOKEN (e.g.
 * AP_EPERM and oauth_error "invalid_client" for a wrong secret).
 */
enum ap_err ap_titan_call(struct ap_titan *t, const struct ap_titan_creds *creds,
                          const char *method, const char *module, const char *path,
                          const char *query, const json_t *body, json_t **out,
                          struct ap_titan_error *e);

/* Pages through a list: calls fn for each row until hasMore is false or fn returns false. */
enum ap_err ap_titan_each(struct ap_titan *t, const struct ap_titan_creds *creds,
                          const char *module, const char *path, const char *query, int page_size,
                          bool (*fn)(json_t *row, void *ud), void *ud, struct ap_titan_error *e);
/* Walks an export feed from `from` ("" = start) until hasMore is false; *next (malloc'd) is the
 * last continueFrom. */
enum ap_err ap_titan_export(struct ap_titan *t, const struct ap_titan_creds *creds,
                            const char *module, const char *feed, const char *from,
                            bool (*fn)(json_t *row, void *ud), void *ud, char **next,
                            struct ap_titan_error *e);

/* ServiceTitan timestamps: 0–7 fractional digits, "Z" or an offset, or a bare date. */
bool ap_titan_parse_time(const char *s, int64_t *ns);

/* Counters for metrics and tests. */
struct ap_titan_stats {
    uint64_t calls, retries, token_fetches, rate_limited_waits, http_429, http_401;
};
void ap_titan_stats(struct ap_titan *t, struct ap_titan_stats *out);

#endif

/*
 * titan.h — the ServiceTitan V2 client every part of appointd uses.
 *
 * Environments: "production" and "integration" use ServiceTitan's real
 * hosts (API-NOTES §1.1); "custom" takes explicit base URLs (stsim). One app
 * key (the operator's, `ST-App-Key`) serves every tenant.
 *
 * The engine. A struct ap_titan owns one thread, the titan engine: an event
 * loop on libcurl multi (httpc/loop.h) on which every call of the process
 * runs as a small state machine — no thread per call, so many tenants are
 * called at their own rate limits at once. On that thread live
 *   - the token cache: one entry per (tenant, client id), holding the token
 *     until expiry minus a margin; one fetch in flight per entry (calls that
 *     need it queue on it); never a token per call, and a 429 never drops a
 *     token — only a 401 does, and only the token that got it;
 *   - the per-(app, tenant) rate limiters (token buckets under 60
 *     requests/s by default): a call waits for its slot on a timer;
 *   - retries with jittered exponential backoff for network errors, 429
 *     (honouring Retry-After: seconds, an HTTP date, or the "… N seconds."
 *     title) and 5xx, on timers; no retry for 400/403/404/409/422. A 401
 *     fetches a fresh token and retries once.
 * Every call has a deadline (the caller's, or now + retry_budget_ms): time
 * spent waiting for a token, a limiter slot or a Retry-After counts, and a
 * wait that would pass the deadline ends the call at once with AP_ETIMEOUT.
 * A call that must not be sent twice (POST/PATCH unless marked repeatable)
 * is not retried once it may have reached ServiceTitan: with no answer it
 * ends with stage NETWORK and e->sent, and the caller looks the record up
 * before creating it again.
 *
 * Two ways to call:
 *   - asynchronous, from any thread: ap_titan_call_async() and
 *     ap_titan_token_async(); the completion callback runs exactly once on
 *     the engine thread (libuv's rule: a submit that fails returns an error
 *     and the callback never runs). Callbacks must not block: hand slow work
 *     to another thread;
 *   - blocking, from any thread but the engine's (and, as anything slow,
 *     never from an HTTP loop thread): ap_titan_call(), ap_titan_call_sync(),
 *     ap_titan_token(), ap_titan_each(), ap_titan_export() — submit and wait,
 *     built on the asynchronous path; their answers are parsed on the
 *     calling thread.
 *
 * Cancellation: ap_titan_cancel_tenant() ends every outstanding call of a
 * tenant (a disconnect); ap_titan_shutdown() ends every call and refuses new
 * ones (the server stopping); ap_titan_free() shuts down and joins the
 * engine. A canceled call ends with AP_EUNAVAIL and stage CANCELED.
 *
 * Every failure fills struct ap_titan_error with ServiceTitan's own status,
 * title, field errors and traceId, plus which stage failed. Secrets: the
 * client secret is handed in by the caller per call (kept by the caller,
 * sealed at rest; the engine holds a copy only while the call lives) and is
 * never logged; tokens are never logged either.
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
    int retry_budget_ms;    /* a call's deadline when the caller sets none; default 60000 */
    int token_margin_s;     /* refresh this long before expiry; default 60. Tokens living less
                               than twice the margin are used to their end (a 401 refreshes). */
    int max_connections;    /* open connections per host; default 512 (HTTP/1.1: one per
                               request in flight; HTTP/2 shares connections) */
};

/* Parses "production" | "integration" | "custom". */
enum ap_err ap_titan_env_parse(const char *s, enum ap_titan_env *out);
const char *ap_titan_env_name(enum ap_titan_env env);
/* ServiceTitan's own API Application Access page for the environment (the
 * link "Add to ServiceTitan" opens); custom: NULL (the caller knows better). */
const char *ap_titan_app_access_url(enum ap_titan_env env);
/* ServiceTitan's web app for the environment, no trailing slash (the dashboard links a
 * booking's job, customer and location there); custom: NULL (set st-web-url). */
const char *ap_titan_web_url(enum ap_titan_env env);
/* Where a record opens in that web app, after its URL, "{id}" standing for the record's id:
 * kind "job", "customer" or "location". ServiceTitan's own pages in production and
 * integration (#/Job/Index/{id} …); custom hosts: stsim's (/jobs/{id}, /customers/{id}; no
 * location page). NULL when the app has no page for it. */
const char *ap_titan_web_path(enum ap_titan_env env, const char *kind);

struct ap_titan;

/* Copies cfg and starts the engine thread. NULL with err set when cfg is incomplete (custom
 * without URLs, no app key) or the thread cannot start. */
struct ap_titan *ap_titan_new(const struct ap_titan_config *cfg, char *err, size_t errlen);
/* ap_titan_shutdown(), then joins the engine and frees everything. NULL ok. Not from the
 * engine thread (a callback). */
void ap_titan_free(struct ap_titan *t);

/*
 * Several appointd on one database (PostgreSQL) share each tenant's token and its rate limit.
 * The client knows nothing of databases: the caller hands it functions (src/app/st_tokens.c
 * and src/app/cluster.c); without them (SQLite, one process) nothing of this costs anything.
 *
 * Tokens: when the engine has no valid token for (tenant, client id) it asks token_load for
 * one another instance saved (valid, and not the generation that just got a 401); failing
 * that, token_claim takes the one fetch of the token across instances (a lease of lease_ms;
 * false: another instance is fetching it, and the engine asks again every 50 ms while the
 * calls wait, up to their deadlines); the fetch's end goes to token_save (token NULL: the
 * fetch failed, the claim is released). They run on the engine thread and block it for one
 * short database statement each, once per token per instance, never per call. *gen numbers
 * the tokens of an entry, so a 401 drops only the token that got it, in every instance.
 */
struct ap_titan_shared {
    /* AP_OK with *token (malloc'd; the engine wipes it), *expires_real_ns and *gen;
     * AP_ENOTFOUND when none is stored or it expires within min_left_ns, or its generation is
     * stale_gen; another error when the store cannot be asked (then the engine fetches
     * itself only once token_claim says so). */
    enum ap_err (*token_load)(void *ud, int64_t tenant_id, const char *client_id, int64_t stale_gen,
                              int64_t min_left_ns, char **token, int64_t *expires_real_ns,
                              int64_t *gen);
    /* true when this instance is to fetch: the claim was free or expired, and no token valid
     * for min_left_ns more is stored (the one of generation stale_gen, if any, is dropped).
     * false: another instance holds the claim or saved a token meanwhile, or the store cannot
     * be asked. */
    bool (*token_claim)(void *ud, int64_t tenant_id, const char *client_id, int64_t stale_gen,
                        int64_t min_left_ns, int lease_ms);
    /* The fetch ended: token NULL (failed: the claim is released), else saved sealed with its
     * expiry; the new generation in *gen (0 when it could not be saved). */
    void (*token_save)(void *ud, int64_t tenant_id, const char *client_id, const char *token,
                       int64_t expires_real_ns, int64_t *gen);
    void *ud;
};
/* Sets the shared functions (copied). Before the first call. */
void ap_titan_set_shared(struct ap_titan *t, const struct ap_titan_shared *s);

/*
 * The rate limit across instances: this process may use 1/n of each tenant's rate (and of its
 * burst, at least one call), and only while the monotonic clock is within [from_ns, until_ns):
 * outside it calls wait for their turn (up to their deadlines) — the caller (src/app/cluster.c)
 * renews the window as long as its registration among the live instances is fresh, so an
 * instance that lost the database stops before the others count it gone and take its share.
 * Default: n = 1, always. Any thread.
 */
void ap_titan_set_rate_share(struct ap_titan *t, int n, int64_t from_ns, int64_t until_ns);

/* What a call is made for: one tenant's connection. Borrowed strings. */
struct ap_titan_creds {
    int64_t tenant_id;
    const char *client_id;
    const char *client_secret;
};

enum ap_titan_stage {
    AP_TITAN_STAGE_NONE,     /* nothing was sent (e.g. the deadline passed in the limiter) */
    AP_TITAN_STAGE_TOKEN,    /* the auth host refused or failed */
    AP_TITAN_STAGE_API,      /* the API host answered with an error */
    AP_TITAN_STAGE_NETWORK,  /* no answer: refused, reset, timeout, TLS */
    AP_TITAN_STAGE_CANCELED, /* ap_titan_cancel_tenant() or shutdown ended it */
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
    /* The last attempt's request (or part of it) went out to ServiceTitan. With status 0
     * (no answer: stage NETWORK or CANCELED) or a 5xx it may have been applied: a create
     * must be looked up before it is sent again. */
    bool sent;
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
 * first (used when verifying new credentials; a fetch already in flight for
 * the same client id is joined). Blocking: not on the engine thread.
 */
enum ap_err ap_titan_token(struct ap_titan *t, const struct ap_titan_creds *creds, bool force,
                           struct ap_titan_token_info *info, struct ap_titan_error *e);
/* Forgets cached tokens of (tenant, client id) — after a disconnect or a secret rotation.
 * Any thread; calls submitted after it returns fetch a new token. */
void ap_titan_forget(struct ap_titan *t, int64_t tenant_id, const char *client_id);

/* What to call: method, module ("crm"), path after /tenant/{t} ("/customers"), optional query
 * ("pageSize=5&active=Any", already encoded, no '?'), optional JSON body. Borrowed; copied
 * (the body serialised) when the call is submitted. */
struct ap_titan_req {
    const char *method; /* NULL: "GET" */
    const char *module;
    const char *path;
    const char *query;
    const json_t *body;
};

/* Per-call options; a NULL options pointer, or zero fields, take the defaults. */
struct ap_titan_opts {
    /* ap_clock_mono_ns() time by which the call ends whatever happens (AP_ETIMEOUT);
     * 0: now + the client's retry_budget_ms. */
    int64_t deadline_ns;
    int max_attempts; /* 0: the client's; 1: never retried */
    /* POST/PATCH that may be sent twice (a query, such as the dispatch capacity POST): retried
     * after network errors and 5xx like a GET. Other POST/PATCH are retried only when they
     * surely did not reach ServiceTitan (429, a refused connection). */
    bool repeatable;
};

/*
 * The end of an asynchronous call, on the engine thread: err as for ap_titan_call(); body the
 * parsed 2xx answer (NULL when empty or on error), borrowed — json_incref() it to keep it;
 * e always set (stage NONE on success). Must not block.
 */
typedef void (*ap_titan_done_fn)(void *ud, enum ap_err err, json_t *body,
                                 const struct ap_titan_error *e);

/*
 * Submits one API call; returns at once. AP_OK: done(ud, …) runs exactly once, later, on the
 * engine thread. Otherwise done never runs: AP_EINVAL (bad module, path or query; no creds),
 * AP_EUNAVAIL (shutting down). creds are copied.
 */
enum ap_err ap_titan_call_async(struct ap_titan *t, const struct ap_titan_creds *creds,
                                const struct ap_titan_req *req, const struct ap_titan_opts *opts,
                                ap_titan_done_fn done, void *ud);

/*
 * One API call, blocking (not on the engine thread: AP_EINTERNAL). On AP_OK *out is the parsed
 * response (new reference; NULL for an empty body) and status 2xx. Errors: AP_EUNAVAIL
 * (network, 5xx after retries, canceled), AP_EBUSY (429 after the last attempt), AP_ETIMEOUT
 * (the deadline passed, or a wait — limiter, Retry-After, backoff — would pass it; e keeps the
 * last answer's status and retry_after_s), AP_EPERM (401/403), AP_ENOTFOUND (404), AP_ECONFLICT
 * (409), AP_EINVAL (400/422, or a bad module/path), AP_EPARSE (a 2xx whose body is not JSON),
 * AP_ETOOBIG (a 2xx past the JSON adapter's size limit), with e filled. out and e may be NULL.
 * Failures of the token fetch come back the same way with stage TOKEN (e.g. AP_EPERM and
 * oauth_error "invalid_client" for a wrong secret).
 */
enum ap_err ap_titan_call_sync(struct ap_titan *t, const struct ap_titan_creds *creds,
                               const struct ap_titan_req *req, const struct ap_titan_opts *opts,
                               json_t **out, struct ap_titan_error *e);
/* ap_titan_call_sync() with the default options. */
enum ap_err ap_titan_call(struct ap_titan *t, const struct ap_titan_creds *creds,
                          const char *method, const char *module, const char *path,
                          const char *query, const json_t *body, json_t **out,
                          struct ap_titan_error *e);

/* The end of an asynchronous token check, on the engine thread: info (the token's claims)
 * borrowed, NULL on error; AP_EPARSE when the claims cannot be read. */
typedef void (*ap_titan_token_fn)(void *ud, enum ap_err err, const struct ap_titan_token_info *info,
                                  const struct ap_titan_error *e);
/* ap_titan_token(), asynchronously (same rules as ap_titan_call_async). */
enum ap_err ap_titan_token_async(struct ap_titan *t, const struct ap_titan_creds *creds, bool force,
                                 const struct ap_titan_opts *opts, ap_titan_token_fn done,
                                 void *ud);

/*
 * Ends every outstanding call of the tenant (submitted before this; any thread; returns at
 * once): each callback runs with AP_EUNAVAIL, stage CANCELED, title saying why. Calls
 * submitted afterwards run normally. Cached tokens stay: ap_titan_forget() drops them.
 */
void ap_titan_cancel_tenant(struct ap_titan *t, int64_t tenant_id);
/*
 * Ends every outstanding call the same way and refuses new ones (AP_EUNAVAIL; blocking calls
 * return it at once). Waits until every callback has run. Any thread but the engine's; NULL
 * ok; again is harmless.
 */
void ap_titan_shutdown(struct ap_titan *t);

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

/* Counters for metrics and tests (since ap_titan_new). */
struct ap_titan_stats {
    uint64_t calls;              /* submitted */
    uint64_t retries;            /* attempts after the first (not counting a 401 refresh) */
    uint64_t token_fetches;      /* requests to the token endpoint */
    uint64_t rate_limited_waits; /* calls that waited for a slot of the client-side limiter */
    uint64_t http_429, http_401; /* answers seen (every attempt) */
    /* how finished calls ended: */
    uint64_t ok;
    uint64_t client_errors; /* 4xx other than 429, token refusals */
    uint64_t server_errors; /* 5xx after the last attempt, 2xx answers that cannot be read */
    uint64_t network_errors;
    uint64_t timeouts;     /* the deadline */
    uint64_t rate_limited; /* 429 after the last attempt */
    uint64_t canceled;
    uint64_t in_flight; /* submitted and not yet ended (now) */
};
void ap_titan_stats(struct ap_titan *t, struct ap_titan_stats *out);

struct ap_metrics;
/*
 * Registers the counters with m (at start, before the first call; m must outlive the calls:
 * ap_titan_shutdown() before freeing m): appointd_titan_calls_total{outcome="ok|client_error|
 * server_error|network|timeout|rate_limited|canceled"}, appointd_titan_retries_total,
 * appointd_titan_token_fetches_total, appointd_titan_limiter_waits_total,
 * appointd_titan_http_429_total, appointd_titan_http_401_total, and the gauge
 * appointd_titan_calls_in_flight.
 */
void ap_titan_metrics(struct ap_titan *t, struct ap_metrics *m);

#endif

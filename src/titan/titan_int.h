/*
 * titan_int.h — the insides of the ServiceTitan client, shared by the files
 * of src/titan and by its unit tests and fuzz target (which include it to
 * reach the pure parsers, the limiter and the test hooks). Nothing outside
 * src/titan and tests/ includes this header.
 *
 * Files: titan.c (lifecycle, environments, the per-thread HTTP client, the
 * call loop, stats), token.c (the token cache and fetch), limiter.c (the
 * per-tenant token buckets), retry.c (backoff, Retry-After, status → error),
 * parse.c (token response, JWT claims, ApiErrorResponse, timestamps),
 * pages.c (paging and export iterators).
 */
#ifndef AP_TITAN_TITAN_INT_H
#define AP_TITAN_TITAN_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "titan/titan.h"

/* Limits on what ServiceTitan sends back. */
#define AP_TITAN_MAX_TOKEN      8192 /* access_token characters */
#define AP_TITAN_MAX_SCOPES     256  /* entries of the JWT scope claim */
#define AP_TITAN_MAX_EXPIRES_IN 86400
#define AP_TITAN_MAX_PAGES      100000 /* pages (or export batches) one iterator walks */

/* Backoff: base 200 ms, doubled per retry, capped at 5 s (before jitter). */
#define AP_TITAN_BACKOFF_BASE_NS (200 * 1000000LL)
#define AP_TITAN_BACKOFF_CAP_NS  (5000 * 1000000LL)
/* Longest Retry-After honoured (longer ones end the call: AP_EBUSY). */
#define AP_TITAN_MAX_RETRY_AFTER_S 3600

/* ---- parse.c: pure functions over untrusted bytes (fuzzed) ------------- */

/* A token endpoint answer. access_token and scope are malloc'd. */
struct ap_titan_token_resp {
    char *access_token;
    int64_t expires_in; /* seconds, 1..AP_TITAN_MAX_EXPIRES_IN */
    char token_type[32];
    char *scope; /* space-separated; "" when absent */
};
void ap_titan_token_resp_cleanup(struct ap_titan_token_resp *r);

/*
 * Reads the answer of POST /connect/token with HTTP status `status`. 200 with
 * a usable body → AP_OK and *out filled. Otherwise e is filled (stage TOKEN,
 * status, oauth_error and title from {"error","error_description"}) and the
 * result is the ap_titan_status_err() of the status (AP_EPARSE for a 200 that
 * is not a token). *out is zeroed on error.
 */
enum ap_err ap_titan_parse_token_response(int status, const char *body, size_t len,
                                          struct ap_titan_token_resp *out,
                                          struct ap_titan_error *e);

/*
 * Decodes the payload (the base64url middle part) of a JWT: the "tenant"
 * claim (a decimal string, or a number), the "scope" claim (an array of
 * strings, or one space-separated string) and "exp" (seconds → wall-clock ns).
 * The signature is not checked (the client only reads its own token). On
 * error info is left empty: AP_EPARSE.
 */
enum ap_err ap_titan_jwt_claims(const char *jwt, struct ap_titan_token_info *info);

/*
 * Fills e's title, trace_id and fields from an ApiErrorResponse body (tolerant
 * of missing parts and of bodies that are not JSON: then the title is the
 * status's reason phrase). Sets e->status to `status`. Never fails.
 */
void ap_titan_parse_error_body(int status, const char *body, size_t len, struct ap_titan_error *e);

/* ---- retry.c ---------------------------------------------------------- */

/*
 * Delay before retry number `retry` (1 = the first retry): the exponential
 * step min(base·2^(retry-1), cap), jittered into [step/2, step] by rnd.
 */
int64_t ap_titan_backoff_ns(int retry, uint32_t rnd);

/*
 * Seconds to wait after a 429: the Retry-After header (delta-seconds, or an
 * HTTP-date compared with now_real_ns), else the number N in a title ending
 * "… N seconds." / "… N second.". false when neither says (use the backoff).
 * The result is clamped to [0, AP_TITAN_MAX_RETRY_AFTER_S + 1].
 */
bool ap_titan_retry_after(const char *header, const char *title, int64_t now_real_ns, int *secs);

/* HTTP status → enum ap_err (see ap_titan_call); 0 (no answer) → AP_EUNAVAIL. */
enum ap_err ap_titan_status_err(int status);
/* Whether a failure with this status (0 = network) is worth another attempt. */
bool ap_titan_status_retryable(int status);
/* Reason phrase of a status ("Too Many Requests"); "HTTP error" when unknown. */
const char *ap_titan_status_text(int status);

/* ---- limiter.c -------------------------------------------------------- */

/*
 * A token bucket in GCRA form: `rate` emissions per second with a burst of
 * `burst`. In any window of length W at most burst + rate·W requests are let
 * through. Thread-safe.
 */
struct ap_titan_limiter {
    pthread_mutex_t mu;
    int64_t interval_ns;  /* 1 s / rate */
    int64_t tolerance_ns; /* (burst - 1) · interval */
    int64_t tat_ns;       /* theoretical arrival time of the next request */
};
void ap_titan_limiter_init(struct ap_titan_limiter *l, double rate, int burst);
void ap_titan_limiter_cleanup(struct ap_titan_limiter *l);
/* Reserves the next slot: the (mono) time at which the caller may send, >= now_ns. */
int64_t ap_titan_limiter_reserve(struct ap_titan_limiter *l, int64_t now_ns);
/* The burst used for a rate: a tenth of a second's worth, at least 1. */
int ap_titan_burst_for(double rate);

/* ---- the client ------------------------------------------------------- */

/* Test hooks (NULL members: the real thing). */
struct ap_titan_hooks {
    /* Instead of POST /connect/token; fills out or e. */
    enum ap_err (*fetch_token)(void *ud, const struct ap_titan_creds *creds,
                               struct ap_titan_token_resp *out, struct ap_titan_error *e);
    /* Instead of nanosleep (tests advance the fake clock). */
    void (*sleep_ns)(void *ud, int64_t ns);
    /* Instead of the random source of the jitter. */
    uint32_t (*random)(void *ud);
    void *ud;
};
void ap_titan_set_hooks(struct ap_titan *t, const struct ap_titan_hooks *h);

struct ap_titan_tok; /* token.c */
struct ap_titan_lim; /* limiter.c: one per tenant */
struct ap_titan_tls; /* titan.c: one per thread that called */

struct ap_titan {
    struct ap_titan_config cfg; /* strings below are owned copies */
    char *token_url, *api_base, *app_key, *app_key_header;
    int burst;
    pthread_mutex_t mu; /* tokens, limiters, tls registry */
    pthread_cond_t cv;  /* a token fetch finished */
    struct ap_titan_tok *tokens;
    struct ap_titan_lim *limiters;
    pthread_key_t tls_key;
    struct ap_titan_tls *tls;
    struct ap_titan_hooks hooks;
    _Atomic uint64_t n_calls, n_retries, n_token_fetches, n_waits, n_429, n_401;
};

/* titan.c */
struct ap_httpc *ap_titan_httpc(struct ap_titan *t);
void ap_titan_sleep(struct ap_titan *t, int64_t ns);
uint32_t ap_titan_random(struct ap_titan *t);

/* token.c: the cached token of creds as a malloc'd string (fetched when
 * needed). stale: a token that just got a 401 — dropped when still cached. */
enum ap_err ap_titan_token_get(struct ap_titan *t, const struct ap_titan_creds *creds, bool force,
                               const char *stale, char **token, struct ap_titan_error *e);
void ap_titan_tokens_free(struct ap_titan *t);

/* limiter.c: waits for a slot of the tenant's bucket. */
void ap_titan_limit(struct ap_titan *t, int64_t tenant_id);
void ap_titan_limiters_free(struct ap_titan *t);

#endif

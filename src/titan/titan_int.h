/*
 * titan_int.h — the insides of the ServiceTitan client, shared by the files
 * of src/titan and by its unit tests and fuzz target (which include it to
 * reach the pure parsers, the limiter and the test hooks). Nothing outside
 * src/titan and tests/ includes this header.
 *
 * Files: titan.c (environments, lifecycle, the engine thread, cancellation,
 * stats), call.c (submitting calls; the blocking forms), engine.c (one call's
 * state machine on the engine thread), token.c (the token cache and its
 * asynchronous single-flight fetch), limiter.c (the per-tenant token
 * buckets), retry.c (backoff, Retry-After, status → error), parse.c (token
 * response, JWT claims, ApiErrorResponse, timestamps), pages.c (paging and
 * export iterators).
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
/* Longest Retry-After honoured (longer ones end the call at once). */
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

/*
 * Reads the body of a 2xx answer with status `status` through the json adapter (its limits):
 * *out the value, NULL for an empty body. AP_EPARSE (not JSON) or AP_ETOOBIG (past the
 * adapter's size limit) with e's stage, status and title filled.
 */
enum ap_err ap_titan_read_body(const char *body, size_t len, int status, json_t **out,
                               struct ap_titan_error *e);

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
 * through. Thread-safe (the engine uses it from its one thread; the tests
 * from several).
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
/* Like reserve, but only when the slot is at or before latest_ns; false (nothing reserved)
 * otherwise. *at is the slot's time either way. */
bool ap_titan_limiter_reserve_by(struct ap_titan_limiter *l, int64_t now_ns, int64_t latest_ns,
                                 int64_t *at);
/* The burst used for a rate: a tenth of a second's worth, at least 1. */
int ap_titan_burst_for(double rate);

/* ---- the client ------------------------------------------------------- */

/* Test hooks (NULL members: the real thing). Set before the first call. */
struct ap_titan_hooks {
    /* Instead of POST /connect/token; fills out or e. Runs on the engine thread. */
    enum ap_err (*fetch_token)(void *ud, const struct ap_titan_creds *creds,
                               struct ap_titan_token_resp *out, struct ap_titan_error *e);
    /* Called with the length of every wait (limiter, backoff, Retry-After) before the engine's
     * timer is set: tests advance the fake clock so the timer is due at once. */
    void (*sleep_ns)(void *ud, int64_t ns);
    /* Instead of the random source of the jitter. */
    uint32_t (*random)(void *ud);
    void *ud;
};
void ap_titan_set_hooks(struct ap_titan *t, const struct ap_titan_hooks *h);

/* The counters (struct ap_titan_stats, /metrics). The outcomes of ended calls
 * are OK..CANCELED, in this order. */
enum ap_titan_ctr {
    AP_TITAN_CTR_CALLS,
    AP_TITAN_CTR_RETRIES,
    AP_TITAN_CTR_TOKEN_FETCHES,
    AP_TITAN_CTR_WAITS,
    AP_TITAN_CTR_429,
    AP_TITAN_CTR_401,
    AP_TITAN_CTR_OK,
    AP_TITAN_CTR_CLIENT,
    AP_TITAN_CTR_SERVER,
    AP_TITAN_CTR_NETWORK,
    AP_TITAN_CTR_TIMEOUT,
    AP_TITAN_CTR_LIMITED,
    AP_TITAN_CTR_CANCELED,
    AP_TITAN_NCTR
};

struct ap_titan_tok; /* token.c */
struct ap_titan_lim; /* limiter.c: one per tenant */
struct ap_counter;
struct ap_httpc_loop;
struct ap_httpc_timer;
struct ap_httpc_xfer;

struct ap_titan {
    struct ap_titan_config cfg; /* strings below are owned copies */
    char *token_url, *api_base, *app_key, *app_key_header;
    int burst;
    struct ap_titan_hooks hooks;
    struct ap_titan_shared shared; /* token_load NULL: not shared */
    /* the rate share (ap_titan_set_rate_share), under share_mu */
    pthread_mutex_t share_mu;
    int share_n, share_gen;
    int64_t share_from_ns, share_until_ns;
    struct ap_httpc_loop *loop; /* the engine thread */
    /* the engine thread's alone */
    struct ap_titan_tok *tokens;
    struct ap_titan_lim *limiters;
    struct ap_titan_op *ops; /* calls started on the engine */
    /* shared: calls submitted and not yet ended, and the stop flag */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* live reached 0 */
    uint64_t live;
    bool stopping;
    _Atomic uint64_t ctr[AP_TITAN_NCTR];
    struct ap_counter *mctr[AP_TITAN_NCTR]; /* the same in /metrics (ap_titan_metrics) */
};

/* Counts one event: the stats counter, and its metric when registered. */
void ap_titan_count(struct ap_titan *t, enum ap_titan_ctr c);

/* ---- engine.c: one call (or token check) on the engine thread ---------- */

enum ap_titan_op_state {
    AP_TITAN_OP_NEW,   /* submitted, not yet started */
    AP_TITAN_OP_TOKEN, /* queued on a token fetch */
    AP_TITAN_OP_WAIT,  /* on a timer: a limiter slot, a backoff, a Retry-After */
    AP_TITAN_OP_HTTP,  /* the request is in flight */
};

/* The end of a blocking call (call.c): raw is the 2xx body (malloc'd, the callee's), NULL
 * otherwise. */
typedef void (*ap_titan_raw_fn)(void *ud, enum ap_err err, char *raw, size_t len, int status,
                                const struct ap_titan_error *e);

struct ap_titan_op {
    struct ap_titan_op *next, *prev; /* t->ops */
    struct ap_titan_op *wnext;       /* the waiters of a token entry */
    struct ap_titan *t;
    bool is_token;               /* a token check (ap_titan_token*), not an API call */
    bool force;                  /* token check: drop the cached token first */
    bool claims;                 /* token check: decode the token's claims for the callback */
    struct ap_titan_creds creds; /* points at the owned copies below */
    char *client_id, *client_secret;
    char *method, *url, *logpath, *body;
    bool repeatable;
    int64_t deadline_ns;
    int max_attempts, tries;
    bool refreshed, got_401, linked, canceled, deadline_hit, clamped;
    char *token; /* the token of the current attempt */
    enum ap_titan_op_state st;
    void (*after_wait)(struct ap_titan_op *op);
    struct ap_httpc_timer *wait_tm, *deadline_tm;
    struct ap_httpc_xfer *xfer;
    char why[80]; /* why it was canceled */
    struct ap_titan_error e;
    ap_titan_done_fn done;
    ap_titan_token_fn tdone;
    ap_titan_raw_fn rdone; /* a blocking call: the 2xx body is read on the caller's thread */
    char *raw;             /* that body, handed to rdone */
    size_t raw_len;
    void *ud;
};

/* Ends a blocking call's op (engine.c → call.c): on AP_OK with the raw 2xx body in op->raw
 * (rdone takes it); counts and logs what the engine knows. */
void ap_titan_op_end_raw(struct ap_titan_op *op, enum ap_err err);
/* How a call ended, for the counters; its failure log line. */
void ap_titan_count_outcome(struct ap_titan *t, enum ap_err err, const struct ap_titan_error *e);
void ap_titan_log_end(const struct ap_titan_op *op, enum ap_err err);

/* Starts a submitted op (posted to the engine by call.c; takes ownership). */
void ap_titan_op_start(void *op);
/* Frees an op that never started (its submission failed). */
void ap_titan_op_free(struct ap_titan_op *op);
/* token.c → engine.c: the token an op waited for is there (op->token set) or failed (e). */
void ap_titan_op_token_ready(struct ap_titan_op *op, enum ap_err err,
                             const struct ap_titan_error *e);
/* Ends op (and every op when tenant_id is 0) as canceled, saying why. Engine thread. */
void ap_titan_ops_cancel(struct ap_titan *t, int64_t tenant_id, const char *why);

/* ---- token.c: the token cache, on the engine thread -------------------- */

/*
 * The op needs a token for its creds: true and op->token set (a copy) when a
 * valid one is cached; else false and op queued on the entry's fetch (started
 * when none is in flight): ap_titan_op_token_ready() follows. force: drop the
 * cached token first. stale: the token that just got a 401 — dropped when it
 * is still the cached one.
 */
bool ap_titan_tok_need(struct ap_titan *t, struct ap_titan_op *op, bool force, const char *stale);
/* Takes op off the queue it waits in (cancel, deadline). */
void ap_titan_tok_unwait(struct ap_titan *t, struct ap_titan_op *op);
/* Drops the cached token of (tenant, client id) unless a fetch is in flight. */
void ap_titan_tok_forget(struct ap_titan *t, int64_t tenant_id, const char *client_id);
/* Aborts the fetches in flight (shutdown). */
void ap_titan_tok_abort_all(struct ap_titan *t);
void ap_titan_tokens_free(struct ap_titan *t);

/* ---- limiter.c ---------------------------------------------------------- */

/* Reserves the tenant's next slot if it comes by latest_ns (see reserve_by), at this
 * process's share of the rate. Outside the share's window nothing is reserved and *again is
 * set: ask again at *at (false when that is past latest_ns). Engine thread. */
bool ap_titan_limit(struct ap_titan *t, int64_t tenant_id, int64_t now_ns, int64_t latest_ns,
                    int64_t *at, bool *again);
void ap_titan_limiters_free(struct ap_titan *t);

/* ---- titan.c ------------------------------------------------------------ */

uint32_t ap_titan_random(struct ap_titan *t);
/* One call ended: counts its outcome and lets ap_titan_shutdown() go on. */
void ap_titan_live_done(struct ap_titan *t);

#endif

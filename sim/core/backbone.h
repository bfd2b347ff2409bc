/*
 * backbone.h — private to the emulator's backbone (sim/core's gate, auth
 * host, control API, and stsim.c's main): access tokens (token.c), rate
 * buckets, faults and the request log (reqlog.c), and the routes of the
 * backbone's hosts. The emulated modules never include it.
 *
 * struct sim_log (s->log) is the gate's runtime state: the request-log ring,
 * the rate buckets of (app, tenant) pairs and of token clients, the status
 * counters and the routes' user data. It is created on first use and freed
 * by sim_gate_free(); sim_gate_reset() empties it (but keeps the routes).
 * struct sim_fault (s->faults) is a singly linked list of injected faults.
 * Everything here is used under s->lock, except the pure functions
 * (tokens, buckets, path matching).
 */
#ifndef SIM_CORE_BACKBONE_H
#define SIM_CORE_BACKBONE_H

#include "sim/core/api.h"

/* ---- access tokens ----------------------------------------------------- */

#define SIM_TOKEN_MAX 8192 /* longest token text accepted */

/*
 * Mints a JWT-shaped token: base64url(header).base64url(payload).base64url(sig)
 * with header {alg:"RS256", typ:"at+jwt", kid} and payload {nbf, iat, exp,
 * iss, client_id, tenant (string), jti, scope (array)}. The signature is
 * HMAC-SHA256 under key, NOT RS256: only stsim itself can verify it.
 * Returns a malloc'd string (caller frees).
 */
char *sim_token_mint(const uint8_t key[32], const char *iss, const char *client_id, int64_t tenant,
                     const char *const *scopes, size_t nscopes, int64_t now_s, int lifetime_s);

enum sim_token_result { SIM_TOKEN_OK, SIM_TOKEN_BAD, SIM_TOKEN_EXPIRED };

struct sim_token_claims {
    char client_id[48];
    int64_t tenant;
    int64_t exp;
    json_t *scope; /* array of strings; new reference the caller decrefs (NULL unless OK) */
};

/* Checks the signature, the shape and exp > now_s. */
enum sim_token_result sim_token_verify(const uint8_t key[32], const char *token, int64_t now_s,
                                       struct sim_token_claims *out);

/* ---- rate buckets ---------------------------------------------------------- */

struct sim_bucket {
    double tokens;
    int64_t last_ns; /* 0: never used (starts full) */
};

/*
 * Token bucket: refills rate per period_ns, holds at most burst. Takes one
 * token and returns true, or returns false with *retry_after_s (>= 1) the
 * whole seconds until one is there.
 */
bool sim_bucket_take(struct sim_bucket *b, double rate, double burst, int64_t period_ns,
                     int64_t now_ns, int *retry_after_s);

/* ---- faults ---------------------------------------------------------------- */

enum sim_fault_kind {
    SIM_FAULT_STATUS,
    SIM_FAULT_LATENCY,
    SIM_FAULT_DROP,
    SIM_FAULT_APPLY_THEN_DROP,
    SIM_FAULT_OUTAGE,
    SIM_FAULT_TOKEN_DOWN,
};

struct sim_fault {
    struct sim_fault *next;
    int64_t id;
    char match[256]; /* path prefix with '*' segments, "*" = all, "token" = the auth host */
    char method[16]; /* "" = any */
    enum sim_fault_kind kind;
    int status;      /* SIM_FAULT_STATUS */
    int count;       /* calls left; -1 = until cleared */
    int latency_ms;  /* SIM_FAULT_LATENCY */
    int retry_after; /* seconds for a Retry-After header; 0 = none */
    int percent;     /* 1..100: the share of matching calls it hits (100 = every one) */
    uint64_t rng;    /* draws for percent (seeded with "seed", else the fault id) */
    uint64_t hits;   /* calls it was applied to */
};

/* "status" → SIM_FAULT_STATUS ...; false for an unknown name. */
bool sim_fault_kind_parse(const char *name, enum sim_fault_kind *out);
/*
 * Does pattern cover path? Segment-wise prefix: "*" in a segment matches any
 * one segment; the whole pattern "*" matches every path.
 */
bool sim_fault_path_match(const char *pattern, const char *path);
/* Adds f (copied) at the end; assigns and returns its id. */
int64_t sim_fault_add(struct sim *s, const struct sim_fault *f);
void sim_fault_clear(struct sim *s);
/*
 * The first fault for a call on the auth host (auth true) or the API host
 * with method and path that hits it (a fault with percent < 100 lets the
 * others it misses go on to the next fault); consumes one of its count
 * (removing it at 0). Copies it into out and returns true; false when none
 * applies.
 */
bool sim_fault_take(struct sim *s, bool auth, const char *method, const char *path,
                    struct sim_fault *out);

/* ---- request log and counters ---------------------------------------------- */

#define SIM_LOG_CAP      10000
#define SIM_LOG_BODY_MAX (16 * 1024)

struct sim_log_entry {
    uint64_t seq;
    int64_t time_ns;
    bool auth; /* host "auth", else "api" */
    char method[12];
    char *path, *query, *body; /* malloc'd; NULL = none */
    char *note;                /* malloc'd: what stsim wants the integrator to know, or NULL */
    int status;                /* 0 = dropped without an answer */
    bool dropped;
    double latency_ms;
    char client_id[48];
    int64_t tenant;
    char app_key[64];
};

/* Records e (its strings are taken over). */
void sim_log_add(struct sim *s, struct sim_log_entry *e);
struct sim_log_filter {
    uint64_t since;           /* entries with seq > since */
    int host;                 /* -1 both hosts, 0 api, 1 auth */
    int status_lo, status_hi; /* answered status in [lo, hi]; 0 = dropped unanswered */
};
/* The entries f selects, oldest first, as a JSON array. */
json_t *sim_log_json(struct sim *s, const struct sim_log_filter *f);
void sim_log_clear(struct sim *s);
/* Per-status counts of API-host answers, {"200": n, ...}; and rejected token requests. */
json_t *sim_status_counts(struct sim *s);
void sim_count_token_rejected(struct sim *s);
uint64_t sim_tokens_rejected(struct sim *s);
/* Per-client token-request throttle; false (with *retry_after_s) when over the limit. */
bool sim_token_throttle(struct sim *s, const char *client_id, int *retry_after_s);

/* A fresh W3C-style trace id "00-<32 hex>-<16 hex>-00". */
void sim_trace_id(char out[64]);

/* Keeps the gate's per-route data (malloc'd) until sim_gate_free(). */
void sim_log_keep_route(struct sim *s, void *route);
/* The per-(app, tenant) API throttle; false (with *retry) when over cfg.rate_limit. */
bool sim_api_throttle(struct sim *s, const struct sim_app *a, int64_t tenant, int *retry);

/* ---- binding (check.c) ---------------------------------------------------------- */

/* While sink is set (the gate sets it around a handler, under s->lock), sim_check
 * appends the paths of the body fields it ignored to it; NULL stops that. */
void sim_check_collect(json_t *sink);

/* ---- replies outside a call (reply.c) ------------------------------------------ */

/* The Content-Type of every JSON answer stsim sends. */
#define SIM_JSON_TYPE "application/json; charset=utf-8"
/* Compact JSON text of j (json_text.c): a new string of *len bytes the caller
 * frees; reals in their shortest round-trip form. */
char *sim_json_text(const json_t *j, size_t *len);
/* d in its shortest round-trip form, with ".0" when it would read as an integer. */
void sim_json_real(double d, char out[32]);

/* Sends body (stolen) as JSON with status. */
void sim_send_json(struct ap_http_req *req, int status, json_t *body);
/* A non-negative decimal int64 of at most 19 digits, nothing else. */
bool sim_id_parse(const char *s, int64_t *out);

/* Gate state lifetime (see top). */
void sim_gate_reset(struct sim *s);
void sim_gate_free(struct sim *s);

/* ---- other backbone parts --------------------------------------------------- */

/* auth.c: registers POST /connect/token on the auth host's router. */
void sim_auth_routes(struct sim *s, struct ap_router *r);
/* control.c: registers /_stsim/... on the API host's router. */
void sim_control_routes(struct sim *s, struct ap_router *r);
/* gate.c: the API host's fallback (404 ApiErrorResponse for unknown paths). */
void sim_gate_fallback_route(struct sim *s, struct ap_router *r);

#endif

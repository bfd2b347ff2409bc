/*
 * gate.c — the API host's front door. Every emulated endpoint is registered
 * through sim_api_route(); the gate wraps its handler and, under s->lock,
 * does what ServiceTitan's gateway does before the handler runs:
 *
 *   1. injected faults (outage, status, drop, latency, apply-then-drop);
 *   2. the app key: ST-App-Key header or servicetitanapplicationkey query
 *      (missing or unknown → 401);
 *   3. the access token: "Bearer <t>" or a bare "<t>" (missing, garbage or
 *      expired → 401);
 *   4. the tenant: path tenant must be the token's (else 403), and exist
 *      (else 404);
 *   5. the connection: the token's client must be a connection of this app
 *      and tenant (else 401), connected (disabled → 401);
 *   6. the scope: in the token's scope claim and still granted (else 403,
 *      the title names it);
 *   7. the per-(app, tenant) rate limit (token bucket, cfg.rate_limit per
 *      second, burst = rate) → 429 with Retry-After and a title ending
 *      "Try again in N seconds.";
 *   8. the JSON body of POST/PUT/PATCH (malformed → 400);
 *
 * then calls the handler, makes sure it answered (else 500), and writes the
 * request-log entry and counters. Every error is an ApiErrorResponse.
 *
 * Faults, the request log and the rate buckets live here too (see
 * sim_int.h), as do the reply helpers handlers use (sim_reply, sim_problem).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "sim/sim_int.h"

#define MAX_BUCKETS 4096 /* (app, tenant) pairs and token clients kept */
#define STATUS_MIN  100
#define STATUS_MAX  599

struct route_ud {
    struct sim *s;
    char scope[64];
    sim_handler_fn fn;
};

struct keyed_bucket {
    char key[96];
    struct sim_bucket b;
};

struct sim_log {
    struct sim_log_entry *ring; /* SIM_LOG_CAP entries */
    uint64_t next_seq;          /* seq of the next entry; first is 1 */
    struct keyed_bucket *api_buckets, *token_buckets;
    size_t napi, ntoken;
    uint64_t by_status[STATUS_MAX + 1];
    uint64_t tokens_rejected;
    int64_t next_fault_id;
    struct route_ud **routes;
    size_t nroutes;
};

static struct sim_log *gate(struct sim *s)
{
    if (!s->log) {
        s->log = ap_xcalloc(1, sizeof(*s->log));
        s->log->ring = ap_xcalloc(SIM_LOG_CAP, sizeof(*s->log->ring));
        s->log->next_seq = 1;
        s->log->next_fault_id = 1;
    }
    return s->log;
}

/* ---- rate buckets ---------------------------------------------------------- */

bool sim_bucket_take(struct sim_bucket *b, double rate, double burst, int64_t period_ns,
                     int64_t now_ns, int *retry_after_s)
{
    if (b->last_ns == 0) {
        b->tokens = burst;
        b->last_ns = now_ns;
    }
    if (now_ns > b->last_ns) {
        b->tokens += rate * (double)(now_ns - b->last_ns) / (double)period_ns;
        if (b->tokens > burst)
            b->tokens = burst;
        b->last_ns = now_ns;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    double wait_s = (1.0 - b->tokens) / rate * (double)period_ns / 1e9;
    int secs = (int)wait_s;
    if ((double)secs < wait_s)
        secs++;
    *retry_after_s = secs < 1 ? 1 : secs;
    return false;
}

/* The bucket of key in a small table; the oldest-used one is recycled when full. */
static struct sim_bucket *bucket_of(struct keyed_bucket **tab, size_t *n, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*tab)[i].key, key) == 0)
            return &(*tab)[i].b;
    size_t slot = *n;
    if (*n == MAX_BUCKETS) {
        slot = 0;
        for (size_t i = 1; i < *n; i++)
            if ((*tab)[i].b.last_ns < (*tab)[slot].b.last_ns)
                slot = i;
    } else {
        *tab = ap_xrealloc(*tab, (*n + 1) * sizeof(**tab));
        (*n)++;
    }
    struct keyed_bucket *kb = &(*tab)[slot];
    memset(kb, 0, sizeof(*kb));
    snprintf(kb->key, sizeof(kb->key), "%s", key);
    return &kb->b;
}

bool sim_token_throttle(struct sim *s, const char *client_id, int *retry_after_s)
{
    int limit = s->cfg.token_rate_limit;
    if (limit <= 0)
        return true;
    struct sim_log *g = gate(s);
    struct sim_bucket *b = bucket_of(&g->token_buckets, &g->ntoken, client_id);
    /* real time, not the emulator clock: moving the clock must not refill */
    return sim_bucket_take(b, limit, limit, 60LL * 1000000000, ap_clock_mono_ns(), retry_after_s);
}

static bool api_throttle(struct sim *s, const struct sim_app *a, int64_t tenant, int *retry)
{
    int limit = s->cfg.rate_limit;
    if (limit <= 0)
        return true;
    struct sim_log *g = gate(s);
    char key[96];
    snprintf(key, sizeof(key), "%s/%lld", a->id, (long long)tenant);
    struct sim_bucket *b = bucket_of(&g->api_buckets, &g->napi, key);
    return sim_bucket_take(b, limit, limit, 1000000000, ap_clock_mono_ns(), retry);
}

/* ---- faults ------------------------------------------------------------------ */

bool sim_fault_kind_parse(const char *name, enum sim_fault_kind *out)
{
    static const char *const names[] = {"status",          "latency", "drop",
                                        "apply_then_drop", "outage",  "token_down"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (name && strcmp(name, names[i]) == 0) {
            *out = (enum sim_fault_kind)i;
            return true;
        }
    return false;
}

bool sim_fault_path_match(const char *pattern, const char *path)
{
    if (strcmp(pattern, "*") == 0)
        return true;
    const char *p = pattern, *q = path;
    while (*p) {
        const char *pe = strchr(p, '/'), *qe = strchr(q, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t ql = qe ? (size_t)(qe - q) : strlen(q);
        bool star = pl == 1 && *p == '*';
        if (!star && (pl != ql || memcmp(p, q, pl) != 0))
            return false;
        if (star && ql == 0 && (p != pattern))
            return false;
        p += pl;
        q += ql;
        if (*p == '/' && *q != '/')
            return p[1] == '\0' && *q == '\0'; /* "a/b/" covers "a/b" */
        if (*p == '/') {
            p++;
            q++;
        }
    }
    /* the pattern is used up: a segment-wise prefix when the path ends or goes on */
    return *q == '\0' || *q == '/' || (q > path && q[-1] == '/');
}

int64_t sim_fault_add(struct sim *s, const struct sim_fault *f)
{
    struct sim_log *g = gate(s);
    struct sim_fault *n = ap_xmalloc(sizeof(*n));
    *n = *f;
    n->next = NULL;
    n->id = g->next_fault_id++;
    struct sim_fault **pp = &s->faults;
    while (*pp)
        pp = &(*pp)->next;
    *pp = n;
    return n->id;
}

void sim_fault_clear(struct sim *s)
{
    while (s->faults) {
        struct sim_fault *n = s->faults->next;
        free(s->faults);
        s->faults = n;
    }
}

static bool fault_applies(const struct sim_fault *f, bool auth, const char *method,
                          const char *path)
{
    if (f->method[0] && strcasecmp(f->method, method) != 0)
        return false;
    if (auth) {
        if (f->kind == SIM_FAULT_TOKEN_DOWN)
            return true;
        return strcmp(f->match, "token") == 0 ||
               (strcmp(f->match, "*") == 0 && f->kind == SIM_FAULT_OUTAGE);
    }
    if (f->kind == SIM_FAULT_TOKEN_DOWN || strcmp(f->match, "token") == 0)
        return false;
    return sim_fault_path_match(f->match, path);
}

bool sim_fault_take(struct sim *s, bool auth, const char *method, const char *path,
                    struct sim_fault *out)
{
    for (struct sim_fault **pp = &s->faults; *pp; pp = &(*pp)->next) {
        struct sim_fault *f = *pp;
        if (!fault_applies(f, auth, method, path))
            continue;
        *out = *f;
        if (f->count > 0 && --f->count == 0) {
            *pp = f->next;
            free(f);
        }
        return true;
    }
    return false;
}

/* ---- request log ------------------------------------------------------------- */

static void entry_cleanup(struct sim_log_entry *e)
{
    free(e->path);
    free(e->query);
    free(e->body);
    memset(e, 0, sizeof(*e));
}

void sim_log_add(struct sim *s, struct sim_log_entry *e)
{
    struct sim_log *g = gate(s);
    e->seq = g->next_seq++;
    struct sim_log_entry *slot = &g->ring[e->seq % SIM_LOG_CAP];
    entry_cleanup(slot);
    *slot = *e;
    if (!e->auth && e->status >= STATUS_MIN && e->status <= STATUS_MAX)
        g->by_status[e->status]++;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *entry_json(const struct sim_log_entry *e)
{
    char t[40];
    sim_time_fmt(e->time_ns, t);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:b, s:f}", "seq",
                          (json_int_t)e->seq, "time", t, "host", e->auth ? "auth" : "api", "method",
                          e->method, "path", str_or_null(e->path), "query", str_or_null(e->query),
                          "body", str_or_null(e->body), "status", e->status, "dropped", e->dropped,
                          "latencyMs", e->latency_ms);
    json_object_set_new(o, "clientId", e->client_id[0] ? json_string(e->client_id) : json_null());
    json_object_set_new(o, "tenant", e->tenant ? json_integer(e->tenant) : json_null());
    json_object_set_new(o, "appKey", e->app_key[0] ? json_string(e->app_key) : json_null());
    return o;
}

json_t *sim_log_json(struct sim *s, uint64_t since, int host)
{
    struct sim_log *g = gate(s);
    json_t *arr = json_array();
    uint64_t first = g->next_seq > SIM_LOG_CAP ? g->next_seq - SIM_LOG_CAP : 1;
    if (since + 1 > first)
        first = since + 1;
    for (uint64_t seq = first; seq < g->next_seq; seq++) {
        const struct sim_log_entry *e = &g->ring[seq % SIM_LOG_CAP];
        if (e->seq != seq || (host == 0 && e->auth) || (host == 1 && !e->auth))
            continue;
        json_array_append_new(arr, entry_json(e));
    }
    return arr;
}

void sim_log_clear(struct sim *s)
{
    struct sim_log *g = gate(s);
    for (size_t i = 0; i < SIM_LOG_CAP; i++)
        entry_cleanup(&g->ring[i]);
}

json_t *sim_status_counts(struct sim *s)
{
    struct sim_log *g = gate(s);
    json_t *o = json_object();
    for (int st = STATUS_MIN; st <= STATUS_MAX; st++) {
        if (!g->by_status[st])
            continue;
        char k[8];
        snprintf(k, sizeof(k), "%d", st);
        json_object_set_new(o, k, json_integer((json_int_t)g->by_status[st]));
    }
    return o;
}

void sim_count_token_rejected(struct sim *s)
{
    gate(s)->tokens_rejected++;
}

uint64_t sim_tokens_rejected(struct sim *s)
{
    return gate(s)->tokens_rejected;
}

void sim_gate_reset(struct sim *s)
{
    struct sim_log *g = gate(s);
    sim_log_clear(s);
    sim_fault_clear(s);
    free(g->api_buckets);
    free(g->token_buckets);
    g->api_buckets = g->token_buckets = NULL;
    g->napi = g->ntoken = 0;
    memset(g->by_status, 0, sizeof(g->by_status));
    g->tokens_rejected = 0;
}

void sim_gate_free(struct sim *s)
{
    if (!s || !s->log)
        return;
    sim_gate_reset(s);
    struct sim_log *g = s->log;
    for (size_t i = 0; i < g->nroutes; i++)
        free(g->routes[i]);
    free(g->routes);
    free(g->ring);
    free(g);
    s->log = NULL;
}

/* ---- replies ------------------------------------------------------------------ */

void sim_trace_id(char out[64])
{
    uint8_t r[24];
    char hex[49];
    ap_crypto_random(r, sizeof(r));
    ap_crypto_hex(r, sizeof(r), hex);
    snprintf(out, 64, "00-%.32s-%.16s-00", hex, hex + 32);
}

static const char *problem_type(int status)
{
    switch (status) {
    case 400:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.1";
    case 401:
        return "https://tools.ietf.org/html/rfc7235#section-3.1";
    case 403:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.3";
    case 404:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.4";
    case 405:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.5";
    case 409:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.8";
    case 415:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.13";
    case 422:
        return "https://tools.ietf.org/html/rfc4918#section-11.2";
    case 429:
        return "https://tools.ietf.org/html/rfc6585#section-4";
    case 503:
        return "https://tools.ietf.org/html/rfc7231#section-6.6.4";
    default:
        return status >= 500 ? "https://tools.ietf.org/html/rfc7231#section-6.6.1"
                             : "https://tools.ietf.org/html/rfc7231#section-6.5.1";
    }
}

json_t *sim_problem_body(int status, const char *title, json_t *errors)
{
    char trace[64];
    sim_trace_id(trace);
    return json_pack("{s:s, s:s, s:i, s:s, s:o, s:o}", "type", problem_type(status), "title",
                     title ? title : "", "status", status, "traceId", trace, "errors",
                     errors ? errors : json_object(), "data", json_object());
}

static void send_json(struct ap_http_req *req, int status, json_t *body)
{
    char *text = ap_json_dumps(body);
    ap_http_respond_json(req, status, text, strlen(text));
    free(text);
    json_decref(body);
}

void sim_reply(struct sim_call *c, int status, json_t *body)
{
    if (c->status) {
        ap_log_error("sim.double_reply", "status=%d first=%d", status, c->status);
        json_decref(body);
        return;
    }
    c->status = status;
    send_json(c->req, status, body ? body : json_null());
}

void sim_reply_empty(struct sim_call *c, int status)
{
    if (c->status) {
        ap_log_error("sim.double_reply", "status=%d first=%d", status, c->status);
        return;
    }
    c->status = status;
    ap_http_respond(c->req, status, NULL, "", 0);
}

void sim_problem(struct sim_call *c, int status, const char *title, json_t *errors)
{
    sim_reply(c, status, sim_problem_body(status, title, errors));
}

void sim_problem_field(struct sim_call *c, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *errors = json_pack("{s:[s]}", field, msg);
    sim_problem(c, 400, "One or more validation errors occurred.", errors);
}

void sim_not_found(struct sim_call *c, const char *title)
{
    sim_problem(c, 404, title, NULL);
}

static bool parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s || strlen(s) > 19)
        return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

bool sim_param_id(struct sim_call *c, const char *name, int64_t *out)
{
    if (parse_i64(ap_http_param(c->req, name), out))
        return true;
    sim_not_found(c, "The requested resource was not found.");
    return false;
}

/* ---- the gate ------------------------------------------------------------------ */

struct gate_run {
    struct route_ud *rt;
    struct sim_call *c;
    const char *method, *path;
    struct sim_log_entry *e;
    bool dropped;
};

static void answer_fault(struct gate_run *g, const struct sim_fault *f)
{
    int status = f->kind == SIM_FAULT_OUTAGE ? 503 : f->status ? f->status : 500;
    char title[96];
    if (f->retry_after > 0 || status == 429) {
        int ra = f->retry_after > 0 ? f->retry_after : 1;
        char v[16];
        snprintf(v, sizeof(v), "%d", ra);
        ap_http_add_header(g->c->req, "Retry-After", v);
        if (status == 429)
            snprintf(title, sizeof(title), "Rate limit is exceeded. Try again in %d seconds.", ra);
        else
            snprintf(title, sizeof(title), "Service unavailable. Try again in %d seconds.", ra);
    } else {
        snprintf(title, sizeof(title), "%s",
                 status == 503 ? "The service is temporarily unavailable."
                               : "An error occurred while processing your request.");
    }
    sim_problem(g->c, status, title, NULL);
}

/* Step 1: a fault that answers before anything else; true when it did. */
static bool apply_fault(struct gate_run *g)
{
    struct sim_fault f;
    if (!sim_fault_take(g->c->sim, false, g->method, g->path, &f))
        return false;
    switch (f.kind) {
    case SIM_FAULT_LATENCY:
        ap_http_set_delay(g->c->req, f.latency_ms);
        g->e->latency_ms += f.latency_ms;
        return false;
    case SIM_FAULT_APPLY_THEN_DROP:
        ap_http_set_drop_on_respond(g->c->req);
        g->dropped = true;
        return false;
    case SIM_FAULT_DROP:
        ap_http_drop(g->c->req);
        g->dropped = true;
        g->c->status = -1; /* answered (by silence) */
        return true;
    default:
        answer_fault(g, &f);
        return true;
    }
}

/* Step 2: the app. */
static bool check_app(struct gate_run *g)
{
    struct sim_call *c = g->c;
    const char *key = ap_http_header(c->req, "ST-App-Key");
    if (!key || !*key)
        key = ap_http_query(c->req, "servicetitanapplicationkey");
    if (!key || !*key) {
        sim_problem(c, 401, "Access denied due to missing application key (ST-App-Key header).",
                    NULL);
        return false;
    }
    snprintf(g->e->app_key, sizeof(g->e->app_key), "%s", key);
    c->app = sim_app_by_key(c->sim, key);
    if (!c->app) {
        sim_problem(c, 401, "Access denied due to invalid application key.", NULL);
        return false;
    }
    return true;
}

/* Step 3: the token; fills claims on success. */
static bool check_token(struct gate_run *g, struct sim_token_claims *cl)
{
    struct sim_call *c = g->c;
    const char *auth = ap_http_header(c->req, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
        auth += 7;
    while (auth && *auth == ' ')
        auth++;
    if (!auth || !*auth) {
        sim_problem(c, 401, "Unauthorized: an access token is required.", NULL);
        return false;
    }
    int64_t now_s = sim_now(c->sim) / 1000000000;
    enum sim_token_result tr = sim_token_verify(c->sim->token_key, auth, now_s, cl);
    if (tr == SIM_TOKEN_EXPIRED) {
        sim_problem(c, 401, "Unauthorized: the access token has expired.", NULL);
        return false;
    }
    if (tr != SIM_TOKEN_OK) {
        sim_problem(c, 401, "Unauthorized: the access token is invalid.", NULL);
        return false;
    }
    snprintf(g->e->client_id, sizeof(g->e->client_id), "%s", cl->client_id);
    return true;
}

/* Step 4 and 5: tenant and connection. */
static bool check_tenant(struct gate_run *g, const struct sim_token_claims *cl)
{
    struct sim_call *c = g->c;
    int64_t tid = 0;
    if (!parse_i64(ap_http_param(c->req, "tenant"), &tid)) {
        sim_problem(c, 404, "The requested resource was not found.", NULL);
        return false;
    }
    g->e->tenant = tid;
    if (tid != cl->tenant) {
        char t[128];
        snprintf(t, sizeof(t), "Forbidden: the access token is not valid for tenant %lld.",
                 (long long)tid);
        sim_problem(c, 403, t, NULL);
        return false;
    }
    c->tenant = sim_tenant_find(c->sim, tid);
    if (!c->tenant) {
        sim_problem(c, 404, "Tenant not found.", NULL);
        return false;
    }
    c->conn = sim_conn_by_client_id(c->sim, cl->client_id);
    if (!c->conn || c->conn->tenant_id != tid || strcmp(c->conn->app_id, c->app->id) != 0) {
        sim_problem(c, 401, "Unauthorized: the access token was not issued to this application.",
                    NULL);
        return false;
    }
    if (c->conn->state != SIM_CONN_CONNECTED) {
        sim_problem(c, 401, "Unauthorized: the application's access to this tenant is disabled.",
                    NULL);
        return false;
    }
    return true;
}

static bool claim_has(const json_t *scope, const char *want)
{
    size_t i;
    json_t *v;
    json_array_foreach (scope, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
            return true;
    }
    return false;
}

/* Step 6 and 7: scope and rate limit. */
static bool check_scope_rate(struct gate_run *g, const struct sim_token_claims *cl)
{
    struct sim_call *c = g->c;
    const char *scope = g->rt->scope;
    if (scope[0] && (!claim_has(cl->scope, scope) || !sim_conn_has_scope(c->conn, scope))) {
        char t[160];
        snprintf(t, sizeof(t),
                 "Forbidden: provided authentication is insufficient; missing scope %s.", scope);
        sim_problem(c, 403, t, NULL);
        return false;
    }
    int retry = 1;
    if (!api_throttle(c->sim, c->app, c->tenant->id, &retry)) {
        char t[96], v[16];
        c->sim->rate_limited++;
        snprintf(v, sizeof(v), "%d", retry);
        snprintf(t, sizeof(t), "Rate limit is exceeded. Try again in %d seconds.", retry);
        ap_http_add_header(c->req, "Retry-After", v);
        sim_problem(c, 429, t, NULL);
        return false;
    }
    return true;
}

/* Step 8: the body. */
static bool parse_body(struct gate_run *g)
{
    struct sim_call *c = g->c;
    if (strcmp(g->method, "POST") != 0 && strcmp(g->method, "PUT") != 0 &&
        strcmp(g->method, "PATCH") != 0)
        return true;
    struct ap_str b = ap_http_body(c->req);
    size_t i = 0;
    while (i < b.len && isspace((unsigned char)b.p[i]))
        i++;
    if (i == b.len)
        return true; /* no body: handlers see NULL */
    struct ap_json_error e;
    if (ap_json_parse_body(b.p, b.len, AP_JSON_ANY, &c->body, &e) == AP_OK)
        return true;
    sim_problem(c, 400, "One or more validation errors occurred.",
                json_pack("{s:[s]}", "body", e.message));
    return false;
}

static void gate_run(struct gate_run *g)
{
    struct sim_token_claims cl = {0};
    if (apply_fault(g) || !check_app(g) || !check_token(g, &cl))
        goto out;
    if (!check_tenant(g, &cl) || !check_scope_rate(g, &cl) || !parse_body(g))
        goto out;
    g->rt->fn(g->c);
    if (!g->c->status) {
        ap_log_error("sim.handler_no_reply", "scope=%s", g->rt->scope);
        sim_problem(g->c, 500, "The handler did not answer.", NULL);
    }
out:
    json_decref(cl.scope);
}

static char *body_for_log(struct ap_http_req *req)
{
    struct ap_str b = ap_http_body(req);
    if (b.len == 0)
        return NULL;
    return ap_xstrndup(b.p, b.len > SIM_LOG_BODY_MAX ? SIM_LOG_BODY_MAX : b.len);
}

static void fill_entry(struct sim_log_entry *e, struct ap_http_req *req, const char *method,
                       const char *path)
{
    snprintf(e->method, sizeof(e->method), "%s", method);
    e->path = ap_xstrdup(path);
    struct ap_str q = ap_http_query_string(req);
    e->query = q.len ? ap_xstrndup(q.p, q.len > SIM_LOG_BODY_MAX ? SIM_LOG_BODY_MAX : q.len) : NULL;
    e->body = body_for_log(req);
}

static enum ap_http_result api_entry(struct ap_http_req *req, void *ud)
{
    struct route_ud *rt = ud;
    struct sim *s = rt->s;
    int64_t t0 = ap_clock_mono_ns();
    struct ap_str m = ap_http_method(req), p = ap_http_path(req);
    char *method = ap_arena_strndup(ap_http_arena(req), m.p, m.len > 11 ? 11 : m.len);
    char *path = ap_arena_strndup(ap_http_arena(req), p.p, p.len);
    struct sim_call c = {.sim = s, .req = req};
    struct sim_log_entry e = {0};
    struct gate_run g = {.rt = rt, .c = &c, .method = method, .path = path, .e = &e};
    fill_entry(&e, req, method, path);
    pthread_mutex_lock(&s->lock);
    s->api_requests++;
    e.time_ns = sim_now(s);
    gate_run(&g);
    e.status = c.status < 0 ? 0 : c.status;
    e.dropped = g.dropped;
    e.latency_ms += (double)(ap_clock_mono_ns() - t0) / 1e6;
    sim_log_add(s, &e);
    pthread_mutex_unlock(&s->lock);
    json_decref(c.body);
    return AP_HTTP_DONE;
}

void sim_api_route(struct sim *s, struct ap_router *r, const char *method, const char *module,
                   const char *path, const char *scope, sim_handler_fn fn)
{
    struct route_ud *rt = ap_xcalloc(1, sizeof(*rt));
    rt->s = s;
    rt->fn = fn;
    snprintf(rt->scope, sizeof(rt->scope), "%s", scope ? scope : "");
    char pattern[512];
    snprintf(pattern, sizeof(pattern), "/%s/v2/tenant/:tenant%s", module, path);
    pthread_mutex_lock(&s->lock);
    struct sim_log *g = gate(s);
    g->routes = ap_xrealloc(g->routes, (g->nroutes + 1) * sizeof(*g->routes));
    g->routes[g->nroutes++] = rt;
    pthread_mutex_unlock(&s->lock);
    if (ap_router_add(r, method, pattern, api_entry, rt) != AP_OK)
        ap_log_error("sim.route_conflict", "method=%s pattern=%s", method, pattern);
    bool known = !rt->scope[0];
    for (size_t i = 0; !known && sim_demo_scopes[i]; i++)
        known = strcmp(sim_demo_scopes[i], rt->scope) == 0;
    if (!known) /* the demo app could never call this route */
        ap_log_warn("sim.scope_not_in_seed", "scope=%s pattern=%s", rt->scope, pattern);
}

/*
 * Paths no route knows: 404, or 405 (with Allow) when the path is known for
 * other methods — the catch-all route would otherwise hide the router's 405.
 */
static enum ap_http_result api_unknown(struct ap_http_req *req, void *ud)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    const struct ap_router *r = ud;
    char allow[64] = "";
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        struct ap_route_match m;
        if (ap_router_match(r, ap_str_c(methods[i]), ap_http_path(req), &m) && m.fn != api_unknown)
            snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
                     allow[0] ? ", " : "", methods[i]);
    }
    if (allow[0]) {
        ap_http_add_header(req, "Allow", allow);
        send_json(req, 405, sim_problem_body(405, "Method Not Allowed", NULL));
        return AP_HTTP_DONE;
    }
    send_json(req, 404, sim_problem_body(404, "The requested resource was not found.", NULL));
    return AP_HTTP_DONE;
}

void sim_gate_fallback_route(struct sim *s, struct ap_router *r)
{
    (void)s;
    ap_router_add(r, "*", "/*rest", api_unknown, r);
}

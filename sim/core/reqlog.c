/*
 * reqlog.c — the gate's runtime state (struct sim_log, see backbone.h): the
 * rate buckets of (app, tenant) pairs and of token clients, injected faults,
 * the request-log ring and the per-status counters. The API gate (gate.c),
 * the auth host (auth.c) and the control API (control.c) share them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/log.h"
#include "sim/core/backbone.h"

#define MAX_BUCKETS 4096 /* (app, tenant) pairs and token clients kept */
#define STATUS_MIN  100
#define STATUS_MAX  599

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
    void **routes; /* the gate's per-route data, freed with the log */
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

bool sim_api_throttle(struct sim *s, const struct sim_app *a, int64_t tenant, int *retry)
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
    for (size_t i = 0; i < AP_COUNTOF(names); i++)
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
    if (n->rng == 0)
        n->rng = (uint64_t)n->id;
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

/* Does the call fall in f's percent? A splitmix64 draw from f's own state. */
static bool fault_draw(struct sim_fault *f)
{
    if (f->percent >= 100 || f->percent <= 0)
        return true;
    uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) % 100 < (uint64_t)f->percent;
}

bool sim_fault_take(struct sim *s, bool auth, const char *method, const char *path,
                    struct sim_fault *out)
{
    for (struct sim_fault **pp = &s->faults; *pp; pp = &(*pp)->next) {
        struct sim_fault *f = *pp;
        if (!fault_applies(f, auth, method, path) || !fault_draw(f))
            continue;
        f->hits++;
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
    free(e->note);
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
    char t[AP_TIME_BUF];
    ap_time_format(e->time_ns, 7, t);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:b, s:f}", "seq",
                          (json_int_t)e->seq, "time", t, "host", e->auth ? "auth" : "api", "method",
                          e->method, "path", str_or_null(e->path), "query", str_or_null(e->query),
                          "body", str_or_null(e->body), "status", e->status, "dropped", e->dropped,
                          "latencyMs", e->latency_ms);
    json_object_set_new(o, "clientId", e->client_id[0] ? json_string(e->client_id) : json_null());
    json_object_set_new(o, "tenant", e->tenant ? json_integer(e->tenant) : json_null());
    json_object_set_new(o, "appKey", e->app_key[0] ? json_string(e->app_key) : json_null());
    json_object_set_new(o, "note", str_or_null(e->note));
    return o;
}

static bool entry_wanted(const struct sim_log_entry *e, const struct sim_log_filter *f)
{
    if ((f->host == 0 && e->auth) || (f->host == 1 && !e->auth))
        return false;
    return e->status >= f->status_lo && e->status <= f->status_hi;
}

json_t *sim_log_json(struct sim *s, const struct sim_log_filter *f)
{
    struct sim_log *g = gate(s);
    json_t *arr = json_array();
    uint64_t first = g->next_seq > SIM_LOG_CAP ? g->next_seq - SIM_LOG_CAP : 1;
    if (f->since + 1 > first)
        first = f->since + 1;
    for (uint64_t seq = first; seq < g->next_seq; seq++) {
        const struct sim_log_entry *e = &g->ring[seq % SIM_LOG_CAP];
        if (e->seq != seq || !entry_wanted(e, f))
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

void sim_log_keep_route(struct sim *s, void *route)
{
    struct sim_log *g = gate(s);

    g->routes = ap_xrealloc(g->routes, (g->nroutes + 1) * sizeof(*g->routes));
    g->routes[g->nroutes++] = route;
}

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
 * Faults, the request log and the rate buckets are reqlog.c's, the replies
 * reply.c's (see backbone.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "sim/core/backbone.h"
#include "sim/core/seed.h"

struct route_ud {
    struct sim *s;
    char scope[64];
    sim_handler_fn fn;
};

/* ---- the gate ------------------------------------------------------------------ */

struct gate_run {
    struct route_ud *rt;
    struct sim_call *c;
    const char *method, *path;
    struct sim_log_entry *e;
    bool dropped;
    json_t *ignored; /* body fields binding ignored, for the log's note */
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
        key = sim_query(c->req, "servicetitanapplicationkey");
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
    int64_t now_s = sim_now(c->sim) / AP_NS_PER_S;
    enum sim_token_result tr = sim_token_verify(c->sim->token_key, auth, now_s, cl);
    if (tr != SIM_TOKEN_OK) {
        ap_http_add_header(c->req, "WWW-Authenticate",
                           tr == SIM_TOKEN_EXPIRED
                               ? "Bearer error=\"invalid_token\", error_description=\"The token "
                                 "expired\""
                               : "Bearer error=\"invalid_token\"");
        c->challenged = true;
    }
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
    if (!sim_id_parse(sim_param(c, "tenant"), &tid)) {
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
    if (!sim_api_throttle(c->sim, c->app, c->tenant->id, &retry)) {
        char t[96], v[16];
        c->sim->rate_limited++;
        snprintf(v, sizeof(v), "%d", retry);
        snprintf(t, sizeof(t), "Rate limit is exceeded. Try again in %d seconds.", retry);
        ap_http_add_header(c->req, "Retry-After", v);
        g->e->note = ap_xasprintf("rate limited: %d requests per second per (app, tenant), the "
                                  "figure ServiceTitan documents (stsim's --rate-limit)",
                                  c->sim->cfg.rate_limit);
        sim_problem(c, 429, t, NULL);
        return false;
    }
    return true;
}

/* application/json, text/json or application/<x>+json (parameters ignored): what
 * ASP.NET Core's JSON input formatter reads. */
static bool json_media(const char *ct)
{
    size_t n = ct ? strcspn(ct, ";") : 0;

    while (n > 0 && isspace((unsigned char)ct[n - 1]))
        n--;
    if (n == 0)
        return false;
    if ((n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
        (n == 9 && strncasecmp(ct, "text/json", 9) == 0))
        return true;
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + n - 5, "+json", 5) == 0;
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
    if (!json_media(ap_http_header(c->req, "Content-Type"))) {
        sim_problem(c, 415, "Unsupported Media Type", NULL);
        return false;
    }
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
    sim_check_collect(g->ignored);
    g->rt->fn(g->c);
    sim_check_collect(NULL);
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

/* "ignored unknown fields: a, b" when binding dropped any; else NULL. malloc'd. */
static char *ignored_note(const json_t *ignored)
{
    struct ap_buf b;
    size_t i;
    json_t *v;

    if (json_array_size(ignored) == 0)
        return NULL;
    ap_buf_init(&b, 4096);
    ap_buf_puts(&b, "ignored unknown fields (ASP.NET Core binding drops them):");
    json_array_foreach (ignored, i, v)
        ap_buf_printf(&b, "%s %s", i ? "," : "", json_string_value(v));
    return ap_buf_take(&b);
}

/* Runs the gate and rt's handler on req; m is the route matched on a
 * normalised path (case, trailing slash), or NULL for the request's own. */
static void api_serve(struct ap_http_req *req, struct route_ud *rt, const struct ap_route_match *m)
{
    struct sim *s = rt->s;
    int64_t t0 = ap_clock_mono_ns();
    struct ap_str me = ap_http_method(req), p = ap_http_path(req);
    char *method = ap_arena_strndup(ap_http_arena(req), me.p, me.len > 11 ? 11 : me.len);
    char *path = ap_arena_strndup(ap_http_arena(req), p.p, p.len);
    struct sim_call c = {.sim = s, .req = req, .match = m};
    struct sim_log_entry e = {0};
    struct gate_run g = {
        .rt = rt, .c = &c, .method = method, .path = path, .e = &e, .ignored = json_array()};
    fill_entry(&e, req, method, path);
    pthread_mutex_lock(&s->lock);
    s->api_requests++;
    e.time_ns = sim_now(s);
    gate_run(&g);
    e.status = c.status < 0 ? 0 : c.status;
    e.dropped = g.dropped;
    if (e.note == NULL)
        e.note = ignored_note(g.ignored);
    e.latency_ms += (double)(ap_clock_mono_ns() - t0) / 1e6;
    sim_log_add(s, &e);
    pthread_mutex_unlock(&s->lock);
    json_decref(g.ignored);
    json_decref(c.body);
}

static enum ap_http_result api_entry(struct ap_http_req *req, void *ud)
{
    api_serve(req, ud, NULL);
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
    sim_log_keep_route(s, rt);
    pthread_mutex_unlock(&s->lock);
    if (ap_router_add(r, method, pattern, api_entry, rt) != AP_OK)
        ap_log_error("sim.route_conflict", "method=%s pattern=%s", method, pattern);
    bool known = !rt->scope[0];
    for (size_t i = 0; !known && sim_known_scopes[i]; i++)
        known = strcmp(sim_known_scopes[i], rt->scope) == 0;
    if (!known) /* no seeded app could ever call this route: a misspelt scope */
        ap_log_warn("sim.scope_unknown", "scope=%s pattern=%s", rt->scope, pattern);
}

/* ---- calls no route takes ------------------------------------------------------- */

struct fallback {
    struct sim *s;
    const struct ap_router *r;
};

/*
 * path as ASP.NET Core routing compares it: lowercased, without trailing
 * slashes ("/CRM/v2/tenant/1/Customers/" is "/crm/v2/tenant/1/customers").
 * API paths hold only lowercase literals and numeric ids, so nothing else
 * changes.
 */
static struct ap_str normal_path(struct ap_arena *a, struct ap_str p)
{
    char *out = ap_arena_strndup(a, p.p, p.len);
    size_t n = p.len;

    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)out[i]);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    return (struct ap_str){out, n};
}

static enum ap_http_result api_unknown(struct ap_http_req *req, void *ud);

/* The methods other routes take path with, as an Allow header value ("" for none). */
static void allowed_methods(const struct ap_router *r, struct ap_str path, char allow[64])
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

    allow[0] = '\0';
    for (size_t i = 0; i < AP_COUNTOF(methods); i++) {
        struct ap_route_match m;
        if (ap_router_match(r, ap_str_c(methods[i]), path, &m) && m.fn != api_unknown)
            snprintf(allow + strlen(allow), 64 - strlen(allow), "%s%s", allow[0] ? ", " : "",
                     methods[i]);
    }
}

/* Writes an unrouted call into the request log, the counters and stsim's log. */
static void log_unrouted(struct sim *s, struct ap_http_req *req, int status, int64_t t0)
{
    struct ap_str me = ap_http_method(req), p = ap_http_path(req);
    char *method = ap_arena_strndup(ap_http_arena(req), me.p, me.len > 11 ? 11 : me.len);
    char *path = ap_arena_strndup(ap_http_arena(req), p.p, p.len);
    struct sim_log_entry e = {.status = status};
    char q[256];

    fill_entry(&e, req, method, path);
    e.note = ap_xstrdup(status == 405 ? "no route takes this method on this path"
                                      : "no route: stsim does not emulate this path");
    pthread_mutex_lock(&s->lock);
    s->api_requests++;
    e.time_ns = sim_now(s);
    e.latency_ms = (double)(ap_clock_mono_ns() - t0) / 1e6;
    sim_log_add(s, &e);
    pthread_mutex_unlock(&s->lock);
    ap_log_info("stsim.unrouted", "method=%s path=%s status=%d", method,
                ap_log_quote(path, q, sizeof(q)), status);
}

/*
 * Calls no route takes as sent. A path that differs from a route only in
 * case or a trailing slash runs that route (ASP.NET Core's routing is
 * case-insensitive and ignores a trailing slash); otherwise 404, or 405
 * (with Allow) when the path is known for other methods — the catch-all
 * route would otherwise hide the router's 405. Either way the call is
 * logged and counted like any other.
 */
static enum ap_http_result api_unknown(struct ap_http_req *req, void *ud)
{
    const struct fallback *fb = ud;
    int64_t t0 = ap_clock_mono_ns();
    struct ap_str path = normal_path(ap_http_arena(req), ap_http_path(req));
    struct ap_route_match m;
    char allow[64];

    if (!ap_str_eq(path, ap_http_path(req)) &&
        ap_router_match(fb->r, ap_http_method(req), path, &m) && m.fn == api_entry) {
        struct ap_route_match *keep = ap_arena_alloc(ap_http_arena(req), sizeof(*keep));
        *keep = m;
        api_serve(req, m.ud, keep);
        return AP_HTTP_DONE;
    }
    allowed_methods(fb->r, ap_http_path(req), allow);
    if (!allow[0])
        allowed_methods(fb->r, path, allow);
    if (allow[0]) {
        ap_http_add_header(req, "Allow", allow);
        sim_send_json(req, 405, sim_problem_body(405, "Method Not Allowed", NULL));
    } else {
        sim_send_json(req, 404,
                      sim_problem_body(404, "The requested resource was not found.", NULL));
    }
    log_unrouted(fb->s, req, allow[0] ? 405 : 404, t0);
    return AP_HTTP_DONE;
}

void sim_gate_fallback_route(struct sim *s, struct ap_router *r)
{
    struct fallback *fb = ap_xcalloc(1, sizeof(*fb));

    fb->s = s;
    fb->r = r;
    pthread_mutex_lock(&s->lock);
    sim_log_keep_route(s, fb);
    pthread_mutex_unlock(&s->lock);
    ap_router_add(r, "*", "/*rest", api_unknown, fb);
}

/*
 * control.c — the control API under /_stsim on the API host: no auth, JSON
 * in and out, bad input → 400 {"error": "..."}. Tests and demos use it to
 * reset the world, create tenants, apps and connections, inject faults,
 * move the clock, and read the request log and counters. docs/stsim.md
 * documents every route; the shapes here are that contract.
 *
 * Conveniences beyond the developer-portal rules (documented): POST
 * /connections adds the tenant to the app when the developer had not;
 * POST /reset takes "connect": true to connect the demo app again (the
 * answer then carries the new clientId and clientSecret). The demo app's key
 * does not change across resets within one process.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "sim/core/backbone.h"
#include "sim/core/core_int.h"
#include "sim/core/seed.h"

#define MAX_SCOPES 256
#define MAX_NAME   95

typedef sim_control_fn ctl_fn;

struct ctl_route {
    const char *method, *path;
    ctl_fn fn;
    bool needs_body; /* parse a JSON object body (absent = {}) */
};

static void send(struct ap_http_req *req, int status, json_t *j)
{
    sim_send_json(req, status, j);
}

static void bad(struct ap_http_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bad(struct ap_http_req *req, int status, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    send(req, status, json_pack("{s:s}", "error", msg));
}

static void ok(struct ap_http_req *req)
{
    send(req, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- helpers ------------------------------------------------------------------ */

/* Reads an optional string array of scopes; -1 on a bad one (answered), else the count. */
static long read_scopes(struct ap_http_req *req, json_t *body, const char *key, const char **out,
                        bool *present)
{
    json_t *arr = json_object_get(body, key);
    *present = arr && !json_is_null(arr);
    if (!*present)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_SCOPES) {
        bad(req, 400, "%s must be an array of at most %d strings", key, MAX_SCOPES);
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach (arr, i, v) {
        if (!json_is_string(v) || strncmp(json_string_value(v), "tn.", 3) != 0) {
            bad(req, 400, "%s[%zu] must be a scope string like \"tn.crm.customers:r\"", key, i);
            return -1;
        }
        out[i] = json_string_value(v);
    }
    return (long)json_array_size(arr);
}

static bool get_int(struct ap_http_req *req, json_t *body, const char *key, bool required,
                    long long min, long long max, long long *out)
{
    struct ap_json_error e;
    if (ap_json_get_int(body, key, required, min, max, out, &e) == AP_OK)
        return true;
    bad(req, 400, "%s", e.message);
    return false;
}

static bool get_str(struct ap_http_req *req, json_t *body, const char *key, bool required,
                    const char **out)
{
    struct ap_json_error e;
    if (ap_json_get_str(body, key, required, MAX_NAME, out, &e) == AP_OK)
        return true;
    bad(req, 400, "%s", e.message);
    return false;
}

static json_t *scopes_json(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static const char *state_name(enum sim_conn_state st)
{
    return st == SIM_CONN_CONNECTED  ? "connected"
           : st == SIM_CONN_DISABLED ? "disabled"
                                     : "not_connected";
}

/* ---- reset, counters, config, clock ---------------------------------------------- */

/* A connection of a seeded app, as it was before a reset. */
struct kept_conn {
    int64_t tenant;
    char app[24], client_id[48];
    uint8_t hash[32];
    char **scopes;
    size_t nscopes;
    int64_t provider;
    bool no_restriction;
};

/* The connected seeded apps' connections other than the demo's (which c_reset handles). */
static size_t keep_conns(struct sim *s, struct kept_conn *out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < s->nconns && n < max; i++) {
        const struct sim_conn *c = s->conns[i];
        bool seeded =
            strcmp(c->app_id, SIM_OTHER_APP) == 0 || strcmp(c->app_id, SIM_INSPECTOR_APP) == 0;
        if (!seeded || c->state != SIM_CONN_CONNECTED || !c->has_secret)
            continue;
        struct kept_conn *k = &out[n++];
        k->tenant = c->tenant_id;
        snprintf(k->app, sizeof(k->app), "%s", c->app_id);
        snprintf(k->client_id, sizeof(k->client_id), "%s", c->client_id);
        memcpy(k->hash, c->secret_hash, sizeof(k->hash));
        k->scopes = ap_xcalloc(c->nscopes + 1, sizeof(*k->scopes));
        for (size_t j = 0; j < c->nscopes; j++)
            k->scopes[j] = ap_xstrdup(c->scopes[j]);
        k->nscopes = c->nscopes;
        k->provider = c->booking_provider_id;
        k->no_restriction = c->no_restriction;
    }
    return n;
}

/* Connects them again after the reseed, with the same client ids and secrets. */
static void restore_conns(struct sim *s, struct kept_conn *kept, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct kept_conn *k = &kept[i];
        struct sim_conn *c = sim_tenant_find(s, k->tenant) && sim_app_find(s, k->app)
                                 ? sim_conn_get(s, k->tenant, k->app, true)
                                 : NULL;
        if (c != NULL && sim_conn_allow(s, c, (const char *const *)k->scopes, k->nscopes,
                                        k->provider) == AP_OK) {
            snprintf(c->client_id, sizeof(c->client_id), "%s", k->client_id);
            memcpy(c->secret_hash, k->hash, sizeof(k->hash));
            c->has_secret = true;
            c->no_restriction = k->no_restriction;
        }
        sim_strv_free(k->scopes, k->nscopes);
    }
    sim_persist_portal(s);
}

/*
 * Wipes and reseeds. The demo connection survives when it was connected (same
 * client id and secret, so the credentials file stays good) unless "connect"
 * is false; "connect": true connects it with a new secret, returned. The
 * connections of the other seeded apps (the inspector's, fieldpulse-sync's)
 * survive as they were.
 */
static void c_reset(struct sim *s, struct ap_http_req *req, json_t *body)
{
    const char *seed = "demo";
    struct kept_conn kept[8];
    size_t nkept;
    if (!get_str(req, body, "seed", false, &seed))
        return;
    if (strcmp(seed, "demo") != 0 && strcmp(seed, "none") != 0)
        return bad(req, 400, "seed must be \"demo\" or \"none\"");
    struct sim_conn *old = sim_conn_get(s, SIM_DEMO_TENANT, SIM_DEMO_APP, false);
    bool keep = old && old->state == SIM_CONN_CONNECTED && old->has_secret;
    bool connect = keep, fresh = false;
    if (ap_json_get_bool(body, "connect", false, &connect, NULL) != AP_OK)
        return bad(req, 400, "connect must be a boolean");
    long long scale = s->cfg.seed_scale;
    if (!get_int(req, body, "scale", false, 1, SIM_SEED_SCALE_MAX, &scale))
        return;
    uint8_t hash[32];
    if (keep)
        memcpy(hash, old->secret_hash, sizeof(hash));
    fresh = connect && (!keep || json_is_true(json_object_get(body, "connect")));
    nkept = keep_conns(s, kept, AP_COUNTOF(kept));
    sim_reset(s);
    sim_gate_reset(s);
    s->clock_offset_ns = 0;
    if (strcmp(seed, "demo") == 0)
        sim_seed_demo(s, (size_t)scale);
    restore_conns(s, kept, nkept);
    json_t *r = json_pack("{s:b}", "ok", 1);
    struct sim_app *app = sim_app_find(s, SIM_DEMO_APP);
    if (app)
        json_object_set_new(r, "appKey", json_string(app->key));
    char secret[64];
    if (connect && app && sim_seed_connect(s, secret) == AP_OK) {
        struct sim_conn *c = sim_conn_get(s, SIM_DEMO_TENANT, SIM_DEMO_APP, false);
        json_object_set_new(r, "clientId", json_string(c->client_id));
        if (fresh) {
            json_object_set_new(r, "clientSecret", json_string(secret));
        } else {
            memcpy(c->secret_hash, hash, sizeof(hash));
            sim_persist_portal(s);
        }
    }
    send(req, 200, r);
}

static void c_counters(struct sim *s, struct ap_http_req *req, json_t *body)
{
    (void)body;
    send(req, 200,
         json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "tokensIssued", (json_int_t)s->tokens_issued,
                   "tokenRequests", (json_int_t)s->token_requests, "tokenRejected",
                   (json_int_t)sim_tokens_rejected(s), "apiRequests", (json_int_t)s->api_requests,
                   "rateLimited", (json_int_t)s->rate_limited, "byStatus", sim_status_counts(s)));
}

static json_t *config_json(const struct sim *s)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:s, s:i}", "rateLimit", s->cfg.rate_limit,
                     "tokenLifetime", s->cfg.token_lifetime_s, "tokenRateLimit",
                     s->cfg.token_rate_limit, "capacityMaxDays", s->cfg.capacity_max_days,
                     "exportDelay", s->cfg.export_delay_s, "environment", s->cfg.environment,
                     "scale", s->cfg.seed_scale);
}

static void c_config(struct sim *s, struct ap_http_req *req, json_t *body)
{
    static const char *const keys[] = {"rateLimit",       "tokenLifetime", "tokenRateLimit",
                                       "capacityMaxDays", "exportDelay",   NULL};
    struct ap_json_error e;
    if (ap_json_reject_unknown(body, keys, NULL, &e) != AP_OK)
        return bad(req, 400, "%s", e.message);
    long long v[5] = {s->cfg.rate_limit, s->cfg.token_lifetime_s, s->cfg.token_rate_limit,
                      s->cfg.capacity_max_days, s->cfg.export_delay_s};
    static const long long lo[5] = {0, 1, 0, 1, 0}, hi[5] = {1000000, 86400, 1000000, 366, 86400};
    for (int i = 0; i < 5; i++)
        if (!get_int(req, body, keys[i], false, lo[i], hi[i], &v[i]))
            return;
    s->cfg.rate_limit = (int)v[0];
    s->cfg.token_lifetime_s = (int)v[1];
    s->cfg.token_rate_limit = (int)v[2];
    s->cfg.capacity_max_days = (int)v[3];
    s->cfg.export_delay_s = (int)v[4];
    send(req, 200, config_json(s));
}

static void c_get_config(struct sim *s, struct ap_http_req *req, json_t *body)
{
    (void)body;
    send(req, 200, config_json(s));
}

static void c_clock(struct sim *s, struct ap_http_req *req, json_t *body)
{
    long long adv = 0;
    const char *set = NULL;
    if (!get_int(req, body, "advanceSeconds", false, -10LL * 365 * 86400, 10LL * 365 * 86400,
                 &adv) ||
        !get_str(req, body, "set", false, &set))
        return;
    if (set) {
        int64_t ns;
        if (!ap_time_parse(set, &ns))
            return bad(req, 400, "set: expected a date-time like 2026-12-01T15:00:00Z");
        s->clock_offset_ns = ns - ap_clock_real_ns();
    }
    s->clock_offset_ns += adv * 1000000000LL;
    send(req, 200, json_pack("{s:o}", "now", sim_time_json(sim_now(s))));
}

/* ---- tenants and apps -------------------------------------------------------------- */

static void c_tenants(struct sim *s, struct ap_http_req *req, json_t *body)
{
    long long id = 0, scale = SIM_SEED_SCALE;
    const char *name = NULL, *tz = "America/Chicago", *seed = "none";
    if (!get_int(req, body, "id", true, 1, INT64_MAX, &id) ||
        !get_str(req, body, "name", false, &name) || !get_str(req, body, "timeZone", false, &tz) ||
        !get_str(req, body, "seed", false, &seed) ||
        !get_int(req, body, "scale", false, 1, SIM_SEED_SCALE_MAX, &scale))
        return;
    if (strcmp(seed, "demo") != 0 && strcmp(seed, "none") != 0)
        return bad(req, 400, "seed must be \"demo\" or \"none\"");
    if (sim_tenant_find(s, id))
        return bad(req, 409, "tenant %lld exists", id);
    char def[48];
    snprintf(def, sizeof(def), "Tenant %lld", id);
    struct sim_tenant *t = sim_tenant_add(s, id, name ? name : def, tz);
    if (!t)
        return bad(req, 400, "cannot add tenant %lld", id);
    t->empty = strcmp(seed, "none") == 0;
    if (!t->empty)
        sim_seed_tenant_records(s, t, (size_t)scale);
    sim_persist_portal(s);
    send(req, 200,
         json_pack("{s:I, s:s, s:s}", "id", (json_int_t)t->id, "name", t->name, "timeZone", t->tz));
}

static void c_apps(struct sim *s, struct ap_http_req *req, json_t *body)
{
    const char *id = NULL, *name = NULL, *scopes[MAX_SCOPES];
    bool bp = false, present;
    if (!get_str(req, body, "id", true, &id) || !get_str(req, body, "name", false, &name))
        return;
    if (strlen(id) >= sizeof(((struct sim_app *)0)->id))
        return bad(req, 400, "id: at most %zu characters", sizeof(((struct sim_app *)0)->id) - 1);
    if (ap_json_get_bool(body, "bookingProvider", false, &bp, NULL) != AP_OK)
        return bad(req, 400, "bookingProvider must be a boolean");
    long n = read_scopes(req, body, "scopes", scopes, &present);
    if (n < 0)
        return;
    if (sim_app_find(s, id))
        return bad(req, 409, "app %s exists", id);
    struct sim_app *a = sim_app_add(s, id, name ? name : id, scopes, (size_t)n, bp);
    if (!a)
        return bad(req, 400, "cannot add app %s", id);
    sim_persist_portal(s);
    send(req, 200,
         json_pack("{s:s, s:s, s:i}", "id", a->id, "appKey", a->key, "version", a->version));
}

static void c_app_list(struct sim *s, struct ap_http_req *req, json_t *body)
{
    json_t *apps = json_array();

    for (size_t i = 0; i < s->napps; i++) {
        const struct sim_app *a = s->apps[i];
        json_t *ten = json_array();
        for (size_t j = 0; j < a->ntenants; j++)
            json_array_append_new(ten, json_integer(a->tenants[j]));
        json_array_append_new(apps,
                              json_pack("{s:s, s:s, s:s, s:i, s:o, s:b, s:o}", "id", a->id, "name",
                                        a->name, "appKey", a->key, "version", a->version, "scopes",
                                        scopes_json(a->scopes, a->nscopes), "bookingProvider",
                                        a->booking_provider, "tenants", ten));
    }
    send(req, 200, json_pack("{s:o}", "apps", apps));
}

static void c_app_scopes(struct sim *s, struct ap_http_req *req, json_t *body)
{
    const char *scopes[MAX_SCOPES];
    bool present;
    struct sim_app *a = sim_app_find(s, ap_http_param(req, "appId"));
    if (!a)
        return bad(req, 404, "no such app");
    long n = read_scopes(req, body, "scopes", scopes, &present);
    if (n < 0)
        return;
    if (!present)
        return bad(req, 400, "scopes is required");
    sim_app_set_scopes(s, a, scopes, (size_t)n);
    sim_persist_portal(s);
    send(req, 200,
         json_pack("{s:s, s:i, s:o}", "id", a->id, "version", a->version, "scopes",
                   scopes_json(a->scopes, a->nscopes)));
}

static void c_app_tenants(struct sim *s, struct ap_http_req *req, json_t *body)
{
    long long tid = 0;
    struct sim_app *a = sim_app_find(s, ap_http_param(req, "appId"));
    if (!a)
        return bad(req, 404, "no such app");
    if (!get_int(req, body, "tenantId", true, 1, INT64_MAX, &tid))
        return;
    sim_app_add_tenant(s, a, tid);
    sim_persist_portal(s);
    ok(req);
}

/* ---- connections -------------------------------------------------------------------- */

static json_t *conn_json(const struct sim_conn *c)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:o, s:i}", "tenantId", (json_int_t)c->tenant_id,
                          "appId", c->app_id, "state", state_name(c->state), "scopes",
                          scopes_json(c->scopes, c->nscopes), "version", c->version);
    json_object_set_new(j, "clientId", c->client_id[0] ? json_string(c->client_id) : json_null());
    json_object_set_new(j, "bookingProviderId",
                        c->booking_provider_id ? json_integer(c->booking_provider_id)
                                               : json_null());
    json_object_set_new(j, "noRestriction", json_boolean(c->no_restriction));
    return j;
}

static void c_connect(struct sim *s, struct ap_http_req *req, json_t *body)
{
    long long tid = 0, bp = 0;
    const char *app_id = NULL, *scopes[MAX_SCOPES];
    bool present, nores = false;
    if (!get_int(req, body, "tenantId", true, 1, INT64_MAX, &tid) ||
        !get_str(req, body, "appId", true, &app_id) ||
        !get_int(req, body, "bookingProviderId", false, 0, INT64_MAX, &bp))
        return;
    if (ap_json_get_bool(body, "noRestriction", false, &nores, NULL) != AP_OK)
        return bad(req, 400, "noRestriction must be a boolean");
    long n = read_scopes(req, body, "scopes", scopes, &present);
    if (n < 0)
        return;
    struct sim_app *a = sim_app_find(s, app_id);
    if (!a || !sim_tenant_find(s, tid))
        return bad(req, 404, "no such %s", a ? "tenant" : "app");
    sim_app_add_tenant(s, a, tid);
    struct sim_conn *c = sim_conn_get(s, tid, app_id, true);
    char secret[64];
    enum ap_err err = sim_conn_allow(s, c, present ? scopes : NULL, (size_t)n, bp);
    if (err == AP_OK) {
        c->no_restriction = nores;
        err = sim_conn_new_secret(s, c, secret);
    }
    if (err != AP_OK)
        return bad(req, 400, "cannot connect: %s", ap_err_str(err));
    sim_persist_portal(s);
    send(req, 200,
         json_pack("{s:s, s:s, s:s}", "clientId", c->client_id, "clientSecret", secret, "appKey",
                   a->key));
}

static struct sim_conn *conn_of(struct sim *s, struct ap_http_req *req)
{
    const char *t = ap_http_param(req, "tenantId"), *app = ap_http_param(req, "appId");
    char *end = NULL;
    long long tid = t ? strtoll(t, &end, 10) : 0;
    struct sim_conn *c = t && *t && !*end && app ? sim_conn_get(s, tid, app, false) : NULL;
    if (!c)
        bad(req, 404, "no such connection");
    return c;
}

static void c_secret(struct sim *s, struct ap_http_req *req, json_t *body)
{
    (void)body;
    struct sim_conn *c = conn_of(s, req);
    char secret[64];
    if (!c)
        return;
    enum ap_err err = sim_conn_new_secret(s, c, secret);
    if (err != AP_OK)
        return bad(req, 409, "cannot generate a secret: %s (connect first)", ap_err_str(err));
    sim_persist_portal(s);
    send(req, 200, json_pack("{s:s}", "clientSecret", secret));
}

static void c_state(struct sim *s, struct ap_http_req *req, json_t *body)
{
    const char *st = NULL;
    struct sim_conn *c = conn_of(s, req);
    if (!c || !get_str(req, body, "state", true, &st))
        return;
    if (strcmp(st, "connected") == 0)
        sim_conn_set_state(s, c, SIM_CONN_CONNECTED);
    else if (strcmp(st, "disabled") == 0)
        sim_conn_set_state(s, c, SIM_CONN_DISABLED);
    else
        return bad(req, 400, "state must be \"connected\" or \"disabled\"");
    sim_persist_portal(s);
    send(req, 200, conn_json(c));
}

static void c_conns(struct sim *s, struct ap_http_req *req, json_t *body)
{
    (void)body;
    json_t *a = json_array();
    for (size_t i = 0; i < s->nconns; i++)
        json_array_append_new(a, conn_json(s->conns[i]));
    send(req, 200, json_pack("{s:o}", "connections", a));
}

/* ---- faults and the request log ---------------------------------------------------- */

static bool read_fault(struct ap_http_req *req, json_t *body, struct sim_fault *f)
{
    const char *match = NULL, *method = NULL, *kind = NULL;
    long long status = 0, count = -1, lat = 0, ra = 0, pct = 100, seed = 0;
    struct ap_json_error e;
    if (ap_json_get_str(body, "match", true, sizeof(f->match) - 1, &match, &e) != AP_OK ||
        ap_json_get_str(body, "method", false, sizeof(f->method) - 1, &method, &e) != AP_OK ||
        ap_json_get_str(body, "kind", true, 32, &kind, &e) != AP_OK) {
        bad(req, 400, "%s", e.message);
        return false;
    }
    if (!sim_fault_kind_parse(kind, &f->kind)) {
        bad(req, 400, "kind must be status, latency, drop, apply_then_drop, outage or token_down");
        return false;
    }
    if (!get_int(req, body, "status", f->kind == SIM_FAULT_STATUS, 100, 599, &status) ||
        !get_int(req, body, "count", false, 1, 1000000, &count) ||
        !get_int(req, body, "latencyMs", f->kind == SIM_FAULT_LATENCY, 0, 600000, &lat) ||
        !get_int(req, body, "retryAfter", false, 0, 86400, &ra) ||
        !get_int(req, body, "percent", false, 1, 100, &pct) ||
        !get_int(req, body, "seed", false, 0, INT64_MAX, &seed))
        return false;
    snprintf(f->match, sizeof(f->match), "%s", match);
    snprintf(f->method, sizeof(f->method), "%s", method ? method : "");
    f->status = (int)status;
    f->count = (int)count;
    f->latency_ms = (int)lat;
    f->retry_after = (int)ra;
    f->percent = (int)pct;
    f->rng = (uint64_t)seed;
    return true;
}

static void c_fault_add(struct sim *s, struct ap_http_req *req, json_t *body)
{
    struct sim_fault f = {0};
    if (!read_fault(req, body, &f))
        return;
    send(req, 200, json_pack("{s:I}", "id", (json_int_t)sim_fault_add(s, &f)));
}

static void c_fault_list(struct sim *s, struct ap_http_req *req, json_t *body)
{
    (void)body;
    static const char *const kinds[] = {"status",          "latency", "drop",
                                        "apply_then_drop", "outage",  "token_down"};
    json_t *a = json_array();
    for (const struct sim_fault *f = s->faults; f; f = f->next)
        json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:I}",
                                           "id", (json_int_t)f->id, "match", f->match, "method",
                                           f->method, "kind", kinds[f->kind], "status", f->status,
                                           "count", f->count, "latencyMs", f->latency_ms,
                                           "retryAfter", f->retry_after, "percent", f->percent,
                                           "hits", (json_int_t)f->hits));
    send(req, 200, json_pack("{s:o}", "faults", a));
}

static void c_fault_clear(struct sim *s, struct ap_http_req *req, json_t *body)
{
    (void)body;
    sim_fault_clear(s);
    ok(req);
}

/* status=404 (one status), status=4xx (a class) or nothing (all) into f. */
static bool status_filter(const char *v, struct sim_log_filter *f)
{
    f->status_lo = 0;
    f->status_hi = 999;
    if (v == NULL || *v == '\0')
        return true;
    if (strlen(v) == 3 && v[0] >= '1' && v[0] <= '5' && strcasecmp(v + 1, "xx") == 0) {
        f->status_lo = (v[0] - '0') * 100;
        f->status_hi = f->status_lo + 99;
        return true;
    }
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || (n != 0 && (n < 100 || n > 599)))
        return false;
    f->status_lo = f->status_hi = (int)n;
    return true;
}

static void c_requests(struct sim *s, struct ap_http_req *req, json_t *body)
{
    (void)body;
    const char *since = sim_query(req, "since"), *host = sim_query(req, "host");
    struct sim_log_filter f = {.host = -1};
    char *end = NULL;
    f.since = since && *since ? strtoull(since, &end, 10) : 0;
    if (since && *since && *end)
        return bad(req, 400, "since must be a sequence number");
    if (host && strcmp(host, "api") == 0)
        f.host = 0;
    else if (host && strcmp(host, "auth") == 0)
        f.host = 1;
    else if (host && *host)
        return bad(req, 400, "host must be api or auth");
    if (!status_filter(sim_query(req, "status"), &f))
        return bad(req, 400,
                   "status must be an HTTP status like 404, a class like 4xx, or 0 "
                   "(dropped without an answer)");
    send(req, 200, json_pack("{s:o}", "requests", sim_log_json(s, &f)));
}

static void c_requests_clear(struct sim *s, struct ap_http_req *req, json_t *body)
{
    (void)body;
    sim_log_clear(s);
    ok(req);
}

/* ---- dispatch ---------------------------------------------------------------------- */

static const struct ctl_route routes[] = {
    {"POST", "/_stsim/reset", c_reset, true},
    {"GET", "/_stsim/counters", c_counters, false},
    {"PUT", "/_stsim/config", c_config, true},
    {"GET", "/_stsim/config", c_get_config, false},
    {"POST", "/_stsim/clock", c_clock, true},
    {"POST", "/_stsim/tenants", c_tenants, true},
    {"POST", "/_stsim/apps", c_apps, true},
    {"GET", "/_stsim/apps", c_app_list, false},
    {"PUT", "/_stsim/apps/:appId/scopes", c_app_scopes, true},
    {"POST", "/_stsim/apps/:appId/tenants", c_app_tenants, true},
    {"POST", "/_stsim/connections", c_connect, true},
    {"GET", "/_stsim/connections", c_conns, false},
    {"POST", "/_stsim/connections/:tenantId/:appId/secret", c_secret, false},
    {"PUT", "/_stsim/connections/:tenantId/:appId/state", c_state, true},
    {"POST", "/_stsim/faults", c_fault_add, true},
    {"GET", "/_stsim/faults", c_fault_list, false},
    {"DELETE", "/_stsim/faults", c_fault_clear, false},
    {"GET", "/_stsim/requests", c_requests, false},
    {"DELETE", "/_stsim/requests", c_requests_clear, false},
};

struct ctl_ud {
    struct sim *s;
    const struct ctl_route *rt;
};

static struct ctl_ud uds[AP_COUNTOF(routes)];

static enum ap_http_result ctl_entry(struct ap_http_req *req, void *ud)
{
    const struct ctl_ud *u = ud;
    json_t *body = NULL;
    if (u->rt->needs_body) {
        struct ap_str b = ap_http_body(req);
        struct ap_json_error e;
        bool blank = true;
        for (size_t i = 0; i < b.len && blank; i++)
            blank = b.p[i] == ' ' || b.p[i] == '\n' || b.p[i] == '\r' || b.p[i] == '\t';
        if (blank)
            body = json_object();
        else if (ap_json_parse_body(b.p, b.len, AP_JSON_OBJECT, &body, &e) != AP_OK) {
            bad(req, 400, "%s", e.message);
            return AP_HTTP_DONE;
        }
    }
    pthread_mutex_lock(&u->s->lock);
    u->rt->fn(u->s, req, body);
    pthread_mutex_unlock(&u->s->lock);
    json_decref(body);
    return AP_HTTP_DONE;
}

void sim_control_route(struct sim *s, struct ap_router *r, const char *method, const char *path,
                       sim_control_fn fn)
{
    struct ctl_route *rt = ap_xcalloc(1, sizeof(*rt));
    struct ctl_ud *u = ap_xcalloc(1, sizeof(*u));

    *rt = (struct ctl_route){method, path, fn, strcmp(method, "GET") != 0};
    *u = (struct ctl_ud){s, rt};
    pthread_mutex_lock(&s->lock);
    sim_log_keep_route(s, rt);
    sim_log_keep_route(s, u);
    pthread_mutex_unlock(&s->lock);
    ap_router_add(r, method, path, ctl_entry, u);
}

void sim_control_reply(struct ap_http_req *req, int status, json_t *body)
{
    send(req, status, body);
}

void sim_control_error(struct ap_http_req *req, int status, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    send(req, status, json_pack("{s:s}", "error", msg));
}

void sim_control_routes(struct sim *s, struct ap_router *r)
{
    for (size_t i = 0; i < AP_COUNTOF(routes); i++) {
        uds[i] = (struct ctl_ud){s, &routes[i]};
        ap_router_add(r, routes[i].method, routes[i].path, ctl_entry, &uds[i]);
    }
}

/*
 * auth.c — the emulated auth host: POST /connect/token (OAuth 2.0 client
 * credentials, form-encoded), and the access tokens it mints.
 *
 * The tokens themselves are token.c's.
 *
 * Errors follow IdentityServer: 400 {"error":"invalid_request"} for missing
 * fields, 400 {"error":"unsupported_grant_type"}, 401
 * {"error":"invalid_client"} for an unknown client, a wrong secret, a
 * connection that is not connected or disabled (error_description says
 * which), 429 {"error":"slow_down"} with Retry-After when a client asks for
 * tokens faster than token-rate-limit per minute, 405 for other methods.
 * Every call is counted and written to the request log (host "auth") with the
 * client secret masked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "sim/core/backbone.h"

#define MAX_FIELD 512

/* ---- the token endpoint -------------------------------------------------------- */

struct token_call {
    struct sim *s;
    struct ap_http_req *req;
    struct sim_log_entry *e;
    int status;
};

static void oauth_error(struct token_call *t, int status, const char *error, const char *desc)
{
    json_t *b = json_pack("{s:s}", "error", error);
    if (desc)
        json_object_set_new(b, "error_description", json_string(desc));
    char *text = ap_json_dumps(b);
    ap_http_add_header(t->req, "Cache-Control", "no-store");
    ap_http_respond_json(t->req, status, text, strlen(text));
    free(text);
    json_decref(b);
    t->status = status;
    if (status == 400 || status == 401)
        sim_count_token_rejected(t->s);
}

/* Applies an auth-host fault; true when it answered. */
static bool token_fault(struct token_call *t)
{
    struct sim_fault f;
    if (!sim_fault_take(t->s, true, "POST", "/connect/token", &f))
        return false;
    char v[16];
    switch (f.kind) {
    case SIM_FAULT_LATENCY:
        ap_http_set_delay(t->req, f.latency_ms);
        t->e->latency_ms += f.latency_ms;
        return false;
    case SIM_FAULT_APPLY_THEN_DROP:
        ap_http_set_drop_on_respond(t->req);
        t->e->dropped = true;
        return false;
    case SIM_FAULT_DROP:
        ap_http_drop(t->req);
        t->e->dropped = true;
        t->status = 0;
        return true;
    default:
        if (f.retry_after > 0) {
            snprintf(v, sizeof(v), "%d", f.retry_after);
            ap_http_add_header(t->req, "Retry-After", v);
        }
        if (f.kind == SIM_FAULT_STATUS && f.status && f.status != 503)
            oauth_error(t, f.status, f.status == 429 ? "slow_down" : "server_error", NULL);
        else
            oauth_error(t, 503, "temporarily_unavailable", "The token service is unavailable.");
        return true;
    }
}

static void issue(struct token_call *t, struct sim_conn *c)
{
    struct sim *s = t->s;
    int64_t now_s = sim_now(s) / 1000000000;
    const char *iss = strcmp(s->cfg.environment, "production") == 0
                          ? "https://auth.servicetitan.io"
                          : "https://auth-integration.servicetitan.io";
    char *tok =
        sim_token_mint(s->token_key, iss, c->client_id, c->tenant_id,
                       (const char *const *)c->scopes, c->nscopes, now_s, s->cfg.token_lifetime_s);
    struct ap_buf sc;
    ap_buf_init(&sc, 64 * 1024);
    for (size_t i = 0; i < c->nscopes; i++)
        ap_buf_printf(&sc, "%s%s", i ? " " : "", c->scopes[i]);
    json_t *b =
        json_pack("{s:s, s:i, s:s, s:s}", "access_token", tok, "expires_in",
                  s->cfg.token_lifetime_s, "token_type", "Bearer", "scope", sc.data ? sc.data : "");
    char *text = ap_json_dumps(b);
    ap_http_add_header(t->req, "Cache-Control", "no-store");
    ap_http_add_header(t->req, "Pragma", "no-cache");
    ap_http_respond_json(t->req, 200, text, strlen(text));
    t->status = 200;
    s->tokens_issued++;
    free(text);
    json_decref(b);
    ap_buf_cleanup(&sc);
    free(tok);
}

static void token_run(struct token_call *t)
{
    if (token_fault(t))
        return;
    const char *grant = ap_http_form(t->req, "grant_type");
    const char *cid = ap_http_form(t->req, "client_id");
    const char *secret = ap_http_form(t->req, "client_secret");
    if (!grant || !*grant)
        return oauth_error(t, 400, "invalid_request", "grant_type is required.");
    if (strcmp(grant, "client_credentials") != 0)
        return oauth_error(t, 400, "unsupported_grant_type", NULL);
    if (!cid || !*cid || !secret || !*secret)
        return oauth_error(t, 400, "invalid_request", "client_id and client_secret are required.");
    if (strlen(cid) > MAX_FIELD || strlen(secret) > MAX_FIELD)
        return oauth_error(t, 400, "invalid_request", "client_id or client_secret is too long.");
    snprintf(t->e->client_id, sizeof(t->e->client_id), "%.47s", cid);
    struct sim_conn *c = sim_conn_by_client_id(t->s, cid);
    if (!c)
        return oauth_error(t, 401, "invalid_client", NULL);
    t->e->tenant = c->tenant_id;
    int retry = 1;
    if (!sim_token_throttle(t->s, cid, &retry)) {
        char v[16], d[96];
        snprintf(v, sizeof(v), "%d", retry);
        snprintf(d, sizeof(d), "Too many token requests. Try again in %d seconds.", retry);
        ap_http_add_header(t->req, "Retry-After", v);
        return oauth_error(t, 429, "slow_down", d);
    }
    if (!c->has_secret || !sim_conn_check_secret(t->s, c, secret))
        return oauth_error(t, 401, "invalid_client", NULL);
    if (c->state == SIM_CONN_DISABLED)
        return oauth_error(t, 401, "invalid_client",
                           "The application is disabled for this tenant.");
    if (c->state != SIM_CONN_CONNECTED)
        return oauth_error(t, 401, "invalid_client",
                           "The application is not connected to this tenant.");
    issue(t, c);
}

/* The body for the request log, with the client_secret value replaced by "***". */
static char *masked_body(struct ap_http_req *req)
{
    struct ap_str b = ap_http_body(req);
    if (b.len == 0)
        return NULL;
    struct ap_buf out;
    ap_buf_init(&out, SIM_LOG_BODY_MAX);
    const char *p = b.p, *end = b.p + b.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        if (p != b.p)
            ap_buf_puts(&out, "&");
        if ((size_t)(pe - p) >= 14 && memcmp(p, "client_secret=", 14) == 0)
            ap_buf_puts(&out, "client_secret=***");
        else
            ap_buf_append(&out, p, (size_t)(pe - p));
        p = pe + 1;
    }
    return ap_buf_take(&out);
}

static enum ap_http_result token_entry(struct ap_http_req *req, void *ud)
{
    struct sim *s = ud;
    int64_t t0 = ap_clock_mono_ns();
    struct ap_str m = ap_http_method(req), p = ap_http_path(req);
    struct sim_log_entry e = {.auth = true};
    struct token_call t = {.s = s, .req = req, .e = &e};
    snprintf(e.method, sizeof(e.method), "%.*s", (int)(m.len > 11 ? 11 : m.len), m.p);
    e.path = ap_xstrndup(p.p, p.len);
    e.body = masked_body(req);
    pthread_mutex_lock(&s->lock);
    e.time_ns = sim_now(s);
    s->token_requests++;
    if (!ap_str_eq_c(m, "POST")) {
        ap_http_add_header(req, "Allow", "POST");
        oauth_error(&t, 405, "invalid_request", "Use POST.");
    } else {
        token_run(&t);
    }
    e.status = t.status;
    e.latency_ms += (double)(ap_clock_mono_ns() - t0) / 1e6;
    sim_log_add(s, &e);
    pthread_mutex_unlock(&s->lock);
    return AP_HTTP_DONE;
}

void sim_auth_routes(struct sim *s, struct ap_router *r)
{
    ap_router_add(r, "*", "/connect/token", token_entry, s);
}

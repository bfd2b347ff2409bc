/*
 * auth.c — the emulated auth host: POST /connect/token (OAuth 2.0 client
 * credentials, form-encoded, the client authenticated by form fields
 * (client_secret_post) or HTTP Basic (client_secret_basic)), and
 * GET /.well-known/openid-configuration naming the token endpoint and the
 * grant. The tokens themselves are token.c's. Paths are matched as ASP.NET
 * Core does (any case, a trailing slash ignored); other paths answer 404 in
 * the same {"error", "error_description"} shape as every auth-host error.
 *
 * Errors follow IdentityServer: 400 {"error":"invalid_request"} for missing
 * fields, 400 {"error":"unsupported_grant_type"}, 401
 * {"error":"invalid_client"} for an unknown client, a wrong secret, a
 * connection that is not connected or disabled (error_description says
 * which), 429 {"error":"slow_down"} with Retry-After when a client asks for
 * tokens faster than token-rate-limit per minute, 405 for other methods.
 * Every call is written to the request log (host "auth") with the client
 * secret masked; token requests are counted. A throttled token request says,
 * in its error_description and in the log, that the limit is stsim's
 * assumption and how to change it: ServiceTitan publishes no number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    ap_http_add_header(t->req, "Cache-Control", "no-store");
    sim_send_json(t->req, status, b);
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

/* The token's iss: the auth host of the environment stsim plays. */
static const char *issuer(const struct sim *s)
{
    return strcmp(s->cfg.environment, "production") == 0
               ? "https://auth.servicetitan.io"
               : "https://auth-integration.servicetitan.io";
}

static void issue(struct token_call *t, struct sim_conn *c)
{
    struct sim *s = t->s;
    int64_t now_s = sim_now(s) / AP_NS_PER_S;
    const char *iss = issuer(s);
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
    ap_http_add_header(t->req, "Cache-Control", "no-store");
    ap_http_add_header(t->req, "Pragma", "no-cache");
    sim_send_json(t->req, 200, b);
    t->status = 200;
    s->tokens_issued++;
    ap_buf_cleanup(&sc);
    free(tok);
}

/*
 * The client's id and secret: from "Authorization: Basic base64(id:secret)"
 * (each part form-encoded first, RFC 6749 §2.3.1) or from the form fields.
 * Both ways at once is invalid_request (RFC 6749 says a client uses one).
 * Answers 400 itself and returns false on a bad request.
 */
static bool client_credentials(struct token_call *t, const char **cid, const char **secret)
{
    const char *auth = ap_http_header(t->req, "Authorization");

    *cid = ap_http_form(t->req, "client_id");
    *secret = ap_http_form(t->req, "client_secret");
    if (auth == NULL || strncasecmp(auth, "Basic ", 6) != 0)
        return true;
    if (*secret != NULL) {
        oauth_error(t, 400, "invalid_request",
                    "The client authenticated twice: use HTTP Basic or client_secret, not both.");
        return false;
    }
    size_t n = 0;
    char *plain = ap_crypto_b64url_decode(auth + 6, strlen(auth + 6), &n);
    char *colon = plain != NULL && strlen(plain) == n ? strchr(plain, ':') : NULL;
    struct ap_arena *a = ap_http_arena(t->req);
    const char *basic_id = NULL;
    if (colon != NULL) {
        basic_id = ap_http_decode(a, (struct ap_str){plain, (size_t)(colon - plain)}, true);
        *secret = ap_http_decode(a, ap_str_c(colon + 1), true);
    }
    free(plain);
    if (basic_id == NULL || *secret == NULL || (*cid != NULL && strcmp(*cid, basic_id) != 0)) {
        oauth_error(t, 400, "invalid_request",
                    "The Authorization header must be Basic base64(client_id:client_secret).");
        return false;
    }
    *cid = basic_id;
    return true;
}

/* 429 slow_down: the limit is stsim's assumption, and says so. */
static void slow_down(struct token_call *t, int retry)
{
    char v[16], d[400];

    snprintf(v, sizeof(v), "%d", retry);
    snprintf(d, sizeof(d),
             "Too many token requests: stsim allows %d per client per minute. That number is "
             "stsim's assumption (ServiceTitan throttles token requests but publishes no limit); "
             "change it with --token-rate-limit or PUT /_stsim/config {\"tokenRateLimit\": N}. "
             "Reuse a token for its expires_in seconds. Try again in %d seconds.",
             t->s->cfg.token_rate_limit, retry);
    ap_http_add_header(t->req, "Retry-After", v);
    free(t->e->note);
    t->e->note = ap_xstrdup(d);
    oauth_error(t, 429, "slow_down", d);
}

static void token_run(struct token_call *t)
{
    const char *cid, *secret;

    if (token_fault(t))
        return;
    const char *grant = ap_http_form(t->req, "grant_type");
    if (!grant || !*grant)
        return oauth_error(t, 400, "invalid_request", "grant_type is required.");
    if (strcmp(grant, "client_credentials") != 0)
        return oauth_error(t, 400, "unsupported_grant_type", NULL);
    if (!client_credentials(t, &cid, &secret))
        return;
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
    if (!sim_token_throttle(t->s, cid, &retry))
        return slow_down(t, retry);
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

/* One auth-host call: runs what, then writes the log entry. token counts it as a token request. */
static void auth_serve(struct sim *s, struct ap_http_req *req, bool token,
                       void (*what)(struct token_call *t))
{
    int64_t t0 = ap_clock_mono_ns();
    struct ap_str m = ap_http_method(req), p = ap_http_path(req);
    struct sim_log_entry e = {.auth = true};
    struct token_call t = {.s = s, .req = req, .e = &e};
    snprintf(e.method, sizeof(e.method), "%.*s", (int)(m.len > 11 ? 11 : m.len), m.p);
    e.path = ap_xstrndup(p.p, p.len);
    e.body = masked_body(req);
    pthread_mutex_lock(&s->lock);
    e.time_ns = sim_now(s);
    if (token)
        s->token_requests++;
    what(&t);
    e.status = t.status;
    e.latency_ms += (double)(ap_clock_mono_ns() - t0) / 1e6;
    sim_log_add(s, &e);
    pthread_mutex_unlock(&s->lock);
}

static void token_call(struct token_call *t)
{
    if (!ap_str_eq_c(ap_http_method(t->req), "POST")) {
        ap_http_add_header(t->req, "Allow", "POST");
        oauth_error(t, 405, "invalid_request", "Use POST.");
        return;
    }
    token_run(t);
}

/* The discovery document: where the token endpoint is, and what it takes. */
static void discovery_call(struct token_call *t)
{
    const char *host = ap_http_header(t->req, "Host");
    char *endpoint = ap_arena_printf(ap_http_arena(t->req), "http://%s/connect/token",
                                     host != NULL && *host != '\0' ? host : "127.0.0.1");

    if (!ap_str_eq_c(ap_http_method(t->req), "GET") &&
        !ap_str_eq_c(ap_http_method(t->req), "HEAD")) {
        ap_http_add_header(t->req, "Allow", "GET");
        oauth_error(t, 405, "invalid_request", "Use GET.");
        return;
    }
    sim_send_json(t->req, 200,
                  json_pack("{s:s, s:s, s:[s], s:[s, s], s:[s]}", "issuer", issuer(t->s),
                            "token_endpoint", endpoint, "grant_types_supported",
                            "client_credentials", "token_endpoint_auth_methods_supported",
                            "client_secret_post", "client_secret_basic",
                            "token_endpoint_auth_signing_alg_values_supported", "RS256"));
    t->status = 200;
}

static void not_found_call(struct token_call *t)
{
    free(t->e->note);
    t->e->note = ap_xstrdup("no route: the auth host serves /connect/token and "
                            "/.well-known/openid-configuration");
    oauth_error(t, 404, "invalid_request",
                "The auth host serves POST /connect/token and "
                "GET /.well-known/openid-configuration.");
}

/* The path lowercased, without trailing slashes, is exactly want. */
static bool path_is(struct ap_str p, const char *want)
{
    while (p.len > 1 && p.p[p.len - 1] == '/')
        p.len--;
    return ap_str_case_eq_c(p, want);
}

static enum ap_http_result auth_entry(struct ap_http_req *req, void *ud)
{
    struct ap_str p = ap_http_path(req);

    if (path_is(p, "/connect/token"))
        auth_serve(ud, req, true, token_call);
    else if (path_is(p, "/.well-known/openid-configuration"))
        auth_serve(ud, req, false, discovery_call);
    else
        auth_serve(ud, req, false, not_found_call);
    return AP_HTTP_DONE;
}

void sim_auth_routes(struct sim *s, struct ap_router *r)
{
    ap_router_add(r, "*", "/*rest", auth_entry, s);
}

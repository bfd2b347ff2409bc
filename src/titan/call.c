/*
 * call.c — one ServiceTitan API call with its retries (ap_titan_call) and the
 * public token check (ap_titan_token). See titan.c for the overview.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "httpc/httpc.h"
#include "titan/titan_int.h"

#define MAX_PATH_LEN  2048
#define MAX_QUERY_LEN 8192

struct call {
    struct ap_titan *t;
    const struct ap_titan_creds *creds;
    const char *method;
    char *url, *logpath, *body;
    int64_t deadline_ns;
    int tries;      /* attempts that count against max_attempts */
    bool refreshed; /* the one 401 refresh was used */
    bool got_401;   /* the last attempt's token was refused */
    char *token;    /* the token of the last attempt */
};

static const char *stage_name(enum ap_titan_stage s)
{
    static const char *const n[] = {"none", "token", "api", "network"};
    return (unsigned)s < 4 ? n[s] : "none";
}

/*
 * Whether to try again after the failure in e, and after how long: network
 * errors, 429 and 5xx, while attempts and the time budget last. ra: the
 * Retry-After seconds of a 429 (-1: none said).
 */
static bool should_retry(struct call *c, const struct ap_titan_error *e, int ra, int64_t *delay)
{
    struct ap_titan *t = c->t;

    if (!ap_titan_status_retryable(e->status) || c->tries >= t->cfg.max_attempts)
        return false;
    if (e->status == 429 && ra >= 0)
        *delay = (int64_t)ra * 1000000000LL;
    else
        *delay = ap_titan_backoff_ns(c->tries, ap_titan_random(t));
    return ap_clock_mono_ns() + *delay <= c->deadline_ns;
}

/* A 2xx: the body parsed into *out (NULL when empty) by the json adapter
 * (its limits: size, depth, UTF-8, duplicate keys). */
static enum ap_err take_body(const struct ap_httpc_resp *r, json_t **out, struct ap_titan_error *e)
{
    struct ap_json_error je;
    json_t *j = NULL;
    enum ap_err err;

    if (r->body_len == 0 || r->body_len == strspn(r->body, " \t\r\n"))
        return AP_OK;
    if ((err = ap_json_parse_body(r->body, r->body_len, AP_JSON_ANY, &j, &je)) != AP_OK) {
        e->stage = AP_TITAN_STAGE_API;
        e->status = (int)r->status;
        snprintf(e->title, sizeof(e->title), "ServiceTitan answered %ld with unusable JSON: %s",
                 r->status, je.message);
        return err == AP_ETOOBIG ? AP_ETOOBIG : AP_EPARSE;
    }
    if (out)
        *out = j;
    else
        json_decref(j);
    return AP_OK;
}

/* Sends the request once with token c->token. *ra: Retry-After of a 429. */
static enum ap_err send_once(struct call *c, json_t **out, struct ap_titan_error *e, int *ra)
{
    char *auth = ap_xasprintf("Authorization: Bearer %s", c->token);
    const char *hdrs[] = {c->t->app_key_header, auth, "Accept: application/json",
                          c->body ? "Content-Type: application/json" : NULL, NULL};
    struct ap_httpc_req req = {.method = c->method,
                               .url = c->url,
                               .headers = hdrs,
                               .body = c->body,
                               .body_len = c->body ? strlen(c->body) : 0};
    struct ap_httpc_resp r = {0};
    enum ap_err err;

    ap_titan_limit(c->t, c->creds->tenant_id);
    err = ap_httpc_do(ap_titan_httpc(c->t), &req, &r);
    memset(auth, 0, strlen(auth));
    free(auth);
    if (err != AP_OK) {
        e->stage = AP_TITAN_STAGE_NETWORK;
        e->status = 0;
        snprintf(e->title, sizeof(e->title), "%s", r.errmsg);
        err = AP_EUNAVAIL;
    } else if (r.status >= 200 && r.status < 300) {
        err = take_body(&r, out, e);
    } else {
        e->stage = AP_TITAN_STAGE_API;
        ap_titan_parse_error_body((int)r.status, r.body, r.body_len, e);
        if (r.status == 429 && ap_titan_retry_after(ap_httpc_resp_header(&r, "Retry-After"),
                                                    e->title, ap_clock_real_ns(), ra))
            e->retry_after_s = *ra;
        err = ap_titan_status_err((int)r.status);
    }
    ap_httpc_resp_cleanup(&r);
    return err;
}

/* One attempt: the token (refreshed once after a 401), then the request. */
static enum ap_err attempt(struct call *c, json_t **out, struct ap_titan_error *e, int *ra)
{
    struct ap_titan *t = c->t;
    /* only a 401 makes a token stale: after a 429, a 5xx or a network error
     * the same token is used again */
    char *prev = c->token;
    enum ap_err err;

    c->token = NULL;
    err = ap_titan_token_get(t, c->creds, false, c->got_401 ? prev : NULL, &c->token, e);
    free(prev);
    c->got_401 = false;
    if (err != AP_OK) {
        *ra = e->status == 429 && e->retry_after_s > 0 ? e->retry_after_s : -1;
        return err;
    }
    err = send_once(c, out, e, ra);
    if (e->status == 429)
        atomic_fetch_add(&t->n_429, 1);
    if (e->status == 401 && err != AP_OK) {
        atomic_fetch_add(&t->n_401, 1);
        c->got_401 = true;
    }
    return err;
}

static enum ap_err run(struct call *c, json_t **out, struct ap_titan_error *e)
{
    enum ap_err err;
    int64_t delay = 0;
    int ra;

    for (;;) {
        memset(e, 0, offsetof(struct ap_titan_error, attempts));
        ra = -1;
        e->attempts++;
        c->tries++;
        err = attempt(c, out, e, &ra);
        if (err == AP_OK)
            return AP_OK;
        if (e->stage == AP_TITAN_STAGE_API && e->status == 401 && !c->refreshed) {
            c->refreshed = true; /* the token was refused: a fresh one, once */
            c->tries--;
            continue;
        }
        if (!should_retry(c, e, ra, &delay))
            return err;
        atomic_fetch_add(&c->t->n_retries, 1);
        ap_titan_sleep(c->t, delay);
    }
}

static bool args_ok(const struct ap_titan_creds *creds, const char *module, const char *path,
                    const char *query)
{
    return creds && creds->tenant_id > 0 && module && module[0] && strlen(module) < 64 &&
           !strpbrk(module, "/?#") && path && (path[0] == '/' || path[0] == '\0') &&
           strlen(path) < MAX_PATH_LEN && !strpbrk(path, "?# \r\n") &&
           (!query || (strlen(query) < MAX_QUERY_LEN && !strpbrk(query, "# \r\n")));
}

static void log_failure(const struct call *c, enum ap_err err, const struct ap_titan_error *e)
{
    char title[160];

    ap_log_warn("titan.call",
                "method=%s path=%s status=%d attempts=%d stage=%s err=%s trace_id=%s title=%s",
                c->method, c->logpath, e->status, e->attempts, stage_name(e->stage),
                ap_err_str(err), e->trace_id[0] ? e->trace_id : "-",
                ap_log_quote(e->title, title, sizeof(title)));
}

enum ap_err ap_titan_call(struct ap_titan *t, const struct ap_titan_creds *creds,
                          const char *method, const char *module, const char *path,
                          const char *query, const json_t *body, json_t **out,
                          struct ap_titan_error *e)
{
    struct ap_titan_error scratch;
    struct call c = {.t = t, .creds = creds, .method = method ? method : "GET"};
    enum ap_err err;

    if (!e)
        e = &scratch;
    memset(e, 0, sizeof(*e));
    if (out)
        *out = NULL;
    if (!args_ok(creds, module, path, query)) {
        snprintf(e->title, sizeof(e->title), "bad ServiceTitan call: module or path");
        return AP_EINVAL;
    }
    c.logpath = ap_xasprintf("/%s/v2/tenant/%lld%s", module, (long long)creds->tenant_id, path);
    c.url = ap_xasprintf("%s%s%s%s", t->api_base, c.logpath, query && *query ? "?" : "",
                         query && *query ? query : "");
    c.body = body ? ap_json_dumps(body) : NULL;
    c.deadline_ns = ap_clock_mono_ns() + (int64_t)t->cfg.retry_budget_ms * 1000000LL;
    atomic_fetch_add(&t->n_calls, 1);
    err = run(&c, out, e);
    if (err != AP_OK)
        log_failure(&c, err, e);
    free(c.token);
    free(c.url);
    free(c.logpath);
    free(c.body);
    return err;
}

enum ap_err ap_titan_token(struct ap_titan *t, const struct ap_titan_creds *creds, bool force,
                           struct ap_titan_token_info *info, struct ap_titan_error *e)
{
    struct ap_titan_error scratch;
    struct call c = {.t = t, .creds = creds};
    char *tok = NULL;
    enum ap_err err;
    int64_t delay = 0;

    if (!e)
        e = &scratch;
    memset(e, 0, sizeof(*e));
    if (info)
        memset(info, 0, sizeof(*info));
    c.deadline_ns = ap_clock_mono_ns() + (int64_t)t->cfg.retry_budget_ms * 1000000LL;
    for (;;) {
        e->attempts++;
        c.tries++;
        err = ap_titan_token_get(t, creds, force, NULL, &tok, e);
        if (err == AP_OK ||
            !should_retry(&c, e, e->retry_after_s > 0 ? e->retry_after_s : -1, &delay))
            break;
        force = false; /* the failed fetch left nothing cached */
        atomic_fetch_add(&t->n_retries, 1);
        ap_titan_sleep(t, delay);
    }
    if (err == AP_OK && info && ap_titan_jwt_claims(tok, info) != AP_OK) {
        e->stage = AP_TITAN_STAGE_TOKEN;
        e->status = 200;
        snprintf(e->title, sizeof(e->title), "the access token's claims could not be read");
        err = AP_EPARSE;
    }
    if (tok) {
        memset(tok, 0, strlen(tok));
        free(tok);
    }
    return err;
}

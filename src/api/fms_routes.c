/*
 * fms_routes.c — the admin JSON API of the seed's FMS Configuration screen
 * (docs/api.md, "ServiceTitan connection"):
 *
 *   GET  /api/v1/fms                       → the status (fms.h)
 *   PUT  /api/v1/fms/tenant                {tenantId} → the status          (Step 1)
 *   POST /api/v1/fms/add-to-servicetitan   → {appAccessUrl, state}          ("Add to ServiceTitan")
 *   POST /api/v1/fms/connect               {clientId, clientSecret} → the status (Steps 3–4)
 *   POST /api/v1/fms/rotate-secret         {clientSecret} → the status
 *   POST /api/v1/fms/disconnect            → the status
 *   POST /api/v1/fms/check                 → the status after a health check
 *
 * Every route needs a signed-in user whose role holds manage_integrations
 * (403 otherwise), and CSRF for the writes; the account is the session's.
 * Errors are {"error":{"code","message","field"?,"step"}}, the same message
 * the CLI prints. Routes that call ServiceTitan or run the operator's hook
 * (add, connect, rotate, check) run on the worker pool and answer deferred;
 * the others are quick store reads/writes on the loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/api_int.h"
#include "app/fms.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/workers.h"
#include "crypto/crypto.h"
#include "json/json.h"

/* ---- answers ------------------------------------------------------------------ */

static json_t *error_json(const struct ap_fms_error *e)
{
    json_t *err = json_pack("{s:s, s:s}", "code", e->code, "message", e->message);
    if (e->field[0])
        json_object_set_new(err, "field", json_string(e->field));
    json_object_set_new(err, "step", json_integer(e->step));
    return json_pack("{s:o}", "error", err);
}

static int error_status(const struct ap_fms_error *e)
{
    return e->http_status ? e->http_status : 500;
}

/* Sends j (consumed) now, or as the deferred reply d when d is not NULL. */
static void send_json(struct ap_http_req *req, struct ap_http_deferred *d, int status, json_t *j)
{
    char *text = ap_json_dumps(j);
    if (d)
        ap_http_reply(d, status, "application/json", text, strlen(text));
    else
        ap_http_respond_json(req, status, text, strlen(text));
    free(text);
    json_decref(j);
}

static void send_error(struct ap_http_req *req, struct ap_http_deferred *d,
                       const struct ap_fms_error *e)
{
    send_json(req, d, error_status(e), error_json(e));
}

static void send_status(struct ap_api *api, struct ap_http_req *req, struct ap_http_deferred *d,
                        int64_t account_id)
{
    json_t *st = ap_fms_status(api->fms, account_id);
    if (!st) {
        struct ap_fms_error e = {.code = "unavailable", .http_status = 503};
        snprintf(e.message, sizeof(e.message),
                 "The database is not available right now: try again in a minute.");
        send_error(req, d, &e);
        return;
    }
    send_json(req, d, 200, st);
}

/* ---- guards and bodies ------------------------------------------------------ */

/* Signed in, allowed to manage integrations, ServiceTitan configured. */
static bool guard(struct ap_http_req *req, struct ap_api *api, bool write, struct ap_user *u)
{
    if (!ap_api_admin_require_perm(req, api, write, u, AP_PERM_MANAGE_INTEGRATIONS))
        return false;
    if (!api->fms) {
        ap_http_respond_error(req, 503, "servicetitan_not_configured",
                              "ServiceTitan is not set up on this server: the operator must set "
                              "APPOINTD_ST_APP_KEY (and APPOINTD_ST_ENV) and restart appointd.",
                              NULL);
        return false;
    }
    return true;
}

/* Parses the body as an object with only `allowed` keys; answers 400 itself. */
static json_t *read_body(struct ap_http_req *req, const char *const allowed[], bool empty_ok)
{
    struct ap_json_error e;
    struct ap_str b = ap_http_body(req);
    json_t *body = NULL;
    if (empty_ok && b.len == 0)
        return json_object();
    enum ap_err err = ap_json_parse_body(b.p, b.len, AP_JSON_OBJECT, &body, &e);
    if (!err)
        err = ap_json_reject_unknown(body, allowed, NULL, &e);
    if (err) {
        ap_http_respond_error(req, 400, e.code, e.message, e.field[0] ? e.field : NULL);
        json_decref(body);
        return NULL;
    }
    return body;
}

/* A string field (absent or null → ""); false with a 400 answered when it is not a string. */
static bool str_field(struct ap_http_req *req, json_t *body, const char *name, const char **out)
{
    struct ap_json_error e;
    *out = "";
    if (ap_json_get_str(body, name, false, 1024, out, &e) != AP_OK) {
        ap_http_respond_error(req, 400, e.code, e.message, e.field);
        return false;
    }
    return true;
}

/* ---- worker jobs ---------------------------------------------------------------- */

enum fms_op { OP_ADD, OP_CONNECT, OP_ROTATE, OP_CHECK };

struct fms_job {
    struct ap_api *api;
    enum fms_op op;
    int64_t account_id, user_id;
    char *client_id, *secret;
    struct ap_http_deferred *d;
};

static void job_free(struct fms_job *j)
{
    if (j->secret)
        ap_crypto_wipe(j->secret, strlen(j->secret));
    free(j->secret);
    free(j->client_id);
    free(j);
}

static void job_run(void *arg)
{
    struct fms_job *j = arg;
    struct ap_fms *f = j->api->fms;
    struct ap_fms_error e = {0};
    const char *link = NULL;
    enum ap_err err = AP_OK;
    switch (j->op) {
    case OP_ADD:
        err = ap_fms_add_to_servicetitan(f, j->account_id, &link, &e);
        break;
    case OP_CONNECT:
        err = ap_fms_connect(f, j->account_id, j->client_id, j->secret, &e);
        break;
    case OP_ROTATE:
        err = ap_fms_rotate_secret(f, j->account_id, j->secret, &e);
        break;
    case OP_CHECK:
        if (ap_fms_check(f, j->account_id) == AP_EUNAVAIL) {
            err = AP_EUNAVAIL;
            e = (struct ap_fms_error){.code = "servicetitan_unavailable", .http_status = 503};
            snprintf(e.message, sizeof(e.message),
                     "ServiceTitan could not be reached. Nothing changed: try again in a minute.");
        }
        break;
    }
    ap_log_info("fms.api", "op=%d account=%lld user=%lld result=%s", (int)j->op,
                (long long)j->account_id, (long long)j->user_id, err ? e.code : "ok");
    if (err) {
        send_error(NULL, j->d, &e);
    } else if (j->op == OP_ADD) {
        json_t *st = ap_fms_status(f, j->account_id);
        json_t *state = st ? json_object_get(st, "state") : NULL;
        send_json(NULL, j->d, 200,
                  json_pack("{s:o, s:O}", "appAccessUrl", link ? json_string(link) : json_null(),
                            "state", state ? state : json_null()));
        json_decref(st);
    } else {
        send_status(j->api, NULL, j->d, j->account_id);
    }
    job_free(j);
}

static enum ap_http_result submit(struct ap_http_req *req, struct ap_api *api, struct fms_job *j)
{
    j->api = api;
    j->d = ap_http_defer(req);
    if (!api->workers || ap_workers_submit(api->workers, job_run, j) != AP_OK) {
        ap_http_reply_error(j->d, 503, "busy", "The server is busy: try again in a moment.", NULL);
        job_free(j);
    }
    return AP_HTTP_DEFERRED;
}

/* ---- handlers ------------------------------------------------------------------- */

static enum ap_http_result handle_status(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user u;
    if (guard(req, api, false, &u))
        send_status(api, req, NULL, u.account_id);
    return AP_HTTP_DONE;
}

static enum ap_http_result handle_tenant(struct ap_http_req *req, void *ud)
{
    static const char *const allowed[] = {"tenantId", NULL};
    struct ap_api *api = ud;
    struct ap_user u;
    struct ap_fms_error e = {0};
    char num[32];
    if (!guard(req, api, true, &u))
        return AP_HTTP_DONE;
    json_t *body = read_body(req, allowed, false);
    if (!body)
        return AP_HTTP_DONE;
    json_t *v = json_object_get(body, "tenantId");
    const char *text = json_is_string(v) ? json_string_value(v) : "";
    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        text = num;
    } else if (v && !json_is_string(v) && !json_is_null(v)) {
        text = "x"; /* a number with a fraction, a boolean ...: not a tenant id */
    }
    if (ap_fms_set_tenant(api->fms, u.account_id, text, &e) != AP_OK)
        send_error(req, NULL, &e);
    else
        send_status(api, req, NULL, u.account_id);
    json_decref(body);
    return AP_HTTP_DONE;
}

static enum ap_http_result handle_add(struct ap_http_req *req, void *ud)
{
    static const char *const allowed[] = {NULL};
    struct ap_api *api = ud;
    struct ap_user u;
    if (!guard(req, api, true, &u))
        return AP_HTTP_DONE;
    json_t *body = read_body(req, allowed, true);
    if (!body)
        return AP_HTTP_DONE;
    json_decref(body);
    struct fms_job *j = ap_xcalloc(1, sizeof(*j));
    *j = (struct fms_job){.op = OP_ADD, .account_id = u.account_id, .user_id = u.id};
    return submit(req, api, j);
}

static enum ap_http_result handle_connect(struct ap_http_req *req, void *ud)
{
    static const char *const allowed[] = {"clientId", "clientSecret", NULL};
    struct ap_api *api = ud;
    struct ap_user u;
    const char *cid = "", *secret = "";
    if (!guard(req, api, true, &u))
        return AP_HTTP_DONE;
    json_t *body = read_body(req, allowed, false);
    if (!body)
        return AP_HTTP_DONE;
    if (!str_field(req, body, "clientId", &cid) || !str_field(req, body, "clientSecret", &secret)) {
        json_decref(body);
        return AP_HTTP_DONE;
    }
    struct fms_job *j = ap_xcalloc(1, sizeof(*j));
    *j = (struct fms_job){.op = OP_CONNECT, .account_id = u.account_id, .user_id = u.id};
    j->client_id = ap_xstrdup(cid);
    j->secret = ap_xstrdup(secret);
    json_decref(body);
    return submit(req, api, j);
}

static enum ap_http_result handle_rotate(struct ap_http_req *req, void *ud)
{
    static const char *const allowed[] = {"clientSecret", NULL};
    struct ap_api *api = ud;
    struct ap_user u;
    const char *secret = "";
    if (!guard(req, api, true, &u))
        return AP_HTTP_DONE;
    json_t *body = read_body(req, allowed, false);
    if (!body)
        return AP_HTTP_DONE;
    if (!str_field(req, body, "clientSecret", &secret)) {
        json_decref(body);
        return AP_HTTP_DONE;
    }
    struct fms_job *j = ap_xcalloc(1, sizeof(*j));
    *j = (struct fms_job){.op = OP_ROTATE, .account_id = u.account_id, .user_id = u.id};
    j->secret = ap_xstrdup(secret);
    json_decref(body);
    return submit(req, api, j);
}

static enum ap_http_result handle_disconnect(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user u;
    struct ap_fms_error e = {0};
    if (!guard(req, api, true, &u))
        return AP_HTTP_DONE;
    if (ap_fms_disconnect(api->fms, u.account_id, &e) != AP_OK)
        send_error(req, NULL, &e);
    else
        send_status(api, req, NULL, u.account_id);
    ap_log_info("fms.api", "op=disconnect account=%lld user=%lld", (long long)u.account_id,
                (long long)u.id);
    return AP_HTTP_DONE;
}

static enum ap_http_result handle_check(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user u;
    if (!guard(req, api, true, &u))
        return AP_HTTP_DONE;
    struct fms_job *j = ap_xcalloc(1, sizeof(*j));
    *j = (struct fms_job){.op = OP_CHECK, .account_id = u.account_id, .user_id = u.id};
    return submit(req, api, j);
}

enum ap_err ap_api_fms_routes(struct ap_api *api, struct ap_router *r)
{
    static const struct {
        const char *method, *pattern;
        ap_http_handler_fn fn;
    } routes[] = {
        {"GET", "/api/v1/fms", handle_status},
        {"PUT", "/api/v1/fms/tenant", handle_tenant},
        {"POST", "/api/v1/fms/add-to-servicetitan", handle_add},
        {"POST", "/api/v1/fms/connect", handle_connect},
        {"POST", "/api/v1/fms/rotate-secret", handle_rotate},
        {"POST", "/api/v1/fms/disconnect", handle_disconnect},
        {"POST", "/api/v1/fms/check", handle_check},
    };
    enum ap_err err = AP_OK;
    for (size_t i = 0; !err && i < sizeof(routes) / sizeof(routes[0]); i++)
        err = ap_router_add(r, routes[i].method, routes[i].pattern, routes[i].fn, api);
    return err;
}

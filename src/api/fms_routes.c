/*
 * fms_routes.c — the admin JSON API of the seed's FMS Configuration screen
 * (docs/api.md, "ServiceTitan connection"):
 *
 *   GET  /api/v1/fms                       → the status (fms.h)
 *   PUT  /api/v1/fms/tenant                {tenantId} → the status          (Step 1)
 *   POST /api/v1/fms/add-to-servicetitan   → {appAccessUrl, state}          ("Add to ServiceTitan")
 *   POST /api/v1/fms/connect               {clientId, clientSecret, tenantId?} → the status
 *   POST /api/v1/fms/rotate-secret         {clientSecret} → the status
 *   POST /api/v1/fms/disconnect            → the status
 *   POST /api/v1/fms/check                 → the status after a health check
 *
 * Every route needs a signed-in user whose role holds manage_integrations
 * (403 otherwise), and CSRF for the writes; the account is the session's.
 * Errors are {"error":{"code","message","field"?,"step","tokenTenantId"?}},
 * the same message the CLI prints; which HTTP status goes with a domain
 * error code is decided here, in one table (ap_api_fms_status).
 *
 * Routes that call ServiceTitan or run the operator's hook (add, connect,
 * rotate, check) answer deferred from the ServiceTitan work queue
 * (app/stqueue.h): the caller's account is the queue's key, so another
 * account's flood never delays them. Each caller waits at most the per-call
 * deadline (st-deadline): a job that could not start by then answers 503
 * servicetitan_busy, one still running answers 504 servicetitan_timeout, and
 * either way nothing is saved. A check joins the one already waiting or
 * running for the account; a second connect, rotation or add beyond the
 * account's queue is 429 with Retry-After. The other routes are quick store
 * reads/writes on the loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/api_int.h"
#include "app/booking.h"
#include "app/fms.h"
#include "app/stqueue.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/jobq.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "json/json.h"

/* ---- the status of each domain error ------------------------------------------------ */

static const int fms_statuses[AP_FMS_E_NCODES] = {
    [AP_FMS_E_MISSING_TENANT_ID] = 400,
    [AP_FMS_E_INVALID_TENANT_ID] = 400,
    [AP_FMS_E_TENANT_REQUIRED] = 409,
    [AP_FMS_E_TENANT_UNCONFIRMED] = 409,
    [AP_FMS_E_DISCONNECT_FIRST] = 409,
    [AP_FMS_E_ADD_FAILED] = 503,
    [AP_FMS_E_WRONG_TENANT] = 400,
    [AP_FMS_E_APP_DISABLED] = 400,
    [AP_FMS_E_APP_NOT_CONNECTED] = 400,
    [AP_FMS_E_APP_ACCESS_REFUSED] = 400,
    [AP_FMS_E_SCOPES_MISSING] = 400,
    [AP_FMS_E_MISSING_CLIENT_ID] = 400,
    [AP_FMS_E_INVALID_CLIENT_ID] = 400,
    [AP_FMS_E_SECRET_IN_CLIENT_ID] = 400,
    [AP_FMS_E_CREDENTIALS_SWAPPED] = 400,
    [AP_FMS_E_OTHER_ENVIRONMENT] = 400,
    [AP_FMS_E_MISSING_CLIENT_SECRET] = 400,
    [AP_FMS_E_INVALID_CLIENT_SECRET_FORMAT] = 400,
    [AP_FMS_E_CLIENT_ID_IN_SECRET] = 400,
    [AP_FMS_E_INVALID_CREDENTIALS] = 400,
    [AP_FMS_E_INVALID_CLIENT_SECRET] = 400,
    [AP_FMS_E_ALREADY_CONNECTED] = 409,
    [AP_FMS_E_NOT_CONNECTED] = 409,
    [AP_FMS_E_CHANGED_MEANWHILE] = 409,
    [AP_FMS_E_SERVICETITAN_UNAVAILABLE] = 503,
    [AP_FMS_E_SERVICETITAN_RATE_LIMITED] = 503,
    [AP_FMS_E_SERVICETITAN_ERROR] = 502,
    [AP_FMS_E_SERVICETITAN_TIMEOUT] = 504,
    [AP_FMS_E_STORE_UNAVAILABLE] = 503,
    [AP_FMS_E_INTERNAL] = 500,
};

int ap_api_fms_status(enum ap_fms_code code)
{
    if ((size_t)code < AP_COUNTOF(fms_statuses) && fms_statuses[code])
        return fms_statuses[code];
    return 500;
}

/* ---- answers ------------------------------------------------------------------------- */

static json_t *error_json(const struct ap_fms_error *e)
{
    json_t *err = json_pack("{s:s, s:s}", "code", ap_fms_code_name(e->code), "message", e->message);
    if (e->field && e->field[0])
        json_object_set_new(err, "field", json_string(e->field));
    json_object_set_new(err, "step", json_integer(e->step));
    if (e->token_tenant_id)
        json_object_set_new(err, "tokenTenantId", json_integer(e->token_tenant_id));
    return json_pack("{s:o}", "error", err);
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
    send_json(req, d, ap_api_fms_status(e->code), error_json(e));
}

static void send_status(struct ap_api *api, struct ap_http_req *req, int64_t account_id)
{
    json_t *st = ap_fms_status(api->fms, account_id);
    if (!st) {
        ap_http_respond_error(req, 503, "unavailable",
                              "The database is not available right now: try again in a minute.",
                              NULL);
        return;
    }
    int64_t counts[AP_BK_NSTATES];
    if (ap_booking_counts(api->store, account_id, counts) == AP_OK) /* waiting behind it */
        json_object_set_new(st, "parkedBookings", json_integer(counts[AP_BK_PARKED]));
    send_json(req, NULL, 200, st);
}

/* A queue's answer: {"error":{code, message, step: 0}} with Retry-After when retry_s > 0. */
static void reply_queue_error(struct ap_http_deferred *d, int status, const char *code, int retry_s,
                              const char *message)
{
    char num[16];
    snprintf(num, sizeof(num), "%d", retry_s);
    const char *const headers[] = {"Retry-After", num, NULL};
    json_t *j =
        json_pack("{s:{s:s, s:s, s:i}}", "error", "code", code, "message", message, "step", 0);
    char *text = ap_json_dumps(j);
    ap_http_reply_headers(d, status, "application/json", retry_s > 0 ? headers : NULL, text,
                          strlen(text));
    free(text);
    json_decref(j);
}

/* ---- guards and bodies ------------------------------------------------------------- */

/* Signed in, allowed to manage integrations, ServiceTitan configured. */
static bool guard(struct ap_http_req *req, struct ap_api *api, bool write, struct ap_user *u)
{
    if (!ap_api_admin_require_perm(req, api, write, u, AP_PERM_MANAGE_INTEGRATIONS))
        return false;
    if (!api->fms || !api->st_queue) {
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

/*
 * A Tenant ID as the client sent it: a number or the text as typed ("" when
 * absent or null). Anything else becomes text that Step 1 refuses.
 */
static const char *tenant_text(json_t *v, char num[32])
{
    if (json_is_integer(v)) {
        snprintf(num, 32, "%lld", (long long)json_integer_value(v));
        return num;
    }
    if (json_is_string(v))
        return json_string_value(v);
    return v && !json_is_null(v) ? "x" : ""; /* a fraction, a boolean ...: not a tenant id */
}

/* ---- the callers waiting on the work queue --------------------------------------------- */

/* Answers a caller whose job ended other than done (late, timed out, canceled). */
void ap_api_st_not_done(struct ap_api_waiter *w, enum ap_jobq_end end)
{
    char msg[300];
    int s = w->api->st_deadline_s;
    if (end == AP_JOBQ_LATE) {
        snprintf(msg, sizeof(msg),
                 "appointd could not start this within %d seconds: earlier ServiceTitan work of "
                 "your account is still waiting for ServiceTitan. Nothing was changed: try again "
                 "in a minute.",
                 s);
        reply_queue_error(w->d, 503, "servicetitan_busy", s, msg);
    } else if (end == AP_JOBQ_TIMEOUT) {
        snprintf(msg, sizeof(msg),
                 "ServiceTitan did not answer within %d seconds. Nothing was changed: try again "
                 "in a minute.",
                 s);
        reply_queue_error(w->d, ap_api_fms_status(AP_FMS_E_SERVICETITAN_TIMEOUT),
                          ap_fms_code_name(AP_FMS_E_SERVICETITAN_TIMEOUT), 0, msg);
    } else {
        reply_queue_error(w->d, 503, "shutting_down", 0,
                          "appointd is shutting down, so this was not started. Nothing was "
                          "changed: try again in a minute.");
    }
}

static void log_end(const struct ap_api_waiter *w, enum ap_jobq_end end, const char *result)
{
    ap_log_info("fms.api", "op=%s account=%lld user=%lld end=%s result=%s", w->op,
                (long long)w->account_id, (long long)w->user_id, ap_jobq_end_name(end), result);
}

/* A check's waiter (the job may be the health thread's, joined). */
static void tell_check(void *ctx, enum ap_jobq_end end, void *arg)
{
    struct ap_api_waiter *w = ctx;
    const struct ap_fms_check_job *j = arg;
    if (end != AP_JOBQ_DONE)
        ap_api_st_not_done(w, end);
    else if (j->err)
        send_error(NULL, w->d, &j->e);
    else
        ap_http_reply(w->d, 200, "application/json", j->status, strlen(j->status));
    log_end(w, end, j && j->err ? ap_fms_code_name(j->e.code) : "ok");
    free(w);
}

/* ---- connect, rotate, add: one caller each ------------------------------------------------ */

enum fms_op { OP_ADD, OP_CONNECT, OP_ROTATE };

struct fms_job {
    struct ap_fms *f;
    enum fms_op op;
    int64_t account_id;
    char *client_id, *secret, *tenant_id;
    enum ap_err err;
    struct ap_fms_error e;
    char *answer; /* the 200 body */
};

static void job_free(void *arg)
{
    struct fms_job *j = arg;
    if (j->secret)
        ap_crypto_wipe(j->secret, strlen(j->secret));
    free(j->secret);
    free(j->client_id);
    free(j->tenant_id);
    free(j->answer);
    free(j);
}

/* The answer of a step that worked: the status, or for "Add" {appAccessUrl, state}. */
static char *answer_of(struct fms_job *j, const char *link)
{
    json_t *st = ap_fms_status(j->f, j->account_id), *out = st;
    if (st && j->op == OP_ADD)
        out = json_pack("{s:o, s:O}", "appAccessUrl", link ? json_string(link) : json_null(),
                        "state", json_object_get(st, "state"));
    char *text = out ? ap_json_dumps(out) : NULL;
    if (out != st)
        json_decref(out);
    json_decref(st);
    return text;
}

static enum ap_jobq_ran job_run(struct ap_jobq_job *job, void *arg)
{
    struct fms_job *j = arg;
    const char *link = NULL;
    if (j->op == OP_ADD) {
        j->err = ap_fms_add_to_servicetitan(j->f, j->account_id, &link, job, &j->e);
    } else if (j->op == OP_CONNECT) {
        struct ap_fms_connect_in in = {j->client_id, j->secret, j->tenant_id};
        j->err = ap_fms_connect(j->f, j->account_id, &in, job, &j->e);
    } else {
        j->err = ap_fms_rotate_secret(j->f, j->account_id, j->secret, job, &j->e);
    }
    if (!j->err && !(j->answer = answer_of(j, link)))
        j->err = AP_EUNAVAIL; /* saved, but the status cannot be read back */
    return AP_JOBQ_FINISHED;
}

static void tell_op(void *ctx, enum ap_jobq_end end, void *arg)
{
    struct ap_api_waiter *w = ctx;
    const struct fms_job *j = arg;
    if (end != AP_JOBQ_DONE)
        ap_api_st_not_done(w, end);
    else if (j->answer)
        ap_http_reply(w->d, 200, "application/json", j->answer, strlen(j->answer));
    else if (j->e.code)
        send_error(NULL, w->d, &j->e);
    else
        ap_http_reply_error(w->d, 503, "unavailable",
                            "The database is not available right now: reload in a minute.", NULL);
    log_end(w, end, j && j->err ? ap_fms_code_name(j->e.code) : "ok");
    free(w);
}

/* ---- submitting ------------------------------------------------------------------------ */

enum ap_http_result ap_api_st_submit(struct ap_http_req *req, struct ap_api *api,
                                     const struct ap_user *u, const struct ap_api_st_job *rj)
{
    struct ap_api_waiter *w = ap_xcalloc(1, sizeof(*w));
    *w = (struct ap_api_waiter){api, NULL, u->account_id, u->id, rj->op};
    w->d = ap_http_defer(req);
    struct ap_jobq_spec s = {
        .key = u->account_id,
        .kind = rj->kind,
        .coalesce = rj->coalesce,
        .deadline_ns = ap_clock_mono_ns() + (int64_t)api->st_deadline_s * AP_NS_PER_S,
        .binding = true,
        .run = rj->run,
        .free = rj->free,
        .arg = rj->arg,
        .tell = rj->tell,
        .waiter = w,
    };
    struct ap_jobq_ticket t = {0};
    enum ap_err err = ap_jobq_submit(api->st_queue, &s, &t);
    if (err) {
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "Your account already has ServiceTitan work of this kind waiting. Nothing was "
                 "changed: try again in %d seconds.",
                 t.retry_after_s);
        if (err == AP_EBUSY)
            reply_queue_error(w->d, 429, "too_many_requests", t.retry_after_s, msg);
        else
            ap_api_st_not_done(w, AP_JOBQ_CANCELED);
        ap_log_info("fms.refused", "op=%s account=%lld user=%lld reason=%s", rj->op,
                    (long long)u->account_id, (long long)u->id,
                    err == AP_EBUSY ? "too_many_requests" : "shutting_down");
        rj->free(rj->arg);
        free(w);
    } else if (t.joined) {
        ap_log_info("fms.joined", "op=%s account=%lld user=%lld", rj->op, (long long)u->account_id,
                    (long long)u->id);
    }
    return AP_HTTP_DEFERRED;
}

static enum ap_http_result submit_op(struct ap_http_req *req, struct ap_api *api,
                                     const struct ap_user *u, struct fms_job *j)
{
    static const char *const names[] = {
        [OP_ADD] = "add", [OP_CONNECT] = "connect", [OP_ROTATE] = "rotate"};
    j->f = api->fms;
    j->account_id = u->account_id;
    struct ap_api_st_job rj = {names[j->op], AP_ST_WORK_CONNECT, NULL, job_run, job_free, j,
                               tell_op};
    return ap_api_st_submit(req, api, u, &rj);
}

/* ---- handlers ------------------------------------------------------------------------- */

static enum ap_http_result handle_status(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user u;
    if (guard(req, api, false, &u))
        send_status(api, req, u.account_id);
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
    const char *text = tenant_text(json_object_get(body, "tenantId"), num);
    if (ap_fms_set_tenant(api->fms, u.account_id, text, &e) != AP_OK)
        send_error(req, NULL, &e);
    else
        send_status(api, req, u.account_id);
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
    j->op = OP_ADD;
    return submit_op(req, api, &u, j);
}

static enum ap_http_result handle_connect(struct ap_http_req *req, void *ud)
{
    static const char *const allowed[] = {"clientId", "clientSecret", "tenantId", NULL};
    struct ap_api *api = ud;
    struct ap_user u;
    const char *cid = "", *secret = "";
    char num[32];
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
    j->op = OP_CONNECT;
    j->client_id = ap_xstrdup(cid);
    j->secret = ap_xstrdup(secret);
    j->tenant_id = ap_xstrdup(tenant_text(json_object_get(body, "tenantId"), num));
    json_decref(body);
    return submit_op(req, api, &u, j);
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
    j->op = OP_ROTATE;
    j->secret = ap_xstrdup(secret);
    json_decref(body);
    return submit_op(req, api, &u, j);
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
        send_status(api, req, u.account_id);
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
    struct ap_api_st_job rj = {
        "check",
        AP_ST_WORK_CHECK,
        AP_FMS_CHECK_COALESCE,
        ap_fms_check_job_run,
        ap_fms_check_job_free,
        ap_fms_check_job_new(api->fms, u.account_id, AP_FMS_CHECK_SECRET),
        tell_check,
    };
    return ap_api_st_submit(req, api, &u, &rj);
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
    for (size_t i = 0; !err && i < AP_COUNTOF(routes); i++)
        err = ap_router_add(r, routes[i].method, routes[i].pattern, routes[i].fn, api);
    return err;
}

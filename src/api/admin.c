/*
 * admin.c — the admin JSON API for signing in and for the account's users
 * and role permissions, plus the guards (admin.h) every admin route uses.
 *
 *   POST /api/v1/login                      {email,password} → user, csrfToken, cookie
 *   POST /api/v1/logout                     (CSRF) → {} and the cookie cleared
 *   GET  /api/v1/me                         → user (with "operator"), csrfToken
 *   GET  /                                  → 302 to the dashboard, /admin/
 *   GET  /api/v1/users                      → the caller's account's users (operators
 *                                             only to operators)
 *   GET  /api/v1/users/:id                  → one of them (404 for any other id)
 *   GET  /api/v1/roles                      → each role and its permissions
 *   PUT  /api/v1/roles/:role/permissions    (CSRF, owner/admin) {manageIntegrations}
 *
 * Nothing here takes an account id from the client: the session decides the
 * account, so another account's data is simply not found.
 *
 * Threads: the password check (argon2id, slow on purpose) runs on the worker
 * pool; everything else runs on the loop thread, including store access,
 * which is a few quick indexed SQLite reads or one small write (acceptable on
 * the loop for now; move it to the workers if the store ever gets remote).
 */
#include "api/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/workers.h"
#include "crypto/crypto.h"
#include "json/json.h"

#define CSRF_HEADER "X-CSRF-Token"

/* ---- small helpers ------------------------------------------------------ */

/* Sends j (consumed) as a JSON body. */
static void respond_json(struct ap_http_req *req, int status, json_t *j)
{
    char *s = ap_json_dumps(j);
    ap_http_respond_json(req, status, s, strlen(s));
    free(s);
    json_decref(j);
}

/* Answers a deferred request with j (stolen) and optional headers {"Name", "value", ..., NULL}. */
static void reply_json(struct ap_http_deferred *d, int status, json_t *j,
                       const char *const *headers)
{
    char *s = ap_json_dumps(j);
    ap_http_reply_headers(d, status, "application/json", headers, s, strlen(s));
    free(s);
    json_decref(j);
}

static json_t *user_json(const struct ap_user *u, const char *account_name)
{
    json_t *perms = json_array();
    if (u->manage_integrations)
        json_array_append_new(perms, json_string(AP_PERM_MANAGE_INTEGRATIONS));
    if (u->manage_schedulers)
        json_array_append_new(perms, json_string(AP_PERM_MANAGE_SCHEDULERS));
    json_t *j = json_pack("{s:I, s:s, s:s, s:I, s:b}", "id", (json_int_t)u->id, "email", u->email,
                          "role", ap_role_name(u->role), "accountId", (json_int_t)u->account_id,
                          "operator", u->operator);
    if (account_name)
        json_object_set_new(j, "accountName", json_string(account_name));
    json_object_set_new(j, "permissions", perms);
    return j;
}

/*
 * True when the client reached us over TLS: through a trusted proxy that
 * says so (X-Forwarded-Proto), or at an https public URL.
 */
static bool over_tls(struct ap_http_req *req)
{
    return strcmp(ap_http_scheme(req), "https") == 0;
}

/* The Set-Cookie value that starts (token) or ends (NULL) a session. */
static void session_cookie(char out[256], const char *token, bool secure)
{
    if (token)
        snprintf(out, 256, "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s",
                 AP_API_SESSION_COOKIE, token, AP_SESSION_TTL_S, secure ? "; Secure" : "");
    else
        snprintf(out, 256, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
                 AP_API_SESSION_COOKIE, secure ? "; Secure" : "");
}

static void set_session_cookie(struct ap_http_req *req, const char *token, bool secure)
{
    char v[256];
    session_cookie(v, token, secure);
    ap_http_add_header(req, "Set-Cookie", v);
}

/*
 * An Origin header, when sent, must be this server as the client reached it:
 * exactly the public URL the Host matched, or (without public-url) the
 * request's own scheme://Host, the scheme counting.
 */
static bool origin_ok(struct ap_http_req *req)
{
    const char *origin = ap_http_header(req, "Origin");
    if (!origin)
        return true; /* not a browser cross-site request; the CSRF token still applies */
    return ap_http_same_origin(req, origin);
}

/* ---- guards ------------------------------------------------------------- */

static bool csrf_ok(struct ap_http_req *req, const char *csrf)
{
    const char *sent = ap_http_header(req, CSRF_HEADER);
    size_t n = strlen(csrf);
    return sent && csrf[0] && strlen(sent) == n && ap_crypto_equal(sent, csrf, n);
}

/* ap_api_admin_require() that also hands back the session's CSRF token. */
static bool require_session(struct ap_http_req *req, struct ap_api *api, bool write,
                            struct ap_user *out, char csrf[64])
{
    const char *token = ap_http_cookie(req, AP_API_SESSION_COOKIE);
    enum ap_err err = token ? ap_session_get(api->store, token, out, csrf) : AP_ENOTFOUND;
    if (err == AP_ENOTFOUND) {
        ap_http_respond_error(req, 401, "unauthenticated", "sign in first", NULL);
        return false;
    }
    if (err) {
        ap_http_respond_error(req, 503, "unavailable",
                              "the database cannot be used right now; try again shortly", NULL);
        return false;
    }
    if (write && !csrf_ok(req, csrf)) {
        ap_http_respond_error(req, 403, "csrf_failed",
                              "missing or wrong X-CSRF-Token header; reload the page and try again",
                              NULL);
        return false;
    }
    if (write && !origin_ok(req)) {
        ap_http_respond_error(req, 403, "csrf_failed",
                              "this request came from another site (its Origin is not this server)",
                              NULL);
        return false;
    }
    return true;
}

bool ap_api_admin_require(struct ap_http_req *req, struct ap_api *api, bool write,
                          struct ap_user *out)
{
    char csrf[64];
    return require_session(req, api, write, out, csrf);
}

bool ap_api_admin_require_perm(struct ap_http_req *req, struct ap_api *api, bool write,
                               struct ap_user *out, const char *perm)
{
    if (!ap_api_admin_require(req, api, write, out))
        return false;
    bool granted = false;
    enum ap_err err = AP_OK;
    if (strcmp(perm, AP_PERM_MANAGE_INTEGRATIONS) == 0)
        granted = out->manage_integrations;
    else if (strcmp(perm, AP_PERM_MANAGE_SCHEDULERS) == 0)
        granted = out->manage_schedulers;
    else
        err = ap_role_permission_get(api->store, out->account_id, out->role, perm, &granted);
    if (err) {
        ap_http_respond_error(req, 503, "unavailable",
                              "the database cannot be used right now; try again shortly", NULL);
        return false;
    }
    if (!granted) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "your role (%s) lacks the %s permission; ask an owner or admin to grant it",
                 ap_role_name(out->role), perm);
        ap_http_respond_error(req, 403, "forbidden", msg, NULL);
        return false;
    }
    return true;
}

/* ---- login -------------------------------------------------------------- */

struct login_job {
    struct ap_store *store;
    struct ap_http_deferred *d;
    struct ap_login_attempt attempt; /* charged to the throttle before hashing */
    char *email, *password, *peer, *token;
    bool secure; /* came over TLS: the cookie gets Secure */
};

/* Frees j; an attempt that never reached the password check does not count. */
static void login_job_free(struct login_job *j)
{
    if (!j)
        return;
    if (j->attempt.open)
        ap_login_abandon(&j->attempt);
    if (j->password)
        ap_crypto_wipe(j->password, strlen(j->password));
    free(j->email);
    free(j->password);
    free(j->peer);
    free(j->token);
    free(j);
}

static void login_succeeded(struct login_job *j, const struct ap_user *u)
{
    char *csrf = NULL, redacted[64];
    struct ap_account acct;
    enum ap_err err = ap_session_create_token(j->store, u, j->token, &csrf);
    if (!err)
        err = ap_account_get(j->store, u->account_id, &acct);
    if (err) {
        free(csrf);
        ap_http_reply_error(j->d, 503, "unavailable",
                            "the database cannot be used right now; try again shortly", NULL);
        return;
    }
    ap_log_info("auth.login", "result=ok user=%lld account=%lld email=%s", (long long)u->id,
                (long long)u->account_id, ap_redact_email(u->email, redacted, sizeof(redacted)));
    json_t *body = json_pack("{s:o, s:s}", "user", user_json(u, acct.name), "csrfToken", csrf);
    free(csrf);
    /* the cookie goes out only with a session behind it */
    char cookie[256];
    session_cookie(cookie, j->token, j->secure);
    const char *const headers[] = {"Set-Cookie", cookie, NULL};
    reply_json(j->d, 200, body, headers);
    ap_crypto_wipe(cookie, sizeof(cookie));
}

static void rate_limited_message(char *msg, size_t n, int retry_after)
{
    int v = retry_after < 60 ? retry_after : (retry_after + 59) / 60;
    snprintf(msg, n, "too many failed sign-in attempts; try again in %d %s%s", v,
             retry_after < 60 ? "second" : "minute", v == 1 ? "" : "s");
}

/* Worker thread: the slow password check (its attempt already counted), then the answer. */
static void login_run(void *arg)
{
    struct login_job *j = arg;
    struct ap_user u;
    char redacted[64];
    enum ap_err err = ap_login_finish(j->store, &j->attempt, j->email, j->password, &u);
    if (err == AP_OK) {
        login_succeeded(j, &u);
    } else if (err == AP_EPERM) {
        ap_log_info("auth.login", "result=denied email=%s peer=%s",
                    ap_redact_email(j->email, redacted, sizeof(redacted)), j->peer);
        ap_http_reply_error(j->d, 401, "invalid_credentials", "wrong email or password", NULL);
    } else {
        ap_http_reply_error(j->d, 503, "unavailable",
                            "the database cannot be used right now; try again shortly", NULL);
    }
    login_job_free(j);
}

/* Reads {email, password}; answers 400 itself and returns false when bad. */
static bool login_body(struct ap_http_req *req, json_t **body, const char **email,
                       const char **password)
{
    static const char *const allowed[] = {"email", "password", NULL};
    struct ap_json_error e;
    struct ap_str b = ap_http_body(req);
    enum ap_err err = ap_json_parse_body(b.p, b.len, AP_JSON_OBJECT, body, &e);
    if (!err)
        err = ap_json_reject_unknown(*body, allowed, NULL, &e);
    if (!err)
        err = ap_json_get_str(*body, "email", true, 254, email, &e);
    if (!err)
        err = ap_json_get_str(*body, "password", true, AP_CRYPTO_PASSWORD_MAX, password, &e);
    if (err) {
        ap_http_respond_error(req, 400, e.code, e.message, e.field[0] ? e.field : NULL);
        return false;
    }
    return true;
}

static enum ap_http_result handle_login(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    json_t *body = NULL;
    const char *email, *password;
    int retry = 0;
    char msg[160], num[16];
    if (!origin_ok(req)) {
        ap_http_respond_error(req, 403, "csrf_failed",
                              "this request came from another site (its Origin is not this server)",
                              NULL);
        return AP_HTTP_DONE;
    }
    if (!login_body(req, &body, &email, &password))
        goto done;
    struct login_job *j = ap_xcalloc(1, sizeof(*j));
    enum ap_err began = ap_login_begin(&j->attempt, email, ap_http_peer(req), &retry);
    if (began == AP_EUNAVAIL) {
        free(j);
        ap_http_add_header(req, "Retry-After", "2");
        ap_http_respond_error(req, 503, "unavailable", "please try again in a moment", NULL);
        goto done;
    }
    if (began != AP_OK) {
        free(j);
        snprintf(num, sizeof(num), "%d", retry);
        ap_http_add_header(req, "Retry-After", num);
        rate_limited_message(msg, sizeof(msg), retry);
        ap_log_info("auth.login", "result=throttled peer=%s retry_after=%d", ap_http_peer(req),
                    retry);
        ap_http_respond_error(req, 429, "rate_limited", msg, NULL);
        goto done;
    }
    j->store = api->store;
    j->email = ap_xstrdup(email);
    j->password = ap_xstrdup(password);
    j->peer = ap_xstrdup(ap_http_peer(req));
    j->token = ap_crypto_token(32);
    j->secure = over_tls(req);
    j->d = ap_http_defer(req);
    if (!api->hash_workers || ap_workers_submit(api->hash_workers, login_run, j) != AP_OK) {
        ap_http_reply_error(j->d, 503, "busy", "the server is busy; try again in a moment", NULL);
        login_job_free(j);
    }
    json_decref(body);
    return AP_HTTP_DEFERRED;
done:
    json_decref(body);
    return AP_HTTP_DONE;
}

/* ---- session routes ----------------------------------------------------- */

static enum ap_http_result handle_logout(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user u;
    if (!ap_api_admin_require(req, api, true, &u))
        return AP_HTTP_DONE;
    ap_session_delete(api->store, ap_http_cookie(req, AP_API_SESSION_COOKIE));
    ap_log_info("auth.logout", "user=%lld account=%lld", (long long)u.id, (long long)u.account_id);
    set_session_cookie(req, NULL, over_tls(req));
    ap_http_respond_json(req, 200, "{}", 2);
    return AP_HTTP_DONE;
}

static enum ap_http_result handle_me(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user u;
    struct ap_account acct;
    char csrf[64];
    if (!require_session(req, api, false, &u, csrf))
        return AP_HTTP_DONE;
    if (ap_account_get(api->store, u.account_id, &acct) != AP_OK) {
        ap_http_respond_error(req, 503, "unavailable",
                              "the database cannot be used right now; try again shortly", NULL);
        return AP_HTTP_DONE;
    }
    respond_json(req, 200,
                 json_pack("{s:o, s:s}", "user", user_json(&u, acct.name), "csrfToken", csrf));
    return AP_HTTP_DONE;
}

/* ---- the site root ------------------------------------------------------ */

/* GET / → the dashboard, rather than a JSON 404 (a demo site may take "/" later). */
static enum ap_http_result handle_root(struct ap_http_req *req, void *ud)
{
    static const char body[] = "the dashboard is at /admin/\n";
    ap_http_add_header(req, "Location", "/admin/");
    ap_http_respond(req, 302, "text/plain; charset=utf-8", body, sizeof(body) - 1);
    return AP_HTTP_DONE;
}

/* ---- users and roles ---------------------------------------------------- */

static json_t *user_row_json(const struct ap_user *u)
{
    return json_pack("{s:I, s:s, s:s, s:b}", "id", (json_int_t)u->id, "email", u->email, "role",
                     ap_role_name(u->role), "manageIntegrations", u->manage_integrations);
}

static enum ap_http_result handle_users(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user me, *list = NULL;
    size_t n = 0;
    if (!ap_api_admin_require(req, api, false, &me))
        return AP_HTTP_DONE;
    if (ap_user_list(api->store, me.account_id, me.operator, & list, &n) != AP_OK) {
        ap_http_respond_error(req, 503, "unavailable",
                              "the database cannot be used right now; try again shortly", NULL);
        return AP_HTTP_DONE;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, user_row_json(&list[i]));
    free(list);
    respond_json(req, 200, json_pack("{s:o}", "users", arr));
    return AP_HTTP_DONE;
}

/* A positive decimal id of at most 18 digits; 0 otherwise. */
static int64_t parse_id(const char *s)
{
    int64_t v = 0;
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 18)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static enum ap_http_result handle_user(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user me, u;
    if (!ap_api_admin_require(req, api, false, &me))
        return AP_HTTP_DONE;
    int64_t id = parse_id(ap_http_param(req, "id"));
    enum ap_err err = id ? ap_user_get(api->store, me.account_id, id, &u) : AP_ENOTFOUND;
    if (!err && u.operator&& !me.operator)
        err = AP_ENOTFOUND; /* appointd's own staff are not the contractor's users */
    if (err == AP_ENOTFOUND)
        ap_http_respond_error(req, 404, "not_found", "no such user in your account", NULL);
    else if (err)
        ap_http_respond_error(req, 503, "unavailable",
                              "the database cannot be used right now; try again shortly", NULL);
    else
        respond_json(req, 200, json_pack("{s:o}", "user", user_row_json(&u)));
    return AP_HTTP_DONE;
}

static json_t *role_json(struct ap_store *st, int64_t account_id, enum ap_role r)
{
    bool integrations = false, schedulers = false;
    if (ap_role_permission_get(st, account_id, r, AP_PERM_MANAGE_INTEGRATIONS, &integrations) ||
        ap_role_permission_get(st, account_id, r, AP_PERM_MANAGE_SCHEDULERS, &schedulers))
        return NULL;
    return json_pack("{s:s, s:b, s:b}", "role", ap_role_name(r), "manageIntegrations", integrations,
                     "manageSchedulers", schedulers);
}

static enum ap_http_result handle_roles(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user me;
    if (!ap_api_admin_require(req, api, false, &me))
        return AP_HTTP_DONE;
    json_t *arr = json_array();
    for (int r = AP_ROLE_OWNER; r <= AP_ROLE_STAFF; r++) {
        json_t *j = role_json(api->store, me.account_id, (enum ap_role)r);
        if (!j) {
            json_decref(arr);
            ap_http_respond_error(req, 503, "unavailable",
                                  "the database cannot be used right now; try again shortly", NULL);
            return AP_HTTP_DONE;
        }
        json_array_append_new(arr, j);
    }
    respond_json(req, 200, json_pack("{s:o}", "roles", arr));
    return AP_HTTP_DONE;
}

/* The permissions a role body may set: its JSON name and the stored one. */
static const struct {
    const char *field, *perm;
} role_perms[] = {{"manageIntegrations", AP_PERM_MANAGE_INTEGRATIONS},
                  {"manageSchedulers", AP_PERM_MANAGE_SCHEDULERS}};

/* Reads {manageIntegrations?: bool, manageSchedulers?: bool} (at least one); answers 400
 * itself when bad. set[i]: given; grant[i]: its value. */
static bool role_body(struct ap_http_req *req, bool set[2], bool grant[2])
{
    static const char *const allowed[] = {"manageIntegrations", "manageSchedulers", NULL};
    struct ap_json_error e = {0};
    json_t *body = NULL;
    struct ap_str b = ap_http_body(req);
    enum ap_err err = ap_json_parse_body(b.p, b.len, AP_JSON_OBJECT, &body, &e);
    if (!err)
        err = ap_json_reject_unknown(body, allowed, NULL, &e);
    for (int i = 0; i < 2 && !err; i++) {
        set[i] = json_object_get(body, role_perms[i].field) != NULL;
        err = ap_json_get_bool(body, role_perms[i].field, false, &grant[i], &e);
    }
    if (!err && !set[0] && !set[1]) {
        ap_json_error_set(&e, "missing_field", "manageIntegrations",
                          "give manageIntegrations or manageSchedulers (true or false)");
        err = AP_EINVAL;
    }
    json_decref(body);
    if (err)
        ap_http_respond_error(req, 400, e.code, e.message, e.field[0] ? e.field : NULL);
    return err == AP_OK;
}

static enum ap_http_result handle_role_perms(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user me;
    enum ap_role role;
    bool set[2] = {false, false}, grant[2] = {false, false};
    char msg[200];
    if (!ap_api_admin_require(req, api, true, &me))
        return AP_HTTP_DONE;
    if (me.role != AP_ROLE_OWNER && me.role != AP_ROLE_ADMIN) {
        snprintf(msg, sizeof(msg),
                 "only an owner or admin can change role permissions (your role is %s)",
                 ap_role_name(me.role));
        ap_http_respond_error(req, 403, "forbidden", msg, NULL);
        return AP_HTTP_DONE;
    }
    if (ap_role_parse(ap_http_param(req, "role"), &role) != AP_OK) {
        ap_http_respond_error(req, 404, "not_found", "no such role (owner, admin or staff)", NULL);
        return AP_HTTP_DONE;
    }
    if (!role_body(req, set, grant))
        return AP_HTTP_DONE;
    for (int i = 0; i < 2; i++) {
        if (!set[i])
            continue;
        enum ap_err err = ap_role_permission_set(api->store, me.account_id, role,
                                                 role_perms[i].perm, grant[i], msg, sizeof(msg));
        if (err == AP_EPERM)
            ap_http_respond_error(req, 409, "conflict", msg, role_perms[i].field);
        else if (err)
            ap_http_respond_error(req, 503, "unavailable", msg, NULL);
        if (err)
            return AP_HTTP_DONE;
        ap_log_info("auth.role_permission", "account=%lld by=%lld role=%s permission=%s granted=%d",
                    (long long)me.account_id, (long long)me.id, ap_role_name(role),
                    role_perms[i].perm, grant[i]);
    }
    json_t *j = role_json(api->store, me.account_id, role);
    if (!j)
        ap_http_respond_error(req, 503, "unavailable",
                              "the database cannot be used right now; try again shortly", NULL);
    else
        respond_json(req, 200, j);
    return AP_HTTP_DONE;
}

enum ap_err ap_api_admin_routes(struct ap_api *api, struct ap_router *r)
{
    static const struct {
        const char *method, *pattern;
        ap_http_handler_fn fn;
    } routes[] = {
        {"GET", "/", handle_root},
        {"POST", "/api/v1/login", handle_login},
        {"POST", "/api/v1/logout", handle_logout},
        {"GET", "/api/v1/me", handle_me},
        {"GET", "/api/v1/users", handle_users},
        {"GET", "/api/v1/users/:id", handle_user},
        {"GET", "/api/v1/roles", handle_roles},
        {"PUT", "/api/v1/roles/:role/permissions", handle_role_perms},
    };
    enum ap_err err = AP_OK;
    for (size_t i = 0; !err && i < sizeof(routes) / sizeof(routes[0]); i++)
        err = ap_router_add(r, routes[i].method, routes[i].pattern, routes[i].fn, api);
    return err;
}

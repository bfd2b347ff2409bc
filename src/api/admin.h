/*
 * admin.h — private to src/api: the guards every admin JSON route calls
 * first (session cookie, CSRF, Origin, permissions), so route files other than
 * admin.c (fms_routes.c) check callers the same way.
 *
 * Both functions run on the loop thread. They read the session and the user
 * from the store: quick indexed SQLite reads, acceptable on the loop for now
 * (no hashing happens here; the session token is hashed with one HMAC).
 *
 * On failure they answer the request themselves (JSON error body through
 * ap_http_respond_error) and return false; the handler then returns
 * AP_HTTP_DONE without responding again. On success they answer nothing and
 * fill *out (the caller's struct; nothing to free).
 */
#ifndef AP_API_ADMIN_H
#define AP_API_ADMIN_H

#include <stdbool.h>

#include "app/app.h"

struct ap_http_req;
struct ap_api;

/* Name of the session cookie. */
#define AP_API_SESSION_COOKIE "appointd_session"

/*
 * Checks that req comes from a signed-in user:
 *   - no appointd_session cookie, or an unknown or expired session →
 *     401 {"error":{"code":"unauthenticated","message":"sign in first"}};
 *   - write true (every state-changing call): the X-CSRF-Token header must
 *     equal the session's CSRF token, else 403 "csrf_failed"; and an Origin
 *     header, when present, must name the request's Host (scheme://Host),
 *     else 403 "csrf_failed" as well;
 *   - the store failing → 503 "unavailable".
 * On success *out is the user (its account_id scopes every query after this).
 */
bool ap_api_admin_require(struct ap_http_req *req, struct ap_api *api, bool write,
                          struct ap_user *out);

/*
 * ap_api_admin_require() plus: the user's role must hold perm in its account
 * (today only AP_PERM_MANAGE_INTEGRATIONS), else 403 "forbidden" with a
 * message naming the permission ("your role (staff) lacks the
 * manage_integrations permission; ask an owner or admin to grant it").
 */
bool ap_api_admin_require_perm(struct ap_http_req *req, struct ap_api *api, bool write,
                               struct ap_user *out, const char *perm);

#endif

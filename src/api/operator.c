/*
 * operator.c — the admin JSON API's operator routes: what appointd's own
 * staff (users with the operator flag, granted only by the CLI) see across
 * every account, so the V1→V2 migration's progress shows at a glance.
 *
 *   GET /api/v1/operator/accounts   → ap_fms_migration_status(): {counts, accounts}
 *
 * Any other signed-in user gets 403 "forbidden": a contractor's role, even
 * owner, never sees another account. Runs on the loop thread (one indexed
 * SQLite read over the accounts, like the other admin routes).
 */
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/api_int.h"
#include "app/fms.h"
#include "core/log.h"
#include "json/json.h"

static enum ap_http_result handle_accounts(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user me;
    if (!ap_api_admin_require(req, api, false, &me))
        return AP_HTTP_DONE;
    if (!me.operator) {
        ap_http_respond_error(req, 403, "forbidden",
                              "only an appointd operator can see every account; this page is "
                              "not part of a contractor's dashboard",
                              NULL);
        return AP_HTTP_DONE;
    }
    json_t *st = ap_fms_migration_status(api->store);
    if (!st) {
        ap_http_respond_error(req, 503, "unavailable",
                              "the database cannot be used right now; try again shortly", NULL);
        return AP_HTTP_DONE;
    }
    char *s = ap_json_dumps(st);
    json_decref(st);
    ap_log_info("operator.accounts", "user=%lld", (long long)me.id);
    ap_http_respond_json(req, 200, s, strlen(s));
    free(s);
    return AP_HTTP_DONE;
}

enum ap_err ap_api_operator_routes(struct ap_api *api, struct ap_router *r)
{
    return ap_router_add(r, "GET", "/api/v1/operator/accounts", handle_accounts, api);
}

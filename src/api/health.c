/*
 * health.c — GET /healthz and GET /metrics, and who may read the metrics.
 *
 * /healthz is polled by load balancers many times a second, so it checks the
 * store at most once per HEALTH_TTL and serves the cached verdict between
 * checks. A failed check is retried on the next request after the TTL.
 *
 * /metrics tells anyone who reads it how busy each route is and which
 * accounts exist in its labels later on, so it is not open by default:
 *   - metrics-token set: every scrape sends "Authorization: Bearer TOKEN"
 *     (401 otherwise), on whichever listener serves it;
 *   - metrics-listen set: /metrics (and /healthz) are served by a listener
 *     of their own (ap_api_metrics_routes), and the main one answers 404;
 *   - neither: only requests from this machine that no proxy relayed
 *     (ap_http_is_local) are answered, others get 403.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ap_build.h"
#include "core/buf.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "db/store.h"
#include "json/json.h"

#define HEALTH_TTL_NS (1000LL * 1000 * 1000)

/* Refreshes the cached verdict if it is stale and nobody else is at it. */
static void refresh_health(struct ap_api *api)
{
    int64_t now = ap_clock_mono_ns();
    int64_t last = atomic_load(&api->health_checked_ns);
    if (last && now - last < HEALTH_TTL_NS)
        return;
    if (pthread_mutex_trylock(&api->health_lock) != 0)
        return;
    char reason[sizeof(api->health_reason)] = "";
    enum ap_err err = ap_store_ping(api->store, reason, sizeof(reason));
    if (err) {
        if (atomic_load(&api->health_ok) || !last)
            ap_log_error("health.store", "err=%s", ap_err_str(err));
        snprintf(api->health_reason, sizeof(api->health_reason), "%s", reason);
    }
    atomic_store(&api->health_ok, err == AP_OK);
    atomic_store(&api->health_checked_ns, now);
    pthread_mutex_unlock(&api->health_lock);
}

enum ap_http_result ap_api_healthz(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    refresh_health(api);
    if (atomic_load(&api->health_ok)) {
        static const char ok[] = "{\"status\":\"ok\",\"version\":\"" AP_VERSION "\",\"db\":\"ok\"}";
        ap_http_respond_json(req, 200, ok, sizeof(ok) - 1);
        return AP_HTTP_DONE;
    }
    pthread_mutex_lock(&api->health_lock);
    json_t *body = json_pack("{s:s,s:s,s:s}", "status", "unavailable", "version", AP_VERSION, "db",
                             api->health_reason);
    pthread_mutex_unlock(&api->health_lock);
    char *text = ap_json_dumps(body);
    ap_http_respond_json(req, 503, text, strlen(text));
    free(text);
    json_decref(body);
    return AP_HTTP_DONE;
}

void ap_api_metrics_access(struct ap_api *api, const char *token, bool own_listener)
{
    api->metrics_token = token && token[0] ? token : NULL;
    api->metrics_own_listener = own_listener;
}

static bool bearer_ok(struct ap_http_req *req, const char *token)
{
    const char *auth = ap_http_header(req, "Authorization");
    size_t n = strlen(token);
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    auth += 7;
    return strlen(auth) == n && ap_crypto_equal(auth, token, n);
}

/* Answers the refusal itself and returns false when req may not read the metrics. */
static bool metrics_allowed(struct ap_http_req *req, struct ap_api *api, bool on_listener)
{
    if (!on_listener && api->metrics_own_listener) {
        ap_http_respond_error(req, 404, "not_found",
                              "metrics are served on the metrics listener (metrics-listen)", NULL);
        return false;
    }
    if (api->metrics_token) {
        if (bearer_ok(req, api->metrics_token))
            return true;
        ap_http_add_header(req, "WWW-Authenticate", "Bearer realm=\"metrics\"");
        ap_http_respond_error(req, 401, "unauthenticated",
                              "send the metrics token: Authorization: Bearer <metrics-token>",
                              NULL);
        return false;
    }
    if (on_listener || ap_http_is_local(req))
        return true;
    ap_http_respond_error(req, 403, "forbidden",
                          "/metrics answers only this machine; to scrape it from elsewhere set "
                          "metrics-token or metrics-listen",
                          NULL);
    return false;
}

static enum ap_http_result metrics(struct ap_http_req *req, struct ap_api *api, bool on_listener)
{
    struct ap_buf out;
    if (!metrics_allowed(req, api, on_listener))
        return AP_HTTP_DONE;
    ap_buf_init(&out, 8 << 20);
    if (ap_metrics_render(api->metrics, &out) != AP_OK) {
        ap_buf_cleanup(&out);
        ap_http_respond_error(req, 500, "metrics_too_large", "metrics output exceeds 8 MiB", NULL);
        return AP_HTTP_DONE;
    }
    ap_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data ? out.data : "",
                    out.len);
    ap_buf_cleanup(&out);
    return AP_HTTP_DONE;
}

enum ap_http_result ap_api_metrics(struct ap_http_req *req, void *ud)
{
    return metrics(req, ud, false);
}

static enum ap_http_result metrics_on_listener(struct ap_http_req *req, void *ud)
{
    return metrics(req, ud, true);
}

enum ap_err ap_api_metrics_routes(struct ap_api *api, struct ap_router *r)
{
    enum ap_err err = ap_router_add(r, "GET", "/metrics", metrics_on_listener, api);
    if (!err)
        err = ap_router_add(r, "GET", "/healthz", ap_api_healthz, api);
    return err;
}

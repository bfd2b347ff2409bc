/*
 * health.c — GET /healthz and GET /metrics.
 *
 * /healthz is polled by load balancers many times a second, so it checks the
 * store at most once per HEALTH_TTL and serves the cached verdict between
 * checks. A failed check is retried on the next request after the TTL.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

#include "ap_build.h"
#include "core/buf.h"
#include "core/clock.h"
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

enum ap_http_result ap_api_metrics(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_buf out;
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

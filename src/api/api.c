/*
 * api.c — builds the api state and registers its routes.
 */
#include "api/api_int.h"

#include <stdlib.h>

#include "app/ratelimit.h"
#include "core/mem.h"

struct ap_api *ap_api_new(const struct ap_api_config *cfg)
{
    struct ap_api *api = ap_xcalloc(1, sizeof(*api));
    api->store = cfg->store;
    api->metrics = cfg->metrics;
    api->debug_routes = cfg->debug_routes;
    api->fms = cfg->fms;
    api->hash_workers = cfg->hash_workers;
    api->st_queue = cfg->st_queue;
    api->st_deadline_s = cfg->st_deadline_s > 0 ? cfg->st_deadline_s : 30;
    api->bsvc = cfg->bsvc;
    api->titan = cfg->titan;
    /* bursts: a widget's first screen asks for a few things at once */
    api->public_read_rate =
        ap_ratelimit_new(cfg->public_rate > 0 ? cfg->public_rate : 20,
                         (int)(cfg->public_rate > 0 ? cfg->public_rate * 3 : 60), 65536);
    api->public_write_rate =
        ap_ratelimit_new(cfg->booking_rate > 0 ? cfg->booking_rate : 0.2,
                         cfg->booking_rate > 1 ? (int)cfg->booking_rate * 2 : 10, 65536);
    api->public_sched_rate =
        ap_ratelimit_new(cfg->scheduler_rate > 0 ? cfg->scheduler_rate : 500,
                         (int)(cfg->scheduler_rate > 0 ? cfg->scheduler_rate * 2 : 1000), 65536);
    pthread_mutex_init(&api->health_lock, NULL);
    if (cfg->debug_routes) {
        api->sleeper = ap_debug_sleeper_new();
        if (!api->sleeper) {
            ap_api_free(api);
            return NULL;
        }
    }
    return api;
}

enum ap_err ap_api_routes(struct ap_api *api, struct ap_router *r)
{
    enum ap_err err = ap_router_add(r, "GET", "/healthz", ap_api_healthz, api);
    if (!err)
        err = ap_router_add(r, "GET", "/metrics", ap_api_metrics, api);
    if (!err)
        err = ap_api_admin_routes(api, r);
    if (!err)
        err = ap_api_fms_routes(api, r);
    if (!err)
        err = ap_api_operator_routes(api, r);
    if (!err)
        err = ap_api_public_routes(api, r);
    if (!err)
        err = ap_api_booking_admin_routes(api, r);
    if (!err && api->debug_routes)
        err = ap_router_add(r, "POST", "/debug/echo", ap_api_debug_echo, api);
    if (!err && api->debug_routes)
        err = ap_router_add(r, "GET", "/debug/sleep", ap_api_debug_sleep, api);
    return err;
}

void ap_api_free(struct ap_api *api)
{
    if (!api)
        return;
    ap_debug_sleeper_free(api->sleeper);
    ap_ratelimit_free(api->public_read_rate);
    ap_ratelimit_free(api->public_write_rate);
    ap_ratelimit_free(api->public_sched_rate);
    pthread_mutex_destroy(&api->health_lock);
    free(api);
}

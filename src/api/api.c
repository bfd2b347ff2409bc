/*
 * api.c — builds the api state and registers its routes.
 */
#include "api/api_int.h"

#include <stdlib.h>

#include "core/mem.h"

struct ap_api *ap_api_new(struct ap_store *store, struct ap_metrics *metrics, bool debug_routes,
                          struct ap_fms *fms, struct ap_workers *workers)
{
    struct ap_api *api = ap_xcalloc(1, sizeof(*api));
    api->store = store;
    api->metrics = metrics;
    api->debug_routes = debug_routes;
    api->fms = fms;
    api->workers = workers;
    pthread_mutex_init(&api->health_lock, NULL);
    if (debug_routes) {
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
    pthread_mutex_destroy(&api->health_lock);
    free(api);
}

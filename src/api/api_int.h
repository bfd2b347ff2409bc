/*
 * api_int.h — private to src/api: the shared state behind struct ap_api.
 */
#ifndef AP_API_API_INT_H
#define AP_API_API_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "app/fms.h"
#include "http/http.h"

struct ap_debug_sleeper;

struct ap_api {
    struct ap_store *store;
    struct ap_metrics *metrics;
    bool debug_routes;

    /* /healthz caches the store check for a short while; one thread at a
     * time refreshes it (single flight), the others read the last result. */
    pthread_mutex_t health_lock;
    _Atomic int64_t health_checked_ns;
    _Atomic int health_ok;
    char health_reason[160];

    struct ap_debug_sleeper *sleeper; /* NULL unless debug routes */

    struct ap_fms *fms;              /* NULL when ServiceTitan is not set up */
    struct ap_workers *hash_workers; /* password hashing (logins) */
    struct ap_jobq *st_queue;        /* ServiceTitan work, fair between accounts */
    int st_deadline_s;               /* per-call deadline of the ServiceTitan routes */

    const char *metrics_token; /* bearer token /metrics needs, or NULL (health.c) */
    bool metrics_own_listener; /* /metrics lives on its own listener */
};

/* Route groups of other files. */
enum ap_err ap_api_admin_routes(struct ap_api *api, struct ap_router *r);    /* admin.c */
enum ap_err ap_api_fms_routes(struct ap_api *api, struct ap_router *r);      /* fms_routes.c */
enum ap_err ap_api_operator_routes(struct ap_api *api, struct ap_router *r); /* operator.c */

/* The HTTP status of an FMS domain error code (fms_routes.c); 500 for an unknown one. */
int ap_api_fms_status(enum ap_fms_code code);

enum ap_http_result ap_api_healthz(struct ap_http_req *req, void *ud);
enum ap_http_result ap_api_metrics(struct ap_http_req *req, void *ud);

struct ap_debug_sleeper *ap_debug_sleeper_new(void);
void ap_debug_sleeper_free(struct ap_debug_sleeper *s);
enum ap_http_result ap_api_debug_echo(struct ap_http_req *req, void *ud);
enum ap_http_result ap_api_debug_sleep(struct ap_http_req *req, void *ud);

#endif

/*
 * api.h — appointd's HTTP handlers and the routes that lead to them.
 *
 * The handlers here are thin: they read the request, call the app or store
 * layer, and write JSON:
 *   GET /healthz   liveness + store check
 *   GET /metrics   Prometheus text
 *   /api/v1/...    the admin API (admin.c: sign-in, users, roles; fms_routes.c:
 *                  the ServiceTitan connection; operator.c) — docs/api.md
 * and, when debug routes are enabled (tests and benchmarks only, never in
 * production), POST /debug/echo and GET /debug/sleep?ms=N.
 */
#ifndef AP_API_API_H
#define AP_API_API_H

#include <stdbool.h>

#include "core/err.h"

struct ap_router;
struct ap_store;
struct ap_metrics;
struct ap_api;
struct ap_fms;
struct ap_workers;
struct ap_jobq;
struct ap_bsvc;
struct ap_titan;

/* What the handlers share; every pointer is borrowed and must outlive the api. */
struct ap_api_config {
    struct ap_store *store;
    struct ap_metrics *metrics;
    bool debug_routes;
    struct ap_fms *fms;              /* NULL when ServiceTitan is not set up (its routes: 503) */
    struct ap_workers *hash_workers; /* password hashing (logins), a pool of its own */
    struct ap_jobq *st_queue;        /* ServiceTitan work per account (app/stqueue.h) */
    int st_deadline_s;               /* every ServiceTitan route answers within this */
    /* the booking half (NULL: its routes answer 503) */
    struct ap_bsvc *bsvc;
    struct ap_titan *titan;
    double public_rate;    /* reads per second per client address (scheduler, availability) */
    double booking_rate;   /* bookings per second per client address */
    double scheduler_rate; /* public requests per second per scheduler */
};

/* Handler state shared by every loop thread. NULL only when a thread cannot be started. */
struct ap_api *ap_api_new(const struct ap_api_config *cfg);
/* Adds every route to r. */
enum ap_err ap_api_routes(struct ap_api *api, struct ap_router *r);
/*
 * Who may read GET /metrics (health.c). token: a bearer token every scrape
 * must send ("Authorization: Bearer <token>"; borrowed, must outlive the
 * api; NULL for none). own_listener: /metrics is served by a separate
 * listener (see ap_api_metrics_routes) and the main one answers 404 for it.
 * With neither, /metrics answers only requests from this machine that no
 * proxy relayed (ap_http_is_local), 403 otherwise. Call before serving.
 */
void ap_api_metrics_access(struct ap_api *api, const char *token, bool own_listener);
/* The routes of the separate metrics listener: GET /metrics and GET /healthz. */
enum ap_err ap_api_metrics_routes(struct ap_api *api, struct ap_router *r);
/*
 * Stops background work. Deferred requests still pending are answered 503
 * first, so no client waits forever. NULL ok.
 */
void ap_api_free(struct ap_api *api);

#endif

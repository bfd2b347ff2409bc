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
#include "app/app.h"
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
    char health_reason[512]; /* room for a database URL and the reason */

    struct ap_debug_sleeper *sleeper; /* NULL unless debug routes */

    struct ap_fms *fms;              /* NULL when ServiceTitan is not set up */
    struct ap_workers *hash_workers; /* password hashing (logins) */
    struct ap_jobq *st_queue;        /* ServiceTitan work, fair between accounts */
    int st_deadline_s;               /* per-call deadline of the ServiceTitan routes */

    /* the booking half (NULL when ServiceTitan is not set up) */
    struct ap_bsvc *bsvc;
    struct ap_ratelimit *public_read_rate, *public_write_rate, *public_sched_rate;
    struct ap_titan *titan; /* catalog refresh */

    const char *metrics_token; /* bearer token /metrics needs, or NULL (health.c) */
    bool metrics_own_listener; /* /metrics lives on its own listener */
};

/* Route groups of other files. */
enum ap_err ap_api_admin_routes(struct ap_api *api, struct ap_router *r);    /* admin.c */
enum ap_err ap_api_fms_routes(struct ap_api *api, struct ap_router *r);      /* fms_routes.c */
enum ap_err ap_api_operator_routes(struct ap_api *api, struct ap_router *r); /* operator.c */
enum ap_err ap_api_public_routes(struct ap_api *api, struct ap_router *r);   /* public.c */
enum ap_err ap_api_booking_admin_routes(struct ap_api *api,
                                        struct ap_router *r); /* admin_booking.c */

/* ---- "add to calendar" (ics.c) --------------------------------------------------------- */

/* One booking as a calendar event. Strings may be NULL (left out). */
struct ap_api_ics_event {
    const char *uid; /* unique and stable: "bk_…@host" */
    int64_t start_ns, end_ns, stamp_ns;
    const char *summary, *location, *description, *url;
    bool canceled;
};

/* The iCalendar (RFC 5545) text of one event: CRLF lines folded at 75 octets. malloc'd. */
char *ap_api_ics_calendar(const struct ap_api_ics_event *ev);

/* ---- ServiceTitan work from a route (fms_routes.c) ------------------------------- */

#include "core/jobq.h"

/* A caller waiting for its job on the ServiceTitan queue: its deferred reply. */
struct ap_api_waiter {
    struct ap_api *api;
    struct ap_http_deferred *d;
    int64_t account_id, user_id;
    const char *op;
};

/* What a route puts on the queue; tell gets a struct ap_api_waiter (freed by tell). */
struct ap_api_st_job {
    const char *op;
    int kind; /* enum ap_st_work */
    const char *coalesce;
    ap_jobq_run_fn run;
    void (*free)(void *arg);
    void *arg;
    ap_jobq_tell_fn tell;
};

/* Defers req and queues the job for the user's account, binding, within st_deadline_s; a
 * refused submit is answered at once (429 past the account's line, 503 shutting down). */
enum ap_http_result ap_api_st_submit(struct ap_http_req *req, struct ap_api *api,
                                     const struct ap_user *u, const struct ap_api_st_job *rj);
/* Answers a waiter whose job ended other than done (late: 503, timeout: 504, canceled: 503). */
void ap_api_st_not_done(struct ap_api_waiter *w, enum ap_jobq_end end);

/* The HTTP status of an FMS domain error code (fms_routes.c); 500 for an unknown one. */
int ap_api_fms_status(enum ap_fms_code code);

enum ap_http_result ap_api_healthz(struct ap_http_req *req, void *ud);
enum ap_http_result ap_api_metrics(struct ap_http_req *req, void *ud);

struct ap_debug_sleeper *ap_debug_sleeper_new(void);
void ap_debug_sleeper_free(struct ap_debug_sleeper *s);
enum ap_http_result ap_api_debug_echo(struct ap_http_req *req, void *ud);
enum ap_http_result ap_api_debug_sleep(struct ap_http_req *req, void *ud);
enum ap_http_result ap_api_debug_clock(struct ap_http_req *req, void *ud);

#endif

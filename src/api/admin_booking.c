/*
 * admin_booking.c — the dashboard's API for the booking half (docs/api.md,
 * "Schedulers", "Catalog", "Bookings"): signed-in users of one account.
 *
 *   GET  /api/v1/catalog                          the account's ServiceTitan catalog
 *   POST /api/v1/catalog/refresh                  read it now (manage_schedulers)
 *   GET  /api/v1/schedulers                       the account's schedulers
 *   POST /api/v1/schedulers                       create (manage_schedulers)
 *   GET  /api/v1/schedulers/:key/config           one, as admins see it
 *   PUT  /api/v1/schedulers/:key                  replace its config (manage_schedulers)
 *   POST /api/v1/schedulers/:key/pause|resume     (manage_schedulers)
 *   GET  /api/v1/bookings                         list, filters, counts by state
 *   GET  /api/v1/bookings/:reference/detail       one, with its ServiceTitan call log
 *   POST /api/v1/bookings/:reference/retry|resolve|cancel
 *
 * Reads are open to every role of the account; writes need CSRF and, for
 * schedulers and the catalog, the manage_schedulers permission. Another
 * account's schedulers and bookings are simply not found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "api/api_int.h"
#include "app/booking.h"
#include "app/catalog.h"
#include "app/fms_conn.h"
#include "app/scheduler.h"
#include "app/stqueue.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/store.h"

static void send(struct ap_http_req *req, int status, json_t *j)
{
    char *s = ap_json_dumps(j);
    ap_http_respond_json(req, status, s, strlen(s));
    free(s);
    json_decref(j);
}

static void unavailable(struct ap_http_req *req)
{
    ap_http_respond_error(req, 503, "unavailable",
                          "the database cannot be used right now; try again shortly", NULL);
}

/* Parses the body as a JSON object; answers 400 itself. */
static json_t *body_object(struct ap_http_req *req, bool empty_ok)
{
    struct ap_json_error e = {0};
    struct ap_str b = ap_http_body(req);
    json_t *j = NULL;

    if (empty_ok && b.len == 0)
        return json_object();
    if (ap_json_parse_body(b.p, b.len, AP_JSON_OBJECT, &j, &e) != AP_OK) {
        ap_http_respond_error(req, 400, e.code, e.message, e.field[0] ? e.field : NULL);
        return NULL;
    }
    return j;
}

/* ---- schedulers ------------------------------------------------------------------------- */

/* Bookings of a scheduler made in the last 7 days (for the list). */
static int64_t bookings_this_week(struct ap_store *st, int64_t scheduler_id)
{
    struct ap_db_conn *c = ap_store_acquire(st, false);
    char since[32];
    int64_t n = 0;

    if (!c)
        return 0;
    ap_clock_format_utc(ap_clock_real_ns() - 7 * AP_NS_PER_DAY, since);
    struct ap_db_val v[2] = {ap_db_int(scheduler_id), ap_db_text(since)};
    ap_db_query_int(c, "SELECT COUNT(*) FROM bookings WHERE scheduler_id = ? AND created_at >= ?",
                    v, 2, &n);
    ap_store_release(c);
    return n;
}

static json_t *sched_json(struct ap_store *st, const struct ap_sched *s)
{
    return json_pack("{s:s, s:b, s:s, s:I, s:o}", "key", s->key, "paused", s->paused, "updatedAt",
                     s->updated_at, "bookingsThisWeek", (json_int_t)bookings_this_week(st, s->id),
                     "config", ap_sched_config_json(s));
}

static bool can_manage(struct ap_http_req *req, struct ap_api *api, bool write, struct ap_user *u)
{
    return ap_api_admin_require_perm(req, api, write, u, AP_PERM_MANAGE_SCHEDULERS);
}

static enum ap_http_result h_sched_list(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_sched **v;
    struct ap_user u;
    size_t n;

    if (!ap_api_admin_require(req, api, false, &u))
        return AP_HTTP_DONE;
    if (ap_sched_list(api->store, u.account_id, &v, &n) != AP_OK) {
        unavailable(req);
        return AP_HTTP_DONE;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, sched_json(api->store, v[i]));
    ap_sched_list_free(v, n);
    send(req, 200, json_pack("{s:o}", "schedulers", arr));
    return AP_HTTP_DONE;
}

static void sched_answer(struct ap_http_req *req, struct ap_api *api, int status, enum ap_err err,
                         struct ap_sched *s, const struct ap_json_error *e)
{
    if (err == AP_OK)
        send(req, status, sched_json(api->store, s));
    else if (err == AP_EINVAL)
        ap_http_respond_error(req, 400, e->code, e->message, e->field[0] ? e->field : NULL);
    else if (err == AP_ENOTFOUND)
        ap_http_respond_error(req, 404, "not_found", "no such scheduler in your account", NULL);
    else
        unavailable(req);
    ap_sched_free(s);
}

static enum ap_http_result h_sched_create(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_json_error e = {0};
    struct ap_sched *s = NULL;
    struct ap_user u;
    json_t *cfg;

    if (!can_manage(req, api, true, &u) || !(cfg = body_object(req, false)))
        return AP_HTTP_DONE;
    enum ap_err err = ap_sched_create(api->store, u.account_id, cfg, &s, &e);
    json_decref(cfg);
    sched_answer(req, api, 201, err, s, &e);
    return AP_HTTP_DONE;
}

static enum ap_http_result h_sched_get(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_sched *s = NULL;
    struct ap_user u;

    if (!ap_api_admin_require(req, api, false, &u))
        return AP_HTTP_DONE;
    sched_answer(req, api, 200,
                 ap_sched_get(api->store, u.account_id, ap_http_param(req, "key"), &s), s, NULL);
    return AP_HTTP_DONE;
}

static enum ap_http_result h_sched_update(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_json_error e = {0};
    struct ap_sched *s = NULL;
    struct ap_user u;
    json_t *cfg;

    if (!can_manage(req, api, true, &u) || !(cfg = body_object(req, false)))
        return AP_HTTP_DONE;
    enum ap_err err =
        ap_sched_update(api->store, u.account_id, ap_http_param(req, "key"), cfg, &s, &e);
    json_decref(cfg);
    sched_answer(req, api, 200, err, s, &e);
    return AP_HTTP_DONE;
}

static enum ap_http_result pause_resume(struct ap_http_req *req, struct ap_api *api, bool paused)
{
    struct ap_sched *s = NULL;
    struct ap_user u;
    const char *key = ap_http_param(req, "key");

    if (!can_manage(req, api, true, &u))
        return AP_HTTP_DONE;
    enum ap_err err = ap_sched_set_paused(api->store, u.account_id, key, paused);
    if (!err)
        err = ap_sched_get(api->store, u.account_id, key, &s);
    sched_answer(req, api, 200, err, s, NULL);
    return AP_HTTP_DONE;
}

static enum ap_http_result h_sched_pause(struct ap_http_req *req, void *ud)
{
    return pause_resume(req, ud, true);
}

static enum ap_http_result h_sched_resume(struct ap_http_req *req, void *ud)
{
    return pause_resume(req, ud, false);
}

/* ---- the catalog ---------------------------------------------------------------------- */

static enum ap_http_result h_catalog(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_catalog *c;
    struct ap_user u;

    if (!ap_api_admin_require(req, api, false, &u))
        return AP_HTTP_DONE;
    if (!(c = ap_catalog_load(api->store, u.account_id))) {
        unavailable(req);
        return AP_HTTP_DONE;
    }
    send(req, 200, ap_catalog_json(c));
    ap_catalog_free(c);
    return AP_HTTP_DONE;
}

struct cat_job {
    struct ap_api *api;
    int64_t account_id;
    enum ap_err err;
    struct ap_catalog_result res;
    char *answer;
};

static void cat_free(void *arg)
{
    struct cat_job *j = arg;
    free(j->answer);
    free(j);
}

static enum ap_jobq_ran cat_run(struct ap_jobq_job *job, void *arg)
{
    struct cat_job *j = arg;
    struct ap_fms_conn conn;

    (void)job;
    if ((j->err = ap_fms_conn_open(j->api->fms, j->account_id, &conn)) == AP_OK) {
        j->err =
            ap_catalog_refresh(j->api->store, j->api->titan, &conn.creds, j->account_id, &j->res);
        ap_fms_conn_cleanup(&conn);
    }
    if (j->err == AP_OK) {
        struct ap_catalog *c = ap_catalog_load(j->api->store, j->account_id);
        json_t *cj = c ? ap_catalog_json(c) : NULL;
        j->answer = cj ? ap_json_dumps(cj) : NULL;
        json_decref(cj);
        ap_catalog_free(c);
    }
    return AP_JOBQ_FINISHED;
}

static void cat_tell(void *ctx, enum ap_jobq_end end, void *arg)
{
    struct ap_api_waiter *w = ctx;
    const struct cat_job *j = arg;

    if (end != AP_JOBQ_DONE)
        ap_api_st_not_done(w, end);
    else if (j->answer)
        ap_http_reply(w->d, 200, "application/json", j->answer, strlen(j->answer));
    else if (j->err == AP_ENOTFOUND)
        ap_http_reply_error(w->d, 409, "not_connected",
                            "Connect ServiceTitan first (Settings > Integrations > FMS "
                            "Configuration).",
                            NULL);
    else
        ap_http_reply_error(w->d, 503, "servicetitan_unavailable",
                            j->res.first_error[0] ? j->res.first_error
                                                  : "ServiceTitan could not be read; try again",
                            NULL);
    free(w);
}

static enum ap_http_result h_catalog_refresh(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user u;

    if (!can_manage(req, api, true, &u))
        return AP_HTTP_DONE;
    if (!api->fms || !api->st_queue || !api->titan) {
        ap_http_respond_error(req, 503, "servicetitan_not_configured",
                              "ServiceTitan is not set up on this server.", NULL);
        return AP_HTTP_DONE;
    }
    struct cat_job *j = ap_xcalloc(1, sizeof(*j));
    *j = (struct cat_job){.api = api, .account_id = u.account_id};
    struct ap_api_st_job rj = {
        "catalog", AP_ST_WORK_CATALOG, AP_ST_CATALOG_COALESCE, cat_run, cat_free, j, cat_tell};
    return ap_api_st_submit(req, api, &u, &rj);
}

/* ---- bookings --------------------------------------------------------------------------- */

static enum ap_http_result h_bookings(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_booking_filter f = {.state = -1};
    const char *state = ap_http_query(req, "state"), *lim = ap_http_query(req, "limit"),
               *off = ap_http_query(req, "offset");
    int64_t counts[AP_BK_NSTATES];
    struct ap_user u;
    json_t *j = NULL;
    enum ap_err err;

    if (!ap_api_admin_require(req, api, false, &u))
        return AP_HTTP_DONE;
    if (state && *state && (f.state = ap_booking_state_parse(state)) < 0) {
        ap_http_respond_error(req, 400, "invalid_parameter",
                              "state: one of accepted, pushing, booked, needs_attention, parked, "
                              "canceled",
                              "state");
        return AP_HTTP_DONE;
    }
    f.scheduler = ap_http_query(req, "scheduler");
    f.since = ap_http_query(req, "since");
    f.search = ap_http_query(req, "q");
    f.limit = lim ? (int)strtol(lim, NULL, 10) : 50;
    f.offset = off ? (int)strtol(off, NULL, 10) : 0;
    err = ap_booking_list_json(api->store, u.account_id, &f, &j);
    if (err == AP_EINVAL) {
        ap_http_respond_error(req, 400, "invalid_parameter",
                              "since: expected a date like 2026-03-08", "since");
        return AP_HTTP_DONE;
    }
    if (err || ap_booking_counts(api->store, u.account_id, counts) != AP_OK) {
        json_decref(j);
        unavailable(req);
        return AP_HTTP_DONE;
    }
    json_t *cj = json_object();
    for (int i = 0; i < AP_BK_NSTATES; i++)
        json_object_set_new(cj, ap_booking_state_name(i), json_integer(counts[i]));
    json_object_set_new(j, "counts", cj);
    send(req, 200, j);
    return AP_HTTP_DONE;
}

static void detail(struct ap_http_req *req, struct ap_api *api, int64_t account_id)
{
    json_t *j = NULL;
    enum ap_err err =
        ap_booking_show_json(api->store, account_id, ap_http_param(req, "reference"), &j);

    if (err == AP_ENOTFOUND)
        ap_http_respond_error(req, 404, "not_found", "no such booking in your account", NULL);
    else if (err)
        unavailable(req);
    else
        send(req, 200, j);
}

static enum ap_http_result h_booking_detail(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_user u;

    if (ap_api_admin_require(req, api, false, &u))
        detail(req, api, u.account_id);
    return AP_HTTP_DONE;
}

enum action { ACT_RETRY, ACT_RESOLVE, ACT_CANCEL };

static enum ap_http_result act(struct ap_http_req *req, struct ap_api *api, enum action a)
{
    const char *ref = ap_http_param(req, "reference"), *note = NULL;
    struct ap_json_error e = {0};
    struct ap_user u;
    json_t *body;
    enum ap_err err;

    if (!ap_api_admin_require(req, api, true, &u) || !(body = body_object(req, true)))
        return AP_HTTP_DONE;
    if (ap_json_get_str(body, "note", false, 500, &note, &e) != AP_OK) {
        ap_http_respond_error(req, 400, e.code, e.message, e.field);
        json_decref(body);
        return AP_HTTP_DONE;
    }
    err = a == ACT_RETRY     ? ap_booking_retry(api->store, u.account_id, ref)
          : a == ACT_RESOLVE ? ap_booking_resolve(api->store, u.account_id, ref, note)
                             : ap_booking_cancel(api->store, u.account_id, ref, note);
    json_decref(body);
    if (err == AP_ENOTFOUND)
        ap_http_respond_error(req, 404, "not_found", "no such booking in your account", NULL);
    else if (err == AP_ECONFLICT)
        ap_http_respond_error(req, 409, "conflict",
                              a == ACT_CANCEL ? "only a booking not yet in ServiceTitan can be "
                                                "canceled here; cancel the job in ServiceTitan"
                                              : "only a booking that needs attention or is parked "
                                                "can be retried or marked handled",
                              NULL);
    else if (err)
        unavailable(req);
    else
        detail(req, api, u.account_id);
    if (!err && a == ACT_RETRY && api->bsvc)
        ap_log_info("booking.retry", "account=%lld reference=%s", (long long)u.account_id, ref);
    return AP_HTTP_DONE;
}

static enum ap_http_result h_retry(struct ap_http_req *req, void *ud)
{
    return act(req, ud, ACT_RETRY);
}

static enum ap_http_result h_resolve(struct ap_http_req *req, void *ud)
{
    return act(req, ud, ACT_RESOLVE);
}

static enum ap_http_result h_cancel(struct ap_http_req *req, void *ud)
{
    return act(req, ud, ACT_CANCEL);
}

enum ap_err ap_api_booking_admin_routes(struct ap_api *api, struct ap_router *r)
{
    static const struct {
        const char *method, *pattern;
        ap_http_handler_fn fn;
    } routes[] = {
        {"GET", "/api/v1/catalog", h_catalog},
        {"POST", "/api/v1/catalog/refresh", h_catalog_refresh},
        {"GET", "/api/v1/schedulers", h_sched_list},
        {"POST", "/api/v1/schedulers", h_sched_create},
        {"GET", "/api/v1/schedulers/:key/config", h_sched_get},
        {"PUT", "/api/v1/schedulers/:key", h_sched_update},
        {"POST", "/api/v1/schedulers/:key/pause", h_sched_pause},
        {"POST", "/api/v1/schedulers/:key/resume", h_sched_resume},
        {"GET", "/api/v1/bookings", h_bookings},
        {"GET", "/api/v1/bookings/:reference/detail", h_booking_detail},
        {"POST", "/api/v1/bookings/:reference/retry", h_retry},
        {"POST", "/api/v1/bookings/:reference/resolve", h_resolve},
        {"POST", "/api/v1/bookings/:reference/cancel", h_cancel},
    };
    enum ap_err err = AP_OK;

    for (size_t i = 0; i < AP_COUNTOF(routes) && !err; i++)
        err = ap_router_add(r, routes[i].method, routes[i].pattern, routes[i].fn, api);
    return err;
}

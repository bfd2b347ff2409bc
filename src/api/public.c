/*
 * public.c — the widget's API (docs/api.md, "Public booking API"): no
 * session, called from contractors' websites.
 *
 *   GET  /api/v1/schedulers/:key                 what a widget shows
 *   GET  /api/v1/schedulers/:key/availability    windows of a service
 *   POST /api/v1/schedulers/:key/bookings        a booking (Idempotency-Key)
 *   GET  /api/v1/bookings/:reference             the confirmation page's status
 *   OPTIONS on each                              CORS preflight
 *
 * CORS per scheduler (its allowedOrigins, and appointd's own origin); a POST
 * from any other origin is refused. Rate limits per client address (the
 * real client behind trusted proxies) and per scheduler, 429 + Retry-After.
 * Handlers only parse and check on the loop; what waits (ServiceTitan,
 * the db writer) answers later through a deferred reply. The outcomes come
 * from the booking service (app/bsvc.h) as domain codes mapped here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "app/avail.h"
#include "app/booking.h"
#include "app/bsvc.h"
#include "app/ratelimit.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"

#define PREFLIGHT_METHODS "GET, POST, OPTIONS"
#define PREFLIGHT_HEADERS "Content-Type, Idempotency-Key"

/* ---- answers ------------------------------------------------------------------------- */

static const struct {
    enum ap_bres_code code;
    int status;
} statuses[] = {
    {AP_BRES_OK, 200},
    {AP_BRES_CREATED, 201},
    {AP_BRES_INVALID, 400},
    {AP_BRES_OUTSIDE_AREA, 422},
    {AP_BRES_WINDOW_UNAVAILABLE, 409},
    {AP_BRES_KEY_REUSED, 409},
    {AP_BRES_UNAVAILABLE, 503},
    {AP_BRES_BUSY, 503},
};

static int status_of(const struct ap_bres *r)
{
    for (size_t i = 0; i < AP_COUNTOF(statuses); i++)
        if (statuses[i].code == r->code)
            return statuses[i].status;
    return 500;
}

/* The body of an outcome: its own for success; the error shape (plus its extras) else. */
static char *body_of(const struct ap_bres *r)
{
    json_t *j;
    char *text;

    if (r->code == AP_BRES_OK || r->code == AP_BRES_CREATED)
        return ap_json_dumps(r->body ? r->body : json_object());
    j = json_pack("{s:{s:s, s:s}}", "error", "code", r->error, "message", r->message);
    if (r->field[0])
        json_object_set_new(json_object_get(j, "error"), "field", json_string(r->field));
    if (json_is_object(r->body))
        json_object_update(j, r->body);
    text = ap_json_dumps(j);
    json_decref(j);
    return text;
}

static void respond(struct ap_http_req *req, struct ap_bres *r)
{
    char *text = body_of(r), ra[16];

    if (r->retry_after_s > 0) {
        snprintf(ra, sizeof(ra), "%d", r->retry_after_s);
        ap_http_add_header(req, "Retry-After", ra);
    }
    ap_http_respond_json(req, status_of(r), text, strlen(text));
    free(text);
    ap_bres_cleanup(r);
}

/* A deferred answer; d owns nothing else. */
static void reply(struct ap_http_deferred *d, struct ap_bres *r)
{
    char *text = body_of(r), ra[16];
    const char *headers[] = {"Retry-After", ra, NULL};

    snprintf(ra, sizeof(ra), "%d", r->retry_after_s);
    ap_http_reply_headers(d, status_of(r), "application/json",
                          r->retry_after_s > 0 ? headers : NULL, text, strlen(text));
    free(text);
    ap_bres_cleanup(r);
}

/* ---- CORS, rate limits, the scheduler ------------------------------------------------- */

/* Adds the CORS headers when the request's Origin may call this scheduler. true when it may (or
 * there is no Origin: not a browser's cross-site call). */
static bool cors(struct ap_http_req *req, const struct ap_sched *s)
{
    const char *origin = ap_http_header(req, "Origin");

    if (!origin)
        return true;
    if (!(s && ap_sched_origin_allowed(s, origin)) && !ap_http_same_origin(req, origin))
        return false;
    ap_http_add_header(req, "Access-Control-Allow-Origin", origin);
    ap_http_add_header(req, "Vary", "Origin");
    ap_http_add_header(req, "Access-Control-Expose-Headers", "Retry-After");
    return true;
}

/* The per-address and per-scheduler limits; answers 429 itself when exceeded. */
static bool limited(struct ap_http_req *req, struct ap_api *api, struct ap_ratelimit *per_addr,
                    const char *key)
{
    int64_t now = ap_clock_mono_ns();
    int retry = 0;
    char k[96];

    snprintf(k, sizeof(k), "a:%s", ap_http_peer(req));
    if (ap_ratelimit_allow(per_addr, k, now, &retry) &&
        (!key || ap_ratelimit_allow(api->public_sched_rate, key, now, &retry)))
        return false;
    snprintf(k, sizeof(k), "%d", retry);
    ap_http_add_header(req, "Retry-After", k);
    ap_http_respond_error(req, 429, "rate_limited",
                          "Too many requests; please wait a moment and try again.", NULL);
    return true;
}

/* The live scheduler of the :key parameter; answers 404 itself when there is none. */
static struct ap_bsched *scheduler(struct ap_http_req *req, struct ap_api *api)
{
    struct ap_bsched *s = NULL;
    enum ap_err err = ap_bsvc_sched(api->bsvc, ap_http_param(req, "key"), &s);

    if (err == AP_OK)
        return s;
    ap_http_respond_error(req, 404, "scheduler_not_found",
                          "This booking page is not available (unknown or paused scheduler).",
                          NULL);
    return NULL;
}

static bool ready(struct ap_http_req *req, struct ap_api *api)
{
    if (api->bsvc)
        return true;
    ap_http_respond_error(req, 503, "unavailable",
                          "online booking is not set up on this server (no ServiceTitan app key)",
                          NULL);
    return false;
}

/* ---- GET /api/v1/schedulers/:key --------------------------------------------------------- */

static enum ap_http_result h_scheduler(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_bsched *s;
    json_t *j;
    char *text;

    if (!ready(req, api) || limited(req, api, api->public_read_rate, NULL) ||
        !(s = scheduler(req, api)))
        return AP_HTTP_DONE;
    cors(req, s->s);
    j = ap_sched_public_json(s->s);
    text = ap_json_dumps(j);
    ap_http_respond_json(req, 200, text, strlen(text));
    free(text);
    json_decref(j);
    ap_bsched_put(s);
    return AP_HTTP_DONE;
}

/* ---- GET /api/v1/schedulers/:key/availability ------------------------------------------- */

/* Reads the query; answers 400 itself when a value is bad. */
static bool avail_query(struct ap_http_req *req, struct ap_bsvc_avail_q *q)
{
    const char *from = ap_http_query(req, "from"), *days = ap_http_query(req, "days");
    char *end = NULL;
    long n;

    memset(q, 0, sizeof(*q));
    q->service = ap_http_query(req, "service");
    q->zip = ap_http_query(req, "zip");
    if (from && *from) {
        if (!ap_date_parse(from, &q->from)) {
            ap_http_respond_error(req, 400, "invalid_parameter",
                                  "from: expected a date like 2026-03-08", "from");
            return false;
        }
        q->has_from = true;
    }
    if (days && *days) {
        n = strtol(days, &end, 10);
        if (!end || *end || n < 1 || n > AP_AVAIL_MAX_DAYS) {
            ap_http_respond_error(req, 400, "invalid_parameter",
                                  "days: expected a whole number from 1 to 31", "days");
            return false;
        }
        q->days = (int)n;
    }
    return true;
}

struct avail_reply {
    struct ap_http_deferred *d;
};

static void avail_done(void *ud, struct ap_bres *r)
{
    struct avail_reply *w = ud;
    reply(w->d, r);
    free(w);
}

static enum ap_http_result h_availability(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_bsvc_avail_q q;
    struct ap_bsched *s;
    struct ap_bres r;

    if (!ready(req, api) || !avail_query(req, &q) ||
        limited(req, api, api->public_read_rate, ap_http_param(req, "key")) ||
        !(s = scheduler(req, api)))
        return AP_HTTP_DONE;
    cors(req, s->s);
    if (ap_bsvc_availability_now(api->bsvc, s, &q, &r)) {
        respond(req, &r);
        ap_bsched_put(s);
        return AP_HTTP_DONE;
    }
    struct avail_reply *w = ap_xcalloc(1, sizeof(*w));
    w->d = ap_http_defer(req);
    ap_bsvc_availability(api->bsvc, s, &q, avail_done, w);
    ap_bsched_put(s);
    return AP_HTTP_DEFERRED;
}

/* ---- POST /api/v1/schedulers/:key/bookings ------------------------------------------------ */

/* The Idempotency-Key header: absent (NULL), or 1..200 printable characters. */
static bool idem_key(struct ap_http_req *req, const char **out)
{
    const char *k = ap_http_header(req, "Idempotency-Key");

    *out = NULL;
    if (!k)
        return true;
    size_t n = strlen(k);
    bool ok = n >= 1 && n <= AP_IDEM_KEY_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = k[i] > 0x20 && k[i] < 0x7f;
    if (!ok) {
        ap_http_respond_error(req, 400, "invalid_header",
                              "Idempotency-Key: 1 to 200 printable characters without spaces",
                              "Idempotency-Key");
        return false;
    }
    *out = k;
    return true;
}

static void book_done(void *ud, struct ap_bres *r)
{
    struct avail_reply *w = ud;
    reply(w->d, r);
    free(w);
}

static enum ap_http_result h_book(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    struct ap_str body = ap_http_body(req);
    struct ap_json_error e = {0};
    struct ap_booking_req br;
    struct ap_bsched *s;
    const char *key = NULL;
    json_t *j = NULL;

    if (!ready(req, api) || limited(req, api, api->public_write_rate, ap_http_param(req, "key")) ||
        !(s = scheduler(req, api)))
        return AP_HTTP_DONE;
    if (!cors(req, s->s)) {
        ap_http_respond_error(req, 403, "origin_not_allowed",
                              "bookings from this website are not allowed for this scheduler "
                              "(add it to the scheduler's allowedOrigins)",
                              NULL);
        goto out;
    }
    if (body.len > AP_BOOKING_BODY_MAX) {
        ap_http_respond_error(req, 413, "body_too_large", "a booking is at most 32 KB", NULL);
        goto out;
    }
    if (!idem_key(req, &key))
        goto out;
    if (ap_json_parse_body(body.p, body.len, AP_JSON_OBJECT, &j, &e) != AP_OK ||
        ap_booking_req_parse(j, &br, &e) != AP_OK) {
        ap_http_respond_error(req, 400, e.code, e.message, e.field[0] ? e.field : NULL);
        goto out;
    }
    struct avail_reply *w = ap_xcalloc(1, sizeof(*w));
    w->d = ap_http_defer(req);
    ap_bsvc_book(api->bsvc, s, &br, key, book_done, w);
    ap_booking_req_cleanup(&br);
    json_decref(j);
    ap_bsched_put(s);
    return AP_HTTP_DEFERRED;
out:
    json_decref(j);
    ap_bsched_put(s);
    return AP_HTTP_DONE;
}

/* ---- GET /api/v1/bookings/:reference ---------------------------------------------------- */

static enum ap_http_result h_status(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    json_t *j = NULL;
    enum ap_err err;
    char *text;

    if (limited(req, api, api->public_read_rate, NULL))
        return AP_HTTP_DONE;
    ap_http_add_header(req, "Access-Control-Allow-Origin", "*");
    err = ap_booking_public_json(api->store, ap_http_param(req, "reference"), &j);
    if (err == AP_ENOTFOUND) {
        ap_http_respond_error(req, 404, "not_found", "there is no booking with that reference",
                              NULL);
        return AP_HTTP_DONE;
    }
    if (err) {
        ap_http_respond_error(req, 503, "unavailable", "please try again in a moment", NULL);
        return AP_HTTP_DONE;
    }
    text = ap_json_dumps(j);
    ap_http_respond_json(req, 200, text, strlen(text));
    free(text);
    json_decref(j);
    return AP_HTTP_DONE;
}

/* ---- OPTIONS: the CORS preflight ------------------------------------------------------- */

static enum ap_http_result h_preflight(struct ap_http_req *req, void *ud)
{
    struct ap_api *api = ud;
    const char *key = ap_http_param(req, "key");
    struct ap_bsched *s = NULL;
    bool ok;

    if (key && api->bsvc && ap_bsvc_sched(api->bsvc, key, &s) != AP_OK)
        s = NULL;
    ok = key ? (s && cors(req, s->s))
             : (ap_http_add_header(req, "Access-Control-Allow-Origin", "*"), true);
    ap_bsched_put(s);
    if (!ok) {
        ap_http_respond_error(req, 403, "origin_not_allowed",
                              "this website may not call this scheduler", NULL);
        return AP_HTTP_DONE;
    }
    ap_http_add_header(req, "Access-Control-Allow-Methods", PREFLIGHT_METHODS);
    ap_http_add_header(req, "Access-Control-Allow-Headers", PREFLIGHT_HEADERS);
    ap_http_add_header(req, "Access-Control-Max-Age", "600");
    ap_http_respond(req, 204, NULL, "", 0);
    return AP_HTTP_DONE;
}

enum ap_err ap_api_public_routes(struct ap_api *api, struct ap_router *r)
{
    static const struct {
        const char *method, *pattern;
        ap_http_handler_fn fn;
    } routes[] = {
        {"GET", "/api/v1/schedulers/:key", h_scheduler},
        {"GET", "/api/v1/schedulers/:key/availability", h_availability},
        {"POST", "/api/v1/schedulers/:key/bookings", h_book},
        {"GET", "/api/v1/bookings/:reference", h_status},
        {"OPTIONS", "/api/v1/schedulers/:key", h_preflight},
        {"OPTIONS", "/api/v1/schedulers/:key/availability", h_preflight},
        {"OPTIONS", "/api/v1/schedulers/:key/bookings", h_preflight},
        {"OPTIONS", "/api/v1/bookings/:reference", h_preflight},
    };
    enum ap_err err = AP_OK;

    for (size_t i = 0; i < AP_COUNTOF(routes) && !err; i++)
        err = ap_router_add(r, routes[i].method, routes[i].pattern, routes[i].fn, api);
    return err;
}

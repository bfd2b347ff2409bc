/*
 * stats.c — what the http adapter tells operators about each response: one
 * access-log line (http.request, never the query string: it may hold a
 * homeowner's contact details) and the metrics http_requests_total and
 * http_request_duration_seconds.
 *
 * Series pointers are cached per loop in a small open-addressing table keyed
 * by (route pattern pointer, method, status), so the hot path takes no lock;
 * only a cache miss asks core/metrics (which locks). Route labels are the
 * router's patterns, "static" or "unmatched", and methods outside a fixed
 * list count as "OTHER", so the label sets stay bounded.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/http_int.h"

static const char *const methods[] = {"GET",    "HEAD",    "POST",  "PUT",
                                      "DELETE", "OPTIONS", "PATCH", "OTHER"};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static const double duration_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,    0.25,  0.5,    1,     2.5,  5,     10};

void http_stats_register(struct ap_http_server *srv)
{
    if (!srv->metrics)
        return;
    srv->fam_requests = ap_metrics_counter_family(srv->metrics, "http_requests_total",
                                                  "HTTP responses by route, method and status.");
    srv->fam_duration = ap_metrics_histogram_family(
        srv->metrics, "http_request_duration_seconds",
        "Time from a request's arrival to its disposal, by route.", duration_bounds,
        sizeof(duration_bounds) / sizeof(duration_bounds[0]));
}

static int method_index(h2o_iovec_t m)
{
    for (size_t i = 0; i + 1 < NMETHODS; i++)
        if (h2o_memis(m.base, m.len, methods[i], strlen(methods[i])))
            return (int)i;
    return (int)NMETHODS - 1;
}

static size_t series_hash(const char *route, int method, int status)
{
    uint64_t h = (uint64_t)(uintptr_t)route * 0x9e3779b97f4a7c15ULL;
    h ^= (uint64_t)(method + 2) * 0xbf58476d1ce4e5b9ULL + (uint64_t)(status + 1);
    return (size_t)(h ^ (h >> 29));
}

static void series_grow(struct http_loop *lp)
{
    struct http_series *old = lp->series;
    size_t oldcap = lp->series_cap;
    lp->series_cap = oldcap ? oldcap * 2 : 64;
    lp->series = ap_xcalloc(lp->series_cap, sizeof(*lp->series));
    lp->series_len = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].route)
            continue;
        size_t j = series_hash(old[i].route, old[i].method, old[i].status) & (lp->series_cap - 1);
        while (lp->series[j].route)
            j = (j + 1) & (lp->series_cap - 1);
        lp->series[j] = old[i];
        lp->series_len++;
    }
    free(old);
}

/* Prometheus label values escape backslash, quote and newline. */
static void label_escape(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (; *s && o + 3 < n; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n') {
            out[o++] = '\\';
            out[o++] = *s == '\n' ? 'n' : *s;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}

static void *series_make(struct http_loop *lp, const char *route, int method, int status)
{
    struct ap_http_server *srv = lp->srv;
    char r[512], labels[640];
    label_escape(route, r, sizeof(r));
    if (method < 0) {
        snprintf(labels, sizeof(labels), "route=\"%s\"", r);
        return ap_metrics_histogram_get(srv->metrics, srv->fam_duration, labels);
    }
    snprintf(labels, sizeof(labels), "route=\"%s\",method=\"%s\",status=\"%d\"", r, methods[method],
             status);
    return ap_metrics_counter_get(srv->metrics, srv->fam_requests, labels);
}

static void *series_get(struct http_loop *lp, const char *route, int method, int status)
{
    if (lp->series_len * 2 >= lp->series_cap)
        series_grow(lp);
    size_t mask = lp->series_cap - 1, j = series_hash(route, method, status) & mask;
    for (; lp->series[j].route; j = (j + 1) & mask) {
        struct http_series *e = &lp->series[j];
        if (e->route == route && e->method == method && e->status == status)
            return e->series;
    }
    struct http_series *e = &lp->series[j];
    *e = (struct http_series){route, method, status, series_make(lp, route, method, status)};
    lp->series_len++;
    return e->series;
}

void http_stats_cleanup(struct http_loop *lp)
{
    free(lp->series);
    lp->series = NULL;
    lp->series_cap = lp->series_len = 0;
}

static void access_log(h2o_req_t *hreq, struct ap_http_req *r, const char *route, double dur_ms)
{
    char method[40], path[512], peer[INET6_ADDRSTRLEN + 2] = "-";
    size_t plen = hreq->input.path.len;
    if (hreq->input.query_at != SIZE_MAX)
        plen = hreq->input.query_at;
    char raw[400];
    snprintf(raw, sizeof(raw), "%.*s", (int)(plen < sizeof(raw) ? plen : sizeof(raw) - 1),
             hreq->input.path.base ? hreq->input.path.base : "");
    ap_log_quote(raw, path, sizeof(path));
    snprintf(raw, sizeof(raw), "%.*s",
             (int)(hreq->input.method.len > 32 ? 32 : hreq->input.method.len),
             hreq->input.method.base ? hreq->input.method.base : "");
    ap_log_quote(raw, method, sizeof(method));
    if (r)
        snprintf(peer, sizeof(peer), "%s", ap_http_peer(r));
    ap_log_set_request_id(r ? r->id : NULL);
    ap_log_info("http.request",
                "method=%s path=%s route=%s status=%d bytes=%zu dur_ms=%.3f peer=%s", method, path,
                route, hreq->res.status, hreq->bytes_sent, dur_ms, peer);
    ap_log_set_request_id(NULL);
}

void http_stats_record(struct http_loop *lp, h2o_req_t *hreq, struct ap_http_req *r)
{
    struct ap_http_server *srv = lp->srv;
    if (!srv->access_log && !srv->metrics)
        return;
    const char *route = r ? r->route : "unmatched";
    double dur_ms = 0;
    if (r) {
        dur_ms = (double)(ap_clock_mono_ns() - r->start_ns) / 1e6;
    } else if (hreq->timestamps.request_begin_at.tv_sec) {
        struct timeval *now = h2o_get_timestamp(&lp->ctx, NULL, NULL);
        dur_ms = (double)h2o_timeval_subtract(&hreq->timestamps.request_begin_at, now) / 1e3;
    }
    if (srv->access_log && AP_LOG_INFO >= ap_log_min_level)
        access_log(hreq, r, route, dur_ms);
    if (srv->metrics) {
        int m = method_index(hreq->input.method);
        ap_counter_add(series_get(lp, route, m, hreq->res.status), 1);
        ap_histogram_observe(series_get(lp, route, -1, -1), dur_ms / 1e3);
    }
}

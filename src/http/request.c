/*
 * request.c — one request's life on its loop: its state, its id, the Host
 * check, dispatch through the router (or to static files), the accessors
 * handlers read the request with, and the dispose hook.
 *
 * State lives in the h2o request pool and is found again from the h2o
 * request through an env entry. A logger registered on every pathconf is
 * h2o's dispose hook: it runs exactly once when the request is disposed
 * (response sent, or connection gone) and frees the arena and the deferred
 * slot. Responses are respond.c's, deferred replies deferred.c's, the client
 * address and origin client.c's, and the decoders decode.c's.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/http_int.h"

#define ENV_KEY      "ap.req"
#define MAX_HDR_NAME 128
#define MAX_MSG_PATH 200

static __thread uint64_t rng_state;
static __thread bool rng_seeded;

void http_new_request_id(char out[17])
{
    static const char hex[] = "0123456789abcdef";
    if (!rng_seeded) {
        if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
            rng_state = (uint64_t)ap_clock_mono_ns() ^ (uint64_t)(uintptr_t)&rng_state;
        rng_seeded = true;
    }
    /* splitmix64: fast, and the ids only need to be unique, not secret */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (int i = 15; i >= 0; i--, z >>= 4)
        out[i] = hex[z & 15];
    out[16] = '\0';
}

static bool id_ok(const char *p, size_t len)
{
    if (len == 0 || len > HTTP_REQ_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '.' && p[i] != '_' && p[i] != '-')
            return false;
    return true;
}

static void set_request_id(struct ap_http_req *r)
{
    h2o_req_t *h = r->h2o;
    ssize_t i = h2o_find_header_by_str(&h->headers, H2O_STRLIT("x-request-id"), -1);
    if (i >= 0 && id_ok(h->headers.entries[i].value.base, h->headers.entries[i].value.len)) {
        memcpy(r->id, h->headers.entries[i].value.base, h->headers.entries[i].value.len);
        r->id[h->headers.entries[i].value.len] = '\0';
        return;
    }
    http_new_request_id(r->id);
}

struct ap_http_req *http_req_of(h2o_req_t *hreq)
{
    h2o_iovec_t *v = h2o_req_getenv(hreq, H2O_STRLIT(ENV_KEY), 0);
    return v ? (struct ap_http_req *)v->base : NULL;
}

/* ---- accessors ---------------------------------------------------------- */

struct ap_str ap_http_method(const struct ap_http_req *req)
{
    return (struct ap_str){req->h2o->method.base, req->h2o->method.len};
}

struct ap_str ap_http_path(const struct ap_http_req *req)
{
    const h2o_req_t *h = req->h2o;
    size_t len = h->query_at != SIZE_MAX ? h->query_at : h->path.len;
    return (struct ap_str){h->path.base, len};
}

const char *ap_http_param(struct ap_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->match.nparams; i++)
        if (ap_str_eq_c(req->match.names[i], name))
            return ap_http_decode(&req->arena, req->match.values[i], false);
    return NULL;
}

const char *ap_http_query(struct ap_http_req *req, const char *name)
{
    const h2o_req_t *h = req->h2o;
    if (h->query_at == SIZE_MAX)
        return NULL;
    return http_pairs_find(&req->arena, ap_http_query_string(req), name);
}

struct ap_str ap_http_query_string(const struct ap_http_req *req)
{
    const h2o_req_t *h = req->h2o;
    if (h->query_at == SIZE_MAX)
        return AP_STR("");
    return (struct ap_str){h->path.base + h->query_at + 1, h->path.len - h->query_at - 1};
}

const char *ap_http_form(struct ap_http_req *req, const char *name)
{
    return http_pairs_find(&req->arena, ap_http_body(req), name);
}

const char *ap_http_cookie(struct ap_http_req *req, const char *name)
{
    const h2o_headers_t *hs = &req->h2o->headers;
    for (ssize_t i = -1; (i = h2o_find_header(hs, H2O_TOKEN_COOKIE, i)) >= 0;) {
        const h2o_iovec_t *v = &hs->entries[i].value;
        const char *val = http_cookie_find(&req->arena, (struct ap_str){v->base, v->len}, name);
        if (val)
            return val;
    }
    return NULL;
}

const char *ap_http_header(struct ap_http_req *req, const char *name)
{
    char lname[MAX_HDR_NAME];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(lname))
        return NULL;
    for (size_t i = 0; i < n; i++)
        lname[i] = (char)tolower((unsigned char)name[i]);
    const h2o_headers_t *hs = &req->h2o->headers;
    ssize_t i = h2o_find_header_by_str(hs, lname, n, -1);
    if (i < 0) {
        /* a few headers (host) are not kept in the list by h2o */
        if (n == 4 && memcmp(lname, "host", 4) == 0 && req->h2o->authority.base)
            return ap_arena_strndup(&req->arena, req->h2o->authority.base, req->h2o->authority.len);
        return NULL;
    }
    return ap_arena_strndup(&req->arena, hs->entries[i].value.base, hs->entries[i].value.len);
}

struct ap_str ap_http_body(const struct ap_http_req *req)
{
    if (!req->h2o->entity.base)
        return AP_STR("");
    return (struct ap_str){req->h2o->entity.base, req->h2o->entity.len};
}

struct ap_arena *ap_http_arena(struct ap_http_req *req)
{
    return &req->arena;
}

/* ---- dispatch ----------------------------------------------------------- */

static void not_found(struct ap_http_req *r, const char *what)
{
    struct ap_str m = ap_http_method(r), p = ap_http_path(r);
    char msg[MAX_MSG_PATH + 64];
    snprintf(msg, sizeof(msg), "%s %.*s %.*s%s", what, (int)(m.len > 16 ? 16 : m.len), m.p,
             (int)(p.len > MAX_MSG_PATH ? MAX_MSG_PATH : p.len), p.p,
             p.len > MAX_MSG_PATH ? "..." : "");
    if (strcmp(what, "no route for") == 0) {
        http_send_error(r, 404, "not_found", msg);
        return;
    }
    ap_http_add_header(r, "Allow", r->match.allow);
    http_send_error(r, 405, "method_not_allowed", msg);
}

static void check_result(struct ap_http_req *r, enum ap_http_result res)
{
    if (r->responded || r->deferred) {
        if (res == AP_HTTP_DEFERRED && !r->deferred)
            ap_log_warn("http.handler_contract", "route=%s issue=deferred_but_responded", r->route);
        return;
    }
    ap_log_error("http.handler_contract", "route=%s issue=no_response result=%d", r->route,
                 (int)res);
    http_send_error(r, 500, "internal", "the handler did not answer");
}

static void dispatch(struct ap_http_req *r)
{
    struct ap_http_server *srv = r->lp->srv;
    h2o_req_t *h = r->h2o;
    struct ap_str method = ap_http_method(r);
    if (h->entity.base && h->entity.len > srv->max_body) {
        char msg[96];
        snprintf(msg, sizeof(msg), "request body exceeds %zu bytes", srv->max_body);
        http_send_error(r, 413, "body_too_large", msg);
        return;
    }
    if (!http_check_host(r))
        return;
    if (ap_router_match(srv->router, method, ap_http_path(r), &r->match)) {
        r->route = r->match.pattern;
        check_result(r, r->match.fn(r, r->match.ud));
        return;
    }
    if (r->match.method_mismatch) {
        not_found(r, "method not allowed:");
        return;
    }
    bool get = ap_str_eq_c(method, "GET") || ap_str_eq_c(method, "HEAD");
    r->static_file = true; /* what static.c sends keeps its caching headers */
    if (srv->statics && get && http_static_serve(srv->statics, r)) {
        r->route = "static";
        return;
    }
    r->static_file = false;
    not_found(r, "no route for");
}

int http_on_req(h2o_handler_t *self, h2o_req_t *hreq)
{
    struct http_loop *lp = H2O_STRUCT_FROM_MEMBER(struct http_loop, ctx, hreq->conn->ctx);
    struct ap_http_req *r = h2o_mem_alloc_pool(&hreq->pool, sizeof(*r));
    memset(r, 0, sizeof(*r));
    r->h2o = hreq;
    r->lp = lp;
    r->slot = UINT32_MAX;
    r->route = "unmatched";
    r->start_ns = ap_clock_mono_ns();
    h2o_iovec_t *env = h2o_req_getenv(hreq, H2O_STRLIT(ENV_KEY), 1);
    *env = h2o_iovec_init((char *)r, 0);
    set_request_id(r);
    ap_log_set_request_id(r->id);
    dispatch(r);
    ap_log_set_request_id(NULL);
    return 0;
}

/* h2o's dispose hook (a logger): runs once per request, reply sent or client gone. */
void http_on_dispose(h2o_logger_t *self, h2o_req_t *hreq)
{
    struct http_loop *lp = H2O_STRUCT_FROM_MEMBER(struct http_loop, ctx, hreq->conn->ctx);
    struct ap_http_req *r = http_req_of(hreq);
    http_stats_record(lp, hreq, r);
    if (!r)
        return;
    if (h2o_linklist_is_linked(&r->delayed))
        h2o_linklist_unlink(&r->delayed);
    if (r->slot != UINT32_MAX)
        http_slot_release(lp, r->slot);
    r->slot = UINT32_MAX;
    ap_arena_free(&r->arena);
}

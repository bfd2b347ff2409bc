/*
 * request.c — one request's life on its loop: per-request state, dispatch
 * through the router (or to static files), the accessors handlers use, the
 * responses they send, and deferred replies.
 *
 * State lives in the h2o request pool and is found again from the h2o
 * request through an env entry. A logger registered on every pathconf is
 * h2o's dispose hook: it runs exactly once when the request is disposed
 * (response sent, or connection gone) and frees the arena and the deferred
 * slot. Deferred replies cross threads as messages carrying (slot index,
 * generation), never a pointer to the request: the loop thread checks the
 * generation before touching anything, so a reply for a request whose client
 * went away (slot released, generation bumped) is dropped and freed there.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "http/http_int.h"
#include "json/json.h"

#define ENV_KEY       "ap.req"
#define MAX_HDR_NAME  128
#define MAX_MSG_PATH  200
#define ERR_MAX_BYTES 4096

struct ap_http_deferred {
    struct http_hub *hub;
    struct http_loop *lp;
    uint32_t idx, gen;
};

struct reply_msg {
    h2o_multithread_message_t super;
    uint32_t idx, gen;
    int status;
    const char *ctype;   /* points into data, or NULL */
    const char *headers; /* "name\0value\0...\0" in data, or NULL */
    size_t len;
    char data[]; /* body, then the content type, then the headers */
};

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

static const char *reason_of(int status)
{
    const char *r = ap_status_reason(status);
    return r ? r : status < 400 ? "OK" : "Error";
}

const char *http_status_code_word(int status)
{
    switch (status) {
    case 400:
        return "bad_request";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 413:
        return "body_too_large";
    case 416:
        return "range_not_satisfiable";
    case 417:
        return "expectation_failed";
    case 503:
        return "unavailable";
    default:
        return status >= 500 ? "internal" : "bad_request";
    }
}

h2o_iovec_t http_error_json(h2o_mem_pool_t *pool, const char *code, const char *message,
                            const char *field)
{
    char *body = ap_json_error_body(code, message, field);
    h2o_iovec_t v = h2o_strdup(pool, body, strlen(body));
    free(body);
    return v;
}

/* ---- responses ---------------------------------------------------------- */

/*
 * The "drop" fault: the socket is shut down (with SO_LINGER 0, so its close
 * resets) before the response is written; h2o's write then fails and h2o
 * closes the connection and disposes the request the usual way. The socket
 * comes from h2o 2.2.5's http1 conn callbacks (get_socket).
 */
static void drop_socket(struct ap_http_req *r)
{
    h2o_conn_t *c = r->h2o->conn;
    h2o_socket_t *sock = c->callbacks->get_socket ? c->callbacks->get_socket(c) : NULL;
    r->h2o->http1_is_persistent = 0;
    if (!sock) {
        ap_log_warn("http.drop_unsupported", "route=%s", r->route);
        return;
    }
    int fd = h2o_socket_get_fd(sock);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        shutdown(fd, SHUT_RDWR);
    }
}

static void send_now(struct ap_http_req *r, int status, const char *ctype, const char *body,
                     size_t len)
{
    h2o_req_t *h = r->h2o;
    if (r->drop_on_respond)
        drop_socket(r);
    h->res.status = status;
    h->res.reason = reason_of(status);
    h->res.content_length = (status == 204 || status == 304) ? SIZE_MAX : len;
    if (ctype) {
        h2o_iovec_t ct = h2o_strdup(&h->pool, ctype, strlen(ctype));
        h2o_add_header(&h->pool, &h->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ct.base, ct.len);
    }
    h2o_add_header_by_str(&h->pool, &h->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, r->id,
                          strlen(r->id));
    if (r->lp->stopping)
        h->http1_is_persistent = 0;
    h2o_send_inline(h, body ? body : "", body ? len : 0);
}

/* Queues r's response on the loop's delay list (kept in due order). */
static void delay_response(struct ap_http_req *r, int status, const char *ctype, const char *body,
                           size_t len)
{
    struct http_loop *lp = r->lp;
    h2o_req_t *h = r->h2o;
    r->d_status = status;
    r->d_ctype = ctype ? h2o_strdup(&h->pool, ctype, strlen(ctype)).base : NULL;
    r->d_body = body && len ? h2o_strdup(&h->pool, body, len) : h2o_iovec_init("", 0);
    r->due_ms = h2o_now(lp->loop) + (uint64_t)r->delay_ms;
    h2o_linklist_t *pos = &lp->delayed;
    while (pos->prev != &lp->delayed) {
        struct ap_http_req *o = H2O_STRUCT_FROM_MEMBER(struct ap_http_req, delayed, pos->prev);
        if (o->due_ms <= r->due_ms)
            break;
        pos = pos->prev;
    }
    h2o_linklist_insert(pos, &r->delayed);
    if (!h2o_timeout_is_linked(&lp->delay_entry))
        h2o_timeout_link(lp->loop, &lp->delay_timeout, &lp->delay_entry);
}

void http_send(struct ap_http_req *r, int status, const char *ctype, const char *body, size_t len)
{
    if (r->responded) {
        ap_log_error("http.double_response", "status=%d", status);
        return;
    }
    r->responded = true;
    if (r->delay_ms > 0 && r->lp->delay_ready) {
        delay_response(r, status, ctype, body, len);
        return;
    }
    send_now(r, status, ctype, body, len);
}

static void on_delay_tick(h2o_timeout_entry_t *e)
{
    struct http_loop *lp = H2O_STRUCT_FROM_MEMBER(struct http_loop, delay_entry, e);
    uint64_t now = h2o_now(lp->loop);
    while (!h2o_linklist_is_empty(&lp->delayed)) {
        struct ap_http_req *r =
            H2O_STRUCT_FROM_MEMBER(struct ap_http_req, delayed, lp->delayed.next);
        if (r->due_ms > now)
            break;
        h2o_linklist_unlink(&r->delayed);
        ap_log_set_request_id(r->id);
        send_now(r, r->d_status, r->d_ctype, r->d_body.base, r->d_body.len);
        ap_log_set_request_id(NULL);
    }
    if (!h2o_linklist_is_empty(&lp->delayed))
        h2o_timeout_link(lp->loop, &lp->delay_timeout, &lp->delay_entry);
}

void http_delay_init(struct http_loop *lp)
{
    h2o_linklist_init_anchor(&lp->delayed);
    h2o_timeout_init(lp->loop, &lp->delay_timeout, 2); /* a 2 ms ticker while any wait */
    lp->delay_entry = (h2o_timeout_entry_t){0};
    lp->delay_entry.cb = on_delay_tick;
    lp->delay_ready = true;
}

void http_delay_dispose(struct http_loop *lp)
{
    if (!lp->delay_ready)
        return;
    if (h2o_timeout_is_linked(&lp->delay_entry))
        h2o_timeout_unlink(&lp->delay_entry);
    h2o_timeout_dispose(lp->loop, &lp->delay_timeout);
    lp->delay_ready = false;
}

void ap_http_drop(struct ap_http_req *req)
{
    if (req->responded || req->deferred) {
        ap_log_error("http.drop_after_respond", "route=%s", req->route);
        return;
    }
    req->drop_on_respond = true;
    http_send(req, 444, NULL, NULL, 0);
}

void ap_http_set_drop_on_respond(struct ap_http_req *req)
{
    req->drop_on_respond = true;
}

void ap_http_set_delay(struct ap_http_req *req, int ms)
{
    req->delay_ms = ms <= 0 ? 0 : ms > 600000 ? 600000 : ms;
}

void http_send_error(struct ap_http_req *r, int status, const char *code, const char *message)
{
    h2o_iovec_t b = http_error_json(&r->h2o->pool, code, message, NULL);
    http_send(r, status, "application/json", b.base, b.len);
}

void ap_http_respond(struct ap_http_req *req, int status, const char *content_type,
                     const char *body, size_t len)
{
    if (req->deferred) {
        ap_log_error("http.respond_after_defer", "status=%d", status);
        return;
    }
    http_send(req, status, content_type, body, len);
}

void ap_http_respond_json(struct ap_http_req *req, int status, const char *json, size_t len)
{
    ap_http_respond(req, status, "application/json", json, len);
}

void ap_http_respond_error(struct ap_http_req *req, int status, const char *code,
                           const char *message, const char *field)
{
    h2o_iovec_t b = http_error_json(&req->h2o->pool, code, message, field);
    ap_http_respond(req, status, "application/json", b.base, b.len);
}

static bool header_text_ok(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return false;
    return true;
}

void ap_http_add_header(struct ap_http_req *req, const char *name, const char *value)
{
    h2o_req_t *h = req->h2o;
    size_t n = strlen(name);
    if (n == 0 || n > MAX_HDR_NAME || !header_text_ok(name) || !header_text_ok(value) ||
        strchr(name, ':') || strchr(name, ' ')) {
        ap_log_error("http.bad_header", "len=%zu", n);
        return;
    }
    char *lname = h2o_mem_alloc_pool(&h->pool, n + 1);
    for (size_t i = 0; i <= n; i++)
        lname[i] = (char)tolower((unsigned char)name[i]);
    if (strcmp(lname, "content-length") == 0 || strcmp(lname, "transfer-encoding") == 0 ||
        strcmp(lname, "connection") == 0) {
        ap_log_error("http.bad_header", "name=%s", lname);
        return;
    }
    h2o_iovec_t v = h2o_strdup(&h->pool, value, strlen(value));
    h2o_add_header_by_str(&h->pool, &h->res.headers, lname, n, 1, NULL, v.base, v.len);
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

/* The value of name in "k=v&k2=v2" text p..end, decoded into a; NULL if absent. */
static const char *find_pair(struct ap_arena *a, const char *p, const char *end, const char *name)
{
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        const char *ke = eq ? eq : pe;
        char *key = ap_http_decode(a, (struct ap_str){p, (size_t)(ke - p)}, true);
        if (key && strcmp(key, name) == 0) {
            struct ap_str v = eq ? (struct ap_str){eq + 1, (size_t)(pe - eq - 1)} : AP_STR("");
            return ap_http_decode(a, v, true);
        }
        p = pe + 1;
    }
    return NULL;
}

const char *ap_http_query(struct ap_http_req *req, const char *name)
{
    const h2o_req_t *h = req->h2o;
    if (h->query_at == SIZE_MAX)
        return NULL;
    return find_pair(&req->arena, h->path.base + h->query_at + 1, h->path.base + h->path.len, name);
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
    struct ap_str b = ap_http_body(req);
    return find_pair(&req->arena, b.p, b.p + b.len, name);
}

/* The value of name in one Cookie header "a=1; b=2" (quotes stripped); NULL if absent. */
static const char *cookie_in(struct ap_arena *a, const char *p, const char *end, const char *name)
{
    size_t nlen = strlen(name);
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq + 1, *ve = pe;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (ve - v >= 2 && *v == '"' && ve[-1] == '"')
                v++, ve--;
            return ap_arena_strndup(a, v, (size_t)(ve - v));
        }
        p = pe + 1;
    }
    return NULL;
}

const char *ap_http_cookie(struct ap_http_req *req, const char *name)
{
    const h2o_headers_t *hs = &req->h2o->headers;
    for (ssize_t i = -1; (i = h2o_find_header(hs, H2O_TOKEN_COOKIE, i)) >= 0;) {
        const h2o_iovec_t *v = &hs->entries[i].value;
        const char *val = cookie_in(&req->arena, v->base, v->base + v->len, name);
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

const char *ap_http_request_id(const struct ap_http_req *req)
{
    return req->id;
}

const char *ap_http_peer(struct ap_http_req *req)
{
    if (req->peer)
        return req->peer;
    struct sockaddr_storage ss;
    char buf[INET6_ADDRSTRLEN] = "-";
    h2o_conn_t *c = req->h2o->conn;
    socklen_t sl = c->callbacks->get_peername ? c->callbacks->get_peername(c, (void *)&ss) : 0;
    if (sl && ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, sizeof(buf));
    else if (sl && ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, sizeof(buf));
    req->peer = ap_arena_strdup(&req->arena, buf);
    return req->peer;
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
    if (srv->statics && get && http_static_serve(srv->statics, r)) {
        r->route = "static";
        return;
    }
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

/* ---- deferred replies --------------------------------------------------- */

static void slot_release(struct http_loop *lp, uint32_t idx)
{
    struct http_slot *s = &lp->slots[idx];
    s->req = NULL;
    s->gen++;
    s->next_free = lp->free_slot;
    lp->free_slot = idx;
    lp->active_slots--;
}

static uint32_t slot_take(struct http_loop *lp, struct ap_http_req *r)
{
    if (lp->free_slot == UINT32_MAX) {
        uint32_t n = lp->nslots ? lp->nslots * 2 : 64;
        lp->slots = ap_xrealloc(lp->slots, n * sizeof(*lp->slots));
        for (uint32_t i = n; i > lp->nslots; i--) {
            lp->slots[i - 1] = (struct http_slot){NULL, 0, lp->free_slot};
            lp->free_slot = i - 1;
        }
        lp->nslots = n;
    }
    uint32_t idx = lp->free_slot;
    lp->free_slot = lp->slots[idx].next_free;
    lp->slots[idx].req = r;
    lp->active_slots++;
    return idx;
}

struct ap_http_deferred *ap_http_defer(struct ap_http_req *req)
{
    if (req->responded || req->deferred) {
        ap_log_error("http.defer_twice", "route=%s", req->route);
        return NULL;
    }
    struct http_loop *lp = req->lp;
    struct ap_http_deferred *d = ap_xmalloc(sizeof(*d));
    req->deferred = true;
    req->slot = slot_take(lp, req);
    d->lp = lp;
    d->idx = req->slot;
    d->gen = lp->slots[req->slot].gen;
    d->hub = lp->srv->hub;
    pthread_mutex_lock(&d->hub->mu);
    d->hub->refs++;
    pthread_mutex_unlock(&d->hub->mu);
    return d;
}

void http_hub_release(struct http_hub *hub)
{
    if (!hub)
        return;
    pthread_mutex_lock(&hub->mu);
    bool last = --hub->refs == 0;
    pthread_mutex_unlock(&hub->mu);
    if (last) {
        pthread_mutex_destroy(&hub->mu);
        free(hub);
    }
}

/* Bytes of headers packed as "name\0value\0...\0" (0 for none). */
static size_t packed_headers_len(const char *const *headers)
{
    size_t n = 0;
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        n += strlen(headers[i]) + strlen(headers[i + 1]) + 2;
    return n ? n + 1 : 0;
}

static void pack_headers(char *out, const char *const *headers)
{
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
        for (size_t k = 0; k < 2; k++) {
            size_t n = strlen(headers[i + k]) + 1;
            memcpy(out, headers[i + k], n);
            out += n;
        }
    }
    *out = '\0';
}

void ap_http_reply_headers(struct ap_http_deferred *d, int status, const char *content_type,
                           const char *const *headers, const char *body, size_t len)
{
    if (!d)
        return;
    size_t ctlen = content_type ? strlen(content_type) + 1 : 0;
    size_t hlen = packed_headers_len(headers);
    struct reply_msg *msg = ap_xmalloc(sizeof(*msg) + len + ctlen + hlen);
    memset(&msg->super, 0, sizeof(msg->super));
    msg->idx = d->idx;
    msg->gen = d->gen;
    msg->status = status;
    msg->len = len;
    if (len)
        memcpy(msg->data, body, len);
    msg->ctype = content_type ? memcpy(msg->data + len, content_type, ctlen) : NULL;
    msg->headers = NULL;
    if (hlen) {
        pack_headers(msg->data + len + ctlen, headers);
        msg->headers = msg->data + len + ctlen;
    }
    pthread_mutex_lock(&d->hub->mu);
    if (d->hub->alive && !d->lp->dead) {
        h2o_multithread_send_message(&d->lp->replies, &msg->super);
        msg = NULL;
    }
    pthread_mutex_unlock(&d->hub->mu);
    if (msg)
        ap_log_debug("http.reply_dropped", "reason=server_stopped status=%d", status);
    free(msg);
    http_hub_release(d->hub);
    free(d);
}

void ap_http_reply(struct ap_http_deferred *d, int status, const char *content_type,
                   const char *body, size_t len)
{
    ap_http_reply_headers(d, status, content_type, NULL, body, len);
}

void ap_http_reply_error(struct ap_http_deferred *d, int status, const char *code,
                         const char *message, const char *field)
{
    char *body = ap_json_error_body(code, message, field);
    ap_http_reply(d, status, "application/json", body, strlen(body));
    free(body);
}

static void deliver(struct http_loop *lp, struct reply_msg *msg)
{
    struct http_slot *s = msg->idx < lp->nslots ? &lp->slots[msg->idx] : NULL;
    if (lp->dead || !s || s->gen != msg->gen || !s->req || s->req->responded) {
        ap_log_debug("http.reply_dropped", "reason=client_gone status=%d", msg->status);
        return;
    }
    struct ap_http_req *r = s->req;
    ap_log_set_request_id(r->id);
    for (const char *h = msg->headers; h && *h;) {
        const char *v = h + strlen(h) + 1;
        ap_http_add_header(r, h, v);
        h = v + strlen(v) + 1;
    }
    http_send(r, msg->status, msg->ctype, msg->data, msg->len);
    ap_log_set_request_id(NULL);
}

void http_on_replies(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct http_loop *lp = H2O_STRUCT_FROM_MEMBER(struct http_loop, replies, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        struct reply_msg *msg =
            H2O_STRUCT_FROM_MEMBER(struct reply_msg, super.link, messages->next);
        h2o_linklist_unlink(&msg->super.link);
        deliver(lp, msg);
        free(msg);
    }
}

void http_force_pending(struct http_loop *lp)
{
    /* delayed responses go out now: their time is up with the grace period */
    while (lp->delay_ready && !h2o_linklist_is_empty(&lp->delayed)) {
        struct ap_http_req *r =
            H2O_STRUCT_FROM_MEMBER(struct ap_http_req, delayed, lp->delayed.next);
        h2o_linklist_unlink(&r->delayed);
        ap_log_set_request_id(r->id);
        send_now(r, r->d_status, r->d_ctype, r->d_body.base, r->d_body.len);
        ap_log_set_request_id(NULL);
    }
    for (uint32_t i = 0; i < lp->nslots; i++) {
        struct ap_http_req *r = lp->slots[i].req;
        if (!r || r->responded)
            continue;
        ap_log_set_request_id(r->id);
        ap_log_warn("http.deferred_abandoned", "route=%s", r->route);
        http_send_error(r, 503, "shutting_down", "the server is shutting down");
        ap_log_set_request_id(NULL);
    }
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
        slot_release(lp, r->slot);
    r->slot = UINT32_MAX;
    ap_arena_free(&r->arena);
}

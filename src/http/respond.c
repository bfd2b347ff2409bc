/*
 * respond.c — sending a response: the status line and the headers every
 * answer carries (X-Request-Id; Cache-Control: no-store on everything but a
 * static file, so no browser or proxy keeps an API answer or an error), JSON
 * error bodies, response headers a handler adds, and the fault helpers
 * (drop the connection, delay the answer) that stsim and the tests use, and
 * gzip for JSON answers on servers that ask for it (gzip_json).
 *
 * A delayed response waits on its loop's delay list, in due order, and goes
 * out from a 2 ms ticker; the loop never blocks. At the end of a shutdown's
 * grace period http_delay_flush() sends whatever still waits.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/status.h"
#include "http/http_int.h"
#include "json/json.h"

#define MAX_HDR_NAME 128

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
    if ((!r->static_file || status >= 400) &&
        h2o_find_header(&h->res.headers, H2O_TOKEN_CACHE_CONTROL, -1) < 0)
        h2o_add_header(&h->pool, &h->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                       H2O_STRLIT("no-store"));
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

/*
 * gzip_json: a JSON answer of GZIP_JSON_MIN bytes or more goes out gzipped
 * (at zlib's fastest level) to a client whose Accept-Encoding takes gzip.
 * body/len are swapped for the compressed bytes (in the request's pool).
 */
#define GZIP_JSON_MIN 1024

static void maybe_gzip_json(struct ap_http_req *r, int status, const char *ctype, const char **body,
                            size_t *len)
{
    h2o_req_t *h = r->h2o;
    if (!r->lp->srv->gzip_json || ctype == NULL || strncmp(ctype, "application/json", 16) != 0 ||
        *len < GZIP_JSON_MIN || status == 204 || status == 304 ||
        !(h2o_get_compressible_types(&h->headers) & H2O_COMPRESSIBLE_GZIP))
        return;
    ap_http_add_header(r, "Vary", "Accept-Encoding");
    size_t zlen = 0;
    char *z = http_gzip(*body, *len, 1, &zlen);
    if (z != NULL && zlen < *len) {
        *body = h2o_strdup(&h->pool, z, zlen).base;
        *len = zlen;
        ap_http_add_header(r, "Content-Encoding", "gzip");
    }
    free(z);
}

void http_send(struct ap_http_req *r, int status, const char *ctype, const char *body, size_t len)
{
    if (r->responded) {
        ap_log_error("http.double_response", "status=%d", status);
        return;
    }
    maybe_gzip_json(r, status, ctype, &body, &len);
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

void http_delay_flush(struct http_loop *lp)
{
    while (lp->delay_ready && !h2o_linklist_is_empty(&lp->delayed)) {
        struct ap_http_req *r =
            H2O_STRUCT_FROM_MEMBER(struct ap_http_req, delayed, lp->delayed.next);
        h2o_linklist_unlink(&r->delayed);
        ap_log_set_request_id(r->id);
        send_now(r, r->d_status, r->d_ctype, r->d_body.base, r->d_body.len);
        ap_log_set_request_id(NULL);
    }
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

/*
 * easy.c — one libcurl easy handle set up for one request, and its outcome
 * read back; shared by the blocking client (httpc.c) and the event loop
 * (loop.c). Every option is set again for every request (after
 * curl_easy_reset, which keeps the handle's caches), so no option leaks from
 * one request into the next. Body and header bytes are collected into bounded
 * buffers; hitting a bound aborts the transfer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ap_build.h"
#include "core/log.h"
#include "core/mem.h"
#include "httpc/httpc_int.h"

void ap_httpc_conf_init(struct ap_httpc_conf *c, const struct ap_httpc_opts *opts)
{
    static const struct ap_httpc_opts defaults;
    const struct ap_httpc_opts *o = opts ? opts : &defaults;

    c->connect_timeout_ms =
        o->connect_timeout_ms > 0 ? o->connect_timeout_ms : AP_HTTPC_DEFAULT_CONNECT_TIMEOUT_MS;
    c->total_timeout_ms =
        o->total_timeout_ms > 0 ? o->total_timeout_ms : AP_HTTPC_DEFAULT_TOTAL_TIMEOUT_MS;
    c->max_response = o->max_response_bytes ? o->max_response_bytes : AP_HTTPC_DEFAULT_MAX_RESPONSE;
    c->user_agent = o->user_agent ? ap_xstrdup(o->user_agent) : ap_xstrdup("appointd/" AP_VERSION);
    c->ca_file = ap_xstrdup(o->ca_file);
}

void ap_httpc_conf_cleanup(struct ap_httpc_conf *c)
{
    free(c->user_agent);
    free(c->ca_file);
    memset(c, 0, sizeof(*c));
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct ap_httpc_xstate *x = arg;

    if (ap_buf_append(&x->body, p, size * n)) {
        x->too_big = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return size * n;
}

/* Keeps the header lines of the last response ("HTTP/…" starts a new one). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct ap_httpc_xstate *x = arg;
    size_t len = size * n;

    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        ap_buf_reset(&x->headers);
        return size * n;
    }
    while (len > 0 && strchr("\r\n \t", p[len - 1]))
        len--;
    if (len == 0)
        return size * n;
    if (ap_buf_append(&x->headers, p, len) || ap_buf_append(&x->headers, "", 1)) {
        x->too_big = true;
        return 0;
    }
    return size * n;
}

/* The smaller positive of a and b (0 when neither is). */
static long min_pos(long a, long b)
{
    if (a <= 0)
        return b;
    return b > 0 && b < a ? b : a;
}

/* Options of every request; false when libcurl refuses one. */
static bool set_common(CURL *h, const struct ap_httpc_conf *c, const struct ap_httpc_per *per,
                       const char *url, struct ap_httpc_xstate *x)
{
    long total = min_pos(per ? per->total_timeout_ms : 0, c->total_timeout_ms);
    long connect =
        min_pos(min_pos(per ? per->connect_timeout_ms : 0, c->connect_timeout_ms), total);
    bool ok = true;

    ok &= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (c->ca_file)
        ok &= curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
    /* https: wait for a connection in the making to say whether it speaks
     * HTTP/2 and share it; plain http is HTTP/1.1 here and would only wait */
    if (strncmp(url, "https://", 8) == 0)
        ok &= curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L) == CURLE_OK;
    if (per && per->fresh_connect)
        ok &= curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_WRITEDATA, x) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_HEADERDATA, x) == CURLE_OK;
    return ok;
}

/* Method, URL, body and header list of req; false when libcurl refuses one. */
static bool set_request(CURL *h, const struct ap_httpc_req *req, struct curl_slist **list)
{
    const char *method = req->method ? req->method : "GET";
    bool ok = curl_easy_setopt(h, CURLOPT_URL, req->url) == CURLE_OK;

    if (req->body) {
        ok &=
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) == CURLE_OK;
        ok &= curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body) == CURLE_OK;
    }
    if (strcmp(method, "HEAD") == 0)
        ok &= curl_easy_setopt(h, CURLOPT_NOBODY, 1L) == CURLE_OK;
    else if (strcmp(method, "GET") != 0 || req->body)
        ok &= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
    *list = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; *list && req->headers && req->headers[i]; i++) {
        struct curl_slist *more = curl_slist_append(*list, req->headers[i]);
        if (!more)
            return false;
        *list = more;
    }
    return ok && *list && curl_easy_setopt(h, CURLOPT_HTTPHEADER, *list) == CURLE_OK;
}

bool ap_httpc_easy_setup(CURL *h, const struct ap_httpc_conf *c, const struct ap_httpc_per *per,
                         const struct ap_httpc_req *req, struct ap_httpc_xstate *x)
{
    memset(x, 0, sizeof(*x));
    ap_buf_init(&x->body, c->max_response);
    ap_buf_init(&x->headers, AP_HTTPC_MAX_HEADER_BYTES);
    curl_easy_reset(h);
    return req->url && set_common(h, c, per, req->url, x) && set_request(h, req, &x->list);
}

void ap_httpc_xstate_cleanup(struct ap_httpc_xstate *x)
{
    ap_buf_cleanup(&x->body);
    ap_buf_cleanup(&x->headers);
    curl_slist_free_all(x->list);
    x->list = NULL;
}

enum ap_err ap_httpc_map_result(CURLcode rc, const struct ap_httpc_xstate *x)
{
    switch (rc) {
    case CURLE_OK:
        return AP_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return AP_ETIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return AP_ETOOBIG;
    case CURLE_WRITE_ERROR:
        return x->too_big ? AP_ETOOBIG : AP_EINTERNAL;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return AP_EINVAL;
    default:
        /* resolve, connect, TLS, send/receive and protocol failures */
        return AP_EUNAVAIL;
    }
}

/* The URL without query string or fragment, for messages and logs. */
static void url_for_log(const char *url, char *out, size_t n)
{
    size_t len = strcspn(url ? url : "", "?#");

    snprintf(out, n, "%.*s", (int)(len < 160 ? len : 160), url ? url : "");
}

static void describe_failure(struct ap_httpc_resp *resp, const struct ap_httpc_req *req,
                             CURLcode rc, enum ap_err err, const struct ap_httpc_xstate *x)
{
    char where[168];
    const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);

    url_for_log(req->url, where, sizeof(where));
    if (err == AP_ETOOBIG && x->too_big)
        detail = "the response is larger than this client accepts";
    if (resp->canceled)
        detail = "canceled before an answer arrived";
    if (snprintf(resp->errmsg, sizeof(resp->errmsg), "%s %s: %s", req->method ? req->method : "GET",
                 where, detail) >= (int)sizeof(resp->errmsg)) {
        /* a long libcurl message is cut: its start says what happened */
    }
}

void ap_httpc_easy_finish(CURL *h, struct ap_httpc_xstate *x, const struct ap_httpc_req *req,
                          CURLcode rc, enum ap_err err, struct ap_httpc_resp *resp)
{
    curl_off_t us = 0;
    long sent = 0;
    char where[168];

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us);
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
    resp->total_ms = (double)us / 1000.0;
    /* bytes of the request went out, or bytes of an answer came back: the
     * peer may have acted on it */
    resp->sent = sent > 0 || x->headers.len > 0 || x->body.len > 0 || resp->status > 0;
    resp->body_len = x->body.len;
    resp->body = ap_buf_take(&x->body);
    resp->headers_len = x->headers.len;
    resp->headers = ap_buf_take(&x->headers);
    if (err) {
        /* a partial answer is no answer: callers see status 0 and "" */
        resp->status = 0;
        resp->body[0] = '\0';
        resp->body_len = 0;
        describe_failure(resp, req, rc, err, x);
    }
    url_for_log(req->url, where, sizeof(where));
    ap_log_debug("httpc.request", "method=%s url=%s status=%ld ms=%.1f err=%s sent=%d",
                 req->method ? req->method : "GET", where, resp->status, resp->total_ms,
                 ap_err_str(err), resp->sent);
}

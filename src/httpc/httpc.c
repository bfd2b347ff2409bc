/*
 * httpc.c — outbound HTTP over libcurl (see httpc.h for the contracts).
 *
 * Each call resets the client's easy handle (curl_easy_reset keeps the live
 * connections, DNS and TLS session caches) and sets every option again, so
 * no option leaks from one request into the next. Body and header bytes are
 * collected into bounded buffers; hitting a bound aborts the transfer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "ap_build.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "httpc/httpc.h"

struct ap_httpc {
    CURL *h;
    long connect_timeout_ms, total_timeout_ms;
    size_t max_response;
    char *user_agent, *ca_file;
};

/* State of one transfer, seen by the libcurl callbacks. */
struct xfer {
    struct ap_buf body, headers;
    bool too_big;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

enum ap_err ap_httpc_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    return global_rc == CURLE_OK ? AP_OK : AP_EINTERNAL;
}

struct ap_httpc *ap_httpc_new(const struct ap_httpc_opts *opts)
{
    static const struct ap_httpc_opts defaults;
    const struct ap_httpc_opts *o = opts ? opts : &defaults;
    struct ap_httpc *c;

    if (ap_httpc_global_init())
        return NULL;
    c = ap_xcalloc(1, sizeof(*c));
    c->h = curl_easy_init();
    if (!c->h) {
        free(c);
        return NULL;
    }
    c->connect_timeout_ms =
        o->connect_timeout_ms > 0 ? o->connect_timeout_ms : AP_HTTPC_DEFAULT_CONNECT_TIMEOUT_MS;
    c->total_timeout_ms =
        o->total_timeout_ms > 0 ? o->total_timeout_ms : AP_HTTPC_DEFAULT_TOTAL_TIMEOUT_MS;
    c->max_response = o->max_response_bytes ? o->max_response_bytes : AP_HTTPC_DEFAULT_MAX_RESPONSE;
    c->user_agent = o->user_agent ? ap_xstrdup(o->user_agent) : ap_xstrdup("appointd/" AP_VERSION);
    c->ca_file = ap_xstrdup(o->ca_file);
    return c;
}

void ap_httpc_free(struct ap_httpc *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    free(c->user_agent);
    free(c->ca_file);
    free(c);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;

    if (ap_buf_append(&x->body, p, size * n)) {
        x->too_big = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return size * n;
}

/* Keeps the header lines of the last response ("HTTP/…" starts a new one). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
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

/* Options of every call; false when libcurl refuses one. */
static bool set_common(struct ap_httpc *c, struct xfer *x, char *errbuf)
{
    CURL *h = c->h;
    bool ok = true;

    ok &= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->total_timeout_ms) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (c->ca_file)
        ok &= curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
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

static enum ap_err map_result(CURLcode rc, const struct xfer *x)
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
                             CURLcode rc, enum ap_err err, const struct xfer *x, const char *errbuf)
{
    char where[168];
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);

    url_for_log(req->url, where, sizeof(where));
    if (err == AP_ETOOBIG && x->too_big)
        detail = "the response is larger than this client accepts";
    snprintf(resp->errmsg, sizeof(resp->errmsg), "%s %s: %s", req->method ? req->method : "GET",
             where, detail);
}

static void finish(struct ap_httpc *c, struct xfer *x, struct ap_httpc_resp *resp)
{
    curl_off_t us = 0;

    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(c->h, CURLINFO_TOTAL_TIME_T, &us);
    resp->total_ms = (double)us / 1000.0;
    resp->body_len = x->body.len;
    resp->body = ap_buf_take(&x->body);
    resp->headers_len = x->headers.len;
    resp->headers = ap_buf_take(&x->headers);
}

enum ap_err ap_httpc_do(struct ap_httpc *c, const struct ap_httpc_req *req,
                        struct ap_httpc_resp *resp)
{
    char errbuf[CURL_ERROR_SIZE] = "", where[168];
    struct curl_slist *list = NULL;
    struct xfer x = {.too_big = false};
    enum ap_err err = AP_EINVAL;
    CURLcode rc = CURLE_BAD_FUNCTION_ARGUMENT;

    ap_httpc_resp_cleanup(resp);
    ap_buf_init(&x.body, c->max_response);
    ap_buf_init(&x.headers, AP_HTTPC_MAX_HEADER_BYTES);
    curl_easy_reset(c->h);
    if (!req->url || !set_common(c, &x, errbuf) || !set_request(c->h, req, &list))
        goto out;
    rc = curl_easy_perform(c->h);
    err = map_result(rc, &x);
out:
    finish(c, &x, resp);
    if (err) {
        /* a partial answer is no answer: callers see status 0 and "" */
        resp->status = 0;
        resp->body[0] = '\0';
        resp->body_len = 0;
        describe_failure(resp, req, rc, err, &x, errbuf);
    }
    url_for_log(req->url, where, sizeof(where));
    ap_log_debug("httpc.request", "method=%s url=%s status=%ld ms=%.1f err=%s",
                 req->method ? req->method : "GET", where, resp->status, resp->total_ms,
                 ap_err_str(err));
    /* the handle must not keep pointers to this call's stack and list */
    curl_easy_reset(c->h);
    curl_slist_free_all(list);
    return err;
}

const char *ap_httpc_resp_header(const struct ap_httpc_resp *resp, const char *name)
{
    size_t nlen = strlen(name);

    for (size_t i = 0; resp->headers && i < resp->headers_len;) {
        const char *line = resp->headers + i;
        size_t len = strlen(line);
        if (len > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
        i += len + 1;
    }
    return NULL;
}

void ap_httpc_resp_cleanup(struct ap_httpc_resp *resp)
{
    if (!resp)
        return;
    free(resp->body);
    free(resp->headers);
    memset(resp, 0, sizeof(*resp));
}

static void out_of_memory(void)
{
    fputs("appointd: out of memory in the HTTP client\n", stderr);
    abort();
}

enum ap_err ap_httpc_urlencode_form(const char *const *pairs, char **out)
{
    struct ap_buf b;
    enum ap_err err = AP_OK;

    *out = NULL;
    ap_buf_init(&b, AP_HTTPC_MAX_FORM);
    for (size_t i = 0; pairs[i] && !err; i += 2) {
        if (!pairs[i + 1]) {
            err = AP_EINVAL;
            break;
        }
        char *k = curl_easy_escape(NULL, pairs[i], 0);
        char *v = curl_easy_escape(NULL, pairs[i + 1], 0);
        if (!k || !v)
            out_of_memory();
        err = ap_buf_printf(&b, "%s%s=%s", i ? "&" : "", k, v);
        curl_free(k);
        curl_free(v);
    }
    if (err) {
        ap_buf_cleanup(&b);
        return err;
    }
    *out = ap_buf_take(&b);
    return AP_OK;
}

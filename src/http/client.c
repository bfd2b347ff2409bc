/*
 * client.c — who is asking, and for which host: the client address behind
 * trusted proxies, the scheme the client used, the Host it named, and the
 * checks built on them (the public-URL Host allowlist, same-origin, local
 * requests).
 *
 * Forwarding headers are believed only from a TCP peer inside
 * trusted-proxies: X-Forwarded-For gives the client (the right-most address
 * that is not itself trusted, so a client cannot choose its own address by
 * sending the header first), X-Forwarded-Proto the scheme and
 * X-Forwarded-Host the host (each the right-most value: the nearest proxy's
 * word). From anyone else they are ignored. Every caller of ap_http_peer()
 * (the login throttle, the access log, later the public API's rate limits)
 * gets the same answer, computed once per request.
 *
 * The parsing itself is pure and lives in decode.c (fuzzed); this file only
 * reads the socket and the headers.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "http/http_int.h"

#define HDR_VALUES_MAX 16 /* repeated X-Forwarded-For headers read */

/* The TCP peer, once per request; false when the socket has no IP peer. */
static bool socket_peer(struct ap_http_req *r, struct http_ip *out)
{
    if (!r->sock_known) {
        struct sockaddr_storage ss;
        h2o_conn_t *c = r->h2o->conn;
        socklen_t sl = c->callbacks->get_peername ? c->callbacks->get_peername(c, (void *)&ss) : 0;
        r->sock_known = true;
        r->sock_ok = sl && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
        if (r->sock_ok && ss.ss_family == AF_INET) {
            static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
            memcpy(r->sock_ip.b, mapped, 12);
            memcpy(r->sock_ip.b + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        } else if (r->sock_ok) {
            memcpy(r->sock_ip.b, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
        }
    }
    *out = r->sock_ip;
    return r->sock_ok;
}

/* True when the TCP peer is a trusted proxy. */
static bool from_trusted_proxy(struct ap_http_req *r)
{
    struct http_ip ip;
    const struct http_cidrs *t = &r->lp->srv->trusted;
    return t->n && socket_peer(r, &ip) && http_cidrs_match(t, &ip);
}

/* The values of every header called name (lowercase), in the order received. */
static size_t header_values(struct ap_http_req *r, const char *name, struct ap_str *out, size_t max)
{
    const h2o_headers_t *hs = &r->h2o->headers;
    size_t n = 0, nlen = strlen(name);
    for (ssize_t i = -1; n < max && (i = h2o_find_header_by_str(hs, name, nlen, i)) >= 0;)
        out[n++] = (struct ap_str){hs->entries[i].value.base, hs->entries[i].value.len};
    return n;
}

/* The right-most comma-separated value of the last header called name, trimmed. */
static struct ap_str last_value(struct ap_http_req *r, const char *name)
{
    struct ap_str v[HDR_VALUES_MAX];
    size_t n = header_values(r, name, v, HDR_VALUES_MAX);
    if (n == 0)
        return (struct ap_str){NULL, 0};
    const char *s = v[n - 1].p, *e = s + v[n - 1].len, *p = e;
    while (p > s && p[-1] != ',')
        p--;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return (struct ap_str){p, (size_t)(e - p)};
}

const char *ap_http_peer(struct ap_http_req *req)
{
    if (req->peer)
        return req->peer;
    struct http_ip ip;
    char text[HTTP_IP_TEXT_MAX] = "-";
    if (socket_peer(req, &ip)) {
        if (from_trusted_proxy(req)) {
            struct ap_str v[HDR_VALUES_MAX];
            size_t n = header_values(req, "x-forwarded-for", v, HDR_VALUES_MAX);
            ip = http_xff_client(&req->lp->srv->trusted, &ip, v, n);
        }
        http_ip_format(&ip, text);
    }
    req->peer = ap_arena_strdup(&req->arena, text);
    return req->peer;
}

const char *ap_http_host(struct ap_http_req *req)
{
    if (from_trusted_proxy(req)) {
        struct ap_str h = last_value(req, "x-forwarded-host");
        if (h.len)
            return ap_arena_strndup(&req->arena, h.p, h.len);
    }
    return ap_http_header(req, "Host");
}

const char *ap_http_scheme(struct ap_http_req *req)
{
    if (req->public_url)
        return req->public_url->scheme;
    if (from_trusted_proxy(req)) {
        struct ap_str p = last_value(req, "x-forwarded-proto");
        if (ap_str_case_eq_c(p, "https"))
            return "https";
    }
    return "http";
}

bool ap_http_same_origin(struct ap_http_req *req, const char *origin)
{
    if (!origin)
        return false;
    if (req->public_url)
        return strcmp(origin, req->public_url->text) == 0;
    if (req->lp->srv->public_urls.n)
        return false; /* a Host outside the list (an any-host path) has no origin of ours */
    const char *host = ap_http_host(req);
    return host && http_origin_same(ap_str_c(origin), ap_http_scheme(req), ap_str_c(host));
}

bool ap_http_is_local(struct ap_http_req *req)
{
    struct http_ip ip;
    static const char *const relayed[] = {"x-forwarded-for", "forwarded", "x-real-ip"};
    if (!socket_peer(req, &ip) || !http_ip_is_loopback(&ip))
        return false;
    for (size_t i = 0; i < sizeof(relayed) / sizeof(relayed[0]); i++)
        if (h2o_find_header_by_str(&req->h2o->headers, relayed[i], strlen(relayed[i]), -1) >= 0)
            return false;
    return true;
}

static bool any_host_path(const struct ap_http_server *srv, struct ap_str path)
{
    for (size_t i = 0; srv->any_host_paths && srv->any_host_paths[i]; i++)
        if (ap_str_eq_c(path, srv->any_host_paths[i]))
            return true;
    return false;
}

bool http_check_host(struct ap_http_req *r)
{
    const struct ap_http_server *srv = r->lp->srv;
    if (srv->public_urls.n == 0)
        return true;
    const char *host = ap_http_host(r);
    for (size_t i = 0; host && i < srv->public_urls.n; i++) {
        if (http_origin_host_matches(&srv->public_urls.v[i], ap_str_c(host))) {
            r->public_url = &srv->public_urls.v[i];
            return true;
        }
    }
    if (any_host_path(srv, ap_http_path(r)))
        return true;
    char msg[HTTP_ORIGIN_MAX + 200];
    char shown[80];
    size_t n = 0;
    for (const char *p = host ? host : ""; *p && n < sizeof(shown) - 1; p++)
        shown[n++] = (*p < 0x20 || *p == 0x7f || *p == '"') ? '?' : *p;
    shown[n] = '\0';
    snprintf(msg, sizeof(msg),
             "this server answers as %s (its public-url), not as Host \"%s\"; use that address, "
             "or add this one to public-url",
             srv->public_urls.v[0].text, shown);
    http_send_error(r, 421, "host_not_allowed", msg);
    return false;
}

/*
 * test_edge.c — the http adapter at the edge, in-process on 127.0.0.1: the
 * client address behind trusted proxies (X-Forwarded-For believed from
 * 127.0.0.1, ignored from 127.0.0.2), the scheme and host they forward,
 * same-origin checks, local requests, the public-URL Host allowlist (421),
 * Cache-Control: no-store on every answer but static files, and a server
 * run in two halves (start, join).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "tiny_client.h"

struct fixture {
    struct ap_router *router;
    struct ap_http_server *srv;
    int port;
    char root[64];
};

/* GET /who: "peer|scheme|host|same-origin|local" */
static enum ap_http_result h_who(struct ap_http_req *req, void *ud)
{
    const char *host = ap_http_host(req), *origin = ap_http_header(req, "Origin");
    char *out = ap_arena_printf(ap_http_arena(req), "%s|%s|%s|%d|%d", ap_http_peer(req),
                                ap_http_scheme(req), host ? host : "(none)",
                                ap_http_same_origin(req, origin), ap_http_is_local(req));
    ap_http_respond(req, 200, "text/plain", out, strlen(out));
    return AP_HTTP_DONE;
}

static enum ap_http_result h_cached(struct ap_http_req *req, void *ud)
{
    ap_http_add_header(req, "Cache-Control", "max-age=60");
    ap_http_respond_json(req, 200, "{}", 2);
    return AP_HTTP_DONE;
}

static enum ap_http_result h_defer(struct ap_http_req *req, void *ud)
{
    ap_http_reply(ap_http_defer(req), 200, "application/json", "{}", 2);
    return AP_HTTP_DEFERRED;
}

static void make_server(struct fixture *fx, const char *trusted, const char *public_urls)
{
    static const char *const any_host[] = {"/health", NULL};
    char err[300] = "", p[128];
    snprintf(fx->root, sizeof(fx->root), "/tmp/ap_edge_test_XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(p, sizeof(p), "%s/page.html", fx->root);
    FILE *f = fopen(p, "w");
    fputs("<p>static</p>", f);
    fclose(f);
    fx->router = ap_router_new();
    ap_router_add(fx->router, "GET", "/who", h_who, NULL);
    ap_router_add(fx->router, "GET", "/health", h_who, NULL);
    ap_router_add(fx->router, "GET", "/cached", h_cached, NULL);
    ap_router_add(fx->router, "GET", "/defer", h_defer, NULL);
    struct ap_http_config cfg = {
        .host = "127.0.0.1",
        .threads = 1,
        .max_body = 1024,
        .static_root = fx->root,
        .static_prefix = "/",
        .grace_ms = 1000,
        .trusted_proxies = trusted,
        .public_urls = public_urls,
        .any_host_paths = any_host,
    };
    fx->srv = ap_http_server_new(&cfg, fx->router, err, sizeof(err));
    assert_non_null(fx->srv);
    fx->port = ap_http_server_port(fx->srv);
    assert_int_equal(ap_http_server_start(fx->srv), AP_OK);
}

static int setup_proxy(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    make_server(fx, "127.0.0.1/32", NULL);
    *state = fx;
    return 0;
}

static int setup_public(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    make_server(fx, NULL, "https://book.example.com, http://staff.example.com:8080/");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char p[128];
    ap_http_server_stop(fx->srv);
    assert_int_equal(ap_http_server_join(fx->srv), AP_OK);
    assert_int_equal(ap_http_server_join(fx->srv), AP_EINVAL); /* once */
    ap_http_server_free(fx->srv);
    ap_router_free(fx->router);
    snprintf(p, sizeof(p), "%s/page.html", fx->root);
    unlink(p);
    rmdir(fx->root);
    free(fx);
    return 0;
}

/* GET path with extra header lines, from local address `from`; the body into out. */
static int get(struct fixture *fx, const char *from, const char *path, const char *headers,
               struct resp *r)
{
    char req[2048];
    int fd = conn_open_from(fx->port, from);
    assert_true(fd >= 0);
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n%sConnection: close\r\n\r\n", path, headers);
    int rc = roundtrip(fd, req, r);
    close(fd);
    assert_int_equal(rc, 0);
    return r->status;
}

static void who(struct fixture *fx, const char *from, const char *headers, const char *want)
{
    struct resp r;
    assert_int_equal(get(fx, from, "/who", headers, &r), 200);
    assert_string_equal(r.body, want);
    resp_free(&r);
}

static void test_client_behind_trusted_proxy(void **state)
{
    struct fixture *fx = *state;
    /* from the trusted proxy: its X-Forwarded-For, -Proto and -Host are believed */
    who(fx, "127.0.0.1",
        "Host: 127.0.0.1:1\r\nX-Forwarded-For: 10.9.9.9, 203.0.113.9\r\n"
        "X-Forwarded-Proto: https\r\nX-Forwarded-Host: book.example.com\r\n"
        "Origin: https://book.example.com\r\n",
        "203.0.113.9|https|book.example.com|1|0");
    /* two clients behind it are told apart */
    who(fx, "127.0.0.1", "Host: h\r\nX-Forwarded-For: 198.51.100.4\r\n", "198.51.100.4|http|h|0|0");
    /* from an untrusted peer (127.0.0.2) the same headers are ignored */
    who(fx, "127.0.0.2",
        "Host: 127.0.0.1:1\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n"
        "X-Forwarded-Host: book.example.com\r\nOrigin: https://book.example.com\r\n",
        "127.0.0.2|http|127.0.0.1:1|0|0");
    /* untrusted and not relayed: local, and same-origin is the request's own scheme://Host */
    who(fx, "127.0.0.2", "Host: 127.0.0.1:1\r\nOrigin: http://127.0.0.1:1\r\n",
        "127.0.0.2|http|127.0.0.1:1|1|1");
    who(fx, "127.0.0.2", "Host: 127.0.0.1:1\r\nOrigin: https://127.0.0.1:1\r\n",
        "127.0.0.2|http|127.0.0.1:1|0|1");
    /* a trusted proxy without X-Forwarded-For is the client itself */
    who(fx, "127.0.0.1", "Host: h\r\n", "127.0.0.1|http|h|0|1");
}

static void test_public_url_host_allowlist(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    /* the scheme is the public URL's; the Origin must be exactly it */
    who(fx, NULL, "Host: Book.Example.com\r\nOrigin: https://book.example.com\r\n",
        "127.0.0.1|https|Book.Example.com|1|1");
    who(fx, NULL, "Host: book.example.com:443\r\nOrigin: http://book.example.com\r\n",
        "127.0.0.1|https|book.example.com:443|0|1");
    who(fx, NULL, "Host: staff.example.com:8080\r\nOrigin: http://staff.example.com:8080\r\n",
        "127.0.0.1|http|staff.example.com:8080|1|1");
    /* the Origin of another public URL is not this request's */
    who(fx, NULL, "Host: staff.example.com:8080\r\nOrigin: https://book.example.com\r\n",
        "127.0.0.1|http|staff.example.com:8080|0|1");
    /* another Host: 421 with a message naming the public URL, on API routes and static files */
    const char *paths[] = {"/who", "/page.html", "/nothing"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(get(fx, NULL, paths[i], "Host: evil.example\r\n", &r), 421);
        assert_non_null(strstr(r.body, "\"code\":\"host_not_allowed\""));
        assert_non_null(strstr(r.body, "https://book.example.com"));
        assert_non_null(strstr(r.body, "evil.example"));
        assert_string_equal(header(&r, "cache-control"), "no-store");
        resp_free(&r);
    }
    assert_int_equal(get(fx, NULL, "/who", "Host: book.example.com:8443\r\n", &r), 421);
    resp_free(&r);
    /* health checks answer whatever the Host */
    assert_int_equal(get(fx, NULL, "/health", "Host: 10.1.2.3:8080\r\n", &r), 200);
    resp_free(&r);
    /* no Host at all (HTTP/1.0) names no public URL either */
    int fd = conn_open(fx->port);
    assert_int_equal(roundtrip(fd, "GET /who HTTP/1.0\r\n\r\n", &r), 0);
    close(fd);
    assert_int_equal(r.status, 421);
    resp_free(&r);
}

static void test_cache_control(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    const char *h = "Host: h\r\n";
    /* API answers, deferred ones and errors: never stored */
    const char *paths[] = {"/who", "/defer", "/missing"};
    for (size_t i = 0; i < 3; i++) {
        get(fx, NULL, paths[i], h, &r);
        assert_string_equal(header(&r, "cache-control"), "no-store");
        resp_free(&r);
    }
    /* a handler's own choice stays */
    get(fx, NULL, "/cached", h, &r);
    assert_string_equal(header(&r, "cache-control"), "max-age=60");
    resp_free(&r);
    /* static files keep ETag caching */
    assert_int_equal(get(fx, NULL, "/page.html", h, &r), 200);
    assert_null(header(&r, "cache-control"));
    assert_non_null(header(&r, "etag"));
    resp_free(&r);
    /* the 413 libh2o sends before reading a body */
    int fd = conn_open(fx->port);
    assert_int_equal(roundtrip(fd,
                               "POST /who HTTP/1.1\r\nHost: h\r\nContent-Length: 999999\r\n"
                               "Connection: close\r\n\r\n",
                               &r),
                     0);
    close(fd);
    assert_int_equal(r.status, 413);
    assert_string_equal(header(&r, "cache-control"), "no-store");
    resp_free(&r);
}

static void test_bad_lists_refused_at_start(void **state)
{
    struct ap_router *router = ap_router_new();
    char err[300] = "";
    struct ap_http_config cfg = {.host = "127.0.0.1", .trusted_proxies = "10.0.0.0/33"};
    assert_null(ap_http_server_new(&cfg, router, err, sizeof(err)));
    assert_non_null(strstr(err, "bad trusted-proxies: '10.0.0.0/33'"));
    cfg = (struct ap_http_config){.host = "127.0.0.1", .public_urls = "book.example.com"};
    assert_null(ap_http_server_new(&cfg, router, err, sizeof(err)));
    assert_non_null(strstr(err, "bad public-url: 'book.example.com'"));
    ap_router_free(router);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_client_behind_trusted_proxy, setup_proxy, teardown),
        cmocka_unit_test_setup_teardown(test_public_url_host_allowlist, setup_public, teardown),
        cmocka_unit_test_setup_teardown(test_cache_control, setup_proxy, teardown),
        cmocka_unit_test(test_bad_lists_refused_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_server.c — the HTTP server in-process on 127.0.0.1 (port 0, two
 * loops), driven by a tiny blocking HTTP/1.1 client over plain sockets:
 * JSON routes, JSON 404/405/413, request ids, deferred replies that do not
 * block the loop, clients that leave before their reply, graceful stop,
 * static files (ETag/304, gzip, no escape from the root), the access log
 * (no query string) and metrics; form bodies and cookies; and the fault
 * helpers: drop, apply-then-drop and delayed responses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/metrics.h"
#include "http/http.h"
#include "tiny_client.h"

#define MAX_BODY 1024
#define BIG_FILE (9 << 20) /* above the in-memory limit: streamed by h2o */
#define TEST_CSP "default-src 'self'; frame-ancestors 'none'"

struct fixture {
    struct ap_router *router;
    struct ap_http_server *srv;
    struct ap_metrics *metrics;
    pthread_t runner;
    bool running;
    int port;
    char root[64];
    char outside[80];
};

static atomic_int replied;      /* deferred replies sent by workers */
static atomic_int workers_live; /* deferred workers not finished yet */
static atomic_int entered;      /* /defer and /delay handlers entered */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- handlers ------------------------------------------------------------ */

static enum ap_http_result h_json(struct ap_http_req *req, void *ud)
{
    static const char body[] = "{\"ok\":true}";
    ap_http_respond_json(req, 200, body, sizeof(body) - 1);
    return AP_HTTP_DONE;
}

/* 4,000 bytes of JSON: above the gzip_json threshold, and very compressible. */
static enum ap_http_result h_big_json(struct ap_http_req *req, void *ud)
{
    char body[4001];
    memset(body, ' ', sizeof(body) - 1);
    body[0] = '[';
    body[sizeof(body) - 2] = ']';
    body[sizeof(body) - 1] = '\0';
    ap_http_respond_json(req, 200, body, strlen(body));
    return AP_HTTP_DONE;
}

static enum ap_http_result h_echo(struct ap_http_req *req, void *ud)
{
    struct ap_str b = ap_http_body(req);
    ap_http_respond(req, 200, "text/plain", b.p, b.len);
    return AP_HTTP_DONE;
}

static enum ap_http_result h_param(struct ap_http_req *req, void *ud)
{
    const char *name = ap_http_param(req, "name"), *q = ap_http_query(req, "q");
    char *out =
        ap_arena_printf(ap_http_arena(req), "%s|%s", name ? name : "(null)", q ? q : "(null)");
    ap_http_add_header(req, "X-Test", "yes");
    ap_http_respond(req, 200, "text/plain", out, strlen(out));
    return AP_HTTP_DONE;
}

static atomic_int applied; /* apply-then-drop handlers that did their work */

static enum ap_http_result h_form(struct ap_http_req *req, void *ud)
{
    const char *g = ap_http_form(req, "grant_type"), *sec = ap_http_form(req, "client_secret");
    const char *none = ap_http_form(req, "scope");
    char *out = ap_arena_printf(ap_http_arena(req), "%s|%s|%s", g ? g : "(null)",
                                sec ? sec : "(null)", none ? none : "(null)");
    ap_http_respond(req, 200, "text/plain", out, strlen(out));
    return AP_HTTP_DONE;
}

static enum ap_http_result h_cookie(struct ap_http_req *req, void *ud)
{
    const char *sid = ap_http_cookie(req, "sid"), *theme = ap_http_cookie(req, "theme");
    const char *none = ap_http_cookie(req, "si");
    char *out = ap_arena_printf(ap_http_arena(req), "%s|%s|%s", sid ? sid : "(null)",
                                theme ? theme : "(null)", none ? none : "(null)");
    ap_http_respond(req, 200, "text/plain", out, strlen(out));
    return AP_HTTP_DONE;
}

static enum ap_http_result h_drop(struct ap_http_req *req, void *ud)
{
    const char *ms = ap_http_query(req, "ms");
    if (ms)
        ap_http_set_delay(req, atoi(ms));
    ap_http_drop(req);
    return AP_HTTP_DONE;
}

static enum ap_http_result h_apply_drop(struct ap_http_req *req, void *ud)
{
    ap_http_set_drop_on_respond(req);
    atomic_fetch_add(&applied, 1);
    ap_http_respond_json(req, 200, "{}", 2);
    return AP_HTTP_DONE;
}

static enum ap_http_result h_delay(struct ap_http_req *req, void *ud)
{
    atomic_fetch_add(&entered, 1);
    const char *ms = ap_http_query(req, "ms");
    ap_http_set_delay(req, ms ? atoi(ms) : 100);
    ap_http_respond_json(req, 201, "{\"slow\":true}", 13);
    return AP_HTTP_DONE;
}

struct job {
    struct ap_http_deferred *d;
    int ms;
    bool headers; /* answer with response headers chosen by the worker */
};

static void *worker(void *arg)
{
    struct job *j = arg;
    usleep((useconds_t)j->ms * 1000);
    atomic_fetch_add(&replied, 1);
    static const char body[] = "{\"late\":true}";
    static const char *const headers[] = {"Set-Cookie", "sid=abc; HttpOnly", "X-Worker", "yes",
                                          NULL};
    ap_http_reply_headers(j->d, 200, "application/json", j->headers ? headers : NULL, body,
                          sizeof(body) - 1);
    free(j);
    atomic_fetch_sub(&workers_live, 1);
    return NULL;
}

static enum ap_http_result h_defer(struct ap_http_req *req, void *ud)
{
    atomic_fetch_add(&entered, 1);
    const char *ms = ap_http_query(req, "ms");
    struct job *j = calloc(1, sizeof(*j));
    pthread_t t;
    j->ms = ms ? atoi(ms) : 200;
    j->d = ap_http_defer(req);
    atomic_fetch_add(&workers_live, 1);
    pthread_create(&t, NULL, worker, j);
    pthread_detach(t);
    return AP_HTTP_DEFERRED;
}

static enum ap_http_result h_defer_headers(struct ap_http_req *req, void *ud)
{
    struct job *j = calloc(1, sizeof(*j));
    pthread_t t;
    j->ms = 10;
    j->headers = true;
    j->d = ap_http_defer(req);
    atomic_fetch_add(&workers_live, 1);
    pthread_create(&t, NULL, worker, j);
    pthread_detach(t);
    return AP_HTTP_DEFERRED;
}

static enum ap_http_result h_delay_defer(struct ap_http_req *req, void *ud)
{
    ap_http_set_delay(req, 200);
    return h_defer(req, ud);
}

/*
 * Waits (up to 5 s) until the /defer and /delay handlers have been entered n
 * times since setup: the server has read the request, whatever the load.
 */
static void wait_entered(int n)
{
    for (int i = 0; i < 500 && atomic_load(&entered) < n; i++)
        usleep(10000);
    assert_true(atomic_load(&entered) >= n);
}

static void wait_workers(void)
{
    for (int i = 0; i < 500 && atomic_load(&workers_live) > 0; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&workers_live), 0);
    usleep(50000); /* let the last worker's thread exit */
}

/* ---- fixture ------------------------------------------------------------- */

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(data, 1, len, f);
    fclose(f);
}

static void make_static_root(struct fixture *fx)
{
    char p[256];
    snprintf(fx->root, sizeof(fx->root), "/tmp/ap_http_test_XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(fx->outside, sizeof(fx->outside), "%s.secret", fx->root);
    write_file(fx->outside, "TOP-SECRET-CONTENT\n", 19);
    snprintf(p, sizeof(p), "%s/index.html", fx->root);
    write_file(p, "<h1>home</h1>\n", 14);
    snprintf(p, sizeof(p), "%s/app.js", fx->root);
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < 400; i++)
        fprintf(f, "export const v%d = \"value number %d\";\n", i, i);
    fclose(f);
    snprintf(p, sizeof(p), "%s/sub", fx->root);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/sub/index.html", fx->root);
    write_file(p, "<p>sub</p>", 10);
    snprintf(p, sizeof(p), "%s/leak", fx->root);
    assert_int_equal(symlink(fx->outside, p), 0);
    snprintf(p, sizeof(p), "%s/big.bin", fx->root);
    f = fopen(p, "wb");
    assert_int_equal(ftruncate(fileno(f), BIG_FILE), 0);
    fclose(f);
}

static void *run_server(void *arg)
{
    struct fixture *fx = arg;
    assert_int_equal(ap_http_server_run(fx->srv), AP_OK);
    return NULL;
}

static bool gzip_json; /* the next start() sets the server's gzip_json */

static int start(void **state, int grace_ms)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[256];
    make_static_root(fx);
    fx->router = ap_router_new();
    ap_router_add(fx->router, "GET", "/json", h_json, NULL);
    ap_router_add(fx->router, "GET", "/big-json", h_big_json, NULL);
    ap_router_add(fx->router, "POST", "/echo", h_echo, NULL);
    ap_router_add(fx->router, "GET", "/p/:name", h_param, NULL);
    ap_router_add(fx->router, "GET", "/defer", h_defer, NULL);
    ap_router_add(fx->router, "POST", "/form", h_form, NULL);
    ap_router_add(fx->router, "GET", "/cookie", h_cookie, NULL);
    ap_router_add(fx->router, "GET", "/drop", h_drop, NULL);
    ap_router_add(fx->router, "POST", "/apply-drop", h_apply_drop, NULL);
    ap_router_add(fx->router, "GET", "/delay", h_delay, NULL);
    ap_router_add(fx->router, "GET", "/delay-defer", h_delay_defer, NULL);
    ap_router_add(fx->router, "GET", "/defer-headers", h_defer_headers, NULL);
    fx->metrics = ap_metrics_new();
    struct ap_http_config cfg = {
        .host = "127.0.0.1",
        .port = 0,
        .threads = 2,
        .max_body = MAX_BODY,
        .static_root = fx->root,
        .static_prefix = "/",
        .static_csp = TEST_CSP,
        .grace_ms = grace_ms,
        .access_log = true,
        .metrics = fx->metrics,
        .gzip_json = gzip_json,
    };
    fx->srv = ap_http_server_new(&cfg, fx->router, err, sizeof(err));
    assert_non_null(fx->srv);
    fx->port = ap_http_server_port(fx->srv);
    assert_true(fx->port > 0);
    pthread_create(&fx->runner, NULL, run_server, fx);
    fx->running = true;
    *state = fx;
    return 0;
}

static int setup(void **state)
{
    atomic_store(&replied, 0);
    atomic_store(&entered, 0);
    return start(state, 2000);
}

static int setup_gzip_json(void **state)
{
    atomic_store(&replied, 0);
    gzip_json = true;
    int rc = start(state, 2000);
    gzip_json = false;
    return rc;
}

static int setup_short_grace(void **state)
{
    atomic_store(&replied, 0);
    atomic_store(&entered, 0);
    return start(state, 200);
}

static void rm_static_root(struct fixture *fx)
{
    const char *files[] = {"index.html", "app.js", "sub/index.html", "leak", "sub", "big.bin"};
    char p[256];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", fx->root, files[i]);
        remove(p);
    }
    rmdir(fx->root);
    unlink(fx->outside);
}

static void stop_and_join(struct fixture *fx)
{
    if (!fx->running)
        return;
    ap_http_server_stop(fx->srv);
    pthread_join(fx->runner, NULL);
    fx->running = false;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    stop_and_join(fx);
    wait_workers();
    ap_http_server_free(fx->srv);
    ap_router_free(fx->router);
    ap_metrics_free(fx->metrics);
    rm_static_root(fx);
    free(fx);
    return 0;
}

/* ---- tests --------------------------------------------------------------- */

static bool is_hex16(const char *s)
{
    if (!s || strlen(s) != 16)
        return false;
    for (int i = 0; i < 16; i++)
        if (!strchr("0123456789abcdef", s[i]))
            return false;
    return true;
}

static void test_json_route_keepalive_and_ids(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    int fd = conn_open(fx->port);
    assert_true(fd >= 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(roundtrip(fd, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "{\"ok\":true}");
        assert_string_equal(header(&r, "content-type"), "application/json");
        assert_true(is_hex16(header(&r, "x-request-id")));
        resp_free(&r);
    }
    assert_int_equal(
        roundtrip(fd, "GET /json HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc.DEF_1-2\r\n\r\n", &r), 0);
    assert_string_equal(header(&r, "x-request-id"), "abc.DEF_1-2");
    resp_free(&r);
    assert_int_equal(
        roundtrip(fd, "GET /json HTTP/1.1\r\nHost: x\r\nX-Request-Id: bad id!\r\n\r\n", &r), 0);
    assert_true(is_hex16(header(&r, "x-request-id")));
    resp_free(&r);
    assert_int_equal(roundtrip(fd, "HEAD /json HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "content-length"), "11");
    assert_int_equal(r.len, 0);
    resp_free(&r);
    close(fd);
}

static void test_404_405_json(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    assert_int_equal(fetch(fx->port, "GET /nope?email=a@b.c HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 404);
    assert_string_equal(header(&r, "content-type"), "application/json");
    assert_non_null(strstr(r.body, "\"code\":\"not_found\""));
    assert_non_null(strstr(r.body, "no route for GET /nope"));
    assert_null(strstr(r.body, "a@b.c"));
    resp_free(&r);
    assert_int_equal(fetch(fx->port, "DELETE /json HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 405);
    assert_string_equal(header(&r, "allow"), "GET, HEAD");
    assert_non_null(strstr(r.body, "\"code\":\"method_not_allowed\""));
    resp_free(&r);
}

static void test_params_query_headers(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    assert_int_equal(
        fetch(fx->port, "GET /p/a%20b%2Fc?q=x+y%21&z=1 HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "a b/c|x y!");
    assert_string_equal(header(&r, "x-test"), "yes");
    resp_free(&r);
}

static void test_body_limits(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    char req[MAX_BODY + 256], body[MAX_BODY + 1];
    memset(body, 'b', MAX_BODY);
    body[MAX_BODY] = '\0';
    /* exactly max_body is fine */
    snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s",
             MAX_BODY, body);
    assert_int_equal(fetch(fx->port, req, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, MAX_BODY);
    resp_free(&r);
    /* a huge Content-Length is refused before any body is read, as JSON */
    assert_int_equal(
        fetch(fx->port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n", &r),
        0);
    assert_int_equal(r.status, 413);
    assert_string_equal(header(&r, "content-type"), "application/json");
    assert_non_null(strstr(r.body, "\"code\":\"body_too_large\""));
    assert_string_equal(header(&r, "connection"), "close");
    resp_free(&r);
    /* one byte over, sent in full: still refused, as JSON */
    snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%sX",
             MAX_BODY + 1, body);
    assert_int_equal(fetch(fx->port, req, &r), 0);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "\"code\":\"body_too_large\""));
    resp_free(&r);
    /* chunked, exactly max_body: fine */
    snprintf(
        req, sizeof(req),
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n",
        MAX_BODY, body);
    assert_int_equal(fetch(fx->port, req, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, MAX_BODY);
    resp_free(&r);
    /* a chunked body that grows past the limit */
    snprintf(req, sizeof(req),
             "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
             "chunked\r\n\r\n%x\r\n%s%s\r\n0\r\n\r\n",
             MAX_BODY + 8, body, "12345678");
    assert_int_equal(fetch(fx->port, req, &r), 0);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "body_too_large"));
    resp_free(&r);
}

static void test_deferred_does_not_block_loop(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    int dfd = conn_open(fx->port);
    const char *dreq = "GET /defer?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(dfd, dreq, strlen(dreq), 0), (ssize_t)strlen(dreq));
    wait_entered(1);
    double t0 = now_ms();
    int fd = conn_open(fx->port);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(roundtrip(fd, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    close(fd);
    /* all 100 answered while the deferred one was still waiting */
    assert_int_equal(atomic_load(&replied), 0);
    assert_int_equal(read_resp(dfd, &r, false), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"late\":true}");
    assert_int_equal(atomic_load(&replied), 1);
    assert_true(now_ms() - t0 >= 150);
    resp_free(&r);
    close(dfd);
}

static void test_deferred_reply_headers(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    int fd = conn_open(fx->port);
    assert_int_equal(roundtrip(fd, "GET /defer-headers HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strcasestr(r.head, "\r\nset-cookie: sid=abc; HttpOnly\r\n"));
    assert_non_null(strcasestr(r.head, "\r\nx-worker: yes\r\n"));
    assert_string_equal(r.body, "{\"late\":true}");
    resp_free(&r);
    close(fd);
    wait_workers();
}

static void test_client_gone_before_reply(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    for (int i = 0; i < 5; i++) {
        int fd = conn_open(fx->port);
        const char *req = "GET /defer?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
        wait_entered(i + 1);
        close(fd);
    }
    wait_workers();
    usleep(50000);
    assert_int_equal(atomic_load(&replied), 5);
    /* the server is still fine */
    assert_int_equal(fetch(fx->port, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

static void test_graceful_stop_finishes_deferred(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    int idle = conn_open(fx->port);
    assert_int_equal(roundtrip(idle, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    resp_free(&r);
    int dfd = conn_open(fx->port);
    const char *dreq = "GET /defer?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(dfd, dreq, strlen(dreq), 0), (ssize_t)strlen(dreq));
    wait_entered(1);
    double t0 = now_ms();
    ap_http_server_stop(fx->srv);
    /* the idle keep-alive connection is closed promptly */
    char c;
    assert_int_equal(recv(idle, &c, 1, 0), 0);
    assert_true(now_ms() - t0 < 200);
    close(idle);
    assert_int_equal(read_resp(dfd, &r, false), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"late\":true}");
    assert_string_equal(header(&r, "connection"), "close");
    resp_free(&r);
    close(dfd);
    pthread_join(fx->runner, NULL);
    fx->running = false;
    assert_true(now_ms() - t0 < 1500);
    /* the listener is gone */
    assert_int_equal(conn_open(fx->port), -1);
}

static void test_grace_expiry_answers_503(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    int dfd = conn_open(fx->port);
    const char *dreq = "GET /defer?ms=900 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(dfd, dreq, strlen(dreq), 0), (ssize_t)strlen(dreq));
    wait_entered(1);
    ap_http_server_stop(fx->srv);
    assert_int_equal(read_resp(dfd, &r, false), 0);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "shutting_down"));
    resp_free(&r);
    close(dfd);
    pthread_join(fx->runner, NULL);
    fx->running = false;
    /* the late reply comes after run() returned: dropped and freed (LSan checks) */
    assert_int_equal(atomic_load(&replied), 0);
    wait_workers();
    assert_int_equal(atomic_load(&replied), 1);
}

static char *gunzip(const char *in, size_t len, size_t *outlen)
{
    z_stream zs = {0};
    size_t cap = 1 << 20;
    char *out = malloc(cap);
    assert_int_equal(inflateInit2(&zs, 16 + 15), Z_OK);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    *outlen = zs.total_out;
    inflateEnd(&zs);
    return out;
}

static void test_static_files(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    char req[512], etag[128], path[256];
    assert_int_equal(fetch(fx->port, "GET /app.js HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "content-type"), "text/javascript; charset=utf-8");
    assert_null(header(&r, "content-encoding"));
    snprintf(etag, sizeof(etag), "%s", header(&r, "etag"));
    size_t plain_len = r.len;
    char *plain = strdup(r.body);
    resp_free(&r);
    snprintf(req, sizeof(req), "GET /app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n",
             etag);
    assert_int_equal(fetch(fx->port, req, &r), 0);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.len, 0);
    resp_free(&r);
    /* gzip, twice: the second comes from the cache */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(
            fetch(fx->port, "GET /app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, br\r\n\r\n",
                  &r),
            0);
        assert_int_equal(r.status, 200);
        assert_string_equal(header(&r, "content-encoding"), "gzip");
        assert_true(r.len < plain_len / 2);
        size_t n;
        char *un = gunzip(r.body, r.len, &n);
        assert_int_equal(n, plain_len);
        assert_memory_equal(un, plain, n);
        free(un);
        resp_free(&r);
    }
    free(plain);
    assert_int_equal(fetch(fx->port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "<h1>home</h1>\n");
    assert_string_equal(header(&r, "content-type"), "text/html; charset=utf-8");
    resp_free(&r);
    assert_int_equal(fetch(fx->port, "GET /sub HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 301);
    assert_string_equal(header(&r, "location"), "/sub/");
    resp_free(&r);
    assert_int_equal(fetch(fx->port, "GET /sub/ HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_string_equal(r.body, "<p>sub</p>");
    resp_free(&r);
    assert_int_equal(fetch(fx->port, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, BIG_FILE);
    assert_string_equal(header(&r, "content-type"), "application/octet-stream");
    assert_true(is_hex16(header(&r, "x-request-id")));
    resp_free(&r);
    /* nothing outside the root: dot segments, encoded or not, and symlinks */
    const char *name = strrchr(fx->outside, '/') + 1;
    const char *bad[] = {"/../", "/%2e%2e/", "/sub/..%2f..%2f", "/leak"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bool link = strcmp(bad[i], "/leak") == 0;
        snprintf(path, sizeof(path), "GET %s%s HTTP/1.1\r\nHost: x\r\n\r\n", bad[i],
                 link ? "" : name);
        assert_int_equal(fetch(fx->port, path, &r), 0);
        assert_int_equal(r.status, 404);
        assert_null(strstr(r.body, "TOP-SECRET-CONTENT"));
        resp_free(&r);
    }
}

/* The configured CSP rides on every static answer (200 and 304), not on API routes. */
static void test_static_csp(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    char req[512], etag[128];
    assert_int_equal(fetch(fx->port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(header(&r, "content-security-policy"));
    assert_string_equal(header(&r, "content-security-policy"), TEST_CSP);
    resp_free(&r);
    assert_int_equal(fetch(fx->port, "GET /app.js HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_string_equal(header(&r, "content-security-policy"), TEST_CSP);
    snprintf(etag, sizeof(etag), "%s", header(&r, "etag"));
    resp_free(&r);
    snprintf(req, sizeof(req), "GET /app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n",
             etag);
    assert_int_equal(fetch(fx->port, req, &r), 0);
    assert_int_equal(r.status, 304);
    assert_string_equal(header(&r, "content-security-policy"), TEST_CSP);
    resp_free(&r);
    assert_int_equal(fetch(fx->port, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    assert_null(header(&r, "content-security-policy"));
    resp_free(&r);
}

static void test_access_log_and_metrics(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    char logpath[] = "/tmp/ap_http_log_XXXXXX";
    int lfd = mkstemp(logpath);
    ap_log_set_fd(lfd);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            fetch(fx->port, "GET /json?phone=5551234567 HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
        resp_free(&r);
    }
    assert_int_equal(fetch(fx->port, "GET /p/x HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    resp_free(&r);
    usleep(50000);
    ap_log_set_fd(2);
    char buf[8192] = {0};
    ssize_t n = pread(lfd, buf, sizeof(buf) - 1, 0);
    assert_true(n > 0);
    close(lfd);
    unlink(logpath);
    assert_non_null(strstr(buf, "event=http.request"));
    assert_non_null(strstr(buf, "method=GET path=/json route=/json status=200"));
    assert_non_null(strstr(buf, "route=/p/:name"));
    assert_non_null(strstr(buf, "peer=127.0.0.1"));
    assert_null(strstr(buf, "5551234567"));
    struct ap_buf out;
    ap_buf_init(&out, 1 << 20);
    assert_int_equal(ap_metrics_render(fx->metrics, &out), AP_OK);
    assert_non_null(
        strstr(out.data, "http_requests_total{route=\"/json\",method=\"GET\",status=\"200\"} 3"));
    assert_non_null(strstr(out.data, "http_request_duration_seconds_bucket{route=\"/json\""));
    ap_buf_cleanup(&out);
}

static void test_taken_port_and_unrun_free(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "", want[64];
    struct ap_http_config cfg = {.host = "127.0.0.1", .port = fx->port, .threads = 1};
    assert_null(ap_http_server_new(&cfg, fx->router, err, sizeof(err)));
    snprintf(want, sizeof(want), "127.0.0.1:%d", fx->port);
    assert_non_null(strstr(err, want));
    /* a server that is never run frees cleanly, and a stop before run is harmless */
    cfg.port = 0;
    struct ap_http_server *s = ap_http_server_new(&cfg, fx->router, err, sizeof(err));
    assert_non_null(s);
    ap_http_server_stop(s);
    ap_http_server_free(s);
}

static void test_form_and_cookie(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    const char *body = "grant_type=client_credentials&client_secret=a%2Bb+c&x";
    char req[512];
    snprintf(req, sizeof(req),
             "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: "
             "application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    assert_int_equal(fetch(fx->port, req, &r), 0);
    assert_string_equal(r.body, "client_credentials|a+b c|(null)");
    resp_free(&r);
    assert_int_equal(fetch(fx->port,
                           "GET /cookie HTTP/1.1\r\nHost: x\r\nCookie: a=1; sid=\"xyz\"; "
                           "theme=dark\r\n\r\n",
                           &r),
                     0);
    assert_string_equal(r.body, "xyz|dark|(null)");
    resp_free(&r);
    assert_int_equal(fetch(fx->port, "GET /cookie HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_string_equal(r.body, "(null)|(null)|(null)");
    resp_free(&r);
}

/* The connection ends without a single byte of response. */
static void assert_dropped(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
}

static void test_drop_closes_without_answer(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    int fd = conn_open(fx->port);
    const char *req = "GET /drop HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    assert_dropped(fd);
    close(fd);
    /* a drop after a delay: the client waits, then loses the connection */
    double t0 = now_ms();
    fd = conn_open(fx->port);
    req = "GET /drop?ms=150 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    assert_dropped(fd);
    assert_true(now_ms() - t0 >= 140);
    close(fd);
    assert_int_equal(fetch(fx->port, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

static void test_apply_then_drop(void **state)
{
    struct fixture *fx = *state;
    atomic_store(&applied, 0);
    int fd = conn_open(fx->port);
    const char *req = "POST /apply-drop HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    assert_dropped(fd);
    close(fd);
    assert_int_equal(atomic_load(&applied), 1);
}

static void test_delay_does_not_block_loops(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    enum { N = 6 };
    int fds[N];
    const char *req = "GET /delay?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n";
    double t0 = now_ms();
    for (int i = 0; i < N; i++) {
        fds[i] = conn_open(fx->port);
        assert_int_equal(send(fds[i], req, strlen(req), 0), (ssize_t)strlen(req));
    }
    /* answered at once while six delayed responses wait on two loops */
    assert_int_equal(fetch(fx->port, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_true(now_ms() - t0 < 250);
    resp_free(&r);
    for (int i = 0; i < N; i++) {
        assert_int_equal(read_resp(fds[i], &r, false), 0);
        assert_int_equal(r.status, 201);
        assert_string_equal(r.body, "{\"slow\":true}");
        resp_free(&r);
        close(fds[i]);
    }
    double took = now_ms() - t0;
    assert_true(took >= 290);
    assert_true(took < 850); /* one after another would take 900 ms at least */
}

static void test_delay_applies_to_deferred_reply(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    double t0 = now_ms();
    assert_int_equal(fetch(fx->port, "GET /delay-defer?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"late\":true}");
    assert_true(now_ms() - t0 >= 240);
    resp_free(&r);
}

static void test_graceful_stop_sends_delayed(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    int fd = conn_open(fx->port);
    const char *req = "GET /delay?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    wait_entered(1);
    stop_and_join(fx);
    assert_int_equal(read_resp(fd, &r, false), 0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    close(fd);
}

static void test_grace_expiry_sends_delayed(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    int fd = conn_open(fx->port);
    const char *req = "GET /delay?ms=4000 HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    wait_entered(1);
    double t0 = now_ms();
    stop_and_join(fx); /* grace 200 ms: the delayed answer goes out then */
    assert_true(now_ms() - t0 < 3000);
    assert_int_equal(read_resp(fd, &r, false), 0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    close(fd);
}

/* gzip_json: big JSON answers are gzipped for clients that take gzip, small ones and
 * clients that do not are answered as they are; without the option nothing is. */
static void test_gzip_json(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    size_t n;
    assert_int_equal(fetch(fx->port, "GET /big-json HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    assert_int_equal(r.len, 4000);
    assert_null(header(&r, "content-encoding"));
    char *plain = strdup(r.body);
    resp_free(&r);
    assert_int_equal(
        fetch(fx->port, "GET /big-json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", &r),
        0);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "content-encoding"), "gzip");
    assert_string_equal(header(&r, "vary"), "Accept-Encoding");
    assert_string_equal(header(&r, "content-type"), "application/json");
    assert_true(r.len < 200);
    char *un = gunzip(r.body, r.len, &n);
    assert_int_equal(n, 4000);
    assert_memory_equal(un, plain, n);
    free(un);
    free(plain);
    resp_free(&r);
    assert_int_equal(
        fetch(fx->port, "GET /json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", &r), 0);
    assert_null(header(&r, "content-encoding")); /* under 1 KiB: not worth it */
    assert_string_equal(r.body, "{\"ok\":true}");
    resp_free(&r);
}

static void test_no_gzip_json_by_default(void **state)
{
    struct fixture *fx = *state;
    struct resp r;
    assert_int_equal(
        fetch(fx->port, "GET /big-json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", &r),
        0);
    assert_int_equal(r.len, 4000);
    assert_null(header(&r, "content-encoding"));
    resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_route_keepalive_and_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_404_405_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params_query_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_does_not_block_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_reply_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_gone_before_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graceful_stop_finishes_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grace_expiry_answers_503, setup_short_grace, teardown),
        cmocka_unit_test_setup_teardown(test_static_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_json, setup_gzip_json, teardown),
        cmocka_unit_test_setup_teardown(test_no_gzip_json_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_csp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_log_and_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_taken_port_and_unrun_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_form_and_cookie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_closes_without_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_then_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delay_does_not_block_loops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delay_applies_to_deferred_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graceful_stop_sends_delayed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grace_expiry_sends_delayed, setup_short_grace,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

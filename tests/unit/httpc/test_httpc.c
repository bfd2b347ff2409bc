/*
 * test_httpc.c — unit tests of the outbound HTTP adapter (src/httpc) against
 * a tiny HTTP/1.1 server run inside the test (plain sockets, one thread per
 * connection, on 127.0.0.1 port 0). Each test states the canned reply and
 * checks both what the client returned and the exact request the server got.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ap_build.h"
#include "httpc/httpc.h"

/* ---- the in-test server ----------------------------------------------- */

#define MAX_CONNS 16
#define REQ_MAX   (2 * 1024 * 1024)

struct server {
    int listen_fd, port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    int conn_fds[MAX_CONNS];
    pthread_t conn_threads[MAX_CONNS];
    int conns, requests;
    /* what the last request looked like */
    char head[8192]; /* request line and headers, CRLF separated */
    char *body;
    size_t body_len;
    /* the canned reply */
    int status;
    const char *reply_headers; /* extra "Name: value\r\n" lines */
    const char *reply_body;
    size_t big_body; /* when > 0: send this many 'x' instead of reply_body */
    bool no_length;  /* send the body close-delimited, without Content-Length */
    int delay_ms;    /* wait before replying (cut short when the client leaves) */
};

static struct server srv;

/* Reads one request into srv.head / srv.body; false at EOF or error. */
static bool read_request(int fd)
{
    char *buf = malloc(REQ_MAX + 1), *end = NULL;
    size_t len = 0, want = 0, head_len = 0;
    ssize_t r;
    bool ok = false;

    for (;;) {
        if (end && len >= want)
            break;
        if (len >= REQ_MAX || (r = read(fd, buf + len, REQ_MAX - len)) <= 0)
            goto out;
        len += (size_t)r;
        buf[len] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            head_len = (size_t)(end - buf);
            want = head_len + 4 + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
    }
    pthread_mutex_lock(&srv.mu);
    snprintf(srv.head, sizeof(srv.head), "%.*s", (int)head_len, buf);
    free(srv.body);
    srv.body_len = want - head_len - 4;
    srv.body = malloc(srv.body_len + 1);
    memcpy(srv.body, end + 4, srv.body_len);
    srv.body[srv.body_len] = '\0';
    srv.requests++;
    pthread_mutex_unlock(&srv.mu);
    ok = true;
out:
    free(buf);
    return ok;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL); /* the client may have left */
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Sends the canned reply; false when the connection must close after it. */
static bool send_reply(int fd)
{
    size_t n = srv.big_body ? srv.big_body : strlen(srv.reply_body ? srv.reply_body : "");
    char *body = malloc(n + 1), head[1024];

    if (srv.big_body)
        memset(body, 'x', n);
    else
        memcpy(body, srv.reply_body ? srv.reply_body : "", n);
    if (srv.delay_ms > 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, srv.delay_ms); /* returns early when the client hangs up */
    }
    if (srv.no_length)
        snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n%sConnection: close\r\n\r\n", srv.status,
                 srv.reply_headers ? srv.reply_headers : "");
    else
        snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n%sContent-Length: %zu\r\n\r\n", srv.status,
                 srv.reply_headers ? srv.reply_headers : "", n);
    write_all(fd, head, strlen(head));
    write_all(fd, body, n);
    free(body);
    return !srv.no_length;
}

static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;

    while (read_request(fd) && send_reply(fd))
        ;
    shutdown(fd, SHUT_RDWR);
    return NULL;
}

static void *accept_loop(void *arg)
{
    for (;;) {
        int fd = accept(srv.listen_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_mutex_lock(&srv.mu);
        if (srv.conns == MAX_CONNS) {
            pthread_mutex_unlock(&srv.mu);
            close(fd);
            continue;
        }
        srv.conn_fds[srv.conns] = fd;
        pthread_create(&srv.conn_threads[srv.conns], NULL, serve_conn, (void *)(intptr_t)fd);
        srv.conns++;
        pthread_mutex_unlock(&srv.mu);
    }
}

/* Binds 127.0.0.1 port 0; returns the fd and sets *port. */
static int listen_any(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int server_start(void **state)
{
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.mu, NULL);
    srv.status = 200;
    srv.reply_body = "{\"ok\":true}";
    srv.listen_fd = listen_any(&srv.port);
    pthread_create(&srv.acceptor, NULL, accept_loop, NULL);
    return 0;
}

static int server_stop(void **state)
{
    shutdown(srv.listen_fd, SHUT_RDWR);
    pthread_join(srv.acceptor, NULL);
    close(srv.listen_fd);
    for (int i = 0; i < srv.conns; i++) {
        shutdown(srv.conn_fds[i], SHUT_RDWR);
        pthread_join(srv.conn_threads[i], NULL);
        close(srv.conn_fds[i]);
    }
    free(srv.body);
    pthread_mutex_destroy(&srv.mu);
    return 0;
}

static char *url(const char *path)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", srv.port, path);
    return buf;
}

/* True when the last request's head has exactly this line. */
static bool saw_line(const char *line)
{
    size_t n = strlen(line);

    for (const char *p = srv.head; (p = strstr(p, line)); p += n) {
        bool starts = p == srv.head || p[-1] == '\n';
        bool ends = p[n] == '\0' || p[n] == '\r';
        if (starts && ends)
            return true;
    }
    return false;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ---- tests ------------------------------------------------------------- */

static void test_get_round_trip(void **state)
{
    struct ap_httpc *c = ap_httpc_new(NULL);
    struct ap_httpc_resp r = {0};
    const char *hdrs[] = {"Accept: application/json", "ST-App-Key: ak1.test", NULL};
    struct ap_httpc_req req = {.url = url("/crm/v2/tenant/7/customers?page=2&active=Any"),
                               .headers = hdrs};

    srv.reply_headers = "Retry-After:  7 \r\nX-Trace: abc\r\nx-trace: second\r\n";
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"ok\":true}");
    assert_int_equal(r.body_len, 11);
    assert_string_equal(r.errmsg, "");
    assert_true(r.total_ms > 0);

    assert_true(saw_line("GET /crm/v2/tenant/7/customers?page=2&active=Any HTTP/1.1"));
    assert_true(saw_line("Accept: application/json"));
    assert_true(saw_line("ST-App-Key: ak1.test"));
    assert_true(saw_line("User-Agent: appointd/" AP_VERSION));
    assert_null(strcasestr(srv.head, "Expect:"));
    assert_int_equal(srv.body_len, 0);

    assert_string_equal(ap_httpc_resp_header(&r, "retry-after"), "7");
    assert_string_equal(ap_httpc_resp_header(&r, "X-TRACE"), "abc");
    assert_string_equal(ap_httpc_resp_header(&r, "Content-Length"), "11");
    assert_null(ap_httpc_resp_header(&r, "Retry"));
    assert_null(ap_httpc_resp_header(&r, "Location"));
    ap_httpc_resp_cleanup(&r);
    ap_httpc_free(c);
}

static void test_post_round_trip(void **state)
{
    struct ap_httpc *c = ap_httpc_new(NULL);
    struct ap_httpc_resp r = {0};
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    struct ap_httpc_req req = {.method = "POST",
                               .url = url("/jpm/v2/tenant/7/jobs"),
                               .headers = hdrs,
                               .body = "{\"a\":1}",
                               .body_len = 7};
    size_t big = 1100 * 1024;
    char *payload = malloc(big);
    double t0;

    srv.status = 201;
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_OK);
    assert_int_equal(r.status, 201);
    assert_true(saw_line("POST /jpm/v2/tenant/7/jobs HTTP/1.1"));
    assert_true(saw_line("Content-Type: application/json"));
    assert_true(saw_line("Content-Length: 7"));
    assert_string_equal(srv.body, "{\"a\":1}");

    /* a body past 1 MiB goes at once: no "Expect: 100-continue" wait */
    memset(payload, 'p', big);
    req.method = "PATCH";
    req.body = payload;
    req.body_len = big;
    t0 = now_ms();
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_OK);
    assert_true(now_ms() - t0 < 800);
    assert_true(saw_line("PATCH /jpm/v2/tenant/7/jobs HTTP/1.1"));
    assert_null(strcasestr(srv.head, "Expect:"));
    assert_int_equal(srv.body_len, big);
    assert_memory_equal(srv.body, payload, big);
    free(payload);
    ap_httpc_resp_cleanup(&r);
    ap_httpc_free(c);
}

static void test_error_status_is_a_response(void **state)
{
    struct ap_httpc *c = ap_httpc_new(NULL);
    struct ap_httpc_resp r = {0};
    struct ap_httpc_req req = {.url = url("/busy")};

    srv.status = 503;
    srv.reply_headers = "Retry-After: 30\r\n";
    srv.reply_body = "{\"title\":\"Service Unavailable\"}";
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_OK);
    assert_int_equal(r.status, 503);
    assert_string_equal(ap_httpc_resp_header(&r, "Retry-After"), "30");
    assert_string_equal(r.body, "{\"title\":\"Service Unavailable\"}");
    ap_httpc_resp_cleanup(&r);
    ap_httpc_free(c);
}

static void test_connection_reuse(void **state)
{
    struct ap_httpc *c = ap_httpc_new(NULL);
    struct ap_httpc_resp r = {0};
    struct ap_httpc_req req = {.url = url("/again")};

    for (int i = 0; i < 3; i++) {
        assert_int_equal(ap_httpc_do(c, &req, &r), AP_OK);
        assert_int_equal(r.status, 200);
    }
    pthread_mutex_lock(&srv.mu);
    assert_int_equal(srv.requests, 3);
    assert_int_equal(srv.conns, 1);
    pthread_mutex_unlock(&srv.mu);
    ap_httpc_resp_cleanup(&r);
    ap_httpc_free(c);
}

static void test_total_timeout(void **state)
{
    struct ap_httpc_opts o = {.total_timeout_ms = 300};
    struct ap_httpc *c = ap_httpc_new(&o);
    struct ap_httpc_resp r = {0};
    struct ap_httpc_req req = {.url = url("/slow?token=hidden")};
    double t0 = now_ms();

    srv.delay_ms = 3000;
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_ETIMEOUT);
    assert_true(now_ms() - t0 < 2000);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.errmsg, "GET http://127.0.0.1:"));
    assert_non_null(strstr(r.errmsg, "/slow: "));
    assert_non_null(strstr(r.errmsg, "timed out"));
    assert_null(strstr(r.errmsg, "hidden"));
    ap_httpc_resp_cleanup(&r);
    ap_httpc_free(c);
}

static void test_connection_refused(void **state)
{
    struct ap_httpc *c = ap_httpc_new(NULL);
    struct ap_httpc_resp r = {0};
    char u[128];
    int port, fd = listen_any(&port);
    struct ap_httpc_req req = {.url = u};

    close(fd); /* nothing listens there any more */
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/x", port);
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_EUNAVAIL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.errmsg, u));
    assert_true(strlen(r.errmsg) > strlen(u) + 6);
    assert_string_equal(r.body, "");
    ap_httpc_resp_cleanup(&r);
    ap_httpc_free(c);
}

static void test_oversized_response(void **state)
{
    struct ap_httpc_opts o = {.max_response_bytes = 1000};
    struct ap_httpc *c = ap_httpc_new(&o);
    struct ap_httpc_resp r = {0};
    struct ap_httpc_req req = {.url = url("/big")};

    srv.big_body = 1000; /* exactly the limit is fine */
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_OK);
    assert_int_equal(r.body_len, 1000);

    srv.big_body = 5000; /* announced by Content-Length */
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_ETOOBIG);
    assert_int_equal(r.status, 0);
    assert_true(r.errmsg[0] != '\0');

    srv.no_length = true; /* only noticed while reading */
    srv.big_body = 200000;
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_ETOOBIG);
    assert_non_null(strstr(r.errmsg, "larger than"));
    assert_int_equal(r.body_len, 0); /* the partial body is dropped */
    assert_string_equal(r.body, "");
    ap_httpc_resp_cleanup(&r);
    ap_httpc_free(c);
}

static void test_bad_url(void **state)
{
    struct ap_httpc *c = ap_httpc_new(NULL);
    struct ap_httpc_resp r = {0};
    struct ap_httpc_req req = {.url = "file:///etc/passwd"};

    assert_int_equal(ap_httpc_do(c, &req, &r), AP_EINVAL);
    assert_string_equal(r.body, "");
    assert_true(r.errmsg[0] != '\0');
    req.url = NULL;
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_EINVAL);
    ap_httpc_resp_cleanup(&r);
    ap_httpc_free(c);
}

static void test_form_encoding(void **state)
{
    const char *pairs[] = {"grant_type",    "client_credentials",  "client_id", "cid.abc 123",
                           "client_secret", "cs1.x/y+z=&\xc3\xa9", NULL};
    const char *odd[] = {"a", "1", "b", NULL};
    const char *none[] = {NULL};
    char *out = NULL, *huge = malloc(AP_HTTPC_MAX_FORM);
    const char *too_big[] = {"k", huge, NULL};

    assert_int_equal(ap_httpc_urlencode_form(pairs, &out), AP_OK);
    assert_string_equal(out, "grant_type=client_credentials&client_id=cid.abc%20123"
                             "&client_secret=cs1.x%2Fy%2Bz%3D%26%C3%A9");
    free(out);
    assert_int_equal(ap_httpc_urlencode_form(none, &out), AP_OK);
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(ap_httpc_urlencode_form(odd, &out), AP_EINVAL);
    assert_null(out);
    memset(huge, 'a', AP_HTTPC_MAX_FORM - 1);
    huge[AP_HTTPC_MAX_FORM - 1] = '\0';
    assert_int_equal(ap_httpc_urlencode_form(too_big, &out), AP_ETOOBIG);
    assert_null(out);
    free(huge);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_round_trip, server_start, server_stop),
        cmocka_unit_test_setup_teardown(test_post_round_trip, server_start, server_stop),
        cmocka_unit_test_setup_teardown(test_error_status_is_a_response, server_start, server_stop),
        cmocka_unit_test_setup_teardown(test_connection_reuse, server_start, server_stop),
        cmocka_unit_test_setup_teardown(test_total_timeout, server_start, server_stop),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test_setup_teardown(test_oversized_response, server_start, server_stop),
        cmocka_unit_test(test_bad_url),
        cmocka_unit_test(test_form_encoding),
    };
    const char *proxies[] = {"http_proxy", "https_proxy", "all_proxy", "HTTPS_PROXY", "ALL_PROXY"};

    /* the in-test server is local: a proxy from the environment must not interfere */
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]);
    assert_int_equal(ap_httpc_global_init(), AP_OK);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

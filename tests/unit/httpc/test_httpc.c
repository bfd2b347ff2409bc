/*
 * test_httpc.c — unit tests of the blocking outbound HTTP client (src/httpc)
 * against the in-test HTTP/1.1 server (testsrv.c). Each test states the
 * canned reply and checks both what the client returned and the exact
 * request the server got. The event loop's tests are in test_loop.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ap_build.h"
#include "httpc/httpc.h"
#include "testsrv.h"

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
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_OK);
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

    srv.delay_ms = 3000;
    assert_int_equal(ap_httpc_do(c, &req, &r), AP_ETIMEOUT);
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
    no_proxy_env();
    assert_int_equal(ap_httpc_global_init(), AP_OK);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

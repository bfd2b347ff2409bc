/*
 * test_router.c — the router: parameters, trailing captures, literal over
 * capture, 404 versus 405 (with Allow), HEAD via GET, duplicates, and the
 * %-decoding handlers see through ap_http_decode().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/mem.h"
#include "http/http.h"

static enum ap_http_result h_a(struct ap_http_req *r, void *ud)
{
    return AP_HTTP_DONE;
}
static enum ap_http_result h_b(struct ap_http_req *r, void *ud)
{
    return AP_HTTP_DONE;
}

static bool match(struct ap_router *r, const char *method, const char *path,
                  struct ap_route_match *m)
{
    return ap_router_match(r, ap_str_c(method), ap_str_c(path), m);
}

static const char *param(const struct ap_route_match *m, const char *name, char *buf)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (ap_str_eq_c(m->names[i], name)) {
            memcpy(buf, m->values[i].p, m->values[i].len);
            buf[m->values[i].len] = '\0';
            return buf;
        }
    return NULL;
}

static void test_params(void **state)
{
    struct ap_router *r = ap_router_new();
    struct ap_route_match m;
    char buf[64];
    int ud = 7;
    assert_int_equal(ap_router_add(r, "GET", "/api/v1/accounts/:id/bookings/:bid", h_a, &ud),
                     AP_OK);
    assert_true(match(r, "GET", "/api/v1/accounts/42/bookings/abc", &m));
    assert_ptr_equal(m.fn, h_a);
    assert_ptr_equal(m.ud, &ud);
    assert_string_equal(m.pattern, "/api/v1/accounts/:id/bookings/:bid");
    assert_int_equal(m.nparams, 2);
    assert_string_equal(param(&m, "id", buf), "42");
    assert_string_equal(param(&m, "bid", buf), "abc");
    /* a parameter never captures an empty segment, nor more than one */
    assert_false(match(r, "GET", "/api/v1/accounts//bookings/abc", &m));
    assert_false(match(r, "GET", "/api/v1/accounts/4/2/bookings/abc", &m));
    assert_false(m.method_mismatch);
    ap_router_free(r);
}

static void test_trailing_capture(void **state)
{
    struct ap_router *r = ap_router_new();
    struct ap_route_match m;
    char buf[64];
    assert_int_equal(ap_router_add(r, "GET", "/files/*rest", h_a, NULL), AP_OK);
    assert_true(match(r, "GET", "/files/a/b/c.txt", &m));
    assert_string_equal(param(&m, "rest", buf), "a/b/c.txt");
    assert_true(match(r, "GET", "/files/", &m));
    assert_string_equal(param(&m, "rest", buf), "");
    assert_true(match(r, "GET", "/files", &m));
    assert_string_equal(param(&m, "rest", buf), "");
    assert_false(match(r, "GET", "/filesx", &m));
    /* "*name" must be the last segment */
    assert_int_equal(ap_router_add(r, "GET", "/x/*rest/y", h_a, NULL), AP_EINVAL);
    ap_router_free(r);
}

static void test_literal_beats_capture(void **state)
{
    struct ap_router *r = ap_router_new();
    struct ap_route_match m;
    char buf[64];
    /* added capture first, so order of registration cannot explain the result */
    assert_int_equal(ap_router_add(r, "GET", "/users/:id", h_a, NULL), AP_OK);
    assert_int_equal(ap_router_add(r, "GET", "/users/me", h_b, NULL), AP_OK);
    assert_int_equal(ap_router_add(r, "GET", "/users/*rest", h_a, NULL), AP_OK);
    assert_true(match(r, "GET", "/users/me", &m));
    assert_ptr_equal(m.fn, h_b);
    assert_int_equal(m.nparams, 0);
    assert_true(match(r, "GET", "/users/17", &m));
    assert_ptr_equal(m.fn, h_a);
    assert_string_equal(param(&m, "id", buf), "17");
    assert_true(match(r, "GET", "/users/17/x", &m));
    assert_string_equal(m.pattern, "/users/*rest");
    assert_string_equal(param(&m, "rest", buf), "17/x");
    /* a literal without the method falls back to the capture that has it */
    assert_int_equal(ap_router_add(r, "POST", "/users/new", h_b, NULL), AP_OK);
    assert_true(match(r, "GET", "/users/new", &m));
    assert_string_equal(m.pattern, "/users/:id");
    ap_router_free(r);
}

static void test_404_vs_405_and_head(void **state)
{
    struct ap_router *r = ap_router_new();
    struct ap_route_match m;
    assert_int_equal(ap_router_add(r, "GET", "/healthz", h_a, NULL), AP_OK);
    assert_int_equal(ap_router_add(r, "POST", "/healthz", h_b, NULL), AP_OK);
    assert_true(match(r, "HEAD", "/healthz", &m));
    assert_ptr_equal(m.fn, h_a);
    assert_false(match(r, "DELETE", "/healthz", &m));
    assert_true(m.method_mismatch);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    assert_false(match(r, "GET", "/nope", &m));
    assert_false(m.method_mismatch);
    assert_null(m.allow);
    /* "*" answers any method */
    assert_int_equal(ap_router_add(r, "*", "/any", h_b, NULL), AP_OK);
    assert_true(match(r, "PATCH", "/any", &m));
    assert_ptr_equal(m.fn, h_b);
    ap_router_free(r);
}

static void test_duplicates_and_bad_input(void **state)
{
    struct ap_router *r = ap_router_new();
    assert_int_equal(ap_router_add(r, "GET", "/a/:id", h_a, NULL), AP_OK);
    assert_int_equal(ap_router_add(r, "GET", "/a/:id", h_b, NULL), AP_ECONFLICT);
    /* same shape with another parameter name is the same route */
    assert_int_equal(ap_router_add(r, "GET", "/a/:other", h_b, NULL), AP_ECONFLICT);
    assert_int_equal(ap_router_add(r, "PUT", "/a/:other", h_b, NULL), AP_OK);
    assert_int_equal(ap_router_add(r, "get", "/b", h_b, NULL), AP_EINVAL);
    assert_int_equal(ap_router_add(r, "GET", "b", h_b, NULL), AP_EINVAL);
    assert_int_equal(ap_router_add(r, "GET", "/:a/:b/:c/:d/:e/:f/:g/:h/:i", h_b, NULL), AP_EINVAL);
    ap_router_free(r);
}

static void test_percent_decoding(void **state)
{
    struct ap_router *r = ap_router_new();
    struct ap_route_match m;
    struct ap_arena a = AP_ARENA_INIT;
    assert_int_equal(ap_router_add(r, "GET", "/svc/:name", h_a, NULL), AP_OK);
    /* %2F stays inside its segment: decoding happens per segment, after matching */
    assert_true(match(r, "GET", "/svc/a%2Fb%20c", &m));
    assert_int_equal(m.nparams, 1);
    assert_string_equal(ap_http_decode(&a, m.values[0], false), "a/b c");
    assert_string_equal(ap_http_decode(&a, AP_STR("a+b%2b"), true), "a b+");
    assert_string_equal(ap_http_decode(&a, AP_STR("a+b"), false), "a+b");
    assert_null(ap_http_decode(&a, AP_STR("bad%2"), false));
    assert_null(ap_http_decode(&a, AP_STR("bad%zz"), false));
    assert_null(ap_http_decode(&a, AP_STR("nul%00"), false));
    ap_arena_free(&a);
    ap_router_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_trailing_capture),
        cmocka_unit_test(test_literal_beats_capture),
        cmocka_unit_test(test_404_vs_405_and_head),
        cmocka_unit_test(test_duplicates_and_bad_input),
        cmocka_unit_test(test_percent_decoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

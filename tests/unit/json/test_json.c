/*
 * test_json.c — unit tests of the JSON adapter (src/json): the error body
 * shape, the request-body reader's limits and messages, the path getters and
 * the unknown-field check. Each test states what a client of the API would
 * see.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "json/json.h"

/* ---- helpers ---------------------------------------------------------- */

static json_t *parse_ok(const char *text)
{
    struct ap_json_error e;
    json_t *j = NULL;

    assert_int_equal(ap_json_parse_body(text, strlen(text), AP_JSON_OBJECT, &j, &e), AP_OK);
    assert_non_null(j);
    return j;
}

static enum ap_err parse_err(const char *p, size_t n, unsigned flags, struct ap_json_error *e)
{
    json_t *j = (json_t *)1;
    enum ap_err err = ap_json_parse_body(p, n, flags, &j, e);

    assert_null(j);
    return err;
}

static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 1);

    for (int i = 0; i < depth; i++) {
        s[i] = '[';
        s[depth * 2 - 1 - i] = ']';
    }
    s[depth * 2] = '\0';
    return s;
}

/* ---- error body ------------------------------------------------------- */

static void test_error_body_shape(void **state)
{
    char *body = ap_json_error_body("invalid_field", "zip: expected a string", "customer.zip");
    json_t *j = json_loads(body, 0, NULL);

    assert_non_null(j);
    assert_string_equal(body, "{\"error\":{\"code\":\"invalid_field\",\"message\":\"zip: expected "
                              "a string\",\"field\":\"customer.zip\"}}");
    assert_int_equal(json_object_size(j), 1);
    assert_int_equal(json_object_size(json_object_get(j, "error")), 3);
    json_decref(j);
    free(body);

    body = ap_json_error_body("not_found", "no such booking", NULL);
    assert_string_equal(body,
                        "{\"error\":{\"code\":\"not_found\",\"message\":\"no such booking\"}}");
    free(body);
}

static void test_error_body_escapes(void **state)
{
    const char *msg = "say \"hi\"\nback\\slash \xc3\xa9t\xc3\xa9 \xf0\x9f\x94\xa7 \x01";
    char *body = ap_json_error_body("c", msg, "a\"b");
    json_t *j = json_loads(body, 0, NULL);

    assert_non_null(j);
    assert_non_null(strstr(body, "say \\\"hi\\\"\\nback\\\\slash"));
    assert_non_null(strstr(body, "\\u0001"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
                        msg);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "field")),
                        "a\"b");
    json_decref(j);
    free(body);
}

static void test_error_body_bad_utf8_replaced(void **state)
{
    char *body = ap_json_error_body("c", "bad \xff\xfe byte \xe2\x82", NULL);
    json_t *j = json_loads(body, 0, NULL);

    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
                        "bad ?? byte ??");
    json_decref(j);
    free(body);
}

/* ---- parse_body ------------------------------------------------------- */

static void test_parse_ok_object(void **state)
{
    json_t *j = parse_ok(" {\"name\":\"Ann\",\"n\":[1,2,{\"x\":null}]}\n");

    assert_string_equal(json_string_value(json_object_get(j, "name")), "Ann");
    assert_int_equal(json_array_size(json_object_get(j, "n")), 3);
    json_decref(j);
}

static void test_parse_malformed_has_position(void **state)
{
    struct ap_json_error e;
    const char *text = "{\"a\":1,\n \"b\": tru }";

    assert_int_equal(parse_err(text, strlen(text), AP_JSON_OBJECT, &e), AP_EPARSE);
    assert_string_equal(e.code, "invalid_json");
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 9); /* jansson points at the end of the bad token */
    assert_non_null(
        strstr(e.message, "malformed JSON at line 2, column 9: invalid token near 'tru'"));
    assert_string_equal(e.field, "");

    assert_int_equal(parse_err("{\"a\":1} x", 9, AP_JSON_ANY, &e), AP_EPARSE);
    assert_int_equal(e.line, 1);
    assert_int_equal(parse_err("{\"a\":", 5, AP_JSON_ANY, &e), AP_EPARSE);
    assert_string_equal(e.code, "invalid_json");
}

static void test_parse_depth_limit(void **state)
{
    struct ap_json_error e;
    char *ok = nested(AP_JSON_MAX_DEPTH), *deep = nested(AP_JSON_MAX_DEPTH + 1);
    json_t *j = NULL;

    assert_int_equal(ap_json_parse_body(ok, strlen(ok), AP_JSON_ANY, &j, &e), AP_OK);
    json_decref(j);
    assert_int_equal(parse_err(deep, strlen(deep), AP_JSON_ANY, &e), AP_EPARSE);
    assert_string_equal(e.code, "invalid_json");
    assert_int_equal(e.column, 33);
    assert_non_null(strstr(e.message, "nested deeper than 32 levels"));
    free(ok);
    free(deep);

    /* brackets inside strings are not nesting */
    j = parse_ok("{\"s\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[[[[[\"}");
    json_decref(j);
}

static void test_parse_nul_byte(void **state)
{
    struct ap_json_error e;

    assert_int_equal(parse_err("{\"a\":\"x\0y\"}", 11, AP_JSON_OBJECT, &e), AP_EPARSE);
    assert_int_equal(e.column, 8);
    assert_non_null(strstr(e.message, "NUL byte"));
    /* the escaped form is refused as well: strings stay C strings */
    assert_int_equal(parse_err("{\"a\":\"\\u0000\"}", 14, AP_JSON_OBJECT, &e), AP_EPARSE);
}

static void test_parse_bad_utf8(void **state)
{
    struct ap_json_error e;
    const char *cases[] = {
        "{\"a\":\"\xff\"}",             /* never valid */
        "{\"a\":\"\xc0\xaf\"}",         /* overlong '/' */
        "{\"a\":\"\xed\xa0\x80\"}",     /* UTF-16 surrogate */
        "{\"a\":\"\xf4\x90\x80\x80\"}", /* past U+10FFFF */
        "{\"a\":\"\xe2\x82\"}",         /* truncated */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse_err(cases[i], strlen(cases[i]), AP_JSON_OBJECT, &e), AP_EPARSE);
        assert_int_equal(e.column, 7);
        assert_non_null(strstr(e.message, "invalid UTF-8"));
    }
    /* valid multi-byte text is fine and columns count characters */
    json_decref(parse_ok("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa7\"}"));
    assert_int_equal(parse_err("{\"\xc3\xa9\":\xff}", 8, AP_JSON_OBJECT, &e), AP_EPARSE);
    assert_int_equal(e.column, 6);
}

static void test_parse_duplicate_keys(void **state)
{
    struct ap_json_error e;
    const char *text = "{\"a\":1,\"b\":{\"c\":1,\"c\":2}}";

    assert_int_equal(parse_err(text, strlen(text), AP_JSON_OBJECT, &e), AP_EPARSE);
    assert_non_null(strstr(e.message, "duplicate"));
}

static void test_parse_empty_body(void **state)
{
    struct ap_json_error e;

    assert_int_equal(parse_err("", 0, AP_JSON_OBJECT, &e), AP_EINVAL);
    assert_string_equal(e.code, "empty_body");
    assert_string_equal(e.message, "request body is empty; send a JSON object");
    assert_int_equal(parse_err(NULL, 0, AP_JSON_OBJECT, &e), AP_EINVAL);
    assert_int_equal(parse_err(" \r\n\t", 4, AP_JSON_ANY, &e), AP_EINVAL);
    assert_string_equal(e.code, "empty_body");
}

static void test_parse_top_level_kind(void **state)
{
    struct ap_json_error e;
    json_t *j = NULL;

    assert_int_equal(parse_err("[1,2]", 5, AP_JSON_OBJECT, &e), AP_EINVAL);
    assert_string_equal(e.code, "not_an_object");
    assert_string_equal(e.message, "request body must be a JSON object, got an array");
    assert_int_equal(parse_err("\"x\"", 3, AP_JSON_OBJECT, &e), AP_EINVAL);
    assert_string_equal(e.message, "request body must be a JSON object, got a string");
    /* without the flag any value is a body */
    assert_int_equal(ap_json_parse_body("[1,2]", 5, AP_JSON_ANY, &j, &e), AP_OK);
    assert_true(json_is_array(j));
    json_decref(j);
}

static void test_parse_too_big(void **state)
{
    struct ap_json_error e;
    size_t n = AP_JSON_MAX_BODY + 1;
    char *big = malloc(n);

    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    assert_int_equal(parse_err(big, n, AP_JSON_OBJECT, &e), AP_ETOOBIG);
    assert_string_equal(e.code, "body_too_large");
    free(big);
}

static void test_error_body_of_parse_error(void **state)
{
    struct ap_json_error e;
    char *body;
    json_t *j;

    parse_err("{\"a\":}", 6, AP_JSON_OBJECT, &e);
    body = ap_json_error_body_of(&e);
    j = json_loads(body, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "invalid_json");
    assert_null(json_object_get(json_object_get(j, "error"), "field"));
    json_decref(j);
    free(body);
}

/* ---- getters ---------------------------------------------------------- */

static const char *doc = "{\"customer\":{\"name\":\"Ann\",\"address\":{\"zip\":94110,\"city\":"
                         "\"San Francisco\"},\"vip\":true,\"note\":null},"
                         "\"items\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":7}],"
                         "\"n\":5,\"f\":2.5,\"s\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}";

static void test_get_str(void **state)
{
    struct ap_json_error e;
    json_t *j = parse_ok(doc);
    const char *s = "default";

    assert_int_equal(ap_json_get_str(j, "customer.address.city", true, 20, &s, &e), AP_OK);
    assert_string_equal(s, "San Francisco");
    assert_int_equal(ap_json_get_str(j, "items[1].name", true, 0, &s, &e), AP_OK);
    assert_string_equal(s, "b");

    assert_int_equal(ap_json_get_str(j, "customer.address.zip", true, 10, &s, &e), AP_EINVAL);
    assert_string_equal(e.code, "invalid_field");
    assert_string_equal(e.field, "customer.address.zip");
    assert_string_equal(e.message,
                        "customer.address.zip: expected a string of at most 10 characters, "
                        "got a number");
    assert_int_equal(ap_json_get_str(j, "items[2].name", true, 0, &s, &e), AP_EINVAL);
    assert_string_equal(e.field, "items[2].name");
    assert_string_equal(e.message, "items[2].name: expected a string, got a number");
    assert_string_equal(s, "b");
    json_decref(j);
}

static void test_get_str_maxlen_counts_characters(void **state)
{
    struct ap_json_error e;
    json_t *j = parse_ok(doc);
    const char *s = NULL;

    assert_int_equal(ap_json_get_str(j, "s", true, 3, &s, &e), AP_OK); /* 3 chars, 6 bytes */
    assert_int_equal(ap_json_get_str(j, "customer.address.city", true, 5, &s, &e), AP_EINVAL);
    assert_string_equal(e.message,
                        "customer.address.city: expected a string of at most 5 characters, "
                        "got 13 characters");
    json_decref(j);
}

static void test_get_missing_and_optional(void **state)
{
    struct ap_json_error e;
    json_t *j = parse_ok(doc);
    const char *s = "default";
    long long n = 42;

    assert_int_equal(ap_json_get_str(j, "customer.phone", true, 20, &s, &e), AP_EINVAL);
    assert_string_equal(e.code, "missing_field");
    assert_string_equal(e.field, "customer.phone");
    assert_string_equal(e.message, "customer.phone: is required");
    /* null counts as absent; absent optional leaves the default */
    assert_int_equal(ap_json_get_str(j, "customer.note", true, 20, &s, &e), AP_EINVAL);
    assert_string_equal(e.code, "missing_field");
    assert_int_equal(ap_json_get_str(j, "customer.note", false, 20, &s, &e), AP_OK);
    assert_int_equal(ap_json_get_str(j, "nope.deeper.still", false, 20, &s, &e), AP_OK);
    assert_int_equal(ap_json_get_int(j, "items[9].qty", false, 0, 9, &n, &e), AP_OK);
    assert_string_equal(s, "default");
    assert_int_equal(n, 42);
    assert_int_equal(ap_json_get_int(j, "items[9].qty", true, 0, 9, &n, &e), AP_EINVAL);
    assert_string_equal(e.field, "items[9].qty");
    json_decref(j);
}

static void test_get_int(void **state)
{
    struct ap_json_error e;
    json_t *j = parse_ok(doc);
    long long n = 0;

    assert_int_equal(ap_json_get_int(j, "n", true, 1, 20, &n, &e), AP_OK);
    assert_int_equal(n, 5);
    assert_int_equal(ap_json_get_int(j, "n", true, 6, 20, &n, &e), AP_EINVAL);
    assert_string_equal(e.message, "n: expected an integer from 6 to 20, got 5");
    assert_int_equal(ap_json_get_int(j, "n", true, LLONG_MIN, 4, &n, &e), AP_EINVAL);
    assert_string_equal(e.message, "n: expected an integer of at most 4, got 5");
    assert_int_equal(ap_json_get_int(j, "f", true, 0, 10, &n, &e), AP_EINVAL);
    assert_string_equal(e.message, "f: expected an integer from 0 to 10, got 2.5");
    assert_int_equal(ap_json_get_int(j, "customer.name", true, 0, LLONG_MAX, &n, &e), AP_EINVAL);
    assert_string_equal(e.message,
                        "customer.name: expected an integer of at least 0, got a string");
    assert_int_equal(n, 5);
    json_decref(j);
}

static void test_get_bool_obj_arr(void **state)
{
    struct ap_json_error e;
    json_t *j = parse_ok(doc), *o = NULL, *a = NULL;
    bool b = false;

    assert_int_equal(ap_json_get_bool(j, "customer.vip", true, &b, &e), AP_OK);
    assert_true(b);
    assert_int_equal(ap_json_get_bool(j, "n", true, &b, &e), AP_EINVAL);
    assert_string_equal(e.message, "n: expected true or false, got a number");

    assert_int_equal(ap_json_get_obj(j, "customer.address", true, &o, &e), AP_OK);
    assert_int_equal(json_object_size(o), 2);
    assert_int_equal(ap_json_get_obj(j, "items", true, &o, &e), AP_EINVAL);
    assert_string_equal(e.message, "items: expected an object, got an array");

    assert_int_equal(ap_json_get_arr(j, "items", true, 3, &a, &e), AP_OK);
    assert_int_equal(json_array_size(a), 3);
    assert_int_equal(ap_json_get_arr(j, "items", true, 2, &a, &e), AP_EINVAL);
    assert_string_equal(e.message, "items: expected an array of at most 2 items, got 3 items");
    assert_int_equal(ap_json_get_arr(j, "customer", true, 0, &a, &e), AP_EINVAL);
    assert_string_equal(e.message, "customer: expected an array, got an object");
    json_decref(j);
}

static void test_get_wrong_container_midway(void **state)
{
    struct ap_json_error e;
    json_t *j = parse_ok(doc);
    const char *s = NULL;

    /* customer.name is a string: it cannot hold a key */
    assert_int_equal(ap_json_get_str(j, "customer.name.first", false, 0, &s, &e), AP_EINVAL);
    assert_string_equal(e.field, "customer.name");
    assert_string_equal(e.message, "customer.name: expected an object, got a string");
    assert_int_equal(ap_json_get_str(j, "customer[0]", false, 0, &s, &e), AP_EINVAL);
    assert_string_equal(e.message, "customer: expected an array, got an object");
    assert_int_equal(ap_json_get_str(j, "bad..path", false, 0, &s, &e), AP_EINTERNAL);
    assert_int_equal(ap_json_get_str(j, "items[x]", false, 0, &s, &e), AP_EINTERNAL);
    json_decref(j);
}

static void test_reject_unknown(void **state)
{
    struct ap_json_error e;
    json_t *j = parse_ok(doc), *cust = json_object_get(j, "customer");
    const char *const top[] = {"customer", "items", "n", "f", "s", NULL};
    const char *const some[] = {"name", "address", "vip", NULL};

    assert_int_equal(ap_json_reject_unknown(j, top, NULL, &e), AP_OK);
    assert_int_equal(ap_json_reject_unknown(cust, some, "customer", &e), AP_EINVAL);
    assert_string_equal(e.code, "unknown_field");
    assert_string_equal(e.field, "customer.note");
    assert_string_equal(e.message, "customer.note: unknown field");
    assert_int_equal(ap_json_reject_unknown(j, some, "", &e), AP_EINVAL);
    assert_string_equal(e.field, "customer");
    json_decref(j);
}

static void test_dumps_compact_roundtrip(void **state)
{
    json_t *j = parse_ok("{ \"b\" : [1, 2.5, \"x\\n\"], \"a\" : {} }");
    char *s = ap_json_dumps(j);

    assert_string_equal(s, "{\"b\":[1,2.5,\"x\\n\"],\"a\":{}}");
    free(s);
    json_decref(j);
    assert_null(ap_json_dumps(NULL));
}

/* ap_json_put_string: what jansson itself would write, read back as the same string. */
static void test_put_string(void **state)
{
    static const char *texts[] = {"",
                                  "America/Chicago",
                                  "say \"hi\"",
                                  "back\\slash",
                                  "tab\tnew\nline\x01\x1f",
                                  "caf\xc3\xa9 \xe2\x9c\x93"};
    struct ap_buf b;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        ap_buf_init(&b, 1024);
        assert_int_equal(ap_json_put_string(&b, texts[i]), AP_OK);
        json_t *j = json_loads(b.data, JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(j), texts[i]);
        json_decref(j);
        ap_buf_cleanup(&b);
    }
    ap_buf_init(&b, 1024);
    assert_int_equal(ap_json_put_string(&b, "a\"b\x02"), AP_OK);
    assert_string_equal(b.data, "\"a\\\"b\\u0002\"");
    ap_buf_reset(&b);
    assert_int_equal(ap_json_put_string(&b, NULL), AP_OK);
    assert_string_equal(b.data, "null");
    ap_buf_cleanup(&b);
    ap_buf_init(&b, 4); /* the buffer's maximum is reported */
    assert_int_not_equal(ap_json_put_string(&b, "too long"), AP_OK);
    ap_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_body_shape),
        cmocka_unit_test(test_put_string),
        cmocka_unit_test(test_error_body_escapes),
        cmocka_unit_test(test_error_body_bad_utf8_replaced),
        cmocka_unit_test(test_parse_ok_object),
        cmocka_unit_test(test_parse_malformed_has_position),
        cmocka_unit_test(test_parse_depth_limit),
        cmocka_unit_test(test_parse_nul_byte),
        cmocka_unit_test(test_parse_bad_utf8),
        cmocka_unit_test(test_parse_duplicate_keys),
        cmocka_unit_test(test_parse_empty_body),
        cmocka_unit_test(test_parse_top_level_kind),
        cmocka_unit_test(test_parse_too_big),
        cmocka_unit_test(test_error_body_of_parse_error),
        cmocka_unit_test(test_get_str),
        cmocka_unit_test(test_get_str_maxlen_counts_characters),
        cmocka_unit_test(test_get_missing_and_optional),
        cmocka_unit_test(test_get_int),
        cmocka_unit_test(test_get_bool_obj_arr),
        cmocka_unit_test(test_get_wrong_container_midway),
        cmocka_unit_test(test_reject_unknown),
        cmocka_unit_test(test_dumps_compact_roundtrip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

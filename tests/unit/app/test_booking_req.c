/*
 * test_booking_req.c — a homeowner's booking request read strictly: a good
 * body normalised (phone, ZIP, e-mail, state), each bad field refused with
 * its name and what to fix, and the job summary from a template.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "app/booking_req.h"
#include "core/datetime.h"

static const char good[] =
    "{\"service\":\"ac-repair\",\"window\":{\"start\":\"2026-03-08T08:00:00-05:00\","
    "\"end\":\"2026-03-08T10:00:00-05:00\"},\"contact\":{\"name\":\" Pat Example \","
    "\"phone\":\"(214) 555-0100\",\"email\":\"Pat@Example.COM\"},\"address\":{\"street\":\"1 Main "
    "St\",\"unit\":\"Apt 2\",\"city\":\"Dallas\",\"state\":\"tx\",\"zip\":\"75001-1234\"},"
    "\"notes\":\"Gate code 1234\",\"smsConsent\":true,\"answers\":{\"Warm air?\":\"yes\"},"
    "\"attribution\":{\"utm_source\":\"google\",\"gclid\":\"abc\"}}";

static json_t *body_with(const char *path, json_t *v)
{
    json_t *j = json_loads(good, 0, NULL), *o = j;
    char buf[64], *dot;
    assert_non_null(j);
    snprintf(buf, sizeof(buf), "%s", path);
    if ((dot = strchr(buf, '.'))) {
        *dot = '\0';
        o = json_object_get(j, buf);
        path = path + (dot - buf) + 1;
    }
    if (v)
        json_object_set_new(o, path, v);
    else
        json_object_del(o, path);
    return j;
}

static void test_good_body(void **state)
{
    json_t *j = json_loads(good, 0, NULL);
    struct ap_booking_req r;
    struct ap_json_error e = {0};
    int64_t t;

    assert_int_equal(ap_booking_req_parse(j, &r, &e), AP_OK);
    assert_string_equal(r.name, "Pat Example");
    assert_string_equal(r.phone, "+12145550100");
    assert_string_equal(r.email, "Pat@example.com");
    assert_string_equal(r.state, "TX");
    assert_string_equal(r.zip, "75001");
    assert_true(ap_time_parse("2026-03-08T13:00:00Z", &t) && r.start == t);
    assert_true(r.sms_consent);
    assert_string_equal(json_string_value(json_object_get(r.attribution, "gclid")), "abc");
    json_t *n = ap_booking_req_json(&r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(n, "window"), "start")),
                        "2026-03-08T13:00:00Z");
    json_decref(n);

    char *s = ap_booking_summary(NULL, "AC repair", &r, NULL, 4000);
    assert_string_equal(s, "Online booking: AC repair. Warm air?: yes Gate code 1234");
    free(s);
    s = ap_booking_summary("{{name}} — {{service}} {{window}}", "AC repair", &r, "Sun 8–10 AM",
                           4000);
    assert_string_equal(s, "Pat Example — AC repair Sun 8–10 AM");
    free(s);
    s = ap_booking_summary("{{name}} — x", "AC", &r, NULL, 13); /* cut inside the dash */
    assert_string_equal(s, "Pat Example ");
    free(s);
    ap_booking_req_cleanup(&r);
    json_decref(j);
}

static void refused(json_t *j, const char *field, const char *needle)
{
    struct ap_booking_req r;
    struct ap_json_error e = {0};
    if (ap_booking_req_parse(j, &r, &e) != AP_EINVAL)
        fail_msg("accepted a bad %s", field);
    if (strcmp(e.field, field) != 0 || !strstr(e.message, needle))
        fail_msg("field '%s' message '%s'; wanted '%s' / '%s'", e.field, e.message, field, needle);
    json_decref(j);
}

static void test_refusals(void **state)
{
    refused(body_with("service", NULL), "service", "is required");
    refused(body_with("contact.phone", json_string("555-0100")), "contact.phone", "10-digit");
    refused(body_with("contact.phone", json_integer(2145550100)), "contact.phone", "expected");
    refused(body_with("contact.email", json_string("pat@")), "contact.email", "name@example.com");
    refused(body_with("contact.email", json_string("pat@example..com")), "contact.email", "e-mail");
    refused(body_with("contact.name", json_string("   ")), "contact.name", "is required");
    refused(body_with("address.zip", json_string("7500")), "address.zip", "5-digit");
    refused(body_with("address.state", json_string("Texas")), "address.state", "two-letter");
    refused(body_with("window.start", json_string("2026-03-08")), "window.start", "offset");
    refused(body_with("window.end", json_string("2026-03-08T07:00:00-05:00")), "window.end",
            "end after it starts");
    refused(body_with("window.day", json_string("x")), "window.day", "unknown field");
    refused(body_with("attribution.utm_foo", json_string("x")), "attribution.utm_foo",
            "unknown field");
    refused(body_with("answers.q", json_integer(3)), "answers.q", "text");
    refused(body_with("smsConsent", json_string("yes")), "smsConsent", "expected");
    refused(body_with("coupon", json_string("x")), "coupon", "unknown field");
    refused(json_array(), "", "object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_body),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_booking_body.c — libFuzzer target of a homeowner's booking request:
 * the body reader (ap_json_parse_body with the public route's limit), then
 * ap_booking_req_parse() (src/app/booking_req.c), its normalised JSON and the
 * job summary.
 *
 * Invariants beyond "does not crash":
 *   - a refusal names a code and a message, and leaves nothing to clean up;
 *   - an accepted request is normalised: its phone is E.164 ("+" and 8–15
 *     digits), its ZIP is 5 digits or "A1A 1A1", its window ends after it
 *     starts, and its normalised JSON parses back as a request equal to it
 *     (a fixed point);
 *   - the summary never exceeds the limit it is given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/booking_req.h"
#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool e164(const char *p)
{
    size_t n = strlen(p);
    return p[0] == '+' && n >= 9 && n <= 16 && strspn(p + 1, "0123456789") == n - 1;
}

static bool zip_ok(const char *z)
{
    return (strlen(z) == 5 && strspn(z, "0123456789") == 5) || (strlen(z) == 7 && z[3] == ' ');
}

static void round_trip(const struct ap_booking_req *r)
{
    json_t *n = ap_booking_req_json(r), *back_json;
    struct ap_booking_req back;
    struct ap_json_error e = {0};

    /* the stored form has UTC window texts, which the reader takes as well */
    CHECK(ap_booking_req_parse(n, &back, &e) == AP_OK);
    back_json = ap_booking_req_json(&back);
    CHECK(json_equal(n, back_json));
    json_decref(back_json);
    json_decref(n);
    ap_booking_req_cleanup(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ap_json_error e = {0};
    struct ap_booking_req r;
    json_t *body = NULL;

    if (size > AP_BOOKING_BODY_MAX ||
        ap_json_parse_body((const char *)data, size, AP_JSON_OBJECT, &body, &e) != AP_OK)
        return 0;
    memset(&e, 0, sizeof(e));
    if (ap_booking_req_parse(body, &r, &e) != AP_OK) {
        CHECK(e.code[0] && e.message[0]);
        json_decref(body);
        return 0;
    }
    CHECK(e164(r.phone));
    CHECK(zip_ok(r.zip));
    CHECK(r.end > r.start);
    CHECK(r.name[0] && r.street[0] && r.city[0] && strlen(r.state) == 2);
    round_trip(&r);
    char *s = ap_booking_summary("{{service}} {{name}} {{answers}} {{notes}} {{window}}", r.service,
                                 &r, "w", 300);
    CHECK(strlen(s) <= 300);
    free(s);
    ap_booking_req_cleanup(&r);
    json_decref(body);
    return 0;
}

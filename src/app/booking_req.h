/*
 * booking_req.h — a homeowner's booking request as the widget sends it
 * (POST /api/v1/schedulers/{key}/bookings, docs/api.md "Bookings"): read
 * strictly from untrusted JSON into normalised fields (phone in E.164, ZIP
 * in its canonical form, e-mail lowercased in its domain), each refusal
 * naming the field and saying what to fix. The fuzz target
 * tests/fuzz/fuzz_booking_body.c drives ap_booking_req_parse().
 *
 * What the scheduler decides (service offered, ZIP served, window offered
 * and still open) is checked later against the scheduler and ServiceTitan;
 * here only the shape.
 */
#ifndef AP_APP_BOOKING_REQ_H
#define AP_APP_BOOKING_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/phone.h"
#include "core/err.h"
#include "json/json.h"

/* Largest booking body accepted (a form's worth, with notes). */
#define AP_BOOKING_BODY_MAX (32 * 1024)

struct ap_booking_req {
    char service[41];
    int64_t start, end;  /* the window, UTC ns */
    char start_text[40]; /* as sent (RFC 3339 with offset) */
    char name[101];
    char phone[AP_PHONE_E164_MAX]; /* E.164 */
    char email[255];               /* "" when not given */
    char street[201], unit[51], city[101], state[3], zip[11];
    char *notes; /* NULL when none */
    bool sms_consent;
    json_t *answers;     /* object of strings (may be empty); owned */
    json_t *attribution; /* object of strings (may be empty); owned */
};

/*
 * Parses body (a JSON object already read with the json adapter's limits).
 * AP_OK with *r filled (clean it up), or AP_EINVAL with e naming the field:
 * missing_field, invalid_field ("contact.phone: enter a 10-digit US or
 * Canadian phone number, like 214-555-0100"), unknown_field.
 */
enum ap_err ap_booking_req_parse(json_t *body, struct ap_booking_req *r, struct ap_json_error *e);
void ap_booking_req_cleanup(struct ap_booking_req *r);

/* The normalised request as stored and compared for idempotency (keys in a fixed order). */
json_t *ap_booking_req_json(const struct ap_booking_req *r);

/*
 * The job summary from a service's template: {{service}}, {{name}},
 * {{notes}}, {{answers}}, {{window}} replaced; without a template "Online
 * booking: <service>. <answers> <notes>". At most max bytes (cut at a
 * character boundary). malloc'd.
 */
char *ap_booking_summary(const char *tmpl, const char *service_label,
                         const struct ap_booking_req *r, const char *window_text, size_t max);

#endif

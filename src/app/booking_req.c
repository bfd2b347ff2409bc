/*
 * booking_req.c — reading a homeowner's booking request strictly, and the
 * job summary made from it. See booking_req.h.
 */
#include "app/booking_req.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/scheduler.h"
#include "core/buf.h"
#include "core/datetime.h"
#include "core/defs.h"
#include "core/mem.h"

/* US states, DC and territories; Canadian provinces and territories. */
static const char *const regions[] = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
    "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE",
    "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
    "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "VI", "GU", "AS", "MP",
    "AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT",
};

static const char *const attribution_keys[] = {
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid",
    "fbclid",     "gbraid",     "wbraid",       "campaign", NULL};

static enum ap_err bad(struct ap_json_error *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum ap_err bad(struct ap_json_error *e, const char *field, const char *fmt, ...)
{
    char msg[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ap_json_error_set(e, "invalid_field", field, "%s: %s", field, msg);
    return AP_EINVAL;
}

/* A required (or optional) string copied into buf, trimmed of surrounding blanks. */
static enum ap_err text(json_t *o, const char *path, bool required, char *buf, size_t cap,
                        struct ap_json_error *e)
{
    const char *v = NULL;
    enum ap_err err = ap_json_get_str(o, path, required, cap - 1, &v, e);
    size_t n;

    buf[0] = '\0';
    if (err || !v)
        return err;
    while (isspace((unsigned char)*v))
        v++;
    n = strlen(v);
    while (n > 0 && isspace((unsigned char)v[n - 1]))
        n--;
    snprintf(buf, cap, "%.*s", (int)n, v);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' '; /* no control characters in names and addresses */
    if (required && !buf[0]) {
        ap_json_error_set(e, "missing_field", path, "%s: is required", path);
        return AP_EINVAL;
    }
    return AP_OK;
}

static bool email_ok(char *s)
{
    char *at = strchr(s, '@'), *dot;
    size_t local;

    if (!at || strchr(at + 1, '@') || strlen(s) > 254)
        return false;
    local = (size_t)(at - s);
    if (local == 0 || local > 64 || strpbrk(s, " ,;:<>()[]\\\""))
        return false;
    dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || strlen(dot + 1) < 2)
        return false;
    for (char *p = at + 1; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
            return false;
        if (*p == '.' && (p[1] == '.' || p[1] == '\0'))
            return false;
        *p = (char)tolower((unsigned char)*p);
    }
    for (char *p = dot + 1; *p; p++)
        if (!isalpha((unsigned char)*p))
            return false;
    return true;
}

static enum ap_err read_window(json_t *body, struct ap_booking_req *r, struct ap_json_error *e)
{
    static const char *const fields[] = {"start", "end", NULL};
    const char *s = NULL, *t = NULL;
    json_t *w = NULL;
    enum ap_err err;

    if ((err = ap_json_get_obj(body, "window", true, &w, e)) ||
        (err = ap_json_reject_unknown(w, fields, "window", e)) ||
        (err = ap_json_get_str(body, "window.start", true, 40, &s, e)) ||
        (err = ap_json_get_str(body, "window.end", true, 40, &t, e)))
        return err;
    if (strlen(s) < 20 || !ap_time_parse(s, &r->start))
        return bad(e, "window.start",
                   "expected a time with its offset, as the availability answer gives it "
                   "(2026-03-08T08:00:00-05:00)");
    if (strlen(t) < 20 || !ap_time_parse(t, &r->end))
        return bad(e, "window.end", "expected a time with its offset (2026-03-08T10:00:00-05:00)");
    if (r->end <= r->start)
        return bad(e, "window.end", "the window must end after it starts");
    snprintf(r->start_text, sizeof(r->start_text), "%s", s);
    return AP_OK;
}

static enum ap_err read_contact(json_t *body, struct ap_booking_req *r, struct ap_json_error *e)
{
    static const char *const fields[] = {"name", "phone", "email", NULL};
    json_t *c = NULL;
    char phone[41];
    const char *why = NULL;
    enum ap_err err;

    if ((err = ap_json_get_obj(body, "contact", true, &c, e)) ||
        (err = ap_json_reject_unknown(c, fields, "contact", e)) ||
        (err = text(body, "contact.name", true, r->name, sizeof(r->name), e)) ||
        (err = text(body, "contact.phone", true, phone, sizeof(phone), e)) ||
        (err = text(body, "contact.email", false, r->email, sizeof(r->email), e)))
        return err;
    if (!ap_phone_normalize(phone, r->phone, &why))
        return bad(e, "contact.phone", "%s", why);
    if (r->email[0] && !email_ok(r->email))
        return bad(e, "contact.email", "enter an e-mail address like name@example.com");
    return AP_OK;
}

static enum ap_err read_address(json_t *body, struct ap_booking_req *r, struct ap_json_error *e)
{
    static const char *const fields[] = {"street", "unit", "city", "state", "zip", NULL};
    json_t *a = NULL;
    char zip[16], st[41];
    bool known = false;
    enum ap_err err;

    if ((err = ap_json_get_obj(body, "address", true, &a, e)) ||
        (err = ap_json_reject_unknown(a, fields, "address", e)) ||
        (err = text(body, "address.street", true, r->street, sizeof(r->street), e)) ||
        (err = text(body, "address.unit", false, r->unit, sizeof(r->unit), e)) ||
        (err = text(body, "address.city", true, r->city, sizeof(r->city), e)) ||
        (err = text(body, "address.state", true, st, sizeof(st), e)) ||
        (err = text(body, "address.zip", true, zip, sizeof(zip), e)))
        return err;
    for (char *p = st; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    for (size_t i = 0; i < AP_COUNTOF(regions); i++)
        known |= strcmp(st, regions[i]) == 0;
    memcpy(r->state, st, sizeof(r->state) - 1);
    if (!known)
        return bad(e, "address.state", "enter the two-letter state or province, like TX");
    if (!ap_sched_zip_norm(zip, r->zip))
        return bad(e, "address.zip", "enter a 5-digit ZIP code, like 75001");
    return AP_OK;
}

/* An optional object of short strings (answers, attribution). */
static enum ap_err string_map(json_t *body, const char *name, const char *const *allowed,
                              json_t **out, struct ap_json_error *e)
{
    json_t *o = NULL, *v;
    const char *k;
    char field[96];
    enum ap_err err;

    *out = json_object();
    if ((err = ap_json_get_obj(body, name, false, &o, e)) || !o)
        return err;
    if (allowed && (err = ap_json_reject_unknown(o, allowed, name, e)))
        return err;
    if (json_object_size(o) > 20)
        return bad(e, name, "at most 20 entries");
    json_object_foreach (o, k, v) {
        snprintf(field, sizeof(field), "%s.%.60s", name, k);
        if (json_is_null(v))
            continue;
        if (!json_is_string(v) || json_string_length(v) > 500)
            return bad(e, field, "expected text of at most 500 characters");
        if (strlen(k) > 60)
            return bad(e, field, "a key of at most 60 characters");
        json_object_set(*out, k, v);
    }
    return AP_OK;
}

static const char *const top_fields[] = {"service",    "window",  "contact",     "address", "notes",
                                         "smsConsent", "answers", "attribution", NULL};

enum ap_err ap_booking_req_parse(json_t *body, struct ap_booking_req *r, struct ap_json_error *e)
{
    const char *notes = NULL;
    enum ap_err err;

    memset(r, 0, sizeof(*r));
    if (!json_is_object(body)) {
        ap_json_error_set(e, "not_an_object", "", "a booking is a JSON object");
        return AP_EINVAL;
    }
    if ((err = ap_json_reject_unknown(body, top_fields, NULL, e)) ||
        (err = text(body, "service", true, r->service, sizeof(r->service), e)) ||
        (err = read_window(body, r, e)) || (err = read_contact(body, r, e)) ||
        (err = read_address(body, r, e)) ||
        (err = ap_json_get_str(body, "notes", false, 2000, &notes, e)) ||
        (err = ap_json_get_bool(body, "smsConsent", false, &r->sms_consent, e)) ||
        (err = string_map(body, "answers", NULL, &r->answers, e)) ||
        (err = string_map(body, "attribution", attribution_keys, &r->attribution, e))) {
        ap_booking_req_cleanup(r);
        return err;
    }
    if (notes && *notes)
        r->notes = ap_xstrdup(notes);
    return AP_OK;
}

void ap_booking_req_cleanup(struct ap_booking_req *r)
{
    if (!r)
        return;
    free(r->notes);
    json_decref(r->answers);
    json_decref(r->attribution);
    memset(r, 0, sizeof(*r));
}

json_t *ap_booking_req_json(const struct ap_booking_req *r)
{
    char a[AP_TIME_BUF], b[AP_TIME_BUF];

    ap_time_format(r->start, 0, a);
    ap_time_format(r->end, 0, b);
    return json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, "
                     "s:s?, s:b, s:O, s:O}",
                     "service", r->service, "window", "start", a, "end", b, "contact", "name",
                     r->name, "phone", r->phone, "email", r->email, "address", "street", r->street,
                     "unit", r->unit, "city", r->city, "state", r->state, "zip", r->zip, "notes",
                     r->notes, "smsConsent", r->sms_consent, "answers", r->answers, "attribution",
                     r->attribution);
}

/* "question: answer; …" of the answers object. */
static void answers_text(const struct ap_booking_req *r, struct ap_buf *b)
{
    const char *k;
    json_t *v;
    size_t before = b->len;

    json_object_foreach (r->answers, k, v)
        if (json_is_string(v) && json_string_length(v))
            ap_buf_printf(b, "%s%s: %s", b->len > before ? "; " : "", k, json_string_value(v));
}

char *ap_booking_summary(const char *tmpl, const char *label, const struct ap_booking_req *r,
                         const char *window_text, size_t max)
{
    struct ap_buf b;
    char *out;

    ap_buf_init(&b, 64 * 1024);
    if (!tmpl || !*tmpl)
        tmpl = "Online booking: {{service}}. {{answers}} {{notes}}";
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "{{service}}", 11) == 0) {
            ap_buf_puts(&b, label);
            p += 11;
        } else if (strncmp(p, "{{name}}", 8) == 0) {
            ap_buf_puts(&b, r->name);
            p += 8;
        } else if (strncmp(p, "{{notes}}", 9) == 0) {
            ap_buf_puts(&b, r->notes ? r->notes : "");
            p += 9;
        } else if (strncmp(p, "{{answers}}", 11) == 0) {
            answers_text(r, &b);
            p += 11;
        } else if (strncmp(p, "{{window}}", 10) == 0) {
            ap_buf_puts(&b, window_text ? window_text : "");
            p += 10;
        } else {
            ap_buf_append(&b, p++, 1);
        }
    }
    out = ap_buf_take(&b);
    if (!out)
        out = ap_xstrdup("");
    size_t n = strlen(out);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\n'))
        out[--n] = '\0';
    if (n > max) { /* cut on a UTF-8 character boundary */
        n = max;
        while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80)
            n--;
        out[n] = '\0';
    }
    return out;
}

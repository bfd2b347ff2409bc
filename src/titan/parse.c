/*
 * parse.c — the pure parsers of what ServiceTitan sends back: the token
 * endpoint's answer, the claims of the access token (a JWT), the
 * ApiErrorResponse error body, and its timestamps. They take untrusted bytes,
 * keep every size bounded and never fail open; tests/fuzz/fuzz_titan_parse.c
 * fuzzes them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "titan/titan_int.h"

/* Copies s into a fixed buffer, truncated; control bytes become spaces. */
static void copy_field(char *dst, size_t n, const char *s)
{
    size_t i;

    for (i = 0; s && s[i] && i + 1 < n; i++)
        dst[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
    dst[i] = '\0';
}

void ap_titan_token_resp_cleanup(struct ap_titan_token_resp *r)
{
    if (!r)
        return;
    free(r->access_token);
    free(r->scope);
    memset(r, 0, sizeof(*r));
}

static void token_error(int status, json_t *doc, struct ap_titan_error *e)
{
    const char *oauth = NULL, *desc = NULL;

    e->stage = AP_TITAN_STAGE_TOKEN;
    e->status = status;
    ap_json_get_str(doc, "error", false, 0, &oauth, NULL);
    ap_json_get_str(doc, "error_description", false, 0, &desc, NULL);
    copy_field(e->oauth_error, sizeof(e->oauth_error), oauth);
    if (desc && *desc)
        copy_field(e->title, sizeof(e->title), desc);
    else if (oauth && *oauth)
        snprintf(e->title, sizeof(e->title), "the token endpoint refused: %s", e->oauth_error);
    else
        snprintf(e->title, sizeof(e->title), "the token endpoint answered %d %s", status,
                 ap_titan_status_text(status));
}

static bool token_fields(json_t *doc, struct ap_titan_token_resp *out)
{
    const char *tok = NULL, *type = NULL, *scope = "";
    long long exp = 0;

    if (ap_json_get_str(doc, "access_token", true, AP_TITAN_MAX_TOKEN, &tok, NULL) != AP_OK ||
        ap_json_get_int(doc, "expires_in", true, 1, AP_TITAN_MAX_EXPIRES_IN, &exp, NULL) != AP_OK ||
        ap_json_get_str(doc, "token_type", false, sizeof(out->token_type) - 1, &type, NULL) !=
            AP_OK ||
        ap_json_get_str(doc, "scope", false, 0, &scope, NULL) != AP_OK)
        return false;
    if (!tok[0] || strpbrk(tok, " \t\r\n") || (type && strcasecmp(type, "Bearer") != 0))
        return false;
    out->access_token = ap_xstrdup(tok);
    out->expires_in = exp;
    copy_field(out->token_type, sizeof(out->token_type), type ? type : "Bearer");
    out->scope = ap_xstrdup(scope);
    return true;
}

enum ap_err ap_titan_parse_token_response(int status, const char *body, size_t len,
                                          struct ap_titan_token_resp *out, struct ap_titan_error *e)
{
    json_t *doc = NULL;
    enum ap_err err = AP_OK;

    memset(out, 0, sizeof(*out));
    if (ap_json_parse_body(body ? body : "", body ? len : 0, AP_JSON_OBJECT, &doc, NULL) != AP_OK)
        doc = NULL;
    if (status != 200) {
        token_error(status, doc, e);
        err = ap_titan_status_err(status);
        goto out;
    }
    if (!doc || !token_fields(doc, out)) {
        ap_titan_token_resp_cleanup(out);
        token_error(status, NULL, e);
        snprintf(e->title, sizeof(e->title),
                 "the token endpoint answered 200 without a usable access_token");
        err = AP_EPARSE;
    }
out:
    json_decref(doc);
    return err;
}

/* ---- JWT claims -------------------------------------------------------- */

static int b64url_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-' || c == '+')
        return 62;
    if (c == '_' || c == '/')
        return 63;
    return -1;
}

/* Decodes base64url (padding optional) of s[0..n) into a malloc'd buffer. */
static char *b64url_decode(const char *s, size_t n, size_t *outlen)
{
    char *out = ap_xmalloc(n * 3 / 4 + 4);
    uint32_t acc = 0;
    size_t o = 0, i;
    int bits = 0, v;

    while (n > 0 && s[n - 1] == '=')
        n--;
    for (i = 0; i < n; i++) {
        if ((v = b64url_val((unsigned char)s[i])) < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

static bool claim_tenant(json_t *pl, int64_t *out)
{
    json_t *v = json_object_get(pl, "tenant");
    char *end = NULL;
    long long n;

    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!isdigit((unsigned char)s[0]) || strlen(s) > 19)
            return false;
        n = strtoll(s, &end, 10);
        if (*end)
            return false;
    } else {
        return false;
    }
    if (n <= 0)
        return false;
    *out = n;
    return true;
}

static void add_scope(struct ap_titan_token_info *ti, const char *s, size_t n)
{
    if (n == 0 || ti->nscopes >= AP_TITAN_MAX_SCOPES)
        return;
    ti->scopes = ap_xrealloc(ti->scopes, (ti->nscopes + 1) * sizeof(char *));
    ti->scopes[ti->nscopes++] = ap_xstrndup(s, n);
}

static bool claim_scopes(json_t *pl, struct ap_titan_token_info *ti)
{
    json_t *v = json_object_get(pl, "scope"), *item;
    const char *s;
    size_t i, n;

    if (!v)
        return true;
    if (json_is_string(v)) {
        for (s = json_string_value(v); *s; s += n) {
            s += strspn(s, " ");
            n = strcspn(s, " ");
            add_scope(ti, s, n);
        }
        return true;
    }
    if (!json_is_array(v))
        return false;
    json_array_foreach (v, i, item) {
        if (!json_is_string(item))
            return false;
        add_scope(ti, json_string_value(item), json_string_length(item));
    }
    return true;
}

enum ap_err ap_titan_jwt_claims(const char *jwt, struct ap_titan_token_info *info)
{
    const char *p1, *p2;
    char *raw = NULL;
    size_t len = 0;
    json_t *pl = NULL, *exp;
    enum ap_err err = AP_EPARSE;

    memset(info, 0, sizeof(*info));
    if (!jwt || strlen(jwt) > AP_TITAN_MAX_TOKEN || !(p1 = strchr(jwt, '.')) ||
        !(p2 = strchr(p1 + 1, '.')))
        return AP_EPARSE;
    if (!(raw = b64url_decode(p1 + 1, (size_t)(p2 - p1 - 1), &len)))
        goto out;
    if (ap_json_parse_body(raw, len, AP_JSON_OBJECT, &pl, NULL) != AP_OK)
        goto out;
    if (!claim_tenant(pl, &info->tenant_id) || !claim_scopes(pl, info))
        goto out;
    exp = json_object_get(pl, "exp");
    if (json_is_integer(exp) && json_integer_value(exp) > 0 &&
        json_integer_value(exp) < INT64_MAX / 1000000000LL)
        info->expires_at_ns = (int64_t)json_integer_value(exp) * 1000000000LL;
    json_t *iss = json_object_get(pl, "iss");
    if (json_is_string(iss))
        snprintf(info->iss, sizeof(info->iss), "%s", json_string_value(iss));
    err = AP_OK;
out:
    if (err)
        ap_titan_token_info_cleanup(info);
    json_decref(pl);
    free(raw);
    return err;
}

void ap_titan_token_info_cleanup(struct ap_titan_token_info *ti)
{
    if (!ti)
        return;
    for (size_t i = 0; i < ti->nscopes; i++)
        free(ti->scopes[i]);
    free(ti->scopes);
    memset(ti, 0, sizeof(*ti));
}

/* ---- ApiErrorResponse ---------------------------------------------------- */

/* Appends "Field: msg" (or "; Field: msg") to e->fields while it fits. */
static void add_field(struct ap_titan_error *e, const char *field, const char *msg)
{
    size_t used = strlen(e->fields), n = sizeof(e->fields);
    char part[sizeof(e->fields)];

    snprintf(part, sizeof(part), "%s%s: %s", used ? "; " : "", field, msg);
    for (char *c = part; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
    if (used + strlen(part) < n)
        memcpy(e->fields + used, part, strlen(part) + 1);
}

static void error_fields(json_t *errors, struct ap_titan_error *e)
{
    const char *key;
    json_t *v, *m;
    size_t i;

    json_object_foreach (errors, key, v) {
        if (json_is_string(v)) {
            add_field(e, key, json_string_value(v));
        } else if (json_is_array(v)) {
            json_array_foreach (v, i, m) {
                if (json_is_string(m))
                    add_field(e, key, json_string_value(m));
            }
        }
    }
}

void ap_titan_parse_error_body(int status, const char *body, size_t len, struct ap_titan_error *e)
{
    json_t *doc = NULL, *errors = NULL;
    const char *title = NULL, *trace = NULL;

    e->status = status;
    e->title[0] = e->trace_id[0] = e->fields[0] = '\0';
    if (body && ap_json_parse_body(body, len, AP_JSON_OBJECT, &doc, NULL) == AP_OK) {
        ap_json_get_str(doc, "title", false, 0, &title, NULL);
        if (!title)
            ap_json_get_str(doc, "message", false, 0, &title, NULL);
        ap_json_get_str(doc, "traceId", false, 0, &trace, NULL);
        if (ap_json_get_obj(doc, "errors", false, &errors, NULL) == AP_OK && errors)
            error_fields(errors, e);
    }
    copy_field(e->title, sizeof(e->title), title && *title ? title : ap_titan_status_text(status));
    copy_field(e->trace_id, sizeof(e->trace_id), trace);
    json_decref(doc);
}

/* ---- timestamps ---------------------------------------------------------- */

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* ".fffffff" (0–7 digits) → ns; an empty fraction is fine. */
static bool fraction(const char **p, int64_t *ns)
{
    int64_t scale = 100000000;
    int n = 0;

    *ns = 0;
    if (**p != '.')
        return true;
    (*p)++;
    while (isdigit((unsigned char)**p)) {
        if (++n > 7)
            return false;
        *ns += (**p - '0') * scale;
        scale /= 10;
        (*p)++;
    }
    return n > 0;
}

/* "Z", "+HH:MM", "-HH:MM", "+HHMM" or nothing (UTC) → offset seconds east. */
static bool zone(const char **p, int *off)
{
    int sign, hh, mm;

    *off = 0;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return true;
    }
    if (**p != '+' && **p != '-')
        return **p == '\0';
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (!digits(p, 2, &hh))
        return false;
    if (**p == ':')
        (*p)++;
    if (!digits(p, 2, &mm) || hh > 23 || mm > 59)
        return false;
    *off = sign * (hh * 3600 + mm * 60);
    return true;
}

bool ap_titan_parse_time(const char *s, int64_t *ns)
{
    int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
    int64_t frac = 0, secs;
    const char *p = s;

    if (!s || !digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return false;
    if (y < 1678 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return false;
        if (*p == ':' && (p++, !digits(&p, 2, &se)))
            return false;
        if (h > 23 || mi > 59 || se > 59 || !fraction(&p, &frac) || !zone(&p, &off))
            return false;
    }
    if (*p != '\0')
        return false;
    secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    *ns = secs * 1000000000LL + frac;
    return true;
}

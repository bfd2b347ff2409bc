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

#include "core/datetime.h"
#include "core/mem.h"
#include "crypto/crypto.h"
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
    if (!(raw = ap_crypto_b64url_decode(p1 + 1, (size_t)(p2 - p1 - 1), &len)))
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

bool ap_titan_parse_time(const char *s, int64_t *ns)
{
    return ap_time_parse(s, ns);
}

enum ap_err ap_titan_read_body(const char *body, size_t len, int status, json_t **out,
                               struct ap_titan_error *e)
{
    struct ap_json_error je;
    enum ap_err err;

    *out = NULL;
    if (len == 0 || len == strspn(body, " \t\r\n"))
        return AP_OK;
    if ((err = ap_json_parse_body(body, len, AP_JSON_ANY, out, &je)) == AP_OK)
        return AP_OK;
    e->stage = AP_TITAN_STAGE_API;
    e->status = status;
    snprintf(e->title, sizeof(e->title), "ServiceTitan answered %d with unusable JSON: %s", status,
             je.message);
    return err == AP_ETOOBIG ? AP_ETOOBIG : AP_EPARSE;
}

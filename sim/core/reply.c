/*
 * reply.c — how an emulated endpoint answers: JSON bodies (as
 * "application/json; charset=utf-8", ASP.NET's spelling), empty 200s, and
 * ServiceTitan's ApiErrorResponse {type, title, status, traceId, errors,
 * data} for every error, with W3C-style trace ids (a 401 also carries
 * "WWW-Authenticate: Bearer"); and the path id reader that answers 404 for a
 * bad id, as ServiceTitan does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "crypto/crypto.h"
#include "sim/core/backbone.h"

void sim_trace_id(char out[64])
{
    uint8_t r[24];
    char hex[49];
    ap_crypto_random(r, sizeof(r));
    ap_crypto_hex(r, sizeof(r), hex);
    snprintf(out, 64, "00-%.32s-%.16s-00", hex, hex + 32);
}

static const char *problem_type(int status)
{
    switch (status) {
    case 400:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.1";
    case 401:
        return "https://tools.ietf.org/html/rfc7235#section-3.1";
    case 403:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.3";
    case 404:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.4";
    case 405:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.5";
    case 409:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.8";
    case 415:
        return "https://tools.ietf.org/html/rfc7231#section-6.5.13";
    case 422:
        return "https://tools.ietf.org/html/rfc4918#section-11.2";
    case 429:
        return "https://tools.ietf.org/html/rfc6585#section-4";
    case 503:
        return "https://tools.ietf.org/html/rfc7231#section-6.6.4";
    default:
        return status >= 500 ? "https://tools.ietf.org/html/rfc7231#section-6.6.1"
                             : "https://tools.ietf.org/html/rfc7231#section-6.5.1";
    }
}

json_t *sim_problem_body(int status, const char *title, json_t *errors)
{
    char trace[64];
    sim_trace_id(trace);
    return json_pack("{s:s, s:s, s:i, s:s, s:o, s:o}", "type", problem_type(status), "title",
                     title ? title : "", "status", status, "traceId", trace, "errors",
                     errors ? errors : json_object(), "data", json_object());
}

void sim_send_json(struct ap_http_req *req, int status, json_t *body)
{
    size_t len;
    char *text = sim_json_text(body, &len);

    ap_http_respond(req, status, SIM_JSON_TYPE, text, len);
    free(text);
    json_decref(body);
}

void sim_reply(struct sim_call *c, int status, json_t *body)
{
    if (c->status) {
        ap_log_error("sim.double_reply", "status=%d first=%d", status, c->status);
        json_decref(body);
        return;
    }
    c->status = status;
    if (status == 401 && !c->challenged) /* ASP.NET's JwtBearer names the scheme it wants */
        ap_http_add_header(c->req, "WWW-Authenticate", "Bearer");
    sim_send_json(c->req, status, body ? body : json_null());
}

void sim_reply_empty(struct sim_call *c, int status)
{
    if (c->status) {
        ap_log_error("sim.double_reply", "status=%d first=%d", status, c->status);
        return;
    }
    c->status = status;
    ap_http_respond(c->req, status, NULL, "", 0);
}

void sim_problem(struct sim_call *c, int status, const char *title, json_t *errors)
{
    sim_reply(c, status, sim_problem_body(status, title, errors));
}

void sim_problem_field(struct sim_call *c, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *errors = json_pack("{s:[s]}", field, msg);
    sim_problem(c, 400, "One or more validation errors occurred.", errors);
}

void sim_not_found(struct sim_call *c, const char *title)
{
    sim_problem(c, 404, title, NULL);
}

bool sim_id_parse(const char *s, int64_t *out)
{
    if (!s || !*s || strlen(s) > 19)
        return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

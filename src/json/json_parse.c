/*
 * json_parse.c — the reader of untrusted request bodies (ap_json_parse_body).
 *
 * A fast pre-scan runs before jansson: it refuses NUL bytes, invalid UTF-8
 * and nesting deeper than AP_JSON_MAX_DEPTH (jansson's own limit is 2048,
 * far too deep for a request body) and tells an empty body apart. It lexes
 * strings exactly as jansson does, so for every prefix jansson accepts the
 * depth counted here is the real one. jansson then parses with duplicate keys
 * refused. This file has a libFuzzer target: tests/fuzz/fuzz_json_body.c.
 */
#include <stdbool.h>
#include <string.h>

#include "json/json.h"
#include "json/json_int.h"

struct scan {
    int line, column; /* position of the current character, 1-based */
    int depth;
    bool in_string, escaped, nonempty;
};

static enum ap_err syntax_error(struct ap_json_error *e, int line, int column, const char *what)
{
    ap_json_error_set(e, "invalid_json", NULL, "malformed JSON at line %d, column %d: %s", line,
                      column, what);
    if (e) {
        e->line = line;
        e->column = column;
    }
    return AP_EPARSE;
}

/* Tracks strings and nesting for one ASCII byte c; false when too deep. */
static bool scan_ascii(struct scan *s, char c)
{
    if (s->in_string) {
        if (s->escaped)
            s->escaped = false;
        else if (c == '\\')
            s->escaped = true;
        else if (c == '"')
            s->in_string = false;
        return true;
    }
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        s->nonempty = true;
    if (c == '"') {
        s->in_string = true;
    } else if (c == '[' || c == '{') {
        if (++s->depth > AP_JSON_MAX_DEPTH)
            return false;
    } else if ((c == ']' || c == '}') && s->depth > 0) {
        s->depth--;
    }
    return true;
}

static enum ap_err prescan(const char *p, size_t n, struct scan *s, struct ap_json_error *e)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;

    *s = (struct scan){.line = 1};
    while (i < n) {
        size_t len = ap_json_utf8_len(u + i, n - i);
        s->column++;
        if (u[i] == 0)
            return syntax_error(e, s->line, s->column, "NUL byte in the body");
        if (len == 0)
            return syntax_error(e, s->line, s->column, "invalid UTF-8 byte sequence");
        if (len == 1 && !scan_ascii(s, (char)u[i]))
            return syntax_error(e, s->line, s->column,
                                "nested deeper than " AP_JSON_STR(AP_JSON_MAX_DEPTH) " levels");
        if (len > 1)
            s->nonempty = true;
        if (u[i] == '\n') {
            s->line++;
            s->column = 0;
        }
        i += len;
    }
    return AP_OK;
}

enum ap_err ap_json_parse_body(const char *p, size_t n, unsigned flags, json_t **out,
                               struct ap_json_error *e)
{
    struct scan s;
    json_error_t jerr;
    json_t *j;
    enum ap_err err;

    *out = NULL;
    if (n > AP_JSON_MAX_BODY) {
        ap_json_error_set(e, "body_too_large", NULL, "request body is larger than %d bytes",
                          AP_JSON_MAX_BODY);
        return AP_ETOOBIG;
    }
    err = prescan(p, n, &s, e);
    if (err)
        return err;
    if (!s.nonempty) {
        ap_json_error_set(e, "empty_body", NULL, "request body is empty; send a JSON object");
        return AP_EINVAL;
    }
    j = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!j) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            ap_json_oom();
        return syntax_error(e, jerr.line, jerr.column, jerr.text);
    }
    if ((flags & AP_JSON_OBJECT) && !json_is_object(j)) {
        ap_json_error_set(e, "not_an_object", NULL, "request body must be a JSON object, got %s",
                          ap_json_type_name(j));
        json_decref(j);
        return AP_EINVAL;
    }
    *out = j;
    return AP_OK;
}

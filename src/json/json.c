/*
 * json.c — error bodies, serialisation and shared helpers of the JSON
 * adapter (see json.h). The request-body reader lives in json_parse.c and the
 * path getters in json_get.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "json/json.h"
#include "json/json_int.h"

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
size_t ap_json_utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* overlong forms, UTF-16 surrogates and code points past U+10FFFF */
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/*
 * Copies s into out (size n >= 1): invalid UTF-8 bytes become '?', and a
 * character that does not fit whole is dropped, so out is valid UTF-8.
 */
void ap_json_copy_utf8(char *out, size_t n, const char *s)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)u), o = 0;

    while (left > 0) {
        size_t len = ap_json_utf8_len(u, left);
        size_t put = len ? len : 1;
        if (o + put >= n)
            break;
        if (len)
            memcpy(out + o, u, len);
        else
            out[o] = '?';
        o += put;
        u += put;
        left -= put;
    }
    out[o] = '\0';
}

static json_t *safe_string(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *copy = ap_xmalloc(n);
    json_t *j;

    ap_json_copy_utf8(copy, n, s);
    j = json_string(copy);
    free(copy);
    if (!j)
        ap_json_oom();
    return j;
}

void ap_json_oom(void)
{
    fputs("appointd: out of memory in the JSON adapter\n", stderr);
    abort();
}

char *ap_json_error_body(const char *code, const char *message, const char *field)
{
    json_t *root = json_object(), *err = json_object();
    char *out;

    if (!root || !err)
        ap_json_oom();
    json_object_set_new(err, "code", safe_string(code));
    json_object_set_new(err, "message", safe_string(message));
    if (field && field[0])
        json_object_set_new(err, "field", safe_string(field));
    json_object_set_new(root, "error", err);
    out = ap_json_dumps(root);
    json_decref(root);
    return out;
}

char *ap_json_error_body_of(const struct ap_json_error *e)
{
    return ap_json_error_body(e->code, e->message, e->field);
}

void ap_json_error_set(struct ap_json_error *e, const char *code, const char *field,
                       const char *fmt, ...)
{
    char msg[320]; /* room to cut to sizeof(e->message) on a character boundary */
    va_list ap;

    if (!e)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ap_json_copy_utf8(e->code, sizeof(e->code), code);
    ap_json_copy_utf8(e->field, sizeof(e->field), field);
    ap_json_copy_utf8(e->message, sizeof(e->message), msg);
    e->line = 0;
    e->column = 0;
}

char *ap_json_dumps(const json_t *j)
{
    char *s;

    if (!j)
        return NULL;
    s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        ap_json_oom();
    return s;
}

enum ap_err ap_json_put_string(struct ap_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    enum ap_err err;
    const char *run;

    if (!s)
        return ap_buf_puts(b, "null");
    if ((err = ap_buf_puts(b, "\"")))
        return err;
    for (run = s; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[7] = {'\\', (char)c, 0};

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (c < 0x20) {
            esc[1] = 'u';
            memcpy(esc + 2, "00", 2);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            esc[6] = 0;
        }
        if ((err = ap_buf_append(b, run, (size_t)(s - run))) || (err = ap_buf_puts(b, esc)))
            return err;
        run = s + 1;
    }
    if ((err = ap_buf_append(b, run, (size_t)(s - run))))
        return err;
    return ap_buf_puts(b, "\"");
}

const char *ap_json_type_name(const json_t *j)
{
    if (!j)
        return "nothing";
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "an unknown value";
}

/*
 * json_text.c — the JSON text stsim sends. It is the same compact text the
 * json adapter writes (keys in insertion order, UTF-8 as it is), except for
 * numbers with a fraction: those are written in their shortest round-trip
 * form, as .NET writes a double ("32.7191", not "32.719100000000005"), with
 * ".0" added when nothing marks them as non-integral ("5.0").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/backbone.h"

#define TEXT_MAX ((size_t)512 << 20) /* the largest answer stsim builds */

void sim_json_real(double d, char out[32])
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    if (strpbrk(out, ".eEn") == NULL) { /* "n": inf/nan never reach json_t, but be safe */
        size_t len = strlen(out);
        snprintf(out + len, 32 - len, ".0");
    }
}

/* The JSON escape of a character that cannot go out as itself. */
static void escape_of(unsigned char ch, char out[8])
{
    switch (ch) {
    case '"':
    case '\\':
        snprintf(out, 8, "\\%c", ch);
        break;
    case '\n':
        snprintf(out, 8, "\\n");
        break;
    case '\r':
        snprintf(out, 8, "\\r");
        break;
    case '\t':
        snprintf(out, 8, "\\t");
        break;
    case '\b':
        snprintf(out, 8, "\\b");
        break;
    case '\f':
        snprintf(out, 8, "\\f");
        break;
    default:
        snprintf(out, 8, "\\u%04x", ch);
    }
}

static void put_string(struct ap_buf *b, const char *s, size_t n)
{
    size_t run = 0;

    ap_buf_puts(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];

        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        ap_buf_append(b, s + run, i - run);
        run = i + 1;
        escape_of(ch, esc);
        ap_buf_puts(b, esc);
    }
    ap_buf_append(b, s + run, n - run);
    ap_buf_puts(b, "\"");
}

static void put_value(struct ap_buf *b, const json_t *v)
{
    const char *key;
    json_t *item;
    size_t i;
    char num[32];

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        ap_buf_puts(b, "{");
        i = 0;
        json_object_foreach ((json_t *)v, key, item) {
            if (i++ > 0)
                ap_buf_puts(b, ",");
            put_string(b, key, strlen(key));
            ap_buf_puts(b, ":");
            put_value(b, item);
        }
        ap_buf_puts(b, "}");
        break;
    case JSON_ARRAY:
        ap_buf_puts(b, "[");
        json_array_foreach (v, i, item) {
            if (i > 0)
                ap_buf_puts(b, ",");
            put_value(b, item);
        }
        ap_buf_puts(b, "]");
        break;
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        ap_buf_printf(b, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        sim_json_real(json_real_value(v), num);
        ap_buf_puts(b, num);
        break;
    case JSON_TRUE:
        ap_buf_puts(b, "true");
        break;
    case JSON_FALSE:
        ap_buf_puts(b, "false");
        break;
    default:
        ap_buf_puts(b, "null");
    }
}

char *sim_json_text(const json_t *j, size_t *len)
{
    struct ap_buf b;
    char *out;

    ap_buf_init(&b, TEXT_MAX);
    put_value(&b, j != NULL ? j : json_null());
    *len = b.len;
    out = ap_buf_take(&b);
    return out != NULL ? out : ap_xstrdup("");
}

/*
 * json_get.c — typed getters addressed by a path ("items[2].name") and the
 * unknown-field check (see json.h). Each error names the path of the bad
 * value and says what was expected and what came, so a handler can return
 * it to the client unchanged.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "json/json_int.h"

static const char *label(const char *path)
{
    return path[0] ? path : "body";
}

static enum ap_err type_error(struct ap_json_error *e, const char *path, const char *expected,
                              const char *got)
{
    ap_json_error_set(e, "invalid_field", path, "%s: expected %s, got %s", label(path), expected,
                      got);
    return AP_EINVAL;
}

static enum ap_err bad_path(struct ap_json_error *e, const char *path)
{
    ap_json_error_set(e, "internal", NULL, "invalid JSON path in the code: %.100s", path);
    return AP_EINTERNAL;
}

/* One step into cur: object key seg[0..len) or, when index >= 0, an array index. */
static enum ap_err step(json_t **cur, const char *path, size_t plen, const char *seg, size_t len,
                        long index, struct ap_json_error *e)
{
    char prefix[AP_JSON_MAX_PATH + 1], key[AP_JSON_MAX_PATH + 1];

    memcpy(prefix, path, plen);
    prefix[plen] = '\0';
    if (index >= 0) {
        if (!json_is_array(*cur))
            return type_error(e, prefix, "an array", ap_json_type_name(*cur));
        *cur = json_array_get(*cur, (size_t)index);
        return AP_OK;
    }
    if (!json_is_object(*cur))
        return type_error(e, prefix, "an object", ap_json_type_name(*cur));
    memcpy(key, seg, len);
    key[len] = '\0';
    *cur = json_object_get(*cur, key);
    return AP_OK;
}

/* Parses "[digits]" at path+i; returns the index and moves *i past it, or -1. */
static long parse_index(const char *path, size_t *i)
{
    size_t j = *i + 1;
    long v = 0;

    if (path[j] < '0' || path[j] > '9')
        return -1;
    for (; path[j] >= '0' && path[j] <= '9'; j++) {
        if (j - *i > 9)
            return -1;
        v = v * 10 + (path[j] - '0');
    }
    if (path[j] != ']')
        return -1;
    *i = j + 1;
    return v;
}

/*
 * Walks path from root. AP_OK with *out the value, or NULL when a key or an
 * index along the way is absent or a value on the way is null.
 */
static enum ap_err resolve(json_t *root, const char *path, json_t **out, struct ap_json_error *e)
{
    size_t i = 0, n = strlen(path);
    json_t *cur = root;
    enum ap_err err;

    *out = NULL;
    if (n > AP_JSON_MAX_PATH)
        return bad_path(e, path);
    /* the whole path is parsed even after a value is found absent, so a
     * malformed path is caught on every call */
    while (i < n) {
        size_t start = i, plen = i;
        long index = -1;
        if (path[i] == '[') {
            index = parse_index(path, &i);
            if (index < 0)
                return bad_path(e, path);
        } else {
            if (i > 0 && path[i] != '.')
                return bad_path(e, path);
            if (i > 0)
                start = ++i; /* the prefix (plen) stops before the '.' */
            while (i < n && path[i] != '.' && path[i] != '[')
                i++;
            if (i == start)
                return bad_path(e, path);
        }
        if (json_is_null(cur))
            cur = NULL;
        if (!cur)
            continue;
        err = step(&cur, path, plen, path + start, i - start, index, e);
        if (err)
            return err;
    }
    *out = json_is_null(cur) ? NULL : cur;
    return AP_OK;
}

/* resolve() plus the required check; *v is NULL when absent and optional. */
static enum ap_err lookup(json_t *obj, const char *path, bool required, json_t **v,
                          struct ap_json_error *e)
{
    enum ap_err err = resolve(obj, path, v, e);

    if (err)
        return err;
    if (!*v && required) {
        ap_json_error_set(e, "missing_field", path, "%s: is required", label(path));
        return AP_EINVAL;
    }
    return AP_OK;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t count = 0;

    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xc0) != 0x80;
    return count;
}

enum ap_err ap_json_get_str(json_t *obj, const char *path, bool required, size_t maxlen,
                            const char **out, struct ap_json_error *e)
{
    char expected[64], got[64];
    json_t *v;
    size_t chars;
    enum ap_err err = lookup(obj, path, required, &v, e);

    if (err || !v)
        return err;
    snprintf(expected, sizeof(expected), maxlen ? "a string of at most %zu characters" : "a string",
             maxlen);
    if (!json_is_string(v))
        return type_error(e, path, expected, ap_json_type_name(v));
    chars = utf8_chars(json_string_value(v), json_string_length(v));
    if (maxlen && chars > maxlen) {
        snprintf(got, sizeof(got), "%zu characters", chars);
        return type_error(e, path, expected, got);
    }
    *out = json_string_value(v);
    return AP_OK;
}

static void int_expected(char *buf, size_t n, long long min, long long max)
{
    if (min == LLONG_MIN && max == LLONG_MAX)
        snprintf(buf, n, "an integer");
    else if (max == LLONG_MAX)
        snprintf(buf, n, "an integer of at least %lld", min);
    else if (min == LLONG_MIN)
        snprintf(buf, n, "an integer of at most %lld", max);
    else
        snprintf(buf, n, "an integer from %lld to %lld", min, max);
}

enum ap_err ap_json_get_int(json_t *obj, const char *path, bool required, long long min,
                            long long max, long long *out, struct ap_json_error *e)
{
    char expected[96], got[64];
    json_t *v;
    long long x;
    enum ap_err err = lookup(obj, path, required, &v, e);

    if (err || !v)
        return err;
    int_expected(expected, sizeof(expected), min, max);
    if (json_is_real(v)) {
        snprintf(got, sizeof(got), "%.17g", json_real_value(v));
        return type_error(e, path, expected, got);
    }
    if (!json_is_integer(v))
        return type_error(e, path, expected, ap_json_type_name(v));
    x = json_integer_value(v);
    if (x < min || x > max) {
        snprintf(got, sizeof(got), "%lld", x);
        return type_error(e, path, expected, got);
    }
    *out = x;
    return AP_OK;
}

enum ap_err ap_json_get_bool(json_t *obj, const char *path, bool required, bool *out,
                             struct ap_json_error *e)
{
    json_t *v;
    enum ap_err err = lookup(obj, path, required, &v, e);

    if (err || !v)
        return err;
    if (!json_is_boolean(v))
        return type_error(e, path, "true or false", ap_json_type_name(v));
    *out = json_is_true(v);
    return AP_OK;
}

enum ap_err ap_json_get_obj(json_t *obj, const char *path, bool required, json_t **out,
                            struct ap_json_error *e)
{
    json_t *v;
    enum ap_err err = lookup(obj, path, required, &v, e);

    if (err || !v)
        return err;
    if (!json_is_object(v))
        return type_error(e, path, "an object", ap_json_type_name(v));
    *out = v;
    return AP_OK;
}

enum ap_err ap_json_get_arr(json_t *obj, const char *path, bool required, size_t max_items,
                            json_t **out, struct ap_json_error *e)
{
    char expected[64], got[64];
    json_t *v;
    enum ap_err err = lookup(obj, path, required, &v, e);

    if (err || !v)
        return err;
    snprintf(expected, sizeof(expected), max_items ? "an array of at most %zu items" : "an array",
             max_items);
    if (!json_is_array(v))
        return type_error(e, path, expected, ap_json_type_name(v));
    if (max_items && json_array_size(v) > max_items) {
        snprintf(got, sizeof(got), "%zu items", json_array_size(v));
        return type_error(e, path, expected, got);
    }
    *out = v;
    return AP_OK;
}

static bool allowed_key(const char *key, const char *const allowed[])
{
    for (size_t i = 0; allowed[i]; i++) {
        if (strcmp(key, allowed[i]) == 0)
            return true;
    }
    return false;
}

enum ap_err ap_json_reject_unknown(json_t *obj, const char *const allowed[], const char *prefix,
                                   struct ap_json_error *e)
{
    char field[sizeof(e->field)];
    const char *key;
    json_t *v;

    if (!prefix)
        prefix = "";
    if (!json_is_object(obj))
        return type_error(e, prefix, "an object", ap_json_type_name(obj));
    json_object_foreach (obj, key, v) {
        if (allowed_key(key, allowed))
            continue;
        snprintf(field, sizeof(field), "%s%s%s", prefix, prefix[0] ? "." : "", key);
        ap_json_error_set(e, "unknown_field", field, "%s: unknown field", field);
        return AP_EINVAL;
    }
    return AP_OK;
}

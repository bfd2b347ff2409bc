/*
 * json.h — the JSON adapter: the one place that includes <jansson.h>.
 *
 * This header re-exports jansson on purpose, so that other modules can hold,
 * build and walk json_t values (json_object(), json_pack(), json_decref() …)
 * through our header; they never include <jansson.h> themselves. What this
 * module adds on top of jansson:
 *
 *   - ap_json_error_body(): the one shape of every error a client sees,
 *     {"error":{"code":…,"message":…,"field":…}};
 *   - ap_json_parse_body(): the reader of untrusted request bodies, with
 *     limits (size, nesting depth, NUL bytes, UTF-8, duplicate keys) and
 *     messages a user can act on ("malformed JSON at line 1, column 7: …");
 *   - typed getters addressed by a path ("customer.address.zip",
 *     "items[2].name") whose errors name that path and say what was expected;
 *   - ap_json_reject_unknown() for strict objects; ap_json_dumps().
 *
 * Error reports go into a caller-provided struct ap_json_error (no
 * allocation). Its strings are always NUL-terminated, valid UTF-8 and
 * truncated to fit.
 */
#ifndef AP_JSON_JSON_H
#define AP_JSON_JSON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/err.h"

/* A request body larger than this is refused (AP_ETOOBIG). */
#define AP_JSON_MAX_BODY (1024 * 1024)
/* Deepest nesting of arrays/objects accepted; {"a":1} has depth 1. */
#define AP_JSON_MAX_DEPTH 32
/* Longest path the getters accept (it must fit in ap_json_error.field). */
#define AP_JSON_MAX_PATH 127

/*
 * What went wrong, ready for ap_json_error_body(): code is a stable
 * snake_case word ("invalid_json", "empty_body", "body_too_large",
 * "not_an_object", "missing_field", "invalid_field", "unknown_field"),
 * message is a sentence for a human, field the JSON path of the bad value
 * ("" when the error is about the whole body). line and column (1-based, the
 * column counted in characters) locate a syntax error; 0 otherwise.
 */
struct ap_json_error {
    char code[32];
    char message[160];
    char field[128];
    int line, column;
};

/*
 * Returns a malloc'd compact {"error":{"code":…,"message":…,"field":…}}
 * (caller frees with free()). field is omitted when NULL or "". NULL code or
 * message count as "". Bytes that are not valid UTF-8 are replaced by '?'
 * so the result is always valid JSON. Never returns NULL.
 */
char *ap_json_error_body(const char *code, const char *message, const char *field);

/* ap_json_error_body() of a filled struct ap_json_error. Never NULL. */
char *ap_json_error_body_of(const struct ap_json_error *e);

/*
 * Fills e (which may be NULL: then nothing happens) with code, field (NULL:
 * "") and a printf-formatted message; line/column are set to 0. For handlers
 * that report their own validation errors in the same shape.
 */
void ap_json_error_set(struct ap_json_error *e, const char *code, const char *field,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Flags of ap_json_parse_body(). */
enum {
    AP_JSON_ANY = 0,         /* any JSON value at the top level */
    AP_JSON_OBJECT = 1 << 0, /* the top level must be an object */
};

/*
 * Parses an untrusted request body p[0..n) (need not be NUL-terminated).
 * Refuses, with e filled and *out left NULL:
 *   - n > AP_JSON_MAX_BODY                          → AP_ETOOBIG "body_too_large"
 *   - nothing but whitespace                        → AP_EINVAL  "empty_body"
 *   - a NUL byte, invalid UTF-8 (overlong forms, surrogates, > U+10FFFF),
 *     nesting deeper than AP_JSON_MAX_DEPTH, duplicate object keys, any
 *     syntax error or trailing garbage              → AP_EPARSE  "invalid_json"
 *     with line/column and "malformed JSON at line L, column C: …";
 *   - with AP_JSON_OBJECT, a top level that is not an object
 *                                                   → AP_EINVAL  "not_an_object"
 * "\u0000" inside strings is refused too, so every string of the result is a
 * safe C string. On AP_OK *out is a new reference (caller json_decref()s).
 * e may be NULL.
 */
enum ap_err ap_json_parse_body(const char *p, size_t n, unsigned flags, json_t **out,
                               struct ap_json_error *e);

/*
 * Typed getters. path is a sequence of object keys separated by '.' and array
 * indexes in brackets: "customer.address.zip", "items[2].name", "[0]" (keys
 * containing '.' or '[' cannot be addressed; at most AP_JSON_MAX_PATH bytes).
 *
 * When the value is absent (a key or index along the path is missing) or
 * JSON null:
 *   - required: AP_EINVAL, code "missing_field", "<path>: is required";
 *   - optional: AP_OK and *out is left untouched, so set the default first.
 * When it has the wrong type or is out of bounds: AP_EINVAL, code
 * "invalid_field", field = path, message "<path>: expected <what>, got <what
 * came>". A non-object/non-array met midway is reported at its own path
 * ("customer.address: expected an object, got a string").
 *
 * A malformed path (empty segment, bad index, too long) is a bug of the
 * caller: AP_EINTERNAL, code "internal". obj NULL counts as absent.
 *
 * Returned pointers borrow from obj: valid while obj lives, not to be freed.
 * e may be NULL.
 */
/* A string of at most maxlen characters (code points); maxlen 0: no limit. */
enum ap_err ap_json_get_str(json_t *obj, const char *path, bool required, size_t maxlen,
                            const char **out, struct ap_json_error *e);
/* An integer (no fraction, no exponent) within [min, max]. */
enum ap_err ap_json_get_int(json_t *obj, const char *path, bool required, long long min,
                            long long max, long long *out, struct ap_json_error *e);
/* true or false. */
enum ap_err ap_json_get_bool(json_t *obj, const char *path, bool required, bool *out,
                             struct ap_json_error *e);
/* An object (borrowed). */
enum ap_err ap_json_get_obj(json_t *obj, const char *path, bool required, json_t **out,
                            struct ap_json_error *e);
/* An array (borrowed) of at most max_items elements; 0: no limit. */
enum ap_err ap_json_get_arr(json_t *obj, const char *path, bool required, size_t max_items,
                            json_t **out, struct ap_json_error *e);

/*
 * AP_OK when every key of obj is in allowed[] (NULL-terminated). Otherwise
 * AP_EINVAL with code "unknown_field", field "<prefix>.<key>" (just "<key>"
 * when prefix is NULL or "") and message "<field>: unknown field"; the first
 * unknown key in document order is reported. obj not an object: AP_EINVAL
 * "invalid_field".
 */
enum ap_err ap_json_reject_unknown(json_t *obj, const char *const allowed[], const char *prefix,
                                   struct ap_json_error *e);

/*
 * Compact serialisation (no spaces, keys in insertion order, any top-level
 * value). Returns malloc'd text (caller frees with free()); NULL only when
 * j is NULL.
 */
char *ap_json_dumps(const json_t *j);

/*
 * Appends s as a JSON string (quoted; '"', '\\' and control bytes escaped)
 * to b, for answers built as text on a hot path. s must be UTF-8 (checked
 * elsewhere); NULL is written as null. An error of b (its maximum) is
 * returned.
 */
struct ap_buf;
enum ap_err ap_json_put_string(struct ap_buf *b, const char *s);

/* "an object", "an array", "a string", "a number", "a boolean", "null"
 * (static; "nothing" for NULL). For messages that name what came. */
const char *ap_json_type_name(const json_t *j);

#endif

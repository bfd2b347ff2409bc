/*
 * fuzz_json_body.c — libFuzzer target of ap_json_parse_body(), the reader of
 * untrusted request bodies (src/json/json_parse.c).
 *
 * Beyond "does not crash" it checks what callers rely on:
 *   - a refused body leaves *out NULL and fills a code and a message from
 *     which ap_json_error_body_of() makes valid JSON;
 *   - an accepted value is at most AP_JSON_MAX_DEPTH deep, its compact dump
 *     parses again and dumps to the same text (a fixed point);
 *   - AP_JSON_OBJECT accepts exactly the bodies whose value is an object;
 *   - every addressable value can be read back through the path getters,
 *     and a getter of the wrong type reports that very path.
 * Built as a real fuzzer with -Dfuzz=true (clang) and, in every build, as a
 * replay runner over the committed corpus (replay_main.c).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Visits at most this many values per input, to keep each run fast. */
#define WALK_BUDGET 2000

static int depth_of(json_t *j)
{
    int max = 0, d;
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_object(j)) {
        json_object_foreach (j, key, v) {
            d = depth_of(v);
            max = d > max ? d : max;
        }
        return max + 1;
    }
    if (json_is_array(j)) {
        json_array_foreach (j, i, v) {
            d = depth_of(v);
            max = d > max ? d : max;
        }
        return max + 1;
    }
    return 0;
}

/* The getter result for value v at path must be v itself. */
static void check_leaf(json_t *root, const char *path, json_t *v)
{
    struct ap_json_error e;
    const char *s = NULL;
    long long n = 0;
    bool b = false;
    json_t *got = NULL;

    if (json_is_string(v)) {
        CHECK(ap_json_get_str(root, path, true, 0, &s, &e) == AP_OK && s == json_string_value(v));
        CHECK(ap_json_get_bool(root, path, true, &b, &e) == AP_EINVAL);
        CHECK(strcmp(e.field, path) == 0 && strcmp(e.code, "invalid_field") == 0);
    } else if (json_is_integer(v)) {
        CHECK(ap_json_get_int(root, path, true, LLONG_MIN, LLONG_MAX, &n, &e) == AP_OK);
        CHECK(n == json_integer_value(v));
        CHECK(ap_json_get_str(root, path, true, 0, &s, &e) == AP_EINVAL);
        CHECK(strcmp(e.field, path) == 0);
    } else if (json_is_boolean(v)) {
        CHECK(ap_json_get_bool(root, path, true, &b, &e) == AP_OK && b == json_is_true(v));
    } else if (json_is_object(v)) {
        CHECK(ap_json_get_obj(root, path, true, &got, &e) == AP_OK && got == v);
    } else if (json_is_array(v)) {
        CHECK(ap_json_get_arr(root, path, true, 0, &got, &e) == AP_OK && got == v);
    } else if (json_is_null(v)) {
        CHECK(ap_json_get_obj(root, path, true, &got, &e) == AP_EINVAL);
        CHECK(strcmp(e.code, "missing_field") == 0);
    }
}

static bool addressable(const char *key)
{
    return key[0] && !strpbrk(key, ".[");
}

static void walk(json_t *root, json_t *v, char *path, size_t len, int *budget)
{
    const char *key;
    json_t *child;
    size_t i;
    int n;

    if (--*budget < 0)
        return;
    check_leaf(root, path, v);
    if (json_is_object(v)) {
        json_object_foreach (v, key, child) {
            if (!addressable(key))
                continue;
            n = snprintf(path + len, AP_JSON_MAX_PATH + 1 - len, "%s%s", len ? "." : "", key);
            if (n > 0 && len + (size_t)n <= AP_JSON_MAX_PATH)
                walk(root, child, path, len + (size_t)n, budget);
            path[len] = '\0';
        }
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, child) {
            n = snprintf(path + len, AP_JSON_MAX_PATH + 1 - len, "[%zu]", i);
            if (n > 0 && len + (size_t)n <= AP_JSON_MAX_PATH)
                walk(root, child, path, len + (size_t)n, budget);
            path[len] = '\0';
        }
    }
}

static void check_refused(enum ap_err err, json_t *j, const struct ap_json_error *e)
{
    char *body;
    json_t *back;

    CHECK(j == NULL);
    CHECK(err == AP_EPARSE || err == AP_EINVAL || err == AP_ETOOBIG);
    CHECK(e->code[0] && e->message[0]);
    body = ap_json_error_body_of(e);
    back = json_loads(body, 0, NULL);
    CHECK(back != NULL);
    json_decref(back);
    free(body);
}

static void check_roundtrip(json_t *j)
{
    struct ap_json_error e;
    char *once = ap_json_dumps(j), *twice;
    json_t *again = NULL;

    CHECK(once != NULL);
    if (strlen(once) <= AP_JSON_MAX_BODY) {
        CHECK(ap_json_parse_body(once, strlen(once), AP_JSON_ANY, &again, &e) == AP_OK);
        CHECK(json_equal(j, again));
        twice = ap_json_dumps(again);
        CHECK(strcmp(once, twice) == 0);
        free(twice);
        json_decref(again);
    }
    free(once);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ap_json_error e;
    json_t *j = NULL, *obj = NULL;
    enum ap_err err = ap_json_parse_body((const char *)data, size, AP_JSON_ANY, &j, &e);
    enum ap_err err_obj = ap_json_parse_body((const char *)data, size, AP_JSON_OBJECT, &obj, &e);
    char path[AP_JSON_MAX_PATH + 1] = "";
    int budget = WALK_BUDGET;

    if (err) {
        check_refused(err, j, &e);
        CHECK(err_obj == err);
        return 0;
    }
    CHECK(err_obj == (json_is_object(j) ? AP_OK : AP_EINVAL));
    if (err_obj)
        check_refused(err_obj, obj, &e);
    json_decref(obj);
    CHECK(depth_of(j) <= AP_JSON_MAX_DEPTH);
    check_roundtrip(j);
    walk(j, j, path, 0, &budget);
    json_decref(j);
    return 0;
}

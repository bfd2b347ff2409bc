/*
 * check.c — validation of request bodies against a field table, with
 * ASP.NET-style messages collected into an errors map ({field: [message]})
 * for ServiceTitan's ApiErrorResponse.
 *
 * Binding follows what ServiceTitan's ASP.NET Core back end (Json.NET)
 * accepts, not the letter of the specs (docs/stsim.md, Assumptions):
 *   - property names match case-insensitively ("Name" binds to name); the
 *     body is rewritten to the spec's spelling so handlers find it;
 *   - scalars are converted: "true"/"false" (any case) to booleans, numeric
 *     strings to numbers, numbers to strings; the body is rewritten in place;
 *   - unknown properties are ignored (and removed from the body). While the
 *     gate collects them (sim_check_collect), their paths are noted for the
 *     request log, so an integrator sees what stsim dropped.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/core/backbone.h"

#define SIM_CHECK_TITLE "One or more validation errors occurred."
#define NUM_TEXT_MAX    64

/* Where the gate wants the paths of ignored fields (under s->lock), or NULL. */
static json_t *ignored_sink;

void sim_check_collect(json_t *sink)
{
    ignored_sink = sink;
}

/* Appends msg to errors[key]. */
static void add_error(json_t *errors, const char *key, const char *msg)
{
    json_t *list = json_object_get(errors, key);

    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(errors, key, list);
    }
    json_array_append_new(list, json_string(msg));
}

static const char *type_message(enum sim_ftype t)
{
    switch (t) {
    case SIM_F_STR:
        return "Expected a string.";
    case SIM_F_INT:
        return "Expected an integer.";
    case SIM_F_NUM:
        return "Expected a number.";
    case SIM_F_BOOL:
        return "Expected a boolean.";
    case SIM_F_TIME:
        return "Expected a date-time string.";
    case SIM_F_OBJ:
        return "Expected an object.";
    case SIM_F_ARR:
        return "Expected an array.";
    case SIM_F_ANY:
        break;
    }
    return "Invalid value.";
}

/* ---- scalar conversion ------------------------------------------------------- */

/* A JSON number for the text s (integer when want_int), or NULL when s is not one. */
static json_t *number_of(const char *s, bool want_int)
{
    char *end;

    if (*s == '\0' || strlen(s) > NUM_TEXT_MAX || strchr(" \t\n\r", *s))
        return NULL;
    errno = 0;
    if (want_int) {
        long long v = strtoll(s, &end, 10);
        return errno == 0 && *end == '\0' ? json_integer(v) : NULL;
    }
    double d = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(d) || strpbrk(s, "xXnNiI") != NULL)
        return NULL;
    return json_real(d);
}

/* The value t wants in place of v, as Json.NET would convert it; NULL when none. */
static json_t *converted(const json_t *v, enum sim_ftype t)
{
    char buf[NUM_TEXT_MAX];

    if (json_is_string(v) && t == SIM_F_BOOL) {
        const char *s = json_string_value(v);
        if (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0)
            return json_boolean(strcasecmp(s, "true") == 0);
    }
    if (json_is_string(v) && (t == SIM_F_INT || t == SIM_F_NUM))
        return number_of(json_string_value(v), t == SIM_F_INT);
    if (json_is_real(v) && t == SIM_F_INT) {
        double d = json_real_value(v);
        if (d == floor(d) && fabs(d) < 9.0e15)
            return json_integer((json_int_t)d);
    }
    if (json_is_integer(v) && t == SIM_F_STR) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return json_string(buf);
    }
    if (json_is_real(v) && t == SIM_F_STR) {
        sim_json_real(json_real_value(v), buf);
        return json_string(buf);
    }
    return NULL;
}

/* NULL when v (not null) fits t, else the message. */
static const char *check_type(const json_t *v, enum sim_ftype t)
{
    int64_t ns;
    bool ok = false;

    switch (t) {
    case SIM_F_STR:
        ok = json_is_string(v);
        break;
    case SIM_F_INT:
        ok = json_is_integer(v);
        break;
    case SIM_F_NUM:
        ok = json_is_number(v);
        break;
    case SIM_F_BOOL:
        ok = json_is_boolean(v);
        break;
    case SIM_F_TIME:
        if (!json_is_string(v))
            break;
        if (!ap_time_parse(json_string_value(v), &ns))
            return "The value is not a valid date-time.";
        ok = true;
        break;
    case SIM_F_OBJ:
        ok = json_is_object(v);
        break;
    case SIM_F_ARR:
        ok = json_is_array(v);
        break;
    case SIM_F_ANY:
        ok = true;
        break;
    }
    return ok ? NULL : type_message(t);
}

/* ---- names ------------------------------------------------------------------------ */

static const struct sim_field *find_field(const struct sim_field *fields, size_t n,
                                          const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(fields[i].name, name) == 0)
            return &fields[i];
    }
    return NULL;
}

/*
 * Renames keys to the spec's spelling and drops unknown ones (noting their
 * paths). Keys are collected first: obj cannot change while it is walked.
 */
static void bind_names(json_t *obj, const char *prefix, const struct sim_field *fields, size_t n)
{
    const char *name;
    json_t *v, *keys = json_array();
    size_t i;
    char key[256];

    json_object_foreach (obj, name, v) {
        const struct sim_field *f = find_field(fields, n, name);
        if (f == NULL || strcmp(f->name, name) != 0)
            json_array_append_new(keys, json_string(name));
    }
    json_array_foreach (keys, i, v) {
        const char *k = json_string_value(v);
        const struct sim_field *f = find_field(fields, n, k);
        json_t *val = json_incref(json_object_get(obj, k));

        json_object_del(obj, k);
        if (f != NULL && json_object_get(obj, f->name) == NULL)
            json_object_set(obj, f->name, val); /* the first spelling wins */
        else if (f == NULL && ignored_sink != NULL) {
            snprintf(key, sizeof(key), "%s%s", prefix, k);
            json_array_append_new(ignored_sink, json_string(key));
        }
        json_decref(val);
    }
    json_decref(keys);
}

bool sim_check(const json_t *cobj, const char *prefix, const struct sim_field *fields, size_t n,
               json_t *errors)
{
    json_t *obj = (json_t *)cobj; /* the body is the gate's copy: binding rewrites it */
    char key[256];
    const char *msg;
    json_t *v, *conv;
    bool ok = true;

    if (prefix == NULL)
        prefix = "";
    if (!json_is_object(obj)) {
        size_t len = strlen(prefix);

        if (len > 0 && prefix[len - 1] == '.')
            len--;
        snprintf(key, sizeof(key), "%.*s", (int)len, len > 0 ? prefix : "$");
        add_error(errors, key, "Expected an object.");
        return false;
    }
    bind_names(obj, prefix, fields, n);
    for (size_t i = 0; i < n; i++) {
        v = json_object_get(obj, fields[i].name);
        if (v != NULL && (conv = converted(v, fields[i].type)) != NULL)
            json_object_set_new(obj, fields[i].name, v = conv);
        msg = NULL;
        if (v == NULL || (json_is_null(v) && (fields[i].nullable || fields[i].required)))
            msg = fields[i].required ? "The field is required." : NULL;
        else
            msg = check_type(v, fields[i].type);
        if (msg == NULL)
            continue;
        snprintf(key, sizeof(key), "%s%s", prefix, fields[i].name);
        add_error(errors, key, msg);
        ok = false;
    }
    return ok;
}

bool sim_check_body(struct sim_call *c, const struct sim_field *fields, size_t n)
{
    json_t *errors = json_object();
    json_t *empty = NULL;
    const json_t *body = c->body;

    if (body == NULL)
        body = empty = json_object();
    bool ok = sim_check(body, "", fields, n, errors);
    json_decref(empty);
    if (ok) {
        json_decref(errors);
        return true;
    }
    sim_problem(c, 400, SIM_CHECK_TITLE, errors);
    return false;
}

/*
 * check.c — validation of request bodies against a field table, with
 * ASP.NET-style messages collected into an errors map ({field: [message]})
 * for ServiceTitan's ApiErrorResponse.
 */
#include <stdio.h>
#include <string.h>

#include "sim/core/api.h"

#define SIM_CHECK_TITLE "One or more validation errors occurred."

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

static const struct sim_field *find_field(const struct sim_field *fields, size_t n,
                                          const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    }
    return NULL;
}

bool sim_check(const json_t *obj, const char *prefix, const struct sim_field *fields, size_t n,
               json_t *errors)
{
    char key[256];
    const char *name, *msg;
    json_t *v;
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
    json_object_foreach ((json_t *)obj, name, v) {
        if (find_field(fields, n, name) != NULL)
            continue;
        snprintf(key, sizeof(key), "%s%s", prefix, name);
        add_error(errors, key, "Unknown field.");
        ok = false;
    }
    for (size_t i = 0; i < n; i++) {
        v = json_object_get(obj, fields[i].name);
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

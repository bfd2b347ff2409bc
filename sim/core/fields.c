/*
 * fields.c — custom fields, which customers, locations and jobs carry alike:
 * [{typeId, value}] in requests, [{typeId, name, value}] in answers, each
 * typeId one of the tenant's custom field types for that record
 * (SIM_CUSTOM_FIELD_TYPE rows whose hidden "_for" is "customer", "location"
 * or "job": {name, dataType Text | Dropdown | Numeric, dataTypeOptions}).
 * A Dropdown value must be one of its options and a Numeric one a number
 * (assumption: ServiceTitan's office screens enforce both).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/api.h"

#define FIELD_VALUE_MAX 4000
#define MAX_FIELDS      100

static void add_error(json_t *errors, const char *key, const char *msg)
{
    json_t *list = json_object_get(errors, key);

    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(errors, key, list);
    }
    json_array_append_new(list, json_string(msg));
}

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v != NULL ? v : "";
}

json_t *sim_custom_field_type(struct sim_tenant *t, const char *whose, int64_t id)
{
    json_t *row = sim_get(t, SIM_CUSTOM_FIELD_TYPE, id);
    return row != NULL && strcmp(str(row, "_for"), whose) == 0 ? row : NULL;
}

/* NULL when value fits the type, else the message. */
static const char *value_problem(const json_t *type, const char *value)
{
    const char *dt = str(type, "dataType");
    size_t i;
    json_t *o;
    char *end;

    if (strlen(value) > FIELD_VALUE_MAX)
        return "The value is too long.";
    if (strcmp(dt, "Numeric") == 0) {
        (void)strtod(value, &end);
        return *value != '\0' && *end == '\0' ? NULL : "The value must be a number.";
    }
    if (strcmp(dt, "Dropdown") != 0)
        return NULL;
    json_array_foreach (json_object_get(type, "dataTypeOptions"), i, o) {
        if (strcmp(json_string_value(o), value) == 0)
            return NULL;
    }
    return "The value is not one of the field's options.";
}

void sim_custom_fields_check(struct sim_tenant *t, const char *whose, const json_t *arr,
                             const char *path, json_t *errors)
{
    static const struct sim_field f[] = {
        {"typeId", SIM_F_INT, true, false},
        {"value", SIM_F_STR, true, false},
    };
    char prefix[160], key[200], msg[96];
    size_t i;
    json_t *v;

    if (!json_is_array(arr))
        return; /* absent, null, or not an array (the caller's sim_check said so) */
    if (json_array_size(arr) > MAX_FIELDS) {
        add_error(errors, path, "At most 100 custom fields are accepted.");
        return;
    }
    json_array_foreach (arr, i, v) {
        snprintf(prefix, sizeof(prefix), "%s[%zu].", path, i);
        if (!sim_check(v, prefix, f, AP_COUNTOF(f), errors))
            continue;
        int64_t id = (int64_t)json_integer_value(json_object_get(v, "typeId"));
        const json_t *type = sim_custom_field_type(t, whose, id);
        const char *problem = type != NULL ? value_problem(type, str(v, "value")) : NULL;
        if (type == NULL) {
            snprintf(key, sizeof(key), "%stypeId", prefix);
            snprintf(msg, sizeof(msg), "Custom field type %lld was not found.", (long long)id);
            add_error(errors, key, msg);
        } else if (problem != NULL) {
            snprintf(key, sizeof(key), "%svalue", prefix);
            add_error(errors, key, problem);
        }
    }
}

int64_t sim_custom_field_type_add(struct sim *s, struct sim_tenant *t, const char *whose,
                                  const char *name, const char *data_type,
                                  const char *const *options)
{
    json_t *opts = json_array();

    for (size_t i = 0; options != NULL && options[i] != NULL; i++)
        json_array_append_new(opts, json_string(options[i]));
    return sim_add(s, t, SIM_CUSTOM_FIELD_TYPE,
                   json_pack("{s:s, s:s, s:o, s:s}", "name", name, "dataType", data_type,
                             "dataTypeOptions", opts, "_for", whose));
}

json_t *sim_custom_fields_build(struct sim_tenant *t, const char *whose, const json_t *in)
{
    json_t *out = json_array();
    size_t i;
    json_t *v;

    json_array_foreach (in, i, v) {
        int64_t id = (int64_t)json_integer_value(json_object_get(v, "typeId"));
        const json_t *type = sim_custom_field_type(t, whose, id);
        json_array_append_new(out, json_pack("{s:I, s:s?, s:s}", "typeId", (json_int_t)id, "name",
                                             type != NULL ? str(type, "name") : NULL, "value",
                                             str(v, "value")));
    }
    return out;
}

/*
 * extdata.c — ServiceTitan's external data, which customers, locations and
 * jobs carry alike: {applicationGuid, externalData: [{key, value}]} on
 * create and update (patchMode Replace or Merge), [{key, value}] in answers
 * (only the entries of the externalDataApplicationGuid a request names, when
 * it names one), and the list filters externalDataApplicationGuid,
 * externalDataKey and externalDataValues (at most 50 values), served by a key
 * index so that "the record my app tagged with this reference" is one lookup
 * whatever the tenant's size.
 *
 * A row keeps every entry with its application in the hidden "_ext"
 * ([{applicationGuid, key, value}]) and all of them, without it, in
 * "externalData".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "sim/core/api.h"

#define EXT_VALUE_MAX 4000

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v != NULL ? v : "";
}

static void add_error(json_t *errors, const char *key, const char *msg)
{
    json_t *list = json_object_get(errors, key);

    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(errors, key, list);
    }
    json_array_append_new(list, json_string(msg));
}

bool sim_is_guid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12}; /* hex digits, '-' between */

    for (int g = 0; s != NULL && g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, s++) {
            if (!isxdigit((unsigned char)*s))
                return false;
        }
        if (g < 4 && *s++ != '-')
            return false;
    }
    return s != NULL && *s == '\0';
}

/* ---- validation ------------------------------------------------------------------- */

static void check_items(const json_t *arr, const char *apath, bool update, json_t *errors)
{
    const struct sim_field item[] = {
        {"key", SIM_F_STR, true, false},
        {"value", SIM_F_STR, !update, update},
    };
    char p[256], msg[96];
    size_t i;
    json_t *v;

    if (json_array_size(arr) > 100) {
        add_error(errors, apath, "At most 100 items are accepted.");
        return;
    }
    json_array_foreach (arr, i, v) {
        snprintf(p, sizeof(p), "%s[%zu].", apath, i);
        if (!sim_check(v, p, item, AP_COUNTOF(item), errors))
            continue;
        if (json_string_length(json_object_get(v, "key")) > EXT_VALUE_MAX ||
            json_string_length(json_object_get(v, "value")) > EXT_VALUE_MAX) {
            snprintf(p, sizeof(p), "%s[%zu]", apath, i);
            snprintf(msg, sizeof(msg), "Keys and values are at most %d characters long.",
                     EXT_VALUE_MAX);
            add_error(errors, p, msg);
        }
    }
}

void sim_ext_check(const json_t *obj, const char *path, bool update, json_t *errors)
{
    const struct sim_field f[] = {
        {"applicationGuid", SIM_F_STR, true, false},
        {"externalData", SIM_F_ARR, true, false},
        {"patchMode", SIM_F_STR, false, true},
    };
    char prefix[160], p[200];
    const char *mode;

    if (obj == NULL || json_is_null(obj))
        return;
    snprintf(prefix, sizeof(prefix), "%s.", path);
    if (!sim_check(obj, prefix, f, update ? 3 : 2, errors))
        return;
    if (!sim_is_guid(str(obj, "applicationGuid"))) {
        snprintf(p, sizeof(p), "%sapplicationGuid", prefix);
        add_error(errors, p, "The value is not a valid GUID.");
    }
    mode = json_string_value(json_object_get(obj, "patchMode"));
    if (mode != NULL && strcmp(mode, "Replace") != 0 && strcmp(mode, "Merge") != 0) {
        snprintf(p, sizeof(p), "%spatchMode", prefix);
        add_error(errors, p, "The value is not valid; expected one of: Replace, Merge.");
    }
    snprintf(p, sizeof(p), "%sexternalData", prefix);
    check_items(json_object_get(obj, "externalData"), p, update, errors);
}

/* ---- storing ------------------------------------------------------------------------ */

static void publish(json_t *row)
{
    json_t *pub = json_array();
    size_t i;
    json_t *e;

    json_array_foreach (json_object_get(row, "_ext"), i, e) {
        json_array_append_new(pub, json_pack("{s:O, s:O}", "key", json_object_get(e, "key"),
                                             "value", json_object_get(e, "value")));
    }
    json_object_set_new(row, "externalData", pub);
}

void sim_ext_set(json_t *row, const json_t *ext)
{
    json_t *all = json_array();
    size_t i;
    json_t *e;

    if (json_is_object(ext)) {
        json_t *guid = json_object_get(ext, "applicationGuid");
        json_array_foreach (json_object_get(ext, "externalData"), i, e) {
            json_array_append_new(all, json_pack("{s:O, s:O, s:O}", "applicationGuid", guid, "key",
                                                 json_object_get(e, "key"), "value",
                                                 json_object_get(e, "value")));
        }
    }
    json_object_set_new(row, "_ext", all);
    publish(row);
}

/* Index in all of (guid, key), or -1. */
static long find(const json_t *all, const char *guid, const char *key)
{
    size_t i;
    json_t *e;

    json_array_foreach (all, i, e) {
        if (strcasecmp(str(e, "applicationGuid"), guid) == 0 && strcmp(str(e, "key"), key) == 0)
            return (long)i;
    }
    return -1;
}

void sim_ext_update(json_t *row, const json_t *ext)
{
    json_t *all = json_object_get(row, "_ext");
    const char *guid = str(ext, "applicationGuid");
    size_t i;
    json_t *e;

    if (!json_is_array(all)) {
        all = json_array();
        json_object_set_new(row, "_ext", all);
    }
    if (strcmp(str(ext, "patchMode"), "Merge") != 0) { /* Replace (the default) */
        for (size_t j = json_array_size(all); j-- > 0;) {
            if (strcasecmp(str(json_array_get(all, j), "applicationGuid"), guid) == 0)
                json_array_remove(all, j);
        }
    }
    json_array_foreach (json_object_get(ext, "externalData"), i, e) {
        const char *key = str(e, "key");
        long at = find(all, guid, key);
        json_t *val = json_object_get(e, "value");
        if (at >= 0)
            json_array_remove(all, (size_t)at);
        if (json_is_string(val)) /* a null value removes the key */
            json_array_append_new(all, json_pack("{s:s, s:s, s:O}", "applicationGuid", guid, "key",
                                                 key, "value", val));
    }
    publish(row);
}

json_t *sim_ext_present(const json_t *row, const char *guid)
{
    json_t *out = sim_public(row), *pub;
    size_t i;
    json_t *e;

    if (guid == NULL || *guid == '\0' || !json_is_array(json_object_get(row, "_ext")))
        return out;
    pub = json_array();
    json_array_foreach (json_object_get(row, "_ext"), i, e) {
        if (strcasecmp(str(e, "applicationGuid"), guid) == 0)
            json_array_append_new(pub, json_pack("{s:O, s:O}", "key", json_object_get(e, "key"),
                                                 "value", json_object_get(e, "value")));
    }
    json_object_set_new(out, "externalData", pub);
    return out;
}

/* ---- filtering ---------------------------------------------------------------------- */

bool sim_ext_filter_parse(struct sim_call *c, struct sim_ext_filter *f)
{
    const char *vals = sim_query(c->req, "externalDataValues");
    json_t *e = json_object();

    memset(f, 0, sizeof(*f));
    f->guid = sim_query(c->req, "externalDataApplicationGuid");
    f->key = sim_query(c->req, "externalDataKey");
    f->guid = f->guid != NULL && *f->guid != '\0' ? f->guid : NULL;
    f->key = f->key != NULL && *f->key != '\0' ? f->key : NULL;
    if (vals != NULL && *vals != '\0') {
        char *copy = ap_arena_strndup(ap_http_arena(c->req), vals, strlen(vals));
        for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            if (f->nvalues == SIM_EXT_MAX_VALUES) {
                add_error(e, "externalDataValues", "At most 50 values are accepted.");
                break;
            }
            f->values[f->nvalues++] = tok;
        }
    }
    if (f->key != NULL && f->nvalues == 0)
        add_error(e, "externalDataValues",
                  "'externalDataValues' must be provided with 'externalDataKey'.");
    if (f->nvalues > 0 && f->key == NULL)
        add_error(e, "externalDataKey",
                  "'externalDataKey' must be provided with 'externalDataValues'.");
    if (f->guid != NULL && !sim_is_guid(f->guid))
        add_error(e, "externalDataApplicationGuid", "The value is not a valid GUID.");
    if (json_object_size(e) == 0) {
        json_decref(e);
        return true;
    }
    sim_problem(c, 400, "One or more validation errors occurred.", e);
    return false;
}

bool sim_ext_filter_active(const struct sim_ext_filter *f)
{
    return f->guid != NULL || f->key != NULL;
}

bool sim_ext_filter_match(const struct sim_ext_filter *f, const json_t *row)
{
    size_t i;
    json_t *e;

    if (!sim_ext_filter_active(f))
        return true;
    json_array_foreach (json_object_get(row, "_ext"), i, e) {
        if (f->guid != NULL && strcasecmp(str(e, "applicationGuid"), f->guid) != 0)
            continue;
        if (f->key == NULL)
            return true;
        if (strcmp(str(e, "key"), f->key) != 0)
            continue;
        for (size_t k = 0; k < f->nvalues; k++) {
            if (strcmp(str(e, "value"), f->values[k]) == 0)
                return true;
        }
    }
    return false;
}

/* "g:<guid>" for each application, "k:<key>=<value>" for each entry. */
static void ext_keys(const json_t *row, struct sim_keys *out)
{
    size_t i;
    json_t *e;
    char guid[40];

    json_array_foreach (json_object_get(row, "_ext"), i, e) {
        snprintf(guid, sizeof(guid), "%s", str(e, "applicationGuid"));
        for (char *p = guid; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        sim_keys_add(out, "g:%s", guid);
        sim_keys_add(out, "k:%s=%s", str(e, "key"), str(e, "value"));
    }
}

static int id_cmp(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

int sim_ext_index(enum sim_kind k)
{
    return sim_index_define(k, "ext", ext_keys);
}

int64_t *sim_ext_candidates(struct sim_tenant *t, enum sim_kind k, const struct sim_ext_filter *f,
                            size_t *n)
{
    int slot = sim_ext_index(k);
    char key[SIM_KEY_LEN];
    int64_t *all = NULL;

    *n = 0;
    if (f->key == NULL) {
        char guid[40];
        snprintf(guid, sizeof(guid), "%s", f->guid);
        for (char *p = guid; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        snprintf(key, sizeof(key), "g:%s", guid);
        return sim_index_find(t, slot, key, n);
    }
    for (size_t v = 0; v < f->nvalues; v++) {
        size_t m;
        snprintf(key, sizeof(key), "k:%s=%s", f->key, f->values[v]);
        int64_t *ids = sim_index_find(t, slot, key, &m);
        all = ap_xrealloc(all, (*n + m + 1) * sizeof(*all));
        if (m > 0)
            memcpy(all + *n, ids, m * sizeof(*ids));
        *n += m;
        free(ids);
    }
    if (all != NULL)
        qsort(all, *n, sizeof(*all), id_cmp);
    return all;
}

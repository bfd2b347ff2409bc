/*
 * query.c — query-string readers and row matchers the emulated modules share
 * (see api.h). Query parameter names are matched case-insensitively, as
 * ASP.NET Core binds them ("PageSize=1" is pageSize), and path parameters
 * come from the route the gate matched (sim_param).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/core/backbone.h"

const char *sim_query(struct ap_http_req *req, const char *name)
{
    struct ap_str q = ap_http_query_string(req);
    struct ap_arena *a = ap_http_arena(req);
    const char *p = q.p, *end = q.p + q.len;

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        const char *ke = eq ? eq : pe;
        char *key = ap_http_decode(a, (struct ap_str){p, (size_t)(ke - p)}, true);

        if (key != NULL && strcasecmp(key, name) == 0) {
            struct ap_str v = eq ? (struct ap_str){eq + 1, (size_t)(pe - eq - 1)} : AP_STR("");
            return ap_http_decode(a, v, true);
        }
        p = pe + 1;
    }
    return NULL;
}

const char *sim_param(struct sim_call *c, const char *name)
{
    const struct ap_route_match *m = c->match;

    if (m == NULL)
        return ap_http_param(c->req, name);
    for (size_t i = 0; i < m->nparams; i++) {
        if (ap_str_eq_c(m->names[i], name))
            return ap_http_decode(ap_http_arena(c->req), m->values[i], false);
    }
    return NULL;
}

static bool bad_value(struct sim_call *c, const char *name, const char *v)
{
    sim_problem_field(c, name, "The value '%.100s' is not valid.", v);
    return false;
}

static bool parse_int64(const char *v, int64_t *out)
{
    char *end = NULL;
    if (v[0] == '\0' || isspace((unsigned char)v[0]))
        return false;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = x;
    return true;
}

bool sim_q_int64(struct sim_call *c, const char *name, bool *has, int64_t *out)
{
    const char *v = sim_query(c->req, name);
    *has = false;
    if (v == NULL || v[0] == '\0')
        return true;
    if (!parse_int64(v, out))
        return bad_value(c, name, v);
    *has = true;
    return true;
}

bool sim_q_time(struct sim_call *c, const char *name, bool *has, int64_t *out)
{
    const char *v = sim_query(c->req, name);
    *has = false;
    if (v == NULL || v[0] == '\0')
        return true;
    if (!ap_time_parse(v, out))
        return bad_value(c, name, v);
    *has = true;
    return true;
}

bool sim_q_bool(struct sim_call *c, const char *name, bool *has, bool *out)
{
    const char *v = sim_query(c->req, name);
    *has = false;
    if (v == NULL || v[0] == '\0')
        return true;
    if (strcasecmp(v, "true") == 0)
        *out = true;
    else if (strcasecmp(v, "false") == 0)
        *out = false;
    else
        return bad_value(c, name, v);
    *has = true;
    return true;
}

bool sim_q_enum(struct sim_call *c, const char *name, const char *const *values, const char **out)
{
    const char *v = sim_query(c->req, name);
    *out = NULL;
    if (v == NULL || v[0] == '\0')
        return true;
    for (size_t i = 0; values[i] != NULL; i++) {
        if (strcasecmp(v, values[i]) == 0) {
            *out = values[i];
            return true;
        }
    }
    return bad_value(c, name, v);
}

bool sim_q_ids(struct sim_call *c, const char *name, int64_t *ids, size_t *n)
{
    const char *v = sim_query(c->req, name);
    *n = 0;
    if (v == NULL || v[0] == '\0')
        return true;
    const char *p = v;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char one[24];
        if (len == 0 || len >= sizeof(one))
            return bad_value(c, name, v);
        memcpy(one, p, len);
        one[len] = '\0';
        if (*n >= SIM_Q_MAX_IDS) {
            sim_problem_field(c, name, "The maximum number of IDs is %d.", SIM_Q_MAX_IDS);
            return false;
        }
        if (!parse_int64(one, &ids[*n]))
            return bad_value(c, name, v);
        (*n)++;
        p += len;
        if (*p == ',')
            p++;
    }
    return true;
}

bool sim_ci_contains(const char *hay, const char *needle)
{
    if (hay == NULL)
        return false;
    size_t nl = strlen(needle);
    for (const char *h = hay; *h != '\0'; h++) {
        if (strncasecmp(h, needle, nl) == 0)
            return true;
    }
    return nl == 0;
}

int64_t sim_row_int(const json_t *row, const char *key)
{
    json_t *v = json_object_get(row, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

const char *sim_row_str(const json_t *row, const char *key)
{
    return json_string_value(json_object_get(row, key));
}

bool sim_row_time(const json_t *row, const char *key, int64_t *out)
{
    const char *v = sim_row_str(row, key);
    return v != NULL && ap_time_parse(v, out);
}

bool sim_row_has_id(const json_t *row, const char *key, int64_t v)
{
    json_t *arr = json_object_get(row, key);
    size_t i;
    json_t *x;
    json_array_foreach (arr, i, x) {
        if (json_is_integer(x) && json_integer_value(x) == v)
            return true;
    }
    return false;
}

bool sim_ids_have(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == id)
            return true;
    }
    return false;
}

bool sim_param_id(struct sim_call *c, const char *name, int64_t *out)
{
    if (sim_id_parse(sim_param(c, name), out))
        return true;
    sim_not_found(c, "The requested resource was not found.");
    return false;
}

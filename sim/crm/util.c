/*
 * util.c — what the parts of stsim's CRM module (customers.c, locations.c,
 * contacts.c, bookings.c, seed.c) share: the validation pieces for nested
 * request bodies (addresses, contacts, custom fields, external data, a new
 * location), builders of stored records, and list filters.
 *
 * Validation collects every problem into one errors map before anything is
 * changed, so a refused request leaves the model as it was.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "sim/crm/crm_int.h"

const char *const sim_crm_contact_types[] = {"Phone", "Email", "Fax", "MobilePhone", NULL};
static const char *const coord_sources[] = {"None", "System", "User", "Imported", NULL};
static const char *const coord_status[] = {"Unverified", "InProgress", "Failed", "Verified", NULL};

/* ---- validation ------------------------------------------------------------ */

void sim_crm_err(json_t *errors, const char *field, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *list = json_object_get(errors, field);
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(errors, field, list);
    }
    json_array_append_new(list, json_string(msg));
}

static void path_join(char *out, size_t n, const char *prefix, const char *key)
{
    snprintf(out, n, "%s%s", prefix ? prefix : "", key);
}

void sim_crm_check_enum(const json_t *obj, const char *prefix, const char *key,
                        const char *const *vals, json_t *errors)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return;
    for (size_t i = 0; vals[i]; i++)
        if (strcmp(json_string_value(v), vals[i]) == 0)
            return;
    char path[160];
    path_join(path, sizeof path, prefix, key);
    char allowed[160] = "";
    for (size_t i = 0; vals[i]; i++)
        snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s", i ? ", " : "",
                 vals[i]);
    sim_crm_err(errors, path, "The value '%.60s' is not valid; expected one of: %s.",
                json_string_value(v), allowed);
}

void sim_crm_check_len(const json_t *obj, const char *prefix, const char *key, json_t *errors)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v) && json_string_length(v) > CRM_MAX_STR) {
        char path[160];
        path_join(path, sizeof path, prefix, key);
        sim_crm_err(errors, path, "The field %s must be at most %d characters long.", key,
                    CRM_MAX_STR);
    }
}

static void check_all_len(const json_t *obj, const char *prefix, json_t *errors)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)obj, key, v) {
        sim_crm_check_len(obj, prefix, key, errors);
    }
}

static bool check_array(const json_t *arr, const char *path, json_t *errors)
{
    if (!arr || json_is_null(arr))
        return false;
    if (!json_is_array(arr))
        return false; /* sim_check reported the type */
    if (json_array_size(arr) > CRM_MAX_ITEMS) {
        sim_crm_err(errors, path, "At most %d items are accepted.", CRM_MAX_ITEMS);
        return false;
    }
    return true;
}

void sim_crm_check_address(const json_t *addr, const char *path, bool patch, bool with_coords,
                           json_t *errors)
{
    struct sim_field f[] = {
        {"street", SIM_F_STR, !patch, false}, {"unit", SIM_F_STR, false, true},
        {"city", SIM_F_STR, !patch, false},   {"state", SIM_F_STR, !patch, false},
        {"zip", SIM_F_STR, !patch, false},    {"country", SIM_F_STR, !patch, false},
        {"latitude", SIM_F_NUM, false, true}, {"longitude", SIM_F_NUM, false, true},
    };
    char prefix[160];
    snprintf(prefix, sizeof prefix, "%s.", path);
    if (!sim_check(addr, prefix, f, with_coords ? 8 : 6, errors) || !json_is_object(addr))
        return;
    check_all_len(addr, prefix, errors);
}

void sim_crm_check_contacts(const json_t *arr, const char *path, json_t *errors)
{
    static const struct sim_field f[] = {
        {"type", SIM_F_STR, true, false},
        {"value", SIM_F_STR, true, false},
        {"memo", SIM_F_STR, false, true},
    };
    if (!check_array(arr, path, errors))
        return;
    size_t i;
    json_t *v;
    json_array_foreach (arr, i, v) {
        char prefix[160];
        snprintf(prefix, sizeof prefix, "%s[%zu].", path, i);
        if (!sim_check(v, prefix, f, 3, errors) || !json_is_object(v))
            continue;
        sim_crm_check_enum(v, prefix, "type", sim_crm_contact_types, errors);
        check_all_len(v, prefix, errors);
        if (json_is_string(json_object_get(v, "value")) &&
            json_string_length(json_object_get(v, "value")) == 0) {
            char p[200];
            snprintf(p, sizeof p, "%svalue", prefix);
            sim_crm_err(errors, p, "The Value field is required.");
        }
    }
}

void sim_crm_check_int_array(const json_t *arr, const char *path, json_t *errors)
{
    if (!check_array(arr, path, errors))
        return;
    size_t i;
    json_t *v;
    json_array_foreach (arr, i, v) {
        if (!json_is_integer(v)) {
            char p[160];
            snprintf(p, sizeof p, "%s[%zu]", path, i);
            sim_crm_err(errors, p, "The value is not a valid integer.");
        }
    }
}

const json_t *sim_crm_body(struct sim_call *c)
{
    static json_t *empty;
    if (c->body)
        return c->body;
    if (!empty)
        empty = json_object(); /* under the model lock; never freed (one small object) */
    return empty;
}

bool sim_crm_errors_ok(struct sim_call *c, json_t *errors)
{
    if (json_object_size(errors) == 0) {
        json_decref(errors);
        return true;
    }
    sim_problem(c, 400, "One or more validation errors occurred.", errors);
    return false;
}

void sim_crm_check_new_location(struct sim_tenant *t, const json_t *loc, const char *prefix,
                                bool with_customer, json_t *errors)
{
    static const struct sim_field f[] = {
        {"name", SIM_F_STR, true, false},
        {"address", SIM_F_OBJ, true, false},
        {"contacts", SIM_F_ARR, false, true},
        {"customFields", SIM_F_ARR, false, true},
        {"tagTypeIds", SIM_F_ARR, false, true},
        {"externalData", SIM_F_OBJ, false, true},
        {"coordinatesSource", SIM_F_STR, false, true},
        {"coordinatesVerificationStatus", SIM_F_STR, false, true},
        {"customerId", SIM_F_INT, true, false},
    };
    if (!sim_check(loc, prefix, f, with_customer ? 9 : 8, errors) || !json_is_object(loc))
        return;
    char p[200];
    sim_crm_check_len(loc, prefix, "name", errors);
    snprintf(p, sizeof p, "%saddress", prefix);
    if (json_is_object(json_object_get(loc, "address")))
        sim_crm_check_address(json_object_get(loc, "address"), p, false, true, errors);
    snprintf(p, sizeof p, "%scontacts", prefix);
    sim_crm_check_contacts(json_object_get(loc, "contacts"), p, errors);
    snprintf(p, sizeof p, "%scustomFields", prefix);
    sim_custom_fields_check(t, "location", json_object_get(loc, "customFields"), p, errors);
    snprintf(p, sizeof p, "%stagTypeIds", prefix);
    sim_crm_check_int_array(json_object_get(loc, "tagTypeIds"), p, errors);
    snprintf(p, sizeof p, "%sexternalData", prefix);
    sim_ext_check(json_object_get(loc, "externalData"), p, false, errors);
    sim_crm_check_enum(loc, prefix, "coordinatesSource", coord_sources, errors);
    sim_crm_check_enum(loc, prefix, "coordinatesVerificationStatus", coord_status, errors);
}

/* ---- record builders -------------------------------------------------------- */

static json_t *copy_or_null(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v ? json_deep_copy(v) : json_null();
}

json_t *sim_crm_address(const json_t *in, bool with_coords)
{
    json_t *a = json_object();
    json_object_set_new(a, "street", json_string(sim_crm_str(in, "street")));
    json_object_set_new(a, "unit", copy_or_null(in, "unit"));
    json_object_set_new(a, "city", json_string(sim_crm_str(in, "city")));
    json_object_set_new(a, "state", json_string(sim_crm_str(in, "state")));
    json_object_set_new(a, "zip", json_string(sim_crm_str(in, "zip")));
    json_object_set_new(a, "country", json_string(sim_crm_str(in, "country")));
    if (with_coords) {
        json_object_set_new(a, "latitude", copy_or_null(in, "latitude"));
        json_object_set_new(a, "longitude", copy_or_null(in, "longitude"));
    }
    return a;
}

void sim_crm_address_patch(json_t *addr, const json_t *in)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)in, key, v) {
        if (json_is_null(v) && (strcmp(key, "unit") == 0 || strcmp(key, "latitude") == 0 ||
                                strcmp(key, "longitude") == 0))
            json_object_set_new(addr, key, json_null());
        else if (!json_is_null(v) && json_object_get(addr, key))
            json_object_set(addr, key, v);
    }
}

json_t *sim_crm_int_array(const json_t *in)
{
    return json_is_array(in) ? json_deep_copy(in) : json_array();
}

json_t *sim_crm_contact_row(struct sim *s, const json_t *in, const char *owner_key, int64_t owner)
{
    const char *type = sim_crm_str(in, "type");
    bool phone = strcmp(type, "Email") != 0;
    int64_t now = sim_now(s);
    json_t *row = json_object();
    json_object_set_new(row, "type", json_string(type));
    json_object_set_new(row, "value", json_string(sim_crm_str(in, "value")));
    json_object_set_new(row, "memo", copy_or_null(in, "memo"));
    json_object_set_new(row, "modifiedOn", sim_time_json(now));
    json_object_set_new(row, "phoneSettings",
                        json_pack("{s:s, s:b}", "phoneNumber",
                                  phone ? sim_crm_str(in, "value") : "", "doNotText", 0));
    json_object_set_new(row, "createdOn", sim_time_json(now));
    json_object_set_new(row, "preferences", json_null());
    json_object_set_new(row, owner_key, json_integer(owner));
    json_object_set_new(row, "_active", json_true());
    return row;
}

void sim_crm_contact_patch(json_t *row, const json_t *in)
{
    static const char *const keys[] = {"type", "value", "memo", "preferences"};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(in, keys[i]);
        if (v && !json_is_null(v))
            json_object_set_new(row, keys[i], json_deep_copy(v));
    }
    const char *type = sim_crm_str(row, "type");
    json_t *ps = json_object_get(row, "phoneSettings");
    json_object_set_new(ps, "phoneNumber",
                        json_string(strcmp(type, "Email") ? sim_crm_str(row, "value") : ""));
}

json_t *sim_crm_contact_brief(const json_t *row)
{
    return json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(row, "id"), "type",
                     json_object_get(row, "type"), "value", json_object_get(row, "value"), "memo",
                     json_object_get(row, "memo"));
}

int64_t sim_crm_creator(struct sim_tenant *t)
{
    return sim_count(t, SIM_EMPLOYEE) ? sim_row_id(sim_at(t, SIM_EMPLOYEE, 0)) : 1;
}

int64_t sim_crm_zone_for_zip(struct sim_tenant *t, const char *zip)
{
    for (size_t i = 0; i < sim_count(t, SIM_ZONE); i++) {
        json_t *z = sim_at(t, SIM_ZONE, i);
        size_t j;
        json_t *v;
        json_array_foreach (json_object_get(z, "zips"), j, v) {
            if (json_is_string(v) && strcmp(json_string_value(v), zip) == 0)
                return sim_row_id(z);
        }
    }
    return 0;
}

json_t *sim_crm_location_add(struct sim *s, struct sim_tenant *t, int64_t customer_id,
                             const json_t *in)
{
    int64_t now = sim_now(s);
    json_t *row = json_object();
    json_object_set_new(row, "customerId", json_integer(customer_id));
    json_object_set_new(row, "active", json_true());
    json_object_set_new(row, "name", json_string(sim_crm_str(in, "name")));
    json_t *addr = sim_crm_address(json_object_get(in, "address"), true);
    int64_t zone = sim_crm_zone_for_zip(t, sim_crm_str(addr, "zip"));
    json_object_set_new(row, "address", addr);
    json_object_set_new(
        row, "customFields",
        sim_custom_fields_build(t, "location", json_object_get(in, "customFields")));
    json_object_set_new(row, "createdOn", sim_time_json(now));
    json_object_set_new(row, "createdById", json_integer(sim_crm_creator(t)));
    json_object_set_new(row, "modifiedOn", sim_time_json(now));
    json_object_set_new(row, "mergedToId", json_null());
    json_object_set_new(row, "zoneId", zone ? json_integer(zone) : json_null());
    json_object_set_new(row, "taxExempt", json_false());
    json_object_set_new(row, "tagTypeIds", sim_crm_int_array(json_object_get(in, "tagTypeIds")));
    json_object_set_new(row, "taxZoneId", json_null());
    sim_ext_set(row, json_object_get(in, "externalData"));
    int64_t id = sim_add(s, t, SIM_LOCATION, row);

    json_t *out = sim_public(sim_get(t, SIM_LOCATION, id));
    json_t *contacts = json_array();
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(in, "contacts"), i, v) {
        int64_t cid =
            sim_add(s, t, SIM_LOCATION_CONTACT, sim_crm_contact_row(s, v, "_locationId", id));
        json_array_append_new(contacts,
                              sim_crm_contact_brief(sim_get(t, SIM_LOCATION_CONTACT, cid)));
    }
    json_object_set_new(out, "contacts", contacts);
    return out;
}

/* Customer id merged into target: inactive, mergedToId set, and so are its locations (into
 * target's first location). */
void sim_crm_merge(struct sim *s, struct sim_tenant *t, int64_t id, int64_t target)
{
    json_t *row = sim_get(t, SIM_CUSTOMER, id);
    int slot = sim_index_int(SIM_LOCATION, "customerId");
    size_t nt, n;
    int64_t *theirs = sim_index_find_id(t, slot, target, &nt);
    int64_t *ours = sim_index_find_id(t, slot, id, &n);

    json_object_set_new(row, "mergedToId", json_integer(target));
    json_object_set_new(row, "active", json_false());
    sim_touch(s, t, SIM_CUSTOMER, row, false);
    for (size_t i = 0; i < n; i++) {
        json_t *loc = sim_get(t, SIM_LOCATION, ours[i]);
        json_object_set_new(loc, "mergedToId", nt > 0 ? json_integer(theirs[0]) : json_null());
        json_object_set_new(loc, "active", json_false());
        sim_touch(s, t, SIM_LOCATION, loc, false);
    }
    free(theirs);
    free(ours);
}

/* ---- filters ------------------------------------------------------------------ */

const char *sim_crm_str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : "";
}

bool sim_crm_icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

bool sim_crm_iequal(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

void sim_crm_digits(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; *in && k + 1 < n; in++)
        if (isdigit((unsigned char)*in))
            out[k++] = *in;
    out[k] = '\0';
}

static bool query_double(struct sim_call *c, const char *name, bool *has, double *out)
{
    const char *v = sim_query(c->req, name);
    *has = false;
    if (!v || !*v)
        return true;
    char *end;
    *out = strtod(v, &end);
    if (*end) {
        json_t *e = json_object();
        sim_crm_err(e, name, "The value '%.40s' is not valid.", v);
        sim_problem(c, 400, "One or more validation errors occurred.", e);
        return false;
    }
    *has = true;
    return true;
}

bool sim_crm_addr_filter_parse(struct sim_call *c, struct crm_addr_filter *f)
{
    memset(f, 0, sizeof *f);
    struct ap_http_req *r = c->req;
    f->name = sim_query(r, "name");
    f->street = sim_query(r, "street");
    f->unit = sim_query(r, "unit");
    f->city = sim_query(r, "city");
    f->state = sim_query(r, "state");
    f->zip = sim_query(r, "zip");
    f->country = sim_query(r, "country");
    if (!query_double(c, "latitude", &f->has_lat, &f->lat) ||
        !query_double(c, "longitude", &f->has_lon, &f->lon))
        return false;
    return sim_ext_filter_parse(c, &f->ext);
}

static bool opt_contains(const char *want, const char *have)
{
    return !want || !*want || sim_crm_icontains(have, want);
}

static bool opt_equal(const char *want, const char *have)
{
    return !want || !*want || sim_crm_iequal(have, want);
}

bool sim_crm_addr_filter_any(const struct crm_addr_filter *f)
{
    const char *const v[] = {f->name, f->street, f->unit, f->city, f->state, f->zip, f->country};

    for (size_t i = 0; i < AP_COUNTOF(v); i++) {
        if (v[i] != NULL && *v[i] != '\0')
            return true;
    }
    return f->has_lat || f->has_lon || sim_ext_filter_active(&f->ext);
}

bool sim_crm_addr_filter_match(const struct crm_addr_filter *f, const json_t *row)
{
    const json_t *a = json_object_get(row, "address");
    if (!opt_contains(f->name, sim_crm_str(row, "name")) ||
        !opt_contains(f->street, sim_crm_str(a, "street")) ||
        !opt_contains(f->unit, sim_crm_str(a, "unit")) ||
        !opt_contains(f->city, sim_crm_str(a, "city")) ||
        !opt_equal(f->state, sim_crm_str(a, "state")) ||
        !opt_equal(f->zip, sim_crm_str(a, "zip")) ||
        !opt_equal(f->country, sim_crm_str(a, "country")))
        return false;
    if (f->has_lat && json_real_value(json_object_get(a, "latitude")) != f->lat)
        return false;
    if (f->has_lon && json_real_value(json_object_get(a, "longitude")) != f->lon)
        return false;
    return sim_ext_filter_match(&f->ext, row);
}

bool sim_crm_id_list(struct sim_call *c, const char *param, size_t max, int64_t **ids, size_t *n)
{
    const char *v = sim_query(c->req, param);
    *n = 0;
    *ids = NULL;
    if (!v || !*v)
        return true;
    *ids = ap_arena_alloc(ap_http_arena(c->req), (max + 1) * sizeof **ids);
    const char *p = v;
    while (*p) {
        char *end;
        long long id = strtoll(p, &end, 10);
        if (end == p || (*end && *end != ',') || id <= 0 || *n == max) {
            json_t *e = json_object();
            if (*n == max)
                sim_crm_err(e, param, "At most %zu ids are accepted.", max);
            else
                sim_crm_err(e, param, "The value '%.60s' is not a list of ids.", v);
            sim_problem(c, 400, "One or more validation errors occurred.", e);
            return false;
        }
        (*ids)[(*n)++] = id;
        p = *end ? end + 1 : end;
    }
    return true;
}

bool sim_crm_id_in(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/*
 * crm_locations.c — /crm/v2 locations: create (needs customerId and an
 * address; answers with the new contacts embedded), get, list (customerId,
 * name, address and external-data filters), patch (bumps modifiedOn), the
 * contacts sub-resource, the tenant-wide location contacts list, and the
 * locations and location-contacts export feeds. A location's zoneId is the
 * dispatch zone whose ZIP codes hold the location's ZIP.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/crm/crm_int.h"

static const char *const sort_fields[] = {"Id", "ModifiedOn", "CreatedOn", NULL};
static const struct crm_contact_kind location_contacts = {SIM_LOCATION_CONTACT, SIM_LOCATION,
                                                          "_locationId", "Location not found"};

static void location_create(struct sim_call *c)
{
    const json_t *b = sim_crm_body(c);
    json_t *errors = json_object();
    sim_crm_check_new_location(c->tenant, b, "", true, errors);
    json_t *cid = json_object_get(b, "customerId");
    if (json_is_integer(cid) && !sim_get(c->tenant, SIM_CUSTOMER, json_integer_value(cid)))
        sim_crm_err(errors, "customerId", "Customer %lld was not found.",
                    (long long)json_integer_value(cid));
    if (!sim_crm_errors_ok(c, errors))
        return;
    sim_reply(c, 200, sim_crm_location_add(c->sim, c->tenant, json_integer_value(cid), b));
}

static json_t *location_or_404(struct sim_call *c, int64_t *id)
{
    if (!sim_param_id(c, "id", id))
        return NULL;
    json_t *row = sim_get(c->tenant, SIM_LOCATION, *id);
    if (!row)
        sim_not_found(c, "Location not found");
    return row;
}

static void location_get(struct sim_call *c)
{
    int64_t id;
    json_t *row = location_or_404(c, &id);
    if (row)
        sim_reply(c, 200, sim_ext_present(row, sim_query(c->req, "externalDataApplicationGuid")));
}

struct loc_filter {
    struct crm_addr_filter addr;
    int64_t customer;
};

static bool location_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    struct loc_filter *f = ud;
    if (f->customer && json_integer_value(json_object_get(row, "customerId")) != f->customer)
        return false;
    return sim_crm_addr_filter_match(&f->addr, row);
}

static json_t *location_present(struct sim_call *c, const json_t *row, void *ud)
{
    const struct loc_filter *f = ud;
    return sim_ext_present(row, f->addr.ext.guid);
}

/* The list starts from the customer's locations, or the rows of an index-backed filter. */
static void location_list(struct sim_call *c)
{
    struct loc_filter f = {0};
    struct sim_list_opts o = {.active_filter = true,
                              .active_default = "True",
                              .sort = sort_fields,
                              .dates = true,
                              .present = location_present,
                              .ud = &f};
    int64_t *ids, *cand;
    size_t n;
    if (!sim_crm_addr_filter_parse(c, &f.addr) || !sim_crm_id_list(c, "customerId", 1, &ids, &n))
        return;
    if (n > 0) {
        f.customer = ids[0];
        cand = sim_index_find_id(c->tenant, sim_index_int(SIM_LOCATION, "customerId"), f.customer,
                                 &o.ncand);
        o.has_cand = true;
    } else {
        cand = sim_crm_addr_candidates(c->tenant, SIM_LOCATION, &f.addr, &o.has_cand, &o.ncand);
    }
    o.cand = cand;
    if (f.customer != 0 || sim_crm_addr_filter_any(&f.addr))
        o.match = location_match;
    sim_list(c, SIM_LOCATION, &o);
    free(cand);
}

static bool check_update(struct sim_call *c)
{
    static const struct sim_field f[] = {
        {"customerId", SIM_F_INT, false, true}, {"name", SIM_F_STR, false, true},
        {"address", SIM_F_OBJ, false, true},    {"active", SIM_F_BOOL, false, true},
        {"taxZoneId", SIM_F_INT, false, true},  {"customFields", SIM_F_ARR, false, true},
        {"tagTypeIds", SIM_F_ARR, false, true}, {"externalData", SIM_F_OBJ, false, true},
    };
    const json_t *b = sim_crm_body(c);
    json_t *errors = json_object();
    if (sim_check(b, "", f, AP_COUNTOF(f), errors) || json_is_object(b)) {
        sim_crm_check_len(b, "", "name", errors);
        if (json_is_object(json_object_get(b, "address")))
            sim_crm_check_address(json_object_get(b, "address"), "address", true, true, errors);
        sim_custom_fields_check(c->tenant, "location", json_object_get(b, "customFields"),
                                "customFields", errors);
        sim_crm_check_int_array(json_object_get(b, "tagTypeIds"), "tagTypeIds", errors);
        sim_ext_check(json_object_get(b, "externalData"), "externalData", true, errors);
        json_t *cid = json_object_get(b, "customerId");
        if (json_is_integer(cid) && !sim_get(c->tenant, SIM_CUSTOMER, json_integer_value(cid)))
            sim_crm_err(errors, "customerId", "Customer %lld was not found.",
                        (long long)json_integer_value(cid));
    }
    return sim_crm_errors_ok(c, errors);
}

static void location_patch(struct sim_call *c)
{
    static const char *const plain[] = {"customerId", "name", "active", "taxZoneId"};
    int64_t id;
    json_t *row = location_or_404(c, &id);
    if (!row || !check_update(c))
        return;
    const json_t *b = sim_crm_body(c);
    for (size_t i = 0; i < AP_COUNTOF(plain); i++) {
        json_t *v = json_object_get(b, plain[i]);
        if (v && !json_is_null(v))
            json_object_set(row, plain[i], v);
    }
    json_t *v = json_object_get(b, "address");
    if (json_is_object(v)) {
        json_t *addr = json_object_get(row, "address");
        sim_crm_address_patch(addr, v);
        int64_t zone = sim_crm_zone_for_zip(c->tenant, sim_crm_str(addr, "zip"));
        json_object_set_new(row, "zoneId", zone ? json_integer(zone) : json_null());
    }
    if (json_is_array(v = json_object_get(b, "customFields")))
        json_object_set_new(row, "customFields", sim_custom_fields_build(c->tenant, "location", v));
    if (json_is_array(v = json_object_get(b, "tagTypeIds")))
        json_object_set_new(row, "tagTypeIds", sim_crm_int_array(v));
    if (json_is_object(v = json_object_get(b, "externalData")))
        sim_ext_update(row, v);
    sim_touch(c->sim, c->tenant, SIM_LOCATION, row, true);
    sim_reply(c, 200, sim_public(row));
}

static void contacts_list(struct sim_call *c)
{
    int64_t id;
    if (location_or_404(c, &id))
        sim_crm_contacts_of(c, SIM_LOCATION_CONTACT, "_locationId", id);
}

static void contact_create(struct sim_call *c)
{
    sim_crm_contact_create(c, &location_contacts);
}

static void contact_update(struct sim_call *c)
{
    sim_crm_contact_update(c, &location_contacts);
}

static void contact_delete(struct sim_call *c)
{
    sim_crm_contact_delete(c, &location_contacts);
}

static void contacts_all(struct sim_call *c)
{
    sim_crm_contacts_all(c, SIM_LOCATION_CONTACT, "locationIds", "_locationId", "locationId");
}

static void export_locations(struct sim_call *c)
{
    sim_export(c, SIM_LOCATION, NULL);
}

static void export_contacts(struct sim_call *c)
{
    sim_crm_export_contacts(c, SIM_LOCATION_CONTACT, "_locationId", "locationId");
}

void sim_crm_location_routes(struct sim *s, struct ap_router *r)
{
    const char *R = "tn.crm.locations:r", *W = "tn.crm.locations:w";
    sim_api_route(s, r, "POST", "crm", "/locations", W, location_create);
    sim_api_route(s, r, "GET", "crm", "/locations", R, location_list);
    sim_api_route(s, r, "GET", "crm", "/locations/contacts", R, contacts_all);
    sim_api_route(s, r, "GET", "crm", "/locations/:id", R, location_get);
    sim_api_route(s, r, "PATCH", "crm", "/locations/:id", W, location_patch);
    sim_api_route(s, r, "GET", "crm", "/locations/:id/contacts", R, contacts_list);
    sim_api_route(s, r, "POST", "crm", "/locations/:id/contacts", W, contact_create);
    sim_api_route(s, r, "PATCH", "crm", "/locations/:id/contacts/:contactId", W, contact_update);
    sim_api_route(s, r, "DELETE", "crm", "/locations/:id/contacts/:contactId", W, contact_delete);
    sim_api_route(s, r, "GET", "crm", "/export/locations", R, export_locations);
    sim_api_route(s, r, "GET", "crm", "/export/locations/contacts", R, export_contacts);
}

/*
 * crm_customers.c — /crm/v2 customers: create (with at least one location,
 * answering with the new locations and contacts embedded), get (nothing
 * embedded), list with name/phone/address/external-data filters, patch
 * (bumps modifiedOn), the contacts sub-resource (contact edits do not bump
 * the customer's modifiedOn), the tenant-wide contacts list, and the
 * customers and customer-contacts export feeds.
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "sim/crm/crm_int.h"

static const char *const customer_types[] = {"Residential", "Commercial", NULL};
static const char *const sort_fields[] = {"Id", "ModifiedOn", "CreatedOn", NULL};

/* ---- create --------------------------------------------------------------------- */

static bool check_create(struct sim_call *c)
{
    static const struct sim_field f[] = {
        {"name", SIM_F_STR, true, false},
        {"type", SIM_F_STR, false, true},
        {"doNotMail", SIM_F_BOOL, false, true},
        {"doNotService", SIM_F_BOOL, false, true},
        {"nationalAccount", SIM_F_BOOL, false, true},
        {"locations", SIM_F_ARR, true, false},
        {"address", SIM_F_OBJ, true, false},
        {"contacts", SIM_F_ARR, false, true},
        {"customFields", SIM_F_ARR, false, true},
        {"tagTypeIds", SIM_F_ARR, false, true},
        {"externalData", SIM_F_OBJ, false, true},
        {"taxExempt", SIM_F_BOOL, false, true},
        {"paymentTermId", SIM_F_INT, false, true},
        {"creditLimit", SIM_F_NUM, false, true},
        {"creditLimitBalance", SIM_F_NUM, false, true},
    };
    const json_t *b = sim_crm_body(c);
    json_t *errors = json_object();
    if (sim_check(b, "", f, AP_COUNTOF(f), errors) || json_is_object(b)) {
        sim_crm_check_len(b, "", "name", errors);
        sim_crm_check_enum(b, "", "type", customer_types, errors);
        if (json_is_object(json_object_get(b, "address")))
            sim_crm_check_address(json_object_get(b, "address"), "address", false, true, errors);
        sim_crm_check_contacts(json_object_get(b, "contacts"), "contacts", errors);
        sim_custom_fields_check(c->tenant, "customer", json_object_get(b, "customFields"),
                                "customFields", errors);
        sim_crm_check_int_array(json_object_get(b, "tagTypeIds"), "tagTypeIds", errors);
        sim_ext_check(json_object_get(b, "externalData"), "externalData", false, errors);
        json_t *locs = json_object_get(b, "locations");
        if (json_is_array(locs) && json_array_size(locs) == 0)
            sim_crm_err(errors, "locations", "A customer must have at least one location.");
        else if (json_is_array(locs) && json_array_size(locs) > CRM_MAX_ITEMS)
            sim_crm_err(errors, "locations", "At most %d locations are accepted.", CRM_MAX_ITEMS);
        else if (json_is_array(locs)) {
            size_t i;
            json_t *v;
            json_array_foreach (locs, i, v) {
                char prefix[64];
                snprintf(prefix, sizeof prefix, "locations[%zu].", i);
                sim_crm_check_new_location(c->tenant, v, prefix, false, errors);
            }
        }
    }
    return sim_crm_errors_ok(c, errors);
}

static json_t *bool_or(const json_t *b, const char *key, bool dflt)
{
    json_t *v = json_object_get(b, key);
    return json_boolean(json_is_boolean(v) ? json_is_true(v) : dflt);
}

static json_t *copy_or_null(const json_t *b, const char *key)
{
    json_t *v = json_object_get(b, key);
    return v ? json_deep_copy(v) : json_null();
}

static json_t *customer_row(struct sim *s, struct sim_tenant *t, const json_t *b)
{
    int64_t now = sim_now(s);
    json_t *row = json_object();
    const char *type = sim_crm_str(b, "type");
    json_object_set_new(row, "active", json_true());
    json_object_set_new(row, "name", json_string(sim_crm_str(b, "name")));
    json_object_set_new(row, "type", json_string(*type ? type : "Residential"));
    json_object_set_new(row, "address", sim_crm_address(json_object_get(b, "address"), true));
    json_object_set_new(row, "customFields",
                        sim_custom_fields_build(t, "customer", json_object_get(b, "customFields")));
    json_object_set_new(row, "balance", json_real(0.0));
    json_object_set_new(row, "taxExempt", bool_or(b, "taxExempt", false));
    json_object_set_new(row, "tagTypeIds", sim_crm_int_array(json_object_get(b, "tagTypeIds")));
    json_object_set_new(row, "doNotMail", bool_or(b, "doNotMail", false));
    json_object_set_new(row, "doNotService", bool_or(b, "doNotService", false));
    json_object_set_new(row, "nationalAccount", bool_or(b, "nationalAccount", false));
    json_object_set_new(row, "createdOn", sim_time_json(now));
    json_object_set_new(row, "createdById", json_integer(sim_crm_creator(t)));
    json_object_set_new(row, "modifiedOn", sim_time_json(now));
    json_object_set_new(row, "mergedToId", json_null());
    json_object_set_new(row, "paymentTermId", copy_or_null(b, "paymentTermId"));
    json_object_set_new(row, "creditLimit", copy_or_null(b, "creditLimit"));
    json_object_set_new(row, "creditLimitBalance", copy_or_null(b, "creditLimitBalance"));
    sim_ext_set(row, json_object_get(b, "externalData"));
    return row;
}

static void customer_create(struct sim_call *c)
{
    if (!check_create(c))
        return;
    struct sim *s = c->sim;
    struct sim_tenant *t = c->tenant;
    const json_t *b = sim_crm_body(c);
    int64_t id = sim_add(s, t, SIM_CUSTOMER, customer_row(s, t, b));

    json_t *contacts = json_array();
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(b, "contacts"), i, v) {
        int64_t cid =
            sim_add(s, t, SIM_CUSTOMER_CONTACT, sim_crm_contact_row(s, v, "_customerId", id));
        json_array_append_new(contacts,
                              sim_crm_contact_brief(sim_get(t, SIM_CUSTOMER_CONTACT, cid)));
    }
    json_t *locations = json_array();
    json_array_foreach (json_object_get(b, "locations"), i, v) {
        json_array_append_new(locations, sim_crm_location_add(s, t, id, v));
    }
    json_t *out = sim_public(sim_get(t, SIM_CUSTOMER, id));
    json_object_set_new(out, "locations", locations);
    json_object_set_new(out, "contacts", contacts);
    sim_reply(c, 200, out);
}

/* ---- get, list ---------------------------------------------------------------------- */

static json_t *customer_or_404(struct sim_call *c, int64_t *id)
{
    if (!sim_param_id(c, "id", id))
        return NULL;
    json_t *row = sim_get(c->tenant, SIM_CUSTOMER, *id);
    if (!row)
        sim_not_found(c, "Customer not found");
    return row;
}

static void customer_get(struct sim_call *c)
{
    int64_t id;
    json_t *row = customer_or_404(c, &id);
    if (row)
        sim_reply(c, 200, sim_ext_present(row, sim_query(c->req, "externalDataApplicationGuid")));
}

static bool customer_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    return sim_crm_addr_filter_match(ud, row);
}

static json_t *customer_present(struct sim_call *c, const json_t *row, void *ud)
{
    const struct crm_addr_filter *f = ud;
    return sim_ext_present(row, f->ext.guid);
}

/*
 * The list starts from the customers an index gives (phone, external data,
 * ZIP), else from the whole table; the other filters then apply to those.
 */
static void customer_list(struct sim_call *c)
{
    struct crm_addr_filter f;
    struct sim_list_opts o = {.active_filter = true,
                              .active_default = "True",
                              .sort = sort_fields,
                              .dates = true,
                              .present = customer_present,
                              .ud = &f};
    int64_t *cand = NULL;
    if (!sim_crm_addr_filter_parse(c, &f))
        return;
    const char *phone = sim_query(c->req, "phone");
    if (phone != NULL && *phone != '\0') {
        char digits[64];
        sim_crm_digits(phone, digits, sizeof digits);
        cand = sim_crm_customers_by_phone(c->tenant, digits, &o.ncand);
        o.has_cand = true;
    } else {
        cand = sim_crm_addr_candidates(c->tenant, SIM_CUSTOMER, &f, &o.has_cand, &o.ncand);
    }
    o.cand = cand;
    if (sim_crm_addr_filter_any(&f))
        o.match = customer_match;
    sim_list(c, SIM_CUSTOMER, &o);
    free(cand);
}

/* ---- patch ------------------------------------------------------------------------------ */

static bool check_update(struct sim_call *c)
{
    static const struct sim_field f[] = {
        {"name", SIM_F_STR, false, true},          {"type", SIM_F_STR, false, true},
        {"address", SIM_F_OBJ, false, true},       {"customFields", SIM_F_ARR, false, true},
        {"externalData", SIM_F_OBJ, false, true},  {"doNotMail", SIM_F_BOOL, false, true},
        {"doNotService", SIM_F_BOOL, false, true}, {"nationalAccount", SIM_F_BOOL, false, true},
        {"active", SIM_F_BOOL, false, true},       {"tagTypeIds", SIM_F_ARR, false, true},
        {"taxExempt", SIM_F_BOOL, false, true},    {"paymentTermId", SIM_F_INT, false, true},
        {"creditLimit", SIM_F_NUM, false, true},   {"creditLimitBalance", SIM_F_NUM, false, true},
    };
    const json_t *b = sim_crm_body(c);
    json_t *errors = json_object();
    if (sim_check(b, "", f, AP_COUNTOF(f), errors) || json_is_object(b)) {
        sim_crm_check_len(b, "", "name", errors);
        if (json_is_string(json_object_get(b, "name")) &&
            json_string_length(json_object_get(b, "name")) == 0)
            sim_crm_err(errors, "name", "The Name field must not be empty.");
        sim_crm_check_enum(b, "", "type", customer_types, errors);
        if (json_is_object(json_object_get(b, "address")))
            sim_crm_check_address(json_object_get(b, "address"), "address", true, true, errors);
        sim_custom_fields_check(c->tenant, "customer", json_object_get(b, "customFields"),
                                "customFields", errors);
        sim_crm_check_int_array(json_object_get(b, "tagTypeIds"), "tagTypeIds", errors);
        sim_ext_check(json_object_get(b, "externalData"), "externalData", true, errors);
    }
    return sim_crm_errors_ok(c, errors);
}

static void customer_patch(struct sim_call *c)
{
    static const char *const plain[] = {
        "name",   "type",      "doNotMail",     "doNotService", "nationalAccount",
        "active", "taxExempt", "paymentTermId", "creditLimit",  "creditLimitBalance"};
    int64_t id;
    json_t *row = customer_or_404(c, &id);
    if (!row || !check_update(c))
        return;
    const json_t *b = sim_crm_body(c);
    for (size_t i = 0; i < AP_COUNTOF(plain); i++) {
        json_t *v = json_object_get(b, plain[i]);
        if (v && !json_is_null(v))
            json_object_set(row, plain[i], v);
    }
    json_t *v = json_object_get(b, "address");
    if (json_is_object(v))
        sim_crm_address_patch(json_object_get(row, "address"), v);
    if (json_is_array(v = json_object_get(b, "customFields")))
        json_object_set_new(row, "customFields", sim_custom_fields_build(c->tenant, "customer", v));
    if (json_is_array(v = json_object_get(b, "tagTypeIds")))
        json_object_set_new(row, "tagTypeIds", sim_crm_int_array(v));
    if (json_is_object(v = json_object_get(b, "externalData")))
        sim_ext_update(row, v);
    sim_touch(c->sim, c->tenant, SIM_CUSTOMER, row, true);
    sim_reply(c, 200, sim_public(row));
}

/* ---- contacts ------------------------------------------------------------------------------ */

static void contacts_list(struct sim_call *c)
{
    int64_t id;
    if (customer_or_404(c, &id))
        sim_crm_contacts_of(c, SIM_CUSTOMER_CONTACT, "_customerId", id);
}

static const struct crm_contact_kind customer_contacts = {SIM_CUSTOMER_CONTACT, SIM_CUSTOMER,
                                                          "_customerId", "Customer not found"};

static void contact_create(struct sim_call *c)
{
    sim_crm_contact_create(c, &customer_contacts);
}

static void contact_update(struct sim_call *c)
{
    sim_crm_contact_update(c, &customer_contacts);
}

static void contact_delete(struct sim_call *c)
{
    sim_crm_contact_delete(c, &customer_contacts);
}

static void contacts_all(struct sim_call *c)
{
    sim_crm_contacts_all(c, SIM_CUSTOMER_CONTACT, "customerIds", "_customerId", "customerId");
}

/* ---- exports ----------------------------------------------------------------------------------
 */

static void export_customers(struct sim_call *c)
{
    sim_export(c, SIM_CUSTOMER, NULL);
}

static void export_contacts(struct sim_call *c)
{
    sim_crm_export_contacts(c, SIM_CUSTOMER_CONTACT, "_customerId", "customerId");
}

void sim_crm_customer_routes(struct sim *s, struct ap_router *r)
{
    const char *R = "tn.crm.customers:r", *W = "tn.crm.customers:w";
    sim_api_route(s, r, "POST", "crm", "/customers", W, customer_create);
    sim_api_route(s, r, "GET", "crm", "/customers", R, customer_list);
    sim_api_route(s, r, "GET", "crm", "/customers/contacts", R, contacts_all);
    sim_api_route(s, r, "GET", "crm", "/customers/:id", R, customer_get);
    sim_api_route(s, r, "PATCH", "crm", "/customers/:id", W, customer_patch);
    sim_api_route(s, r, "GET", "crm", "/customers/:id/contacts", R, contacts_list);
    sim_api_route(s, r, "POST", "crm", "/customers/:id/contacts", W, contact_create);
    sim_api_route(s, r, "PATCH", "crm", "/customers/:id/contacts/:contactId", W, contact_update);
    sim_api_route(s, r, "DELETE", "crm", "/customers/:id/contacts/:contactId", W, contact_delete);
    sim_api_route(s, r, "GET", "crm", "/export/customers", R, export_customers);
    sim_api_route(s, r, "GET", "crm", "/export/customers/contacts", R, export_contacts);
}

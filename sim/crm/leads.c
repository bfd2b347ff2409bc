/*
 * leads.c — /crm/v2 leads: create (LeadCreateRequest: campaignId and summary
 * required, the ids it names must exist), get, list (ids, the date bounds,
 * customerId, status, leadCustomerName, leadPhone), the leads export feed
 * (rows with "active"), and the demo seed's leads (one per 100 customers:
 * requests CSRs turned into leads, some open, some dismissed, some
 * converted). Scopes tn.crm.leads:r|w (API-NOTES gives the resource, the
 * scope's spelling is stsim's assumption).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/crm/crm_int.h"

static const char *const statuses[] = {"Open", "Dismissed", "Converted", NULL};
static const char *const priorities[] = {"Low", "Normal", "High", "Urgent", NULL};
static const char *const sort_fields[] = {"Id", "ModifiedOn", "CreatedOn", NULL};

static const struct sim_field create_fields[] = {
    {"customerId", SIM_F_INT, false, true},   {"locationId", SIM_F_INT, false, true},
    {"campaignId", SIM_F_INT, true, false},   {"businessUnitId", SIM_F_INT, false, true},
    {"jobTypeId", SIM_F_INT, false, true},    {"summary", SIM_F_STR, true, false},
    {"tagTypeIds", SIM_F_ARR, false, true},   {"priority", SIM_F_STR, false, true},
    {"callReasonId", SIM_F_INT, false, true}, {"followUpDate", SIM_F_TIME, false, true},
    {"bookingId", SIM_F_INT, false, true},    {"leadCustomerName", SIM_F_STR, false, true},
    {"leadPhone", SIM_F_STR, false, true},    {"leadEmail", SIM_F_STR, false, true},
    {"leadStreet", SIM_F_STR, false, true},   {"leadUnit", SIM_F_STR, false, true},
    {"leadCity", SIM_F_STR, false, true},     {"leadState", SIM_F_STR, false, true},
    {"leadZip", SIM_F_STR, false, true},      {"leadCountry", SIM_F_STR, false, true},
};

/* The nullable fields of a lead, in the response's order after the required ones. */
static const char *const optional_keys[] = {
    "customerId",   "locationId",   "businessUnitId", "jobTypeId",
    "followUpDate", "callReasonId", "bookingId",      "leadCustomerName",
    "leadPhone",    "leadEmail",    "leadStreet",     "leadUnit",
    "leadCity",     "leadState",    "leadZip",        "leadCountry",
};

static void check_ref(struct sim_call *c, const json_t *b, const char *key, enum sim_kind k,
                      json_t *errors)
{
    json_t *v = json_object_get(b, key);
    if (json_is_integer(v) && sim_get(c->tenant, k, json_integer_value(v)) == NULL)
        sim_crm_err(errors, key, "%s %lld was not found.", key, (long long)json_integer_value(v));
}

static bool check_create(struct sim_call *c)
{
    const json_t *b = sim_crm_body(c);
    json_t *errors = json_object();

    if (sim_check(b, "", create_fields, AP_COUNTOF(create_fields), errors)) {
        check_ref(c, b, "customerId", SIM_CUSTOMER, errors);
        check_ref(c, b, "locationId", SIM_LOCATION, errors);
        check_ref(c, b, "campaignId", SIM_CAMPAIGN, errors);
        check_ref(c, b, "businessUnitId", SIM_BUSINESS_UNIT, errors);
        check_ref(c, b, "jobTypeId", SIM_JOB_TYPE, errors);
        check_ref(c, b, "callReasonId", SIM_CALL_REASON, errors);
        check_ref(c, b, "bookingId", SIM_BOOKING, errors);
        sim_crm_check_enum(b, "", "priority", priorities, errors);
        sim_crm_check_int_array(json_object_get(b, "tagTypeIds"), "tagTypeIds", errors);
        if (json_string_length(json_object_get(b, "summary")) == 0)
            sim_crm_err(errors, "summary", "The Summary field is required.");
    }
    return sim_crm_errors_ok(c, errors);
}

/* A lead row from a checked LeadCreateRequest (or the seed's equivalent). */
static json_t *lead_row(struct sim_tenant *t, const json_t *b, const char *status)
{
    const char *prio = sim_crm_str(b, "priority");
    json_t *row = json_pack(
        "{s:s, s:s, s:O, s:I, s:o, s:n, s:s, s:n, s:n, s:n, s:s}", "status", status, "priority",
        *prio ? prio : "Normal", "campaignId", json_object_get(b, "campaignId"), "createdById",
        (json_int_t)sim_crm_creator(t), "tagTypeIds",
        sim_crm_int_array(json_object_get(b, "tagTypeIds")), "dismissingReasonId", "summary",
        sim_crm_str(b, "summary"), "callId", "manualCallId", "leadUrl", "captureSource", "Api");
    for (size_t i = 0; i < AP_COUNTOF(optional_keys); i++) {
        json_t *v = json_object_get(b, optional_keys[i]);
        json_object_set_new(row, optional_keys[i], v != NULL ? json_deep_copy(v) : json_null());
    }
    return row;
}

static void lead_create(struct sim_call *c)
{
    if (!check_create(c))
        return;
    int64_t id = sim_add(c->sim, c->tenant, SIM_LEAD, lead_row(c->tenant, sim_crm_body(c), "Open"));
    sim_reply(c, 200, sim_public(sim_get(c->tenant, SIM_LEAD, id)));
}

static void lead_get(struct sim_call *c)
{
    int64_t id;
    if (!sim_param_id(c, "id", &id))
        return;
    json_t *row = sim_get(c->tenant, SIM_LEAD, id);
    if (row == NULL)
        sim_not_found(c, "Lead not found");
    else
        sim_reply(c, 200, sim_public(row));
}

struct lead_filter {
    int64_t customer;
    const char *status, *name, *phone;
};

static bool lead_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    const struct lead_filter *f = ud;
    char want[64], have[64];

    if (f->customer != 0 && sim_row_int(row, "customerId") != f->customer)
        return false;
    if (f->status != NULL && strcmp(sim_crm_str(row, "status"), f->status) != 0)
        return false;
    if (f->name != NULL && !sim_crm_icontains(sim_crm_str(row, "leadCustomerName"), f->name))
        return false;
    if (f->phone == NULL)
        return true;
    sim_crm_digits(f->phone, want, sizeof(want));
    sim_crm_digits(sim_crm_str(row, "leadPhone"), have, sizeof(have));
    return *want != '\0' && strstr(have, want) != NULL;
}

static void lead_list(struct sim_call *c)
{
    struct lead_filter f = {0};
    struct sim_list_opts o = {.sort = sort_fields, .dates = true, .ud = &f};
    bool has;

    if (!sim_q_int64(c, "customerId", &has, &f.customer) ||
        !sim_q_enum(c, "status", statuses, &f.status))
        return;
    f.name = sim_query(c->req, "leadCustomerName");
    f.phone = sim_query(c->req, "leadPhone");
    f.name = f.name != NULL && *f.name ? f.name : NULL;
    f.phone = f.phone != NULL && *f.phone ? f.phone : NULL;
    if (f.customer != 0 || f.status != NULL || f.name != NULL || f.phone != NULL)
        o.match = lead_match;
    sim_list(c, SIM_LEAD, &o);
}

static json_t *export_present(struct sim_call *c, const json_t *row, void *ud)
{
    json_t *out = sim_public(row);
    json_object_set_new(out, "active", json_true()); /* leads are never deleted */
    return out;
}

static void lead_export(struct sim_call *c)
{
    struct sim_export_opts o = {.present = export_present};
    sim_export(c, SIM_LEAD, &o);
}

void sim_crm_lead_routes(struct sim *s, struct ap_router *r)
{
    const char *R = "tn.crm.leads:r", *W = "tn.crm.leads:w";
    sim_api_route(s, r, "GET", "crm", "/leads", R, lead_list);
    sim_api_route(s, r, "POST", "crm", "/leads", W, lead_create);
    sim_api_route(s, r, "GET", "crm", "/leads/:id", R, lead_get);
    sim_api_route(s, r, "GET", "crm", "/export/leads", R, lead_export);
}

/* ---- the demo seed ------------------------------------------------------------------- */

void sim_crm_seed_leads(struct sim *s, struct sim_tenant *t, size_t n, int64_t since)
{
    static const char *const summaries[] = {"Quote for a new AC unit", "Tankless water heater",
                                            "Whole-home surge protection", "Duct cleaning"};
    int64_t campaign = sim_count(t, SIM_CAMPAIGN) ? sim_row_id(sim_at(t, SIM_CAMPAIGN, 0)) : 0;

    for (size_t i = 0; i < n && campaign != 0; i++) {
        const json_t *cust = sim_at(t, SIM_CUSTOMER, (i * 37) % sim_count(t, SIM_CUSTOMER));
        const json_t *addr = json_object_get(cust, "address");
        json_t *b = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "campaignId",
                              (json_int_t)campaign, "summary", summaries[i % 4], "customerId",
                              (json_int_t)sim_row_id(cust), "leadCustomerName",
                              sim_crm_str(cust, "name"), "leadStreet", sim_crm_str(addr, "street"),
                              "leadCity", sim_crm_str(addr, "city"), "leadState",
                              sim_crm_str(addr, "state"), "leadZip", sim_crm_str(addr, "zip"));
        json_t *row = lead_row(t, b, i % 3 == 0 ? "Open" : i % 3 == 1 ? "Dismissed" : "Converted");
        json_t *at = sim_time_json(since + (int64_t)i * 86400 * AP_NS_PER_S);
        json_object_set(row, "createdOn", at);
        json_object_set_new(row, "modifiedOn", at);
        sim_add(s, t, SIM_LEAD, row);
        json_decref(b);
    }
}

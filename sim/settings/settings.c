/*
 * settings.c — stsim's reference data: Settings (business units,
 * technicians, employees, tag types), Marketing campaigns and JBCE call
 * reasons. Read-only lists and gets, their export feeds, and the demo seed.
 *
 * Rows carry exactly the properties of ServiceTitan's response schemas
 * (settings-v2, marketing-v2, jbce-v2); lists default to active rows only.
 * The dispatch seed runs after this one and fills technicians' zoneIds.
 */
#include <stdio.h>
#include <string.h>

#include "sim/core/api.h"
#include "sim/settings/settings.h"

/* ---- list filters ------------------------------------------------------- */

struct people_filter {
    const char *name;  /* contains, case-insensitive */
    const char *email; /* exact (employees) */
    const char *phone; /* campaignPhoneNumber */
    int64_t user_ids[SIM_Q_MAX_IDS];
    size_t nuser_ids;
};

static bool people_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    struct people_filter *f = ud;
    (void)c;
    (void)stop;
    if (f->name != NULL && !sim_ci_contains(sim_row_str(row, "name"), f->name))
        return false;
    if (f->email != NULL) {
        const char *e = sim_row_str(row, "email");
        if (e == NULL || strcmp(e, f->email) != 0)
            return false;
    }
    if (f->nuser_ids > 0 && !sim_ids_have(f->user_ids, f->nuser_ids, sim_row_int(row, "userId")))
        return false;
    if (f->phone != NULL) {
        bool found = false;
        size_t i;
        json_t *p;
        json_array_foreach (json_object_get(row, "campaignPhoneNumbers"), i, p) {
            if (json_is_string(p) && strcmp(json_string_value(p), f->phone) == 0)
                found = true;
        }
        if (!found)
            return false;
    }
    return true;
}

static bool people_filter_read(struct sim_call *c, struct people_filter *f, bool user_ids)
{
    memset(f, 0, sizeof(*f));
    f->name = sim_query(c->req, "name");
    if (f->name != NULL && f->name[0] == '\0')
        f->name = NULL;
    return !user_ids || sim_q_ids(c, "userIds", f->user_ids, &f->nuser_ids);
}

static void list_people(struct sim_call *c, enum sim_kind k, bool user_ids, bool email,
                        const char *const *sort)
{
    struct people_filter f;
    if (!people_filter_read(c, &f, user_ids))
        return;
    if (email) {
        f.email = sim_query(c->req, "email");
        if (f.email != NULL && f.email[0] == '\0')
            f.email = NULL;
    }
    if (k == SIM_CAMPAIGN) {
        f.phone = sim_query(c->req, "campaignPhoneNumber");
        if (f.phone != NULL && f.phone[0] == '\0')
            f.phone = NULL;
    }
    struct sim_list_opts o = {
        .active_filter = true,
        .active_default = "True",
        .sort = sort,
        .dates = true,
        .match = people_match,
        .ud = &f,
    };
    sim_list(c, k, &o);
}

static void get_one(struct sim_call *c, enum sim_kind k, const char *not_found)
{
    int64_t id;
    if (!sim_param_id(c, "id", &id))
        return;
    json_t *row = sim_get(c->tenant, k, id);
    if (row == NULL) {
        sim_not_found(c, not_found);
        return;
    }
    sim_reply(c, 200, sim_public(row));
}

/* ---- handlers ------------------------------------------------------------ */

static const char *const sort_std[] = {"Id", "ModifiedOn", "CreatedOn", NULL};
static const char *const sort_campaigns[] = {"Id", "Name", "CreatedOn", "ModifiedOn", NULL};

static void bu_list(struct sim_call *c)
{
    list_people(c, SIM_BUSINESS_UNIT, false, false, NULL);
}

static void bu_get(struct sim_call *c)
{
    get_one(c, SIM_BUSINESS_UNIT, "Business unit not found");
}

static void bu_export(struct sim_call *c)
{
    sim_export(c, SIM_BUSINESS_UNIT, NULL);
}

static void tech_list(struct sim_call *c)
{
    list_people(c, SIM_TECHNICIAN, true, false, NULL);
}

static void tech_get(struct sim_call *c)
{
    get_one(c, SIM_TECHNICIAN, "Technician not found");
}

static void tech_export(struct sim_call *c)
{
    sim_export(c, SIM_TECHNICIAN, NULL);
}

static void emp_list(struct sim_call *c)
{
    list_people(c, SIM_EMPLOYEE, true, true, NULL);
}

static void emp_get(struct sim_call *c)
{
    get_one(c, SIM_EMPLOYEE, "Employee not found");
}

static void emp_export(struct sim_call *c)
{
    sim_export(c, SIM_EMPLOYEE, NULL);
}

static void tag_list(struct sim_call *c)
{
    struct sim_list_opts o = {
        .active_filter = true, .active_default = "True", .sort = sort_std, .dates = true};
    sim_list(c, SIM_TAG_TYPE, &o);
}

static void tag_export(struct sim_call *c)
{
    sim_export(c, SIM_TAG_TYPE, NULL);
}

static void campaign_list(struct sim_call *c)
{
    list_people(c, SIM_CAMPAIGN, false, false, sort_campaigns);
}

static void campaign_get(struct sim_call *c)
{
    get_one(c, SIM_CAMPAIGN, "Campaign not found");
}

static void call_reason_list(struct sim_call *c)
{
    struct sim_list_opts o = {
        .active_filter = true, .active_default = "True", .sort = sort_std, .dates = true};
    sim_list(c, SIM_CALL_REASON, &o);
}

struct role_filter {
    const char *name, *type;
};

static bool role_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    const struct role_filter *f = ud;
    if (f->name != NULL && !sim_ci_contains(sim_row_str(row, "name"), f->name))
        return false;
    return f->type == NULL || strcmp(sim_row_str(row, "employeeType"), f->type) == 0;
}

/* GET /user-roles: ids, name, active, employeeType, createdBefore/OnOrAfter. */
static void role_list(struct sim_call *c)
{
    static const char *const types[] = {"Employee", "Technician", NULL};
    struct role_filter f = {sim_query(c->req, "name"), NULL};
    struct sim_list_opts o = {
        .active_filter = true, .active_default = "True", .dates = true, .ud = &f};
    if (!sim_q_enum(c, "employeeType", types, &f.type))
        return;
    f.name = f.name != NULL && *f.name ? f.name : NULL;
    if (f.name != NULL || f.type != NULL)
        o.match = role_match;
    sim_list(c, SIM_USER_ROLE, &o);
}

void sim_settings_routes(struct sim *s, struct ap_router *r)
{
    const char *bu = "tn.settings.businessunits:r", *te = "tn.settings.technicians:r";
    const char *em = "tn.settings.employees:r", *tt = "tn.settings.tagtypes:r";
    sim_api_route(s, r, "GET", "settings", "/business-units", bu, bu_list);
    sim_api_route(s, r, "GET", "settings", "/business-units/:id", bu, bu_get);
    sim_api_route(s, r, "GET", "settings", "/export/business-units", bu, bu_export);
    sim_api_route(s, r, "GET", "settings", "/technicians", te, tech_list);
    sim_api_route(s, r, "GET", "settings", "/technicians/:id", te, tech_get);
    sim_api_route(s, r, "GET", "settings", "/export/technicians", te, tech_export);
    sim_api_route(s, r, "GET", "settings", "/employees", em, emp_list);
    sim_api_route(s, r, "GET", "settings", "/employees/:id", em, emp_get);
    sim_api_route(s, r, "GET", "settings", "/export/employees", em, emp_export);
    sim_api_route(s, r, "GET", "settings", "/tag-types", tt, tag_list);
    sim_api_route(s, r, "GET", "settings", "/export/tag-types", tt, tag_export);
    sim_api_route(s, r, "GET", "settings", "/user-roles", "tn.settings.userroles:r", role_list);
    sim_api_route(s, r, "GET", "marketing", "/campaigns", "tn.marketing.campaigns:r",
                  campaign_list);
    sim_api_route(s, r, "GET", "marketing", "/campaigns/:id", "tn.marketing.campaigns:r",
                  campaign_get);
    sim_api_route(s, r, "GET", "jbce", "/call-reasons", "tn.jbce.callreasons:r", call_reason_list);
}

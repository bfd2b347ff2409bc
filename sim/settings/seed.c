/*
 * seed.c — the demo tenant's reference data (--seed demo): three
 * business units, eight technicians spread over them, office employees, tag
 * types, five marketing campaigns and the call reasons a CSR picks when
 * dismissing a booking. Fixed data, so every run seeds the same records.
 *
 * A few inactive rows (a former CSR, a retired campaign, tag type and call
 * reason) make the "active only by default" rule visible. The dispatch seed,
 * which runs next, fills technicians' zoneIds/mainZoneId.
 */
#include <stdio.h>
#include <string.h>

#include "sim/core/api.h"
#include "sim/settings/settings.h"

struct skill {
    int64_t id;
    const char *name;
};

/* Technician skills per business unit (index = business unit), matching the
 * job types' skill names in jpm_seed.c. */
static const struct skill bu_skills[3][2] = {
    {{101, "HVAC"}, {102, "EPA 608"}},
    {{201, "Plumbing"}, {202, "Water Heater"}},
    {{301, "Electrical"}, {302, "Panel Upgrade"}},
};

static const struct {
    const char *name, *official, *email, *phone, *trade;
} bus[3] = {
    {"HVAC Service", "Prairie Comfort HVAC Service", "hvac@prairiecomfort.example", "3125550100",
     "HVAC"},
    {"Plumbing Service", "Prairie Comfort Plumbing", "plumbing@prairiecomfort.example",
     "3125550101", "Plumbing"},
    {"Electrical Service", "Prairie Comfort Electric", "electric@prairiecomfort.example",
     "3125550102", "Electrical"},
};

static json_t *now_json(struct sim *s)
{
    return sim_time_json(sim_now(s));
}

static json_t *stamp(struct sim *s, json_t *row)
{
    json_object_set_new(row, "createdOn", now_json(s));
    json_object_set_new(row, "modifiedOn", now_json(s));
    return row;
}

static json_t *bu_row(struct sim *s, struct sim_tenant *t, int i)
{
    json_t *addr = json_pack("{s:s, s:n, s:s, s:s, s:s, s:s, s:f, s:f, s:b, s:b}", "street",
                             "2400 W Fulton St", "unit", "city", "Chicago", "state", "IL", "zip",
                             "60612", "country", "USA", "latitude", 41.875, "longitude", -87.625,
                             "isManualCoordinates", 0, "isMilitary", 0);
    json_t *tenant =
        json_pack("{s:I, s:s, s:n, s:n, s:n, s:o}", "id", (json_int_t)t->id, "name", t->name,
                  "accountCode", "franchiseId", "conceptCode", "modifiedOn", now_json(s));
    json_t *row = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:n, s:n, s:f, s:n, s:n, s:o}",
                            "active", 1, "name", bus[i].name, "officialName", bus[i].official,
                            "email", bus[i].email, "currency", "USD", "phoneNumber", bus[i].phone,
                            "invoiceHeader", "invoiceMessage", "defaultTaxRate", 0.0625,
                            "authorizationParagraph", "acknowledgementParagraph", "address", addr);
    char code[16];
    snprintf(code, sizeof(code), "BU-%d", i + 1);
    json_object_update_new(row, json_pack("{s:n, s:n, s:s, s:n, s:n, s:n}", "materialSku",
                                          "quickbooksClass", "accountCode", code, "franchiseId",
                                          "conceptCode", "corporateContractNumber"));
    json_object_set_new(row, "trade",
                        json_pack("{s:I, s:s}", "id", (json_int_t)(i + 1), "name", bus[i].trade));
    json_object_set_new(row, "division", json_null());
    json_object_set_new(row, "tagTypeIds", json_array());
    json_object_set_new(row, "tenant", tenant);
    json_object_set_new(row, "externalData", json_array());
    return stamp(s, row);
}

static const struct {
    const char *first, *last;
    int bu;
} techs[8] = {
    {"Marcus", "Reyes", 0},   {"Dana", "Kowalski", 0}, {"Tyrone", "Bell", 0},
    {"Priya", "Shah", 1},     {"Sam", "O'Leary", 1},   {"Hector", "Alvarez", 1},
    {"Grace", "Nakamura", 2}, {"Eli", "Brennan", 2},
};

static json_t *person_home(const char *street)
{
    return json_pack("{s:s, s:n, s:s, s:s, s:s, s:s}", "street", street, "unit", "country", "USA",
                     "city", "Chicago", "state", "IL", "zip", "60618");
}

static json_t *tech_row(struct sim *s, int i, int64_t bu_id)
{
    char name[64], email[96], login[32], phone[24], street[48];
    snprintf(name, sizeof(name), "%s %s", techs[i].first, techs[i].last);
    snprintf(login, sizeof(login), "%c%s", techs[i].first[0] | 0x20, techs[i].last);
    for (char *p = login; *p != '\0'; p++)
        *p = (*p >= 'A' && *p <= 'Z') ? (char)(*p | 0x20) : (*p == '\'' ? 'x' : *p);
    snprintf(email, sizeof(email), "%s@prairiecomfort.example", login);
    snprintf(phone, sizeof(phone), "31255502%02d", i + 10);
    snprintf(street, sizeof(street), "%d N Western Ave", 3100 + 12 * i);
    json_t *home = person_home(street);
    json_object_set_new(home, "streetAddress", json_string(street));
    json_object_set_new(home, "latitude", json_null());
    json_object_set_new(home, "longitude", json_null());
    json_t *skills = json_array();
    for (int k = 0; k < 2; k++) {
        const struct skill *sk = &bu_skills[techs[i].bu][k];
        json_array_append_new(skills,
                              json_pack("{s:I, s:s}", "id", (json_int_t)sk->id, "name", sk->name));
    }
    json_t *row = json_pack("{s:I, s:s, s:[], s:I, s:n, s:[], s:s, s:s, s:s, s:o, s:f, s:b, s:s}",
                            "userId", (json_int_t)s->next_id++, "name", name, "roleIds",
                            "businessUnitId", (json_int_t)bu_id, "mainZoneId", "zoneIds", "email",
                            email, "phoneNumber", phone, "loginName", login, "home", home,
                            "dailyGoal", 1800.0, "isManagedTech", 1, "licenseType", "ManagedTech");
    json_object_update_new(row,
                           json_pack("{s:[], s:b, s:n, s:f, s:s, s:n, s:[], s:b, s:f, s:n}",
                                     "customFields", "active", 1, "aadUserId", "burdenRate", 12.5,
                                     "team", "Service", "jobFilter", "permissions", "accountLocked",
                                     0, "commissionRate", 0.0625, "currentValue"));
    json_object_update_new(row, json_pack("{s:s, s:s, s:f, s:n, s:s, s:n, s:n, s:n, s:n, s:n, s:n}",
                                          "firstName", techs[i].first, "lastName", techs[i].last,
                                          "hourlyRate", 34.0, "jobId", "mobilePhone", phone,
                                          "outboundCallerId", "payrollId", "payrollProfileId",
                                          "appoitmentId", "shiftStart", "shiftEnd"));
    json_object_update_new(row, json_pack("{s:f, s:s, s:s, s:o, s:[s], s:n, s:n, s:n}",
                                          "soldByRate", 0.0, "startDate", "2021-03-01T00:00:00Z",
                                          "status", "Idle", "skills", skills, "positions",
                                          "Service", "location", "bio", "memo"));
    return stamp(s, row);
}

static const struct {
    const char *first, *last, *role;
    bool active;
} emps[7] = {
    {"Olivia", "Grant", "CSR", true},      {"Ben", "Carter", "CSR", true},
    {"Mia", "Lopez", "CSR", true},         {"Frank", "Duval", "Dispatch", true},
    {"Rosa", "Jimenez", "Dispatch", true}, {"Karen", "Whitfield", "Admin", true},
    {"Jordan", "Pike", "CSR", false},
};

static json_t *emp_row(struct sim *s, int i)
{
    char name[64], email[96], login[32], phone[24];
    snprintf(name, sizeof(name), "%s %s", emps[i].first, emps[i].last);
    snprintf(login, sizeof(login), "%s.%s", emps[i].first, emps[i].last);
    for (char *p = login; *p != '\0'; p++)
        *p = (*p >= 'A' && *p <= 'Z') ? (char)(*p | 0x20) : *p;
    snprintf(email, sizeof(email), "%s@prairiecomfort.example", login);
    snprintf(phone, sizeof(phone), "31255503%02d", i + 10);
    json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:n, s:s, s:[], s:n, s:s, s:s, s:s, s:b}",
                            "userId", (json_int_t)s->next_id++, "name", name, "firstName",
                            emps[i].first, "lastName", emps[i].last, "managerId", "role",
                            emps[i].role, "roleIds", "businessUnitId", "email", email,
                            "phoneNumber", phone, "loginName", login, "active", emps[i].active);
    json_object_update_new(row, json_pack("{s:n, s:b, s:n, s:i, s:s, s:n, s:f, s:n, s:[], s:[]}",
                                          "aadUserId", "accountLocked", 0, "home", "agentId",
                                          1000 + i, "startDate", "2020-06-15T00:00:00Z",
                                          "terminationDate", "hourlyRate", 22.0,
                                          "overtimeProfileId", "customFields", "permissions"));
    if (!emps[i].active)
        json_object_set_new(row, "terminationDate", json_string("2024-12-31T00:00:00Z"));
    return stamp(s, row);
}

static void seed_tag_types(struct sim *s, struct sim_tenant *t)
{
    static const struct {
        const char *name, *color, *code, *importance;
        bool conv, active;
    } tags[6] = {
        {"Online Booking", "#2E86DE", "WEB", "Medium", true, true},
        {"VIP Customer", "#F39C12", "VIP", "High", false, true},
        {"Warranty", "#27AE60", "WAR", NULL, false, true},
        {"Follow Up", "#8E44AD", "FUP", "Medium", true, true},
        {"Membership", "#16A085", "MEM", NULL, false, true},
        {"Old Promo", "#7F8C8D", "OLD", NULL, false, false},
    };
    for (int i = 0; i < 6; i++) {
        json_t *row =
            json_pack("{s:s, s:s, s:s, s:s?, s:b, s:b, s:b, s:b}", "name", tags[i].name, "color",
                      tags[i].color, "code", tags[i].code, "importance", tags[i].importance,
                      "isConversionOpportunity", tags[i].conv, "allowToUseOnTimesheetActivity", 0,
                      "isVisibleOnDispatchBoard", 1, "active", tags[i].active);
        sim_add(s, t, SIM_TAG_TYPE, stamp(s, row));
    }
}

static void seed_campaigns(struct sim *s, struct sim_tenant *t)
{
    static const struct {
        const char *name, *category, *source, *medium, *phone;
        bool active;
    } camps[6] = {
        {"Google Ads", "Paid Search", "Google", "Search", "3125550190", true},
        {"Website", "Online", "Website", "Organic", "3125550191", true},
        {"Yelp", "Online", "Yelp", "Directory", "3125550192", true},
        {"Referral", "Word of Mouth", "Customer", "Referral", NULL, true},
        {"Direct Mail", "Print", "Mailer", "Print", "3125550194", true},
        {"Radio Spring 2019", "Broadcast", "Radio", "Radio", "3125550195", false},
    };
    for (int i = 0; i < 6; i++) {
        json_t *phones = json_array();
        if (camps[i].phone != NULL)
            json_array_append_new(phones, json_string(camps[i].phone));
        json_t *row =
            json_pack("{s:s, s:b, s:b, s:{s:I, s:s, s:b}, s:s, s:n, s:n, s:s, s:n, s:o}", "name",
                      camps[i].name, "active", camps[i].active, "isDefaultCampaign", i == 1,
                      "category", "id", (json_int_t)(11 + i), "name", camps[i].category, "active",
                      1, "source", camps[i].source, "otherSource", "businessUnit", "medium",
                      camps[i].medium, "otherMedium", "campaignPhoneNumbers", phones);
        sim_add(s, t, SIM_CAMPAIGN, stamp(s, row));
    }
}

static void seed_call_reasons(struct sim *s, struct sim_tenant *t)
{
    static const struct {
        const char *name;
        bool lead, active;
    } reasons[7] = {
        {"Price shopping", true, true},     {"Outside service area", false, true},
        {"Duplicate request", false, true}, {"Customer will call back", true, true},
        {"Wrong number", false, true},      {"Spam", false, true},
        {"Test call", false, false},
    };
    for (int i = 0; i < 7; i++) {
        json_t *row = json_pack("{s:s, s:b, s:b}", "name", reasons[i].name, "isLead",
                                reasons[i].lead, "active", reasons[i].active);
        sim_add(s, t, SIM_CALL_REASON, stamp(s, row));
    }
}

static void seed_user_roles(struct sim *s, struct sim_tenant *t)
{
    static const struct {
        const char *name, *type;
        bool active;
    } roles[] = {{"Admin", "Employee", true},
                 {"Dispatcher", "Employee", true},
                 {"Customer Service Rep", "Employee", true},
                 {"Field Manager", "Employee", true},
                 {"Technician", "Technician", true},
                 {"Seasonal Helper", "Technician", false}};
    for (size_t i = 0; i < AP_COUNTOF(roles); i++)
        sim_add(s, t, SIM_USER_ROLE,
                json_pack("{s:b, s:s, s:o, s:s}", "active", roles[i].active, "name", roles[i].name,
                          "createdOn", now_json(s), "employeeType", roles[i].type));
}

void sim_settings_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng)
{
    (void)rng;
    if (t->empty)
        return;
    int64_t bu_ids[3];
    for (int i = 0; i < 3; i++)
        bu_ids[i] = sim_add(s, t, SIM_BUSINESS_UNIT, bu_row(s, t, i));
    for (int i = 0; i < 8; i++)
        sim_add(s, t, SIM_TECHNICIAN, tech_row(s, i, bu_ids[techs[i].bu]));
    for (int i = 0; i < 7; i++)
        sim_add(s, t, SIM_EMPLOYEE, emp_row(s, i));
    seed_tag_types(s, t);
    seed_campaigns(s, t);
    seed_call_reasons(s, t);
    seed_user_roles(s, t);
}

/*
 * crm_seed.c — the demo tenant's CRM records: two booking provider tags
 * ("appointd" for the demo app, "Angi Leads"), 200 customers in the Dallas
 * and Austin areas (mostly residential, some commercial) with one or two
 * locations each and phone/mobile/email contacts, a few merged customers
 * (inactive, mergedToId set, their locations too), one Do Not Service
 * customer, external data on every tenth customer (key "legacyId", value
 * "L-<n>", application guid CRM_SEED_GUID), and a few existing bookings.
 * Everything is derived from the rng given, so the same seed gives the same
 * records (timestamps are relative to the emulator clock).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/crm/crm.h"
#include "core/mem.h"
#include "sim/crm/crm_int.h"

#define CRM_SEED_GUID "6f1c2a4e-9b7d-4c3e-8a15-2d0f7e9b1c55"
#define DAY_NS        (86400LL * 1000000000LL)

static const char *const first_names[] = {
    "James",  "Maria",  "Robert", "Linda", "Michael", "Patricia", "David",  "Jennifer",
    "Carlos", "Susan",  "Daniel", "Karen", "Jose",    "Nancy",    "Thomas", "Lisa",
    "Kevin",  "Angela", "Brian",  "Emily", "Luis",    "Rachel",   "Eric",   "Sandra",
};
static const char *const last_names[] = {
    "Garcia", "Johnson",  "Smith",  "Martinez",  "Brown", "Davis",   "Rodriguez", "Wilson",
    "Lopez",  "Anderson", "Taylor", "Hernandez", "Moore", "Jackson", "Nguyen",    "Lee",
    "Walker", "Perez",    "Hall",   "Young",     "Allen", "Sanchez", "Wright",    "King",
};
static const char *const companies[] = {
    "Lone Star Dental",       "Riverside Apartments", "Bluebonnet Bakery",
    "Trinity Office Park",    "Lakeside Church",      "Pecan Street Cafe",
    "Mockingbird Vet Clinic", "Oak Lawn Fitness",     "Barton Creek Offices",
    "Deep Ellum Lofts",       "Hill Country Storage", "Uptown Property Mgmt",
};
static const char *const dallas_streets[] = {
    "Elm St",        "Main St",        "Commerce St",  "Ross Ave",    "McKinney Ave",
    "Lemmon Ave",    "Greenville Ave", "Swiss Ave",    "Gaston Ave",  "Mockingbird Ln",
    "Preston Rd",    "Forest Ln",      "Abrams Rd",    "Skillman St", "Inwood Rd",
    "Northwest Hwy", "Lovers Ln",      "Hillcrest Rd", "Marsh Ln",    "Royal Ln",
};
static const char *const austin_streets[] = {
    "Congress Ave",     "Lamar Blvd",        "Guadalupe St",      "Burnet Rd",    "Cesar Chavez St",
    "Riverside Dr",     "Oltorf St",         "Manor Rd",          "Airport Blvd", "Duval St",
    "Speedway",         "Enfield Rd",        "Barton Springs Rd", "Slaughter Ln", "Parmer Ln",
    "Anderson Mill Rd", "William Cannon Dr", "Koenig Ln",         "Rundberg Ln",  "Springdale Rd",
};
static const char *const dallas_cities[] = {"Dallas", "Dallas", "Dallas", "Richardson"};
static const char *const austin_cities[] = {"Austin", "Austin", "Austin", "Sunset Valley"};

#define PICK(rng, arr) (arr)[sim_rand_range((rng), 0, (int)AP_COUNTOF(arr) - 1)]

static json_t *seed_address(struct sim_rng *rng, bool dallas)
{
    char street[96], zip[8];
    snprintf(street, sizeof street, "%d %s", sim_rand_range(rng, 100, 9899),
             dallas ? PICK(rng, dallas_streets) : PICK(rng, austin_streets));
    snprintf(zip, sizeof zip, "%d",
             dallas ? sim_rand_range(rng, 75201, 75252) : sim_rand_range(rng, 78701, 78759));
    /* in 1/10000 degrees, so each is the double nearest its 4-decimal text */
    double lat = ((dallas ? 327800 : 302700) + sim_rand_range(rng, -900, 900)) / 10000.0;
    double lon = ((dallas ? -968000 : -977400) + sim_rand_range(rng, -900, 900)) / 10000.0;
    return json_pack("{s:s, s:n, s:s, s:s, s:s, s:s, s:f, s:f}", "street", street, "unit", "city",
                     dallas ? PICK(rng, dallas_cities) : PICK(rng, austin_cities), "state", "TX",
                     "zip", zip, "country", "USA", "latitude", lat, "longitude", lon);
}

/*
 * The demo's first 200 customers share the 555-01xx numbers reserved for
 * fiction (so phone searches find several); those a larger --scale adds get
 * 555-0200..555-9999 on six area codes, distinct for the first 58,800 of them.
 */
static void seed_phone(struct sim_rng *rng, int i, bool dallas, char out[16])
{
    static const char *const dal[] = {"214", "469", "972"}, *const aus[] = {"512", "737"};
    static const char *const all[] = {"214", "469", "972", "945", "512", "737"};
    const char *area = dallas ? PICK(rng, dal) : PICK(rng, aus);
    int line = sim_rand_range(rng, 100, 199);

    if (i >= SIM_CRM_DEMO_CUSTOMERS) {
        int n = i - SIM_CRM_DEMO_CUSTOMERS;
        area = all[n % 6];
        line = 200 + (n / 6) % 9800;
    }
    snprintf(out, 16, "%s555%04d", area, line);
}

/* Sets createdOn/modifiedOn of row to at. */
static void stamp(json_t *row, int64_t at)
{
    json_object_set_new(row, "createdOn", sim_time_json(at));
    json_object_set_new(row, "modifiedOn", sim_time_json(at));
}

static void seed_contact(struct sim *s, struct sim_tenant *t, enum sim_kind k,
                         const char *owner_key, int64_t owner, const char *type, const char *value,
                         int64_t at)
{
    json_t *in = json_pack("{s:s, s:s}", "type", type, "value", value);
    json_t *row = sim_crm_contact_row(s, in, owner_key, owner);
    json_decref(in);
    stamp(row, at);
    sim_add(s, t, k, row);
}

struct seed_person {
    char name[96], email[128], phone[16];
    bool commercial, dallas;
};

/* The person behind customer (or booking) i; phone_i picks the phone numbering (seed_phone). */
static void seed_person(struct sim_rng *rng, int i, int phone_i, struct seed_person *p)
{
    p->commercial = sim_rand_range(rng, 1, 100) <= 15;
    p->dallas = sim_rand_range(rng, 1, 100) <= 55;
    if (p->commercial) {
        snprintf(p->name, sizeof p->name, "%s #%d", PICK(rng, companies), i + 1);
        snprintf(p->email, sizeof p->email, "office%d@example.com", i + 1);
    } else {
        const char *first = PICK(rng, first_names), *last = PICK(rng, last_names);
        snprintf(p->name, sizeof p->name, "%s %s", first, last);
        snprintf(p->email, sizeof p->email, "%c.%s%d@example.com", first[0] | 0x20, last, i + 1);
        for (char *q = p->email; *q; q++)
            if (*q >= 'A' && *q <= 'Z')
                *q |= 0x20;
    }
    seed_phone(rng, phone_i, p->dallas, p->phone);
}

static json_t *seed_customer_body(struct sim_rng *rng, int i, const struct seed_person *p)
{
    json_t *addr = seed_address(rng, p->dallas);
    json_t *b = json_pack("{s:s, s:s, s:o}", "name", p->name, "type",
                          p->commercial ? "Commercial" : "Residential", "address", addr);
    if (i % 10 == 3) {
        char legacy[16];
        snprintf(legacy, sizeof legacy, "L-%d", 1000 + i);
        json_object_set_new(b, "externalData",
                            json_pack("{s:s, s:[{s:s, s:s}]}", "applicationGuid", CRM_SEED_GUID,
                                      "externalData", "key", "legacyId", "value", legacy));
    }
    return b;
}

/* One customer with its locations and contacts; returns its id. */
static int64_t seed_customer(struct sim *s, struct sim_tenant *t, struct sim_rng *rng, int i,
                             int64_t at)
{
    struct seed_person p;
    seed_person(rng, i, i, &p);
    json_t *b = seed_customer_body(rng, i, &p);
    json_t *row =
        json_pack("{s:b, s:s, s:s, s:O, s:[], s:f, s:b, s:[], s:b, s:b, s:b, s:I, "
                  "s:n, s:n, s:n, s:n}",
                  "active", 1, "name", p.name, "type", p.commercial ? "Commercial" : "Residential",
                  "address", json_object_get(b, "address"), "customFields", "balance", 0.0,
                  "taxExempt", 0, "tagTypeIds", "doNotMail", 0, "doNotService", 0,
                  "nationalAccount", p.commercial, "createdById", (json_int_t)sim_crm_creator(t),
                  "mergedToId", "paymentTermId", "creditLimit", "creditLimitBalance");
    stamp(row, at);
    sim_ext_set(row, json_object_get(b, "externalData"));
    int64_t id = sim_add(s, t, SIM_CUSTOMER, row);

    bool mobile = sim_rand_range(rng, 0, 1);
    seed_contact(s, t, SIM_CUSTOMER_CONTACT, "_customerId", id, mobile ? "MobilePhone" : "Phone",
                 p.phone, at);
    if (sim_rand_range(rng, 1, 100) <= 80)
        seed_contact(s, t, SIM_CUSTOMER_CONTACT, "_customerId", id, "Email", p.email, at);

    int nloc = sim_rand_range(rng, 1, 100) <= (p.commercial ? 60 : 20) ? 2 : 1;
    for (int l = 0; l < nloc; l++) {
        json_t *in = json_pack(
            "{s:s, s:O}", "name",
            l == 0 ? (p.commercial ? "Main Office" : "Home")
                   : (p.commercial ? "Warehouse" : "Rental"),
            "address", l == 0 ? json_object_get(b, "address") : seed_address(rng, p.dallas));
        if (l == 1)
            json_decref(json_object_get(in, "address")); /* O took a second reference */
        json_t *loc = sim_crm_location_add(s, t, id, in);
        int64_t lid = sim_row_id(loc);
        json_t *lrow = sim_get(t, SIM_LOCATION, lid);
        stamp(lrow, at);
        sim_touch(s, t, SIM_LOCATION, lrow, false);
        if (l == 0)
            seed_contact(s, t, SIM_LOCATION_CONTACT, "_locationId", lid,
                         mobile ? "MobilePhone" : "Phone", p.phone, at);
        json_decref(loc);
        json_decref(in);
    }
    json_decref(b);
    return id;
}

static int64_t seed_tag(struct sim *s, struct sim_tenant *t, const char *name, const char *desc,
                        int64_t at)
{
    json_t *row = json_pack("{s:s, s:s, s:s, s:b}", "tagName", name, "description", desc, "type",
                            "V2Api", "active", 1);
    stamp(row, at);
    return sim_add(s, t, SIM_BOOKING_PROVIDER_TAG, row);
}

static int64_t first_id(struct sim_tenant *t, enum sim_kind k)
{
    return sim_count(t, k) ? sim_row_id(sim_at(t, k, 0)) : 0;
}

static void seed_booking(struct sim *s, struct sim_tenant *t, struct sim_rng *rng, int64_t pid,
                         bool angi, int n, int64_t at, bool dismissed)
{
    struct seed_person p;
    seed_person(rng, 500 + n, 0, &p);
    char ext[32], summary[96];
    snprintf(ext, sizeof ext, "%s-%04d", angi ? "angi" : "web", 7000 + n);
    snprintf(summary, sizeof summary, "%s",
             n % 2 ? "AC is blowing warm air" : "Water heater leaking in garage");
    int64_t campaign = first_id(t, SIM_CAMPAIGN), bu = first_id(t, SIM_BUSINESS_UNIT);
    json_t *row = json_pack(
        "{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:b, s:n, s:b, s:s, s:n, s:n, s:s, s:s, s:n, "
        "s:I, s:s, s:I}",
        "source", angi ? "Angi" : "Website", "name", p.name, "address", seed_address(rng, p.dallas),
        "customerType", p.commercial ? "Commercial" : "Residential", "start",
        sim_time_json(at + 2 * DAY_NS), "campaignId",
        campaign ? json_integer(campaign) : json_null(), "businessUnitId",
        bu ? json_integer(bu) : json_null(), "isFirstTimeClient", 1, "uploadedImages",
        "isSendConfirmationEmail", 0, "status", dismissed ? "Dismissed" : "New",
        "dismissingReasonId", "jobId", "externalId", ext, "priority", "Normal", "jobTypeId",
        "bookingProviderId", (json_int_t)pid, "summary", summary, "_providerId", (json_int_t)pid);
    json_object_del(json_object_get(row, "address"), "latitude");
    json_object_del(json_object_get(row, "address"), "longitude");
    stamp(row, at);
    int64_t id = sim_add(s, t, SIM_BOOKING, row);
    json_t *c = json_pack("{s:s, s:s, s:s, s:o, s:I}", "type", "Phone", "value", p.phone, "memo",
                          "", "modifiedOn", sim_time_json(at), "_bookingId", (json_int_t)id);
    sim_add(s, t, SIM_BOOKING_CONTACT, c);
}

/* The merged duplicates and Do Not Service customers of the demo, and one of each per
 * thousand customers a larger scale adds. */
static void seed_special(struct sim *s, struct sim_tenant *t, const int64_t *ids, size_t n)
{
    static const int merged[][2] = {{57, 12}, {121, 88}, {176, 140}};
    for (size_t i = 0; i < AP_COUNTOF(merged); i++) {
        if ((size_t)merged[i][0] < n)
            sim_crm_merge(s, t, ids[merged[i][0]], ids[merged[i][1]]);
    }
    for (size_t i = SIM_CRM_DEMO_CUSTOMERS; i < n; i++) {
        if (i % 1000 == 500)
            sim_crm_merge(s, t, ids[i], ids[i - 1]);
    }
    for (size_t i = 42; i < n; i += 1000) {
        json_t *dns = sim_get(t, SIM_CUSTOMER, ids[i]);
        if (json_is_integer(json_object_get(dns, "mergedToId")))
            continue;
        json_object_set_new(dns, "doNotService", json_true());
        sim_touch(s, t, SIM_CUSTOMER, dns, false);
    }
}

static void seed_field_types(struct sim *s, struct sim_tenant *t)
{
    static const char *const times[] = {"Morning", "Afternoon", "Evening", NULL};
    static const char *const yes_no[] = {"Yes", "No", NULL};
    sim_custom_field_type_add(s, t, "customer", "Preferred Contact Time", "Dropdown", times);
    sim_custom_field_type_add(s, t, "customer", "Referral Source", "Text", NULL);
    sim_custom_field_type_add(s, t, "location", "Gate Code", "Text", NULL);
    sim_custom_field_type_add(s, t, "location", "Pets On Site", "Dropdown", yes_no);
    sim_custom_field_type_add(s, t, "location", "Year Built", "Numeric", NULL);
}

void sim_crm_seed_provider_tags(struct sim *s, struct sim_tenant *t)
{
    int64_t base = sim_now(s) - 400 * DAY_NS;

    seed_tag(s, t, "appointd", "Online booking widget (appointd)", base);
    seed_tag(s, t, "Angi Leads", "Leads forwarded from Angi", base);
}

void sim_crm_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng, size_t scale)
{
    int64_t now = sim_now(s), base = now - 400 * DAY_NS;
    int64_t appointd = sim_count(t, SIM_BOOKING_PROVIDER_TAG) > 0
                           ? sim_row_id(sim_at(t, SIM_BOOKING_PROVIDER_TAG, 0))
                           : 0;
    int64_t angi = sim_count(t, SIM_BOOKING_PROVIDER_TAG) > 1
                       ? sim_row_id(sim_at(t, SIM_BOOKING_PROVIDER_TAG, 1))
                       : appointd;
    int64_t *ids = ap_xmalloc((scale + 1) * sizeof(*ids));

    seed_field_types(s, t);
    for (size_t i = 0; i < scale; i++) {
        int64_t at = base + (int64_t)i * (390 * DAY_NS / (int64_t)scale) +
                     sim_rand_range(rng, 0, 3600) * AP_NS_PER_S;
        ids[i] = seed_customer(s, t, rng, (int)i, at);
    }
    seed_special(s, t, ids, scale);
    free(ids);
    for (int n = 0; n < 4; n++)
        seed_booking(s, t, rng, n < 2 ? appointd : angi, n >= 2, n, now - (4 - n) * DAY_NS, n == 3);
    sim_crm_seed_leads(s, t, scale / 100, base + 30 * DAY_NS);
    /* bookings in proportion: one per 50 customers, the older ones handled long ago */
    for (int n = 4; (size_t)n < scale / 50; n++)
        seed_booking(s, t, rng, n % 2 ? angi : appointd, n % 2, n,
                     base + (int64_t)n * (380 * DAY_NS / (int64_t)(scale / 50)), true);
}

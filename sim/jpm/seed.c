/*
 * seed.c — the demo tenant's job planning data (--seed demo): job types
 * with realistic durations mapped to the three business units, job cancel
 * and hold reasons, and a few existing jobs for seeded customers — four
 * booked over the next days (so capacity starts partly used) and one
 * completed yesterday. Runs after the settings, dispatch and crm seeds.
 *
 * Everything is deterministic: fixed data, times derived from the emulator
 * clock's current day in the tenant's zone, customers picked with the seed's
 * PRNG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/jpm/jpm.h"
#include "sim/jpm/jpm_int.h"
#include "tz/tz.h"

#define HOUR 3600

static const struct {
    const char *name, *cls, *priority;
    int bu; /* business unit index; -1 = all */
    int duration_s;
    const char *skills[2];
    bool active;
} job_types[] = {
    {"AC Repair", "Service", "High", 0, 2 * HOUR, {"HVAC", "EPA 608"}, true},
    {"AC Tune-Up", "Maintenance", "Normal", 0, 3 * HOUR / 2, {"HVAC", NULL}, true},
    {"Furnace Repair", "Service", "High", 0, 2 * HOUR, {"HVAC", NULL}, true},
    {"Furnace Tune-Up", "Maintenance", "Normal", 0, 3 * HOUR / 2, {"HVAC", NULL}, true},
    {"Drain Cleaning", "Service", "Normal", 1, 3 * HOUR / 2, {"Plumbing", NULL}, true},
    {"Leak Repair", "Service", "High", 1, 1 * HOUR, {"Plumbing", NULL}, true},
    {"Water Heater Repair", "Service", "Normal", 1, 2 * HOUR, {"Plumbing", "Water Heater"}, true},
    {"Water Heater Install", "Install", "Normal", 1, 4 * HOUR, {"Plumbing", "Water Heater"}, true},
    {"Electrical Troubleshooting",
     "Service",
     "Normal",
     2,
     3 * HOUR / 2,
     {"Electrical", NULL},
     true},
    {"Electrical Panel Upgrade",
     "Install",
     "Normal",
     2,
     6 * HOUR,
     {"Electrical", "Panel Upgrade"},
     true},
    {"In-Home Estimate", "Sales", "Low", -1, 1 * HOUR, {NULL, NULL}, true},
    {"Humidifier Install (discontinued)", "Install", "Low", 0, 3 * HOUR, {"HVAC", NULL}, false},
};
#define N_JOB_TYPES (AP_COUNTOF(job_types))

static json_t *stamp(struct sim *s, json_t *row)
{
    json_object_set_new(row, "createdOn", sim_time_json(sim_now(s)));
    json_object_set_new(row, "modifiedOn", sim_time_json(sim_now(s)));
    return row;
}

/* Business unit ids in table order (the settings seed adds HVAC, Plumbing, Electrical). */
static size_t bu_ids(struct sim_tenant *t, int64_t out[3])
{
    size_t n = 0;
    for (size_t i = 0; i < sim_count(t, SIM_BUSINESS_UNIT) && n < 3; i++)
        out[n++] = sim_row_id(sim_at(t, SIM_BUSINESS_UNIT, i));
    return n;
}

static void seed_job_types(struct sim *s, struct sim_tenant *t, int64_t *ids)
{
    int64_t bus[3];
    size_t nbu = bu_ids(t, bus);
    for (size_t i = 0; i < N_JOB_TYPES; i++) {
        json_t *b = json_array(), *skills = json_array();
        for (size_t k = 0; k < nbu; k++) {
            if (job_types[i].bu < 0 || (size_t)job_types[i].bu == k)
                json_array_append_new(b, json_integer(bus[k]));
        }
        for (int k = 0; k < 2 && job_types[i].skills[k] != NULL; k++)
            json_array_append_new(skills, json_string(job_types[i].skills[k]));
        json_t *row = json_pack(
            "{s:s, s:o, s:o, s:[], s:s, s:I, s:n, s:s, s:s, s:b, s:n, s:b, s:[], s:b, s:b}", "name",
            job_types[i].name, "businessUnitIds", b, "skills", skills, "tagTypeIds", "priority",
            job_types[i].priority, "duration", (json_int_t)job_types[i].duration_s, "soldThreshold",
            "class", job_types[i].cls, "summary", "", "noCharge", 0,
            "enforceRecurringServiceEventSelection", "invoiceSignaturesRequired", 0, "externalData",
            "active", job_types[i].active, "isSmartDispatched", 0);
        ids[i] = sim_add(s, t, SIM_JOB_TYPE, stamp(s, row));
    }
}

static void seed_reasons(struct sim *s, struct sim_tenant *t)
{
    static const struct {
        const char *name;
        bool active;
    } cancel[] = {{"Customer canceled", true},
                  {"Scheduling conflict", true},
                  {"Hired another contractor", true},
                  {"Price too high", true},
                  {"Duplicate job", true},
                  {"Weather (legacy)", false}},
      hold[] = {{"Waiting on parts", true},
                {"Customer requested", true},
                {"Awaiting approval", true},
                {"Permit pending", true}};
    for (size_t i = 0; i < AP_COUNTOF(cancel); i++)
        sim_add(
            s, t, SIM_JOB_CANCEL_REASON,
            stamp(s, json_pack("{s:s, s:b}", "name", cancel[i].name, "active", cancel[i].active)));
    for (size_t i = 0; i < AP_COUNTOF(hold); i++)
        sim_add(s, t, SIM_JOB_HOLD_REASON,
                stamp(s, json_pack("{s:s, s:b}", "name", hold[i].name, "active", hold[i].active)));
}

/* ---- existing jobs ------------------------------------------------------------ */

static bool bookable(const json_t *cust)
{
    return json_is_true(json_object_get(cust, "active")) &&
           !json_is_true(json_object_get(cust, "doNotService")) &&
           !json_is_integer(json_object_get(cust, "mergedToId"));
}

static int64_t location_of(struct sim_tenant *t, int64_t customer_id)
{
    size_t n;
    int64_t *ids = jpm_ids_by(t, SIM_LOCATION, "customerId", customer_id, &n), found = 0;
    for (size_t i = 0; i < n && found == 0; i++) {
        json_t *l = sim_get(t, SIM_LOCATION, ids[i]);
        if (l != NULL && json_is_true(json_object_get(l, "active")))
            found = ids[i];
    }
    free(ids);
    return found;
}

/* A bookable customer with a location, starting the search at a random index. */
static int64_t pick_customer(struct sim_tenant *t, struct sim_rng *rng, int64_t *location)
{
    size_t n = sim_count(t, SIM_CUSTOMER);
    if (n == 0)
        return 0;
    size_t at = (size_t)sim_rand_range(rng, 0, (int)n - 1);
    for (size_t k = 0; k < n; k++) {
        json_t *c = sim_at(t, SIM_CUSTOMER, (at + k) % n);
        if (!bookable(c))
            continue;
        *location = location_of(t, sim_row_id(c));
        if (*location != 0)
            return sim_row_id(c);
    }
    return 0;
}

static int64_t tech_of_bu(struct sim_tenant *t, int64_t bu, int nth)
{
    int seen = 0;
    for (size_t i = 0; i < sim_count(t, SIM_TECHNICIAN); i++) {
        json_t *te = sim_at(t, SIM_TECHNICIAN, i);
        if (sim_row_int(te, "businessUnitId") == bu && seen++ == nth)
            return sim_row_id(te);
    }
    return 0;
}

/* The instant of local hour h on the day `days` after today, in t's zone. */
static int64_t local_at(struct sim *s, struct sim_tenant *t, int days, int h)
{
    struct ap_tz_local l;
    int64_t ns = 0;
    int64_t when = sim_now(s) + (int64_t)days * 86400 * 1000000000LL;
    if (ap_tz_utc_to_local(t->tz, when, &l) != AP_OK ||
        ap_tz_local_to_utc(t->tz, l.y, l.mon, l.d, h, 0, 0, &ns) != AP_OK)
        ns = (when / (86400 * 1000000000LL)) * 86400 * 1000000000LL +
             (int64_t)h * HOUR * 1000000000LL;
    return ns;
}

struct seed_job {
    size_t job_type; /* index into job_types */
    int days, hour;  /* local start: today + days, at hour */
};

static json_t *seed_job(struct sim *s, struct sim_tenant *t, struct sim_rng *rng,
                        const int64_t *jt_ids, const struct seed_job *sj)
{
    int64_t loc = 0, cust = pick_customer(t, rng, &loc), bus[3];
    size_t nbu = bu_ids(t, bus);
    if (cust == 0 || nbu < 3 || sim_count(t, SIM_CAMPAIGN) == 0)
        return NULL;
    int bu_index = job_types[sj->job_type].bu < 0 ? 0 : job_types[sj->job_type].bu;
    int64_t start = local_at(s, t, sj->days, sj->hour);
    int64_t end = start + (int64_t)job_types[sj->job_type].duration_s * 1000000000LL;
    int64_t tech = tech_of_bu(t, bus[bu_index], sj->days < 0 ? -sj->days % 2 : sj->days % 2);
    json_t *techs = json_array();
    if (tech != 0)
        json_array_append_new(techs, json_integer(tech));
    json_t *appt = json_pack("{s:o, s:o, s:o, s:o, s:o}", "start", sim_time_json(start), "end",
                             sim_time_json(end), "arrivalWindowStart", sim_time_json(start),
                             "arrivalWindowEnd", sim_time_json(start + 2LL * HOUR * 1000000000LL),
                             "technicianIds", techs);
    json_t *req = json_pack(
        "{s:I, s:I, s:I, s:I, s:s, s:I, s:[o], s:s}", "customerId", (json_int_t)cust, "locationId",
        (json_int_t)loc, "businessUnitId", (json_int_t)bus[bu_index], "jobTypeId",
        (json_int_t)jt_ids[sj->job_type], "priority", job_types[sj->job_type].priority,
        "campaignId", (json_int_t)sim_row_id(sim_at(t, SIM_CAMPAIGN, 0)), "appointments", appt,
        "summary", job_types[sj->job_type].name);
    json_t *job = jpm_job_create(s, t, req);
    json_decref(req);
    return job;
}

/* Marks a seeded past job done: job Completed, its appointments Done. */
static void complete(struct sim *s, struct sim_tenant *t, json_t *job, double total)
{
    json_t *first = sim_get(t, SIM_APPOINTMENT, sim_row_int(job, "firstAppointmentId"));
    if (first == NULL)
        return;
    json_object_set_new(first, "status", json_string("Done"));
    sim_touch(s, t, SIM_APPOINTMENT, first, false);
    size_t n;
    int64_t *ids =
        jpm_ids_by(t, SIM_APPOINTMENT_ASSIGNMENT, "appointmentId", sim_row_id(first), &n);
    for (size_t i = 0; i < n; i++) {
        json_t *a = sim_get(t, SIM_APPOINTMENT_ASSIGNMENT, ids[i]);
        json_object_set_new(a, "status", json_string("Done"));
        sim_touch(s, t, SIM_APPOINTMENT_ASSIGNMENT, a, false);
    }
    free(ids);
    json_object_set_new(job, "jobStatus", json_string("Completed"));
    jpm_history_add(s, t, sim_row_id(job), "Job Completed", NULL);
    json_object_set_new(job, "total", json_real(total)); /* the invoice of the work */
    json_object_set(job, "completedOn", json_object_get(first, "end"));
    sim_touch(s, t, SIM_JOB, job, false);
}

/* Jobs in proportion to a larger scale (one per 40 customers), done over the past year. */
static void seed_history(struct sim *s, struct sim_tenant *t, struct sim_rng *rng,
                         const int64_t *jt_ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct seed_job sj = {i % (N_JOB_TYPES - 1), -2 - (int)(i * 380 / n), 8 + 2 * (int)(i % 4)};
        json_t *job = seed_job(s, t, rng, jt_ids, &sj);
        if (job != NULL)
            complete(s, t, job, 120.0 + (double)(i % 40) * 12.5);
    }
}

void sim_jpm_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng, size_t scale)
{
    static const struct seed_job jobs[] = {
        {0, 1, 8},  /* AC Repair tomorrow 08:00 */
        {4, 1, 10}, /* Drain Cleaning tomorrow 10:00 */
        {9, 2, 8},  /* Panel Upgrade in two days */
        {3, 3, 13}, /* Furnace Tune-Up in three days */
        {6, -1, 8}, /* Water Heater Repair yesterday (completed) */
    };
    int64_t jt_ids[N_JOB_TYPES];
    if (t->empty)
        return;
    static const char *const sources[] = {"Website", "Referral", "Google", "Repeat", NULL};
    seed_job_types(s, t, jt_ids);
    seed_reasons(s, t);
    sim_custom_field_type_add(s, t, "job", "How Did You Hear About Us", "Dropdown", sources);
    sim_custom_field_type_add(s, t, "job", "Online Booking Reference", "Text", NULL);
    for (size_t i = 0; i < AP_COUNTOF(jobs); i++) {
        json_t *job = seed_job(s, t, rng, jt_ids, &jobs[i]);
        if (job != NULL && jobs[i].days < 0)
            complete(s, t, job, 349.5);
    }
    if (scale / 40 > AP_COUNTOF(jobs))
        seed_history(s, t, rng, jt_ids, scale / 40 - AP_COUNTOF(jobs));
}

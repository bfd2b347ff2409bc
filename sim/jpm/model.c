/*
 * model.c — the JPM module's rules for jobs and appointments, shared by the
 * handlers (jobs.c, appointments.c) and the demo seed (seed.c): who "the API"
 * acts as, the checks of a JobCreateRequest and of an appointment's times
 * and technicians, creating a job with its appointments (converting its
 * booking), adding an appointment, and keeping a job's appointment fields
 * (appointmentCount, firstAppointmentId, lastAppointmentId) true.
 *
 * Validation collects every problem of a create request into one errors
 * map ("appointments[0].end": ["End must be after Start."], "jobTypeId":
 * [...]) and nothing is stored unless the whole request passed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/crm/crm.h"
#include "sim/jpm/jpm_int.h"

const char *const jpm_priorities[] = {"Low", "Normal", "High", "Urgent", NULL};

static void add_error(json_t *errors, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_error(json_t *errors, const char *key, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *list = json_object_get(errors, key);
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(errors, key, list);
    }
    json_array_append_new(list, json_string(msg));
}

/* ---- create: checks ------------------------------------------------------- */

static const struct sim_field job_fields[] = {
    {"customerId", SIM_F_INT, true, false},
    {"locationId", SIM_F_INT, true, false},
    {"projectId", SIM_F_INT, false, true},
    {"businessUnitId", SIM_F_INT, true, false},
    {"jobGeneratedLeadSource", SIM_F_OBJ, false, true},
    {"jobTypeId", SIM_F_INT, true, false},
    {"priority", SIM_F_STR, true, false},
    {"campaignId", SIM_F_INT, true, false},
    {"appointments", SIM_F_ARR, true, false},
    {"summary", SIM_F_STR, false, true},
    {"customFields", SIM_F_ARR, false, true},
    {"tagTypeIds", SIM_F_ARR, false, true},
    {"externalData", SIM_F_OBJ, false, true},
    {"invoiceSignatureIsRequired", SIM_F_BOOL, false, true},
    {"customerPo", SIM_F_STR, false, true},
    {"soldById", SIM_F_INT, false, true},
    {"partnerLeadCallId", SIM_F_INT, false, true},
    {"leadId", SIM_F_INT, false, true},
    {"bookingId", SIM_F_INT, false, true},
};

static const struct sim_field appt_info_fields[] = {
    {"start", SIM_F_TIME, true, false},
    {"end", SIM_F_TIME, true, false},
    {"arrivalWindowStart", SIM_F_TIME, false, true},
    {"arrivalWindowEnd", SIM_F_TIME, false, true},
    {"technicianIds", SIM_F_ARR, false, true},
};

static const struct sim_field lead_source_fields[] = {
    {"jobId", SIM_F_INT, false, true},
    {"employeeId", SIM_F_INT, false, true},
};

/* The id in body[key] when it is an integer; 0 otherwise. */
static int64_t body_id(const json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* Checks that body[key] (if an integer) names an existing row of kind k. */
static void check_ref(struct sim_tenant *t, const json_t *body, const char *key, enum sim_kind k,
                      const char *what, json_t *errors)
{
    json_t *v = json_object_get(body, key);
    if (!json_is_integer(v))
        return;
    if (sim_get(t, k, (int64_t)json_integer_value(v)) == NULL)
        add_error(errors, key, "%s %lld does not exist.", what, (long long)json_integer_value(v));
}

static void check_nested(struct sim_tenant *t, const json_t *body, json_t *errors)
{
    char prefix[64];
    size_t i;
    json_t *v, *x;

    v = json_object_get(body, "jobGeneratedLeadSource");
    if (json_is_object(v))
        sim_check(v, "jobGeneratedLeadSource.", lead_source_fields, AP_COUNTOF(lead_source_fields),
                  errors);
    sim_custom_fields_check(t, "job", json_object_get(body, "customFields"), "customFields",
                            errors);
    sim_ext_check(json_object_get(body, "externalData"), "externalData", false, errors);
    json_array_foreach (json_object_get(body, "tagTypeIds"), i, x) {
        if (!json_is_integer(x)) {
            snprintf(prefix, sizeof(prefix), "tagTypeIds[%zu]", i);
            add_error(errors, prefix, "Expected an integer.");
        }
    }
}

static void check_refs(struct sim_tenant *t, const json_t *body, json_t *errors)
{
    check_ref(t, body, "customerId", SIM_CUSTOMER, "Customer", errors);
    check_ref(t, body, "businessUnitId", SIM_BUSINESS_UNIT, "Business unit", errors);
    check_ref(t, body, "jobTypeId", SIM_JOB_TYPE, "Job type", errors);
    check_ref(t, body, "campaignId", SIM_CAMPAIGN, "Campaign", errors);
    check_ref(t, body, "soldById", SIM_TECHNICIAN, "Technician", errors);
    int64_t lid = body_id(body, "locationId"), cid = body_id(body, "customerId");
    if (json_is_integer(json_object_get(body, "locationId"))) {
        json_t *loc = sim_get(t, SIM_LOCATION, lid);
        if (loc == NULL)
            add_error(errors, "locationId", "Location %lld does not exist.", (long long)lid);
        else if (cid != 0 && sim_row_int(loc, "customerId") != cid)
            add_error(errors, "locationId", "Location %lld does not belong to customer %lld.",
                      (long long)lid, (long long)cid);
    }
    const char *prio = json_string_value(json_object_get(body, "priority"));
    bool prio_ok = prio == NULL;
    for (size_t i = 0; prio != NULL && jpm_priorities[i] != NULL; i++)
        prio_ok = prio_ok || strcmp(prio, jpm_priorities[i]) == 0;
    if (!prio_ok)
        add_error(errors, "priority", "Priority must be one of Low, Normal, High, Urgent.");
    size_t i;
    json_t *x;
    json_array_foreach (json_object_get(body, "tagTypeIds"), i, x) {
        if (json_is_integer(x) && sim_get(t, SIM_TAG_TYPE, json_integer_value(x)) == NULL)
            add_error(errors, "tagTypeIds", "Tag type %lld does not exist.",
                      (long long)json_integer_value(x));
    }
}

static void check_booking(struct sim_tenant *t, const json_t *body, json_t *errors)
{
    json_t *v = json_object_get(body, "bookingId");
    if (!json_is_integer(v))
        return;
    json_t *b = sim_get(t, SIM_BOOKING, (int64_t)json_integer_value(v));
    if (b == NULL) {
        add_error(errors, "bookingId", "Booking %lld does not exist.",
                  (long long)json_integer_value(v));
        return;
    }
    if (json_is_integer(json_object_get(b, "jobId")))
        add_error(errors, "bookingId", "Booking %lld was already converted to job %lld.",
                  (long long)json_integer_value(v), (long long)sim_row_int(b, "jobId"));
}

static void check_appointments(struct sim_tenant *t, const json_t *body, json_t *errors)
{
    json_t *appts = json_object_get(body, "appointments");
    char prefix[48];
    size_t i;
    json_t *a;

    if (!json_is_array(appts))
        return;
    if (json_array_size(appts) == 0) {
        add_error(errors, "appointments", "At least one appointment is required.");
        return;
    }
    if (json_array_size(appts) > JPM_MAX_APPOINTMENTS) {
        add_error(errors, "appointments", "At most %d appointments are allowed.",
                  JPM_MAX_APPOINTMENTS);
        return;
    }
    json_array_foreach (appts, i, a) {
        snprintf(prefix, sizeof(prefix), "appointments[%zu].", i);
        if (sim_check(a, prefix, appt_info_fields, AP_COUNTOF(appt_info_fields), errors))
            jpm_appt_check(t, a, prefix, errors);
    }
}

bool jpm_job_check(struct sim_tenant *t, const json_t *body, json_t *errors)
{
    if (!sim_check(body, "", job_fields, AP_COUNTOF(job_fields), errors) && !json_is_object(body))
        return false;
    check_nested(t, body, errors);
    check_refs(t, body, errors);
    check_booking(t, body, errors);
    check_appointments(t, body, errors);
    return json_object_size(errors) == 0;
}

/* ---- create: the job row ------------------------------------------------------- */

static json_t *copy_or(const json_t *body, const char *key, json_t *dflt)
{
    json_t *v = json_object_get(body, key);
    if (v == NULL || json_is_null(v))
        return dflt;
    json_decref(dflt);
    return json_deep_copy(v);
}

static json_t *job_row(struct sim *s, struct sim_tenant *t, const json_t *body)
{
    json_t *row = json_pack(
        "{s:s, s:o, s:I, s:I, s:s, s:n, s:I, s:I, s:o, s:I, s:i, s:i, s:i, s:n, s:n, s:o}",
        "jobNumber", "", "projectId", copy_or(body, "projectId", json_null()), "customerId",
        (json_int_t)body_id(body, "customerId"), "locationId",
        (json_int_t)body_id(body, "locationId"), "jobStatus", "Scheduled", "completedOn",
        "businessUnitId", (json_int_t)body_id(body, "businessUnitId"), "jobTypeId",
        (json_int_t)body_id(body, "jobTypeId"), "priority", copy_or(body, "priority", NULL),
        "campaignId", (json_int_t)body_id(body, "campaignId"), "appointmentCount", 0,
        "firstAppointmentId", 0, "lastAppointmentId", 0, "recallForId", "warrantyId",
        "jobGeneratedLeadSource", copy_or(body, "jobGeneratedLeadSource", json_null()));
    json_object_update_new(
        row,
        json_pack("{s:b, s:b, s:o, s:I, s:o, s:o, s:n, s:o, s:o, s:o, s:o}", "noCharge", 0,
                  "notificationsEnabled", 1, "createdOn", sim_time_json(sim_now(s)), "createdById",
                  (json_int_t)jpm_actor_id(t), "modifiedOn", sim_time_json(sim_now(s)),
                  "tagTypeIds", copy_or(body, "tagTypeIds", json_array()), "leadCallId",
                  "partnerLeadCallId", copy_or(body, "partnerLeadCallId", json_null()), "bookingId",
                  copy_or(body, "bookingId", json_null()), "soldById",
                  copy_or(body, "soldById", json_null()), "customerPo",
                  copy_or(body, "customerPo", json_string(""))));
    /* a new job's invoice is empty: total 0 (ServiceTitan's total is the invoice's) */
    json_object_update_new(
        row,
        json_pack("{s:I, s:n, s:f, s:n, s:[], s:o, s:o}", "invoiceId", (json_int_t)s->next_id++,
                  "membershipId", "total", 0.0, "createdFromEstimateId", "estimateIds", "summary",
                  copy_or(body, "summary", json_null()), "customFields",
                  sim_custom_fields_build(t, "job", json_object_get(body, "customFields"))));
    sim_ext_set(row, json_object_get(body, "externalData"));
    return row;
}

json_t *jpm_job_create(struct sim *s, struct sim_tenant *t, const json_t *body)
{
    int64_t id = sim_add(s, t, SIM_JOB, job_row(s, t, body));
    json_t *job = sim_get(t, SIM_JOB, id);
    char num[24];
    snprintf(num, sizeof(num), "%lld", (long long)id);
    json_object_set_new(job, "jobNumber", json_string(num));
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get(body, "appointments"), i, a)
        jpm_appt_add(s, t, job, a);
    jpm_job_refresh(s, t, job, false);
    int64_t booking = body_id(body, "bookingId");
    char memo[64] = "";
    if (booking != 0) {
        sim_crm_convert_booking(s, t, booking, id);
        snprintf(memo, sizeof(memo), "Booked from booking %lld", (long long)booking);
    }
    jpm_history_add(s, t, id, "Job Booked", memo);
    return job;
}

/* ---- appointments ---------------------------------------------------------------- */

static void add_msg(json_t *errors, const char *key, const char *msg)
{
    json_t *list = json_object_get(errors, key);
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(errors, key, list);
    }
    json_array_append_new(list, json_string(msg));
}

static void add_key_error(json_t *errors, const char *prefix, const char *field, const char *msg)
{
    char key[96];
    snprintf(key, sizeof(key), "%s%s", prefix, field);
    add_msg(errors, key, msg);
}

bool jpm_time_of(const json_t *obj, const char *key, int64_t *ns)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v != NULL && ap_time_parse(v, ns);
}

bool jpm_appt_check(struct sim_tenant *t, const json_t *info, const char *prefix, json_t *errors)
{
    int64_t start, end, aws, awe;
    bool ok = true, has_aws = jpm_time_of(info, "arrivalWindowStart", &aws),
         has_awe = jpm_time_of(info, "arrivalWindowEnd", &awe);

    if (jpm_time_of(info, "start", &start) && jpm_time_of(info, "end", &end) && end <= start) {
        add_key_error(errors, prefix, "end", "End must be after Start.");
        ok = false;
    }
    if (has_aws != has_awe) {
        add_key_error(errors, prefix, has_aws ? "arrivalWindowEnd" : "arrivalWindowStart",
                      "Both arrival window start and end are required.");
        ok = false;
    } else if (has_aws && awe <= aws) {
        add_key_error(errors, prefix, "arrivalWindowEnd",
                      "Arrival window end must be after arrival window start.");
        ok = false;
    }
    json_t *techs = json_object_get(info, "technicianIds");
    size_t i;
    json_t *x;
    if (json_array_size(techs) > JPM_MAX_TECHNICIANS) {
        add_key_error(errors, prefix, "technicianIds", "Too many technicians.");
        return false;
    }
    json_array_foreach (techs, i, x) {
        char msg[80];
        if (!json_is_integer(x)) {
            add_key_error(errors, prefix, "technicianIds", "Expected an array of integers.");
            return false;
        }
        if (sim_get(t, SIM_TECHNICIAN, json_integer_value(x)) == NULL) {
            snprintf(msg, sizeof(msg), "Technician %lld does not exist.",
                     (long long)json_integer_value(x));
            add_key_error(errors, prefix, "technicianIds", msg);
            ok = false;
        }
    }
    return ok;
}

/* ---- rows ------------------------------------------------------------------------ */

json_t *jpm_time_field(const json_t *info, const char *key, const char *fallback)
{
    int64_t ns;
    if (jpm_time_of(info, key, &ns) || (fallback != NULL && jpm_time_of(info, fallback, &ns)))
        return sim_time_json(ns);
    return json_null();
}

static void assign(struct sim *s, struct sim_tenant *t, const json_t *appt, int64_t tech_id)
{
    json_t *tech = sim_get(t, SIM_TECHNICIAN, tech_id);
    const char *name = tech != NULL ? sim_row_str(tech, "name") : NULL;
    json_t *row =
        json_pack("{s:I, s:s, s:I, s:o, s:s, s:b, s:I, s:I, s:b}", "technicianId",
                  (json_int_t)tech_id, "technicianName", name != NULL ? name : "", "assignedById",
                  (json_int_t)jpm_actor_id(t), "assignedOn", sim_time_json(sim_now(s)), "status",
                  "Scheduled", "isPaused", 0, "jobId", (json_int_t)sim_row_int(appt, "jobId"),
                  "appointmentId", (json_int_t)sim_row_id(appt), "active", 1);
    json_object_set_new(row, "createdOn", sim_time_json(sim_now(s)));
    json_object_set_new(row, "modifiedOn", sim_time_json(sim_now(s)));
    sim_add(s, t, SIM_APPOINTMENT_ASSIGNMENT, row);
}

json_t *jpm_appt_add(struct sim *s, struct sim_tenant *t, json_t *job, const json_t *info)
{
    int64_t n = sim_row_int(job, "_apptSeq") + 1;
    char number[48];
    snprintf(number, sizeof(number), "%s-%lld", sim_row_str(job, "jobNumber"), (long long)n);
    json_object_set_new(job, "_apptSeq", json_integer(n));
    json_t *special = json_object_get(info, "specialInstructions");
    json_t *row =
        json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:s, s:O?, s:o, s:o, s:I, s:b, s:I, s:b, s:b}",
                  "jobId", (json_int_t)sim_row_id(job), "appointmentNumber", number, "start",
                  jpm_time_field(info, "start", NULL), "end", jpm_time_field(info, "end", NULL),
                  "arrivalWindowStart", jpm_time_field(info, "arrivalWindowStart", "start"),
                  "arrivalWindowEnd", jpm_time_field(info, "arrivalWindowEnd", "end"), "status",
                  "Scheduled", "specialInstructions", json_is_string(special) ? special : NULL,
                  "createdOn", sim_time_json(sim_now(s)), "modifiedOn", sim_time_json(sim_now(s)),
                  "customerId", (json_int_t)sim_row_int(job, "customerId"), "unused", 0,
                  "createdById", (json_int_t)jpm_actor_id(t), "isConfirmed", 0, "active", 1);
    int64_t id = sim_add(s, t, SIM_APPOINTMENT, row);
    json_t *appt = sim_get(t, SIM_APPOINTMENT, id);
    size_t i;
    json_t *x;
    json_array_foreach (json_object_get(info, "technicianIds"), i, x)
        assign(s, t, appt, (int64_t)json_integer_value(x));
    jpm_job_refresh(s, t, job, false);
    return appt;
}

void jpm_job_refresh(struct sim *s, struct sim_tenant *t, json_t *job, bool bump_modified)
{
    int64_t id = sim_row_id(job), first = 0, last = 0, first_ns = 0, last_ns = 0, count = 0, st;
    size_t n;
    int64_t *ids = jpm_ids_by(t, SIM_APPOINTMENT, "jobId", id, &n);
    for (size_t i = 0; i < n; i++) {
        json_t *a = sim_get(t, SIM_APPOINTMENT, ids[i]);
        if (a == NULL || !jpm_time_of(a, "start", &st))
            continue;
        count++;
        if (first == 0 || st < first_ns) {
            first = sim_row_id(a);
            first_ns = st;
        }
        if (last == 0 || st >= last_ns) {
            last = sim_row_id(a);
            last_ns = st;
        }
    }
    free(ids);
    json_object_set_new(job, "appointmentCount", json_integer(count));
    json_object_set_new(job, "firstAppointmentId", json_integer(first));
    json_object_set_new(job, "lastAppointmentId", json_integer(last));
    sim_touch(s, t, SIM_JOB, job, bump_modified);
}

/*
 * jpm.c — stsim's JPM jobs: create (with appointments, converting a
 * booking), get, list with ServiceTitan's filters, cancel, remove
 * cancellation, hold, and the jobs export feed. Jobs cannot be deleted:
 * no DELETE route exists, so the router answers 405 as for any undefined
 * method.
 *
 * Validation collects every problem of a create request into one 400
 * ("appointments[0].end": ["End must be after Start."], "jobTypeId": [...])
 * and nothing is stored unless the whole request passed.
 */
#include <stdio.h>
#include <string.h>

#include "sim/jpm_int.h"
#include "sim/list_int.h"
#include "sim/query_int.h"

#define TITLE_400 "One or more validation errors occurred."

static const char *const priorities[] = {"Low", "Normal", "High", "Urgent", NULL};
static const char *const job_statuses[] = {"Scheduled", "Dispatched", "InProgress", "Hold",
                                           "Completed", "Canceled",   NULL};
static const char *const appt_statuses[] = {"Scheduled", "Dispatched", "Working", "Hold",
                                            "Done",      "Canceled",   NULL};

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

int64_t jpm_actor_id(struct sim_tenant *t)
{
    /* The API acts as the tenant's first office user (the seed's first employee). */
    return sim_count(t, SIM_EMPLOYEE) > 0 ? sim_row_id(sim_at(t, SIM_EMPLOYEE, 0)) : 1;
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
static const struct sim_field custom_field_fields[] = {
    {"typeId", SIM_F_INT, true, false},
    {"value", SIM_F_STR, false, true},
};
static const struct sim_field ext_fields[] = {
    {"applicationGuid", SIM_F_STR, true, false},
    {"externalData", SIM_F_ARR, true, false},
};
static const struct sim_field ext_item_fields[] = {
    {"key", SIM_F_STR, true, false},
    {"value", SIM_F_STR, true, false},
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

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

static void check_nested(const json_t *body, json_t *errors)
{
    char prefix[64];
    size_t i;
    json_t *v, *x;

    v = json_object_get(body, "jobGeneratedLeadSource");
    if (json_is_object(v))
        sim_check(v, "jobGeneratedLeadSource.", lead_source_fields, NFIELDS(lead_source_fields),
                  errors);
    json_array_foreach (json_object_get(body, "customFields"), i, x) {
        snprintf(prefix, sizeof(prefix), "customFields[%zu].", i);
        sim_check(x, prefix, custom_field_fields, NFIELDS(custom_field_fields), errors);
    }
    v = json_object_get(body, "externalData");
    if (json_is_object(v) && sim_check(v, "externalData.", ext_fields, NFIELDS(ext_fields), errors))
        json_array_foreach (json_object_get(v, "externalData"), i, x) {
            snprintf(prefix, sizeof(prefix), "externalData.externalData[%zu].", i);
            sim_check(x, prefix, ext_item_fields, NFIELDS(ext_item_fields), errors);
        }
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
    for (size_t i = 0; prio != NULL && priorities[i] != NULL; i++)
        prio_ok = prio_ok || strcmp(prio, priorities[i]) == 0;
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
        if (sim_check(a, prefix, appt_info_fields, NFIELDS(appt_info_fields), errors))
            jpm_appt_check(t, a, prefix, errors);
    }
}

bool jpm_job_check(struct sim_tenant *t, const json_t *body, json_t *errors)
{
    if (!sim_check(body, "", job_fields, NFIELDS(job_fields), errors) && !json_is_object(body))
        return false;
    check_nested(body, errors);
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

static json_t *custom_fields_of(const json_t *body)
{
    json_t *out = json_array();
    size_t i;
    json_t *x;
    json_array_foreach (json_object_get(body, "customFields"), i, x) {
        const char *v = json_string_value(json_object_get(x, "value"));
        char name[48];
        snprintf(name, sizeof(name), "Custom field %lld", (long long)sim_row_int(x, "typeId"));
        json_array_append_new(out, json_pack("{s:I, s:s, s:s}", "typeId",
                                             (json_int_t)sim_row_int(x, "typeId"), "name", name,
                                             "value", v != NULL ? v : ""));
    }
    return out;
}

static json_t *job_row(struct sim *s, struct sim_tenant *t, const json_t *body)
{
    json_t *ext = json_object_get(json_object_get(body, "externalData"), "externalData");
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
    json_object_update_new(row, json_pack("{s:I, s:n, s:n, s:n, s:[], s:o, s:o, s:o}", "invoiceId",
                                          (json_int_t)s->next_id++, "membershipId", "total",
                                          "createdFromEstimateId", "estimateIds", "summary",
                                          copy_or(body, "summary", json_null()), "customFields",
                                          custom_fields_of(body), "externalData",
                                          ext != NULL ? json_deep_copy(ext) : json_array()));
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
    if (booking != 0)
        sim_crm_convert_booking(s, t, booking, id);
    return job;
}

static void job_create(struct sim_call *c)
{
    json_t *errors = json_object();
    json_t *empty = NULL;
    const json_t *body = c->body != NULL ? c->body : (empty = json_object());

    if (!jpm_job_check(c->tenant, body, errors)) {
        json_decref(empty);
        sim_problem(c, 400, TITLE_400, errors);
        return;
    }
    json_decref(errors);
    json_t *job = jpm_job_create(c->sim, c->tenant, body);
    json_decref(empty);
    sim_reply(c, 200, sim_public(job));
}

/* ---- get, list --------------------------------------------------------------------- */

static json_t *job_or_404(struct sim_call *c)
{
    int64_t id;
    if (!sim_param_id(c, "id", &id))
        return NULL;
    json_t *job = sim_get(c->tenant, SIM_JOB, id);
    if (job == NULL)
        sim_not_found(c, "Job not found");
    return job;
}

static void job_get(struct sim_call *c)
{
    json_t *job = job_or_404(c);
    if (job != NULL)
        sim_reply(c, 200, sim_public(job));
}

/* Query parameters that compare a job's integer field of the same name. */
static const char *const job_int_filters[] = {
    "projectId", "bookingId",  "customerId",     "locationId", "soldById",
    "jobTypeId", "campaignId", "businessUnitId", "invoiceId",  "createdFromEstimateId",
};
#define N_INT_FILTERS NFIELDS(job_int_filters)

enum { T_FIRST_GE, T_FIRST_LT, T_APPT_GE, T_APPT_LT, T_DONE_GE, T_DONE_LT, T_COUNT };
static const char *const job_time_filters[T_COUNT] = {
    "firstAppointmentStartsOnOrAfter", "firstAppointmentStartsBefore", "appointmentStartsOnOrAfter",
    "appointmentStartsBefore",         "completedOnOrAfter",           "completedBefore",
};

struct job_filter {
    bool has_int[N_INT_FILTERS];
    int64_t ints[N_INT_FILTERS];
    bool has_time[T_COUNT];
    int64_t times[T_COUNT];
    const char *number, *job_status, *appt_status, *priority;
    bool has_tech, has_unused, unused;
    int64_t tech;
    int64_t tags[SIM_Q_MAX_IDS];
    size_t ntags;
};

static bool job_filter_read(struct sim_call *c, struct job_filter *f)
{
    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < N_INT_FILTERS; i++) {
        if (!sim_q_int64(c, job_int_filters[i], &f->has_int[i], &f->ints[i]))
            return false;
    }
    for (size_t i = 0; i < T_COUNT; i++) {
        if (!sim_q_time(c, job_time_filters[i], &f->has_time[i], &f->times[i]))
            return false;
    }
    f->number = ap_http_query(c->req, "number");
    if (f->number != NULL && f->number[0] == '\0')
        f->number = NULL;
    return sim_q_enum(c, "jobStatus", job_statuses, &f->job_status) &&
           sim_q_enum(c, "appointmentStatus", appt_statuses, &f->appt_status) &&
           sim_q_enum(c, "priority", priorities, &f->priority) &&
           sim_q_int64(c, "technicianId", &f->has_tech, &f->tech) &&
           sim_q_bool(c, "hasUnusedAppointments", &f->has_unused, &f->unused) &&
           sim_q_ids(c, "tagTypeIds", f->tags, &f->ntags);
}

static bool tech_on_job(struct sim_tenant *t, int64_t job_id, int64_t tech)
{
    for (size_t i = 0; i < sim_count(t, SIM_APPOINTMENT_ASSIGNMENT); i++) {
        json_t *a = sim_at(t, SIM_APPOINTMENT_ASSIGNMENT, i);
        if (sim_row_int(a, "jobId") == job_id && sim_row_int(a, "technicianId") == tech &&
            json_is_true(json_object_get(a, "active")))
            return true;
    }
    return false;
}

/* The appointment filters: any appointment of the job must satisfy all of them. */
static bool appts_match(struct sim_tenant *t, const json_t *job, const struct job_filter *f)
{
    bool need = f->appt_status != NULL || f->has_time[T_APPT_GE] || f->has_time[T_APPT_LT] ||
                (f->has_unused && f->unused);
    if (!need)
        return true;
    int64_t id = sim_row_id(job), st;
    for (size_t i = 0; i < sim_count(t, SIM_APPOINTMENT); i++) {
        json_t *a = sim_at(t, SIM_APPOINTMENT, i);
        if (sim_row_int(a, "jobId") != id || !sim_row_time(a, "start", &st))
            continue;
        if (f->appt_status != NULL && strcmp(sim_row_str(a, "status"), f->appt_status) != 0)
            continue;
        if ((f->has_time[T_APPT_GE] && st < f->times[T_APPT_GE]) ||
            (f->has_time[T_APPT_LT] && st >= f->times[T_APPT_LT]))
            continue;
        if (f->has_unused && f->unused && !json_is_true(json_object_get(a, "unused")))
            continue;
        return true;
    }
    return false;
}

static bool time_in(const json_t *row, const char *key, bool has_ge, int64_t ge, bool has_lt,
                    int64_t lt)
{
    int64_t v;
    if (!has_ge && !has_lt)
        return true;
    if (!sim_row_time(row, key, &v))
        return false;
    return (!has_ge || v >= ge) && (!has_lt || v < lt);
}

static bool tags_match(const json_t *job, const struct job_filter *f)
{
    for (size_t i = 0; i < f->ntags; i++) {
        if (sim_row_has_id(job, "tagTypeIds", f->tags[i]))
            return true;
    }
    return f->ntags == 0;
}

static bool job_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    const struct job_filter *f = ud;
    (void)stop;
    for (size_t i = 0; i < N_INT_FILTERS; i++) {
        if (f->has_int[i] && sim_row_int(row, job_int_filters[i]) != f->ints[i])
            return false;
    }
    if ((f->number != NULL && strcmp(sim_row_str(row, "jobNumber"), f->number) != 0) ||
        (f->job_status != NULL && strcmp(sim_row_str(row, "jobStatus"), f->job_status) != 0) ||
        (f->priority != NULL && strcmp(sim_row_str(row, "priority"), f->priority) != 0))
        return false;
    if (!tags_match(row, f) ||
        !time_in(row, "completedOn", f->has_time[T_DONE_GE], f->times[T_DONE_GE],
                 f->has_time[T_DONE_LT], f->times[T_DONE_LT]))
        return false;
    if (f->has_time[T_FIRST_GE] || f->has_time[T_FIRST_LT]) {
        json_t *first = sim_get(c->tenant, SIM_APPOINTMENT, sim_row_int(row, "firstAppointmentId"));
        if (first == NULL || !time_in(first, "start", f->has_time[T_FIRST_GE], f->times[T_FIRST_GE],
                                      f->has_time[T_FIRST_LT], f->times[T_FIRST_LT]))
            return false;
    }
    if (f->has_tech && !tech_on_job(c->tenant, sim_row_id(row), f->tech))
        return false;
    return appts_match(c->tenant, row, f);
}

static void job_list(struct sim_call *c)
{
    static const char *const sort[] = {"Id", "ModifiedOn", "CreatedOn", "Priority", NULL};
    struct job_filter f;
    if (!job_filter_read(c, &f))
        return;
    struct sim_list_opts o = {.sort = sort, .dates = true, .match = job_match, .ud = &f};
    sim_list(c, SIM_JOB, &o);
}

static const char *req_query(void *ud, const char *name)
{
    return ap_http_query(ud, name);
}

/* The export rows of jobs carry "active" (their GET/list rows do not): jobs are never
 * deleted, so every row goes out active. */
static void job_export(struct sim_call *c)
{
    struct sim_export_params p;
    json_t *errors = json_object();
    if (!sim_export_parse(req_query, c->req, &p, errors)) {
        sim_problem(c, 400, TITLE_400, errors);
        return;
    }
    json_decref(errors);
    json_t *body = sim_export_run(c->tenant, SIM_JOB, &p, sim_now(c->sim),
                                  c->sim->cfg.export_delay_s, NULL, NULL);
    size_t i;
    json_t *row;
    json_array_foreach (json_object_get(body, "data"), i, row) {
        if (json_object_get(row, "active") == NULL)
            json_object_set_new(row, "active", json_true());
    }
    sim_reply(c, 200, body);
}

/* ---- cancel, hold ------------------------------------------------------------------------- */

static const struct sim_field reason_fields[] = {
    {"reasonId", SIM_F_INT, true, false},
    {"memo", SIM_F_STR, true, false},
};

/* Checks a {reasonId, memo} body against reason kind k; answers 400 itself. */
static bool reason_ok(struct sim_call *c, enum sim_kind k)
{
    if (!sim_check_body(c, reason_fields, NFIELDS(reason_fields)))
        return false;
    int64_t id = body_id(c->body, "reasonId");
    if (sim_get(c->tenant, k, id) == NULL) {
        sim_problem_field(c, "reasonId", "Reason %lld does not exist.", (long long)id);
        return false;
    }
    return true;
}

/* Sets the status of the job's appointments that are in from (NULL: any but Done) to to. */
static void appts_set_status(struct sim *s, struct sim_tenant *t, int64_t job_id, const char *from,
                             const char *to)
{
    for (size_t i = 0; i < sim_count(t, SIM_APPOINTMENT); i++) {
        json_t *a = sim_at(t, SIM_APPOINTMENT, i);
        const char *st = sim_row_str(a, "status");
        if (sim_row_int(a, "jobId") != job_id || st == NULL)
            continue;
        if (from != NULL ? strcmp(st, from) != 0 : strcmp(st, "Done") == 0)
            continue;
        json_object_set_new(a, "status", json_string(to));
        sim_touch(s, t, SIM_APPOINTMENT, a, true);
    }
}

static bool status_is(const json_t *job, const char *st)
{
    const char *v = sim_row_str(job, "jobStatus");
    return v != NULL && strcmp(v, st) == 0;
}

static void job_cancel(struct sim_call *c)
{
    json_t *job = job_or_404(c);
    if (job == NULL || !reason_ok(c, SIM_JOB_CANCEL_REASON))
        return;
    if (status_is(job, "Canceled") || status_is(job, "Completed")) {
        sim_problem(c, 400, "The job's status does not allow cancellation.", NULL);
        return;
    }
    json_object_set_new(job, "jobStatus", json_string("Canceled"));
    json_object_set(job, "_cancelReasonId", json_object_get(c->body, "reasonId"));
    json_object_set(job, "_cancelMemo", json_object_get(c->body, "memo"));
    appts_set_status(c->sim, c->tenant, sim_row_id(job), NULL, "Canceled");
    sim_touch(c->sim, c->tenant, SIM_JOB, job, true);
    sim_reply_empty(c, 200);
}

static void job_remove_cancellation(struct sim_call *c)
{
    json_t *job = job_or_404(c);
    if (job == NULL)
        return;
    if (!status_is(job, "Canceled")) {
        sim_problem(c, 400, "The job is not canceled.", NULL);
        return;
    }
    json_object_set_new(job, "jobStatus", json_string("Scheduled"));
    json_object_del(job, "_cancelReasonId");
    json_object_del(job, "_cancelMemo");
    appts_set_status(c->sim, c->tenant, sim_row_id(job), "Canceled", "Scheduled");
    sim_touch(c->sim, c->tenant, SIM_JOB, job, true);
    sim_reply_empty(c, 200);
}

static void job_hold(struct sim_call *c)
{
    json_t *job = job_or_404(c);
    if (job == NULL || !reason_ok(c, SIM_JOB_HOLD_REASON))
        return;
    if (!status_is(job, "Scheduled") && !status_is(job, "Dispatched")) {
        sim_problem(c, 400, "The job's status does not allow putting it on hold.", NULL);
        return;
    }
    json_object_set_new(job, "jobStatus", json_string("Hold"));
    json_object_set(job, "_holdReasonId", json_object_get(c->body, "reasonId"));
    json_object_set(job, "_holdMemo", json_object_get(c->body, "memo"));
    appts_set_status(c->sim, c->tenant, sim_row_id(job), "Scheduled", "Hold");
    sim_touch(c->sim, c->tenant, SIM_JOB, job, true);
    sim_reply_empty(c, 200);
}

void sim_jpm_routes(struct sim *s, struct ap_router *r)
{
    const char *rd = "tn.jpm.jobs:r", *wr = "tn.jpm.jobs:w";
    sim_api_route(s, r, "POST", "jpm", "/jobs", wr, job_create);
    sim_api_route(s, r, "GET", "jpm", "/jobs", rd, job_list);
    sim_api_route(s, r, "GET", "jpm", "/jobs/:id", rd, job_get);
    sim_api_route(s, r, "PUT", "jpm", "/jobs/:id/cancel", wr, job_cancel);
    sim_api_route(s, r, "PUT", "jpm", "/jobs/:id/remove-cancellation", wr, job_remove_cancellation);
    sim_api_route(s, r, "PUT", "jpm", "/jobs/:id/hold", wr, job_hold);
    sim_api_route(s, r, "GET", "jpm", "/export/jobs", rd, job_export);
    jpm_appt_routes(s, r);
    jpm_types_routes(s, r);
}

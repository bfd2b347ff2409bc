/*
 * jobs.c — stsim's JPM jobs: create (with appointments, converting a
 * booking; the rules are model.c's), get, list with ServiceTitan's filters,
 * cancel, remove cancellation, hold, and the jobs export feed. Jobs cannot
 * be deleted: no DELETE route exists, so the router answers 405 as for any
 * undefined method.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/list_int.h"
#include "sim/jpm/jpm_int.h"

#define TITLE_400 "One or more validation errors occurred."

static const char *const job_statuses[] = {"Scheduled", "Dispatched", "InProgress", "Hold",
                                           "Completed", "Canceled",   NULL};
static const char *const appt_statuses[] = {"Scheduled", "Dispatched", "Working", "Hold",
                                            "Done",      "Canceled",   NULL};

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
        sim_reply(c, 200, sim_ext_present(job, sim_query(c->req, "externalDataApplicationGuid")));
}

/* Query parameters that compare a job's integer field of the same name. */
static const char *const job_int_filters[] = {
    "projectId", "bookingId",  "customerId",     "locationId", "soldById",
    "jobTypeId", "campaignId", "businessUnitId", "invoiceId",  "createdFromEstimateId",
};
#define N_INT_FILTERS AP_COUNTOF(job_int_filters)

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
    struct sim_ext_filter ext;
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
    f->number = sim_query(c->req, "number");
    if (f->number != NULL && f->number[0] == '\0')
        f->number = NULL;
    return sim_q_enum(c, "jobStatus", job_statuses, &f->job_status) &&
           sim_q_enum(c, "appointmentStatus", appt_statuses, &f->appt_status) &&
           sim_q_enum(c, "priority", jpm_priorities, &f->priority) &&
           sim_q_int64(c, "technicianId", &f->has_tech, &f->tech) &&
           sim_q_bool(c, "hasUnusedAppointments", &f->has_unused, &f->unused) &&
           sim_q_ids(c, "tagTypeIds", f->tags, &f->ntags) && sim_ext_filter_parse(c, &f->ext);
}

static bool tech_on_job(struct sim_tenant *t, int64_t job_id, int64_t tech)
{
    size_t n;
    int64_t *ids = jpm_ids_by(t, SIM_APPOINTMENT_ASSIGNMENT, "jobId", job_id, &n);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        json_t *a = sim_get(t, SIM_APPOINTMENT_ASSIGNMENT, ids[i]);
        found = a != NULL && sim_row_int(a, "technicianId") == tech &&
                json_is_true(json_object_get(a, "active"));
    }
    free(ids);
    return found;
}

/* The appointment filters: any appointment of the job must satisfy all of them. */
static bool appts_match(struct sim_tenant *t, const json_t *job, const struct job_filter *f)
{
    bool need = f->appt_status != NULL || f->has_time[T_APPT_GE] || f->has_time[T_APPT_LT] ||
                (f->has_unused && f->unused);
    if (!need)
        return true;
    int64_t st;
    size_t n;
    int64_t *ids = jpm_ids_by(t, SIM_APPOINTMENT, "jobId", sim_row_id(job), &n);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        json_t *a = sim_get(t, SIM_APPOINTMENT, ids[i]);
        if (a == NULL || !sim_row_time(a, "start", &st))
            continue;
        if (f->appt_status != NULL && strcmp(sim_row_str(a, "status"), f->appt_status) != 0)
            continue;
        if ((f->has_time[T_APPT_GE] && st < f->times[T_APPT_GE]) ||
            (f->has_time[T_APPT_LT] && st >= f->times[T_APPT_LT]))
            continue;
        if (f->has_unused && f->unused && !json_is_true(json_object_get(a, "unused")))
            continue;
        found = true;
    }
    free(ids);
    return found;
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
    return appts_match(c->tenant, row, f) && sim_ext_filter_match(&f->ext, row);
}

static json_t *job_present(struct sim_call *c, const json_t *row, void *ud)
{
    const struct job_filter *f = ud;
    return sim_ext_present(row, f->ext.guid);
}

/* Filters with an index behind them, tried in this order for the rows a list starts from. */
static const char *const indexed_filters[] = {"customerId", "locationId", "bookingId"};

/* The rows an index gives for the job filters (else *has false). malloc'd. */
static int64_t *job_candidates(struct sim_call *c, const struct job_filter *f, bool *has, size_t *n)
{
    *has = true;
    for (size_t k = 0; k < AP_COUNTOF(indexed_filters); k++) {
        for (size_t i = 0; i < N_INT_FILTERS; i++) {
            if (f->has_int[i] && strcmp(job_int_filters[i], indexed_filters[k]) == 0)
                return sim_index_find_id(c->tenant, sim_index_int(SIM_JOB, indexed_filters[k]),
                                         f->ints[i], n);
        }
    }
    if (sim_ext_filter_active(&f->ext))
        return sim_ext_candidates(c->tenant, SIM_JOB, &f->ext, n);
    *has = false;
    *n = 0;
    return NULL;
}

static bool job_filtered(const struct job_filter *f)
{
    for (size_t i = 0; i < N_INT_FILTERS; i++) {
        if (f->has_int[i])
            return true;
    }
    for (size_t i = 0; i < T_COUNT; i++) {
        if (f->has_time[i])
            return true;
    }
    return f->number != NULL || f->job_status != NULL || f->appt_status != NULL ||
           f->priority != NULL || f->has_tech || f->has_unused || f->ntags > 0 ||
           sim_ext_filter_active(&f->ext);
}

static void job_list(struct sim_call *c)
{
    static const char *const sort[] = {"Id", "ModifiedOn", "CreatedOn", "Priority", NULL};
    struct job_filter f;
    if (!job_filter_read(c, &f))
        return;
    struct sim_list_opts o = {.sort = sort, .dates = true, .present = job_present, .ud = &f};
    int64_t *cand = job_candidates(c, &f, &o.has_cand, &o.ncand);
    o.cand = cand;
    if (job_filtered(&f))
        o.match = job_match;
    sim_list(c, SIM_JOB, &o);
    free(cand);
}

/* The export rows of jobs carry "active" (their GET/list rows do not): jobs are never
 * deleted, so every row goes out active. */
static json_t *export_present(struct sim_call *c, const json_t *row, void *ud)
{
    json_t *out = sim_public(row);
    json_object_set_new(out, "active", json_true());
    return out;
}

static void job_export(struct sim_call *c)
{
    struct sim_export_opts o = {.present = export_present};
    sim_export(c, SIM_JOB, &o);
}

/* ---- cancel, hold ------------------------------------------------------------------------- */

static const struct sim_field reason_fields[] = {
    {"reasonId", SIM_F_INT, true, false},
    {"memo", SIM_F_STR, true, false},
};

/* Checks a {reasonId, memo} body against reason kind k; answers 400 itself. */
static bool reason_ok(struct sim_call *c, enum sim_kind k)
{
    if (!sim_check_body(c, reason_fields, AP_COUNTOF(reason_fields)))
        return false;
    int64_t id = sim_row_int(c->body, "reasonId");
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
    size_t n;
    int64_t *ids = jpm_ids_by(t, SIM_APPOINTMENT, "jobId", job_id, &n);
    for (size_t i = 0; i < n; i++) {
        json_t *a = sim_get(t, SIM_APPOINTMENT, ids[i]);
        const char *st = a != NULL ? sim_row_str(a, "status") : NULL;
        if (st == NULL)
            continue;
        if (from != NULL ? strcmp(st, from) != 0 : strcmp(st, "Done") == 0)
            continue;
        json_object_set_new(a, "status", json_string(to));
        sim_touch(s, t, SIM_APPOINTMENT, a, true);
    }
    free(ids);
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
    jpm_history_add(c->sim, c->tenant, sim_row_id(job), "Job Canceled",
                    json_string_value(json_object_get(c->body, "memo")));
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
    jpm_history_add(c->sim, c->tenant, sim_row_id(job), "Job Cancellation Removed", NULL);
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
    jpm_history_add(c->sim, c->tenant, sim_row_id(job), "Job Put On Hold",
                    json_string_value(json_object_get(c->body, "memo")));
    sim_reply_empty(c, 200);
}

void jpm_job_routes(struct sim *s, struct ap_router *r)
{
    const char *rd = "tn.jpm.jobs:r", *wr = "tn.jpm.jobs:w";
    sim_api_route(s, r, "POST", "jpm", "/jobs", wr, job_create);
    sim_api_route(s, r, "GET", "jpm", "/jobs", rd, job_list);
    sim_api_route(s, r, "GET", "jpm", "/jobs/:id", rd, job_get);
    sim_api_route(s, r, "PUT", "jpm", "/jobs/:id/cancel", wr, job_cancel);
    sim_api_route(s, r, "PUT", "jpm", "/jobs/:id/remove-cancellation", wr, job_remove_cancellation);
    sim_api_route(s, r, "PUT", "jpm", "/jobs/:id/hold", wr, job_hold);
    sim_api_route(s, r, "GET", "jpm", "/export/jobs", rd, job_export);
}

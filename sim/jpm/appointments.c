/*
 * appointments.c — stsim's JPM appointments: list with ServiceTitan's filters,
 * get, add to a job, reschedule, hold / remove hold, confirm / unconfirm,
 * special instructions, delete, and the appointments export feed.
 *
 * ServiceTitan's rules reproduced here: a job keeps at least one
 * appointment (deleting the last one is 409), confirming a confirmed
 * appointment is 409, finished or canceled appointments cannot be
 * rescheduled or held (409). Capacity (dispatch) counts these rows, so start,
 * end and status are kept exact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/jpm/jpm_int.h"

/* ---- get, list ---------------------------------------------------------------------- */

static json_t *appt_or_404(struct sim_call *c)
{
    int64_t id;
    if (!sim_param_id(c, "id", &id))
        return NULL;
    json_t *a = sim_get(c->tenant, SIM_APPOINTMENT, id);
    if (a == NULL)
        sim_not_found(c, "Appointment was not found");
    return a;
}

static void appt_get(struct sim_call *c)
{
    json_t *a = appt_or_404(c);
    if (a != NULL)
        sim_reply(c, 200, sim_public(a));
}

static const char *const appt_statuses[] = {"Scheduled", "Dispatched", "Working", "Hold",
                                            "Done",      "Canceled",   NULL};

struct appt_filter {
    bool has_job, has_project, has_tech, has_customer, has_unused, unused, has_ge, has_lt;
    int64_t job, project, tech, customer, ge, lt;
    const char *number, *status;
};

static bool appt_filter_read(struct sim_call *c, struct appt_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->number = sim_query(c->req, "number");
    if (f->number != NULL && f->number[0] == '\0')
        f->number = NULL;
    return sim_q_int64(c, "jobId", &f->has_job, &f->job) &&
           sim_q_int64(c, "projectId", &f->has_project, &f->project) &&
           sim_q_int64(c, "technicianId", &f->has_tech, &f->tech) &&
           sim_q_int64(c, "customerId", &f->has_customer, &f->customer) &&
           sim_q_bool(c, "unused", &f->has_unused, &f->unused) &&
           sim_q_time(c, "startsOnOrAfter", &f->has_ge, &f->ge) &&
           sim_q_time(c, "startsBefore", &f->has_lt, &f->lt) &&
           sim_q_enum(c, "status", appt_statuses, &f->status);
}

static bool tech_on_appt(struct sim_tenant *t, int64_t appt_id, int64_t tech)
{
    size_t n;
    int64_t *ids = jpm_ids_by(t, SIM_APPOINTMENT_ASSIGNMENT, "appointmentId", appt_id, &n);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        json_t *a = sim_get(t, SIM_APPOINTMENT_ASSIGNMENT, ids[i]);
        found = a != NULL && sim_row_int(a, "technicianId") == tech &&
                json_is_true(json_object_get(a, "active"));
    }
    free(ids);
    return found;
}

static bool appt_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    const struct appt_filter *f = ud;
    int64_t st = 0;
    (void)stop;
    if ((f->has_job && sim_row_int(row, "jobId") != f->job) ||
        (f->has_customer && sim_row_int(row, "customerId") != f->customer) ||
        (f->has_unused && json_is_true(json_object_get(row, "unused")) != f->unused))
        return false;
    if ((f->number != NULL && strcmp(sim_row_str(row, "appointmentNumber"), f->number) != 0) ||
        (f->status != NULL && strcmp(sim_row_str(row, "status"), f->status) != 0))
        return false;
    if ((f->has_ge || f->has_lt) && (!jpm_time_of(row, "start", &st) || (f->has_ge && st < f->ge) ||
                                     (f->has_lt && st >= f->lt)))
        return false;
    if (f->has_project) {
        json_t *job = sim_get(c->tenant, SIM_JOB, sim_row_int(row, "jobId"));
        if (job == NULL || sim_row_int(job, "projectId") != f->project)
            return false;
    }
    return !f->has_tech || tech_on_appt(c->tenant, sim_row_id(row), f->tech);
}

static bool appt_filtered(const struct appt_filter *f)
{
    return f->has_job || f->has_project || f->has_tech || f->has_customer || f->has_unused ||
           f->has_ge || f->has_lt || f->number != NULL || f->status != NULL;
}

static void appt_list(struct sim_call *c)
{
    static const char *const sort[] = {"Id", "ModifiedOn", "CreatedOn", NULL};
    struct appt_filter f;
    if (!appt_filter_read(c, &f))
        return;
    struct sim_list_opts o = {.active_filter = true,
                              .active_default = "True",
                              .sort = sort,
                              .dates = true,
                              .match = appt_filtered(&f) ? appt_match : NULL,
                              .ud = &f};
    int64_t *cand = NULL;
    if (f.has_job || f.has_customer) {
        cand = jpm_ids_by(c->tenant, SIM_APPOINTMENT, f.has_job ? "jobId" : "customerId",
                          f.has_job ? f.job : f.customer, &o.ncand);
        o.has_cand = true;
        o.cand = cand;
    }
    sim_list(c, SIM_APPOINTMENT, &o);
    free(cand);
}

static bool export_match(struct sim_call *c, const json_t *row, void *ud)
{
    const char *active = ud;
    (void)c;
    if (active == NULL || strcmp(active, "Any") == 0)
        return true;
    return json_is_true(json_object_get(row, "active")) == (strcmp(active, "True") == 0);
}

static void appt_export(struct sim_call *c)
{
    static const char *const actives[] = {"True", "Any", "False", NULL};
    const char *active;
    if (!sim_q_enum(c, "active", actives, &active))
        return;
    struct sim_export_opts o = {.match = export_match, .ud = (void *)active};
    sim_export(c, SIM_APPOINTMENT, &o);
}

/* ---- add, reschedule ------------------------------------------------------------------ */

static const struct sim_field add_fields[] = {
    {"jobId", SIM_F_INT, true, false},
    {"start", SIM_F_TIME, true, false},
    {"end", SIM_F_TIME, true, false},
    {"arrivalWindowStart", SIM_F_TIME, false, true},
    {"arrivalWindowEnd", SIM_F_TIME, false, true},
    {"technicianIds", SIM_F_ARR, false, true},
    {"specialInstructions", SIM_F_STR, false, true},
};

static bool job_open(const json_t *job)
{
    const char *st = sim_row_str(job, "jobStatus");
    return st != NULL && strcmp(st, "Canceled") != 0 && strcmp(st, "Completed") != 0;
}

static void appt_add(struct sim_call *c)
{
    if (!sim_check_body(c, add_fields, AP_COUNTOF(add_fields)))
        return;
    json_t *errors = json_object();
    int64_t job_id = (int64_t)json_integer_value(json_object_get(c->body, "jobId"));
    json_t *job = sim_get(c->tenant, SIM_JOB, job_id);
    if (job == NULL)
        json_object_set_new(errors, "jobId", json_pack("[s]", "Job does not exist."));
    if (!jpm_appt_check(c->tenant, c->body, "", errors) || job == NULL) {
        sim_problem(c, 400, "One or more validation errors occurred.", errors);
        return;
    }
    json_decref(errors);
    if (!job_open(job)) {
        sim_problem(c, 409, "The job's status does not allow adding appointments.", NULL);
        return;
    }
    json_t *appt = jpm_appt_add(c->sim, c->tenant, job, c->body);
    jpm_job_refresh(c->sim, c->tenant, job, true);
    jpm_history_add(c->sim, c->tenant, sim_row_id(job), "Appointment Added", NULL);
    sim_reply(c, 200, sim_public(appt));
}

static const struct sim_field reschedule_fields[] = {
    {"start", SIM_F_TIME, false, false},
    {"end", SIM_F_TIME, false, false},
    {"arrivalWindowStart", SIM_F_TIME, false, true},
    {"arrivalWindowEnd", SIM_F_TIME, false, true},
};

static bool appt_status_in(const json_t *a, const char *const *list)
{
    const char *st = sim_row_str(a, "status");
    for (size_t i = 0; st != NULL && list[i] != NULL; i++) {
        if (strcmp(st, list[i]) == 0)
            return true;
    }
    return false;
}

static const char *const movable[] = {"Scheduled", "Dispatched", "Hold", NULL};

/* The appointment's fields after the reschedule body: each field the body names, else the row's. */
static json_t *merged_times(const json_t *a, const json_t *body)
{
    static const char *const keys[] = {"start", "end", "arrivalWindowStart", "arrivalWindowEnd"};
    json_t *m = json_object();
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(body, keys[i]);
        json_object_set(m, keys[i], v != NULL ? v : json_object_get(a, keys[i]));
    }
    return m;
}

static void appt_reschedule(struct sim_call *c)
{
    json_t *a = appt_or_404(c);
    if (a == NULL || !sim_check_body(c, reschedule_fields, AP_COUNTOF(reschedule_fields)))
        return;
    json_t *m = merged_times(a, c->body);
    json_t *errors = json_object();
    if (!jpm_appt_check(c->tenant, m, "", errors)) {
        json_decref(m);
        sim_problem(c, 400, "One or more validation errors occurred.", errors);
        return;
    }
    json_decref(errors);
    if (!appt_status_in(a, movable)) {
        json_decref(m);
        sim_problem(c, 409, "The appointment's status does not allow rescheduling.", NULL);
        return;
    }
    static const char *const keys[] = {"start", "end", "arrivalWindowStart", "arrivalWindowEnd"};
    for (size_t i = 0; i < 4; i++)
        json_object_set_new(a, keys[i], jpm_time_field(m, keys[i], NULL));
    json_decref(m);
    sim_touch(c->sim, c->tenant, SIM_APPOINTMENT, a, true);
    json_t *job = sim_get(c->tenant, SIM_JOB, sim_row_int(a, "jobId"));
    if (job != NULL)
        jpm_job_refresh(c->sim, c->tenant, job, true);
    jpm_history_add(c->sim, c->tenant, sim_row_int(a, "jobId"), "Appointment Rescheduled", NULL);
    sim_reply(c, 200, sim_public(a));
}

/* ---- hold, confirmation, special instructions, delete ------------------------------------ */

static const struct sim_field hold_fields[] = {
    {"reasonId", SIM_F_INT, true, false},
    {"memo", SIM_F_STR, true, false},
};

static void appt_hold(struct sim_call *c)
{
    static const char *const holdable[] = {"Scheduled", "Dispatched", NULL};
    json_t *a = appt_or_404(c);
    if (a == NULL || !sim_check_body(c, hold_fields, AP_COUNTOF(hold_fields)))
        return;
    int64_t reason = (int64_t)json_integer_value(json_object_get(c->body, "reasonId"));
    if (sim_get(c->tenant, SIM_JOB_HOLD_REASON, reason) == NULL) {
        sim_problem_field(c, "reasonId", "Reason %lld does not exist.", (long long)reason);
        return;
    }
    if (!appt_status_in(a, holdable)) {
        sim_problem(c, 409, "The appointment's status does not allow putting it on hold.", NULL);
        return;
    }
    json_object_set_new(a, "status", json_string("Hold"));
    json_object_set_new(a, "_holdReasonId", json_integer(reason));
    sim_touch(c->sim, c->tenant, SIM_APPOINTMENT, a, true);
    jpm_history_add(c->sim, c->tenant, sim_row_int(a, "jobId"), "Appointment Put On Hold",
                    json_string_value(json_object_get(c->body, "memo")));
    sim_reply_empty(c, 200);
}

static void appt_unhold(struct sim_call *c)
{
    static const char *const held[] = {"Hold", NULL};
    json_t *a = appt_or_404(c);
    if (a == NULL)
        return;
    if (!appt_status_in(a, held)) {
        sim_problem(c, 409, "The appointment is not on hold.", NULL);
        return;
    }
    json_object_set_new(a, "status", json_string("Scheduled"));
    json_object_del(a, "_holdReasonId");
    sim_touch(c->sim, c->tenant, SIM_APPOINTMENT, a, true);
    jpm_history_add(c->sim, c->tenant, sim_row_int(a, "jobId"), "Appointment Hold Removed", NULL);
    sim_reply_empty(c, 200);
}

static void set_confirmed(struct sim_call *c, bool want)
{
    static const char *const ended[] = {"Done", "Canceled", NULL};
    json_t *a = appt_or_404(c);
    if (a == NULL)
        return;
    bool is = json_is_true(json_object_get(a, "isConfirmed"));
    if (is == want) {
        sim_problem(c, 409,
                    want ? "The appointment is already confirmed."
                         : "The appointment is not confirmed.",
                    NULL);
        return;
    }
    if (appt_status_in(a, ended)) {
        sim_problem(c, 409, "The appointment's status does not allow this change.", NULL);
        return;
    }
    json_object_set_new(a, "isConfirmed", json_boolean(want));
    sim_touch(c->sim, c->tenant, SIM_APPOINTMENT, a, true);
    jpm_history_add(c->sim, c->tenant, sim_row_int(a, "jobId"),
                    want ? "Appointment Confirmed" : "Appointment Unconfirmed", NULL);
    sim_reply_empty(c, 200);
}

static void appt_confirm(struct sim_call *c)
{
    set_confirmed(c, true);
}

static void appt_unconfirm(struct sim_call *c)
{
    set_confirmed(c, false);
}

static void appt_special(struct sim_call *c)
{
    static const struct sim_field fields[] = {{"specialInstructions", SIM_F_STR, true, false}};
    json_t *a = appt_or_404(c);
    if (a == NULL || !sim_check_body(c, fields, 1))
        return;
    json_object_set(a, "specialInstructions", json_object_get(c->body, "specialInstructions"));
    sim_touch(c->sim, c->tenant, SIM_APPOINTMENT, a, true);
    sim_reply(c, 200, sim_public(a));
}

static void appt_delete(struct sim_call *c)
{
    static const char *const deletable[] = {"Scheduled", "Hold", "Canceled", NULL};
    json_t *a = appt_or_404(c);
    if (a == NULL)
        return;
    int64_t id = sim_row_id(a);
    json_t *job = sim_get(c->tenant, SIM_JOB, sim_row_int(a, "jobId"));
    if (job != NULL && sim_row_int(job, "appointmentCount") <= 1) {
        sim_problem(c, 409,
                    "Appointment state doesn't allow deletion: it is the job's only appointment.",
                    NULL);
        return;
    }
    if (!appt_status_in(a, deletable)) {
        sim_problem(c, 409, "Appointment state doesn't allow deletion.", NULL);
        return;
    }
    size_t n;
    int64_t *asg = jpm_ids_by(c->tenant, SIM_APPOINTMENT_ASSIGNMENT, "appointmentId", id, &n);
    for (size_t i = 0; i < n; i++)
        sim_remove(c->sim, c->tenant, SIM_APPOINTMENT_ASSIGNMENT, asg[i]);
    free(asg);
    sim_remove(c->sim, c->tenant, SIM_APPOINTMENT, id);
    if (job != NULL) {
        jpm_job_refresh(c->sim, c->tenant, job, true);
        jpm_history_add(c->sim, c->tenant, sim_row_id(job), "Appointment Deleted", NULL);
    }
    sim_reply_empty(c, 200);
}

void jpm_appt_routes(struct sim *s, struct ap_router *r)
{
    const char *rd = "tn.jpm.appointments:r", *wr = "tn.jpm.appointments:w";
    sim_api_route(s, r, "GET", "jpm", "/appointments", rd, appt_list);
    sim_api_route(s, r, "POST", "jpm", "/appointments", wr, appt_add);
    sim_api_route(s, r, "GET", "jpm", "/appointments/:id", rd, appt_get);
    sim_api_route(s, r, "DELETE", "jpm", "/appointments/:id", wr, appt_delete);
    sim_api_route(s, r, "PATCH", "jpm", "/appointments/:id/reschedule", wr, appt_reschedule);
    sim_api_route(s, r, "PUT", "jpm", "/appointments/:id/hold", wr, appt_hold);
    sim_api_route(s, r, "DELETE", "jpm", "/appointments/:id/hold", wr, appt_unhold);
    sim_api_route(s, r, "PUT", "jpm", "/appointments/:id/confirmation", wr, appt_confirm);
    sim_api_route(s, r, "DELETE", "jpm", "/appointments/:id/confirmation", wr, appt_unconfirm);
    sim_api_route(s, r, "PUT", "jpm", "/appointments/:id/special-instructions", wr, appt_special);
    sim_api_route(s, r, "GET", "jpm", "/export/appointments", rd, appt_export);
}

/*
 * jpm_int.h — what the pieces of stsim's JPM module share (sim/jpm/: the
 * rules of jobs and appointments in model.c, their handlers in jobs.c and
 * appointments.c, job types and reasons in types.c, the demo seed in
 * seed.c). Private to sim/jpm/.
 *
 * Jobs and appointments are SIM_JOB / SIM_APPOINTMENT rows shaped exactly
 * like Jpm.V2.JobResponse and Jpm.V2.AppointmentResponse; a job's
 * appointmentCount/firstAppointmentId/lastAppointmentId always reflect its
 * appointment rows (jpm_job_refresh). Technicians named at booking become
 * SIM_APPOINTMENT_ASSIGNMENT rows (the dispatch module's kind).
 */
#ifndef SIM_JPM_JPM_INT_H
#define SIM_JPM_JPM_INT_H

#include "sim/core/api.h"

/* Most appointments one create request may carry. */
#define JPM_MAX_APPOINTMENTS 100
/* Most technicians per appointment. */
#define JPM_MAX_TECHNICIANS 50

/*
 * Checks the times and technicians of one appointment request object
 * (start, end, arrivalWindowStart/End, technicianIds), whose types were
 * already checked; adds "<prefix>field" errors. True when it passed.
 */
bool jpm_appt_check(struct sim_tenant *t, const json_t *info, const char *prefix, json_t *errors);
/*
 * Adds an appointment (status Scheduled) to job from such an object
 * (+ optional specialInstructions), assigns its technicians, and refreshes
 * the job. Returns the appointment row (borrowed).
 */
json_t *jpm_appt_add(struct sim *s, struct sim_tenant *t, json_t *job, const json_t *info);
/* Recomputes the job's appointment fields; sim_touch with bump_modified. */
void jpm_job_refresh(struct sim *s, struct sim_tenant *t, json_t *job, bool bump_modified);
/* The id that stands for "who did it" in createdById/assignedById. */
int64_t jpm_actor_id(struct sim_tenant *t);

/*
 * Checks a JobCreateRequest body (types, required fields, referenced ids,
 * appointment times) into errors; true when it passed.
 */
bool jpm_job_check(struct sim_tenant *t, const json_t *body, json_t *errors);
/* Creates the job of a checked JobCreateRequest, with its appointments,
 * converting its booking. Returns the job row (borrowed). */
json_t *jpm_job_create(struct sim *s, struct sim_tenant *t, const json_t *body);

/*
 * The ids of the rows of kind k whose integer field field is v, ascending
 * (a malloc'd array the caller frees; NULL when none): appointments of a
 * job, assignments of an appointment or a job, through the core's indexes.
 */
int64_t *jpm_ids_by(struct sim_tenant *t, enum sim_kind k, const char *field, int64_t v, size_t *n);

/* Low, Normal, High, Urgent (NULL-terminated). */
extern const char *const jpm_priorities[];
/* The time in obj[key] as ns; false when absent or not a date-time. */
bool jpm_time_of(const json_t *obj, const char *key, int64_t *ns);
/* obj[key] (else obj[fallback], when not NULL) re-formatted the ServiceTitan way; null if neither.
 */
json_t *jpm_time_field(const json_t *obj, const char *key, const char *fallback);

/* The job's history row, or NULL before its first event (history.c). */
json_t *jpm_history_row(struct sim_tenant *t, int64_t job_id);
/* Appends an event (eventType, memo may be NULL) to the job's history (history.c). */
void jpm_history_add(struct sim *s, struct sim_tenant *t, int64_t job_id, const char *event,
                     const char *memo);

void jpm_job_routes(struct sim *s, struct ap_router *r);
void jpm_note_routes(struct sim *s, struct ap_router *r);
void jpm_appt_routes(struct sim *s, struct ap_router *r);
void jpm_types_routes(struct sim *s, struct ap_router *r);

#endif

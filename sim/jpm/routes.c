/*
 * routes.c — the JPM module of stsim (/jpm/v2): registers the routes of its
 * parts — jobs (jobs.c), appointments (appointments.c), job types and the
 * cancel and hold reasons (types.c). Their shared rules are model.c's.
 */
#include "sim/jpm/jpm.h"
#include "sim/jpm/jpm_int.h"

/* Every index the module uses, defined now so that warming a tenant builds them all. */
static void define_indexes(void)
{
    static const char *const job_fields[] = {"customerId", "locationId", "bookingId"};
    for (size_t i = 0; i < AP_COUNTOF(job_fields); i++)
        sim_index_int(SIM_JOB, job_fields[i]);
    sim_index_int(SIM_APPOINTMENT, "jobId");
    sim_index_int(SIM_APPOINTMENT, "customerId");
    sim_index_int(SIM_APPOINTMENT_ASSIGNMENT, "jobId");
    sim_index_int(SIM_APPOINTMENT_ASSIGNMENT, "appointmentId");
    sim_ext_index(SIM_JOB);
    sim_index_int(SIM_JOB_NOTE, "jobId");
    sim_index_int(SIM_JOB_HISTORY, "jobId");
}

void sim_jpm_routes(struct sim *s, struct ap_router *r)
{
    define_indexes();
    jpm_job_routes(s, r);
    jpm_appt_routes(s, r);
    jpm_types_routes(s, r);
    jpm_note_routes(s, r);
}

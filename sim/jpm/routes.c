/*
 * routes.c — the JPM module of stsim (/jpm/v2): registers the routes of its
 * parts — jobs (jobs.c), appointments (appointments.c), job types and the
 * cancel and hold reasons (types.c). Their shared rules are model.c's.
 */
#include "sim/jpm/jpm.h"
#include "sim/jpm/jpm_int.h"

void sim_jpm_routes(struct sim *s, struct ap_router *r)
{
    jpm_job_routes(s, r);
    jpm_appt_routes(s, r);
    jpm_types_routes(s, r);
}

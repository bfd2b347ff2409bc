/*
 * jpm.h — the JPM module of stsim (/jpm/v2): jobs, appointments, job types
 * and the job cancel and hold reasons. What the rest of stsim may call: its
 * routes and its demo seed.
 */
#ifndef SIM_JPM_JPM_H
#define SIM_JPM_JPM_H

#include "sim/core/model.h"

/* Registers the /jpm/v2 routes on the API host's router. */
void sim_jpm_routes(struct sim *s, struct ap_router *r);
/* Seeds t's job types, reasons and a few jobs, plus done ones in proportion to scale
 * (customers; after the settings, dispatch and crm seeds). */
void sim_jpm_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng, size_t scale);

#endif

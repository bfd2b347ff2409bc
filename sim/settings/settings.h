/*
 * settings.h — stsim's reference data: Settings (business units,
 * technicians, employees, tag types), Marketing campaigns and JBCE call
 * reasons. What the rest of stsim may call: the routes and the demo seed.
 */
#ifndef SIM_SETTINGS_SETTINGS_H
#define SIM_SETTINGS_SETTINGS_H

#include "sim/core/model.h"

/* Registers the /settings/v2, /marketing/v2 and /jbce/v2 routes on the API host's router. */
void sim_settings_routes(struct sim *s, struct ap_router *r);
/* Seeds t's reference data (the first seed: the others build on it). */
void sim_settings_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng);

#endif

/*
 * dispatch.h — the Dispatch module of stsim (/dispatch/v2): capacity,
 * arrival windows, business hours, zones, technician shifts and appointment
 * assignments. What the rest of stsim may call: its routes and its demo seed.
 */
#ifndef SIM_DISPATCH_DISPATCH_H
#define SIM_DISPATCH_DISPATCH_H

#include "sim/core/model.h"

/* Registers the /dispatch/v2 routes on the API host's router. */
void sim_dispatch_routes(struct sim *s, struct ap_router *r);
/* Seeds t's arrival windows, business hours, zones and shifts (after the settings seed). */
void sim_dispatch_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng);

#endif

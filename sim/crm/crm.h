/*
 * crm.h — the CRM module of stsim (/crm/v2): customers, locations, their
 * contacts, bookings and booking provider tags. What the rest of stsim may
 * call: its routes, its demo seed, and the booking conversion the JPM module
 * does when a job is created from a booking.
 */
#ifndef SIM_CRM_CRM_H
#define SIM_CRM_CRM_H

#include "sim/core/model.h"

/* Registers the /crm/v2 routes on the API host's router. */
void sim_crm_routes(struct sim *s, struct ap_router *r);
/* Seeds t's booking provider tags, "appointd" (the demo app's) and "Angi Leads": the
 * first records of a demo tenant, so their ids do not move when other seeds change. */
void sim_crm_seed_provider_tags(struct sim *s, struct sim_tenant *t);
/* Seeds t's CRM records (after the settings and dispatch seeds): scale customers with
 * their locations and contacts, and bookings in proportion. */
void sim_crm_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng, size_t scale);
/* Marks booking id converted to job_id (status, jobId); false if there is no such booking. */
bool sim_crm_convert_booking(struct sim *s, struct sim_tenant *t, int64_t booking_id,
                             int64_t job_id);

#endif

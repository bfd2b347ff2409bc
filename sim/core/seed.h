/*
 * seed.h — the demo world (`--seed demo`, the control API's reset): the ids
 * of the demo and the empty tenant and of the two apps, the scopes the demo
 * app asks for (scopes.c), and the seed driver (seed.c), which seeds each
 * emulated module's records in turn.
 */
#ifndef SIM_CORE_SEED_H
#define SIM_CORE_SEED_H

#include "sim/core/model.h"

#define SIM_DEMO_TENANT  1234567
#define SIM_EMPTY_TENANT 7654321
#define SIM_DEMO_APP     "appointd-demo"
#define SIM_OTHER_APP    "fieldpulse-sync"

/* Customers of the demo tenant unless --scale (or a reset's "scale") says otherwise. */
#define SIM_SEED_SCALE     200
#define SIM_SEED_SCALE_MAX 1000000

/* The seeded app every test may connect to read (and change) anything: it asks
 * for every scope a route needs. */
#define SIM_INSPECTOR_APP "stsim-inspector"

/* Scopes the demo app requests (NULL-terminated table; scopes.c). */
extern const char *const sim_demo_scopes[];
/* Every scope some route needs (NULL-terminated; scopes.c). */
extern const char *const sim_known_scopes[];

/*
 * --seed demo: the demo and the empty tenant, the demo app and a second
 * vendor's app, tenant users, and the demo tenant's records (deterministic;
 * scale customers, 0 = SIM_SEED_SCALE).
 */
void sim_seed_demo(struct sim *s, size_t scale);
/*
 * Connects the demo app to the demo tenant with every scope and the seeded
 * booking provider tag, and generates a secret into secret_out.
 */
enum ap_err sim_seed_connect(struct sim *s, char secret_out[64]);
/* Seeds a demo tenant's records (settings, dispatch, crm, jpm) with a fixed rng seed:
 * scale customers (0 = SIM_SEED_SCALE) and jobs and bookings in proportion. */
void sim_seed_tenant_records(struct sim *s, struct sim_tenant *t, size_t scale);
/* The seeded booking provider tag of t, or 0. */
int64_t sim_seed_provider_tag(struct sim_tenant *t);

#endif

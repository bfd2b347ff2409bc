/*
 * dispatch_int.h — private to stsim's Dispatch module (sim/dispatch/): the
 * capacity handler, the shift routes, and the helpers of util.c.
 */
#ifndef SIM_DISPATCH_DISPATCH_INT_H
#define SIM_DISPATCH_DISPATCH_INT_H

#include "sim/core/api.h"

/* POST /dispatch/v2/tenant/{t}/capacity (capacity.c). */
void sim_dispatch_capacity(struct sim_call *c);

/* Technician shifts and appointment assignments (shifts.c). */
void sim_dispatch_shift_routes(struct sim *s, struct ap_router *r);

/* Every item of arr an id of a row of kind k; else answers 400 naming field[i] and returns false.
 */
bool sim_dispatch_check_ids(struct sim_call *c, const json_t *arr, enum sim_kind k,
                            const char *field, const char *what);

/*
 * Parses a .NET TimeSpan text "hh:mm:ss" or "d.hh:mm:ss" into seconds.
 * Returns false on anything else or a value of 7 days or more.
 */
bool sim_dispatch_timespan(const char *s, int *secs);

/* The tenant's zone, "UTC" when it has none ICU knows. */
const char *sim_dispatch_zone(const struct sim_tenant *t);

/* The TimeSpan text of secs (< 7 days): "hh:mm:ss" or "d.hh:mm:ss". */
json_t *sim_dispatch_timespan_json(int secs);

#endif

/*
 * dispatch_int.h — private to stsim's dispatch module (dispatch.c and
 * capacity.c): the capacity handler and the small time helpers they share.
 */
#ifndef SIM_DISPATCH_INT_H
#define SIM_DISPATCH_INT_H

#include "sim/sim.h"

#define SIM_NS_PER_S INT64_C(1000000000)

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

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian). */
int64_t sim_days_from_civil(int y, int mon, int d);
void sim_civil_from_days(int64_t days, int *y, int *mon, int *d);

#endif

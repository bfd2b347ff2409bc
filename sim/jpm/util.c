/*
 * util.c — the lowest layer of stsim's JPM module: who "the API" acts as,
 * and rows by a parent's id through the core's indexes. Everything else in
 * sim/jpm/ builds on it.
 */
#include "sim/jpm/jpm_int.h"

int64_t jpm_actor_id(struct sim_tenant *t)
{
    /* The API acts as the tenant's first office user (the seed's first employee). */
    return sim_count(t, SIM_EMPLOYEE) > 0 ? sim_row_id(sim_at(t, SIM_EMPLOYEE, 0)) : 1;
}

int64_t *jpm_ids_by(struct sim_tenant *t, enum sim_kind k, const char *field, int64_t v, size_t *n)
{
    return sim_index_find_id(t, sim_index_int(k, field), v, n);
}

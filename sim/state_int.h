/*
 * state_int.h — what state.c shares with persist.c. Private to sim/.
 */
#ifndef SIM_STATE_INT_H
#define SIM_STATE_INT_H

#include "sim/sim.h"

/* The kind named name (sim_kind_name's spelling); false if none. */
bool sim_kind_parse(const char *name, enum sim_kind *out);
/* Frees tenants, apps, connections and users; ids start over. */
void sim_model_drop(struct sim *s);
/* Index of id in tb (true) or where it would go (false). */
bool sim_table_find(const struct sim_table *tb, int64_t id, size_t *at);
/* Puts row (stolen) into t's table k at id, replacing a row with that id;
 * returns its index. seq and changed_ns of the slot are the caller's to set. */
size_t sim_table_put(struct sim_tenant *t, enum sim_kind k, int64_t id, json_t *row);
/* Empties the state file (sim_reset); no-op without one. */
void sim_persist_clear(struct sim *s);

#endif

/*
 * core_int.h — what the model's files share inside sim/core: the kinds'
 * schema facts and the record tables (table.c), and the state file
 * (persist.c). The emulated modules never include it; they see model.h and
 * api.h.
 */
#ifndef SIM_CORE_CORE_INT_H
#define SIM_CORE_CORE_INT_H

#include "sim/core/model.h"

/* Ids start where a real tenant's would plausibly be. */
#define SIM_FIRST_ID 1000001

/* What a kind's response schema holds. */
struct sim_kind_info {
    const char *name;  /* sim_kind_name() */
    bool has_id;       /* the schema has "id" (else the id is kept in "_id") */
    bool has_created;  /* the schema has "createdOn" */
    bool has_modified; /* the schema has "modifiedOn" */
};
const struct sim_kind_info *sim_kind_info(enum sim_kind k);
/* The kind named name (sim_kind_name's spelling); false if none. */
bool sim_kind_parse(const char *name, enum sim_kind *out);

/* Frees tenants, apps, connections and users; ids start over. */
void sim_model_drop(struct sim *s);
/* Frees a string vector of n strings (NULL-safe). */
void sim_strv_free(char **v, size_t n);
/* Index of id in tb (true) or where it would go (false). */
bool sim_table_find(const struct sim_table *tb, int64_t id, size_t *at);
/* Puts row (stolen) into t's table k at id, replacing a row with that id;
 * returns its index. seq and changed_ns of the slot are the caller's to set. */
size_t sim_table_put(struct sim_tenant *t, enum sim_kind k, int64_t id, json_t *row);
/* Removes (and frees) the row at index at of t's table k. */
void sim_table_remove_at(struct sim_tenant *t, enum sim_kind k, size_t at);

/* ---- the state file (persist.c) ------------------------------------------- */

/*
 * Opens/creates the SQLite file (--state-file) and loads what it holds. A
 * file that holds state replaces the in-memory model (afterwards
 * s->ntenants > 0 tells that state was loaded, so there is nothing to seed);
 * an empty file gets the current in-memory model written into it.
 */
enum ap_err sim_persist_open(struct sim *s, const char *path, char *err, size_t errlen);
/* Writes one row (or its deletion when row is NULL) through; no-op without a state file. */
void sim_persist_row(struct sim *s, struct sim_tenant *t, enum sim_kind k, int64_t id,
                     const json_t *row);
/* Writes tenants, apps, connections and users through (after any portal change). */
void sim_persist_portal(struct sim *s);
/* Empties the state file (sim_reset); no-op without one. */
void sim_persist_clear(struct sim *s);

#endif

/*
 * index.h — what keeps lists, searches and export feeds fast at real tenant
 * sizes (core/index.c). Private to sim/core: modules use the key indexes
 * through api.h (sim_index_define, sim_index_find), lists and exports use the
 * rest through list.c.
 *
 * Per table (struct sim_table.aux), built on first use and then kept up to
 * date by state.c on every add, touch and remove:
 *   - the change log: (seq, id) in change order, for export feeds;
 *   - createdOn and modifiedOn indexes: (time, id) in time order, for date
 *     bounds;
 *   - the active flags by position in a Fenwick tree, so that "the k-th
 *     active row in id order" is a log-time question (list pages).
 * Entries that a later change made stale are skipped when read (a row's
 * current seq or time no longer matches) and dropped when they outnumber the
 * live ones. Everything here runs under s->lock.
 */
#ifndef SIM_CORE_INDEX_H
#define SIM_CORE_INDEX_H

#include "sim/core/model.h"

enum { SIM_TIX_CREATED, SIM_TIX_MODIFIED, SIM_TIX_COUNT };

/* ---- keeping the table indexes ---------------------------------------------- */

/* After the row at index at of t's table k was added (it may have shifted later rows). */
void sim_aux_added(struct sim_tenant *t, enum sim_kind k, size_t at);
/* After the row at index at changed (new seq, perhaps new times or active flag). */
void sim_aux_touched(struct sim_tenant *t, enum sim_kind k, size_t at);
/* After a row was removed from t's table k. */
void sim_aux_removed(struct sim_tenant *t, enum sim_kind k);
/* Builds every index of t now (every table's, and every defined key index), so that the
 * first list or search after a seed or a load does not pay for it. */
void sim_index_warm(struct sim_tenant *t);
/* Frees a table's indexes (NULL-safe). */
void sim_aux_free(struct sim_table *tb);

/* ---- reading them ------------------------------------------------------------ */

/* Rows of t's table k counted as active (no "active", or "active": true). */
size_t sim_aux_active_count(struct sim_tenant *t, enum sim_kind k);
/* The position of the nth (0-based) row whose active flag is want; false past the end. */
bool sim_aux_nth(struct sim_tenant *t, enum sim_kind k, bool want, size_t nth, size_t *pos);
/*
 * Ids of the live rows whose createdOn (which = SIM_TIX_CREATED) or
 * modifiedOn is in [lo, hi): a malloc'd array of *n ids, ascending by id.
 */
int64_t *sim_aux_time_range(struct sim_tenant *t, enum sim_kind k, int which, int64_t lo,
                            int64_t hi, size_t *n);
/*
 * The change log from the first change with seq > after: calls fn(ud, at, seq)
 * with the row's index for each live change in seq order until fn returns
 * false.
 */
void sim_aux_walk_log(struct sim_tenant *t, enum sim_kind k, uint64_t after,
                      bool (*fn)(void *ud, size_t at, uint64_t seq), void *ud);
/* The seq of the last change not younger than cutoff_ns (by changed_ns), or 0. */
uint64_t sim_aux_last_seq_before(struct sim_tenant *t, enum sim_kind k, int64_t cutoff_ns);

/* ---- key indexes (keyidx.c) ---------------------------------------------------- */

/* After row (of kind k, in t) was added or changed: the key indexes learn its keys. */
void sim_keyidx_row(struct sim_tenant *t, enum sim_kind k, const json_t *row);
/* Builds every defined key index of t that is not built yet. */
void sim_keyidx_warm(struct sim_tenant *t);
/* Frees t's key indexes. */
void sim_keyidx_free(struct sim_tenant *t);

#endif

/*
 * query_int.h — small helpers the reference-data and job modules (settings.c,
 * jpm.c) share for reading list filters from the query string and matching
 * rows. Private to sim/.
 *
 * The readers answer 400 themselves (ApiErrorResponse naming the parameter,
 * ASP.NET's "The value 'x' is not valid." wording) and return false when the
 * value is bad; an absent parameter is not an error (*has stays false).
 */
#ifndef SIM_QUERY_INT_H
#define SIM_QUERY_INT_H

#include "sim/sim.h"

/* At most this many ids in a comma-separated id list (ServiceTitan's limit). */
#define SIM_Q_MAX_IDS 50

/* An int64 query parameter. */
bool sim_q_int64(struct sim_call *c, const char *name, bool *has, int64_t *out);
/* A date-time query parameter (sim_time_parse), as ns. */
bool sim_q_time(struct sim_call *c, const char *name, bool *has, int64_t *out);
/* true/false (case-insensitive) query parameter. */
bool sim_q_bool(struct sim_call *c, const char *name, bool *has, bool *out);
/* A string query parameter that must be one of values (exact, NULL-terminated). */
bool sim_q_enum(struct sim_call *c, const char *name, const char *const *values, const char **out);
/* Comma-separated ids, at most SIM_Q_MAX_IDS, into ids[SIM_Q_MAX_IDS]; *n = 0 when absent. */
bool sim_q_ids(struct sim_call *c, const char *name, int64_t *ids, size_t *n);

/* Case-insensitive substring test (ASCII). NULL hay never matches. */
bool sim_ci_contains(const char *hay, const char *needle);
/* Integer field of row (0 when absent or not an integer). */
int64_t sim_row_int(const json_t *row, const char *key);
/* String field of row, or NULL. */
const char *sim_row_str(const json_t *row, const char *key);
/* Time field of row as ns; false when absent or unparseable. */
bool sim_row_time(const json_t *row, const char *key, int64_t *out);
/* True when the int array field key of row contains v. */
bool sim_row_has_id(const json_t *row, const char *key, int64_t v);
/* True when id is among ids[0..n). */
bool sim_ids_have(const int64_t *ids, size_t n, int64_t id);

#endif

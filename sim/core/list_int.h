/*
 * list_int.h — the request-independent parts of sim_list() and sim_export()
 * (list.c), exposed for unit tests: parameter parsing from any lookup
 * function, row filters, sorting, the page envelope, export tokens and the
 * export batch. Private to sim/ and its tests.
 */
#ifndef SIM_CORE_LIST_INT_H
#define SIM_CORE_LIST_INT_H

#include "sim/core/api.h"

#define SIM_LIST_MAX_IDS       50
#define SIM_LIST_MAX_PAGE_SIZE 5000
#define SIM_LIST_DEFAULT_PAGE  50
#define SIM_EXPORT_MAX_BATCH   5000

/* A query parameter by name (decoded), or NULL when absent. */
typedef const char *(*sim_param_fn)(void *ud, const char *name);

struct sim_list_params {
    int64_t page;      /* >= 1 */
    int64_t page_size; /* 1..5000 */
    bool include_total;
    int64_t ids[SIM_LIST_MAX_IDS];
    size_t nids;
    bool has_ids;
    int active; /* 1 True, 0 Any, -1 False; 0 when the list has no active filter */
    /* bounds in ns; INT64_MIN / INT64_MAX when absent */
    int64_t created_before, created_on_or_after, modified_before, modified_on_or_after;
    char sort_key[64]; /* JSON key to sort by; "" = ascending id */
    bool sort_desc;
};

/*
 * Parses the list parameters (o may be NULL: no active filter, dates or
 * sort). A list without o->sort ignores sort=; with it, a field not listed is
 * a 400. Each bad parameter adds {name: [message]} to errors; returns false
 * when there was any.
 */
bool sim_list_parse(sim_param_fn get, void *ud, const struct sim_list_opts *o,
                    struct sim_list_params *p, json_t *errors);
/* The generic filters (ids, active, date bounds) of p on row. */
bool sim_list_keep(const struct sim_list_params *p, const json_t *row);
/* Sorts rows by p's sort key (ties by ascending id); no key: ascending id. */
void sim_list_sort(json_t **rows, size_t n, const struct sim_list_params *p);
/* {page, pageSize, hasMore, totalCount, data} of the page p selects among
 * the n matching rows, each through sim_public(). New reference. */
json_t *sim_list_page(json_t *const *rows, size_t n, const struct sim_list_params *p);

struct sim_export_params {
    uint64_t after;     /* rows with a change sequence above this */
    bool has_from_date; /* from was a date: rows modified on/after from_ns */
    int64_t from_ns;
    bool recent;  /* includeRecentChanges */
    size_t batch; /* 1..5000 */
};

/* Parses from, includeRecentChanges and pageSize; false with errors filled. */
bool sim_export_parse(sim_param_fn get, void *ud, struct sim_export_params *p, json_t *errors);
/* The opaque continueFrom token of a change sequence ("c2VxOjQy" style). */
void sim_export_token(uint64_t seq, char out[48]);
/* Reverses sim_export_token(); false for anything else. */
bool sim_export_token_parse(const char *tok, uint64_t *seq);
/* Which rows an export batch takes and how they go out. */
struct sim_export_rows {
    bool (*keep)(const json_t *row, void *ud);       /* NULL = every row */
    json_t *(*present)(const json_t *row, void *ud); /* NULL = sim_public() */
    void *ud;
};

/*
 * {hasMore, continueFrom, data} of table k of t after p, at emulator time
 * now_ns with a visibility delay of delay_s seconds. r may be NULL. New
 * reference.
 */
json_t *sim_export_run(struct sim_tenant *t, enum sim_kind k, const struct sim_export_params *p,
                       int64_t now_ns, int delay_s, const struct sim_export_rows *r);

#endif

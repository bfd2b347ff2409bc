/*
 * api.h — what an emulated ServiceTitan endpoint works with: the call the
 * gate hands its handler (struct sim_call), route registration, replies in
 * ServiceTitan's shapes (ApiErrorResponse for every error), validation of
 * request bodies, paginated lists and export feeds, and the query-string
 * readers and row helpers the modules share. With model.h, the whole of the
 * core a module may use.
 */
#ifndef SIM_CORE_API_H
#define SIM_CORE_API_H

#include "sim/core/model.h"

/* ---- emulated API calls ---------------------------------------------------- */

/* What a handler gets: the gate has authenticated, authorised, rate-limited
 * and parsed everything below before calling it, with s->lock held. */
struct sim_call {
    struct sim *sim;
    struct ap_http_req *req;
    struct sim_tenant *tenant;
    struct sim_app *app;
    struct sim_conn *conn;
    json_t *body; /* parsed JSON body of POST/PUT/PATCH (NULL if none); owned by the gate */
    /* the route matched on a normalised path (case, trailing slash), or NULL
     * for the request's own match: read path parameters with sim_param() */
    const struct ap_route_match *match;
    bool challenged; /* a WWW-Authenticate header was added already */
    int status;      /* set by sim_reply*: what was answered */
};

typedef void (*sim_handler_fn)(struct sim_call *c);

/*
 * Registers an API route: METHOD /{module}/v2/tenant/:tenant{path}, guarded
 * by scope ("tn.crm.customers:r"). path uses the router's ":name" captures:
 * sim_api_route(s, r, "GET", "crm", "/customers/:id", "tn.crm.customers:r", fn).
 */
void sim_api_route(struct sim *s, struct ap_router *r, const char *method, const char *module,
                   const char *path, const char *scope, sim_handler_fn fn);

/* Path parameter as an int64 id; on a bad one answers 404 (as ServiceTitan) and returns false. */
bool sim_param_id(struct sim_call *c, const char *name, int64_t *out);

/* Answers with body (stolen) as JSON. */
void sim_reply(struct sim_call *c, int status, json_t *body);
/* Answers 200 with an empty body (ServiceTitan's "returns nothing" ops). */
void sim_reply_empty(struct sim_call *c, int status);
/*
 * Answers an ApiErrorResponse: {type, title, status, traceId, errors, data}.
 * errors (stolen; NULL → {}) maps a field to an array of messages.
 */
void sim_problem(struct sim_call *c, int status, const char *title, json_t *errors);
/* 400 "One or more validation errors occurred." with {field: [message]}. */
void sim_problem_field(struct sim_call *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 404 with title e.g. "Customer not found". */
void sim_not_found(struct sim_call *c, const char *title);
/* Builds an ApiErrorResponse body (new reference) for code outside a call (auth, gate). */
json_t *sim_problem_body(int status, const char *title, json_t *errors);

/* ---- body validation ------------------------------------------------------- */

enum sim_ftype {
    SIM_F_STR,
    SIM_F_INT, /* integer (int64) */
    SIM_F_NUM, /* any number */
    SIM_F_BOOL,
    SIM_F_TIME, /* string parseable by ap_time_parse */
    SIM_F_OBJ,
    SIM_F_ARR,
    SIM_F_ANY,
};

struct sim_field {
    const char *name;
    enum sim_ftype type;
    bool required;
    bool nullable; /* null accepted (as absent) */
};

/*
 * Binds obj to fields as ASP.NET Core would, then checks it: required ones
 * present, types right. Binding rewrites obj in place (it is the gate's copy
 * of the body, or a part of it): names are matched case-insensitively and
 * respelt as in fields, unknown ones are dropped (noted for the request
 * log), "true"/"false" become booleans, numeric strings numbers and numbers
 * strings where fields say so. Each problem adds "<prefix><name>" →
 * ["message"] to errors (prefix like "locations[0]." or ""). Returns true
 * when obj passed. obj not an object: one error at prefix (without the
 * trailing dot).
 */
bool sim_check(const json_t *obj, const char *prefix, const struct sim_field *fields, size_t n,
               json_t *errors);
/* sim_check of c->body (missing body = {}) that answers 400 itself; false when it did. */
bool sim_check_body(struct sim_call *c, const struct sim_field *fields, size_t n);

/* ---- lists and exports ----------------------------------------------------- */

struct sim_list_opts {
    bool active_filter;         /* honour active=True|Any|False */
    const char *active_default; /* "True" (most lists) or "Any" */
    const char *const *sort;    /* fields allowed in sort=±Field, NULL-terminated; NULL = none */
    bool dates;                 /* createdBefore/OnOrAfter, modifiedBefore/OnOrAfter */
    /* endpoint-specific filters; return false to skip row. May answer 400
     * itself and set *stop (then sim_list stops and sends nothing). NULL
     * when the request sets none: the list is then paged from the table's
     * indexes, whatever its size. */
    bool (*match)(struct sim_call *c, const json_t *row, void *ud, bool *stop);
    void *ud;
    /* has_cand: consider only the rows cand[0..ncand) (ids from a key index)
     * instead of the whole table; match still applies. */
    bool has_cand;
    const int64_t *cand;
    size_t ncand;
    bool keep_order; /* cand is in the order wanted (no sort= given): keep it */
    /* the row as it goes out (new reference); NULL = sim_public() */
    json_t *(*present)(struct sim_call *c, const json_t *row, void *ud);
};

/*
 * Answers a paginated list of table k: {page, pageSize, hasMore, totalCount,
 * data}. Parses page (>= 1; 0 treated as 1), pageSize (1..5000, default 50),
 * includeTotal, ids (comma-separated, at most 50, else 400), active, the date
 * bounds (OnOrAfter inclusive, Before exclusive), sort. Bad values → 400 with
 * an errors map naming the parameter. The cost is that of the page when
 * nothing but active and paging is asked, else that of the rows the ids,
 * the candidates or the date bounds select (a whole-table walk only for
 * filters no index serves).
 */
void sim_list(struct sim_call *c, enum sim_kind k, const struct sim_list_opts *o);

struct sim_export_opts {
    /* an extra filter; NULL = every row */
    bool (*match)(struct sim_call *c, const json_t *row, void *ud);
    /* the row as it goes out (new reference); NULL = sim_public() */
    json_t *(*present)(struct sim_call *c, const json_t *row, void *ud);
    void *ud;
};

/*
 * Answers an export feed of table k: {hasMore, continueFrom, data}. from:
 * empty/absent = from the start, a date = rows modified on/after it, else a
 * token from an earlier continueFrom (a bad token → 400). Rows in change
 * order, inactive ones included; includeRecentChanges=true also returns rows
 * changed in the visibility-delay window. Batches of at most 5000 (pageSize
 * param lowers it). o may be NULL. A batch costs what it returns (and what
 * o->match skips), not the table's size.
 */
void sim_export(struct sim_call *c, enum sim_kind k, const struct sim_export_opts *o);

/* ---- a module's control routes (control.c) ----------------------------------------- */

/*
 * The control API (/_stsim/...; no auth, JSON in and out, {"error"} on a
 * refusal, docs/stsim.md) also carries what a module can set up that
 * ServiceTitan's API cannot (a merged customer). fn runs under s->lock with
 * the parsed object body ({} when absent; NULL for GET).
 */
typedef void (*sim_control_fn)(struct sim *s, struct ap_http_req *req, json_t *body);
void sim_control_route(struct sim *s, struct ap_router *r, const char *method, const char *path,
                       sim_control_fn fn);
/* Sends body (stolen) as JSON with status. */
void sim_control_reply(struct ap_http_req *req, int status, json_t *body);
/* Sends {"error": message} with status. */
void sim_control_error(struct ap_http_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- key indexes --------------------------------------------------------------- */

/*
 * A key index maps keys a module derives from its rows ("2145550123" of a
 * contact's phone, "62701" of an address) to the ids of the rows that have
 * them, so that a search costs what it finds, not the tenant's size. A
 * module defines its indexes once (sim_index_define, e.g. from its routes
 * function); each tenant's index is built on the first lookup and kept up to
 * date on every add and change of a row of its kind.
 */
#define SIM_KEYS_MAX 16  /* keys per row (more are not indexed) */
#define SIM_KEY_LEN  160 /* longest key, with its NUL (longer ones are cut) */

struct sim_keys {
    size_t n;
    char k[SIM_KEYS_MAX][SIM_KEY_LEN];
};
/* Adds a printf-formatted key to ks (ignored when ks is full). */
void sim_keys_add(struct sim_keys *ks, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Fills out with the keys of row (out->n is 0 on entry). */
typedef void (*sim_keys_fn)(const json_t *row, struct sim_keys *out);

/* The slot of the index name on kind k, defining it on the first call; -1 when there are
 * SIM_MAX_INDEXES already. Calls with the same name return the same slot. */
int sim_index_define(enum sim_kind k, const char *name, sim_keys_fn fn);
/*
 * The ids of t's live rows whose keys hold key, ascending: a malloc'd array
 * of *n ids (NULL when none) the caller frees. slot < 0 finds nothing.
 */
int64_t *sim_index_find(struct sim_tenant *t, int slot, const char *key, size_t *n);
/* sim_index_find for an integer key (an owner id, a job id). */
int64_t *sim_index_find_id(struct sim_tenant *t, int slot, int64_t key, size_t *n);
/* The integer field field of row as its key (for indexes by owner or parent id). */
void sim_keys_of_int(const json_t *row, const char *field, struct sim_keys *out);
/*
 * The index of kind k by the integer field field (customerId, locationId,
 * jobId, appointmentId, technicianId, bookingId, businessUnitId, and the
 * hidden owners _customerId, _locationId, _bookingId, _jobId, _ownerId),
 * defined on first use; -1 for another field.
 */
int sim_index_int(enum sim_kind k, const char *field);

/* ---- external data (extdata.c) -------------------------------------------------- */

/*
 * Customers, locations and jobs keep external data under an application
 * GUID: the hidden "_ext" holds [{applicationGuid, key, value}],
 * "externalData" the [{key, value}] that go out.
 */
#define SIM_EXT_MAX_VALUES 50

struct sim_ext_filter {     /* externalDataApplicationGuid, externalDataKey, externalDataValues */
    const char *guid, *key; /* NULL when absent */
    const char *values[SIM_EXT_MAX_VALUES];
    size_t nvalues;
};

/* 8-4-4-4-12 hex digits. */
bool sim_is_guid(const char *s);
/* Checks an externalData object at path (update: patchMode allowed, null values remove). */
void sim_ext_check(const json_t *obj, const char *path, bool update, json_t *errors);
/* Sets row's external data from a checked create request's externalData (may be NULL). */
void sim_ext_set(json_t *row, const json_t *ext);
/* Applies a checked update request's externalData (patchMode Replace, the default, or Merge). */
void sim_ext_update(json_t *row, const json_t *ext);
/* sim_public(row) whose externalData holds only guid's entries (all when guid is NULL). */
json_t *sim_ext_present(const json_t *row, const char *guid);
/* Reads the three query parameters; answers 400 itself and returns false when bad. */
bool sim_ext_filter_parse(struct sim_call *c, struct sim_ext_filter *f);
bool sim_ext_filter_active(const struct sim_ext_filter *f);
bool sim_ext_filter_match(const struct sim_ext_filter *f, const json_t *row);
/* The slot of kind k's external-data index (defined on first use). */
int sim_ext_index(enum sim_kind k);
/* The ids of t's rows of kind k (customers, locations, jobs) an active filter can match,
 * ascending (malloc'd; verify with sim_ext_filter_match). */
int64_t *sim_ext_candidates(struct sim_tenant *t, enum sim_kind k, const struct sim_ext_filter *f,
                            size_t *n);

/* ---- custom fields (fields.c) ------------------------------------------------------ */

/* The custom field type id of whose records ("customer", "location", "job"), or NULL. */
json_t *sim_custom_field_type(struct sim_tenant *t, const char *whose, int64_t id);
/* Checks a customFields array at path: {typeId, value} items, each typeId one of whose
 * types, each value fitting its type. Absent or null is fine. */
void sim_custom_fields_check(struct sim_tenant *t, const char *whose, const json_t *arr,
                             const char *path, json_t *errors);
/* Adds a custom field type for whose records (options: NULL-terminated, or NULL). */
int64_t sim_custom_field_type_add(struct sim *s, struct sim_tenant *t, const char *whose,
                                  const char *name, const char *data_type,
                                  const char *const *options);
/* [{typeId, name, value}] of a checked customFields array (NULL or absent → []). */
json_t *sim_custom_fields_build(struct sim_tenant *t, const char *whose, const json_t *in);

/* ---- query parameters and rows ---------------------------------------------- */

/*
 * The readers answer 400 themselves (ApiErrorResponse naming the parameter,
 * ASP.NET's "The value 'x' is not valid." wording) and return false when the
 * value is bad; an absent parameter is not an error (*has stays false).
 */
/*
 * A query parameter, %- and '+'-decoded into the request's arena; NULL when
 * absent. Names match case-insensitively (ASP.NET Core's binding); the first
 * one wins.
 */
const char *sim_query(struct ap_http_req *req, const char *name);
/* A path parameter of the call's route (%-decoded), or NULL. */
const char *sim_param(struct sim_call *c, const char *name);

/* At most this many ids in a comma-separated id list (ServiceTitan's limit). */
#define SIM_Q_MAX_IDS 50

/* An int64 query parameter. */
bool sim_q_int64(struct sim_call *c, const char *name, bool *has, int64_t *out);
/* A date-time query parameter (ap_time_parse), as ns. */
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

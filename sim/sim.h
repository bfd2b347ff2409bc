/*
 * sim.h — stsim's shared model: the emulated ServiceTitan (tenants, the
 * developer portal's apps, tenant-side app connections, and each tenant's
 * records), and the helpers every emulated endpoint uses.
 *
 * Concurrency: one mutex (struct sim.lock) guards the whole model. The gate
 * (gate.c) takes it around every API handler, the web pages and the control
 * API take it around their work. Handlers therefore never lock themselves.
 *
 * Records are jansson objects shaped exactly like ServiceTitan's response
 * schemas (../shared/servicetitan-openapi/<module>-v2.json), so most GETs send a
 * stored object as it is. A table keeps its rows in ascending id order.
 *
 * Time: sim_now() is the emulator's clock (real time plus an offset the
 * control API can move). Timestamps go out as UTC with 7 fractional digits,
 * "2026-11-28T17:18:06.1234567Z", and are accepted with 0-7 digits, with "Z"
 * or an offset, or as a bare date.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "http/http.h"
#include "json/json.h"

struct ap_store;

/* ---- record kinds --------------------------------------------------------- */

enum sim_kind {
    /* crm */
    SIM_CUSTOMER,
    SIM_LOCATION,
    SIM_CUSTOMER_CONTACT, /* has "customerId" (hidden field, see SIM_HIDDEN_PREFIX) */
    SIM_LOCATION_CONTACT, /* has "locationId" */
    SIM_BOOKING,          /* has hidden "_providerId" */
    SIM_BOOKING_CONTACT,  /* has hidden "_bookingId" */
    SIM_BOOKING_PROVIDER_TAG,
    /* jpm */
    SIM_JOB,
    SIM_APPOINTMENT,
    SIM_JOB_TYPE,
    SIM_JOB_CANCEL_REASON,
    SIM_JOB_HOLD_REASON,
    /* settings */
    SIM_BUSINESS_UNIT,
    SIM_TECHNICIAN,
    SIM_EMPLOYEE,
    SIM_TAG_TYPE,
    /* marketing, jbce */
    SIM_CAMPAIGN,
    SIM_CALL_REASON,
    /* dispatch */
    SIM_ARRIVAL_WINDOW,
    SIM_BUSINESS_HOURS, /* one row per tenant */
    SIM_ZONE,
    SIM_TECHNICIAN_SHIFT,
    SIM_APPOINTMENT_ASSIGNMENT,
    SIM_KIND_COUNT
};

/* Stable lowercase name ("customer", "technician-shift"), for persistence and logs. */
const char *sim_kind_name(enum sim_kind k);

/*
 * Keys starting with this prefix ("_") are the emulator's own bookkeeping on
 * a record (e.g. "_providerId"). sim_public() returns a copy without them;
 * every response that sends stored rows must go through it (sim_list and
 * sim_export do so already).
 */
#define SIM_HIDDEN_PREFIX '_'
json_t *sim_public(const json_t *row); /* new reference */

/* ---- the model ------------------------------------------------------------ */

struct sim_table {
    json_t **rows;       /* ascending "id" */
    uint64_t *seq;       /* change sequence of each row, for export feeds */
    int64_t *changed_ns; /* emulator time of each row's last change (export delay) */
    size_t n, cap;
};

struct sim_tenant {
    int64_t id;
    char name[96];
    char tz[64]; /* IANA zone, e.g. "America/Chicago" */
    bool empty;  /* seeded without records (the cross-tenant test tenant) */
    struct sim_table tables[SIM_KIND_COUNT];
    uint64_t next_seq;
};

struct sim_app {
    char id[24];   /* short opaque id, e.g. "appointd-demo" */
    char name[96]; /* shown on the tenant's Connect New App page */
    char key[64];  /* "ak1." + 25 [a-z0-9] */
    int version;   /* bumps when the scopes change */
    char **scopes; /* of the newest version: "tn.crm.customers:r" ... */
    size_t nscopes;
    bool booking_provider; /* asks for a booking provider tag on Allow Access */
    int64_t *tenants;      /* tenant ids the developer added the app to */
    size_t ntenants;
};

enum sim_conn_state { SIM_CONN_NOT_CONNECTED, SIM_CONN_CONNECTED, SIM_CONN_DISABLED };

struct sim_conn {
    int64_t tenant_id;
    char app_id[24];
    enum sim_conn_state state;
    int version;   /* app version the tenant accepted */
    char **scopes; /* granted (a tenant may withhold some) */
    size_t nscopes;
    int64_t booking_provider_id; /* tag id chosen on Allow Access; 0 = none */
    bool no_restriction;         /* may use tenant-wide /bookings */
    char client_id[48];          /* "cid." + 25 [a-z0-9]; "" until connected */
    uint8_t secret_hash[32];     /* HMAC of the secret; never the secret */
    bool has_secret;
    int64_t secret_generated_ns;
    int64_t connected_ns;
};

struct sim_user { /* a tenant-side user of the web pages */
    int64_t tenant_id;
    char username[48];
    char password[48]; /* demo data: plain, documented, emulator only */
    bool manage_api_access;
};

struct sim_fault; /* see faults in gate.c */
struct sim_log;   /* request log ring, see gate.c */

struct sim_config {
    int token_lifetime_s;  /* 900 */
    int rate_limit;        /* requests/s per (app, tenant); 0 = off */
    int token_rate_limit;  /* token requests per client per minute; 0 = off */
    int capacity_max_days; /* 14 */
    int export_delay_s;    /* visibility delay of export feeds; 0 */
    char environment[16];  /* "integration" | "production" */
};

struct sim {
    pthread_mutex_t lock;
    struct sim_config cfg;
    int64_t clock_offset_ns;
    uint8_t token_key[32];  /* signs tokens; random per process */
    uint8_t secret_key[32]; /* keys the secret hashes; persisted with the state */

    struct sim_tenant **tenants;
    size_t ntenants;
    struct sim_app **apps;
    size_t napps;
    struct sim_conn **conns;
    size_t nconns;
    struct sim_user *users;
    size_t nusers;

    int64_t next_id; /* ids are unique across kinds and tenants */

    struct ap_store *persist; /* --state-file, or NULL */
    struct sim_log *log;
    struct sim_fault *faults;

    /* counters (under lock) */
    uint64_t tokens_issued, token_requests, api_requests, rate_limited;
};

/* Creates an empty emulator. cfg is copied. */
struct sim *sim_new(const struct sim_config *cfg);
void sim_free(struct sim *s);
/* Drops every tenant, app, connection and user, zeroes the counters and empties the
 * state file (control API reset). Faults and the log: sim_gate_reset() (sim_int.h). */
void sim_reset(struct sim *s);

/*
 * Persistence (--state-file): opens/creates the SQLite file, loads what it
 * holds. A file that holds state replaces the in-memory model (afterwards
 * s->ntenants > 0 tells that state was loaded, so there is nothing to seed);
 * an empty file gets the current in-memory model written into it.
 */
enum ap_err sim_persist_open(struct sim *s, const char *path, char *err, size_t errlen);
/* Writes one row (or its deletion when row is NULL) through to the state file; no-op without one.
 */
void sim_persist_row(struct sim *s, struct sim_tenant *t, enum sim_kind k, int64_t id,
                     const json_t *row);
/* Writes tenants, apps, connections and users through (after any portal change). */
void sim_persist_portal(struct sim *s);

int64_t sim_now(const struct sim *s); /* ns since the epoch, emulator clock */
/* "2026-11-28T17:18:06.1234567Z" (7 fractional digits, UTC). */
void sim_time_fmt(int64_t ns, char out[40]);
json_t *sim_time_json(int64_t ns); /* json string of sim_time_fmt */
/* Parses 0-7 fractional digits, "Z" or ±hh:mm, or a bare date (midnight UTC). */
bool sim_time_parse(const char *s, int64_t *ns);

/* Deterministic PRNG for seeds. */
struct sim_rng {
    uint64_t s;
};
uint64_t sim_rand(struct sim_rng *r);
int sim_rand_range(struct sim_rng *r, int lo, int hi); /* inclusive */

/* ---- tenants, apps, connections (the developer-portal model) -------------- */

struct sim_tenant *sim_tenant_add(struct sim *s, int64_t id, const char *name, const char *tz);
struct sim_tenant *sim_tenant_find(struct sim *s, int64_t id);
struct sim_app *sim_app_add(struct sim *s, const char *id, const char *name,
                            const char *const *scopes, size_t nscopes, bool booking_provider);
struct sim_app *sim_app_find(struct sim *s, const char *id);
struct sim_app *sim_app_by_key(struct sim *s, const char *key);
/* The developer adds a tenant id to the app (idempotent). */
void sim_app_add_tenant(struct sim *s, struct sim_app *a, int64_t tenant_id);
bool sim_app_has_tenant(const struct sim_app *a, int64_t tenant_id);
/* New scopes → new version. */
void sim_app_set_scopes(struct sim *s, struct sim_app *a, const char *const *scopes, size_t n);

/* The connection of (tenant, app), created NOT_CONNECTED on first use when create. */
struct sim_conn *sim_conn_get(struct sim *s, int64_t tenant_id, const char *app_id, bool create);
struct sim_conn *sim_conn_by_client_id(struct sim *s, const char *client_id);
/*
 * Allow Access: connected with the granted scopes (a subset of the app's;
 * NULL = all), the app's current version, the provider tag; mints the
 * client id if there is none yet. AP_EPERM when the app was not added to the
 * tenant.
 */
enum ap_err sim_conn_allow(struct sim *s, struct sim_conn *c, const char *const *scopes,
                           size_t nscopes, int64_t booking_provider_id);
/* Generates a new client secret into out ("cs2." + 50 [a-z0-9]); the old one stops working at once.
 */
enum ap_err sim_conn_new_secret(struct sim *s, struct sim_conn *c, char out[64]);
bool sim_conn_check_secret(const struct sim *s, const struct sim_conn *c, const char *secret);
void sim_conn_set_state(struct sim *s, struct sim_conn *c, enum sim_conn_state st);
/* Upgrade to the app's newest version, granting its scopes. */
void sim_conn_upgrade(struct sim *s, struct sim_conn *c);
bool sim_conn_has_scope(const struct sim_conn *c, const char *scope);

/* Adds a web user (persisted). The pointer is valid until the next sim_user_add. */
struct sim_user *sim_user_add(struct sim *s, int64_t tenant_id, const char *username,
                              const char *password, bool manage_api_access);
/* The user named username (case-insensitive) of tenant_id (0 = any tenant), or NULL. */
struct sim_user *sim_user_find(struct sim *s, int64_t tenant_id, const char *username);

/* ---- records ---------------------------------------------------------------- */

/* Borrowed row, or NULL. */
json_t *sim_get(struct sim_tenant *t, enum sim_kind k, int64_t id);
/*
 * Adds row (reference stolen): sets "id" to a fresh id unless row already has
 * one (seeds), sets "createdOn"/"modifiedOn" to now when the kind's schema
 * has them and they are missing, gives it a change sequence, persists.
 * Returns the id.
 */
int64_t sim_add(struct sim *s, struct sim_tenant *t, enum sim_kind k, json_t *row);
/* After changing row in place: new change sequence, "modifiedOn" = now when bump_modified, persist.
 */
void sim_touch(struct sim *s, struct sim_tenant *t, enum sim_kind k, json_t *row,
               bool bump_modified);
/* Removes and frees the row (appointment delete, unassign). */
void sim_remove(struct sim *s, struct sim_tenant *t, enum sim_kind k, int64_t id);
static inline size_t sim_count(const struct sim_tenant *t, enum sim_kind k)
{
    return t->tables[k].n;
}
static inline json_t *sim_at(const struct sim_tenant *t, enum sim_kind k, size_t i)
{
    return t->tables[k].rows[i];
}
int64_t sim_row_id(const json_t *row);

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
    int status;   /* set by sim_reply*: what was answered */
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
    SIM_F_TIME, /* string parseable by sim_time_parse */
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
 * Checks obj against fields: every key known, required ones present, types
 * right. Each problem adds "<prefix><name>" → ["message"] to errors (prefix
 * like "locations[0]." or ""). Returns true when obj passed. obj not an
 * object: one error at prefix (without the trailing dot).
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
     * itself and set *stop (then sim_list stops and sends nothing). */
    bool (*match)(struct sim_call *c, const json_t *row, void *ud, bool *stop);
    void *ud;
    /* rows of another table than the route's (rare); -1 = use kind */
};

/*
 * Answers a paginated list of table k: {page, pageSize, hasMore, totalCount,
 * data}. Parses page (>= 1; 0 treated as 1), pageSize (1..5000, default 50),
 * includeTotal, ids (comma-separated, at most 50, else 400), active, the date
 * bounds (OnOrAfter inclusive, Before exclusive), sort. Bad values → 400 with
 * an errors map naming the parameter. Rows go out through sim_public().
 */
void sim_list(struct sim_call *c, enum sim_kind k, const struct sim_list_opts *o);

/*
 * Answers an export feed of table k: {hasMore, continueFrom, data}. from:
 * empty/absent = from the start, a date = rows modified on/after it, else a
 * token from an earlier continueFrom (a bad token → 400). Rows in change
 * order, inactive ones included; includeRecentChanges=true also returns rows
 * changed in the visibility-delay window. Batches of at most 5000 (pageSize
 * param lowers it).
 */
void sim_export(struct sim_call *c, enum sim_kind k,
                bool (*match)(struct sim_call *c, const json_t *row, void *ud), void *ud);

/* ---- modules ---------------------------------------------------------------- */

/* Each module registers its API routes, and seeds a demo tenant's records. */
void sim_crm_routes(struct sim *s, struct ap_router *r);
void sim_jpm_routes(struct sim *s, struct ap_router *r);
void sim_settings_routes(struct sim *s, struct ap_router *r); /* + marketing, jbce */
void sim_dispatch_routes(struct sim *s, struct ap_router *r);
/* The tenant-side pages (Settings → Integrations → API Application Access), the
 * developer portal and their login forms, for the web listener (web.c). */
void sim_web_routes(struct sim *s, struct ap_router *r);
/* seed.c: --seed demo — the demo and the empty tenant, the demo app and a second
 * vendor's app, tenant users, and the demo tenant's records (deterministic). */
void sim_seed_demo(struct sim *s);

/* Seeding order for --seed demo: settings, dispatch, crm, jpm (later ones use earlier rows). */
void sim_settings_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng);
void sim_dispatch_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng);
void sim_crm_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng);
void sim_jpm_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng);

/* Used across modules: capacity must see appointments; jobs must convert bookings. */
/* Marks booking id converted to job_id (status, jobId); false if there is no such booking. */
bool sim_crm_convert_booking(struct sim *s, struct sim_tenant *t, int64_t booking_id,
                             int64_t job_id);

#endif

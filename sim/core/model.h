/*
 * model.h — stsim's model: the emulated ServiceTitan (tenants, the developer
 * portal's apps, tenant-side app connections, and each tenant's records).
 * The emulated modules (sim/crm, sim/jpm, ...) reach it through this header
 * and core/api.h, nothing else of sim/core.
 *
 * Concurrency: one mutex (struct sim.lock) guards the whole model. The gate
 * (core/gate.c) takes it around every API handler, the web pages and the
 * control API take it around their work. Handlers therefore never lock
 * themselves.
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
#ifndef SIM_CORE_MODEL_H
#define SIM_CORE_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/datetime.h"
#include "core/defs.h"
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
    SIM_CUSTOMER_NOTE,     /* has hidden "_customerId" */
    SIM_LOCATION_NOTE,     /* has hidden "_locationId" */
    SIM_LEAD,              /* LeadResponse */
    SIM_CUSTOM_FIELD_TYPE, /* has hidden "_for": "customer" | "location" | "job" */
    /* jpm */
    SIM_JOB,
    SIM_APPOINTMENT,
    SIM_JOB_TYPE,
    SIM_JOB_CANCEL_REASON,
    SIM_JOB_HOLD_REASON,
    SIM_JOB_NOTE,    /* has "jobId" (hidden from the job's note list, shown by the feed) */
    SIM_JOB_HISTORY, /* one row per job: {jobId, history: [...]} */
    /* settings */
    SIM_BUSINESS_UNIT,
    SIM_TECHNICIAN,
    SIM_EMPLOYEE,
    SIM_TAG_TYPE,
    SIM_USER_ROLE,
    /* marketing, jbce */
    SIM_CAMPAIGN,
    SIM_CALL_REASON,
    /* dispatch */
    SIM_ARRIVAL_WINDOW,
    SIM_BUSINESS_HOURS, /* one row per tenant */
    SIM_ZONE,
    SIM_TECHNICIAN_SHIFT,
    SIM_APPOINTMENT_ASSIGNMENT,
    SIM_TEAM,
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

struct sim_table_aux; /* the table's indexes (core/index.h), NULL until first used */
struct sim_keyidx;    /* one key index of a tenant (core/keyidx.c) */

struct sim_table {
    json_t **rows;       /* ascending "id" */
    int64_t *ids;        /* the id of each row (for lookups without touching the row) */
    uint64_t *seq;       /* change sequence of each row, for export feeds */
    int64_t *changed_ns; /* emulator time of each row's last change (export delay) */
    size_t n, cap;
    struct sim_table_aux *aux;
};

/* Most key indexes the modules may define (sim_index_define). */
#define SIM_MAX_INDEXES 32

struct sim_tenant {
    int64_t id;
    char name[96];
    char tz[64]; /* IANA zone, e.g. "America/Chicago" */
    bool empty;  /* seeded without records (the cross-tenant test tenant) */
    struct sim_table tables[SIM_KIND_COUNT];
    uint64_t next_seq;
    struct sim_keyidx *kidx[SIM_MAX_INDEXES]; /* built on first lookup */
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

struct sim_fault; /* injected faults, core/backbone.h */
struct sim_log;   /* request log ring and rate buckets, core/backbone.h */

struct sim_config {
    int token_lifetime_s;  /* 900 */
    int rate_limit;        /* requests/s per (app, tenant); 0 = off */
    int token_rate_limit;  /* token requests per client per minute; 0 = off */
    int capacity_max_days; /* 14 */
    int export_delay_s;    /* visibility delay of export feeds; 0 */
    char environment[16];  /* "integration" | "production" */
    int seed_scale;        /* customers of the demo seed (--scale; resets' default) */
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

int64_t sim_now(const struct sim *s); /* ns since the epoch, emulator clock */
/* ServiceTitan's timestamp form, "2026-11-28T17:18:06.1234567Z" (ap_time_format
 * with 7 fractional digits), as a json string. Inputs are read with ap_time_parse. */
json_t *sim_time_json(int64_t ns);

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

#endif

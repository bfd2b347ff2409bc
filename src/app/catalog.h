/*
 * catalog.h — an account's ServiceTitan catalog: the business units, job
 * types, campaigns, arrival windows, zones, booking provider tags and tag
 * types that schedulers are set up from, read from ServiceTitan through the
 * titan client and kept in the store.
 *
 * Items ServiceTitan deactivates stay with active = false; items it no longer
 * returns at all (even with active=Any) stay with deleted = true, so an old
 * scheduler can say "job type 123 was deleted in ServiceTitan" rather than
 * "unknown". Each kind is refreshed on its own: a kind whose read fails (a
 * scope the contractor did not grant, ServiceTitan down) keeps its previous
 * items and records the error, the other kinds still refresh.
 *
 * A loaded catalog (struct ap_catalog) is an immutable snapshot: share it
 * between threads freely, free it once.
 */
#ifndef AP_APP_CATALOG_H
#define AP_APP_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "json/json.h"

struct ap_store;
struct ap_titan;
struct ap_titan_creds;

enum ap_cat_kind {
    AP_CAT_BUSINESS_UNIT,
    AP_CAT_JOB_TYPE,
    AP_CAT_CAMPAIGN,
    AP_CAT_ARRIVAL_WINDOW,
    AP_CAT_ZONE,
    AP_CAT_BOOKING_PROVIDER_TAG,
    AP_CAT_TAG_TYPE,
    AP_CAT_NKINDS
};

/* "business_unit", … (the stored name); NULL out of range. */
const char *ap_cat_kind_name(enum ap_cat_kind k);
/* "business unit", "job type", … (for messages). */
const char *ap_cat_kind_label(enum ap_cat_kind k);
/* The plural key in API answers: "businessUnits", "jobTypes", … */
const char *ap_cat_kind_key(enum ap_cat_kind k);

struct ap_cat_item {
    int64_t id;
    char name[128]; /* the item's name (arrival windows: "08:00–10:00") */
    bool active;
    bool deleted;
    json_t *data; /* ServiceTitan's row as last read (owned by the catalog) */
};

struct ap_catalog; /* a snapshot */

/* Loads the account's stored catalog (empty when never refreshed). NULL on a store error. */
struct ap_catalog *ap_catalog_load(struct ap_store *st, int64_t account_id);
void ap_catalog_free(struct ap_catalog *c);

/* The item of that kind and id, or NULL. */
const struct ap_cat_item *ap_catalog_find(const struct ap_catalog *c, enum ap_cat_kind k,
                                          int64_t id);
/* Items of a kind, ordered by id. */
size_t ap_catalog_count(const struct ap_catalog *c, enum ap_cat_kind k);
const struct ap_cat_item *ap_catalog_at(const struct ap_catalog *c, enum ap_cat_kind k, size_t i);
/* When the kind was last read successfully (RFC 3339 UTC, "" never) and the last error ("" none).
 */
const char *ap_catalog_refreshed_at(const struct ap_catalog *c, enum ap_cat_kind k);
const char *ap_catalog_error(const struct ap_catalog *c, enum ap_cat_kind k);

/*
 * Job types: duration in seconds (ServiceTitan's `duration`; 0 when absent)
 * and whether it lists business unit bu (true when it lists none).
 */
int64_t ap_catalog_job_duration_s(const struct ap_cat_item *job_type);
bool ap_catalog_job_has_bu(const struct ap_cat_item *job_type, int64_t bu);
/* Zones: whether an active zone lists zip. */
bool ap_catalog_zone_zip(const struct ap_catalog *c, const char *zip);
/* Arrival windows: start and duration in seconds from their "hh:mm:ss" texts. */
bool ap_catalog_window_times(const struct ap_cat_item *w, int *start_s, int *duration_s);

/*
 * The catalog as the admin API shows it: {"businessUnits": [{id, name,
 * active, deleted, …kind-specific fields}], …, "refreshedAt": {kind: time},
 * "errors": {kind: message}}. New reference.
 */
json_t *ap_catalog_json(const struct ap_catalog *c);

/* What a refresh did. */
struct ap_catalog_result {
    int items[AP_CAT_NKINDS]; /* rows read per kind */
    int failed;               /* kinds whose read failed */
    char first_error[256];    /* "zones: ServiceTitan answered 403 …" */
};

/*
 * Reads every kind from ServiceTitan (all pages, active=Any) and stores it
 * for the account. Blocks: call it from a ServiceTitan worker or the CLI,
 * never from an HTTP loop thread. AP_OK when at least one kind was read;
 * AP_EUNAVAIL when none could be (result says why); a store error as such.
 */
enum ap_err ap_catalog_refresh(struct ap_store *st, struct ap_titan *t,
                               const struct ap_titan_creds *creds, int64_t account_id,
                               struct ap_catalog_result *result);

#endif

/*
 * scheduler.h — schedulers: what homeowners can book on one website (or
 * landing page, or call-centre page) of a contractor, all on the account's
 * one ServiceTitan connection.
 *
 * One JSON shape for the admin API and the CLI's --config file (docs/api.md,
 * "Schedulers"). ap_sched_parse() reads it strictly (unknown fields are
 * refused, every value bounded) and, given the account's catalog, checks each
 * ServiceTitan id against it, naming the field and the item:
 *   services[1].jobTypeId: job type 123 is inactive in ServiceTitan
 * A parsed scheduler (struct ap_sched) is immutable: share it between
 * threads, free it once.
 *
 * The key is public (it sits in a contractor's website): 16 random bytes,
 * base64url, after "sch_". Rows live in the schedulers table; the config
 * column holds the normalised JSON (defaults filled in).
 */
#ifndef AP_APP_SCHEDULER_H
#define AP_APP_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/phone.h"
#include "core/datetime.h"
#include "core/err.h"
#include "json/json.h"

struct ap_store;
struct ap_catalog;

/* Bounds of the JSON shape. */
#define AP_SCHED_MAX_SERVICES 50
#define AP_SCHED_MAX_ORIGINS  20
#define AP_SCHED_MAX_ZIPS     5000
#define AP_SCHED_MAX_BLACKOUT 366
#define AP_SCHED_MAX_RULES    50
#define AP_SCHED_MAX_TAGS     20
#define AP_SCHED_KEY_LEN      48

enum ap_sched_mode { AP_SCHED_JOB, AP_SCHED_BOOKING };

struct ap_sched_service {
    char id[41];    /* [a-z0-9-], unique in the scheduler: what the widget sends */
    char label[81]; /* what the homeowner reads */
    char *description;
    int64_t job_type_id, business_unit_id;
    char priority[8]; /* Low | Normal | High | Urgent */
    char *summary;    /* template: {{service}} {{notes}} {{answers}} {{name}} */
    char *question;   /* an optional question shown with the service; NULL none */
    bool question_required;
    int64_t duration_s; /* the job type's, from the catalog (0 when unknown) */
};

/* Attribution keys a campaign rule may match. */
enum ap_sched_attr {
    AP_ATTR_UTM_SOURCE,
    AP_ATTR_UTM_MEDIUM,
    AP_ATTR_UTM_CAMPAIGN,
    AP_ATTR_GCLID,
    AP_ATTR_FBCLID,
    AP_ATTR_CAMPAIGN,
    AP_ATTR_N
};
/* "utm_source", … */
const char *ap_sched_attr_name(enum ap_sched_attr a);

struct ap_sched_campaign_rule {
    char *match[AP_ATTR_N]; /* NULL: not part of the rule; "*": any value present */
    int64_t campaign_id;
};

struct ap_sched {
    /* from the row (zero for a config that is not stored yet) */
    int64_t id, account_id;
    char key[AP_SCHED_KEY_LEN];
    bool paused;
    char updated_at[32];
    /* from the JSON */
    char name[101];
    char time_zone[65];
    enum ap_sched_mode mode;
    char **origins; /* "https://example.com[:port]", lowercase */
    size_t norigins;
    struct ap_sched_service *services;
    size_t nservices;
    int min_notice_min, horizon_days, close_before_min;
    struct ap_date *blackout;
    size_t nblackout;
    bool area_zones; /* ZIPs of ServiceTitan's zones, else zips[] */
    char (*zips)[11];
    size_t nzips; /* sorted */
    bool capacity_local;
    int per_window; /* capacity_local: bookings per arrival window */
    int64_t campaign_id;
    struct ap_sched_campaign_rule *rules;
    size_t nrules;
    int64_t *tag_type_ids;
    size_t ntags;
    int64_t booking_provider_tag_id; /* booking mode */
    char primary_color[8];           /* "#rrggbb" */
    char button_label[41];
    char phone[AP_PHONE_E164_MAX]; /* the contractor's, "" none */
};

/*
 * Parses and checks a scheduler's JSON. cat (may be NULL: shape only) is the
 * account's catalog: every ServiceTitan id must exist there, be active and
 * not deleted, and fit (the business unit among the job type's, zones with
 * ZIPs when the area is "servicetitan", a booking provider tag in booking
 * mode — the only active one when the field is left out). On AP_EINVAL e
 * names the field and says what to fix; *out is NULL.
 */
enum ap_err ap_sched_parse(json_t *cfg, const struct ap_catalog *cat, struct ap_sched **out,
                           struct ap_json_error *e);
void ap_sched_free(struct ap_sched *s);

/* The normalised JSON (every default filled in), as stored and shown to admins. */
json_t *ap_sched_config_json(const struct ap_sched *s);
/* What a widget may see: key, name, timeZone, mode, services (id, label,
 * description, question), the rules a homeowner sees, branding, phone. */
json_t *ap_sched_public_json(const struct ap_sched *s);

/* The service with that id, or NULL. */
const struct ap_sched_service *ap_sched_service(const struct ap_sched *s, const char *id);
/* Whether a booking may come from this Origin ("https://site.example"). */
bool ap_sched_origin_allowed(const struct ap_sched *s, const char *origin);
/* Whether zip is served (cat needed when the area is ServiceTitan's zones). */
bool ap_sched_zip_served(const struct ap_sched *s, const struct ap_catalog *cat, const char *zip);
/* A US ZIP (5 digits, or ZIP+4 reduced to 5) or a Canadian postal code
 * ("a1a1a1" → "A1A 1A1") into out; false for anything else. */
bool ap_sched_zip_norm(const char *in, char out[11]);
/* Whether d is a blackout date. */
bool ap_sched_blackout(const struct ap_sched *s, struct ap_date d);
/* The campaign for a booking's attribution (an object of strings; NULL ok):
 * the first rule that matches, else the scheduler's default. */
int64_t ap_sched_campaign_for(const struct ap_sched *s, json_t *attribution);

/* ---- stored schedulers (scheduler.c) ----------------------------------- */

/*
 * Creates a scheduler for the account from its JSON, checked against the
 * account's stored catalog. On AP_OK *out is the stored scheduler (with its
 * new key); AP_EINVAL with e filled for a bad config.
 */
enum ap_err ap_sched_create(struct ap_store *st, int64_t account_id, json_t *cfg,
                            struct ap_sched **out, struct ap_json_error *e);
/* Replaces the config of the account's scheduler `key` (paused follows the
 * config's "paused" when given). AP_ENOTFOUND for another account's key. */
enum ap_err ap_sched_update(struct ap_store *st, int64_t account_id, const char *key, json_t *cfg,
                            struct ap_sched **out, struct ap_json_error *e);
/* Pauses or resumes. */
enum ap_err ap_sched_set_paused(struct ap_store *st, int64_t account_id, const char *key,
                                bool paused);
/*
 * Loads a scheduler by key. account_id > 0 scopes it (admin); 0 finds any
 * (the public API, the CLI). The stored config is parsed without the
 * catalog (it was checked when saved). AP_ENOTFOUND when unknown.
 */
enum ap_err ap_sched_get(struct ap_store *st, int64_t account_id, const char *key,
                         struct ap_sched **out);
/* The account's schedulers, ordered by name (malloc'd array of pointers). */
enum ap_err ap_sched_list(struct ap_store *st, int64_t account_id, struct ap_sched ***out,
                          size_t *n);
void ap_sched_list_free(struct ap_sched **v, size_t n);

#endif

/*
 * scheduler_json.c — the scheduler's JSON shape: reading it strictly,
 * checking its ServiceTitan ids against the account's catalog, and writing
 * it back normalised (and the public view a widget gets). See scheduler.h.
 */
#include "app/scheduler.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/catalog.h"
#include "core/defs.h"
#include "core/mem.h"
#include "tz/tz.h"

static const char *const attr_names[AP_ATTR_N + 1] = {
    "utm_source", "utm_medium", "utm_campaign", "gclid", "fbclid", "campaign", NULL};

const char *ap_sched_attr_name(enum ap_sched_attr a)
{
    return (unsigned)a < AP_ATTR_N ? attr_names[a] : "";
}

static const char *const priorities[] = {"Low", "Normal", "High", "Urgent"};

/* ---- small readers -------------------------------------------------------- */

/* Reads an optional string into a fixed buffer (cap includes the NUL). */
static enum ap_err get_buf(json_t *o, const char *path, bool required, char *buf, size_t cap,
                           struct ap_json_error *e)
{
    const char *v = NULL;
    enum ap_err err = ap_json_get_str(o, path, required, cap - 1, &v, e);
    if (!err && v)
        snprintf(buf, cap, "%s", v);
    return err;
}

/* An optional string, malloc'd copy into *out (NULL when absent or empty). */
static enum ap_err get_dup(json_t *o, const char *path, size_t maxlen, char **out,
                           struct ap_json_error *e)
{
    const char *v = NULL;
    enum ap_err err = ap_json_get_str(o, path, false, maxlen, &v, e);
    if (!err && v && *v)
        *out = ap_xstrdup(v);
    return err;
}

static enum ap_err get_int_or(json_t *o, const char *path, long long min, long long max,
                              long long def, int *out, struct ap_json_error *e)
{
    long long v = def;
    enum ap_err err = ap_json_get_int(o, path, false, min, max, &v, e);
    *out = (int)v;
    return err;
}

/* AP_EINVAL with e's message "<field>: <what to fix>". */
static enum ap_err bad(struct ap_json_error *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum ap_err bad(struct ap_json_error *e, const char *field, const char *fmt, ...)
{
    char msg[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ap_json_error_set(e, "invalid_field", field, "%s: %s", field, msg);
    return AP_EINVAL;
}

/* ---- top-level fields ---------------------------------------------------- */

static const char *const top_fields[] = {
    "name",       "timeZone",    "mode",     "allowedOrigins",       "services",
    "rules",      "serviceArea", "capacity", "campaignId",           "campaignRules",
    "tagTypeIds", "branding",    "phone",    "bookingProviderTagId", "paused",
    NULL};

static enum ap_err read_basics(json_t *cfg, struct ap_sched *s, struct ap_json_error *e)
{
    char mode[16] = "job";
    const char *phone = NULL, *why = NULL;
    enum ap_err err;

    if ((err = ap_json_reject_unknown(cfg, top_fields, NULL, e)) ||
        (err = get_buf(cfg, "name", true, s->name, sizeof(s->name), e)) ||
        (err = get_buf(cfg, "timeZone", true, s->time_zone, sizeof(s->time_zone), e)) ||
        (err = get_buf(cfg, "mode", false, mode, sizeof(mode), e)) ||
        (err = ap_json_get_bool(cfg, "paused", false, &s->paused, e)) ||
        (err = ap_json_get_str(cfg, "phone", false, 40, &phone, e)))
        return err;
    if (!s->name[0] || strspn(s->name, " ") == strlen(s->name))
        return bad(e, "name", "give the scheduler a name");
    if (!ap_tz_valid(s->time_zone) || !strchr(s->time_zone, '/'))
        return bad(e, "timeZone", "'%s' is not an IANA time zone; use one like America/Chicago",
                   s->time_zone);
    if (strcmp(mode, "job") == 0)
        s->mode = AP_SCHED_JOB;
    else if (strcmp(mode, "booking") == 0)
        s->mode = AP_SCHED_BOOKING;
    else
        return bad(e, "mode", "'%s' is not a mode; use \"job\" or \"booking\"", mode);
    if (phone && *phone && !ap_phone_normalize(phone, s->phone, &why))
        return bad(e, "phone", "%s", why);
    return AP_OK;
}

/* "https://host[:port]" with nothing after; lowercased into out. */
static bool origin_ok(const char *v, char **out)
{
    const char *host = NULL;
    size_t n = strlen(v);

    if (strncmp(v, "https://", 8) == 0)
        host = v + 8;
    else if (strncmp(v, "http://", 7) == 0)
        host = v + 7;
    if (!host || !*host || n > 255 || strpbrk(host, "/?#@ \\"))
        return false;
    for (const char *p = host; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".-:[]", *p))
            return false;
    *out = ap_xstrdup(v);
    for (char *p = *out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return true;
}

static enum ap_err read_origins(json_t *cfg, struct ap_sched *s, struct ap_json_error *e)
{
    json_t *arr = NULL, *v;
    size_t i;
    char path[64];
    enum ap_err err = ap_json_get_arr(cfg, "allowedOrigins", false, AP_SCHED_MAX_ORIGINS, &arr, e);

    if (err || !arr)
        return err;
    s->origins = ap_xcalloc(json_array_size(arr) + 1, sizeof(char *));
    json_array_foreach (arr, i, v) {
        snprintf(path, sizeof(path), "allowedOrigins[%zu]", i);
        if (!json_is_string(v) || !origin_ok(json_string_value(v), &s->origins[s->norigins]))
            return bad(e, path,
                       "give a website's origin like https://www.example.com (scheme and "
                       "host, no path)");
        s->norigins++;
    }
    return AP_OK;
}

static const char *const service_fields[] = {
    "id",       "label",   "description", "jobTypeId",        "businessUnitId",
    "priority", "summary", "question",    "questionRequired", NULL};

static bool service_id_ok(const char *id)
{
    if (!*id)
        return false;
    for (const char *p = id; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
            return false;
    return true;
}

static enum ap_err read_service(json_t *cfg, size_t i, struct ap_sched *s, struct ap_json_error *e)
{
    struct ap_sched_service *sv = &s->services[i];
    char p[64], prefix[32];
    long long jt = 0, bu = 0;
    enum ap_err err;

    snprintf(prefix, sizeof(prefix), "services[%zu]", i);
#define F(name) (snprintf(p, sizeof(p), "%s.%s", prefix, name), p)
    if ((err = ap_json_reject_unknown(json_array_get(json_object_get(cfg, "services"), i),
                                      service_fields, prefix, e)) ||
        (err = get_buf(cfg, F("id"), true, sv->id, sizeof(sv->id), e)) ||
        (err = get_buf(cfg, F("label"), true, sv->label, sizeof(sv->label), e)) ||
        (err = get_dup(cfg, F("description"), 500, &sv->description, e)) ||
        (err = ap_json_get_int(cfg, F("jobTypeId"), true, 1, INT64_MAX, &jt, e)) ||
        (err = ap_json_get_int(cfg, F("businessUnitId"), true, 1, INT64_MAX, &bu, e)) ||
        (err = get_dup(cfg, F("summary"), 1000, &sv->summary, e)) ||
        (err = get_dup(cfg, F("question"), 200, &sv->question, e)) ||
        (err = ap_json_get_bool(cfg, F("questionRequired"), false, &sv->question_required, e)))
        return err;
    snprintf(sv->priority, sizeof(sv->priority), "Normal");
    if ((err = get_buf(cfg, F("priority"), false, sv->priority, sizeof(sv->priority), e)))
        return err;
    sv->job_type_id = jt;
    sv->business_unit_id = bu;
    if (!service_id_ok(sv->id))
        return bad(e, F("id"), "'%s' may hold only lowercase letters, digits and '-'", sv->id);
    for (size_t j = 0; j < i; j++)
        if (strcmp(s->services[j].id, sv->id) == 0)
            return bad(e, F("id"), "another service already has the id '%s'", sv->id);
    if (!sv->label[0])
        return bad(e, F("label"), "give the service a label homeowners will read");
    bool prio_ok = false;
    for (size_t j = 0; j < AP_COUNTOF(priorities); j++)
        prio_ok |= strcmp(sv->priority, priorities[j]) == 0;
    if (!prio_ok)
        return bad(e, F("priority"), "'%s' is not a priority; use Low, Normal, High or Urgent",
                   sv->priority);
#undef F
    return AP_OK;
}

static enum ap_err read_services(json_t *cfg, struct ap_sched *s, struct ap_json_error *e)
{
    json_t *arr = NULL;
    enum ap_err err = ap_json_get_arr(cfg, "services", true, AP_SCHED_MAX_SERVICES, &arr, e);

    if (err)
        return err;
    if (json_array_size(arr) == 0)
        return bad(e, "services", "offer at least one service");
    s->services = ap_xcalloc(json_array_size(arr), sizeof(*s->services));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        s->nservices = i + 1;
        if ((err = read_service(cfg, i, s, e)))
            return err;
    }
    return AP_OK;
}

static const char *const rule_fields[] = {"minNoticeMinutes", "horizonDays",
                                          "closeBeforeStartMinutes", "blackoutDates", NULL};

static enum ap_err read_rules(json_t *cfg, struct ap_sched *s, struct ap_json_error *e)
{
    json_t *rules = NULL, *arr = NULL, *v;
    char path[64];
    size_t i;
    enum ap_err err;

    if ((err = ap_json_get_obj(cfg, "rules", false, &rules, e)) ||
        (rules && (err = ap_json_reject_unknown(rules, rule_fields, "rules", e))) ||
        (err = get_int_or(cfg, "rules.minNoticeMinutes", 0, 60 * 24 * 30, 120, &s->min_notice_min,
                          e)) ||
        (err = get_int_or(cfg, "rules.horizonDays", 1, 90, 14, &s->horizon_days, e)) ||
        (err = get_int_or(cfg, "rules.closeBeforeStartMinutes", 0, 60 * 24, 0, &s->close_before_min,
                          e)) ||
        (err = ap_json_get_arr(cfg, "rules.blackoutDates", false, AP_SCHED_MAX_BLACKOUT, &arr, e)))
        return err;
    if (!arr)
        return AP_OK;
    s->blackout = ap_xcalloc(json_array_size(arr) + 1, sizeof(*s->blackout));
    json_array_foreach (arr, i, v) {
        snprintf(path, sizeof(path), "rules.blackoutDates[%zu]", i);
        if (!json_is_string(v) || !ap_date_parse(json_string_value(v), &s->blackout[i]))
            return bad(e, path, "expected a date like 2026-12-25");
        s->nblackout++;
    }
    return AP_OK;
}

static int zip_cmp(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

bool ap_sched_zip_norm(const char *in, char out[11])
{
    size_t n = strlen(in);

    if ((n == 5 || (n == 10 && in[5] == '-')) && strspn(in, "0123456789") == 5 &&
        (n == 5 || strspn(in + 6, "0123456789") == 4)) {
        snprintf(out, 11, "%.5s", in);
        return true;
    }
    if ((n == 6 || (n == 7 && in[3] == ' ')) && isalpha((unsigned char)in[0]) &&
        isdigit((unsigned char)in[1]) && isalpha((unsigned char)in[2])) {
        const char *b = in + n - 3;
        if (!isdigit((unsigned char)b[0]) || !isalpha((unsigned char)b[1]) ||
            !isdigit((unsigned char)b[2]))
            return false;
        snprintf(out, 11, "%c%c%c %c%c%c", toupper((unsigned char)in[0]), in[1],
                 toupper((unsigned char)in[2]), b[0], toupper((unsigned char)b[1]), b[2]);
        return true;
    }
    return false;
}

static enum ap_err read_area(json_t *cfg, struct ap_sched *s, struct ap_json_error *e)
{
    static const char *const fields[] = {"zips", "zones", NULL};
    json_t *area = NULL, *zips = NULL, *v;
    const char *zones = NULL;
    char path[64];
    size_t i;
    enum ap_err err;

    if ((err = ap_json_get_obj(cfg, "serviceArea", true, &area, e)) ||
        (err = ap_json_reject_unknown(area, fields, "serviceArea", e)) ||
        (err = ap_json_get_str(cfg, "serviceArea.zones", false, 20, &zones, e)) ||
        (err = ap_json_get_arr(cfg, "serviceArea.zips", false, AP_SCHED_MAX_ZIPS, &zips, e)))
        return err;
    if ((zones != NULL) == (zips != NULL))
        return bad(e, "serviceArea",
                   "give either {\"zips\": [\"75001\", ...]} or {\"zones\": "
                   "\"servicetitan\"}");
    if (zones) {
        if (strcmp(zones, "servicetitan") != 0)
            return bad(e, "serviceArea.zones", "the only value is \"servicetitan\"");
        s->area_zones = true;
        return AP_OK;
    }
    if (json_array_size(zips) == 0)
        return bad(e, "serviceArea.zips", "list at least one ZIP code");
    s->zips = ap_xcalloc(json_array_size(zips), sizeof(*s->zips));
    json_array_foreach (zips, i, v) {
        snprintf(path, sizeof(path), "serviceArea.zips[%zu]", i);
        if (!json_is_string(v) || !ap_sched_zip_norm(json_string_value(v), s->zips[s->nzips]))
            return bad(e, path,
                       "expected a ZIP code like \"75001\" (or a postal code like "
                       "\"M5V 3L9\")");
        s->nzips++;
    }
    qsort(s->zips, s->nzips, sizeof(*s->zips), zip_cmp);
    return AP_OK;
}

static enum ap_err read_capacity(json_t *cfg, struct ap_sched *s, struct ap_json_error *e)
{
    static const char *const fields[] = {"mode", "perWindow", NULL};
    json_t *cap = json_object_get(cfg, "capacity");
    const char *mode = NULL;
    enum ap_err err;

    s->per_window = 0;
    if (!cap || json_is_null(cap) ||
        (json_is_string(cap) && strcmp(json_string_value(cap), "servicetitan") == 0))
        return AP_OK;
    if (json_is_string(cap) && strcmp(json_string_value(cap), "local") == 0)
        return bad(e, "capacity",
                   "local capacity needs its cap: {\"mode\": \"local\", \"perWindow\": 2}");
    if (!json_is_object(cap))
        return bad(e, "capacity",
                   "use \"servicetitan\" or {\"mode\": \"local\", \"perWindow\": N}");
    if ((err = ap_json_reject_unknown(cap, fields, "capacity", e)) ||
        (err = ap_json_get_str(cfg, "capacity.mode", true, 20, &mode, e)) ||
        (err = get_int_or(cfg, "capacity.perWindow", 1, 1000, 1, &s->per_window, e)))
        return err;
    if (strcmp(mode, "servicetitan") == 0)
        return AP_OK;
    if (strcmp(mode, "local") != 0)
        return bad(e, "capacity.mode", "'%s' is not a capacity mode; use servicetitan or local",
                   mode);
    if (!json_object_get(cap, "perWindow"))
        return bad(e, "capacity.perWindow", "say how many bookings one arrival window takes");
    s->capacity_local = true;
    return AP_OK;
}

static enum ap_err read_rule(json_t *cfg, size_t i, struct ap_sched *s, struct ap_json_error *e)
{
    static const char *const fields[] = {"match", "campaignId", NULL};
    struct ap_sched_campaign_rule *r = &s->rules[i];
    json_t *match = NULL;
    char p[64], prefix[40];
    long long id = 0;
    int n = 0;
    enum ap_err err;

    snprintf(prefix, sizeof(prefix), "campaignRules[%zu]", i);
    snprintf(p, sizeof(p), "%s.match", prefix);
    if ((err = ap_json_reject_unknown(json_array_get(json_object_get(cfg, "campaignRules"), i),
                                      fields, prefix, e)) ||
        (err = ap_json_get_obj(cfg, p, true, &match, e)) ||
        (err = ap_json_reject_unknown(match, attr_names, p, e)))
        return err;
    for (int a = 0; a < AP_ATTR_N; a++) {
        char fp[80];
        snprintf(fp, sizeof(fp), "%s.%s", p, attr_names[a]);
        if ((err = get_dup(cfg, fp, 200, &r->match[a], e)))
            return err;
        n += r->match[a] != NULL;
    }
    if (n == 0)
        return bad(e, p,
                   "name at least one of utm_source, utm_medium, utm_campaign, gclid, "
                   "fbclid, campaign");
    snprintf(p, sizeof(p), "%s.campaignId", prefix);
    if ((err = ap_json_get_int(cfg, p, true, 1, INT64_MAX, &id, e)))
        return err;
    r->campaign_id = id;
    return AP_OK;
}

static enum ap_err read_marketing(json_t *cfg, struct ap_sched *s, struct ap_json_error *e)
{
    json_t *rules = NULL, *tags = NULL, *v;
    long long id = 0, bpt = 0;
    char path[64];
    size_t i;
    enum ap_err err;

    if ((err = ap_json_get_int(cfg, "campaignId", true, 1, INT64_MAX, &id, e)) ||
        (err = ap_json_get_int(cfg, "bookingProviderTagId", false, 1, INT64_MAX, &bpt, e)) ||
        (err = ap_json_get_arr(cfg, "campaignRules", false, AP_SCHED_MAX_RULES, &rules, e)) ||
        (err = ap_json_get_arr(cfg, "tagTypeIds", false, AP_SCHED_MAX_TAGS, &tags, e)))
        return err;
    s->campaign_id = id;
    s->booking_provider_tag_id = bpt;
    s->rules = ap_xcalloc(json_array_size(rules) + 1, sizeof(*s->rules));
    for (i = 0; i < json_array_size(rules); i++) {
        s->nrules = i + 1;
        if ((err = read_rule(cfg, i, s, e)))
            return err;
    }
    s->tag_type_ids = ap_xcalloc(json_array_size(tags) + 1, sizeof(int64_t));
    json_array_foreach (tags, i, v) {
        long long t = 0;
        snprintf(path, sizeof(path), "tagTypeIds[%zu]", i);
        if ((err = ap_json_get_int(cfg, path, true, 1, INT64_MAX, &t, e)))
            return err;
        s->tag_type_ids[s->ntags++] = t;
    }
    return AP_OK;
}

static enum ap_err read_branding(json_t *cfg, struct ap_sched *s, struct ap_json_error *e)
{
    static const char *const fields[] = {"primaryColor", "buttonLabel", NULL};
    json_t *b = NULL;
    enum ap_err err;

    snprintf(s->primary_color, sizeof(s->primary_color), "#0b5fff");
    snprintf(s->button_label, sizeof(s->button_label), "Book online");
    if ((err = ap_json_get_obj(cfg, "branding", false, &b, e)) ||
        (b && (err = ap_json_reject_unknown(b, fields, "branding", e))) ||
        (err = get_buf(cfg, "branding.primaryColor", false, s->primary_color,
                       sizeof(s->primary_color), e)) ||
        (err = get_buf(cfg, "branding.buttonLabel", false, s->button_label, sizeof(s->button_label),
                       e)))
        return err;
    if (s->primary_color[0] != '#' || strlen(s->primary_color) != 7 ||
        strspn(s->primary_color + 1, "0123456789abcdefABCDEF") != 6)
        return bad(e, "branding.primaryColor", "expected a colour like #0b5fff, got '%s'",
                   s->primary_color);
    if (!s->button_label[0])
        return bad(e, "branding.buttonLabel", "the button needs a label");
    return AP_OK;
}

/* ---- the catalog checks ---------------------------------------------------- */

/* The item named by field, which must exist, be active and not deleted. */
static enum ap_err need(const struct ap_catalog *cat, enum ap_cat_kind k, int64_t id,
                        const char *field, const struct ap_cat_item **out, struct ap_json_error *e)
{
    const struct ap_cat_item *it = ap_catalog_find(cat, k, id);
    const char *label = ap_cat_kind_label(k);

    if (!it)
        ap_json_error_set(e, "invalid_field", field,
                          "%s: %s %lld does not exist in ServiceTitan (refresh the catalog if it "
                          "was just created)",
                          field, label, (long long)id);
    else if (it->deleted)
        ap_json_error_set(e, "invalid_field", field, "%s: %s %lld (%s) was deleted in ServiceTitan",
                          field, label, (long long)id, it->name);
    else if (!it->active)
        ap_json_error_set(e, "invalid_field", field, "%s: %s %lld (%s) is inactive in ServiceTitan",
                          field, label, (long long)id, it->name);
    else {
        if (out)
            *out = it;
        return AP_OK;
    }
    return AP_EINVAL;
}

static enum ap_err check_services(struct ap_sched *s, const struct ap_catalog *cat,
                                  struct ap_json_error *e)
{
    char f[64];

    for (size_t i = 0; i < s->nservices; i++) {
        struct ap_sched_service *sv = &s->services[i];
        const struct ap_cat_item *jt = NULL, *bu = NULL;
        enum ap_err err;

        snprintf(f, sizeof(f), "services[%zu].jobTypeId", i);
        if ((err = need(cat, AP_CAT_JOB_TYPE, sv->job_type_id, f, &jt, e)))
            return err;
        snprintf(f, sizeof(f), "services[%zu].businessUnitId", i);
        if ((err = need(cat, AP_CAT_BUSINESS_UNIT, sv->business_unit_id, f, &bu, e)))
            return err;
        if (!ap_catalog_job_has_bu(jt, sv->business_unit_id)) {
            ap_json_error_set(e, "invalid_field", f,
                              "%s: job type %lld (%s) is not offered by business unit %lld (%s) "
                              "in ServiceTitan",
                              f, (long long)sv->job_type_id, jt->name,
                              (long long)sv->business_unit_id, bu->name);
            return AP_EINVAL;
        }
        sv->duration_s = ap_catalog_job_duration_s(jt);
    }
    return AP_OK;
}

/* Booking mode: the tag named, or the only active one. */
static enum ap_err check_provider(struct ap_sched *s, const struct ap_catalog *cat,
                                  struct ap_json_error *e)
{
    const struct ap_cat_item *only = NULL;
    int active = 0;

    if (s->booking_provider_tag_id)
        return need(cat, AP_CAT_BOOKING_PROVIDER_TAG, s->booking_provider_tag_id,
                    "bookingProviderTagId", NULL, e);
    for (size_t i = 0; i < ap_catalog_count(cat, AP_CAT_BOOKING_PROVIDER_TAG); i++) {
        const struct ap_cat_item *t = ap_catalog_at(cat, AP_CAT_BOOKING_PROVIDER_TAG, i);
        if (t->active && !t->deleted) {
            only = t;
            active++;
        }
    }
    if (active == 1) {
        s->booking_provider_tag_id = only->id;
        return AP_OK;
    }
    ap_json_error_set(e, "invalid_field", "bookingProviderTagId",
                      "bookingProviderTagId: booking mode needs the booking provider tag chosen "
                      "when your ServiceTitan connection was allowed (%d active tags in the "
                      "catalog)",
                      active);
    return AP_EINVAL;
}

static enum ap_err check_catalog(struct ap_sched *s, const struct ap_catalog *cat,
                                 struct ap_json_error *e)
{
    char f[64];
    enum ap_err err;

    if ((err = check_services(s, cat, e)) ||
        (err = need(cat, AP_CAT_CAMPAIGN, s->campaign_id, "campaignId", NULL, e)))
        return err;
    for (size_t i = 0; i < s->nrules; i++) {
        snprintf(f, sizeof(f), "campaignRules[%zu].campaignId", i);
        if ((err = need(cat, AP_CAT_CAMPAIGN, s->rules[i].campaign_id, f, NULL, e)))
            return err;
    }
    for (size_t i = 0; i < s->ntags; i++) {
        snprintf(f, sizeof(f), "tagTypeIds[%zu]", i);
        if ((err = need(cat, AP_CAT_TAG_TYPE, s->tag_type_ids[i], f, NULL, e)))
            return err;
    }
    if (s->area_zones && ap_catalog_count(cat, AP_CAT_ZONE) == 0)
        return bad(e, "serviceArea.zones",
                   "ServiceTitan has no zones for this account (or appointd may not read "
                   "them: grant tn.dis.zones:r); list ZIP codes instead");
    if (s->mode == AP_SCHED_BOOKING)
        return check_provider(s, cat, e);
    return AP_OK;
}

/* ---- parse / free -------------------------------------------------------- */

void ap_sched_free(struct ap_sched *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->norigins; i++)
        free(s->origins[i]);
    free(s->origins);
    for (size_t i = 0; i < s->nservices; i++) {
        free(s->services[i].description);
        free(s->services[i].summary);
        free(s->services[i].question);
    }
    free(s->services);
    free(s->blackout);
    free(s->zips);
    for (size_t i = 0; i < s->nrules; i++)
        for (int a = 0; a < AP_ATTR_N; a++)
            free(s->rules[i].match[a]);
    free(s->rules);
    free(s->tag_type_ids);
    free(s);
}

enum ap_err ap_sched_parse(json_t *cfg, const struct ap_catalog *cat, struct ap_sched **out,
                           struct ap_json_error *e)
{
    struct ap_sched *s = ap_xcalloc(1, sizeof(*s));
    enum ap_err err;

    *out = NULL;
    if (!json_is_object(cfg)) {
        ap_json_error_set(e, "not_an_object", "", "a scheduler is a JSON object");
        err = AP_EINVAL;
        goto out;
    }
    if ((err = read_basics(cfg, s, e)) || (err = read_origins(cfg, s, e)) ||
        (err = read_services(cfg, s, e)) || (err = read_rules(cfg, s, e)) ||
        (err = read_area(cfg, s, e)) || (err = read_capacity(cfg, s, e)) ||
        (err = read_marketing(cfg, s, e)) || (err = read_branding(cfg, s, e)))
        goto out;
    if (cat && (err = check_catalog(s, cat, e)))
        goto out;
    *out = s;
    s = NULL;
out:
    ap_sched_free(s);
    return err;
}

/* ---- back to JSON --------------------------------------------------------- */

static json_t *services_json(const struct ap_sched *s, bool full)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < s->nservices; i++) {
        const struct ap_sched_service *sv = &s->services[i];
        json_t *o = json_pack("{s:s, s:s}", "id", sv->id, "label", sv->label);
        if (sv->description)
            json_object_set_new(o, "description", json_string(sv->description));
        if (sv->question) {
            json_object_set_new(o, "question", json_string(sv->question));
            json_object_set_new(o, "questionRequired", json_boolean(sv->question_required));
        }
        if (full) {
            json_object_set_new(o, "jobTypeId", json_integer(sv->job_type_id));
            json_object_set_new(o, "businessUnitId", json_integer(sv->business_unit_id));
            json_object_set_new(o, "priority", json_string(sv->priority));
            if (sv->summary)
                json_object_set_new(o, "summary", json_string(sv->summary));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *rules_json(const struct ap_sched *s, bool with_blackout)
{
    json_t *r = json_pack("{s:i, s:i, s:i}", "minNoticeMinutes", s->min_notice_min, "horizonDays",
                          s->horizon_days, "closeBeforeStartMinutes", s->close_before_min);
    json_t *b = json_array();
    char d[16];

    for (size_t i = 0; i < s->nblackout; i++) {
        ap_date_format(s->blackout[i], d);
        json_array_append_new(b, json_string(d));
    }
    if (with_blackout)
        json_object_set_new(r, "blackoutDates", b);
    else
        json_decref(b);
    return r;
}

static json_t *ids_json(const int64_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static json_t *campaign_rules_json(const struct ap_sched *s)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < s->nrules; i++) {
        json_t *m = json_object();
        for (int a = 0; a < AP_ATTR_N; a++)
            if (s->rules[i].match[a])
                json_object_set_new(m, attr_names[a], json_string(s->rules[i].match[a]));
        json_array_append_new(arr, json_pack("{s:o, s:I}", "match", m, "campaignId",
                                             (json_int_t)s->rules[i].campaign_id));
    }
    return arr;
}

static json_t *area_json(const struct ap_sched *s)
{
    json_t *z;

    if (s->area_zones)
        return json_pack("{s:s}", "zones", "servicetitan");
    z = json_array();
    for (size_t i = 0; i < s->nzips; i++)
        json_array_append_new(z, json_string(s->zips[i]));
    return json_pack("{s:o}", "zips", z);
}

json_t *ap_sched_config_json(const struct ap_sched *s)
{
    json_t *o = json_object(), *orig = json_array();

    for (size_t i = 0; i < s->norigins; i++)
        json_array_append_new(orig, json_string(s->origins[i]));
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "timeZone", json_string(s->time_zone));
    json_object_set_new(o, "mode", json_string(s->mode == AP_SCHED_BOOKING ? "booking" : "job"));
    json_object_set_new(o, "allowedOrigins", orig);
    json_object_set_new(o, "services", services_json(s, true));
    json_object_set_new(o, "rules", rules_json(s, true));
    json_object_set_new(o, "serviceArea", area_json(s));
    json_object_set_new(o, "capacity",
                        s->capacity_local
                            ? json_pack("{s:s, s:i}", "mode", "local", "perWindow", s->per_window)
                            : json_string("servicetitan"));
    json_object_set_new(o, "campaignId", json_integer(s->campaign_id));
    json_object_set_new(o, "campaignRules", campaign_rules_json(s));
    json_object_set_new(o, "tagTypeIds", ids_json(s->tag_type_ids, s->ntags));
    if (s->booking_provider_tag_id)
        json_object_set_new(o, "bookingProviderTagId", json_integer(s->booking_provider_tag_id));
    json_object_set_new(
        o, "branding",
        json_pack("{s:s, s:s}", "primaryColor", s->primary_color, "buttonLabel", s->button_label));
    if (s->phone[0])
        json_object_set_new(o, "phone", json_string(s->phone));
    json_object_set_new(o, "paused", json_boolean(s->paused));
    return o;
}

json_t *ap_sched_public_json(const struct ap_sched *s)
{
    json_t *o = json_object();

    json_object_set_new(o, "key", json_string(s->key));
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "timeZone", json_string(s->time_zone));
    json_object_set_new(o, "mode", json_string(s->mode == AP_SCHED_BOOKING ? "booking" : "job"));
    json_object_set_new(o, "services", services_json(s, false));
    json_object_set_new(o, "rules", rules_json(s, false));
    json_object_set_new(
        o, "branding",
        json_pack("{s:s, s:s}", "primaryColor", s->primary_color, "buttonLabel", s->button_label));
    json_object_set_new(o, "phone", s->phone[0] ? json_string(s->phone) : json_null());
    return o;
}

/* ---- questions a booking asks of a scheduler -------------------------------- */

const struct ap_sched_service *ap_sched_service(const struct ap_sched *s, const char *id)
{
    for (size_t i = 0; id && i < s->nservices; i++)
        if (strcmp(s->services[i].id, id) == 0)
            return &s->services[i];
    return NULL;
}

bool ap_sched_origin_allowed(const struct ap_sched *s, const char *origin)
{
    for (size_t i = 0; origin && i < s->norigins; i++)
        if (strcasecmp(s->origins[i], origin) == 0)
            return true;
    return false;
}

bool ap_sched_zip_served(const struct ap_sched *s, const struct ap_catalog *cat, const char *zip)
{
    char z[11];

    if (!zip || !ap_sched_zip_norm(zip, z))
        return false;
    if (s->area_zones)
        return ap_catalog_zone_zip(cat, z);
    return bsearch(z, s->zips, s->nzips, sizeof(*s->zips), zip_cmp) != NULL;
}

bool ap_sched_blackout(const struct ap_sched *s, struct ap_date d)
{
    for (size_t i = 0; i < s->nblackout; i++)
        if (s->blackout[i].y == d.y && s->blackout[i].m == d.m && s->blackout[i].d == d.d)
            return true;
    return false;
}

/* Whether one rule matches the attribution object. */
static bool rule_matches(const struct ap_sched_campaign_rule *r, json_t *attr)
{
    for (int a = 0; a < AP_ATTR_N; a++) {
        const char *want = r->match[a];
        const char *have = json_string_value(json_object_get(attr, attr_names[a]));

        if (!want)
            continue;
        if (!have || !*have)
            return false;
        if (strcmp(want, "*") != 0 && strcasecmp(want, have) != 0)
            return false;
    }
    return true;
}

int64_t ap_sched_campaign_for(const struct ap_sched *s, json_t *attribution)
{
    for (size_t i = 0; json_is_object(attribution) && i < s->nrules; i++)
        if (rule_matches(&s->rules[i], attribution))
            return s->rules[i].campaign_id;
    return s->campaign_id;
}

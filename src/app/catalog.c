/*
 * catalog.c — reading an account's ServiceTitan catalog and keeping it in
 * the store (st_catalog, st_catalog_state). See catalog.h.
 */
#include "app/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/store.h"
#include "titan/titan.h"

/* Most items of one kind read or kept (catalogs are tens to hundreds). */
#define KIND_MAX 20000

static const struct kind_def {
    const char *name, *label, *key;
    const char *module, *path, *query;
    const char *name_field;
} kinds[AP_CAT_NKINDS] = {
    [AP_CAT_BUSINESS_UNIT] = {"business_unit", "business unit", "businessUnits", "settings",
                              "/business-units", "active=Any", "name"},
    [AP_CAT_JOB_TYPE] = {"job_type", "job type", "jobTypes", "jpm", "/job-types", "active=Any",
                         "name"},
    [AP_CAT_CAMPAIGN] = {"campaign", "campaign", "campaigns", "marketing", "/campaigns",
                         "active=Any", "name"},
    [AP_CAT_ARRIVAL_WINDOW] = {"arrival_window", "arrival window", "arrivalWindows", "dispatch",
                               "/arrival-windows", "active=Any", NULL},
    [AP_CAT_ZONE] = {"zone", "zone", "zones", "dispatch", "/zones", "active=Any", "name"},
    [AP_CAT_BOOKING_PROVIDER_TAG] = {"booking_provider_tag", "booking provider tag",
                                     "bookingProviderTags", "crm", "/booking-provider-tags", NULL,
                                     "tagName"},
    [AP_CAT_TAG_TYPE] = {"tag_type", "tag type", "tagTypes", "settings", "/tag-types", "active=Any",
                         "name"},
};

const char *ap_cat_kind_name(enum ap_cat_kind k)
{
    return (unsigned)k < AP_CAT_NKINDS ? kinds[k].name : NULL;
}

const char *ap_cat_kind_label(enum ap_cat_kind k)
{
    return (unsigned)k < AP_CAT_NKINDS ? kinds[k].label : "item";
}

const char *ap_cat_kind_key(enum ap_cat_kind k)
{
    return (unsigned)k < AP_CAT_NKINDS ? kinds[k].key : NULL;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int kind_parse(const char *s)
{
    for (int k = 0; s && k < AP_CAT_NKINDS; k++)
        if (strcmp(s, kinds[k].name) == 0)
            return k;
    return -1;
}

/* ---- the snapshot ------------------------------------------------------ */

struct cat_list {
    struct ap_cat_item *v;
    size_t n, cap;
    char refreshed_at[40];
    char error[256];
};

struct ap_catalog {
    struct cat_list kinds[AP_CAT_NKINDS];
};

static struct ap_cat_item *list_push(struct cat_list *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = ap_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    return &l->v[l->n++];
}

void ap_catalog_free(struct ap_catalog *c)
{
    if (!c)
        return;
    for (int k = 0; k < AP_CAT_NKINDS; k++) {
        for (size_t i = 0; i < c->kinds[k].n; i++)
            json_decref(c->kinds[k].v[i].data);
        free(c->kinds[k].v);
    }
    free(c);
}

static enum ap_err load_items(struct ap_db_conn *conn, int64_t account_id, struct ap_catalog *c)
{
    struct ap_db_val v = ap_db_int(account_id);
    struct ap_db_rows *r;
    enum ap_err err;

    err = ap_db_query(conn,
                      "SELECT kind, st_id, name, active, deleted, data FROM st_catalog "
                      "WHERE account_id = ? ORDER BY kind, st_id",
                      &v, 1, &r);
    if (err)
        return err;
    while (ap_db_next(r)) {
        int k = kind_parse(ap_db_row_text(r, 0));
        const char *data = ap_db_row_text(r, 5);
        json_t *j = NULL;

        if (k < 0 || c->kinds[k].n >= KIND_MAX)
            continue;
        if (data && ap_json_parse_body(data, strlen(data), AP_JSON_OBJECT, &j, NULL) != AP_OK)
            j = NULL;
        struct ap_cat_item *it = list_push(&c->kinds[k]);
        it->id = ap_db_row_int(r, 1);
        snprintf(it->name, sizeof(it->name), "%s", nz(ap_db_row_text(r, 2)));
        it->active = ap_db_row_int(r, 3) != 0;
        it->deleted = ap_db_row_int(r, 4) != 0;
        it->data = j ? j : json_object();
    }
    return ap_db_done(r);
}

static enum ap_err load_state(struct ap_db_conn *conn, int64_t account_id, struct ap_catalog *c)
{
    struct ap_db_val v = ap_db_int(account_id);
    struct ap_db_rows *r;
    enum ap_err err;

    err = ap_db_query(conn,
                      "SELECT kind, refreshed_at, error FROM st_catalog_state WHERE account_id = ?",
                      &v, 1, &r);
    if (err)
        return err;
    while (ap_db_next(r)) {
        int k = kind_parse(ap_db_row_text(r, 0));
        if (k < 0)
            continue;
        snprintf(c->kinds[k].refreshed_at, sizeof(c->kinds[k].refreshed_at), "%s",
                 nz(ap_db_row_text(r, 1)));
        snprintf(c->kinds[k].error, sizeof(c->kinds[k].error), "%s", nz(ap_db_row_text(r, 2)));
    }
    return ap_db_done(r);
}

struct ap_catalog *ap_catalog_load(struct ap_store *st, int64_t account_id)
{
    struct ap_db_conn *conn = ap_store_acquire(st, false);
    struct ap_catalog *c;
    enum ap_err err;

    if (!conn)
        return NULL;
    c = ap_xcalloc(1, sizeof(*c));
    err = load_items(conn, account_id, c);
    if (!err)
        err = load_state(conn, account_id, c);
    ap_store_release(conn);
    if (err) {
        ap_catalog_free(c);
        return NULL;
    }
    return c;
}

const struct ap_cat_item *ap_catalog_find(const struct ap_catalog *c, enum ap_cat_kind k,
                                          int64_t id)
{
    size_t lo = 0, hi;

    if (!c || (unsigned)k >= AP_CAT_NKINDS)
        return NULL;
    hi = c->kinds[k].n;
    while (lo < hi) { /* rows are ordered by id */
        size_t mid = lo + (hi - lo) / 2;
        int64_t v = c->kinds[k].v[mid].id;
        if (v == id)
            return &c->kinds[k].v[mid];
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t ap_catalog_count(const struct ap_catalog *c, enum ap_cat_kind k)
{
    return c && (unsigned)k < AP_CAT_NKINDS ? c->kinds[k].n : 0;
}

const struct ap_cat_item *ap_catalog_at(const struct ap_catalog *c, enum ap_cat_kind k, size_t i)
{
    return i < ap_catalog_count(c, k) ? &c->kinds[k].v[i] : NULL;
}

const char *ap_catalog_refreshed_at(const struct ap_catalog *c, enum ap_cat_kind k)
{
    return c && (unsigned)k < AP_CAT_NKINDS ? c->kinds[k].refreshed_at : "";
}

const char *ap_catalog_error(const struct ap_catalog *c, enum ap_cat_kind k)
{
    return c && (unsigned)k < AP_CAT_NKINDS ? c->kinds[k].error : "";
}

/* ---- kind-specific readings -------------------------------------------- */

int64_t ap_catalog_job_duration_s(const struct ap_cat_item *jt)
{
    json_t *d = jt ? json_object_get(jt->data, "duration") : NULL;
    return json_is_integer(d) && json_integer_value(d) > 0 ? (int64_t)json_integer_value(d) : 0;
}

bool ap_catalog_job_has_bu(const struct ap_cat_item *jt, int64_t bu)
{
    json_t *bus = jt ? json_object_get(jt->data, "businessUnitIds") : NULL;
    size_t i;
    json_t *v;

    if (!json_is_array(bus) || json_array_size(bus) == 0)
        return true;
    json_array_foreach (bus, i, v)
        if (json_is_integer(v) && json_integer_value(v) == bu)
            return true;
    return false;
}

bool ap_catalog_zone_zip(const struct ap_catalog *c, const char *zip)
{
    for (size_t i = 0; i < ap_catalog_count(c, AP_CAT_ZONE); i++) {
        const struct ap_cat_item *z = ap_catalog_at(c, AP_CAT_ZONE, i);
        json_t *zips = json_object_get(z->data, "zips"), *v;
        size_t j;

        if (!z->active || z->deleted || !json_is_array(zips))
            continue;
        json_array_foreach (zips, j, v)
            if (json_is_string(v) && strcmp(json_string_value(v), zip) == 0)
                return true;
    }
    return false;
}

/* "hh:mm[:ss]" or .NET's "d.hh:mm:ss" → seconds; -1 when unreadable. */
static int timespan_s(const char *s)
{
    int d = 0, h = 0, m = 0, sec = 0, n = 0;

    if (!s)
        return -1;
    if (sscanf(s, "%d.%d:%d:%d%n", &d, &h, &m, &sec, &n) == 4 && s[n] == '\0')
        return ((d * 24 + h) * 60 + m) * 60 + sec;
    d = 0;
    sec = 0;
    if ((sscanf(s, "%d:%d:%d%n", &h, &m, &sec, &n) == 3 ||
         (sec = 0, sscanf(s, "%d:%d%n", &h, &m, &n) == 2)) &&
        s[n] == '\0' && h >= 0 && m >= 0 && m < 60 && sec >= 0 && sec < 60)
        return (h * 60 + m) * 60 + sec;
    return -1;
}

bool ap_catalog_window_times(const struct ap_cat_item *w, int *start_s, int *duration_s)
{
    json_t *st = w ? json_object_get(w->data, "start") : NULL;
    json_t *du = w ? json_object_get(w->data, "duration") : NULL;
    int a = timespan_s(json_string_value(st)), b = timespan_s(json_string_value(du));

    if (a < 0 || a >= 86400 || b <= 0 || b > 86400)
        return false;
    *start_s = a;
    *duration_s = b;
    return true;
}

/* ---- JSON for the admin API --------------------------------------------- */

static void copy_field(json_t *out, json_t *data, const char *name)
{
    json_t *v = json_object_get(data, name);
    if (v)
        json_object_set(out, name, v);
}

static json_t *item_json(enum ap_cat_kind k, const struct ap_cat_item *it)
{
    json_t *o = json_pack("{s:I, s:s, s:b, s:b}", "id", (json_int_t)it->id, "name", it->name,
                          "active", it->active, "deleted", it->deleted);

    switch (k) {
    case AP_CAT_JOB_TYPE:
        copy_field(o, it->data, "duration");
        copy_field(o, it->data, "businessUnitIds");
        copy_field(o, it->data, "skills");
        copy_field(o, it->data, "priority");
        break;
    case AP_CAT_ARRIVAL_WINDOW:
        copy_field(o, it->data, "start");
        copy_field(o, it->data, "duration");
        copy_field(o, it->data, "businessUnitIds");
        break;
    case AP_CAT_ZONE:
        copy_field(o, it->data, "zips");
        break;
    case AP_CAT_CAMPAIGN:
        copy_field(o, it->data, "isDefaultCampaign");
        break;
    default:
        break;
    }
    return o;
}

json_t *ap_catalog_json(const struct ap_catalog *c)
{
    json_t *out = json_object(), *at = json_object(), *errs = json_object();

    for (int k = 0; k < AP_CAT_NKINDS; k++) {
        json_t *arr = json_array();
        for (size_t i = 0; i < ap_catalog_count(c, k); i++)
            json_array_append_new(arr, item_json(k, ap_catalog_at(c, k, i)));
        json_object_set_new(out, kinds[k].key, arr);
        const char *r = ap_catalog_refreshed_at(c, k), *e = ap_catalog_error(c, k);
        json_object_set_new(at, kinds[k].key, *r ? json_string(r) : json_null());
        if (*e)
            json_object_set_new(errs, kinds[k].key, json_string(e));
    }
    json_object_set_new(out, "refreshedAt", at);
    json_object_set_new(out, "errors", errs);
    return out;
}

/* ---- refresh --------------------------------------------------------------- */

struct collect {
    json_t *rows; /* array */
};

static bool collect_row(json_t *row, void *ud)
{
    struct collect *c = ud;
    if (json_array_size(c->rows) >= KIND_MAX)
        return false;
    json_array_append(c->rows, row);
    return true;
}

/* The item's name: the kind's name field, or an arrival window's hours. */
static void row_name(enum ap_cat_kind k, json_t *row, char *out, size_t cap)
{
    struct ap_cat_item tmp = {.data = row};
    int s, d;

    if (kinds[k].name_field) {
        snprintf(out, cap, "%s", nz(json_string_value(json_object_get(row, kinds[k].name_field))));
    } else if (ap_catalog_window_times(&tmp, &s, &d)) {
        int e = (s + d) % 86400;
        snprintf(out, cap, "%02d:%02d-%02d:%02d", s / 3600, s / 60 % 60, e / 3600, e / 60 % 60);
    } else {
        out[0] = '\0';
    }
}

static enum ap_err upsert_row(struct ap_db_conn *conn, int64_t account_id, enum ap_cat_kind k,
                              json_t *row, const char *now)
{
    json_t *id = json_object_get(row, "id"), *act = json_object_get(row, "active");
    char name[128];
    char *data;
    enum ap_err err;

    if (!json_is_integer(id))
        return AP_OK; /* a row without an id cannot be referred to */
    row_name(k, row, name, sizeof(name));
    data = ap_json_dumps(row);
    struct ap_db_val v[7] = {
        ap_db_int(account_id),
        ap_db_text(kinds[k].name),
        ap_db_int(json_integer_value(id)),
        ap_db_text(name),
        ap_db_int(json_is_false(act) ? 0 : 1),
        ap_db_text(data),
        ap_db_text(now),
    };
    err =
        ap_db_exec(conn,
                   "INSERT INTO st_catalog (account_id, kind, st_id, name, active, deleted, data, "
                   "refreshed_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?) "
                   "ON CONFLICT (account_id, kind, st_id) DO UPDATE SET name = excluded.name, "
                   "active = excluded.active, deleted = 0, data = excluded.data, "
                   "refreshed_at = excluded.refreshed_at",
                   v, 7);
    free(data);
    return err;
}

static enum ap_err save_state(struct ap_db_conn *conn, int64_t account_id, enum ap_cat_kind k,
                              const char *refreshed_at, const char *error)
{
    struct ap_db_val v[4] = {ap_db_int(account_id), ap_db_text(kinds[k].name),
                             ap_db_text(refreshed_at), ap_db_text(error)};
    return ap_db_exec(
        conn,
        "INSERT INTO st_catalog_state (account_id, kind, refreshed_at, error) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (account_id, kind) DO UPDATE SET "
        "refreshed_at = COALESCE(excluded.refreshed_at, st_catalog_state.refreshed_at), "
        "error = excluded.error",
        v, 4);
}

/* Stores one kind's rows: upserts what came, marks the rest deleted. */
static enum ap_err store_kind(struct ap_store *st, int64_t account_id, enum ap_cat_kind k,
                              json_t *rows)
{
    struct ap_db_conn *conn = ap_store_acquire(st, true);
    char now[32];
    size_t i;
    json_t *row;
    enum ap_err err;

    if (!conn)
        return AP_EUNAVAIL;
    ap_clock_format_utc(ap_clock_real_ns(), now);
    if ((err = ap_db_begin(conn)))
        goto out;
    json_array_foreach (rows, i, row)
        if ((err = upsert_row(conn, account_id, k, row, now)))
            goto out;
    {
        struct ap_db_val v[3] = {ap_db_int(account_id), ap_db_text(kinds[k].name), ap_db_text(now)};
        err = ap_db_exec(conn,
                         "UPDATE st_catalog SET deleted = 1 WHERE account_id = ? AND kind = ? "
                         "AND refreshed_at < ?",
                         v, 3);
    }
    if (!err)
        err = save_state(conn, account_id, k, now, NULL);
    if (!err)
        err = ap_db_commit(conn);
out:
    if (err)
        ap_db_rollback(conn);
    ap_store_release(conn);
    return err;
}

static void record_failure(struct ap_store *st, int64_t account_id, enum ap_cat_kind k,
                           const char *msg)
{
    struct ap_db_conn *conn = ap_store_acquire(st, true);
    if (!conn)
        return;
    if (save_state(conn, account_id, k, NULL, msg) != AP_OK)
        ap_log_error("catalog.state", "account=%lld kind=%s err=%s", (long long)account_id,
                     kinds[k].name, ap_db_errmsg(conn));
    ap_store_release(conn);
}

enum ap_err ap_catalog_refresh(struct ap_store *st, struct ap_titan *t,
                               const struct ap_titan_creds *creds, int64_t account_id,
                               struct ap_catalog_result *res)
{
    struct ap_catalog_result scratch;
    int ok = 0;

    if (!res)
        res = &scratch;
    memset(res, 0, sizeof(*res));
    for (int k = 0; k < AP_CAT_NKINDS; k++) {
        struct collect col = {.rows = json_array()};
        struct ap_titan_error e = {0};
        enum ap_err err = ap_titan_each(t, creds, kinds[k].module, kinds[k].path, kinds[k].query,
                                        500, collect_row, &col, &e);
        if (err == AP_OK)
            err = store_kind(st, account_id, k, col.rows);
        if (err == AP_OK) {
            res->items[k] = (int)json_array_size(col.rows);
            ok++;
        } else {
            char msg[256];
            snprintf(msg, sizeof(msg), "%s: %.200s", kinds[k].key,
                     e.title[0] ? e.title : ap_err_str(err));
            if (!res->first_error[0])
                memcpy(res->first_error, msg, sizeof(msg));
            res->failed++;
            record_failure(st, account_id, k, msg);
            ap_log_warn("catalog.refresh", "account=%lld kind=%s status=%d err=%s",
                        (long long)account_id, kinds[k].name, e.status, ap_err_str(err));
        }
        json_decref(col.rows);
    }
    ap_log_info("catalog.refreshed", "account=%lld kinds_ok=%d kinds_failed=%d",
                (long long)account_id, ok, res->failed);
    return ok > 0 ? AP_OK : AP_EUNAVAIL;
}

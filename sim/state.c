/*
 * state.c — stsim's model: the emulator object, its clock and timestamp
 * format, the seed PRNG, the developer-portal model (tenants, apps,
 * connections, users, client credentials), the per-tenant record tables with
 * their change sequence.
 *
 * Every function here expects s->lock held by the caller (see sim.h), except
 * sim_new/sim_free and the pure helpers (time, rng, sim_public). The state
 * file is written and read in persist.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"
#include "sim/state_int.h"

/* Ids start where a real tenant's would plausibly be. */
#define SIM_FIRST_ID   1000001
#define SIM_SECRET_MAX 128

/* ---- kinds ------------------------------------------------------------------ */

struct kind_info {
    const char *name;
    bool has_id;       /* the schema has "id" (else the id is kept in "_id") */
    bool has_created;  /* the schema has "createdOn" */
    bool has_modified; /* the schema has "modifiedOn" */
};

/* From the response schemas in ../shared/servicetitan-openapi. */
static const struct kind_info KINDS[SIM_KIND_COUNT] = {
    [SIM_CUSTOMER] = {"customer", true, true, true},
    [SIM_LOCATION] = {"location", true, true, true},
    [SIM_CUSTOMER_CONTACT] = {"customer-contact", true, true, true},
    [SIM_LOCATION_CONTACT] = {"location-contact", true, true, true},
    [SIM_BOOKING] = {"booking", true, true, true},
    [SIM_BOOKING_CONTACT] = {"booking-contact", true, false, true},
    [SIM_BOOKING_PROVIDER_TAG] = {"booking-provider-tag", true, true, true},
    [SIM_JOB] = {"job", true, true, true},
    [SIM_APPOINTMENT] = {"appointment", true, true, true},
    [SIM_JOB_TYPE] = {"job-type", true, true, true},
    [SIM_JOB_CANCEL_REASON] = {"job-cancel-reason", true, true, true},
    [SIM_JOB_HOLD_REASON] = {"job-hold-reason", true, true, true},
    [SIM_BUSINESS_UNIT] = {"business-unit", true, true, true},
    [SIM_TECHNICIAN] = {"technician", true, true, true},
    [SIM_EMPLOYEE] = {"employee", true, true, true},
    [SIM_TAG_TYPE] = {"tag-type", true, true, true},
    [SIM_CAMPAIGN] = {"campaign", true, true, true},
    [SIM_CALL_REASON] = {"call-reason", true, true, true},
    [SIM_ARRIVAL_WINDOW] = {"arrival-window", true, false, false},
    [SIM_BUSINESS_HOURS] = {"business-hours", false, false, false},
    [SIM_ZONE] = {"zone", true, true, true},
    [SIM_TECHNICIAN_SHIFT] = {"technician-shift", true, true, true},
    [SIM_APPOINTMENT_ASSIGNMENT] = {"appointment-assignment", true, true, true},
};

const char *sim_kind_name(enum sim_kind k)
{
    return (unsigned)k < SIM_KIND_COUNT ? KINDS[k].name : "unknown";
}

bool sim_kind_parse(const char *name, enum sim_kind *out)
{
    for (int k = 0; k < SIM_KIND_COUNT; k++) {
        if (strcmp(KINDS[k].name, name) == 0) {
            *out = (enum sim_kind)k;
            return true;
        }
    }
    return false;
}

static json_t *public_copy(const json_t *v)
{
    const char *key;
    json_t *item, *out;
    size_t i;

    if (json_is_object(v)) {
        out = json_object();
        json_object_foreach ((json_t *)v, key, item) {
            if (key[0] != SIM_HIDDEN_PREFIX)
                json_object_set_new(out, key, public_copy(item));
        }
        return out;
    }
    if (json_is_array(v)) {
        out = json_array();
        json_array_foreach (v, i, item)
            json_array_append_new(out, public_copy(item));
        return out;
    }
    return json_incref((json_t *)v); /* scalars are immutable in practice */
}

json_t *sim_public(const json_t *row)
{
    return row != NULL ? public_copy(row) : json_null();
}

int64_t sim_row_id(const json_t *row)
{
    json_t *id = json_object_get(row, "id");

    if (!json_is_integer(id))
        id = json_object_get(row, "_id");
    return json_is_integer(id) ? (int64_t)json_integer_value(id) : 0;
}

/* ---- clock and time format ------------------------------------------------------- */

int64_t sim_now(const struct sim *s)
{
    return ap_clock_real_ns() + s->clock_offset_ns;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

void sim_time_fmt(int64_t ns, char out[40])
{
    int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    struct tm tm;

    if (frac < 0) {
        frac += 1000000000;
        sec--;
    }
    time_t tt = (time_t)sec;
    gmtime_r(&tt, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%07uZ", (unsigned)(frac / 100) % 10000000u);
}

json_t *sim_time_json(int64_t ns)
{
    char buf[40];

    sim_time_fmt(ns, buf);
    return json_string(buf);
}

static bool digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* "Z", "±hh:mm", "±hhmm" or nothing (UTC); a space stands for a '+' that a
 * query string decoded. Seconds east of UTC into *off. */
static bool parse_zone(const char *p, int *off)
{
    int sign, oh, om = 0;

    *off = 0;
    if (*p == '\0')
        return true;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return true;
    if (*p != '+' && *p != '-' && *p != ' ')
        return false;
    sign = *p == '-' ? -1 : 1;
    p++;
    if (!digits(&p, 2, &oh))
        return false;
    if (*p == ':')
        p++;
    if (*p != '\0' && !digits(&p, 2, &om))
        return false;
    if (*p != '\0' || oh > 14 || om > 59)
        return false;
    *off = sign * (oh * 3600 + om * 60);
    return true;
}

/* "hh:mm[:ss[.f{1,7}]]" then the zone. */
static bool parse_clock(const char *p, int *h, int *mi, int *se, int64_t *frac, int *off)
{
    if (!digits(&p, 2, h) || *p++ != ':' || !digits(&p, 2, mi))
        return false;
    if (*p == ':') {
        p++;
        if (!digits(&p, 2, se))
            return false;
        if (*p == '.') {
            int nd = 0;

            for (p++; isdigit((unsigned char)*p); p++, nd++) {
                if (nd == 7)
                    return false;
                *frac = *frac * 10 + (*p - '0');
            }
            if (nd == 0)
                return false;
            for (; nd < 7; nd++)
                *frac *= 10;
        }
    }
    return parse_zone(p, off) && *h <= 23 && *mi <= 59 && *se <= 59;
}

bool sim_time_parse(const char *s, int64_t *ns)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
    int64_t frac = 0; /* 100 ns ticks */

    if (s == NULL || !digits(&p, 4, &y) || *p != '-')
        return false;
    p++;
    if (!digits(&p, 2, &mo) || *p != '-')
        return false;
    p++;
    if (!digits(&p, 2, &d))
        return false;
    /* int64 nanoseconds span 1677-09-21 .. 2262-04-11. */
    if (y < 1678 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    if (*p != '\0') {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return false;
        if (!parse_clock(p + 1, &h, &mi, &se, &frac, &off))
            return false;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    *ns = secs * 1000000000 + frac * 100;
    return true;
}

/* ---- deterministic rng ----------------------------------------------------------- */

uint64_t sim_rand(struct sim_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int sim_rand_range(struct sim_rng *r, int lo, int hi)
{
    if (hi <= lo)
        return lo;
    uint64_t span = (uint64_t)((int64_t)hi - lo) + 1;
    return (int)((int64_t)lo + (int64_t)(sim_rand(r) % span));
}

/* ---- small helpers ---------------------------------------------------------------- */

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* n characters of [a-z0-9] from the crypto RNG, without modulo bias. */
static void rand_alnum(char *out, size_t n)
{
    static const char A[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t buf[64];
    size_t i = 0;

    while (i < n) {
        ap_crypto_random(buf, sizeof(buf));
        for (size_t j = 0; j < sizeof(buf) && i < n; j++) {
            if (buf[j] < 252)
                out[i++] = A[buf[j] % 36];
        }
    }
    out[n] = '\0';
}

static char **strv_dup(const char *const *v, size_t n)
{
    char **out = ap_xcalloc(n + 1, sizeof(*out));

    for (size_t i = 0; i < n; i++)
        out[i] = ap_xstrdup(v[i]);
    return out;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

static bool strv_has(char *const *v, size_t n, const char *x)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i], x) == 0)
            return true;
    }
    return false;
}

/* ---- the emulator object --------------------------------------------------------- */

static void table_cleanup(struct sim_table *tb)
{
    for (size_t i = 0; i < tb->n; i++)
        json_decref(tb->rows[i]);
    free(tb->rows);
    free(tb->seq);
    free(tb->changed_ns);
    memset(tb, 0, sizeof(*tb));
}

static void tenant_free(struct sim_tenant *t)
{
    if (t == NULL)
        return;
    for (int k = 0; k < SIM_KIND_COUNT; k++)
        table_cleanup(&t->tables[k]);
    free(t);
}

static void app_free(struct sim_app *a)
{
    if (a == NULL)
        return;
    strv_free(a->scopes, a->nscopes);
    free(a->tenants);
    free(a);
}

static void conn_free(struct sim_conn *c)
{
    if (c == NULL)
        return;
    strv_free(c->scopes, c->nscopes);
    free(c);
}

void sim_model_drop(struct sim *s)
{
    for (size_t i = 0; i < s->ntenants; i++)
        tenant_free(s->tenants[i]);
    for (size_t i = 0; i < s->napps; i++)
        app_free(s->apps[i]);
    for (size_t i = 0; i < s->nconns; i++)
        conn_free(s->conns[i]);
    free(s->tenants);
    free(s->apps);
    free(s->conns);
    free(s->users);
    s->tenants = NULL;
    s->apps = NULL;
    s->conns = NULL;
    s->users = NULL;
    s->ntenants = s->napps = s->nconns = s->nusers = 0;
    s->next_id = SIM_FIRST_ID;
}

struct sim *sim_new(const struct sim_config *cfg)
{
    struct sim *s = ap_xcalloc(1, sizeof(*s));

    if (ap_crypto_init() != AP_OK) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    if (cfg != NULL)
        s->cfg = *cfg;
    ap_crypto_random(s->token_key, sizeof(s->token_key));
    ap_crypto_random(s->secret_key, sizeof(s->secret_key));
    s->next_id = SIM_FIRST_ID;
    return s;
}

void sim_free(struct sim *s)
{
    if (s == NULL)
        return;
    sim_model_drop(s);
    ap_store_close(s->persist);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void sim_reset(struct sim *s)
{
    sim_model_drop(s);
    s->tokens_issued = s->token_requests = s->api_requests = s->rate_limited = 0;
    sim_persist_clear(s);
    sim_persist_portal(s);
}

/* ---- tenants, apps, connections, users --------------------------------------------- */

struct sim_tenant *sim_tenant_add(struct sim *s, int64_t id, const char *name, const char *tz)
{
    if (id <= 0 || sim_tenant_find(s, id) != NULL)
        return NULL;
    struct sim_tenant *t = ap_xcalloc(1, sizeof(*t));
    t->id = id;
    copy_str(t->name, sizeof(t->name), name);
    copy_str(t->tz, sizeof(t->tz), tz != NULL ? tz : "UTC");
    t->next_seq = 1;
    s->tenants = ap_xrealloc(s->tenants, (s->ntenants + 1) * sizeof(*s->tenants));
    s->tenants[s->ntenants++] = t;
    sim_persist_portal(s);
    return t;
}

struct sim_tenant *sim_tenant_find(struct sim *s, int64_t id)
{
    for (size_t i = 0; i < s->ntenants; i++) {
        if (s->tenants[i]->id == id)
            return s->tenants[i];
    }
    return NULL;
}

struct sim_app *sim_app_add(struct sim *s, const char *id, const char *name,
                            const char *const *scopes, size_t nscopes, bool booking_provider)
{
    if (id == NULL || id[0] == '\0' || strlen(id) >= sizeof(((struct sim_app *)0)->id) ||
        sim_app_find(s, id) != NULL)
        return NULL;
    struct sim_app *a = ap_xcalloc(1, sizeof(*a));
    copy_str(a->id, sizeof(a->id), id);
    copy_str(a->name, sizeof(a->name), name != NULL ? name : id);
    memcpy(a->key, "ak1.", 4);
    rand_alnum(a->key + 4, 25);
    a->version = 1;
    a->scopes = strv_dup(scopes, nscopes);
    a->nscopes = nscopes;
    a->booking_provider = booking_provider;
    s->apps = ap_xrealloc(s->apps, (s->napps + 1) * sizeof(*s->apps));
    s->apps[s->napps++] = a;
    sim_persist_portal(s);
    return a;
}

struct sim_app *sim_app_find(struct sim *s, const char *id)
{
    for (size_t i = 0; id != NULL && i < s->napps; i++) {
        if (strcmp(s->apps[i]->id, id) == 0)
            return s->apps[i];
    }
    return NULL;
}

struct sim_app *sim_app_by_key(struct sim *s, const char *key)
{
    for (size_t i = 0; key != NULL && i < s->napps; i++) {
        if (strcmp(s->apps[i]->key, key) == 0)
            return s->apps[i];
    }
    return NULL;
}

void sim_app_add_tenant(struct sim *s, struct sim_app *a, int64_t tenant_id)
{
    if (sim_app_has_tenant(a, tenant_id))
        return;
    a->tenants = ap_xrealloc(a->tenants, (a->ntenants + 1) * sizeof(*a->tenants));
    a->tenants[a->ntenants++] = tenant_id;
    sim_persist_portal(s);
}

bool sim_app_has_tenant(const struct sim_app *a, int64_t tenant_id)
{
    for (size_t i = 0; i < a->ntenants; i++) {
        if (a->tenants[i] == tenant_id)
            return true;
    }
    return false;
}

void sim_app_set_scopes(struct sim *s, struct sim_app *a, const char *const *scopes, size_t n)
{
    bool same = n == a->nscopes;

    for (size_t i = 0; same && i < n; i++)
        same = strv_has(a->scopes, a->nscopes, scopes[i]);
    if (same)
        return;
    strv_free(a->scopes, a->nscopes);
    a->scopes = strv_dup(scopes, n);
    a->nscopes = n;
    a->version++;
    sim_persist_portal(s);
}

struct sim_conn *sim_conn_get(struct sim *s, int64_t tenant_id, const char *app_id, bool create)
{
    for (size_t i = 0; app_id != NULL && i < s->nconns; i++) {
        struct sim_conn *c = s->conns[i];

        if (c->tenant_id == tenant_id && strcmp(c->app_id, app_id) == 0)
            return c;
    }
    if (!create || app_id == NULL || strlen(app_id) >= sizeof(((struct sim_conn *)0)->app_id))
        return NULL;
    struct sim_conn *c = ap_xcalloc(1, sizeof(*c));
    c->tenant_id = tenant_id;
    copy_str(c->app_id, sizeof(c->app_id), app_id);
    c->state = SIM_CONN_NOT_CONNECTED;
    s->conns = ap_xrealloc(s->conns, (s->nconns + 1) * sizeof(*s->conns));
    s->conns[s->nconns++] = c;
    sim_persist_portal(s);
    return c;
}

struct sim_conn *sim_conn_by_client_id(struct sim *s, const char *client_id)
{
    for (size_t i = 0; client_id != NULL && client_id[0] != '\0' && i < s->nconns; i++) {
        if (strcmp(s->conns[i]->client_id, client_id) == 0)
            return s->conns[i];
    }
    return NULL;
}

static void conn_set_scopes(struct sim_conn *c, const char *const *scopes, size_t n)
{
    strv_free(c->scopes, c->nscopes);
    c->scopes = strv_dup(scopes, n);
    c->nscopes = n;
}

enum ap_err sim_conn_allow(struct sim *s, struct sim_conn *c, const char *const *scopes,
                           size_t nscopes, int64_t booking_provider_id)
{
    struct sim_app *a = sim_app_find(s, c->app_id);

    if (a == NULL)
        return AP_ENOTFOUND;
    if (!sim_app_has_tenant(a, c->tenant_id))
        return AP_EPERM;
    if (scopes == NULL) {
        scopes = (const char *const *)a->scopes;
        nscopes = a->nscopes;
    }
    for (size_t i = 0; i < nscopes; i++) {
        if (!strv_has(a->scopes, a->nscopes, scopes[i]))
            return AP_EINVAL;
    }
    conn_set_scopes(c, scopes, nscopes);
    c->state = SIM_CONN_CONNECTED;
    c->version = a->version;
    c->booking_provider_id = booking_provider_id;
    c->connected_ns = sim_now(s);
    if (c->client_id[0] == '\0') {
        memcpy(c->client_id, "cid.", 4);
        rand_alnum(c->client_id + 4, 25);
    }
    sim_persist_portal(s);
    return AP_OK;
}

static void secret_hash(const struct sim *s, const char *secret, uint8_t out[32])
{
    ap_crypto_hmac_sha256(s->secret_key, sizeof(s->secret_key), secret, strlen(secret), out);
}

enum ap_err sim_conn_new_secret(struct sim *s, struct sim_conn *c, char out[64])
{
    if (c->state == SIM_CONN_NOT_CONNECTED || c->client_id[0] == '\0')
        return AP_EPERM;
    memcpy(out, "cs2.", 4);
    rand_alnum(out + 4, 50);
    secret_hash(s, out, c->secret_hash);
    c->has_secret = true;
    c->secret_generated_ns = sim_now(s);
    sim_persist_portal(s);
    return AP_OK;
}

bool sim_conn_check_secret(const struct sim *s, const struct sim_conn *c, const char *secret)
{
    uint8_t h[32];

    if (!c->has_secret || secret == NULL || strlen(secret) > SIM_SECRET_MAX)
        return false;
    secret_hash(s, secret, h);
    return ap_crypto_equal(h, c->secret_hash, sizeof(h));
}

void sim_conn_set_state(struct sim *s, struct sim_conn *c, enum sim_conn_state st)
{
    c->state = st;
    sim_persist_portal(s);
}

void sim_conn_upgrade(struct sim *s, struct sim_conn *c)
{
    struct sim_app *a = sim_app_find(s, c->app_id);

    if (a == NULL)
        return;
    conn_set_scopes(c, (const char *const *)a->scopes, a->nscopes);
    c->version = a->version;
    sim_persist_portal(s);
}

bool sim_conn_has_scope(const struct sim_conn *c, const char *scope)
{
    return scope != NULL && strv_has(c->scopes, c->nscopes, scope);
}

struct sim_user *sim_user_add(struct sim *s, int64_t tenant_id, const char *username,
                              const char *password, bool manage_api_access)
{
    s->users = ap_xrealloc(s->users, (s->nusers + 1) * sizeof(*s->users));
    struct sim_user *u = &s->users[s->nusers++];
    memset(u, 0, sizeof(*u));
    u->tenant_id = tenant_id;
    copy_str(u->username, sizeof(u->username), username);
    copy_str(u->password, sizeof(u->password), password);
    u->manage_api_access = manage_api_access;
    sim_persist_portal(s);
    return u;
}

struct sim_user *sim_user_find(struct sim *s, int64_t tenant_id, const char *username)
{
    for (size_t i = 0; username != NULL && i < s->nusers; i++) {
        struct sim_user *u = &s->users[i];

        if ((tenant_id == 0 || u->tenant_id == tenant_id) && strcasecmp(u->username, username) == 0)
            return u;
    }
    return NULL;
}

/* ---- records ------------------------------------------------------------------------ */

bool sim_table_find(const struct sim_table *tb, int64_t id, size_t *at)
{
    size_t lo = 0, hi = tb->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t mid_id = sim_row_id(tb->rows[mid]);

        if (mid_id == id) {
            *at = mid;
            return true;
        }
        if (mid_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return false;
}

static void table_insert(struct sim_table *tb, size_t at, json_t *row)
{
    if (tb->n == tb->cap) {
        tb->cap = tb->cap ? tb->cap * 2 : 16;
        tb->rows = ap_xrealloc(tb->rows, tb->cap * sizeof(*tb->rows));
        tb->seq = ap_xrealloc(tb->seq, tb->cap * sizeof(*tb->seq));
        tb->changed_ns = ap_xrealloc(tb->changed_ns, tb->cap * sizeof(*tb->changed_ns));
    }
    size_t tail = tb->n - at;
    memmove(&tb->rows[at + 1], &tb->rows[at], tail * sizeof(*tb->rows));
    memmove(&tb->seq[at + 1], &tb->seq[at], tail * sizeof(*tb->seq));
    memmove(&tb->changed_ns[at + 1], &tb->changed_ns[at], tail * sizeof(*tb->changed_ns));
    tb->rows[at] = row;
    tb->n++;
}

json_t *sim_get(struct sim_tenant *t, enum sim_kind k, int64_t id)
{
    size_t at;

    if (t == NULL || (unsigned)k >= SIM_KIND_COUNT)
        return NULL;
    return sim_table_find(&t->tables[k], id, &at) ? t->tables[k].rows[at] : NULL;
}

size_t sim_table_put(struct sim_tenant *t, enum sim_kind k, int64_t id, json_t *row)
{
    struct sim_table *tb = &t->tables[k];
    size_t at;

    if (sim_table_find(tb, id, &at)) {
        json_decref(tb->rows[at]);
        tb->rows[at] = row;
    } else {
        table_insert(tb, at, row);
    }
    return at;
}

int64_t sim_add(struct sim *s, struct sim_tenant *t, enum sim_kind k, json_t *row)
{
    const char *idkey = KINDS[k].has_id ? "id" : "_id";
    json_t *jid = json_object_get(row, idkey);
    int64_t id, now = sim_now(s);

    if (json_is_integer(jid) && json_integer_value(jid) > 0) {
        id = (int64_t)json_integer_value(jid);
        if (id >= s->next_id)
            s->next_id = id + 1;
    } else {
        /* Rebuild so that "id" comes first, as ServiceTitan sends it. */
        json_t *n = json_object();

        id = s->next_id++;
        json_object_set_new(n, idkey, json_integer(id));
        json_object_update(n, row);
        json_object_set_new(n, idkey, json_integer(id));
        json_decref(row);
        row = n;
    }
    if (KINDS[k].has_created && !json_is_string(json_object_get(row, "createdOn")))
        json_object_set_new(row, "createdOn", sim_time_json(now));
    if (KINDS[k].has_modified && !json_is_string(json_object_get(row, "modifiedOn")))
        json_object_set_new(row, "modifiedOn", sim_time_json(now));
    size_t at = sim_table_put(t, k, id, row);
    t->tables[k].seq[at] = t->next_seq++;
    t->tables[k].changed_ns[at] = now;
    sim_persist_row(s, t, k, id, row);
    return id;
}

void sim_touch(struct sim *s, struct sim_tenant *t, enum sim_kind k, json_t *row,
               bool bump_modified)
{
    struct sim_table *tb = &t->tables[k];
    int64_t id = sim_row_id(row), now = sim_now(s);
    size_t at;

    if (!sim_table_find(tb, id, &at) || tb->rows[at] != row) {
        ap_log_error("sim.touch", "bug=row_not_in_table kind=%s id=%lld", KINDS[k].name,
                     (long long)id);
        return;
    }
    if (bump_modified && KINDS[k].has_modified)
        json_object_set_new(row, "modifiedOn", sim_time_json(now));
    tb->seq[at] = t->next_seq++;
    tb->changed_ns[at] = now;
    sim_persist_row(s, t, k, id, row);
}

void sim_remove(struct sim *s, struct sim_tenant *t, enum sim_kind k, int64_t id)
{
    struct sim_table *tb = &t->tables[k];
    size_t at;

    if (!sim_table_find(tb, id, &at))
        return;
    json_decref(tb->rows[at]);
    size_t tail = tb->n - at - 1;
    memmove(&tb->rows[at], &tb->rows[at + 1], tail * sizeof(*tb->rows));
    memmove(&tb->seq[at], &tb->seq[at + 1], tail * sizeof(*tb->seq));
    memmove(&tb->changed_ns[at], &tb->changed_ns[at + 1], tail * sizeof(*tb->changed_ns));
    tb->n--;
    sim_persist_row(s, t, k, id, NULL);
}

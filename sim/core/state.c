/*
 * state.c — stsim's model: the emulator object, its clock, the seed PRNG,
 * the developer-portal model (tenants, apps, connections, users, client
 * credentials), and the changes to records (add, touch, remove) with their
 * change sequence, written through to the state file (persist.c). The tables
 * themselves are table.c's.
 *
 * Every function here expects s->lock held by the caller (see model.h),
 * except sim_new/sim_free and the pure helpers (time, rng).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"
#include "sim/core/core_int.h"
#include "sim/core/index.h"

#define SIM_SECRET_MAX 128

/* ---- clock --------------------------------------------------------------------- */

int64_t sim_now(const struct sim *s)
{
    return ap_clock_real_ns() + s->clock_offset_ns;
}

json_t *sim_time_json(int64_t ns)
{
    char buf[AP_TIME_BUF];

    ap_time_format(ns, 7, buf);
    return json_string(buf);
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

static bool strv_has(char *const *v, size_t n, const char *x)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i], x) == 0)
            return true;
    }
    return false;
}

/* ---- the emulator object --------------------------------------------------------- */

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
    sim_strv_free(a->scopes, a->nscopes);
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
    sim_strv_free(c->scopes, c->nscopes);
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

int64_t sim_add(struct sim *s, struct sim_tenant *t, enum sim_kind k, json_t *row)
{
    const struct sim_kind_info *ki = sim_kind_info(k);
    const char *idkey = ki->has_id ? "id" : "_id";
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
    if (ki->has_created && !json_is_string(json_object_get(row, "createdOn")))
        json_object_set_new(row, "createdOn", sim_time_json(now));
    if (ki->has_modified && !json_is_string(json_object_get(row, "modifiedOn")))
        json_object_set_new(row, "modifiedOn", sim_time_json(now));
    size_t at = sim_table_put(t, k, id, row);
    t->tables[k].seq[at] = t->next_seq++;
    t->tables[k].changed_ns[at] = now;
    sim_aux_added(t, k, at);
    sim_keyidx_row(t, k, row);
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
        ap_log_error("sim.touch", "bug=row_not_in_table kind=%s id=%lld", sim_kind_name(k),
                     (long long)id);
        return;
    }
    if (bump_modified && sim_kind_info(k)->has_modified)
        json_object_set_new(row, "modifiedOn", sim_time_json(now));
    tb->seq[at] = t->next_seq++;
    tb->changed_ns[at] = now;
    sim_aux_touched(t, k, at);
    sim_keyidx_row(t, k, row);
    sim_persist_row(s, t, k, id, row);
}

void sim_remove(struct sim *s, struct sim_tenant *t, enum sim_kind k, int64_t id)
{
    struct sim_table *tb = &t->tables[k];
    size_t at;

    if (!sim_table_find(tb, id, &at))
        return;
    sim_table_remove_at(t, k, at);
    sim_aux_removed(t, k);
    sim_persist_row(s, t, k, id, NULL);
}

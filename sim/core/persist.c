/*
 * persist.c — write-through persistence of stsim's model to --state-file.
 *
 * The state file holds two tables: sim_rows (tenant, kind, id, seq, changed,
 * body JSON) with one row per record, and sim_portal (name, body JSON) with
 * the rows "tenants", "apps", "conns", "users" and "meta" (next id, the key of
 * the secret hashes). Every change is written at once, each in its own small
 * transaction; failures are logged and the in-memory model stays
 * authoritative. Without a state file nothing here writes anything.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"
#include "sim/core/core_int.h"
#include "sim/core/index.h"

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* ---- persistence: writing ------------------------------------------------------------ */

static const struct ap_migration PERSIST_SCHEMA[] = {
    {1, "stsim",
     "CREATE TABLE sim_rows (tenant INTEGER NOT NULL, kind TEXT NOT NULL, id INTEGER NOT NULL,"
     " seq INTEGER NOT NULL, changed INTEGER NOT NULL, body TEXT NOT NULL,"
     " PRIMARY KEY (tenant, kind, id));"
     "CREATE TABLE sim_portal (name TEXT PRIMARY KEY, body TEXT NOT NULL);"},
};

static const char SQL_ROW_PUT[] =
    "INSERT INTO sim_rows (tenant, kind, id, seq, changed, body) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (tenant, kind, id) DO UPDATE SET seq = excluded.seq,"
    " changed = excluded.changed, body = excluded.body";
static const char SQL_ROW_DEL[] = "DELETE FROM sim_rows WHERE tenant = ? AND kind = ? AND id = ?";
static const char SQL_PORTAL_PUT[] = "INSERT INTO sim_portal (name, body) VALUES (?, ?)"
                                     " ON CONFLICT (name) DO UPDATE SET body = excluded.body";

static void persist_failed(const char *what, struct ap_db_conn *c)
{
    char q[256];

    ap_log_error("sim.persist", "what=%s err=%s", what,
                 ap_log_quote(ap_db_errmsg(c), q, sizeof(q)));
}

static enum ap_err row_write(struct ap_db_conn *c, struct sim_tenant *t, enum sim_kind k, size_t at)
{
    const struct sim_table *tb = &t->tables[k];
    char *body = ap_json_dumps(tb->rows[at]);
    struct ap_db_val v[6] = {ap_db_int(t->id),
                             ap_db_text(sim_kind_name(k)),
                             ap_db_int(sim_row_id(tb->rows[at])),
                             ap_db_int((int64_t)tb->seq[at]),
                             ap_db_int(tb->changed_ns[at]),
                             ap_db_text(body)};
    enum ap_err err = ap_db_exec(c, SQL_ROW_PUT, v, 6);

    free(body);
    return err;
}

static enum ap_err portal_put(struct ap_db_conn *c, const char *name, json_t *body)
{
    char *text = ap_json_dumps(body);
    struct ap_db_val v[2] = {ap_db_text(name), ap_db_text(text)};
    enum ap_err err = ap_db_exec(c, SQL_PORTAL_PUT, v, 2);

    free(text);
    json_decref(body);
    return err;
}

void sim_persist_row(struct sim *s, struct sim_tenant *t, enum sim_kind k, int64_t id,
                     const json_t *row)
{
    struct ap_db_conn *c;
    enum ap_err err;
    size_t at;

    if (s->persist == NULL)
        return;
    c = ap_store_acquire(s->persist, true);
    err = ap_db_begin(c);
    if (err == AP_OK && row != NULL && sim_table_find(&t->tables[k], id, &at)) {
        err = row_write(c, t, k, at);
    } else if (err == AP_OK) {
        struct ap_db_val v[3] = {ap_db_int(t->id), ap_db_text(sim_kind_name(k)), ap_db_int(id)};
        err = ap_db_exec(c, SQL_ROW_DEL, v, 3);
    }
    /* the next id too, so that ids of removed rows are never handed out again */
    if (err == AP_OK)
        err = portal_put(c, "nextId", json_integer(s->next_id));
    if (err == AP_OK)
        err = ap_db_commit(c);
    if (err != AP_OK) {
        persist_failed("row", c);
        ap_db_rollback(c);
    }
    ap_store_release(c);
}

static json_t *strv_json(char *const *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *portal_tenants(const struct sim *s)
{
    json_t *a = json_array();

    for (size_t i = 0; i < s->ntenants; i++) {
        const struct sim_tenant *t = s->tenants[i];
        json_array_append_new(a, json_pack("{sI ss ss sb sI}", "id", (json_int_t)t->id, "name",
                                           t->name, "tz", t->tz, "empty", t->empty, "nextSeq",
                                           (json_int_t)t->next_seq));
    }
    return a;
}

static json_t *portal_apps(const struct sim *s)
{
    json_t *a = json_array();

    for (size_t i = 0; i < s->napps; i++) {
        const struct sim_app *p = s->apps[i];
        json_t *ten = json_array();

        for (size_t j = 0; j < p->ntenants; j++)
            json_array_append_new(ten, json_integer(p->tenants[j]));
        json_array_append_new(a, json_pack("{ss ss ss si so sb so}", "id", p->id, "name", p->name,
                                           "key", p->key, "version", p->version, "scopes",
                                           strv_json(p->scopes, p->nscopes), "bookingProvider",
                                           p->booking_provider, "tenants", ten));
    }
    return a;
}

static json_t *portal_conns(const struct sim *s)
{
    json_t *a = json_array();
    char hex[65];

    for (size_t i = 0; i < s->nconns; i++) {
        const struct sim_conn *c = s->conns[i];

        ap_crypto_hex(c->secret_hash, sizeof(c->secret_hash), hex);
        json_array_append_new(a, json_pack("{sI ss si si so sI sb ss ss sb sI sI}", "tenantId",
                                           (json_int_t)c->tenant_id, "appId", c->app_id, "state",
                                           (int)c->state, "version", c->version, "scopes",
                                           strv_json(c->scopes, c->nscopes), "bookingProviderId",
                                           (json_int_t)c->booking_provider_id, "noRestriction",
                                           c->no_restriction, "clientId", c->client_id,
                                           "secretHash", hex, "hasSecret", c->has_secret,
                                           "secretGeneratedNs", (json_int_t)c->secret_generated_ns,
                                           "connectedNs", (json_int_t)c->connected_ns));
    }
    return a;
}

static json_t *portal_users(const struct sim *s)
{
    json_t *a = json_array();

    for (size_t i = 0; i < s->nusers; i++) {
        const struct sim_user *u = &s->users[i];
        json_array_append_new(a, json_pack("{sI ss ss sb}", "tenantId", (json_int_t)u->tenant_id,
                                           "username", u->username, "password", u->password,
                                           "manageApiAccess", u->manage_api_access));
    }
    return a;
}

static json_t *portal_meta(const struct sim *s)
{
    char hex[65];

    ap_crypto_hex(s->secret_key, sizeof(s->secret_key), hex);
    return json_pack("{sI ss}", "nextId", (json_int_t)s->next_id, "secretKey", hex);
}

static enum ap_err portal_write(struct sim *s, struct ap_db_conn *c)
{
    enum ap_err err = portal_put(c, "tenants", portal_tenants(s));

    if (err == AP_OK)
        err = portal_put(c, "apps", portal_apps(s));
    if (err == AP_OK)
        err = portal_put(c, "conns", portal_conns(s));
    if (err == AP_OK)
        err = portal_put(c, "users", portal_users(s));
    if (err == AP_OK)
        err = portal_put(c, "meta", portal_meta(s));
    return err;
}

void sim_persist_portal(struct sim *s)
{
    struct ap_db_conn *c;
    enum ap_err err;

    if (s->persist == NULL)
        return;
    c = ap_store_acquire(s->persist, true);
    err = ap_db_begin(c);
    if (err == AP_OK)
        err = portal_write(s, c);
    if (err == AP_OK)
        err = ap_db_commit(c);
    if (err != AP_OK) {
        persist_failed("portal", c);
        ap_db_rollback(c);
    }
    ap_store_release(c);
}

void sim_persist_clear(struct sim *s)
{
    struct ap_db_conn *c;

    if (s->persist == NULL)
        return;
    c = ap_store_acquire(s->persist, true);
    if (ap_db_exec(c, "DELETE FROM sim_rows", NULL, 0) != AP_OK ||
        ap_db_exec(c, "DELETE FROM sim_portal", NULL, 0) != AP_OK)
        persist_failed("reset", c);
    ap_store_release(c);
}

/* Writes the whole in-memory model into an empty state file. */
static enum ap_err persist_dump(struct sim *s, struct ap_db_conn *c)
{
    enum ap_err err = ap_db_begin(c);

    for (size_t i = 0; err == AP_OK && i < s->ntenants; i++) {
        struct sim_tenant *t = s->tenants[i];

        for (int k = 0; err == AP_OK && k < SIM_KIND_COUNT; k++) {
            for (size_t at = 0; err == AP_OK && at < t->tables[k].n; at++)
                err = row_write(c, t, (enum sim_kind)k, at);
        }
    }
    if (err == AP_OK)
        err = portal_write(s, c);
    if (err == AP_OK)
        err = ap_db_commit(c);
    if (err != AP_OK)
        ap_db_rollback(c);
    return err;
}

/* ---- persistence: loading -------------------------------------------------------------- */

static bool unhex(const char *h, uint8_t *out, size_t n)
{
    if (h == NULL || strlen(h) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;

        if (!isxdigit((unsigned char)h[2 * i]) || !isxdigit((unsigned char)h[2 * i + 1]) ||
            sscanf(h + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

static char **strv_from_json(json_t *a, size_t *n)
{
    size_t i, cnt = 0;
    json_t *v;
    char **out = ap_xcalloc(json_array_size(a) + 1, sizeof(*out));

    json_array_foreach (a, i, v) {
        if (json_is_string(v))
            out[cnt++] = ap_xstrdup(json_string_value(v));
    }
    *n = cnt;
    return out;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v != NULL ? v : "";
}

static int64_t jint(json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static void load_tenants(struct sim *s, json_t *arr)
{
    size_t i;
    json_t *o;

    json_array_foreach (arr, i, o) {
        struct sim_tenant *t = ap_xcalloc(1, sizeof(*t));

        t->id = jint(o, "id");
        copy_str(t->name, sizeof(t->name), jstr(o, "name"));
        copy_str(t->tz, sizeof(t->tz), jstr(o, "tz"));
        t->empty = json_is_true(json_object_get(o, "empty"));
        t->next_seq = (uint64_t)jint(o, "nextSeq");
        if (t->next_seq == 0)
            t->next_seq = 1;
        s->tenants = ap_xrealloc(s->tenants, (s->ntenants + 1) * sizeof(*s->tenants));
        s->tenants[s->ntenants++] = t;
    }
}

static void load_apps(struct sim *s, json_t *arr)
{
    size_t i, j;
    json_t *o, *v;

    json_array_foreach (arr, i, o) {
        struct sim_app *a = ap_xcalloc(1, sizeof(*a));
        json_t *ten = json_object_get(o, "tenants");

        copy_str(a->id, sizeof(a->id), jstr(o, "id"));
        copy_str(a->name, sizeof(a->name), jstr(o, "name"));
        copy_str(a->key, sizeof(a->key), jstr(o, "key"));
        a->version = (int)jint(o, "version");
        a->scopes = strv_from_json(json_object_get(o, "scopes"), &a->nscopes);
        a->booking_provider = json_is_true(json_object_get(o, "bookingProvider"));
        a->tenants = ap_xcalloc(json_array_size(ten) + 1, sizeof(*a->tenants));
        json_array_foreach (ten, j, v)
            a->tenants[a->ntenants++] = json_integer_value(v);
        s->apps = ap_xrealloc(s->apps, (s->napps + 1) * sizeof(*s->apps));
        s->apps[s->napps++] = a;
    }
}

static void load_conns(struct sim *s, json_t *arr)
{
    size_t i;
    json_t *o;

    json_array_foreach (arr, i, o) {
        struct sim_conn *c = ap_xcalloc(1, sizeof(*c));

        c->tenant_id = jint(o, "tenantId");
        copy_str(c->app_id, sizeof(c->app_id), jstr(o, "appId"));
        c->state = (enum sim_conn_state)jint(o, "state");
        c->version = (int)jint(o, "version");
        c->scopes = strv_from_json(json_object_get(o, "scopes"), &c->nscopes);
        c->booking_provider_id = jint(o, "bookingProviderId");
        c->no_restriction = json_is_true(json_object_get(o, "noRestriction"));
        copy_str(c->client_id, sizeof(c->client_id), jstr(o, "clientId"));
        c->has_secret = json_is_true(json_object_get(o, "hasSecret")) &&
                        unhex(jstr(o, "secretHash"), c->secret_hash, sizeof(c->secret_hash));
        c->secret_generated_ns = jint(o, "secretGeneratedNs");
        c->connected_ns = jint(o, "connectedNs");
        s->conns = ap_xrealloc(s->conns, (s->nconns + 1) * sizeof(*s->conns));
        s->conns[s->nconns++] = c;
    }
}

static void load_users(struct sim *s, json_t *arr)
{
    size_t i;
    json_t *o;

    s->users = ap_xcalloc(json_array_size(arr) + 1, sizeof(*s->users));
    json_array_foreach (arr, i, o) {
        struct sim_user *u = &s->users[s->nusers++];

        u->tenant_id = jint(o, "tenantId");
        copy_str(u->username, sizeof(u->username), jstr(o, "username"));
        copy_str(u->password, sizeof(u->password), jstr(o, "password"));
        u->manage_api_access = json_is_true(json_object_get(o, "manageApiAccess"));
    }
}

/* Reads sim_portal into *out (name → parsed body); AP_ENOTFOUND when empty. */
static enum ap_err portal_read(struct ap_db_conn *c, json_t *out)
{
    struct ap_db_rows *r;
    enum ap_err err = ap_db_query(c, "SELECT name, body FROM sim_portal", NULL, 0, &r);

    if (err != AP_OK)
        return err;
    while (ap_db_next(r)) {
        json_t *body = json_loads(ap_db_row_text(r, 1), JSON_DECODE_ANY, NULL);

        if (body != NULL)
            json_object_set_new(out, ap_db_row_text(r, 0), body);
    }
    err = ap_db_done(r);
    if (err == AP_OK && json_object_get(out, "meta") == NULL)
        err = AP_ENOTFOUND;
    return err;
}

static void load_meta(struct sim *s, json_t *meta, json_t *next_id)
{
    int64_t next = jint(meta, "nextId");

    if (json_integer_value(next_id) > next)
        next = json_integer_value(next_id);
    if (next > s->next_id)
        s->next_id = next;
    if (!unhex(jstr(meta, "secretKey"), s->secret_key, sizeof(s->secret_key)))
        ap_log_warn("sim.persist", "what=meta err=\"no secret key; client secrets reset\"");
}

/* Appends one stored row to its table (rows come in id order). */
static void load_row(struct sim *s, struct ap_db_rows *r)
{
    struct sim_tenant *t = sim_tenant_find(s, ap_db_row_int(r, 0));
    json_t *row = json_loads(ap_db_row_text(r, 5), 0, NULL);
    enum sim_kind k;

    if (t == NULL || row == NULL || !sim_kind_parse(ap_db_row_text(r, 1), &k)) {
        ap_log_warn("sim.persist", "what=load err=\"skipping an unreadable row\" id=%lld",
                    (long long)ap_db_row_int(r, 2));
        json_decref(row);
        return;
    }
    int64_t id = ap_db_row_int(r, 2);
    size_t at = sim_table_put(t, k, id, row);
    t->tables[k].seq[at] = (uint64_t)ap_db_row_int(r, 3);
    t->tables[k].changed_ns[at] = ap_db_row_int(r, 4);
    if (t->tables[k].seq[at] >= t->next_seq)
        t->next_seq = t->tables[k].seq[at] + 1;
    if (id >= s->next_id)
        s->next_id = id + 1;
}

static enum ap_err load_all(struct sim *s, struct ap_db_conn *c, json_t *portal)
{
    struct ap_db_rows *r;
    enum ap_err err;

    sim_model_drop(s);
    load_tenants(s, json_object_get(portal, "tenants"));
    load_apps(s, json_object_get(portal, "apps"));
    load_conns(s, json_object_get(portal, "conns"));
    load_users(s, json_object_get(portal, "users"));
    load_meta(s, json_object_get(portal, "meta"), json_object_get(portal, "nextId"));
    err = ap_db_query(c,
                      "SELECT tenant, kind, id, seq, changed, body FROM sim_rows"
                      " ORDER BY tenant, kind, id",
                      NULL, 0, &r);
    if (err != AP_OK)
        return err;
    while (ap_db_next(r))
        load_row(s, r);
    err = ap_db_done(r);
    for (size_t i = 0; err == AP_OK && i < s->ntenants; i++)
        sim_index_warm(s->tenants[i]);
    return err;
}

enum ap_err sim_persist_open(struct sim *s, const char *path, char *err, size_t errlen)
{
    struct ap_store *st = ap_store_open_file(path, err, errlen);
    struct ap_db_conn *c = NULL;
    json_t *portal = json_object();
    enum ap_err rc;

    if (st == NULL) {
        rc = AP_EIO;
        goto out;
    }
    rc = ap_store_migrate(st, PERSIST_SCHEMA, 1, NULL, err, errlen);
    if (rc != AP_OK)
        goto out;
    c = ap_store_acquire(st, true);
    rc = portal_read(c, portal);
    if (rc == AP_OK)
        rc = load_all(s, c, portal);
    else if (rc == AP_ENOTFOUND)
        rc = persist_dump(s, c);
    if (rc != AP_OK)
        snprintf(err, errlen, "state file %s cannot be used: %s", path, ap_db_errmsg(c));
out:
    ap_store_release(c);
    json_decref(portal);
    if (rc != AP_OK) {
        ap_store_close(st);
        return rc;
    }
    ap_store_close(s->persist);
    s->persist = st;
    return AP_OK;
}

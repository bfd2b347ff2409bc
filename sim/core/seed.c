/*
 * seed.c — `--seed demo`: the deterministic world stsim starts with.
 *
 *   - tenant 1234567 "Lone Star Comfort & Plumbing" (America/Chicago) with
 *     records from every module (settings, dispatch, crm, jpm — seeded in
 *     that order from one fixed rng seed), and tenant 7654321, empty, for
 *     cross-tenant tests;
 *   - the developer-portal app "appointd-demo" (a booking provider) asking
 *     for every scope the booking product uses (sim_demo_scopes, scopes.c),
 *     added to both tenants; and a second vendor's app,
 *     "fieldpulse-sync", added to the demo tenant, for cross-app tests;
 *   - tenant users for the web pages: "admin" / "demo-admin" (may manage API
 *     application access) and "dispatcher" / "demo-dispatcher" (may not).
 *
 * --connect additionally connects the demo app to the demo tenant with all
 * its scopes and the seeded booking provider tag, and generates a secret
 * (sim_seed_connect).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "sim/core/core_int.h"
#include "sim/core/index.h"
#include "sim/core/seed.h"
#include "sim/crm/crm.h"
#include "sim/dispatch/dispatch.h"
#include "sim/jpm/jpm.h"
#include "sim/settings/settings.h"

#define RNG_SEED 0x5354534d20323032ULL /* "STSM 202" */

static const char *const other_scopes[] = {"tn.crm.customers:r", "tn.jpm.jobs:r",
                                           "tn.settings.technicians:r"};

static size_t count_scopes(const char *const *v)
{
    size_t n = 0;
    while (v[n])
        n++;
    return n;
}

static void add_user(struct sim *s, int64_t tenant, const char *name, const char *pw, bool manage)
{
    s->users = ap_xrealloc(s->users, (s->nusers + 1) * sizeof(*s->users));
    struct sim_user *u = &s->users[s->nusers++];
    memset(u, 0, sizeof(*u));
    u->tenant_id = tenant;
    snprintf(u->username, sizeof(u->username), "%s", name);
    snprintf(u->password, sizeof(u->password), "%s", pw);
    u->manage_api_access = manage;
}

void sim_seed_tenant_records(struct sim *s, struct sim_tenant *t, size_t scale)
{
    struct sim_rng rng = {RNG_SEED ^ (uint64_t)t->id};
    sim_crm_seed_provider_tags(s, t);
    sim_settings_seed(s, t, &rng);
    sim_dispatch_seed(s, t, &rng);
    sim_crm_seed(s, t, &rng, scale ? scale : SIM_SEED_SCALE);
    sim_jpm_seed(s, t, &rng, scale ? scale : SIM_SEED_SCALE);
    sim_index_warm(t);
}

int64_t sim_seed_provider_tag(struct sim_tenant *t)
{
    size_t n = sim_count(t, SIM_BOOKING_PROVIDER_TAG);
    for (size_t i = 0; i < n; i++) {
        const char *name =
            json_string_value(json_object_get(sim_at(t, SIM_BOOKING_PROVIDER_TAG, i), "tagName"));
        if (name && strcasestr(name, "appointd"))
            return sim_row_id(sim_at(t, SIM_BOOKING_PROVIDER_TAG, i));
    }
    return n ? sim_row_id(sim_at(t, SIM_BOOKING_PROVIDER_TAG, 0)) : 0;
}

/*
 * The demo app's key is derived from the process's token key, so it stays the
 * same across control-API resets (clients keep the key of the credentials file).
 */
static void stable_id(struct sim *s, const char *prefix, const char *what, char *out, size_t n)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t mac[AP_CRYPTO_HMAC_LEN];
    ap_crypto_hmac_sha256(s->token_key, sizeof(s->token_key), what, strlen(what), mac);
    char id[30];
    memcpy(id, prefix, 4);
    for (int i = 0; i < 25; i++)
        id[4 + i] = alnum[mac[i] % 36];
    id[29] = '\0';
    snprintf(out, n, "%s", id);
}

static void stable_key(struct sim *s, struct sim_app *a)
{
    stable_id(s, "ak1.", a->id, a->key, sizeof(a->key));
}

void sim_seed_demo(struct sim *s, size_t scale)
{
    struct sim_tenant *demo =
        sim_tenant_add(s, SIM_DEMO_TENANT, "Lone Star Comfort & Plumbing", "America/Chicago");
    struct sim_tenant *empty =
        sim_tenant_add(s, SIM_EMPTY_TENANT, "Empty Test Tenant", "America/New_York");
    if (empty)
        empty->empty = true;
    struct sim_app *app = sim_app_add(s, SIM_DEMO_APP, "appointd Online Booking", sim_demo_scopes,
                                      count_scopes(sim_demo_scopes), true);
    struct sim_app *other = sim_app_add(s, SIM_OTHER_APP, "FieldPulse Sync", other_scopes,
                                        AP_COUNTOF(other_scopes), false);
    struct sim_app *inspector =
        sim_app_add(s, SIM_INSPECTOR_APP, "stsim Inspector (tests)", sim_known_scopes,
                    count_scopes(sim_known_scopes), false);
    if (app) {
        stable_key(s, app);
        sim_app_add_tenant(s, app, SIM_DEMO_TENANT);
        sim_app_add_tenant(s, app, SIM_EMPTY_TENANT);
    }
    if (other) {
        stable_key(s, other);
        sim_app_add_tenant(s, other, SIM_DEMO_TENANT);
    }
    if (inspector) {
        stable_key(s, inspector);
        sim_app_add_tenant(s, inspector, SIM_DEMO_TENANT);
        sim_app_add_tenant(s, inspector, SIM_EMPTY_TENANT);
    }
    add_user(s, SIM_DEMO_TENANT, "admin", "demo-admin", true);
    add_user(s, SIM_DEMO_TENANT, "dispatcher", "demo-dispatcher", false);
    add_user(s, SIM_EMPTY_TENANT, "admin", "demo-admin", true);
    if (demo)
        sim_seed_tenant_records(s, demo, scale);
    sim_persist_portal(s);
}

enum ap_err sim_seed_connect(struct sim *s, char secret_out[64])
{
    struct sim_tenant *t = sim_tenant_find(s, SIM_DEMO_TENANT);
    struct sim_conn *c = sim_conn_get(s, SIM_DEMO_TENANT, SIM_DEMO_APP, true);
    if (!t || !c)
        return AP_ENOTFOUND;
    if (!c->client_id[0]) /* stable across resets, like the app key */
        stable_id(s, "cid.", "demo-connection", c->client_id, sizeof(c->client_id));
    enum ap_err err = sim_conn_allow(s, c, NULL, 0, sim_seed_provider_tag(t));
    if (err == AP_OK)
        err = sim_conn_new_secret(s, c, secret_out);
    if (err == AP_OK)
        sim_persist_portal(s);
    return err;
}

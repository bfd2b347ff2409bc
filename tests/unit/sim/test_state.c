/*
 * test_state.c — unit tests of stsim's model (sim/core/state.c, table.c,
 * persist.c, check.c): the timestamp format and parser, the seed PRNG, record
 * tables (ids, order, lookups, timestamps, removal), client credentials and
 * connections, persistence across a restart, and body validation messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "sim/core/backbone.h"
#include "sim/core/core_int.h"

#define T0 1795886286123456700LL /* 2026-11-28T17:18:06.1234567Z */

static struct sim *new_sim(void)
{
    struct sim_config cfg = {.token_lifetime_s = 900, .capacity_max_days = 14};
    struct sim *s = sim_new(&cfg);

    assert_non_null(s);
    return s;
}

/* ---- time ------------------------------------------------------------------ */

/* stsim's timestamps: ServiceTitan's 7 fractional digits, UTC. */
static void test_time_json(void **state)
{
    static const struct {
        int64_t ns;
        const char *want;
    } cases[] = {
        {T0, "2026-11-28T17:18:06.1234567Z"},
        {0, "1970-01-01T00:00:00.0000000Z"},
        {-1, "1969-12-31T23:59:59.9999999Z"}, /* just before the epoch */
    };

    (void)state;
    for (size_t i = 0; i < AP_COUNTOF(cases); i++) {
        json_t *j = sim_time_json(cases[i].ns);
        assert_string_equal(json_string_value(j), cases[i].want);
        json_decref(j);
    }
}

static void test_time_parse_fractions(void **state)
{
    int64_t ns;
    const int64_t sec = 1795886286LL * 1000000000LL;

    (void)state;
    assert_true(ap_time_parse("2026-11-28T17:18:06.1234567Z", &ns));
    assert_int_equal(ns, T0);
    assert_true(ap_time_parse("2026-11-28T17:18:06Z", &ns));
    assert_int_equal(ns, sec);
    assert_true(ap_time_parse("2026-11-28T17:18:06.1Z", &ns));
    assert_int_equal(ns, sec + 100000000);
    assert_true(ap_time_parse("2026-11-28T17:18:06.123Z", &ns));
    assert_int_equal(ns, sec + 123000000);
    assert_true(ap_time_parse("2026-11-28T17:18:06", &ns)); /* no zone: UTC */
    assert_int_equal(ns, sec);
    assert_true(ap_time_parse("2026-11-28T17:18Z", &ns));
    assert_int_equal(ns, sec - 6LL * 1000000000LL);
    assert_false(ap_time_parse("2026-11-28T17:18:06.12345678Z", &ns)); /* 8 digits */
    assert_false(ap_time_parse("2026-11-28T17:18:06.Z", &ns));
}

static void test_time_parse_offsets_and_dates(void **state)
{
    int64_t ns;
    const int64_t sec = 1795886286LL * 1000000000LL;

    (void)state;
    assert_true(ap_time_parse("2026-11-28T19:18:06+02:00", &ns));
    assert_int_equal(ns, sec);
    assert_true(ap_time_parse("2026-11-28T11:48:06.1234567-05:30", &ns));
    assert_int_equal(ns, T0);
    assert_true(ap_time_parse("2026-11-28T19:18:06+0200", &ns));
    assert_int_equal(ns, sec);
    /* a '+' that a query string turned into a space */
    assert_true(ap_time_parse("2026-11-28T19:18:06 02:00", &ns));
    assert_int_equal(ns, sec);
    assert_true(ap_time_parse("2024-02-29", &ns));
    assert_int_equal(ns, 1709164800LL * 1000000000LL);
    assert_true(ap_time_parse("1970-01-01", &ns));
    assert_int_equal(ns, 0);
}

static void test_time_parse_garbage(void **state)
{
    static const char *const bad[] = {
        "",
        "abc",
        "2026",
        "2026-11",
        "2026-13-01",
        "2026-00-10",
        "2026-02-29",
        "2026-04-31",
        "2026-11-28T",
        "2026-11-28T25:00:00Z",
        "2026-11-28T17:60:00Z",
        "2026-11-28T17:18:61Z",
        "2026-11-28T17:18:06Zjunk",
        "2026-11-28T17:18:06+2",
        "2026-11-28T17:18:06+24:00",
        "2026-11-28 junk",
        "2026-11-28x",
        " 2026-11-28",
        "26-11-28",
        "9999-01-01",
    };
    int64_t ns = 42;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ap_time_parse(bad[i], &ns))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_false(ap_time_parse(NULL, &ns));
    assert_int_equal(ns, 42);
}

static void test_rng_deterministic(void **state)
{
    struct sim_rng a = {7}, b = {7}, c = {8};

    (void)state;
    for (int i = 0; i < 100; i++) {
        uint64_t x = sim_rand(&a);
        assert_int_equal(x, sim_rand(&b));
        assert_int_not_equal(x, sim_rand(&c));
    }
    bool seen_lo = false, seen_hi = false;
    for (int i = 0; i < 1000; i++) {
        int v = sim_rand_range(&a, 3, 6);
        assert_in_range(v, 3, 6);
        seen_lo |= v == 3;
        seen_hi |= v == 6;
    }
    assert_true(seen_lo && seen_hi);
    assert_int_equal(sim_rand_range(&a, 5, 5), 5);
}

/* ---- records ----------------------------------------------------------------- */

static void test_ids_and_order(void **state)
{
    struct sim *s = new_sim();
    struct sim_tenant *t = sim_tenant_add(s, 555, "Acme", "America/Chicago");

    (void)state;
    assert_non_null(t);
    assert_null(sim_tenant_add(s, 555, "Dup", "UTC"));
    int64_t a = sim_add(s, t, SIM_CUSTOMER, json_pack("{ss}", "name", "A"));
    int64_t b = sim_add(s, t, SIM_LOCATION, json_pack("{ss}", "name", "L"));
    int64_t c = sim_add(s, t, SIM_CUSTOMER, json_pack("{ss}", "name", "C"));
    assert_true(a >= 1000000);
    assert_int_equal(b, a + 1); /* one id sequence shared by every kind */
    assert_int_equal(c, a + 2);
    /* a seeded row keeps its id, later ids go past it */
    assert_int_equal(
        sim_add(s, t, SIM_CUSTOMER, json_pack("{sIss}", "id", (json_int_t)500, "name", "Old")),
        500);
    int64_t d = sim_add(s, t, SIM_CUSTOMER,
                        json_pack("{sIss}", "id", (json_int_t)(c + 100), "name", "Far"));
    int64_t e = sim_add(s, t, SIM_CUSTOMER, json_pack("{ss}", "name", "E"));
    assert_int_equal(e, d + 1);

    assert_int_equal(sim_count(t, SIM_CUSTOMER), 5);
    for (size_t i = 1; i < sim_count(t, SIM_CUSTOMER); i++)
        assert_true(sim_row_id(sim_at(t, SIM_CUSTOMER, i - 1)) <
                    sim_row_id(sim_at(t, SIM_CUSTOMER, i)));
    assert_int_equal(sim_row_id(sim_at(t, SIM_CUSTOMER, 0)), 500);
    /* "id" comes first in the stored object */
    void *it = json_object_iter(sim_get(t, SIM_CUSTOMER, a));
    assert_string_equal(json_object_iter_key(it), "id");

    assert_string_equal(json_string_value(json_object_get(sim_get(t, SIM_CUSTOMER, c), "name")),
                        "C");
    assert_null(sim_get(t, SIM_CUSTOMER, b)); /* b is a location */
    assert_non_null(sim_get(t, SIM_LOCATION, b));
    assert_null(sim_get(t, SIM_CUSTOMER, 999));

    sim_remove(s, t, SIM_CUSTOMER, c);
    assert_null(sim_get(t, SIM_CUSTOMER, c));
    assert_int_equal(sim_count(t, SIM_CUSTOMER), 4);
    assert_non_null(sim_get(t, SIM_CUSTOMER, d));
    assert_non_null(sim_get(t, SIM_CUSTOMER, 500));
    sim_remove(s, t, SIM_CUSTOMER, c); /* twice: nothing happens */
    assert_int_equal(sim_count(t, SIM_CUSTOMER), 4);
    sim_free(s);
}

static void test_timestamps_per_kind(void **state)
{
    struct sim *s = new_sim();
    struct sim_tenant *t = sim_tenant_add(s, 1, "T", "UTC");
    char want[40];

    (void)state;
    ap_clock_fake_begin(T0, 1000);
    snprintf(want, sizeof(want), "%s", "2026-11-28T17:18:06.1234567Z");
    int64_t cu = sim_add(s, t, SIM_CUSTOMER, json_object());
    int64_t aw = sim_add(s, t, SIM_ARRIVAL_WINDOW, json_object());
    int64_t bc = sim_add(s, t, SIM_BOOKING_CONTACT, json_object());
    int64_t bh = sim_add(s, t, SIM_BUSINESS_HOURS, json_pack("{s[]}", "weekdays"));
    json_t *row = sim_get(t, SIM_CUSTOMER, cu);
    assert_string_equal(json_string_value(json_object_get(row, "createdOn")), want);
    assert_string_equal(json_string_value(json_object_get(row, "modifiedOn")), want);
    assert_null(json_object_get(sim_get(t, SIM_ARRIVAL_WINDOW, aw), "createdOn"));
    assert_null(json_object_get(sim_get(t, SIM_ARRIVAL_WINDOW, aw), "modifiedOn"));
    assert_null(json_object_get(sim_get(t, SIM_BOOKING_CONTACT, bc), "createdOn"));
    assert_non_null(json_object_get(sim_get(t, SIM_BOOKING_CONTACT, bc), "modifiedOn"));
    /* business hours have no id in the schema: the id is hidden */
    json_t *hours = sim_get(t, SIM_BUSINESS_HOURS, bh);
    assert_non_null(hours);
    assert_null(json_object_get(hours, "id"));
    json_t *pub = sim_public(hours);
    assert_int_equal(json_object_size(pub), 1);
    json_decref(pub);

    /* a seed's own timestamps stay */
    int64_t old =
        sim_add(s, t, SIM_CUSTOMER, json_pack("{ss}", "createdOn", "2020-01-01T00:00:00.0000000Z"));
    assert_string_equal(
        json_string_value(json_object_get(sim_get(t, SIM_CUSTOMER, old), "createdOn")),
        "2020-01-01T00:00:00.0000000Z");

    /* touch: new change sequence; modifiedOn only when asked */
    uint64_t seq0 = t->tables[SIM_CUSTOMER].seq[0];
    ap_clock_fake_advance(5000000000LL);
    sim_touch(s, t, SIM_CUSTOMER, row, false);
    assert_string_equal(json_string_value(json_object_get(row, "modifiedOn")), want);
    assert_true(t->tables[SIM_CUSTOMER].seq[0] > seq0);
    sim_touch(s, t, SIM_CUSTOMER, row, true);
    snprintf(want, sizeof(want), "%s", "2026-11-28T17:18:11.1234567Z");
    assert_string_equal(json_string_value(json_object_get(row, "modifiedOn")), want);
    ap_clock_fake_end();
    sim_free(s);
}

static void test_public_hides_bookkeeping(void **state)
{
    json_t *row = json_pack("{sI si s{si si} s[{si si}]}", "id", (json_int_t)1, "_providerId", 9,
                            "nested", "a", 1, "_b", 2, "list", "x", 1, "_y", 2);
    json_t *pub = sim_public(row);

    (void)state;
    assert_null(json_object_get(pub, "_providerId"));
    assert_non_null(json_object_get(pub, "id"));
    assert_null(json_object_get(json_object_get(pub, "nested"), "_b"));
    assert_null(json_object_get(json_array_get(json_object_get(pub, "list"), 0), "_y"));
    /* a copy: changing it leaves the row alone */
    json_object_set_new(json_object_get(pub, "nested"), "a", json_integer(5));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(row, "nested"), "a")), 1);
    assert_non_null(json_object_get(row, "_providerId"));
    json_decref(pub);
    json_decref(row);
}

/* ---- apps, connections, secrets ------------------------------------------------ */

static const char *const APP_SCOPES[] = {"tn.crm.customers:r", "tn.crm.customers:w",
                                         "tn.jpm.jobs:w"};

static bool all_alnum(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
            return false;
    }
    return p[n] == '\0';
}

static void test_conn_allow(void **state)
{
    struct sim *s = new_sim();
    struct sim_app *a = sim_app_add(s, "demo", "Demo", APP_SCOPES, 3, true);
    const char *const sub[] = {"tn.crm.customers:r"};
    const char *const extra[] = {"tn.crm.customers:r", "tn.acc.invoices:r"};

    (void)state;
    sim_tenant_add(s, 42, "T", "UTC");
    assert_non_null(a);
    assert_memory_equal(a->key, "ak1.", 4);
    assert_true(all_alnum(a->key + 4, 25));
    assert_ptr_equal(sim_app_by_key(s, a->key), a);
    assert_null(sim_app_add(s, "demo", "Again", APP_SCOPES, 3, false));

    struct sim_conn *c = sim_conn_get(s, 42, "demo", true);
    assert_non_null(c);
    assert_ptr_equal(sim_conn_get(s, 42, "demo", false), c);
    assert_null(sim_conn_get(s, 43, "demo", false));
    assert_int_equal(sim_conn_allow(s, c, NULL, 0, 0), AP_EPERM); /* app not added */
    assert_int_equal(c->state, SIM_CONN_NOT_CONNECTED);
    sim_app_add_tenant(s, a, 42);
    sim_app_add_tenant(s, a, 42);
    assert_int_equal(a->ntenants, 1);
    assert_int_equal(sim_conn_allow(s, c, extra, 2, 0), AP_EINVAL); /* not the app's */
    assert_int_equal(sim_conn_allow(s, c, sub, 1, 777), AP_OK);
    assert_int_equal(c->state, SIM_CONN_CONNECTED);
    assert_int_equal(c->booking_provider_id, 777);
    assert_true(sim_conn_has_scope(c, "tn.crm.customers:r"));
    assert_false(sim_conn_has_scope(c, "tn.jpm.jobs:w"));
    assert_memory_equal(c->client_id, "cid.", 4);
    assert_true(all_alnum(c->client_id + 4, 25));
    assert_ptr_equal(sim_conn_by_client_id(s, c->client_id), c);
    char cid[48];
    memcpy(cid, c->client_id, sizeof(cid));

    /* new scopes → new version; the tenant keeps its grant until it upgrades */
    const char *const more[] = {"tn.crm.customers:r", "tn.crm.customers:w", "tn.jpm.jobs:w",
                                "tn.dis.capacity:w"};
    sim_app_set_scopes(s, a, more, 4);
    assert_int_equal(a->version, 2);
    sim_app_set_scopes(s, a, more, 4);
    assert_int_equal(a->version, 2);
    assert_int_equal(c->version, 1);
    assert_false(sim_conn_has_scope(c, "tn.dis.capacity:w"));
    sim_conn_upgrade(s, c);
    assert_int_equal(c->version, 2);
    assert_true(sim_conn_has_scope(c, "tn.dis.capacity:w"));
    /* allowing again keeps the client id */
    assert_int_equal(sim_conn_allow(s, c, NULL, 0, 0), AP_OK);
    assert_string_equal(c->client_id, cid);
    assert_int_equal(c->nscopes, 4);
    sim_free(s);
}

static void test_secrets(void **state)
{
    struct sim *s = new_sim();
    struct sim_app *a = sim_app_add(s, "demo", "Demo", APP_SCOPES, 3, false);
    char first[64], second[64];

    (void)state;
    sim_tenant_add(s, 42, "T", "UTC");
    sim_app_add_tenant(s, a, 42);
    struct sim_conn *c = sim_conn_get(s, 42, "demo", true);
    assert_int_equal(sim_conn_new_secret(s, c, first), AP_EPERM); /* not connected yet */
    assert_false(sim_conn_check_secret(s, c, ""));
    assert_int_equal(sim_conn_allow(s, c, NULL, 0, 0), AP_OK);
    assert_int_equal(sim_conn_new_secret(s, c, first), AP_OK);
    assert_memory_equal(first, "cs2.", 4);
    assert_true(all_alnum(first + 4, 50));
    assert_true(sim_conn_check_secret(s, c, first));
    assert_false(sim_conn_check_secret(s, c, "cs2.wrong"));
    assert_false(sim_conn_check_secret(s, c, NULL));
    /* the secret itself is not kept */
    assert_null(memmem(c, sizeof(*c), first + 4, 50));

    assert_int_equal(sim_conn_new_secret(s, c, second), AP_OK);
    assert_string_not_equal(first, second);
    assert_false(sim_conn_check_secret(s, c, first));
    assert_true(sim_conn_check_secret(s, c, second));
    sim_free(s);
}

static void test_users_and_reset(void **state)
{
    struct sim *s = new_sim();

    (void)state;
    sim_tenant_add(s, 42, "T", "UTC");
    sim_user_add(s, 42, "admin", "pw", true);
    sim_user_add(s, 42, "tech", "pw2", false);
    assert_non_null(sim_user_find(s, 42, "ADMIN"));
    assert_false(sim_user_find(s, 0, "tech")->manage_api_access);
    assert_null(sim_user_find(s, 43, "admin"));
    sim_add(s, sim_tenant_find(s, 42), SIM_CUSTOMER, json_object());
    sim_reset(s);
    assert_int_equal(s->ntenants, 0);
    assert_int_equal(s->nusers, 0);
    assert_null(sim_tenant_find(s, 42));
    sim_free(s);
}

/* ---- persistence --------------------------------------------------------------- */

static void test_persist_round_trip(void **state)
{
    char dir[] = "/tmp/simtest.XXXXXX", path[64], err[256], secret[64], cid[48];
    struct sim *s = new_sim();
    int64_t ids[3];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/state.db", dir);
    assert_int_equal(sim_persist_open(s, path, err, sizeof(err)), AP_OK);
    assert_int_equal(s->ntenants, 0); /* nothing to load */
    struct sim_tenant *t = sim_tenant_add(s, 42, "Acme", "America/Chicago");
    struct sim_app *a = sim_app_add(s, "demo", "Demo", APP_SCOPES, 3, true);
    sim_app_add_tenant(s, a, 42);
    struct sim_conn *c = sim_conn_get(s, 42, "demo", true);
    assert_int_equal(sim_conn_allow(s, c, NULL, 0, 9), AP_OK);
    assert_int_equal(sim_conn_new_secret(s, c, secret), AP_OK);
    memcpy(cid, c->client_id, sizeof(cid));
    sim_user_add(s, 42, "admin", "pw", true);
    ids[0] = sim_add(s, t, SIM_CUSTOMER, json_pack("{ss sb}", "name", "A", "active", 1));
    ids[1] = sim_add(s, t, SIM_CUSTOMER, json_pack("{ss sb}", "name", "B", "active", 0));
    ids[2] = sim_add(s, t, SIM_JOB, json_pack("{sI}", "customerId", (json_int_t)ids[0]));
    sim_add(s, t, SIM_CUSTOMER, json_pack("{ss}", "name", "gone"));
    sim_remove(s, t, SIM_CUSTOMER, ids[2] + 1);
    json_object_set_new(sim_get(t, SIM_CUSTOMER, ids[1]), "name", json_string("B2"));
    sim_touch(s, t, SIM_CUSTOMER, sim_get(t, SIM_CUSTOMER, ids[1]), true);
    json_t *before = sim_public(sim_get(t, SIM_CUSTOMER, ids[1]));
    int64_t next_id = s->next_id;
    uint64_t seq_b = t->tables[SIM_CUSTOMER].seq[1];
    sim_free(s);

    s = new_sim();
    assert_int_equal(sim_persist_open(s, path, err, sizeof(err)), AP_OK);
    t = sim_tenant_find(s, 42);
    assert_non_null(t);
    assert_string_equal(t->tz, "America/Chicago");
    assert_int_equal(s->next_id, next_id);
    assert_int_equal(sim_count(t, SIM_CUSTOMER), 2);
    assert_int_equal(sim_count(t, SIM_JOB), 1);
    assert_true(json_equal(before, sim_get(t, SIM_CUSTOMER, ids[1])));
    assert_int_equal(t->tables[SIM_CUSTOMER].seq[1], seq_b);
    assert_null(sim_get(t, SIM_CUSTOMER, ids[2] + 1));
    c = sim_conn_by_client_id(s, cid);
    assert_non_null(c);
    assert_int_equal(c->state, SIM_CONN_CONNECTED);
    assert_int_equal(c->booking_provider_id, 9);
    assert_true(sim_conn_has_scope(c, "tn.jpm.jobs:w"));
    assert_true(sim_conn_check_secret(s, c, secret)); /* the hash key was kept */
    assert_non_null(sim_app_by_key(s, sim_app_find(s, "demo")->key));
    assert_true(sim_app_has_tenant(sim_app_find(s, "demo"), 42));
    assert_non_null(sim_user_find(s, 42, "admin"));
    /* new rows continue the sequences */
    assert_int_equal(sim_add(s, t, SIM_CUSTOMER, json_object()), next_id);
    assert_true(t->tables[SIM_CUSTOMER].seq[2] > seq_b);
    json_decref(before);
    sim_free(s);

    /* without a state file nothing is written */
    s = new_sim();
    sim_tenant_add(s, 1, "x", "UTC");
    assert_null(s->persist);
    sim_free(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_persist_bad_file(void **state)
{
    char dir[] = "/tmp/simtest.XXXXXX", path[64], err[256] = "";
    struct sim *s = new_sim();

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/junk.db", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not a database, not at all, it is plain text......", f);
    fclose(f);
    assert_int_not_equal(sim_persist_open(s, path, err, sizeof(err)), AP_OK);
    assert_non_null(strstr(err, path));
    assert_null(s->persist);
    sim_free(s);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

/* ---- body validation ----------------------------------------------------------- */

static const char *first_msg(json_t *errors, const char *key)
{
    return json_string_value(json_array_get(json_object_get(errors, key), 0));
}

static void test_check_messages(void **state)
{
    static const struct sim_field F[] = {
        {"name", SIM_F_STR, true, false},    {"count", SIM_F_INT, false, false},
        {"price", SIM_F_NUM, false, false},  {"flag", SIM_F_BOOL, false, false},
        {"start", SIM_F_TIME, false, false}, {"address", SIM_F_OBJ, false, true},
        {"tags", SIM_F_ARR, false, false},   {"extra", SIM_F_ANY, false, false},
    };
    const size_t n = sizeof(F) / sizeof(F[0]);
    json_t *errors = json_object();
    json_t *ok = json_pack("{ss si sf sb ss sn s[] s{}}", "name", "x", "count", 3, "price", 1.5,
                           "flag", 1, "start", "2026-01-01T10:00:00Z", "address", "tags", "extra");

    (void)state;
    assert_true(sim_check(ok, "", F, n, errors));
    assert_int_equal(json_object_size(errors), 0);
    json_decref(ok);

    json_t *bad = json_pack("{sb sf si ss ss si ss sn}", "name", 1, "count", 1.5, "price", 1,
                            "flag", "yes", "start", "tomorrow", "address", 1, "tags", "x", "bogus");
    assert_false(sim_check(bad, "locations[0].", F, n, errors));
    assert_string_equal(first_msg(errors, "locations[0].name"), "Expected a string.");
    assert_string_equal(first_msg(errors, "locations[0].count"), "Expected an integer.");
    assert_null(json_object_get(errors, "locations[0].price")); /* an integer is a number */
    assert_string_equal(first_msg(errors, "locations[0].flag"), "Expected a boolean.");
    assert_string_equal(first_msg(errors, "locations[0].start"),
                        "The value is not a valid date-time.");
    assert_string_equal(first_msg(errors, "locations[0].address"), "Expected an object.");
    assert_string_equal(first_msg(errors, "locations[0].tags"), "Expected an array.");
    assert_null(json_object_get(errors, "locations[0].bogus")); /* ignored, as ASP.NET does */
    assert_null(json_object_get(bad, "bogus"));
    json_decref(bad);
    json_object_clear(errors);

    json_t *missing = json_pack("{sn sn}", "name", "count");
    assert_false(sim_check(missing, "", F, n, errors));
    assert_string_equal(first_msg(errors, "name"), "The field is required.");
    assert_string_equal(first_msg(errors, "count"), "Expected an integer."); /* not nullable */
    assert_int_equal(json_object_size(errors), 2);
    json_decref(missing);
    json_object_clear(errors);

    json_t *arr = json_array();
    assert_false(sim_check(arr, "customer.address.", F, n, errors));
    assert_string_equal(first_msg(errors, "customer.address"), "Expected an object.");
    json_decref(arr);
    json_decref(errors);
}

/* Binding as ASP.NET Core's Json.NET does: names in any case, scalars converted. */
static void test_check_binding(void **state)
{
    static const struct sim_field F[] = {
        {"name", SIM_F_STR, true, false},  {"count", SIM_F_INT, false, true},
        {"price", SIM_F_NUM, false, true}, {"flag", SIM_F_BOOL, false, true},
        {"zip", SIM_F_STR, false, true},
    };
    json_t *errors = json_object(), *ignored = json_array();
    json_t *b = json_pack("{ss ss ss ss si ss}", "Name", "x", "COUNT", "42", "price", "1.5", "Flag",
                          "False", "zip", 62701, "Extra", "y");

    (void)state;
    sim_check_collect(ignored);
    assert_true(sim_check(b, "locations[1].", F, AP_COUNTOF(F), errors));
    sim_check_collect(NULL);
    assert_int_equal(json_object_size(errors), 0);
    assert_string_equal(json_string_value(json_object_get(b, "name")), "x");
    assert_int_equal(json_integer_value(json_object_get(b, "count")), 42);
    assert_true(json_real_value(json_object_get(b, "price")) == 1.5);
    assert_true(json_is_false(json_object_get(b, "flag")));
    assert_string_equal(json_string_value(json_object_get(b, "zip")), "62701");
    assert_null(json_object_get(b, "Name"));
    assert_null(json_object_get(b, "Extra"));
    assert_int_equal(json_array_size(ignored), 1);
    assert_string_equal(json_string_value(json_array_get(ignored, 0)), "locations[1].Extra");
    json_decref(b);
    /* what does not convert stays an error: not a number, not a boolean, 2.5 for an integer */
    b = json_pack("{ss ss sf ss}", "name", "x", "count", "4x", "price", 2.5, "flag", "yes");
    json_object_set_new(b, "count", json_string("4x"));
    assert_false(sim_check(b, "", F, AP_COUNTOF(F), errors));
    assert_string_equal(first_msg(errors, "count"), "Expected an integer.");
    assert_string_equal(first_msg(errors, "flag"), "Expected a boolean.");
    json_decref(b);
    json_object_clear(errors);
    b = json_pack("{ss sf}", "name", "x", "count", 2.5);
    assert_false(sim_check(b, "", F, AP_COUNTOF(F), errors));
    assert_string_equal(first_msg(errors, "count"), "Expected an integer.");
    json_decref(b);
    json_decref(ignored);
    json_decref(errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_json),
        cmocka_unit_test(test_time_parse_fractions),
        cmocka_unit_test(test_time_parse_offsets_and_dates),
        cmocka_unit_test(test_time_parse_garbage),
        cmocka_unit_test(test_rng_deterministic),
        cmocka_unit_test(test_ids_and_order),
        cmocka_unit_test(test_timestamps_per_kind),
        cmocka_unit_test(test_public_hides_bookkeeping),
        cmocka_unit_test(test_conn_allow),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_users_and_reset),
        cmocka_unit_test(test_persist_round_trip),
        cmocka_unit_test(test_persist_bad_file),
        cmocka_unit_test(test_check_messages),
        cmocka_unit_test(test_check_binding),
    };

    ap_log_set_level(AP_LOG_OFF);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

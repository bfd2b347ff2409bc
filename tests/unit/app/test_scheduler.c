/*
 * test_scheduler.c — the scheduler JSON checked against a catalog, stored
 * schedulers per account, and what a booking asks of a scheduler (service,
 * origin, ZIP, blackout, campaign by attribution). The catalog rows are
 * written straight into a temporary store, as a refresh would leave them.
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

#include "app/app.h"
#include "app/catalog.h"
#include "app/scheduler.h"
#include "db/store.h"

struct fx {
    char dir[64];
    struct ap_store *st;
    struct ap_account a, b;
    char err[300];
};

static void add_item(struct fx *f, int64_t account, const char *kind, int64_t id, const char *name,
                     int active, int deleted, const char *data)
{
    struct ap_db_conn *c = ap_store_acquire(f->st, true);
    struct ap_db_val v[7] = {ap_db_int(account), ap_db_text(kind),  ap_db_int(id),
                             ap_db_text(name),   ap_db_int(active), ap_db_int(deleted),
                             ap_db_text(data)};
    assert_int_equal(ap_db_exec(c,
                                "INSERT INTO st_catalog (account_id, kind, st_id, name, active, "
                                "deleted, data, refreshed_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
                                "'2026-12-01T00:00:00.000Z')",
                                v, 7),
                     AP_OK);
    ap_store_release(c);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/ap-sched-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->st = ap_store_open(f->dir, f->err, sizeof(f->err));
    assert_non_null(f->st);
    assert_int_equal(
        ap_store_migrate(f->st, ap_db_migrations, ap_db_nmigrations, NULL, f->err, sizeof(f->err)),
        AP_OK);
    assert_int_equal(ap_account_create(f->st, "Acme Heating", &f->a, f->err, sizeof(f->err)), 0);
    assert_int_equal(ap_account_create(f->st, "Bolt Plumbing", &f->b, f->err, sizeof(f->err)), 0);
    int64_t a = f->a.id;
    add_item(f, a, "business_unit", 1, "HVAC Service", 1, 0, "{\"id\":1}");
    add_item(f, a, "business_unit", 2, "Old Unit", 0, 0, "{\"id\":2}");
    add_item(f, a, "business_unit", 3, "Plumbing", 1, 0, "{\"id\":3}");
    add_item(f, a, "job_type", 10, "AC Repair", 1, 0,
             "{\"id\":10,\"duration\":7200,\"businessUnitIds\":[1]}");
    add_item(f, a, "job_type", 11, "Furnace Tune-up", 0, 0, "{\"id\":11,\"duration\":3600}");
    add_item(f, a, "job_type", 12, "Duct Cleaning", 1, 1, "{\"id\":12}");
    add_item(f, a, "campaign", 100, "Website", 1, 0, "{\"id\":100}");
    add_item(f, a, "campaign", 101, "Google Ads", 1, 0, "{\"id\":101}");
    add_item(f, a, "campaign", 102, "Radio 2019", 0, 0, "{\"id\":102}");
    add_item(f, a, "tag_type", 5, "Online booking", 1, 0, "{\"id\":5}");
    add_item(f, a, "zone", 7, "North Dallas", 1, 0, "{\"id\":7,\"zips\":[\"75001\",\"75002\"]}");
    add_item(f, a, "booking_provider_tag", 900, "appointd", 1, 0, "{\"id\":900}");
    /* the other account has none of these */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char p[128];
    ap_store_close(f->st);
    for (const char *const *n =
             (const char *const[]){"appointd.db", "appointd.db-wal", "appointd.db-shm", NULL};
         *n; n++) {
        snprintf(p, sizeof(p), "%s/%s", f->dir, *n);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static const char good[] =
    "{\"name\": \"Main website\", \"timeZone\": \"America/Chicago\","
    " \"allowedOrigins\": [\"https://Lonestar.example\"],"
    " \"services\": [{\"id\": \"ac-repair\", \"label\": \"AC repair\", \"jobTypeId\": 10,"
    "                 \"businessUnitId\": 1, \"question\": \"Is it blowing warm air?\"}],"
    " \"rules\": {\"blackoutDates\": [\"2026-12-25\"]},"
    " \"serviceArea\": {\"zips\": [\"75001\", \"75002-1234\"]},"
    " \"campaignId\": 100,"
    " \"campaignRules\": [{\"match\": {\"utm_source\": \"google\", \"utm_medium\": \"cpc\"},"
    "                      \"campaignId\": 101}, {\"match\": {\"gclid\": \"*\"}, \"campaignId\": "
    "101}],"
    " \"tagTypeIds\": [5], \"phone\": \"(214) 555-0100\"}";

static json_t *cfg_with(const char *base, const char *path, json_t *value)
{
    json_t *j = json_loads(base, 0, NULL);
    assert_non_null(j);
    if (path) {
        /* path: "key" or "services[0].key" */
        json_t *o = j;
        char buf[64], *dot;
        snprintf(buf, sizeof(buf), "%s", path);
        if ((dot = strchr(buf, '.'))) {
            *dot = '\0';
            o = json_array_get(json_object_get(j, "services"), 0);
            path = dot + 1;
            if (strncmp(buf, "services", 8) != 0)
                o = json_object_get(j, buf);
        } else {
            path = buf;
        }
        if (value)
            json_object_set_new(o, path, value);
        else
            json_object_del(o, path);
    }
    return j;
}

static void expect_refusal(struct fx *f, json_t *cfg, const char *field, const char *needle)
{
    struct ap_sched *s = NULL;
    struct ap_json_error e = {0};
    enum ap_err err = ap_sched_create(f->st, f->a.id, cfg, &s, &e);
    json_decref(cfg);
    if (err != AP_EINVAL || s)
        fail_msg("accepted (err %d) where %s should be refused", err, field);
    if (strcmp(e.field, field) != 0 || !strstr(e.message, needle))
        fail_msg("field '%s' message '%s'; wanted field '%s' and '%s'", e.field, e.message, field,
                 needle);
    struct ap_sched **v;
    size_t n;
    assert_int_equal(ap_sched_list(f->st, f->a.id, &v, &n), AP_OK);
    assert_int_equal(n, 0); /* nothing stored */
    ap_sched_list_free(v, n);
}

static void test_create_normalises(void **state)
{
    struct fx *f = *state;
    struct ap_sched *s = NULL, *g = NULL;
    struct ap_json_error e = {0};
    json_t *cfg = cfg_with(good, NULL, NULL);

    assert_int_equal(ap_sched_create(f->st, f->a.id, cfg, &s, &e), AP_OK);
    json_decref(cfg);
    assert_true(strncmp(s->key, "sch_", 4) == 0 && strlen(s->key) == 26);
    assert_int_equal(s->services[0].duration_s, 7200);
    assert_string_equal(s->origins[0], "https://lonestar.example");
    assert_string_equal(s->zips[1], "75002");
    assert_string_equal(s->phone, "+12145550100");
    assert_int_equal(s->min_notice_min, 120); /* defaults */
    assert_int_equal(s->horizon_days, 14);
    assert_string_equal(s->button_label, "Book online");

    assert_int_equal(ap_sched_get(f->st, f->a.id, s->key, &g), AP_OK);
    json_t *a = ap_sched_config_json(s), *b = ap_sched_config_json(g);
    assert_true(json_equal(a, b));
    assert_string_equal(json_string_value(json_object_get(b, "capacity")), "servicetitan");
    json_decref(a);
    json_decref(b);
    ap_sched_free(g);
    /* another account cannot see it; the public lookup (0) can */
    assert_int_equal(ap_sched_get(f->st, f->b.id, s->key, &g), AP_ENOTFOUND);
    assert_int_equal(ap_sched_get(f->st, 0, s->key, &g), AP_OK);
    ap_sched_free(g);
    ap_sched_free(s);
}

static void test_catalog_refusals_name_the_field(void **state)
{
    struct fx *f = *state;

    expect_refusal(f, cfg_with(good, "services[0].jobTypeId", json_integer(123)),
                   "services[0].jobTypeId", "job type 123 does not exist in ServiceTitan");
    expect_refusal(f, cfg_with(good, "services[0].jobTypeId", json_integer(11)),
                   "services[0].jobTypeId", "job type 11 (Furnace Tune-up) is inactive");
    expect_refusal(f, cfg_with(good, "services[0].jobTypeId", json_integer(12)),
                   "services[0].jobTypeId", "was deleted in ServiceTitan");
    expect_refusal(f, cfg_with(good, "services[0].businessUnitId", json_integer(2)),
                   "services[0].businessUnitId", "business unit 2 (Old Unit) is inactive");
    expect_refusal(f, cfg_with(good, "services[0].businessUnitId", json_integer(3)),
                   "services[0].businessUnitId", "is not offered by business unit 3");
    expect_refusal(f, cfg_with(good, "campaignId", json_integer(102)), "campaignId",
                   "campaign 102 (Radio 2019) is inactive");
    expect_refusal(f, cfg_with(good, "tagTypeIds", json_pack("[i]", 6)), "tagTypeIds[0]",
                   "tag type 6 does not exist");
}

static void test_shape_refusals(void **state)
{
    struct fx *f = *state;

    expect_refusal(f, cfg_with(good, "timeZone", json_string("America/Chicag")), "timeZone",
                   "not an IANA time zone");
    expect_refusal(f, cfg_with(good, "timeZone", NULL), "timeZone", "is required");
    expect_refusal(f, cfg_with(good, "mode", json_string("jobs")), "mode", "not a mode");
    expect_refusal(f, cfg_with(good, "colour", json_string("red")), "colour", "unknown field");
    expect_refusal(f, cfg_with(good, "allowedOrigins", json_pack("[s]", "https://x.example/path")),
                   "allowedOrigins[0]", "scheme and host, no path");
    expect_refusal(f, cfg_with(good, "serviceArea", json_pack("{s:[s]}", "zips", "7500")),
                   "serviceArea.zips[0]", "ZIP code");
    expect_refusal(f, cfg_with(good, "serviceArea", json_object()), "serviceArea", "either");
    expect_refusal(f, cfg_with(good, "rules", json_pack("{s:i}", "horizonDays", 0)),
                   "rules.horizonDays", "");
    expect_refusal(f, cfg_with(good, "rules", json_pack("{s:[s]}", "blackoutDates", "12/25")),
                   "rules.blackoutDates[0]", "2026-12-25");
    expect_refusal(f, cfg_with(good, "services[0].id", json_string("AC Repair")), "services[0].id",
                   "lowercase");
    expect_refusal(f, cfg_with(good, "services[0].priority", json_string("ASAP")),
                   "services[0].priority", "not a priority");
    expect_refusal(f, cfg_with(good, "phone", json_string("555-0100")), "phone", "10-digit");
    expect_refusal(f, cfg_with(good, "capacity", json_string("local")), "capacity", "perWindow");
    expect_refusal(f, cfg_with(good, "services", json_array()), "services", "at least one");
    expect_refusal(f, cfg_with(good, "campaignId", json_string("100")), "campaignId", "expected");
}

static void test_zones_and_booking_mode(void **state)
{
    struct fx *f = *state;
    struct ap_sched *s = NULL;
    struct ap_json_error e = {0};
    struct ap_catalog *cat = ap_catalog_load(f->st, f->a.id);
    json_t *cfg = cfg_with(good, "serviceArea", json_pack("{s:s}", "zones", "servicetitan"));

    json_object_set_new(cfg, "mode", json_string("booking"));
    assert_int_equal(ap_sched_create(f->st, f->a.id, cfg, &s, &e), AP_OK);
    json_decref(cfg);
    assert_int_equal(s->booking_provider_tag_id, 900); /* the only active tag */
    assert_true(ap_sched_zip_served(s, cat, "75001"));
    assert_true(ap_sched_zip_served(s, cat, "75002-9999"));
    assert_false(ap_sched_zip_served(s, cat, "73301"));
    ap_sched_free(s);
    ap_catalog_free(cat);

    /* the other account has no zones and no tags in its catalog */
    cfg = cfg_with(good, "serviceArea", json_pack("{s:s}", "zones", "servicetitan"));
    assert_int_equal(ap_sched_create(f->st, f->b.id, cfg, &s, &e), AP_EINVAL);
    assert_string_equal(e.field, "services[0].jobTypeId");
    json_decref(cfg);
}

static void test_two_schedulers_update_and_pause(void **state)
{
    struct fx *f = *state;
    struct ap_sched *s1, *s2, *u, **v;
    struct ap_json_error e = {0};
    size_t n;
    json_t *cfg = cfg_with(good, NULL, NULL);

    assert_int_equal(ap_sched_create(f->st, f->a.id, cfg, &s1, &e), AP_OK);
    json_object_set_new(cfg, "name", json_string("AC landing page"));
    assert_int_equal(ap_sched_create(f->st, f->a.id, cfg, &s2, &e), AP_OK);
    assert_string_not_equal(s1->key, s2->key);
    assert_int_equal(ap_sched_list(f->st, f->a.id, &v, &n), AP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0]->name, "AC landing page");
    ap_sched_list_free(v, n);

    json_object_set_new(cfg, "name", json_string("Main site (new)"));
    assert_int_equal(ap_sched_update(f->st, f->a.id, s1->key, cfg, &u, &e), AP_OK);
    assert_string_equal(u->key, s1->key);
    ap_sched_free(u);
    assert_int_equal(ap_sched_update(f->st, f->b.id, s1->key, cfg, &u, &e), AP_ENOTFOUND);
    /* a refused update leaves the stored one as it was */
    json_object_set_new(cfg, "campaignId", json_integer(102));
    assert_int_equal(ap_sched_update(f->st, f->a.id, s1->key, cfg, &u, &e), AP_EINVAL);
    assert_int_equal(ap_sched_get(f->st, f->a.id, s1->key, &u), AP_OK);
    assert_string_equal(u->name, "Main site (new)");
    assert_int_equal(u->campaign_id, 100);
    ap_sched_free(u);

    assert_int_equal(ap_sched_set_paused(f->st, f->a.id, s2->key, true), AP_OK);
    assert_int_equal(ap_sched_get(f->st, 0, s2->key, &u), AP_OK);
    assert_true(u->paused);
    ap_sched_free(u);
    assert_int_equal(ap_sched_set_paused(f->st, f->b.id, s2->key, false), AP_ENOTFOUND);
    json_decref(cfg);
    ap_sched_free(s1);
    ap_sched_free(s2);
}

static void test_booking_questions(void **state)
{
    struct fx *f = *state;
    struct ap_sched *s;
    struct ap_json_error e = {0};
    json_t *cfg = cfg_with(good, NULL, NULL);

    assert_int_equal(ap_sched_parse(cfg, NULL, &s, &e), AP_OK);
    json_decref(cfg);
    assert_non_null(ap_sched_service(s, "ac-repair"));
    assert_null(ap_sched_service(s, "plumbing"));
    assert_true(ap_sched_origin_allowed(s, "https://lonestar.example"));
    assert_false(ap_sched_origin_allowed(s, "http://lonestar.example"));
    assert_false(ap_sched_origin_allowed(s, "https://evil.example"));
    assert_true(ap_sched_blackout(s, (struct ap_date){2026, 12, 25}));
    assert_false(ap_sched_blackout(s, (struct ap_date){2026, 12, 24}));

    json_t *attr = json_pack("{s:s, s:s}", "utm_source", "Google", "utm_medium", "cpc");
    assert_int_equal(ap_sched_campaign_for(s, attr), 101);
    json_decref(attr);
    attr = json_pack("{s:s}", "utm_source", "google");
    assert_int_equal(ap_sched_campaign_for(s, attr), 100); /* medium missing: default */
    json_decref(attr);
    attr = json_pack("{s:s}", "gclid", "abc");
    assert_int_equal(ap_sched_campaign_for(s, attr), 101);
    json_decref(attr);
    assert_int_equal(ap_sched_campaign_for(s, NULL), 100);

    json_t *pub = ap_sched_public_json(s);
    assert_null(json_object_get(pub, "campaignId"));
    assert_null(json_object_get(json_array_get(json_object_get(pub, "services"), 0), "jobTypeId"));
    assert_non_null(json_object_get(pub, "branding"));
    json_decref(pub);
    (void)f;
    ap_sched_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_normalises, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog_refusals_name_the_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shape_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zones_and_booking_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_schedulers_update_and_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_booking_questions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

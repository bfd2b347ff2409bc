/*
 * test_list.c — unit tests of the request-independent parts of stsim's lists
 * and export feeds (sim/core/list.c through sim/core/list_int.h): parameter parsing and
 * its 400 errors, the generic filters, sorting, the page envelope, export
 * continuation tokens, batches and the visibility delay.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "sim/core/list_int.h"

/* Query parameters as a NULL-terminated list of name, value pairs. */
static const char *lookup(void *ud, const char *name)
{
    const char *const *kv = ud;

    for (size_t i = 0; kv[i] != NULL; i += 2) {
        if (strcmp(kv[i], name) == 0)
            return kv[i + 1];
    }
    return NULL;
}

static const char *const SORTS[] = {"Id", "CreatedOn", "ModifiedOn", "Name", NULL};
static const struct sim_list_opts OPTS = {
    .active_filter = true, .active_default = "True", .sort = SORTS, .dates = true};

static const char *first_msg(json_t *errors, const char *key)
{
    return json_string_value(json_array_get(json_object_get(errors, key), 0));
}

/* Parses kv; returns the errors object (caller frees). */
static json_t *parse(const char *const *kv, const struct sim_list_opts *o,
                     struct sim_list_params *p, bool want_ok)
{
    json_t *errors = json_object();
    bool ok = sim_list_parse(lookup, (void *)kv, o, p, errors);

    assert_int_equal(ok, want_ok);
    assert_int_equal(json_object_size(errors) == 0, want_ok);
    return errors;
}

static void test_parse_defaults(void **state)
{
    const char *const none[] = {NULL};
    const char *const zero[] = {"page", "0", "pageSize", "5000", "includeTotal", "TRUE", NULL};
    struct sim_list_params p;

    (void)state;
    json_decref(parse(none, &OPTS, &p, true));
    assert_int_equal(p.page, 1);
    assert_int_equal(p.page_size, 50);
    assert_false(p.include_total);
    assert_false(p.has_ids);
    assert_int_equal(p.active, 1); /* active-only unless asked */
    assert_string_equal(p.sort_key, "");
    json_decref(parse(zero, &OPTS, &p, true));
    assert_int_equal(p.page, 1);
    assert_int_equal(p.page_size, 5000);
    assert_true(p.include_total);

    struct sim_list_opts any = OPTS;
    any.active_default = "Any";
    json_decref(parse(none, &any, &p, true));
    assert_int_equal(p.active, 0);
    json_decref(parse(none, NULL, &p, true));
    assert_int_equal(p.active, 0);
}

static void test_parse_errors(void **state)
{
    struct sim_list_params p;
    json_t *e;

    (void)state;
    const char *const big[] = {"pageSize", "5001", NULL};
    e = parse(big, &OPTS, &p, false);
    assert_non_null(first_msg(e, "pageSize"));
    json_decref(e);
    const char *const small[] = {"pageSize", "0", "page", "-1", NULL};
    e = parse(small, &OPTS, &p, false);
    assert_non_null(first_msg(e, "pageSize"));
    assert_non_null(first_msg(e, "page"));
    json_decref(e);
    const char *const junk[] = {"page", "two", "includeTotal", "yes", "active", "maybe", NULL};
    e = parse(junk, &OPTS, &p, false);
    assert_string_equal(first_msg(e, "page"), "The value 'two' is not valid.");
    assert_non_null(first_msg(e, "includeTotal"));
    assert_non_null(first_msg(e, "active"));
    json_decref(e);
    const char *const dates[] = {"createdBefore", "yesterday", "modifiedOnOrAfter", "2026-02-30",
                                 NULL};
    e = parse(dates, &OPTS, &p, false);
    assert_non_null(first_msg(e, "createdBefore"));
    assert_non_null(first_msg(e, "modifiedOnOrAfter"));
    json_decref(e);
    const char *const sort[] = {"sort", "-Priority", NULL};
    e = parse(sort, &OPTS, &p, false);
    assert_string_equal(first_msg(e, "sort"), "Sorting by 'Priority' is not supported.");
    json_decref(e);
    e = parse(sort, NULL, &p, true); /* a list without sorting ignores it */
    json_decref(e);
    assert_string_equal(p.sort_key, "");
}

static void test_parse_ids(void **state)
{
    char ids[51 * 9];
    struct sim_list_params p;
    size_t o = 0;

    (void)state;
    for (int i = 0; i < 50; i++)
        o += (size_t)snprintf(ids + o, sizeof(ids) - o, "%s%d", i ? "," : "", 1000 + i);
    const char *const fifty[] = {"ids", ids, NULL};
    json_decref(parse(fifty, &OPTS, &p, true));
    assert_true(p.has_ids);
    assert_int_equal(p.nids, 50);
    assert_int_equal(p.ids[49], 1049);
    snprintf(ids + o, sizeof(ids) - o, ",2000");
    json_t *e = parse(fifty, &OPTS, &p, false);
    assert_non_null(first_msg(e, "ids"));
    json_decref(e);
    const char *const spaced[] = {"ids", " 7, 8 ,,9", NULL};
    json_decref(parse(spaced, &OPTS, &p, true));
    assert_int_equal(p.nids, 3);
    assert_int_equal(p.ids[2], 9);
    const char *const bad[] = {"ids", "7,x", NULL};
    e = parse(bad, &OPTS, &p, false);
    assert_string_equal(first_msg(e, "ids"), "The value 'x' is not valid.");
    json_decref(e);
}

static void test_parse_sort(void **state)
{
    struct sim_list_params p;

    (void)state;
    const char *const desc[] = {"sort", "-createdon", NULL};
    json_decref(parse(desc, &OPTS, &p, true));
    assert_string_equal(p.sort_key, "createdOn");
    assert_true(p.sort_desc);
    const char *const plus[] = {"sort", " Name", NULL}; /* "+Name" after query decoding */
    json_decref(parse(plus, &OPTS, &p, true));
    assert_string_equal(p.sort_key, "name");
    assert_false(p.sort_desc);
    const char *const bare[] = {"sort", "Id", NULL};
    json_decref(parse(bare, &OPTS, &p, true));
    assert_string_equal(p.sort_key, "id");
}

/* Five rows: ids 1..5, names, active for odd ids, created on day id of 2026-01. */
static json_t *rows_new(json_t *rows[5])
{
    static const char *const names[] = {"delta", "Alpha", "charlie", "alpha", "bravo"};
    json_t *all = json_array();

    for (int i = 0; i < 5; i++) {
        char when[40];

        snprintf(when, sizeof(when), "2026-01-0%dT00:00:00.0000000Z", i + 1);
        rows[i] = json_pack("{si ss sb ss ss}", "id", i + 1, "name", names[i], "active",
                            (i + 1) % 2, "createdOn", when, "modifiedOn", when);
        json_array_append_new(all, rows[i]);
    }
    return all;
}

static size_t keep_ids(const char *const *kv, int64_t out[5])
{
    json_t *rows[5];
    json_t *all = rows_new(rows);
    struct sim_list_params p;
    size_t n = 0;

    json_decref(parse(kv, &OPTS, &p, true));
    for (int i = 0; i < 5; i++) {
        if (sim_list_keep(&p, rows[i]))
            out[n++] = sim_row_id(rows[i]);
    }
    json_decref(all);
    return n;
}

static void test_keep_filters(void **state)
{
    int64_t got[5];

    (void)state;
    const char *const none[] = {NULL};
    assert_int_equal(keep_ids(none, got), 3); /* active only */
    assert_int_equal(got[0], 1);
    assert_int_equal(got[2], 5);
    const char *const inactive[] = {"active", "false", NULL};
    assert_int_equal(keep_ids(inactive, got), 2);
    assert_int_equal(got[0], 2);
    const char *const ids[] = {"active", "Any", "ids", "2,5,99", NULL};
    assert_int_equal(keep_ids(ids, got), 2);
    assert_int_equal(got[1], 5);
    /* OnOrAfter inclusive, Before exclusive */
    const char *const range[] = {"active",     "Any",           "createdOnOrAfter",
                                 "2026-01-02", "createdBefore", "2026-01-04T00:00:00Z",
                                 NULL};
    assert_int_equal(keep_ids(range, got), 2);
    assert_int_equal(got[0], 2);
    assert_int_equal(got[1], 3);
    const char *const mod[] = {"active", "Any", "modifiedOnOrAfter", "2026-01-04T00:00:00.0000001Z",
                               NULL};
    assert_int_equal(keep_ids(mod, got), 1);
    assert_int_equal(got[0], 5);
}

static void test_sort_and_page(void **state)
{
    json_t *rows[5];
    json_t *all = rows_new(rows);
    struct sim_list_params p;

    (void)state;
    const char *const kv[] = {"sort", "-Name",        "pageSize", "2", "page",
                              "2",    "includeTotal", "true",     NULL};
    json_decref(parse(kv, &OPTS, &p, true));
    sim_list_sort(rows, 5, &p);
    /* delta, charlie, bravo, then the Alpha(2)/alpha(4) tie by id */
    assert_int_equal(sim_row_id(rows[0]), 1);
    assert_int_equal(sim_row_id(rows[1]), 3);
    assert_int_equal(sim_row_id(rows[2]), 5);
    assert_int_equal(sim_row_id(rows[3]), 2);
    assert_int_equal(sim_row_id(rows[4]), 4);

    json_t *env = sim_list_page(rows, 5, &p);
    const char *order[] = {"page", "pageSize", "hasMore", "totalCount", "data"};
    void *it = json_object_iter(env);
    for (size_t i = 0; i < 5; i++, it = json_object_iter_next(env, it))
        assert_string_equal(json_object_iter_key(it), order[i]);
    assert_int_equal(json_integer_value(json_object_get(env, "page")), 2);
    assert_int_equal(json_integer_value(json_object_get(env, "pageSize")), 2);
    assert_true(json_is_true(json_object_get(env, "hasMore")));
    assert_int_equal(json_integer_value(json_object_get(env, "totalCount")), 5);
    json_t *data = json_object_get(env, "data");
    assert_int_equal(json_array_size(data), 2);
    assert_int_equal(sim_row_id(json_array_get(data, 0)), 5);
    json_decref(env);

    p.page = 3;
    p.include_total = false;
    env = sim_list_page(rows, 5, &p);
    assert_true(json_is_false(json_object_get(env, "hasMore")));
    assert_true(json_is_null(json_object_get(env, "totalCount")));
    assert_int_equal(json_array_size(json_object_get(env, "data")), 1);
    json_decref(env);
    p.page = 9;
    env = sim_list_page(rows, 5, &p);
    assert_int_equal(json_array_size(json_object_get(env, "data")), 0);
    assert_true(json_is_false(json_object_get(env, "hasMore")));
    json_decref(env);
    json_decref(all);
}

/* ---- exports ---------------------------------------------------------------------- */

static void test_export_tokens(void **state)
{
    char tok[48];
    uint64_t seq = 0;

    (void)state;
    sim_export_token(42, tok);
    assert_true(sim_export_token_parse(tok, &seq));
    assert_int_equal(seq, 42);
    sim_export_token(0, tok);
    assert_true(sim_export_token_parse(tok, &seq));
    assert_int_equal(seq, 0);
    assert_false(sim_export_token_parse("", &seq));
    assert_false(sim_export_token_parse("abc", &seq));
    assert_false(sim_export_token_parse("c2VxOng", &seq)); /* "seq:x" */
    assert_false(sim_export_token_parse("c2VxOjQy!", &seq));
    assert_false(sim_export_token_parse(NULL, &seq));

    struct sim_export_params p;
    json_t *e = json_object();
    const char *const bad[] = {"from", "not-a-token", NULL};
    assert_false(sim_export_parse(lookup, (void *)bad, &p, e));
    assert_non_null(first_msg(e, "from"));
    json_decref(e);
    e = json_object();
    const char *const date[] = {"from", "2026-01-02", "includeRecentChanges", "true", NULL};
    assert_true(sim_export_parse(lookup, (void *)date, &p, e));
    assert_true(p.has_from_date);
    assert_true(p.recent);
    assert_int_equal(p.batch, 5000);
    json_decref(e);
}

static json_t *run(struct sim *s, struct sim_tenant *t, const char *const *kv, int delay)
{
    struct sim_export_params p;
    json_t *e = json_object();

    assert_true(sim_export_parse(lookup, (void *)kv, &p, e));
    json_decref(e);
    return sim_export_run(t, SIM_CUSTOMER, &p, sim_now(s), delay, NULL);
}

static int64_t data_id(json_t *out, size_t i)
{
    return sim_row_id(json_array_get(json_object_get(out, "data"), i));
}

static void test_export_feed(void **state)
{
    struct sim_config cfg = {0};
    struct sim *s = sim_new(&cfg);
    struct sim_tenant *t = sim_tenant_add(s, 1, "T", "UTC");
    int64_t ids[3];

    (void)state;
    ap_log_set_level(AP_LOG_OFF);
    ap_clock_fake_begin(1767225600LL * 1000000000LL, 1); /* 2026-01-01 */
    for (int i = 0; i < 3; i++) {
        ids[i] = sim_add(s, t, SIM_CUSTOMER, json_pack("{sb s{}}", "active", i != 1, "_h"));
        ap_clock_fake_advance(86400LL * 1000000000LL);
    }
    const char *const first[] = {"pageSize", "2", NULL};
    json_t *out = run(s, t, first, 0);
    assert_true(json_is_true(json_object_get(out, "hasMore")));
    assert_int_equal(json_array_size(json_object_get(out, "data")), 2);
    assert_int_equal(data_id(out, 1), ids[1]); /* inactive rows too */
    assert_null(json_object_get(json_array_get(json_object_get(out, "data"), 0), "_h"));
    char tok[48];
    snprintf(tok, sizeof(tok), "%s", json_string_value(json_object_get(out, "continueFrom")));
    json_decref(out);

    const char *const next[] = {"from", tok, NULL};
    out = run(s, t, next, 0);
    assert_false(json_is_true(json_object_get(out, "hasMore")));
    assert_int_equal(json_array_size(json_object_get(out, "data")), 1);
    assert_int_equal(data_id(out, 0), ids[2]);
    char tok2[48];
    snprintf(tok2, sizeof(tok2), "%s", json_string_value(json_object_get(out, "continueFrom")));
    json_decref(out);

    /* caught up: nothing new; a change shows up again, in change order */
    const char *const caught[] = {"from", tok2, NULL};
    out = run(s, t, caught, 0);
    assert_int_equal(json_array_size(json_object_get(out, "data")), 0);
    assert_string_equal(json_string_value(json_object_get(out, "continueFrom")), tok2);
    json_decref(out);
    sim_touch(s, t, SIM_CUSTOMER, sim_get(t, SIM_CUSTOMER, ids[0]), true);
    out = run(s, t, caught, 0);
    assert_int_equal(json_array_size(json_object_get(out, "data")), 1);
    assert_int_equal(data_id(out, 0), ids[0]);
    json_decref(out);

    /* from a date: modifiedOn on or after it */
    const char *const date[] = {"from", "2026-01-02T00:00:00Z", NULL};
    out = run(s, t, date, 0);
    assert_int_equal(json_array_size(json_object_get(out, "data")), 3);
    assert_int_equal(data_id(out, 0), ids[1]);
    assert_int_equal(data_id(out, 2), ids[0]);
    json_decref(out);

    /* a visibility delay of 1.5 days hides the touch (now) and row 3 (1 day ago) */
    const char *const start[] = {NULL};
    out = run(s, t, start, 129600);
    assert_int_equal(json_array_size(json_object_get(out, "data")), 1);
    assert_int_equal(data_id(out, 0), ids[1]);
    snprintf(tok, sizeof(tok), "%s", json_string_value(json_object_get(out, "continueFrom")));
    json_decref(out);
    /* includeRecentChanges sends them, and again next time (duplicates) */
    const char *const recent[] = {"from", tok, "includeRecentChanges", "true", NULL};
    out = run(s, t, recent, 129600);
    assert_int_equal(json_array_size(json_object_get(out, "data")), 2);
    assert_string_equal(json_string_value(json_object_get(out, "continueFrom")), tok);
    json_decref(out);
    ap_clock_fake_advance(2 * 86400LL * 1000000000LL);
    const char *const later[] = {"from", tok, NULL};
    out = run(s, t, later, 129600);
    assert_int_equal(json_array_size(json_object_get(out, "data")), 2);
    json_decref(out);
    ap_clock_fake_end();
    sim_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_defaults), cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_ids),      cmocka_unit_test(test_parse_sort),
        cmocka_unit_test(test_keep_filters),   cmocka_unit_test(test_sort_and_page),
        cmocka_unit_test(test_export_tokens),  cmocka_unit_test(test_export_feed),
    };

    ap_log_set_level(AP_LOG_OFF);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

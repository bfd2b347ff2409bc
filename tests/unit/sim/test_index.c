/*
 * test_index.c — unit tests of the indexes behind stsim's lists, searches
 * and export feeds (sim/core/index.c, keyidx.c): after any mix of adds,
 * changes and removals they answer what a walk of the table answers — the
 * nth active row, the rows in a time range, the change log in order, and
 * the rows under a key, never a stale one.
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
#include "sim/core/api.h"
#include "sim/core/index.h"

#define ROWS 600
#define SEC  1000000000LL

static struct sim *new_sim(struct sim_tenant **t)
{
    struct sim_config cfg = {0};
    struct sim *s = sim_new(&cfg);

    assert_non_null(s);
    *t = sim_tenant_add(s, 1, "T", "UTC");
    assert_non_null(*t);
    return s;
}

/* The positions of t's customers whose active flag is want, by walking the table. */
static size_t walk_active(struct sim_tenant *t, bool want, size_t *pos)
{
    size_t n = 0;

    for (size_t i = 0; i < sim_count(t, SIM_CUSTOMER); i++) {
        json_t *a = json_object_get(sim_at(t, SIM_CUSTOMER, i), "active");
        if ((a == NULL || json_is_true(a)) == want)
            pos[n++] = i;
    }
    return n;
}

static void check_flags(struct sim_tenant *t)
{
    size_t *want = malloc((sim_count(t, SIM_CUSTOMER) + 1) * sizeof(*want)), at;

    for (int flag = 0; flag <= 1; flag++) {
        size_t n = walk_active(t, flag, want);
        if (flag)
            assert_int_equal(sim_aux_active_count(t, SIM_CUSTOMER), n);
        for (size_t i = 0; i < n; i++) {
            assert_true(sim_aux_nth(t, SIM_CUSTOMER, flag, i, &at));
            assert_int_equal(at, want[i]);
        }
        assert_false(sim_aux_nth(t, SIM_CUSTOMER, flag, n, &at));
    }
    free(want);
}

/* Every third row inactive; then changes, appends, removals: the flags agree with a walk. */
static void test_active_flags(void **state)
{
    struct sim_tenant *t;
    struct sim *s = new_sim(&t);
    int64_t ids[ROWS];

    (void)state;
    for (int i = 0; i < ROWS; i++)
        ids[i] = sim_add(s, t, SIM_CUSTOMER, json_pack("{sb}", "active", i % 3 != 0));
    check_flags(t); /* built from the table */
    for (int i = 0; i < ROWS; i += 7) {
        json_t *row = sim_get(t, SIM_CUSTOMER, ids[i]);
        json_object_set_new(row, "active",
                            json_boolean(!json_is_true(json_object_get(row, "active"))));
        sim_touch(s, t, SIM_CUSTOMER, row, true);
    }
    for (int i = 0; i < 50; i++)
        sim_add(s, t, SIM_CUSTOMER, json_pack("{sb}", "active", i % 2));
    check_flags(t); /* kept up to date */
    for (int i = 0; i < ROWS; i += 11)
        sim_remove(s, t, SIM_CUSTOMER, ids[i]);
    sim_add(s, t, SIM_CUSTOMER, json_pack("{si sb}", "id", 5, "active", 1)); /* in front */
    check_flags(t); /* rebuilt after positions shifted */
    sim_free(s);
}

/* Rows by modifiedOn: touched rows move, removed ones vanish, and nothing stale comes back. */
static void test_time_range(void **state)
{
    struct sim_tenant *t;
    struct sim *s;
    int64_t ids[100];
    size_t n;

    (void)state;
    ap_clock_fake_begin(1767225600LL * SEC, 1); /* 2026-01-01 */
    s = new_sim(&t);
    for (int i = 0; i < 100; i++) {
        ids[i] = sim_add(s, t, SIM_CUSTOMER, json_object());
        ap_clock_fake_advance(60 * SEC);
    }
    int64_t t0 = 1767225600LL * SEC;
    int64_t *r = sim_aux_time_range(t, SIM_CUSTOMER, SIM_TIX_MODIFIED, t0 + 10 * 60 * SEC,
                                    t0 + 20 * 60 * SEC, &n);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(r[i], ids[10 + i]);
    free(r);
    /* row 15 changes (later modifiedOn), row 16 goes away */
    sim_touch(s, t, SIM_CUSTOMER, sim_get(t, SIM_CUSTOMER, ids[15]), true);
    sim_remove(s, t, SIM_CUSTOMER, ids[16]);
    r = sim_aux_time_range(t, SIM_CUSTOMER, SIM_TIX_MODIFIED, t0 + 10 * 60 * SEC,
                           t0 + 20 * 60 * SEC, &n);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++)
        assert_true(r[i] != ids[15] && r[i] != ids[16]);
    free(r);
    r = sim_aux_time_range(t, SIM_CUSTOMER, SIM_TIX_MODIFIED, t0 + 100 * 60 * SEC, INT64_MAX, &n);
    assert_int_equal(n, 1);
    assert_int_equal(r[0], ids[15]);
    free(r);
    r = sim_aux_time_range(t, SIM_CUSTOMER, SIM_TIX_CREATED, t0 + 15 * 60 * SEC, t0 + 16 * 60 * SEC,
                           &n); /* createdOn did not move */
    assert_int_equal(n, 1);
    assert_int_equal(r[0], ids[15]);
    free(r);
    ap_clock_fake_end();
    sim_free(s);
}

struct walk {
    uint64_t seqs[4 * ROWS];
    int64_t ids[4 * ROWS];
    size_t n, stop_at;
    struct sim_tenant *t;
};

static bool collect(void *ud, size_t at, uint64_t seq)
{
    struct walk *w = ud;

    w->seqs[w->n] = seq;
    w->ids[w->n++] = w->t->tables[SIM_CUSTOMER].ids[at];
    return w->n != w->stop_at;
}

/* The change log gives each live row once, at its last change, in change order. */
static void test_change_log(void **state)
{
    struct sim_tenant *t;
    struct sim *s = new_sim(&t);
    int64_t ids[ROWS];
    static struct walk w;

    (void)state;
    for (int i = 0; i < ROWS; i++)
        ids[i] = sim_add(s, t, SIM_CUSTOMER, json_object());
    memset(&w, 0, sizeof(w));
    w.t = t;
    sim_aux_walk_log(t, SIM_CUSTOMER, 0, collect, &w); /* built now: kept up to date below */
    assert_int_equal(w.n, ROWS);
    for (int round = 0; round < 3; round++) /* enough changes to compact the log once */
        for (int i = 0; i < ROWS; i += 2)
            sim_touch(s, t, SIM_CUSTOMER, sim_get(t, SIM_CUSTOMER, ids[i]), true);
    sim_remove(s, t, SIM_CUSTOMER, ids[1]);
    memset(&w, 0, sizeof(w));
    w.t = t;
    sim_aux_walk_log(t, SIM_CUSTOMER, 0, collect, &w);
    assert_int_equal(w.n, ROWS - 1);
    for (size_t i = 1; i < w.n; i++)
        assert_true(w.seqs[i - 1] < w.seqs[i]);
    assert_int_equal(w.ids[0], ids[3]);              /* the untouched odd rows first, 1 is gone */
    assert_int_equal(w.ids[w.n - 1], ids[ROWS - 2]); /* the last touched */
    /* resuming after a seq, and stopping early */
    uint64_t after = w.seqs[100];
    size_t rest = w.n - 101;
    memset(&w, 0, sizeof(w));
    w.t = t;
    sim_aux_walk_log(t, SIM_CUSTOMER, after, collect, &w);
    assert_int_equal(w.n, rest);
    memset(&w, 0, sizeof(w));
    w.t = t;
    w.stop_at = 5;
    sim_aux_walk_log(t, SIM_CUSTOMER, 0, collect, &w);
    assert_int_equal(w.n, 5);
    sim_free(s);
}

static void zip_keys(const json_t *row, struct sim_keys *out)
{
    const char *z = json_string_value(json_object_get(row, "zip"));
    if (z != NULL)
        sim_keys_add(out, "%s", z);
}

/* A key index finds the rows that have a key now: not those that moved away or are gone. */
static void test_key_index(void **state)
{
    struct sim_tenant *t;
    struct sim *s = new_sim(&t);
    int slot = sim_index_define(SIM_LOCATION, "test-zip", zip_keys);
    int64_t ids[30];
    size_t n;

    (void)state;
    assert_true(slot >= 0);
    assert_int_equal(sim_index_define(SIM_LOCATION, "test-zip", zip_keys), slot);
    for (int i = 0; i < 20; i++)
        ids[i] = sim_add(s, t, SIM_LOCATION, json_pack("{ss}", "zip", i % 2 ? "75201" : "78701"));
    int64_t *r = sim_index_find(t, slot, "75201", &n); /* built on this first lookup */
    assert_int_equal(n, 10);
    free(r);
    for (int i = 20; i < 30; i++) /* kept up to date from now on */
        ids[i] = sim_add(s, t, SIM_LOCATION, json_pack("{ss}", "zip", "75201"));
    json_t *moved = sim_get(t, SIM_LOCATION, ids[1]);
    json_object_set_new(moved, "zip", json_string("78701"));
    sim_touch(s, t, SIM_LOCATION, moved, true);
    sim_remove(s, t, SIM_LOCATION, ids[3]);
    r = sim_index_find(t, slot, "75201", &n);
    assert_int_equal(n, 18); /* 10 + 10 - moved - removed */
    for (size_t i = 0; i < n; i++) {
        assert_true(r[i] != ids[1] && r[i] != ids[3]);
        assert_true(i == 0 || r[i - 1] < r[i]);
    }
    free(r);
    r = sim_index_find(t, slot, "78701", &n);
    assert_int_equal(n, 11);
    free(r);
    /* back and forth: found once */
    json_object_set_new(moved, "zip", json_string("75201"));
    sim_touch(s, t, SIM_LOCATION, moved, true);
    r = sim_index_find(t, slot, "75201", &n);
    assert_int_equal(n, 19);
    free(r);
    assert_null(sim_index_find(t, slot, "00000", &n));
    assert_int_equal(n, 0);
    assert_null(sim_index_find(t, -1, "75201", &n));
    sim_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active_flags),
        cmocka_unit_test(test_time_range),
        cmocka_unit_test(test_change_log),
        cmocka_unit_test(test_key_index),
    };
    ap_log_set_level(AP_LOG_OFF);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

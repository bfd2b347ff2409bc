/*
 * test_booking.c — unit tests of the acceptance write's store queries
 * (src/app/booking.c) on a temporary SQLite data dir.
 *
 * The write counts what a window's other bookings hold for every booking, on
 * the writer thread that every acceptance waits for. Read through the table,
 * that cost grows with the bookings of the window (in bench/booking_accept.mjs
 * it was three quarters of appointd's CPU); read from an index alone it stays
 * a few pages. The holds ledger's periodic read likewise follows indexes.
 * The plans are SQLite's (the default store); PostgreSQL chooses
 * its own from its statistics.
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

#include "app/booking.h"
#include "app/bsvc.h"
#include "db/store.h"

struct fx {
    char dir[64];
    struct ap_store *st;
    char err[300];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/ap-booking-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->st = ap_store_open(f->dir, f->err, sizeof(f->err));
    assert_non_null(f->st);
    assert_int_equal(
        ap_store_migrate(f->st, ap_db_migrations, ap_db_nmigrations, NULL, f->err, sizeof(f->err)),
        AP_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    ap_store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* SQLite's plan of sql (with its n integer binds), its steps joined by "; ". */
static void plan_of(struct fx *f, const char *sql, size_t n, char *out, size_t cap)
{
    struct ap_db_val v[4] = {ap_db_int(1), ap_db_int(2), ap_db_int(3), ap_db_int(4)};
    struct ap_db_conn *c = ap_store_acquire(f->st, false);
    struct ap_db_rows *r;
    char q[512];

    assert_non_null(c);
    assert_true(n <= 4);
    snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
    assert_int_equal(ap_db_query(c, q, v, n, &r), AP_OK);
    out[0] = '\0';
    while (ap_db_next(r))
        snprintf(out + strlen(out), cap - strlen(out), "%s; ", ap_db_row_text(r, 3));
    assert_int_equal(ap_db_done(r), AP_OK);
    ap_store_release(c);
}

static void test_held_reads_an_index_alone(void **state)
{
    char plan[512];

    plan_of(*state, ap_booking_held_sql, 4, plan, sizeof(plan));
    if (!strstr(plan, "USING COVERING INDEX bookings_window_holds"))
        fail_msg("ServiceTitan capacity holds read the table: %s", plan);
}

static void test_held_local_reads_an_index_alone(void **state)
{
    char plan[512];

    plan_of(*state, ap_booking_held_local_sql, 2, plan, sizeof(plan));
    if (!strstr(plan, "USING COVERING INDEX bookings_scheduler_window_state"))
        fail_msg("local capacity holds read the table: %s", plan);
}

/* The ledger's read: every term of its OR through an index, never the whole table. */
static void test_ledger_reads_no_whole_table(void **state)
{
    char plan[512];

    plan_of(*state, ap_bsvc_ledger_sql, 2, plan, sizeof(plan));
    if (strstr(plan, "SCAN bookings") || !strstr(plan, "MULTI-INDEX OR"))
        fail_msg("the holds ledger scans every booking: %s", plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_held_reads_an_index_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_local_reads_an_index_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_reads_no_whole_table, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_tz.c — unit tests of the time-zone adapter (src/tz): America/Chicago
 * across the 2026 daylight-saving changes (Mar 8 and Nov 1), the wall times
 * those changes skip or repeat, UTC, and zones or fields that are refused.
 * Capacity windows of the emulator land on these conversions, so each test
 * states the wall clock a dispatcher in Chicago would read.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tz/tz.h"

#define CHI "America/Chicago"
#define S   INT64_C(1000000000)

/* Seconds since the epoch of a UTC date-time (days-from-civil). */
static int64_t utc(int y, int mon, int d, int h, int mi)
{
    int64_t yy = mon <= 2 ? y - 1 : y;
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;

    return ((days * 24 + h) * 60 + mi) * 60;
}

static int64_t to_utc(const char *zone, int y, int mon, int d, int h, int mi)
{
    int64_t ns = -1;

    assert_int_equal(ap_tz_local_to_utc(zone, y, mon, d, h, mi, 0, &ns), AP_OK);
    assert_int_equal(ns % S, 0);
    return ns / S;
}

static struct ap_tz_local to_local(const char *zone, int64_t secs)
{
    struct ap_tz_local l;

    assert_int_equal(ap_tz_utc_to_local(zone, secs * S, &l), AP_OK);
    return l;
}

static void assert_local(struct ap_tz_local l, int y, int mon, int d, int h, int mi, int off)
{
    assert_int_equal(l.y, y);
    assert_int_equal(l.mon, mon);
    assert_int_equal(l.d, d);
    assert_int_equal(l.h, h);
    assert_int_equal(l.mi, mi);
    assert_int_equal(l.offset_s, off);
}

/* ---- tests ------------------------------------------------------------ */

/* Noon in Chicago is 18:00Z in winter and 17:00Z in summer, either side of Mar 8. */
static void test_chicago_spring_forward(void **state)
{
    (void)state;
    assert_int_equal(to_utc(CHI, 2026, 3, 7, 12, 0), utc(2026, 3, 7, 18, 0));
    assert_int_equal(to_utc(CHI, 2026, 3, 9, 12, 0), utc(2026, 3, 9, 17, 0));
    /* the change itself: 01:59:59 CST is followed by 03:00 CDT at 08:00Z */
    assert_local(to_local(CHI, utc(2026, 3, 8, 7, 59)), 2026, 3, 8, 1, 59, -6 * 3600);
    assert_local(to_local(CHI, utc(2026, 3, 8, 8, 0)), 2026, 3, 8, 3, 0, -5 * 3600);
    /* the local day of Mar 8 lasts 23 hours */
    assert_int_equal(to_utc(CHI, 2026, 3, 9, 0, 0) - to_utc(CHI, 2026, 3, 8, 0, 0), 23 * 3600);
    assert_int_equal(ap_tz_offset_s(CHI, utc(2026, 3, 8, 12, 0) * S), -5 * 3600);
}

/* 02:30 on Mar 8 does not exist: it is shifted forward to 03:30 CDT (08:30Z). */
static void test_chicago_gap_hour(void **state)
{
    int64_t t;

    (void)state;
    t = to_utc(CHI, 2026, 3, 8, 2, 30);
    assert_int_equal(t, utc(2026, 3, 8, 8, 30));
    assert_local(to_local(CHI, t), 2026, 3, 8, 3, 30, -5 * 3600);
    /* 03:30 itself maps to the same instant */
    assert_int_equal(to_utc(CHI, 2026, 3, 8, 3, 30), t);
}

/* Nov 1: 01:30 happens twice; the earlier (CDT, 06:30Z) instant is chosen. */
static void test_chicago_overlap_hour(void **state)
{
    int64_t t;

    (void)state;
    t = to_utc(CHI, 2026, 11, 1, 1, 30);
    assert_int_equal(t, utc(2026, 11, 1, 6, 30));
    assert_local(to_local(CHI, t), 2026, 11, 1, 1, 30, -5 * 3600);
    /* an hour later the wall clock reads 01:30 again, in CST */
    assert_local(to_local(CHI, t + 3600), 2026, 11, 1, 1, 30, -6 * 3600);
    /* 02:00 is unambiguous: CST, 08:00Z */
    assert_int_equal(to_utc(CHI, 2026, 11, 1, 2, 0), utc(2026, 11, 1, 8, 0));
}

/* Windows of Nov 1 (a Sunday) keep their wall hours; the local day lasts 25 hours. */
static void test_chicago_fall_back_day(void **state)
{
    struct ap_tz_local l;

    (void)state;
    assert_int_equal(to_utc(CHI, 2026, 11, 1, 8, 0), utc(2026, 11, 1, 14, 0));
    assert_int_equal(to_utc(CHI, 2026, 10, 31, 8, 0), utc(2026, 10, 31, 13, 0));
    assert_int_equal(to_utc(CHI, 2026, 11, 2, 0, 0) - to_utc(CHI, 2026, 11, 1, 0, 0), 25 * 3600);
    l = to_local(CHI, utc(2026, 11, 1, 14, 0));
    assert_int_equal(l.wday, 0);
    assert_int_equal(to_local(CHI, utc(2026, 11, 7, 15, 0)).wday, 6);
}

/* Every hour of 2026 survives local → UTC → local in Chicago, outside the gap. */
static void test_chicago_round_trip_year(void **state)
{
    (void)state;
    for (int64_t t = utc(2026, 1, 1, 0, 0); t < utc(2027, 1, 1, 0, 0); t += 3600) {
        struct ap_tz_local l = to_local(CHI, t);
        int64_t back = to_utc(CHI, l.y, l.mon, l.d, l.h, l.mi);

        /* the second 01:xx of Nov 1 maps back to the first */
        assert_true(back == t || back == t - 3600);
    }
}

static void test_utc(void **state)
{
    struct ap_tz_local l;

    (void)state;
    assert_true(ap_tz_valid("UTC"));
    assert_int_equal(to_utc("UTC", 2026, 1, 1, 0, 0), INT64_C(1767225600));
    l = to_local("UTC", INT64_C(1767225600));
    assert_local(l, 2026, 1, 1, 0, 0, 0);
    assert_int_equal(l.wday, 4); /* a Thursday */
    /* sub-second parts are dropped, also before 1970 */
    assert_int_equal(ap_tz_utc_to_local("UTC", -1, &l), AP_OK);
    assert_local(l, 1969, 12, 31, 23, 59, 0);
    assert_int_equal(l.s, 59);
}

static void test_invalid_zone(void **state)
{
    struct ap_tz_local l;
    int64_t ns = 42;
    static const char *bad[] = {
        "Mars/Olympus_Mons", "", "america/chicago ", NULL,
        "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/X"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(ap_tz_valid(bad[i]));
        assert_int_equal(ap_tz_local_to_utc(bad[i], 2026, 1, 1, 0, 0, 0, &ns), AP_EINVAL);
        assert_int_equal(ap_tz_utc_to_local(bad[i], 0, &l), AP_EINVAL);
        assert_int_equal(ap_tz_offset_s(bad[i], 0), 0);
    }
    assert_int_equal(ns, 42);
    assert_true(ap_tz_valid(CHI));
    assert_true(ap_tz_valid("Europe/Berlin"));
}

static void test_invalid_fields(void **state)
{
    int64_t ns;

    (void)state;
    assert_int_equal(ap_tz_local_to_utc(CHI, 2026, 2, 29, 0, 0, 0, &ns), AP_EINVAL);
    assert_int_equal(ap_tz_local_to_utc(CHI, 2028, 2, 29, 0, 0, 0, &ns), AP_OK);
    assert_int_equal(ap_tz_local_to_utc(CHI, 2026, 13, 1, 0, 0, 0, &ns), AP_EINVAL);
    assert_int_equal(ap_tz_local_to_utc(CHI, 2026, 1, 1, 24, 0, 0, &ns), AP_EINVAL);
    assert_int_equal(ap_tz_local_to_utc(CHI, 2026, 1, 1, 0, 60, 0, &ns), AP_EINVAL);
    assert_int_equal(ap_tz_local_to_utc(CHI, 0, 1, 1, 0, 0, 0, &ns), AP_EINVAL);
}

/* More zones than the per-thread cache holds, from another thread too. */
static void *many_zones(void *arg)
{
    static const char *zones[] = {CHI,
                                  "UTC",
                                  "Europe/Berlin",
                                  "Asia/Tokyo",
                                  "America/Denver",
                                  "America/New_York",
                                  "Asia/Kolkata",
                                  "Australia/Sydney",
                                  "America/Phoenix",
                                  "Pacific/Honolulu"};
    int *ok = arg;

    *ok = 1;
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
            if (!ap_tz_valid(zones[i]))
                *ok = 0;
    if (ap_tz_offset_s("Asia/Kolkata", 0) != 19800 || ap_tz_offset_s(CHI, 0) != -21600)
        *ok = 0;
    return NULL;
}

static void test_cache_and_threads(void **state)
{
    pthread_t th;
    int ok_thread = 0, ok_main = 0;

    (void)state;
    assert_int_equal(pthread_create(&th, NULL, many_zones, &ok_thread), 0);
    many_zones(&ok_main);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(ok_thread, 1);
    assert_int_equal(ok_main, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chicago_spring_forward),
        cmocka_unit_test(test_chicago_gap_hour),
        cmocka_unit_test(test_chicago_overlap_hour),
        cmocka_unit_test(test_chicago_fall_back_day),
        cmocka_unit_test(test_chicago_round_trip_year),
        cmocka_unit_test(test_utc),
        cmocka_unit_test(test_invalid_zone),
        cmocka_unit_test(test_invalid_fields),
        cmocka_unit_test(test_cache_and_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

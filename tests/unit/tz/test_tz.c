/*
 * test_tz.c — unit tests of the time-zone adapter (src/tz), exact to the
 * second: America/Chicago, America/New_York and America/Phoenix across all
 * of 2026 compared with their known offsets (daylight time from Mar 8 to
 * Nov 1, none in Phoenix), every half hour in both directions; the wall
 * times those changes skip or repeat, and the rule tz.h promises for them;
 * UTC; whole seconds; the zones, fields and years that are refused; and the
 * offset spans the adapter remembers, against ICU's own answers.
 * Capacity windows of the emulator land on these conversions, so the
 * anchors state the wall clock a dispatcher would read.
 */
#include <pthread.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/datetime.h"
#include "core/defs.h"
#include "tz/tz.h"

#define CHI "America/Chicago"
#define NYC "America/New_York"
#define PHX "America/Phoenix"
#define S   INT64_C(1000000000)
#define H   3600

/* Seconds since the epoch of a UTC date-time. */
static int64_t utc(int y, int mon, int d, int h, int mi, int s)
{
    return ((ap_days_from_civil(y, mon, d) * 24 + h) * 60 + mi) * 60 + s;
}

/*
 * A zone's 2026, as published: its standard and daylight offsets and the
 * UTC instants daylight time starts and ends (2 a.m. local on Mar 8 and
 * Nov 1 in the US; Arizona keeps standard time all year).
 */
struct zone2026 {
    const char *id;
    int std_s, dst_s;
    int64_t dst_from, dst_until; /* equal: no daylight time */
};

static struct zone2026 zone(int which)
{
    switch (which) {
    case 0:
        return (struct zone2026){CHI, -6 * H, -5 * H, utc(2026, 3, 8, 8, 0, 0),
                                 utc(2026, 11, 1, 7, 0, 0)};
    case 1:
        return (struct zone2026){NYC, -5 * H, -4 * H, utc(2026, 3, 8, 7, 0, 0),
                                 utc(2026, 11, 1, 6, 0, 0)};
    default:
        return (struct zone2026){PHX, -7 * H, -7 * H, 0, 0};
    }
}
#define NZONES 3

/* The offset in force at instant t (seconds). */
static int offset_at(const struct zone2026 *z, int64_t t)
{
    return t >= z->dst_from && t < z->dst_until ? z->dst_s : z->std_s;
}

/*
 * The instant tz.h promises for a wall time (w: its fields read as if UTC):
 * the one instant that shows it; in a fall-back overlap the earlier of the
 * two; in a spring-forward gap, w read with the offset before the gap.
 */
static int64_t promised_instant(const struct zone2026 *z, int64_t w)
{
    int64_t as_dst = w - z->dst_s, as_std = w - z->std_s;

    if (offset_at(z, as_dst) == z->dst_s)
        return as_dst; /* daylight time; earlier than as_std when both show w */
    if (offset_at(z, as_std) == z->std_s)
        return as_std;
    return as_std; /* the gap: standard time was in force before it */
}

static int64_t to_utc(const char *zone_id, int y, int mon, int d, int h, int mi, int s)
{
    int64_t ns = -1;

    assert_int_equal(ap_tz_local_to_utc(zone_id, y, mon, d, h, mi, s, &ns), AP_OK);
    assert_int_equal(ns % S, 0); /* whole seconds */
    return ns / S;
}

static struct ap_tz_local to_local(const char *zone_id, int64_t secs)
{
    struct ap_tz_local l;

    assert_int_equal(ap_tz_utc_to_local(zone_id, secs * S, &l), AP_OK);
    return l;
}

static void assert_local(struct ap_tz_local l, int y, int mon, int d, int h, int mi, int s, int off)
{
    assert_int_equal(l.y, y);
    assert_int_equal(l.mon, mon);
    assert_int_equal(l.d, d);
    assert_int_equal(l.h, h);
    assert_int_equal(l.mi, mi);
    assert_int_equal(l.s, s);
    assert_int_equal(l.offset_s, off);
}

/* Every field of the wall clock in z at t, against the published offset. */
static void check_instant(const struct zone2026 *z, int64_t t)
{
    int off = offset_at(z, t);
    int64_t w = t + off, days = w >= 0 ? w / 86400 : -((-w + 86399) / 86400);
    int64_t sod = w - days * 86400;
    struct ap_date date = ap_civil_from_days(days);
    struct ap_tz_local l = to_local(z->id, t);

    assert_local(l, date.y, date.m, date.d, (int)(sod / H), (int)(sod / 60 % 60), (int)(sod % 60),
                 off);
    assert_int_equal(l.wday, ap_weekday(days));
    assert_int_equal(ap_tz_offset_s(z->id, t * S), off);
}

/* ---- a whole year, both directions ------------------------------------- */

/* UTC → wall clock: every half hour of 2026 and the seconds around each change. */
static void test_year_utc_to_local(void **state)
{
    (void)state;
    for (int i = 0; i < NZONES; i++) {
        struct zone2026 z = zone(i);

        for (int64_t t = utc(2026, 1, 1, 0, 0, 0); t < utc(2027, 1, 1, 0, 0, 0); t += 1800)
            check_instant(&z, t);
        for (int64_t dt = -1; dt <= 1; dt++) {
            check_instant(&z, z.dst_from + dt);
            check_instant(&z, z.dst_until + dt);
        }
    }
}

/* Wall clock → UTC: every half hour of every day of 2026, and the edges of the changes. */
static void test_year_local_to_utc(void **state)
{
    static const int edges[][3] = {{0, 59, 59}, {1, 0, 0},  {1, 30, 0},  {1, 59, 59}, {2, 0, 0},
                                   {2, 0, 1},   {2, 30, 0}, {2, 59, 59}, {3, 0, 0},   {3, 0, 1}};

    (void)state;
    for (int i = 0; i < NZONES; i++) {
        struct zone2026 z = zone(i);

        for (int64_t day = ap_days_from_civil(2026, 1, 1); day < ap_days_from_civil(2027, 1, 1);
             day++) {
            struct ap_date dt = ap_civil_from_days(day);

            for (int half = 0; half < 48; half++) {
                int h = half / 2, mi = half % 2 * 30;
                int64_t w = utc(dt.y, dt.m, dt.d, h, mi, 0);

                assert_int_equal(to_utc(z.id, dt.y, dt.m, dt.d, h, mi, 0), promised_instant(&z, w));
            }
            if (!((dt.m == 3 && dt.d == 8) || (dt.m == 11 && dt.d == 1)))
                continue;
            for (size_t e = 0; e < AP_COUNTOF(edges); e++) {
                int64_t w = utc(dt.y, dt.m, dt.d, edges[e][0], edges[e][1], edges[e][2]);

                assert_int_equal(
                    to_utc(z.id, dt.y, dt.m, dt.d, edges[e][0], edges[e][1], edges[e][2]),
                    promised_instant(&z, w));
            }
        }
    }
}

/*
 * Every half hour of 2026 goes local → UTC → local and back to itself,
 * except the second pass of Nov 1's repeated hour, which comes back as the
 * first (an hour earlier), exactly where the published offsets say.
 */
static void test_year_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < NZONES; i++) {
        struct zone2026 z = zone(i);
        int64_t repeat = z.dst_s - z.std_s; /* length of the repeated hour */
        int repeated = 0;

        for (int64_t t = utc(2026, 1, 1, 0, 0, 0); t < utc(2027, 1, 1, 0, 0, 0); t += 1800) {
            struct ap_tz_local l = to_local(z.id, t);
            int64_t back = to_utc(z.id, l.y, l.mon, l.d, l.h, l.mi, l.s);
            bool second_pass = t >= z.dst_until && t < z.dst_until + repeat;

            assert_int_equal(back, second_pass ? t - repeat : t);
            repeated += second_pass;
        }
        assert_int_equal(repeated, repeat ? 2 : 0); /* 01:00 and 01:30 CST or EST */
    }
}

/* ---- the changes, as a dispatcher reads them ------------------------------ */

/* Noon in Chicago is 18:00Z in winter and 17:00Z in summer, either side of Mar 8. */
static void test_chicago_spring_forward(void **state)
{
    (void)state;
    assert_int_equal(to_utc(CHI, 2026, 3, 7, 12, 0, 0), utc(2026, 3, 7, 18, 0, 0));
    assert_int_equal(to_utc(CHI, 2026, 3, 9, 12, 0, 0), utc(2026, 3, 9, 17, 0, 0));
    /* the change itself: 01:59:59 CST is followed by 03:00 CDT at 08:00Z */
    assert_local(to_local(CHI, utc(2026, 3, 8, 7, 59, 59)), 2026, 3, 8, 1, 59, 59, -6 * H);
    assert_local(to_local(CHI, utc(2026, 3, 8, 8, 0, 0)), 2026, 3, 8, 3, 0, 0, -5 * H);
    /* the local day of Mar 8 lasts 23 hours */
    assert_int_equal(to_utc(CHI, 2026, 3, 9, 0, 0, 0) - to_utc(CHI, 2026, 3, 8, 0, 0, 0), 23 * H);
    assert_int_equal(ap_tz_offset_s(CHI, utc(2026, 3, 8, 12, 0, 0) * S), -5 * H);
}

/* 02:00-02:59:59 on Mar 8 do not exist: they are shifted forward an hour, into CDT. */
static void test_chicago_gap_hour(void **state)
{
    int64_t t;

    (void)state;
    t = to_utc(CHI, 2026, 3, 8, 2, 30, 0);
    assert_int_equal(t, utc(2026, 3, 8, 8, 30, 0));
    assert_local(to_local(CHI, t), 2026, 3, 8, 3, 30, 0, -5 * H);
    /* 03:30 itself maps to the same instant */
    assert_int_equal(to_utc(CHI, 2026, 3, 8, 3, 30, 0), t);
    /* the gap's edges: 02:00 is 03:00 CDT, 02:59:59 is 03:59:59 CDT */
    assert_int_equal(to_utc(CHI, 2026, 3, 8, 2, 0, 0), utc(2026, 3, 8, 8, 0, 0));
    assert_int_equal(to_utc(CHI, 2026, 3, 8, 2, 59, 59), utc(2026, 3, 8, 8, 59, 59));
    assert_int_equal(to_utc(CHI, 2026, 3, 8, 1, 59, 59), utc(2026, 3, 8, 7, 59, 59));
}

/* Nov 1: 01:00-01:59:59 happen twice; the earlier (CDT) instant is chosen. */
static void test_chicago_overlap_hour(void **state)
{
    int64_t t;

    (void)state;
    t = to_utc(CHI, 2026, 11, 1, 1, 30, 0);
    assert_int_equal(t, utc(2026, 11, 1, 6, 30, 0));
    assert_local(to_local(CHI, t), 2026, 11, 1, 1, 30, 0, -5 * H);
    /* an hour later the wall clock reads 01:30 again, in CST */
    assert_local(to_local(CHI, t + H), 2026, 11, 1, 1, 30, 0, -6 * H);
    /* the overlap's edges, and 02:00, unambiguous: CST, 08:00Z */
    assert_int_equal(to_utc(CHI, 2026, 11, 1, 1, 0, 0), utc(2026, 11, 1, 6, 0, 0));
    assert_int_equal(to_utc(CHI, 2026, 11, 1, 1, 59, 59), utc(2026, 11, 1, 6, 59, 59));
    assert_int_equal(to_utc(CHI, 2026, 11, 1, 2, 0, 0), utc(2026, 11, 1, 8, 0, 0));
    assert_local(to_local(CHI, utc(2026, 11, 1, 6, 59, 59)), 2026, 11, 1, 1, 59, 59, -5 * H);
    assert_local(to_local(CHI, utc(2026, 11, 1, 7, 0, 0)), 2026, 11, 1, 1, 0, 0, -6 * H);
}

/* Windows of Nov 1 (a Sunday) keep their wall hours; the local day lasts 25 hours. */
static void test_chicago_fall_back_day(void **state)
{
    (void)state;
    assert_int_equal(to_utc(CHI, 2026, 11, 1, 8, 0, 0), utc(2026, 11, 1, 14, 0, 0));
    assert_int_equal(to_utc(CHI, 2026, 10, 31, 8, 0, 0), utc(2026, 10, 31, 13, 0, 0));
    assert_int_equal(to_utc(CHI, 2026, 11, 2, 0, 0, 0) - to_utc(CHI, 2026, 11, 1, 0, 0, 0), 25 * H);
    assert_int_equal(to_local(CHI, utc(2026, 11, 1, 14, 0, 0)).wday, 0);
    assert_int_equal(to_local(CHI, utc(2026, 11, 7, 15, 0, 0)).wday, 6);
}

/* New York changes at its own 2 a.m., an hour before Chicago in UTC. */
static void test_new_york_changes(void **state)
{
    (void)state;
    assert_int_equal(to_utc(NYC, 2026, 3, 8, 2, 30, 0), utc(2026, 3, 8, 7, 30, 0));
    assert_local(to_local(NYC, utc(2026, 3, 8, 7, 30, 0)), 2026, 3, 8, 3, 30, 0, -4 * H);
    assert_local(to_local(NYC, utc(2026, 3, 8, 6, 59, 59)), 2026, 3, 8, 1, 59, 59, -5 * H);
    assert_int_equal(to_utc(NYC, 2026, 11, 1, 1, 30, 0), utc(2026, 11, 1, 5, 30, 0));
    assert_local(to_local(NYC, utc(2026, 11, 1, 6, 30, 0)), 2026, 11, 1, 1, 30, 0, -5 * H);
    assert_int_equal(to_utc(NYC, 2026, 7, 4, 9, 0, 0), utc(2026, 7, 4, 13, 0, 0));
}

/* Phoenix keeps MST (UTC-7) all year: 02:30 on Mar 8 exists, 01:30 on Nov 1 happens once. */
static void test_phoenix_no_changes(void **state)
{
    (void)state;
    assert_int_equal(to_utc(PHX, 2026, 3, 8, 2, 30, 0), utc(2026, 3, 8, 9, 30, 0));
    assert_int_equal(to_utc(PHX, 2026, 11, 1, 1, 30, 0), utc(2026, 11, 1, 8, 30, 0));
    assert_int_equal(to_utc(PHX, 2026, 7, 1, 12, 0, 0), utc(2026, 7, 1, 19, 0, 0));
    assert_local(to_local(PHX, utc(2026, 1, 15, 19, 0, 0)), 2026, 1, 15, 12, 0, 0, -7 * H);
    assert_int_equal(to_utc(PHX, 2026, 3, 9, 0, 0, 0) - to_utc(PHX, 2026, 3, 8, 0, 0, 0), 24 * H);
}

/* ---- UTC, seconds, refusals ------------------------------------------------ */

static void test_utc(void **state)
{
    struct ap_tz_local l;

    (void)state;
    assert_true(ap_tz_valid("UTC"));
    assert_int_equal(to_utc("UTC", 2026, 1, 1, 0, 0, 0), INT64_C(1767225600));
    l = to_local("UTC", INT64_C(1767225600));
    assert_local(l, 2026, 1, 1, 0, 0, 0, 0);
    assert_int_equal(l.wday, 4); /* a Thursday */
    /* sub-second parts are dropped, also before 1970 */
    assert_int_equal(ap_tz_utc_to_local("UTC", -1, &l), AP_OK);
    assert_local(l, 1969, 12, 31, 23, 59, 59, 0);
    assert_int_equal(ap_tz_utc_to_local(CHI, utc(2026, 6, 1, 12, 0, 0) * S + S - 1, &l), AP_OK);
    assert_local(l, 2026, 6, 1, 7, 0, 0, -5 * H);
    assert_int_equal(to_utc(CHI, 2026, 6, 1, 7, 0, 59), utc(2026, 6, 1, 12, 0, 59));
}

static void test_invalid_zone(void **state)
{
    struct ap_tz_local l;
    int64_t ns = 42;
    static const char *bad[] = {
        "Mars/Olympus_Mons", "", "america/chicago ", NULL,
        "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/X"};

    (void)state;
    for (size_t i = 0; i < AP_COUNTOF(bad); i++) {
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
    static const int bad[][6] = {
        {2026, 2, 29, 0, 0, 0}, {2100, 2, 29, 0, 0, 0}, {2026, 4, 31, 0, 0, 0},
        {2026, 13, 1, 0, 0, 0}, {2026, 0, 1, 0, 0, 0},  {2026, 1, 0, 0, 0, 0},
        {2026, 1, 32, 0, 0, 0}, {2026, 1, 1, 24, 0, 0}, {2026, 1, 1, -1, 0, 0},
        {2026, 1, 1, 0, 60, 0}, {2026, 1, 1, 0, 0, 60}, {2026, 1, 1, 0, 0, -1},
    };
    int64_t ns = 42;

    (void)state;
    for (size_t i = 0; i < AP_COUNTOF(bad); i++)
        assert_int_equal(ap_tz_local_to_utc(CHI, bad[i][0], bad[i][1], bad[i][2], bad[i][3],
                                            bad[i][4], bad[i][5], &ns),
                         AP_EINVAL);
    assert_int_equal(ns, 42);
    assert_int_equal(to_utc(CHI, 2028, 2, 29, 0, 0, 0), utc(2028, 2, 29, 6, 0, 0));
    assert_int_equal(to_utc("UTC", 2000, 2, 29, 0, 0, 0), utc(2000, 2, 29, 0, 0, 0));
}

/*
 * Years whose instants an int64 of nanoseconds cannot hold are refused, not
 * overflowed; the first and last accepted ones are proleptic Gregorian.
 */
static void test_year_range(void **state)
{
    int64_t ns = 42;

    (void)state;
    assert_int_equal(ap_tz_local_to_utc("UTC", 1, 1, 1, 0, 0, 0, &ns), AP_EINVAL);
    assert_int_equal(ap_tz_local_to_utc("UTC", 1500, 3, 1, 0, 0, 0, &ns), AP_EINVAL);
    assert_int_equal(ap_tz_local_to_utc(CHI, AP_TZ_YEAR_MIN - 1, 12, 31, 0, 0, 0, &ns), AP_EINVAL);
    assert_int_equal(ap_tz_local_to_utc(CHI, AP_TZ_YEAR_MAX + 1, 1, 1, 0, 0, 0, &ns), AP_EINVAL);
    assert_int_equal(ap_tz_local_to_utc("UTC", 9999, 12, 31, 23, 59, 59, &ns), AP_EINVAL);
    assert_int_equal(ns, 42);
    assert_int_equal(to_utc("UTC", AP_TZ_YEAR_MIN, 1, 1, 0, 0, 0),
                     utc(AP_TZ_YEAR_MIN, 1, 1, 0, 0, 0));
    assert_int_equal(to_utc("UTC", AP_TZ_YEAR_MAX, 12, 31, 23, 59, 59),
                     utc(AP_TZ_YEAR_MAX, 12, 31, 23, 59, 59));
    assert_local(to_local("UTC", utc(1700, 3, 1, 0, 0, 0)), 1700, 3, 1, 0, 0, 0, 0);
}

/* ---- the per-thread cache ---------------------------------------------------- */

/*
 * More zones than the per-thread cache holds, from two threads: each answer
 * stays exact, and a calendar opened again after eviction still follows the
 * gap and overlap rule.
 */
static void *many_zones(void *arg)
{
    static const struct {
        const char *id;
        int jan_offset;
    } zones[] = {{CHI, -6 * H},
                 {"UTC", 0},
                 {"Europe/Berlin", 1 * H},
                 {"Asia/Tokyo", 9 * H},
                 {"America/Denver", -7 * H},
                 {NYC, -5 * H},
                 {"Asia/Kolkata", 5 * H + 1800},
                 {"Australia/Sydney", 11 * H},
                 {PHX, -7 * H},
                 {"Pacific/Honolulu", -10 * H}};
    int64_t jan = utc(2026, 1, 15, 12, 0, 0) * S, ns = 0;
    int *ok = arg;

    *ok = 1;
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < AP_COUNTOF(zones); i++)
            if (!ap_tz_valid(zones[i].id) ||
                ap_tz_offset_s(zones[i].id, jan) != zones[i].jan_offset)
                *ok = 0;
    if (ap_tz_local_to_utc(CHI, 2026, 3, 8, 2, 30, 0, &ns) != AP_OK ||
        ns != utc(2026, 3, 8, 8, 30, 0) * S)
        *ok = 0;
    if (ap_tz_local_to_utc(CHI, 2026, 11, 1, 1, 30, 0, &ns) != AP_OK ||
        ns != utc(2026, 11, 1, 6, 30, 0) * S)
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

/* ---- remembered spans against ICU itself ----------------------------------------- */

static void assert_same_local(const struct ap_tz_local *a, const struct ap_tz_local *b,
                              const char *zone, int64_t secs)
{
    if (a->y != b->y || a->mon != b->mon || a->d != b->d || a->h != b->h || a->mi != b->mi ||
        a->s != b->s || a->wday != b->wday || a->offset_s != b->offset_s)
        fail_msg("%s at %lld: %04d-%02d-%02d %02d:%02d:%02d w%d %+d, ICU says "
                 "%04d-%02d-%02d %02d:%02d:%02d w%d %+d",
                 zone, (long long)secs, a->y, a->mon, a->d, a->h, a->mi, a->s, a->wday, a->offset_s,
                 b->y, b->mon, b->d, b->h, b->mi, b->s, b->wday, b->offset_s);
}

/* Wall time l read back to UTC right after learning the span at t equals ICU's own reading
 * (skipped and repeated wall times included). */
static void assert_back_like_icu(const char *zone, int64_t t, const struct ap_tz_local *l)
{
    struct ap_tz_local scratch;
    int64_t want = 0, got = 0;
    enum ap_err e1, e2;

    ap_tz_forget();
    e1 = ap_tz_local_to_utc(zone, l->y, l->mon, l->d, l->h, l->mi, l->s, &want);
    ap_tz_forget();
    assert_int_equal(ap_tz_utc_to_local(zone, t * S, &scratch), AP_OK);
    e2 = ap_tz_local_to_utc(zone, l->y, l->mon, l->d, l->h, l->mi, l->s, &got);
    assert_int_equal(e1, e2);
    if (want != got)
        fail_msg("%s: %04d-%02d-%02d %02d:%02d:%02d is %lld, ICU says %lld", zone, l->y, l->mon,
                 l->d, l->h, l->mi, l->s, (long long)(got / S), (long long)(want / S));
}

/*
 * An instant converted right after another one (the span learnt from the
 * first answers the second when it can) equals ICU's own answer for it
 * alone: in zones with odd offsets and changes, for instants next to offset
 * changes and at random, a second to a week apart, in
 * both directions (1680–2100: instants of int64 nanoseconds).
 */
static void test_spans_match_icu(void **state)
{
    static const char *zones[] = {CHI,
                                  PHX,
                                  "Australia/Lord_Howe",
                                  "Asia/Kathmandu",
                                  "Pacific/Apia",
                                  "Europe/Dublin",
                                  "America/St_Johns",
                                  "UTC",
                                  "Africa/Casablanca",
                                  "Antarctica/Troll"};
    static const int64_t steps[] = {1, 59, H, 86400, 7 * 86400, -1, -H, -86400};
    /* instants at offset changes: Chicago spring and fall 2026, Apia's skipped 2011-12-30 */
    static const int64_t near[] = {1772956800, 1793516400, 1325239200, 1774800000};
    uint64_t rng = 42;
    struct ap_tz_local ref, got;

    (void)state;
    for (size_t z = 0; z < AP_COUNTOF(zones); z++)
        for (int i = 0; i < 400; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            int64_t t = i < 40 ? near[i % AP_COUNTOF(near)] + (int64_t)(rng >> 40) % 7200 - 3600
                               : -9151200000LL + (int64_t)((rng >> 20) % 13253600000ULL);
            int64_t u = t + steps[i % AP_COUNTOF(steps)];

            ap_tz_forget();
            assert_int_equal(ap_tz_utc_to_local(zones[z], u * S, &ref), AP_OK);
            ap_tz_forget();
            assert_int_equal(ap_tz_utc_to_local(zones[z], t * S, &got), AP_OK);
            assert_int_equal(ap_tz_utc_to_local(zones[z], u * S + 999999999, &got), AP_OK);
            assert_same_local(&got, &ref, zones[z], u);
            assert_back_like_icu(zones[z], t, &ref);
        }
}

/* Right at offset changes: a span learnt on one side never answers for the other. */
static void test_spans_end_at_changes(void **state)
{
    static const struct {
        const char *zone;
        int64_t at; /* the first second of the new offset */
    } changes[] = {{CHI, 1772956800},
                   {CHI, 1793516400},
                   {"Australia/Lord_Howe", 1775314800},
                   {"Pacific/Apia", 1325239200},
                   {"Europe/Dublin", 1774746000}};
    struct ap_tz_local ref, got;

    (void)state;
    for (size_t i = 0; i < AP_COUNTOF(changes); i++)
        for (int from = -3; from <= 3; from++)
            for (int to = -3; to <= 3; to++) {
                int64_t a = changes[i].at + from, b = changes[i].at + to;
                ap_tz_forget();
                assert_int_equal(ap_tz_utc_to_local(changes[i].zone, b * S, &ref), AP_OK);
                ap_tz_forget();
                assert_int_equal(ap_tz_utc_to_local(changes[i].zone, a * S, &got), AP_OK);
                assert_int_equal(ap_tz_utc_to_local(changes[i].zone, b * S, &got), AP_OK);
                assert_same_local(&got, &ref, changes[i].zone, b);
            }
    /* wall times around each change, read back after a span on either side was learnt: the
     * skipped hour, the repeated one, and the days next to them */
    for (size_t i = 0; i < AP_COUNTOF(changes); i++)
        for (int64_t side = -86400 * 3; side <= 86400 * 3; side += 86400 * 6)
            for (int64_t w = -3 * 86400; w <= 3 * 86400; w += 1800) {
                ap_tz_forget();
                assert_int_equal(ap_tz_utc_to_local(changes[i].zone, (changes[i].at + w) * S, &ref),
                                 AP_OK);
                assert_back_like_icu(changes[i].zone, changes[i].at + side, &ref);
                ref.h = (ref.h + 1) % 24; /* an hour later on the wall: maybe skipped */
                assert_back_like_icu(changes[i].zone, changes[i].at + side, &ref);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_year_utc_to_local),
        cmocka_unit_test(test_year_local_to_utc),
        cmocka_unit_test(test_year_round_trip),
        cmocka_unit_test(test_chicago_spring_forward),
        cmocka_unit_test(test_chicago_gap_hour),
        cmocka_unit_test(test_chicago_overlap_hour),
        cmocka_unit_test(test_chicago_fall_back_day),
        cmocka_unit_test(test_new_york_changes),
        cmocka_unit_test(test_phoenix_no_changes),
        cmocka_unit_test(test_utc),
        cmocka_unit_test(test_invalid_zone),
        cmocka_unit_test(test_invalid_fields),
        cmocka_unit_test(test_year_range),
        cmocka_unit_test(test_cache_and_threads),
        cmocka_unit_test(test_spans_match_icu),
        cmocka_unit_test(test_spans_end_at_changes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

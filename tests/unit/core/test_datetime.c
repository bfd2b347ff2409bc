/*
 * test_datetime.c — the calendar, RFC 3339 parsing and UTC formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/datetime.h"

static void test_civil_round_trip(void **state)
{
    /* Every day from 1678 to 2261 maps back to itself, and days are consecutive. */
    int64_t first = ap_days_from_civil(1678, 1, 1), last = ap_days_from_civil(2261, 12, 31);
    for (int64_t z = first; z <= last; z++) {
        struct ap_date d = ap_civil_from_days(z);
        if (ap_days_from_civil(d.y, d.m, d.d) != z || d.d < 1 || d.d > ap_days_in_month(d.y, d.m))
            fail_msg("day %lld came back as %d-%d-%d", (long long)z, d.y, d.m, d.d);
    }
    assert_int_equal(ap_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(ap_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(ap_days_from_civil(1969, 12, 31), -1);
}

static void test_month_lengths_and_weekdays(void **state)
{
    assert_int_equal(ap_days_in_month(2024, 2), 29);
    assert_int_equal(ap_days_in_month(2100, 2), 28);
    assert_int_equal(ap_days_in_month(2000, 2), 29);
    assert_int_equal(ap_days_in_month(2026, 4), 30);
    assert_int_equal(ap_days_in_month(2026, 13), 0);
    assert_int_equal(ap_weekday(0), 4);                              /* a Thursday */
    assert_int_equal(ap_weekday(ap_days_from_civil(2026, 3, 8)), 0); /* a Sunday */
    assert_int_equal(ap_weekday(-1), 3);
}

static void test_parse(void **state)
{
    int64_t ns;

    assert_true(ap_time_parse("2026-03-08T08:00:00Z", &ns));
    assert_int_equal(ns, (ap_days_from_civil(2026, 3, 8) * 86400 + 8 * 3600) * AP_NS_PER_S);
    assert_true(ap_time_parse("2026-03-08T03:00:00-05:00", &ns));
    assert_int_equal(ns, (ap_days_from_civil(2026, 3, 8) * 86400 + 8 * 3600) * AP_NS_PER_S);
    assert_true(ap_time_parse("2026-03-08T13:30:00+0530", &ns));
    assert_int_equal(ns, (ap_days_from_civil(2026, 3, 8) * 86400 + 8 * 3600) * AP_NS_PER_S);
    assert_true(ap_time_parse("2026-03-08 13:30:00 05:30", &ns)); /* a decoded '+' */
    assert_int_equal(ns, (ap_days_from_civil(2026, 3, 8) * 86400 + 8 * 3600) * AP_NS_PER_S);
    assert_true(ap_time_parse("2021-07-19T20:35:38.2876004Z", &ns));
    assert_int_equal(ns % AP_NS_PER_S, 287600400);
    assert_true(ap_time_parse("2021-07-19T20:35", &ns));
    assert_int_equal(ns % (60 * AP_NS_PER_S), 0);
    assert_true(ap_time_parse("2021-07-19", &ns));
    assert_int_equal(ns, ap_days_from_civil(2021, 7, 19) * AP_NS_PER_DAY);
    assert_true(ap_time_parse("1969-12-31T23:59:59.5Z", &ns));
    assert_int_equal(ns, -AP_NS_PER_S / 2);
}

static void test_parse_refuses(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-02-29",                    /* not a leap year */
        "2026-13-01",                    /* month */
        "2026-1-01",                     /* short field */
        "2026-03-08T24:00:00Z",          /* hour */
        "2026-03-08T10:60:00Z",          /* minute */
        "2026-03-08T10:00:60Z",          /* leap second */
        "2026-03-08T10:00:00.12345678Z", /* 8 fractional digits */
        "2026-03-08T10:00:00.Z",         /* empty fraction */
        "2026-03-08T10:00:00+24:00",     /* offset */
        "2026-03-08T10:00:00Zjunk",      /* trailing */
        "2026-03-08X10:00",              /* separator */
        "1677-01-01",                    /* outside int64 ns */
        "2262-06-01",
    };
    int64_t ns = 42;

    for (size_t i = 0; i < AP_COUNTOF(bad); i++)
        if (ap_time_parse(bad[i], &ns))
            fail_msg("accepted '%s'", bad[i]);
    assert_int_equal(ns, 42);
    assert_false(ap_time_parse(NULL, &ns));
}

static void test_dates(void **state)
{
    struct ap_date d;
    char out[16];

    assert_true(ap_date_parse("2026-11-01", &d));
    assert_int_equal(d.y, 2026);
    assert_int_equal(d.m, 11);
    assert_int_equal(d.d, 1);
    ap_date_format(d, out);
    assert_string_equal(out, "2026-11-01");
    assert_false(ap_date_parse("2026-11-01T00:00Z", &d));
    assert_false(ap_date_parse("2026-11-31", &d));
}

static void test_format(void **state)
{
    char out[AP_TIME_BUF];
    int64_t ns = (ap_days_from_civil(2026, 3, 8) * 86400 + 14 * 3600) * AP_NS_PER_S + 123456789;

    ap_time_format(ns, 0, out);
    assert_string_equal(out, "2026-03-08T14:00:00Z");
    ap_time_format(ns, 3, out);
    assert_string_equal(out, "2026-03-08T14:00:00.123Z");
    ap_time_format(ns, 7, out);
    assert_string_equal(out, "2026-03-08T14:00:00.1234567Z");
    ap_time_format(-1, 3, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    /* What is formatted parses back (to the digits kept). */
    int64_t back;
    ap_time_format(ns, 7, out);
    assert_true(ap_time_parse(out, &back));
    assert_int_equal(back, ns - ns % 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_month_lengths_and_weekdays),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

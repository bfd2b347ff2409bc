/*
 * test_avail.c — availability arithmetic: capacity answers into slots (one
 * business unit, local vs UTC cross-check), the public windows in the
 * scheduler's zone across the spring DST change (Chicago) and without DST
 * (Phoenix), the rules (minimum notice, close before start, started
 * windows, blackout dates, horizon), holds, and local capacity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/avail.h"
#include "app/scheduler.h"
#include "core/datetime.h"
#include "core/defs.h"

#define H (3600 * AP_NS_PER_S)

static int64_t utc(const char *s)
{
    int64_t ns;
    if (!ap_time_parse(s, &ns))
        fail_msg("bad time %s", s);
    return ns;
}

static struct ap_sched *sched(const char *tz, const char *extra)
{
    char buf[1024];
    struct ap_sched *s;
    struct ap_json_error e;
    snprintf(buf, sizeof(buf),
             "{\"name\":\"t\",\"timeZone\":\"%s\",\"services\":[{\"id\":\"ac\",\"label\":\"AC\","
             "\"jobTypeId\":10,\"businessUnitId\":1}],\"serviceArea\":{\"zips\":[\"75001\"]},"
             "\"campaignId\":1%s}",
             tz, extra);
    json_t *j = json_loads(buf, 0, NULL);
    assert_non_null(j);
    if (ap_sched_parse(j, NULL, &s, &e) != AP_OK)
        fail_msg("%s", e.message);
    json_decref(j);
    return s;
}

/* A capacity row: local start text, UTC start/end, bu list, open hours. */
static json_t *row(const char *local, const char *su, const char *eu, int bu, double open)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:[i], s:f, s:f, s:b, s:[]}", "start", local, "end",
                     local, "startUtc", su, "endUtc", eu, "businessUnitIds", bu,
                     "totalAvailability", 8.0, "openAvailability", open, "isAvailable", open > 0,
                     "technicians");
}

static void test_parse_capacity(void **state)
{
    json_t *ans = json_pack(
        "{s:s, s:[o,o,o,o]}", "timeStamp", "2026-03-01T00:00:00Z", "availabilities",
        row("2026-03-09T10:00:00", "2026-03-09T15:00:00Z", "2026-03-09T17:00:00Z", 1, 4.0),
        row("2026-03-09T08:00:00", "2026-03-09T13:00:00Z", "2026-03-09T15:00:00Z", 1, 2.0),
        row("2026-03-09T08:00:00", "2026-03-09T13:00:00Z", "2026-03-09T15:00:00Z", 2, 6.0),
        /* local text that disagrees with startUtc in Chicago (CDT is -5 on Mar 9) */
        row("2026-03-09T12:00:00", "2026-03-09T18:00:00Z", "2026-03-09T20:00:00Z", 1, 1.0));
    struct ap_avail_slot *s;
    size_t n;
    int mismatch = 0;

    assert_int_equal(ap_avail_parse_capacity(ans, 1, "America/Chicago", &s, &n, &mismatch), AP_OK);
    assert_int_equal(n, 3); /* bu 2's row is not ours */
    assert_true(s[0].start == utc("2026-03-09T13:00:00Z") && s[0].open == 2.0);
    assert_true(s[1].start == utc("2026-03-09T15:00:00Z") && s[1].open == 4.0);
    assert_int_equal(mismatch, 1);
    free(s);
    json_decref(ans);
    ans = json_pack("{s:s}", "timeStamp", "x");
    assert_int_equal(ap_avail_parse_capacity(ans, 1, "UTC", &s, &n, NULL), AP_EPARSE);
    json_decref(ans);
}

/* Windows at 08:00 and 14:00 local every day of March 7..9 2026 (DST starts Mar 8). */
static size_t chicago_slots(struct ap_avail_slot *v)
{
    size_t k = 0;
    const char *days[] = {"2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"};
    for (int i = 0; i < 3; i++) {
        int64_t s8 = utc(days[i]);
        v[k++] = (struct ap_avail_slot){s8, s8 + 2 * H, 4.0, true};
        v[k++] = (struct ap_avail_slot){s8 + 6 * H, s8 + 8 * H, 4.0, true};
    }
    return k;
}

static void test_windows_across_dst(void **state)
{
    struct ap_sched *s = sched("America/Chicago", ",\"rules\":{\"minNoticeMinutes\":0}");
    struct ap_avail_slot v[8];
    size_t n = chicago_slots(v);
    struct ap_avail_query q = {s, &s->services[0], 7200, utc("2026-03-06T12:00:00Z"), {2026, 3, 7},
                               3};
    json_t *w = ap_avail_windows(&q, v, n, NULL, NULL);

    assert_int_equal(json_array_size(w), 6);
    /* every window starts at 08:00 or 14:00 local, with the offset of its day */
    const char *want[] = {"2026-03-07T08:00:00-06:00", "2026-03-07T14:00:00-06:00",
                          "2026-03-08T08:00:00-05:00", "2026-03-08T14:00:00-05:00",
                          "2026-03-09T08:00:00-05:00", "2026-03-09T14:00:00-05:00"};
    for (size_t i = 0; i < 6; i++) {
        json_t *x = json_array_get(w, i);
        assert_string_equal(json_string_value(json_object_get(x, "start")), want[i]);
        assert_true(json_is_true(json_object_get(x, "available")));
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(w, 2), "end")),
                        "2026-03-08T10:00:00-05:00");
    json_decref(w);

    /* the span of Mar 8 alone is 23 hours long */
    int64_t from, to;
    q.from = (struct ap_date){2026, 3, 8};
    q.days = 1;
    assert_int_equal(ap_avail_span(&q, &from, &to), AP_OK);
    assert_true(from == utc("2026-03-08T06:00:00Z") && to == utc("2026-03-09T05:00:00Z"));
    ap_sched_free(s);
}

static void test_phoenix_has_no_dst(void **state)
{
    struct ap_sched *s = sched("America/Phoenix", ",\"rules\":{\"minNoticeMinutes\":0}");
    int64_t a = utc("2026-03-07T15:00:00Z"), b = utc("2026-03-09T15:00:00Z");
    struct ap_avail_slot v[2] = {{a, a + 2 * H, 3, true}, {b, b + 2 * H, 3, true}};
    struct ap_avail_query q = {s, &s->services[0], 3600, utc("2026-03-06T00:00:00Z"), {2026, 3, 7},
                               3};
    json_t *w = ap_avail_windows(&q, v, 2, NULL, NULL);

    assert_string_equal(json_string_value(json_object_get(json_array_get(w, 0), "start")),
                        "2026-03-07T08:00:00-07:00");
    assert_string_equal(json_string_value(json_object_get(json_array_get(w, 1), "start")),
                        "2026-03-09T08:00:00-07:00");
    json_decref(w);
    ap_sched_free(s);
}

static double held_two_hours_on_first(void *ud, int64_t start)
{
    return start == *(int64_t *)ud ? 3.0 : 0.0;
}

static void test_rules_and_holds(void **state)
{
    struct ap_sched *s = sched(
        "America/Chicago", ",\"rules\":{\"minNoticeMinutes\":120,\"horizonDays\":3,"
                           "\"closeBeforeStartMinutes\":30,\"blackoutDates\":[\"2026-03-09\"]}");
    struct ap_avail_slot v[8];
    size_t n = chicago_slots(v);
    /* now: Mar 7, 12:15 local (18:15Z): 08:00 started; 14:00 is inside the 2 h notice */
    struct ap_avail_query q = {s, &s->services[0], 7200, utc("2026-03-07T18:15:00Z"), {2026, 3, 7},
                               5};
    json_t *w = ap_avail_windows(&q, v, n, NULL, NULL);
    bool want[] = {false, false, true, true, false, false}; /* Mar 9 is a blackout */

    assert_int_equal(json_array_size(w), 6); /* Mar 10, 11 are past the 3-day horizon */
    for (size_t i = 0; i < 6; i++)
        if (json_is_true(json_object_get(json_array_get(w, i), "available")) != want[i])
            fail_msg("window %zu", i);
    json_decref(w);

    /* close before start: 13:31 local on Mar 8 closes the 14:00 window (30 min before) */
    q.now = utc("2026-03-08T18:31:00Z");
    s->min_notice_min = 0;
    assert_false(ap_avail_slot_open(&q, &v[3], 0));
    q.now = utc("2026-03-08T18:29:00Z");
    assert_true(ap_avail_slot_open(&q, &v[3], 0));

    /* holds: 4 h open, 3 h held, a 2 h job does not fit; a 1 h job does */
    q.now = utc("2026-03-07T06:00:00Z"); /* Mar 7, midnight local */
    int64_t first = v[2].start;
    w = ap_avail_windows(&q, v, n, held_two_hours_on_first, &first);
    assert_int_equal(json_array_size(w), 6);
    assert_false(json_is_true(json_object_get(json_array_get(w, 2), "available")));
    assert_true(json_is_true(json_object_get(json_array_get(w, 3), "available")));
    json_decref(w);
    q.duration_s = 3600;
    assert_true(ap_avail_slot_open(&q, &v[2], 3.0));
    /* unknown duration: ServiceTitan's isAvailable and something left */
    q.duration_s = 0;
    v[2].st_available = false;
    assert_false(ap_avail_slot_open(&q, &v[2], 0));
    ap_sched_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_capacity),
        cmocka_unit_test(test_windows_across_dst),
        cmocka_unit_test(test_phoenix_has_no_dst),
        cmocka_unit_test(test_rules_and_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

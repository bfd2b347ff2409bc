/*
 * avail.c — the arithmetic of availability: capacity answers into slots,
 * slots into the windows a homeowner is offered. See avail.h.
 */
#include "app/avail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/catalog.h"
#include "core/defs.h"
#include "core/mem.h"
#include "tz/tz.h"

/* Most slots one answer yields (windows × days: a month of 15-minute windows). */
#define SLOTS_MAX 4096

/* ---- capacity answers ------------------------------------------------------- */

static bool lists_bu(json_t *row, int64_t bu)
{
    json_t *bus = json_object_get(row, "businessUnitIds"), *v;
    size_t i;

    if (!json_is_array(bus) || json_array_size(bus) == 0)
        return true;
    json_array_foreach (bus, i, v)
        if (json_is_integer(v) && json_integer_value(v) == bu)
            return true;
    return false;
}

/* Whether the tenant's offset-less local text names the same wall time as utc in tz. */
static bool local_agrees(const char *local, int64_t utc, const char *tz)
{
    struct ap_tz_local l;
    int64_t as_utc;
    char want[40], got[40];

    if (!local || !tz || !ap_time_parse(local, &as_utc) || ap_tz_utc_to_local(tz, utc, &l) != AP_OK)
        return true; /* nothing to compare */
    snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d", l.y, l.mon, l.d, l.h, l.mi, l.s);
    ap_time_format(as_utc, 0, got);
    return strncmp(want, got, 19) == 0;
}

static int slot_cmp(const void *a, const void *b)
{
    const struct ap_avail_slot *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

enum ap_err ap_avail_parse_capacity(json_t *answer, int64_t bu, const char *tz,
                                    struct ap_avail_slot **out, size_t *n, int *mismatch)
{
    json_t *rows = json_object_get(answer, "availabilities"), *row;
    struct ap_avail_slot *v = NULL;
    size_t i, k = 0;

    *out = NULL;
    *n = 0;
    if (!json_is_array(rows))
        return AP_EPARSE;
    v = ap_xcalloc(json_array_size(rows) + 1, sizeof(*v));
    json_array_foreach (rows, i, row) {
        struct ap_avail_slot s = {0};
        json_t *open = json_object_get(row, "openAvailability");

        if (k >= SLOTS_MAX || !lists_bu(row, bu) ||
            !ap_time_parse(json_string_value(json_object_get(row, "startUtc")), &s.start) ||
            !ap_time_parse(json_string_value(json_object_get(row, "endUtc")), &s.end) ||
            s.end <= s.start)
            continue;
        s.open = json_is_number(open) ? json_number_value(open) : 0;
        s.st_available = json_is_true(json_object_get(row, "isAvailable"));
        if (mismatch &&
            !local_agrees(json_string_value(json_object_get(row, "start")), s.start, tz))
            (*mismatch)++;
        v[k++] = s;
    }
    qsort(v, k, sizeof(*v), slot_cmp);
    for (i = 1; i < k; i++) /* one slot per start */
        if (v[i].start == v[i - 1].start) {
            memmove(&v[i], &v[i + 1], (k - i - 1) * sizeof(*v));
            k--;
            i--;
        }
    if (k == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    *n = k;
    return AP_OK;
}

/* ---- days and the horizon ---------------------------------------------------- */

/* The instant of local midnight of day number `day` in zone. */
static enum ap_err midnight(const char *zone, int64_t day, int64_t *utc)
{
    struct ap_date d = ap_civil_from_days(day);
    return ap_tz_local_to_utc(zone, d.y, d.m, d.d, 0, 0, 0, utc);
}

/* The query's first and last+1 local day numbers, clipped to the horizon. */
static enum ap_err day_range(const struct ap_avail_query *q, int64_t *d0, int64_t *d1)
{
    struct ap_tz_local today;
    enum ap_err err = ap_tz_utc_to_local(q->sched->time_zone, q->now, &today);
    int64_t last;

    if (err)
        return err;
    last = ap_days_from_civil(today.y, today.mon, today.d) + q->sched->horizon_days - 1;
    *d0 = ap_days_from_civil(q->from.y, q->from.m, q->from.d);
    *d1 = *d0 + q->days;
    if (*d1 > last + 1)
        *d1 = last + 1;
    return AP_OK;
}

enum ap_err ap_avail_span(const struct ap_avail_query *q, int64_t *from, int64_t *to)
{
    int64_t d0, d1;
    enum ap_err err;

    if ((err = day_range(q, &d0, &d1)))
        return err;
    if (d1 <= d0) {
        *from = *to = 0;
        return AP_OK;
    }
    if ((err = midnight(q->sched->time_zone, d0, from)))
        return err;
    return midnight(q->sched->time_zone, d1, to);
}

/* ---- local capacity ------------------------------------------------------------ */

enum ap_err ap_avail_local_slots(const struct ap_avail_query *q, const struct ap_catalog *cat,
                                 int64_t from, int64_t to, struct ap_avail_slot **out, size_t *n)
{
    const char *zone = q->sched->time_zone;
    struct ap_tz_local l;
    size_t k = 0, cap = 0;
    enum ap_err err;

    *out = NULL;
    *n = 0;
    if (to <= from)
        return AP_OK;
    if ((err = ap_tz_utc_to_local(zone, from, &l)))
        return err;
    for (int64_t day = ap_days_from_civil(l.y, l.mon, l.d);; day++) {
        struct ap_date d = ap_civil_from_days(day);
        int64_t day_start;

        if ((err = midnight(zone, day, &day_start)) || day_start >= to)
            break;
        for (size_t i = 0; i < ap_catalog_count(cat, AP_CAT_ARRIVAL_WINDOW); i++) {
            const struct ap_cat_item *w = ap_catalog_at(cat, AP_CAT_ARRIVAL_WINDOW, i);
            int st, du;
            int64_t start;

            if (!w->active || w->deleted || !ap_catalog_window_times(w, &st, &du) ||
                !ap_catalog_job_has_bu(w, q->service->business_unit_id) ||
                ap_tz_local_to_utc(zone, d.y, d.m, d.d, st / 3600, st / 60 % 60, st % 60, &start) !=
                    AP_OK ||
                k >= SLOTS_MAX)
                continue;
            if (k == cap) {
                cap = cap ? cap * 2 : 32;
                *out = ap_xrealloc(*out, cap * sizeof(**out));
            }
            (*out)[k++] = (struct ap_avail_slot){start, start + du * AP_NS_PER_S,
                                                 (double)q->sched->per_window, true};
        }
    }
    qsort(*out, k, sizeof(**out), slot_cmp);
    *n = k;
    return err;
}

/* ---- the rules ------------------------------------------------------------------- */

bool ap_avail_slot_open(const struct ap_avail_query *q, const struct ap_avail_slot *s, double held)
{
    const struct ap_sched *sc = q->sched;
    struct ap_tz_local l;
    double free_ = s->open - held;

    if (s->start <= q->now || s->start - sc->min_notice_min * 60 * AP_NS_PER_S < q->now ||
        s->start - sc->close_before_min * 60 * AP_NS_PER_S <= q->now)
        return false;
    if (ap_tz_utc_to_local(sc->time_zone, s->start, &l) != AP_OK ||
        ap_sched_blackout(sc, (struct ap_date){l.y, l.mon, l.d}))
        return false;
    if (sc->capacity_local)
        return free_ >= 1;
    if (q->duration_s > 0)
        return free_ + 1e-9 >= (double)q->duration_s / 3600.0;
    return s->st_available && free_ > 1e-9;
}

bool ap_avail_format_local(const char *zone, int64_t utc, char out[40])
{
    struct ap_tz_local l;
    int off;

    if (ap_tz_utc_to_local(zone, utc, &l) != AP_OK)
        return false;
    off = l.offset_s < 0 ? -l.offset_s : l.offset_s;
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", l.y, l.mon, l.d, l.h, l.mi, l.s,
             l.offset_s < 0 ? '-' : '+', off / 3600, off / 60 % 60);
    return true;
}

json_t *ap_avail_windows(const struct ap_avail_query *q, const struct ap_avail_slot *slots,
                         size_t n, ap_avail_held_fn held, void *ud)
{
    json_t *arr = json_array();
    int64_t from, to;
    char a[40], b[40];

    if (ap_avail_span(q, &from, &to) != AP_OK)
        return arr;
    for (size_t i = 0; i < n; i++) {
        const struct ap_avail_slot *s = &slots[i];
        double h;

        if (s->start < from || s->start >= to ||
            !ap_avail_format_local(q->sched->time_zone, s->start, a) ||
            !ap_avail_format_local(q->sched->time_zone, s->end, b))
            continue;
        h = held ? held(ud, s->start) : 0;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "start", a, "end", b, "available",
                                             ap_avail_slot_open(q, s, h)));
    }
    return arr;
}

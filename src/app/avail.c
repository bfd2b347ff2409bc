/*
 * avail.c — the arithmetic of availability: capacity answers into slots,
 * slots into the windows a homeowner is offered. See avail.h.
 */
#include "app/avail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/catalog.h"
#include "core/buf.h"
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

/* The offset of the tenant's offset-less wall time local to the instant utc; false when the
 * text is absent or no offset (more than 18 hours, or not whole minutes). */
static bool st_offset(const char *local, int64_t utc, int32_t *out)
{
    int64_t as_utc, d;

    if (!local || !ap_time_parse(local, &as_utc))
        return false;
    d = (as_utc - utc) / AP_NS_PER_S;
    if (d < -18 * 3600 || d > 18 * 3600 || d % 60 != 0 || (as_utc - utc) % AP_NS_PER_S != 0)
        return false;
    *out = (int32_t)d;
    return true;
}

static int slot_cmp(const void *a, const void *b)
{
    const struct ap_avail_slot *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

enum ap_err ap_avail_parse_capacity(json_t *answer, int64_t bu, struct ap_avail_slot **out,
                                    size_t *n)
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
        s.has_st_offset =
            st_offset(json_string_value(json_object_get(row, "start")), s.start, &s.st_offset_s);
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

/* The query's first and last+1 local day numbers, clipped to today .. the horizon: past days
 * offer nothing (and are never asked of ServiceTitan). */
static enum ap_err day_range(const struct ap_avail_query *q, int64_t *d0, int64_t *d1)
{
    struct ap_tz_local today;
    enum ap_err err = ap_tz_utc_to_local(q->sched->time_zone, q->now, &today);
    int64_t first, last;

    if (err)
        return err;
    first = ap_days_from_civil(today.y, today.mon, today.d);
    last = first + q->sched->horizon_days - 1;
    *d0 = ap_days_from_civil(q->from.y, q->from.m, q->from.d);
    *d1 = *d0 + q->days;
    if (*d0 < first)
        *d0 = first;
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

/* The rules for slot s whose start is l in the scheduler's zone (see avail.h). */
static bool open_at(const struct ap_avail_query *q, const struct ap_avail_slot *s, double held,
                    const struct ap_tz_local *l)
{
    const struct ap_sched *sc = q->sched;
    double free_ = s->open - held;

    if (s->start <= q->now || s->start - sc->min_notice_min * 60 * AP_NS_PER_S < q->now ||
        s->start - sc->close_before_min * 60 * AP_NS_PER_S <= q->now)
        return false;
    if (ap_sched_blackout(sc, (struct ap_date){l->y, l->mon, l->d}))
        return false;
    if (sc->capacity_local)
        return free_ >= 1;
    if (q->duration_s > 0)
        return free_ + 1e-9 >= (double)q->duration_s / 3600.0;
    return s->st_available && free_ > 1e-9;
}

bool ap_avail_slot_open(const struct ap_avail_query *q, const struct ap_avail_slot *s, double held)
{
    struct ap_tz_local l;

    return ap_tz_utc_to_local(q->sched->time_zone, s->start, &l) == AP_OK &&
           open_at(q, s, held, &l);
}

/* v (0..99) as two digits into p. */
static char *two(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* RFC 3339 of the local time l with its offset ("2026-03-08T08:00:00-05:00") into out. This runs
 * twice per window of every answer, hence no printf. */
static void format_local(const struct ap_tz_local *l, char out[40])
{
    int off = l->offset_s < 0 ? -l->offset_s : l->offset_s;
    char *p = out;

    if (l->y < 0 || l->y > 9999) { /* not an instant of int64 nanoseconds */
        snprintf(out, 40, "%d-%02d-%02dT%02d:%02d:%02d", l->y, l->mon, l->d, l->h, l->mi, l->s);
        return;
    }
    p = two(two(p, l->y / 100), l->y % 100);
    *p++ = '-';
    p = two(p, l->mon);
    *p++ = '-';
    p = two(p, l->d);
    *p++ = 'T';
    p = two(p, l->h);
    *p++ = ':';
    p = two(p, l->mi);
    *p++ = ':';
    p = two(p, l->s);
    *p++ = l->offset_s < 0 ? '-' : '+';
    p = two(p, off / 3600 % 100);
    *p++ = ':';
    p = two(p, off / 60 % 60);
    *p = '\0';
}

bool ap_avail_format_local(const char *zone, int64_t utc, char out[40])
{
    struct ap_tz_local l;

    if (ap_tz_utc_to_local(zone, utc, &l) != AP_OK)
        return false;
    format_local(&l, out);
    return true;
}

/* One window as offered. */
struct window {
    char start[40], end[40];
    bool available;
};

typedef void (*window_fn)(void *sink, const struct window *w);

/* The windows of the slots that start within the query's span, in order, to sink. */
static void each_window(const struct ap_avail_query *q, const struct ap_avail_slot *slots, size_t n,
                        ap_avail_held_fn held, void *ud, int *tz_mismatch, window_fn fn, void *sink)
{
    int64_t from, to;

    if (tz_mismatch)
        *tz_mismatch = 0;
    if (ap_avail_span(q, &from, &to) != AP_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct ap_avail_slot *s = &slots[i];
        struct ap_tz_local l;
        struct window w;

        if (s->start < from || s->start >= to ||
            ap_tz_utc_to_local(q->sched->time_zone, s->start, &l) != AP_OK ||
            !ap_avail_format_local(q->sched->time_zone, s->end, w.end))
            continue;
        format_local(&l, w.start);
        if (tz_mismatch && s->has_st_offset && s->st_offset_s != l.offset_s)
            (*tz_mismatch)++;
        w.available = open_at(q, s, held ? held(ud, s->start) : 0, &l);
        fn(sink, &w);
    }
}

static void window_json(void *sink, const struct window *w)
{
    json_array_append_new(sink, json_pack("{s:s, s:s, s:b}", "start", w->start, "end", w->end,
                                          "available", w->available));
}

json_t *ap_avail_windows(const struct ap_avail_query *q, const struct ap_avail_slot *slots,
                         size_t n, ap_avail_held_fn held, void *ud, int *tz_mismatch)
{
    json_t *arr = json_array();

    each_window(q, slots, n, held, ud, tz_mismatch, window_json, arr);
    return arr;
}

struct text_sink {
    struct ap_buf *b;
    bool first;
    enum ap_err err;
};

static void window_text(void *sink, const struct window *w)
{
    struct text_sink *t = sink;
    const char *parts[] = {t->first ? "{\"start\":\"" : ",{\"start\":\"", w->start, "\",\"end\":\"",
                           w->end,
                           w->available ? "\",\"available\":true}" : "\",\"available\":false}"};

    t->first = false;
    /* the texts are digits and punctuation: nothing to escape */
    for (size_t i = 0; i < AP_COUNTOF(parts) && !t->err; i++)
        t->err = ap_buf_puts(t->b, parts[i]);
}

enum ap_err ap_avail_windows_text(const struct ap_avail_query *q, const struct ap_avail_slot *slots,
                                  size_t n, ap_avail_held_fn held, void *ud, int *tz_mismatch,
                                  struct ap_buf *out)
{
    struct text_sink t = {out, true, ap_buf_puts(out, "[")};

    each_window(q, slots, n, held, ud, tz_mismatch, window_text, &t);
    return t.err ? t.err : ap_buf_puts(out, "]");
}

/*
 * capacity.c — the emulated Dispatch capacity query (POST .../capacity).
 *
 * The model (listed under "assumptions" in docs/stsim.md):
 *  - One availability per (local day, active arrival window, business unit):
 *    the window's wall-clock start on that day in the tenant's zone, plus its
 *    duration. A window serves the business units it lists (all when it lists
 *    none); the request's businessUnitIds (else the job type's, else all)
 *    narrow them. Only windows lying wholly inside [startsOnOrAfter,
 *    endsOnOrBefore] are returned (offset-less inputs are UTC).
 *  - totalAvailability: hours of the unit's active technicians' Normal shifts
 *    overlapping the window, minus their TimeOff overlapping it (per
 *    technician, never below 0). OnCall shifts add nothing. With
 *    skillBasedAvailability and a jobTypeId whose type lists skills, only
 *    technicians having all of them count.
 *  - openAvailability: total minus booked hours, never below 0. An appointment
 *    (not Canceled, its job not Canceled) books the window its start falls in,
 *    for its job's business unit, consuming its job type's duration (else its
 *    own length).
 *  - a technician is Available when one Normal shift covers the whole window,
 *    no TimeOff overlaps it, and no appointment assigned to them overlaps it.
 *  - isAvailable: open > 0 and open ≥ the job type's duration (when given);
 *    isExceedingIdealBookingPercentage: booked > 80 % of total.
 * Everything is computed per request from the tables (no cache): the rows are
 * first filtered into flat arrays so the loop over windows stays cheap.
 */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "sim/dispatch/dispatch_int.h"
#include "tz/tz.h"

#define IDEAL_BOOKING 0.8
#define MAX_BU_IDS    200

struct cap_tech {
    int64_t id;
    const char *name;
    int64_t bu;
    int skilled; /* -1 unknown (null), 0 no, 1 yes */
};

struct cap_span { /* a shift, or an assigned appointment (busy) */
    int64_t start, end;
    size_t tech; /* index into techs */
    int kind;    /* SPAN_* */
};

enum { SPAN_NORMAL, SPAN_TIMEOFF, SPAN_BUSY };

struct cap_appt {
    int64_t id, start, end, bu, secs;
};

struct cap_win {
    int start_s, dur_s;
    const json_t *bus; /* businessUnitIds of the window */
};

struct cap_ctx {
    struct sim_call *c;
    struct sim_tenant *t;
    const char *zone;
    int64_t from, to;   /* request range, ns */
    int64_t need_secs;  /* job type duration, 0 = none */
    json_t *job_skills; /* of the job type when skill-based; borrowed */
    int64_t *bus;
    size_t nbus;
    struct cap_tech *techs;
    size_t ntechs;
    struct cap_span *spans;
    size_t nspans, capspans;
    struct cap_appt *appts;
    size_t nappts;
    struct cap_win *wins;
    size_t nwins;
};

/* ---- small helpers ------------------------------------------------------ */

static int64_t jint(const json_t *row, const char *key)
{
    return json_integer_value(json_object_get(row, key));
}

static bool jtime(const json_t *row, const char *key, int64_t *ns)
{
    const char *s = json_string_value(json_object_get(row, key));

    return s && ap_time_parse(s, ns);
}

static bool active(const json_t *row)
{
    const json_t *a = json_object_get(row, "active");

    return !a || json_is_true(a);
}

static bool int_in(const json_t *arr, int64_t v)
{
    size_t i;
    json_t *x;

    json_array_foreach (arr, i, x)
        if (json_integer_value(x) == v)
            return true;
    return false;
}

static int64_t overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
    int64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;

    return hi > lo ? hi - lo : 0;
}

static void *arena_array(struct sim_call *c, size_t n, size_t size)
{
    return ap_arena_alloc(ap_http_arena(c->req), (n ? n : 1) * size);
}

/* ---- the request -------------------------------------------------------- */

static const struct sim_field cap_fields[] = {
    {"startsOnOrAfter", SIM_F_TIME, true, false},
    {"endsOnOrBefore", SIM_F_TIME, true, false},
    {"businessUnitIds", SIM_F_ARR, false, true},
    {"jobTypeId", SIM_F_INT, false, true},
    {"skillBasedAvailability", SIM_F_BOOL, true, false},
};

/* Range and limit checks; answers 400 itself and returns false. */
static bool cap_range(struct cap_ctx *x)
{
    struct sim_call *c = x->c;
    int64_t max = (int64_t)c->sim->cfg.capacity_max_days * 86400 * AP_NS_PER_S;

    ap_time_parse(json_string_value(json_object_get(c->body, "startsOnOrAfter")), &x->from);
    ap_time_parse(json_string_value(json_object_get(c->body, "endsOnOrBefore")), &x->to);
    if (x->to < x->from) {
        sim_problem_field(c, "endsOnOrBefore",
                          "The field endsOnOrBefore must not be before "
                          "startsOnOrAfter.");
        return false;
    }
    if (max > 0 && x->to - x->from > max) {
        sim_problem_field(c, "endsOnOrBefore", "The date range may not exceed %d days.",
                          c->sim->cfg.capacity_max_days);
        return false;
    }
    return true;
}

/* The job type (sizes the slots, may narrow units and skills); false after a 400. */
static bool cap_job_type(struct cap_ctx *x, const json_t **jt)
{
    const json_t *id = json_object_get(x->c->body, "jobTypeId");

    *jt = NULL;
    if (!id || json_is_null(id))
        return true;
    *jt = sim_get(x->t, SIM_JOB_TYPE, json_integer_value(id));
    if (!*jt) {
        sim_problem_field(x->c, "jobTypeId", "Job type %lld was not found.",
                          (long long)json_integer_value(id));
        return false;
    }
    x->need_secs = jint(*jt, "duration");
    if (json_is_true(json_object_get(x->c->body, "skillBasedAvailability")) &&
        json_array_size(json_object_get(*jt, "skills")) > 0)
        x->job_skills = json_object_get(*jt, "skills");
    return true;
}

/* The business units served: requested ∩ existing (else the job type's, else all active). */
static bool cap_units(struct cap_ctx *x, const json_t *jt)
{
    const json_t *want = json_object_get(x->c->body, "businessUnitIds");
    size_t n = sim_count(x->t, SIM_BUSINESS_UNIT), i;
    json_t *v;

    if (json_is_array(want)) {
        if (json_array_size(want) > MAX_BU_IDS) {
            sim_problem_field(x->c, "businessUnitIds", "At most %d ids are allowed.", MAX_BU_IDS);
            return false;
        }
        json_array_foreach (want, i, v)
            if (!json_is_integer(v)) {
                sim_problem_field(x->c, "businessUnitIds", "Each item must be an integer.");
                return false;
            }
    } else if (jt && json_array_size(json_object_get(jt, "businessUnitIds")) > 0) {
        want = json_object_get(jt, "businessUnitIds");
    } else {
        want = NULL;
    }
    x->bus = arena_array(x->c, n, sizeof(*x->bus));
    for (i = 0; i < n; i++) {
        const json_t *bu = sim_at(x->t, SIM_BUSINESS_UNIT, i);
        int64_t id = sim_row_id(bu);

        if (active(bu) && (!want || int_in(want, id)))
            x->bus[x->nbus++] = id;
    }
    return true;
}

static int tech_skilled(const struct cap_ctx *x, const json_t *tech)
{
    const json_t *have = json_object_get(tech, "skills");
    size_t i, j;
    json_t *need, *h;

    if (!x->job_skills)
        return -1;
    json_array_foreach (x->job_skills, i, need) {
        bool found = false;

        json_array_foreach (have, j, h) {
            const char *name = json_string_value(json_object_get(h, "name"));

            if (name && json_string_value(need) && strcmp(name, json_string_value(need)) == 0)
                found = true;
        }
        if (!found)
            return 0;
    }
    return 1;
}

static bool bu_wanted(const struct cap_ctx *x, int64_t bu)
{
    for (size_t i = 0; i < x->nbus; i++)
        if (x->bus[i] == bu)
            return true;
    return false;
}

static void cap_techs(struct cap_ctx *x)
{
    size_t n = sim_count(x->t, SIM_TECHNICIAN);

    x->techs = arena_array(x->c, n, sizeof(*x->techs));
    for (size_t i = 0; i < n; i++) {
        const json_t *r = sim_at(x->t, SIM_TECHNICIAN, i);
        struct cap_tech *k;

        if (!active(r) || !bu_wanted(x, jint(r, "businessUnitId")))
            continue;
        k = &x->techs[x->ntechs++];
        k->id = sim_row_id(r);
        k->name = json_string_value(json_object_get(r, "name"));
        k->name = k->name ? k->name : "";
        k->bu = jint(r, "businessUnitId");
        k->skilled = tech_skilled(x, r);
    }
}

static bool tech_index(const struct cap_ctx *x, int64_t id, size_t *out)
{
    size_t lo = 0, hi = x->ntechs;

    while (lo < hi) { /* techs are in ascending id order, as their table */
        size_t mid = (lo + hi) / 2;

        if (x->techs[mid].id == id) {
            *out = mid;
            return true;
        }
        if (x->techs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static void span_add(struct cap_ctx *x, int64_t start, int64_t end, size_t tech, int kind)
{
    if (x->nspans == x->capspans) {
        x->capspans = x->capspans ? x->capspans * 2 : 64;
        x->spans = ap_xrealloc(x->spans, x->capspans * sizeof(*x->spans));
    }
    x->spans[x->nspans++] = (struct cap_span){start, end, tech, kind};
}

static void cap_shifts(struct cap_ctx *x)
{
    size_t n = sim_count(x->t, SIM_TECHNICIAN_SHIFT), ti;
    int64_t s, e;

    for (size_t i = 0; i < n; i++) {
        const json_t *r = sim_at(x->t, SIM_TECHNICIAN_SHIFT, i);
        const char *type = json_string_value(json_object_get(r, "shiftType"));
        int kind;

        if (!active(r) || !type || !tech_index(x, jint(r, "technicianId"), &ti))
            continue;
        if (strcmp(type, "Normal") == 0)
            kind = SPAN_NORMAL;
        else if (strcmp(type, "TimeOff") == 0)
            kind = SPAN_TIMEOFF;
        else
            continue;
        if (jtime(r, "start", &s) && jtime(r, "end", &e) && e > x->from && s < x->to)
            span_add(x, s, e, ti, kind);
    }
}

/* Seconds an appointment books: its job type's duration, else its own length. */
static int64_t appt_secs(struct sim_tenant *t, const json_t *job, int64_t s, int64_t e)
{
    const json_t *jt = sim_get(t, SIM_JOB_TYPE, jint(job, "jobTypeId"));
    int64_t d = jt ? jint(jt, "duration") : 0;

    return d > 0 ? d : (e - s) / AP_NS_PER_S;
}

static bool booked(const json_t *appt, const json_t *job)
{
    const char *st = json_string_value(json_object_get(appt, "status"));
    const char *js = json_string_value(json_object_get(job, "jobStatus"));

    return active(appt) && !(st && strcmp(st, "Canceled") == 0) &&
           !(js && strcmp(js, "Canceled") == 0);
}

static void cap_appts(struct cap_ctx *x)
{
    size_t n = sim_count(x->t, SIM_APPOINTMENT);

    x->appts = arena_array(x->c, n, sizeof(*x->appts));
    for (size_t i = 0; i < n; i++) {
        const json_t *r = sim_at(x->t, SIM_APPOINTMENT, i);
        const json_t *job;
        int64_t s, e;

        if (!jtime(r, "start", &s) || !jtime(r, "end", &e) || e <= x->from || s >= x->to)
            continue;
        job = sim_get(x->t, SIM_JOB, jint(r, "jobId"));
        if (!job || !booked(r, job))
            continue;
        x->appts[x->nappts++] = (struct cap_appt){sim_row_id(r), s, e, jint(job, "businessUnitId"),
                                                  appt_secs(x->t, job, s, e)};
    }
}

static const struct cap_appt *appt_find(const struct cap_ctx *x, int64_t id)
{
    size_t lo = 0, hi = x->nappts;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (x->appts[mid].id == id)
            return &x->appts[mid];
        if (x->appts[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Appointments assigned to our technicians make them busy. */
static void cap_busy(struct cap_ctx *x)
{
    size_t n = sim_count(x->t, SIM_APPOINTMENT_ASSIGNMENT), ti;

    for (size_t i = 0; i < n; i++) {
        const json_t *r = sim_at(x->t, SIM_APPOINTMENT_ASSIGNMENT, i);
        const struct cap_appt *a;

        if (!active(r) || !tech_index(x, jint(r, "technicianId"), &ti))
            continue;
        a = appt_find(x, jint(r, "appointmentId"));
        if (a)
            span_add(x, a->start, a->end, ti, SPAN_BUSY);
    }
}

static void cap_windows(struct cap_ctx *x)
{
    size_t n = sim_count(x->t, SIM_ARRIVAL_WINDOW);

    x->wins = arena_array(x->c, n, sizeof(*x->wins));
    for (size_t i = 0; i < n; i++) {
        const json_t *r = sim_at(x->t, SIM_ARRIVAL_WINDOW, i);
        struct cap_win w = {0, 0, json_object_get(r, "businessUnitIds")};

        if (!active(r) ||
            !sim_dispatch_timespan(json_string_value(json_object_get(r, "start")), &w.start_s) ||
            !sim_dispatch_timespan(json_string_value(json_object_get(r, "duration")), &w.dur_s) ||
            w.dur_s <= 0)
            continue;
        x->wins[x->nwins++] = w;
    }
    /* by start time of day, so each day's windows come out in order */
    for (size_t i = 1; i < x->nwins; i++)
        for (size_t j = i; j > 0 && x->wins[j - 1].start_s > x->wins[j].start_s; j--) {
            struct cap_win tmp = x->wins[j];

            x->wins[j] = x->wins[j - 1];
            x->wins[j - 1] = tmp;
        }
}

/* ---- one availability ----------------------------------------------------- */

struct cap_slot {
    int64_t ws, we; /* ns */
    json_t *start, *end, *start_utc, *end_utc;
};

/* Capacity seconds of technician ti in the slot, and whether it is Available. */
static int64_t tech_secs(const struct cap_ctx *x, size_t ti, const struct cap_slot *sl, bool *avail)
{
    int64_t on = 0, off = 0;
    bool covered = false, blocked = false;

    for (size_t i = 0; i < x->nspans; i++) {
        const struct cap_span *sp = &x->spans[i];
        int64_t o;

        if (sp->tech != ti)
            continue;
        o = overlap(sp->start, sp->end, sl->ws, sl->we);
        if (sp->kind == SPAN_NORMAL) {
            on += o;
            covered = covered || (sp->start <= sl->ws && sp->end >= sl->we);
        } else {
            off += sp->kind == SPAN_TIMEOFF ? o : 0;
            blocked = blocked || o > 0;
        }
    }
    *avail = covered && !blocked;
    return on > off ? (on - off) / AP_NS_PER_S : 0;
}

static json_t *slot_json(const struct cap_ctx *x, const struct cap_slot *sl, int64_t bu)
{
    json_t *techs = json_array();
    int64_t total = 0, used = 0, open;
    double ftotal, fopen;

    for (size_t i = 0; i < x->ntechs; i++) {
        const struct cap_tech *k = &x->techs[i];
        bool avail;
        int64_t secs;

        if (k->bu != bu)
            continue;
        secs = tech_secs(x, i, sl, &avail);
        if (k->skilled != 0)
            total += secs;
        json_array_append_new(
            techs, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)k->id, "name", k->name,
                             "status", avail ? "Available" : "Unavailable", "hasRequiredSkills",
                             k->skilled < 0 ? json_null() : json_boolean(k->skilled)));
    }
    for (size_t i = 0; i < x->nappts; i++)
        if (x->appts[i].bu == bu && x->appts[i].start >= sl->ws && x->appts[i].start < sl->we)
            used += x->appts[i].secs;
    open = total > used ? total - used : 0;
    ftotal = (double)total / 3600.0;
    fopen = (double)open / 3600.0;
    return json_pack("{s:O, s:O, s:O, s:O, s:[I], s:f, s:f, s:o, s:b, s:b}", "start", sl->start,
                     "end", sl->end, "startUtc", sl->start_utc, "endUtc", sl->end_utc,
                     "businessUnitIds", (json_int_t)bu, "totalAvailability", ftotal,
                     "openAvailability", fopen, "technicians", techs, "isAvailable",
                     open > 0 && open >= x->need_secs, "isExceedingIdealBookingPercentage",
                     total > 0 && (double)used > IDEAL_BOOKING * (double)total);
}

static json_t *local_json(const char *zone, int64_t ns)
{
    struct ap_tz_local l;
    char buf[40];

    if (ap_tz_utc_to_local(zone, ns, &l) != AP_OK)
        memset(&l, 0, sizeof(l));
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", l.y, l.mon, l.d, l.h, l.mi, l.s);
    return json_string(buf);
}

/* The availabilities of window w on local day (y, mon, d), appended to out. */
static void cap_day_window(struct cap_ctx *x, const struct cap_win *w, int y, int mon, int d,
                           json_t *out)
{
    struct cap_slot sl;
    int h = w->start_s / 3600, mi = w->start_s / 60 % 60, s = w->start_s % 60;

    if (ap_tz_local_to_utc(x->zone, y, mon, d, h, mi, s, &sl.ws) != AP_OK)
        return;
    sl.we = sl.ws + (int64_t)w->dur_s * AP_NS_PER_S;
    if (sl.ws < x->from || sl.we > x->to)
        return;
    sl.start = local_json(x->zone, sl.ws);
    sl.end = local_json(x->zone, sl.we);
    sl.start_utc = sim_time_json(sl.ws);
    sl.end_utc = sim_time_json(sl.we);
    for (size_t b = 0; b < x->nbus; b++)
        if (json_array_size(w->bus) == 0 || int_in(w->bus, x->bus[b]))
            json_array_append_new(out, slot_json(x, &sl, x->bus[b]));
    json_decref(sl.start);
    json_decref(sl.end);
    json_decref(sl.start_utc);
    json_decref(sl.end_utc);
}

static json_t *cap_availabilities(struct cap_ctx *x)
{
    json_t *out = json_array();
    struct ap_tz_local a, b;
    int64_t day, last;

    if (ap_tz_utc_to_local(x->zone, x->from, &a) != AP_OK ||
        ap_tz_utc_to_local(x->zone, x->to, &b) != AP_OK)
        return out;
    last = ap_days_from_civil(b.y, b.mon, b.d);
    for (day = ap_days_from_civil(a.y, a.mon, a.d); day <= last; day++) {
        struct ap_date dt = ap_civil_from_days(day);

        for (size_t i = 0; i < x->nwins; i++)
            cap_day_window(x, &x->wins[i], dt.y, dt.m, dt.d, out);
    }
    return out;
}

void sim_dispatch_capacity(struct sim_call *c)
{
    struct cap_ctx x = {.c = c, .t = c->tenant, .zone = sim_dispatch_zone(c->tenant)};
    const json_t *jt;

    if (!sim_check_body(c, cap_fields, AP_COUNTOF(cap_fields)) || !cap_range(&x) ||
        !cap_job_type(&x, &jt) || !cap_units(&x, jt))
        return;
    cap_techs(&x);
    cap_shifts(&x);
    cap_appts(&x);
    cap_busy(&x);
    cap_windows(&x);
    sim_reply(c, 200,
              json_pack("{s:o, s:o}", "timeStamp", sim_time_json(sim_now(c->sim)), "availabilities",
                        cap_availabilities(&x)));
    free(x.spans);
}

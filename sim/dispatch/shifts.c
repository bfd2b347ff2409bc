/*
 * shifts.c — stsim's technician shifts (list with filters, get, create with
 * repeats, patch, delete, bulk delete) and appointment assignments (list,
 * assign, unassign, export feed), both under /dispatch/v2.
 *
 * Repeating shifts are expanded into one row per occurrence at creation, on
 * the tenant's wall clock (a daily 08:00 shift stays 08:00 across DST).
 * Unassigning keeps the assignment row, inactive, so the export feed and
 * active=Any lists show it; assigning a technician who already holds an
 * active assignment on the appointment is 409 (no replace operation).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "sim/dispatch/dispatch_int.h"
#include "tz/tz.h"

#define MAX_OCCURRENCES 400 /* per technician and request */
#define MAX_TECHS       100 /* technicianIds per request */
#define MAX_FILTER_IDS  50

static const char *const sort_std[] = {"Id", "CreatedOn", "ModifiedOn", NULL};

static int64_t jint(const json_t *row, const char *key)
{
    return json_integer_value(json_object_get(row, key));
}

static bool one_of(const char *v, const char *const *set)
{
    for (; v && *set; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

static const char *const shift_types[] = {"Normal", "OnCall", "TimeOff", NULL};

/* ---- shift list ------------------------------------------------------------- */

struct shift_filter {
    bool has_from, has_to, has_tech;
    int64_t from, to, tech;
    const char *type, *title, *note;
};

static bool shift_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    const struct shift_filter *f = ud;
    int64_t s = 0, e = 0;
    const char *title = json_string_value(json_object_get(row, "title"));
    const char *note = json_string_value(json_object_get(row, "note"));

    ap_time_parse(json_string_value(json_object_get(row, "start")), &s);
    ap_time_parse(json_string_value(json_object_get(row, "end")), &e);
    if ((f->has_from && s < f->from) || (f->has_to && e > f->to))
        return false;
    if (f->has_tech && jint(row, "technicianId") != f->tech)
        return false;
    if (f->type && strcmp(f->type, json_string_value(json_object_get(row, "shiftType"))) != 0)
        return false;
    if (f->title && (!title || !strcasestr(title, f->title)))
        return false;
    return !f->note || (note && strcasestr(note, f->note));
}

/* Query time q into *out; answers 400 and returns false when bad. */
static bool query_time(struct sim_call *c, const char *name, bool *has, int64_t *out)
{
    const char *v = sim_query(c->req, name);

    *has = v && *v;
    if (*has && !ap_time_parse(v, out)) {
        sim_problem_field(c, name, "The value '%.40s' is not a valid date-time.", v);
        return false;
    }
    return true;
}

static bool query_id(struct sim_call *c, const char *name, bool *has, int64_t *out)
{
    const char *v = sim_query(c->req, name);
    char *end;
    long long n;

    *has = v && *v;
    if (!*has)
        return true;
    n = strtoll(v, &end, 10);
    if (*end || n <= 0) {
        sim_problem_field(c, name, "The value '%.40s' is not a valid id.", v);
        return false;
    }
    *out = n;
    return true;
}

static void shift_list(struct sim_call *c)
{
    struct shift_filter f = {0};
    struct sim_list_opts o = {.active_filter = true,
                              .active_default = "True",
                              .sort = sort_std,
                              .dates = true,
                              .match = shift_match,
                              .ud = &f};

    if (!query_time(c, "startsOnOrAfter", &f.has_from, &f.from) ||
        !query_time(c, "endsOnOrBefore", &f.has_to, &f.to) ||
        !query_id(c, "technicianId", &f.has_tech, &f.tech))
        return;
    f.type = sim_query(c->req, "shiftType");
    if (f.type && !*f.type)
        f.type = NULL;
    if (f.type && !one_of(f.type, shift_types)) {
        sim_problem_field(c, "shiftType", "The value must be Normal, OnCall or TimeOff.");
        return;
    }
    f.title = sim_query(c->req, "titleContains");
    f.note = sim_query(c->req, "noteContains");
    sim_list(c, SIM_TECHNICIAN_SHIFT, &o);
}

static json_t *shift_row(struct sim_call *c)
{
    int64_t id;
    json_t *row;

    if (!sim_param_id(c, "id", &id))
        return NULL;
    row = sim_get(c->tenant, SIM_TECHNICIAN_SHIFT, id);
    if (!row)
        sim_not_found(c, "Technician shift not found");
    return row;
}

static void shift_get(struct sim_call *c)
{
    json_t *row = shift_row(c);

    if (row)
        sim_reply(c, 200, sim_public(row));
}

/* ---- shift create ------------------------------------------------------------ */

static const struct sim_field shift_fields[] = {
    {"technicianIds", SIM_F_ARR, true, false},
    {"shiftType", SIM_F_STR, true, false},
    {"title", SIM_F_STR, true, false},
    {"start", SIM_F_TIME, true, false},
    {"end", SIM_F_TIME, true, false},
    {"note", SIM_F_STR, false, true},
    {"timesheetCodeId", SIM_F_INT, false, true},
    {"repeatType", SIM_F_STR, true, false},
    {"repeatEndDate", SIM_F_TIME, false, true},
    {"repeatInterval", SIM_F_INT, false, true},
    {"shiftDays", SIM_F_STR, false, true},
};

struct repeat {
    int kind; /* 0 never, 1 daily, 2 weekly */
    int interval;
    int64_t until;  /* ns, inclusive */
    unsigned wdays; /* weekly: bit per weekday (0 = Sunday); 0 = the start's */
};

static bool parse_days(const char *s, unsigned *mask)
{
    static const char *const names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    char buf[128];
    char *save = NULL, *tok;

    *mask = 0;
    if (!s)
        return true;
    snprintf(buf, sizeof(buf), "%s", s);
    for (tok = strtok_r(buf, ", ;|", &save); tok; tok = strtok_r(NULL, ", ;|", &save)) {
        int i;

        for (i = 0; i < 7 && strncasecmp(tok, names[i], 3) != 0; i++)
            ;
        if (i == 7)
            return false;
        *mask |= 1u << i;
    }
    return true;
}

/* Checks the body's rule fields; false after a 400. */
static bool shift_rules(struct sim_call *c, int64_t *start, int64_t *end, struct repeat *rp)
{
    static const char *const repeats[] = {"Never", "Daily", "Weekly", NULL};
    const json_t *b = c->body;
    const char *rt = json_string_value(json_object_get(b, "repeatType"));
    const json_t *iv = json_object_get(b, "repeatInterval");

    if (!one_of(json_string_value(json_object_get(b, "shiftType")), shift_types)) {
        sim_problem_field(c, "shiftType", "The value must be Normal, OnCall or TimeOff.");
        return false;
    }
    if (!*json_string_value(json_object_get(b, "title"))) {
        sim_problem_field(c, "title", "The title must not be empty.");
        return false;
    }
    if (!one_of(rt, repeats)) {
        sim_problem_field(c, "repeatType", "The value must be Never, Daily or Weekly.");
        return false;
    }
    ap_time_parse(json_string_value(json_object_get(b, "start")), start);
    ap_time_parse(json_string_value(json_object_get(b, "end")), end);
    if (*end <= *start) {
        sim_problem_field(c, "end", "The end must be after the start.");
        return false;
    }
    if (json_array_size(json_object_get(b, "technicianIds")) == 0 ||
        json_array_size(json_object_get(b, "technicianIds")) > MAX_TECHS) {
        sim_problem_field(c, "technicianIds", "Give 1 to %d technician ids.", MAX_TECHS);
        return false;
    }
    rp->kind = rt[0] == 'N' ? 0 : rt[0] == 'D' ? 1 : 2;
    rp->interval = json_is_integer(iv) ? (int)json_integer_value(iv) : 1;
    if (rp->kind && (rp->interval < 1 || rp->interval > 52)) {
        sim_problem_field(c, "repeatInterval", "The interval must be 1 to 52.");
        return false;
    }
    if (rp->kind &&
        !ap_time_parse(json_string_value(json_object_get(b, "repeatEndDate")), &rp->until)) {
        sim_problem_field(c, "repeatEndDate", "A repeating shift needs repeatEndDate.");
        return false;
    }
    if (!parse_days(json_string_value(json_object_get(b, "shiftDays")), &rp->wdays)) {
        sim_problem_field(c, "shiftDays", "Give weekday names, e.g. \"Monday,Friday\".");
        return false;
    }
    return sim_dispatch_check_ids(c, json_object_get(b, "technicianIds"), SIM_TECHNICIAN,
                                  "technicianIds", "Technician");
}

static json_t *shift_new(const json_t *b, int64_t tech, int64_t start, int64_t end)
{
    const json_t *note = json_object_get(b, "note"), *ts = json_object_get(b, "timesheetCodeId");

    return json_pack("{s:I, s:O, s:O, s:O, s:b, s:o, s:o, s:O}", "technicianId", (json_int_t)tech,
                     "shiftType", json_object_get(b, "shiftType"), "title",
                     json_object_get(b, "title"), "note", note ? note : json_null(), "active", 1,
                     "start", sim_time_json(start), "end", sim_time_json(end), "timesheetCodeId",
                     ts ? ts : json_null());
}

/* Occurrence starts of the rule, in the tenant's wall clock; returns how many. */
static size_t occurrences(const char *zone, int64_t start, const struct repeat *rp, int64_t *out)
{
    struct ap_tz_local l;
    int64_t day0;
    size_t n = 0;

    if (rp->kind == 0 || ap_tz_utc_to_local(zone, start, &l) != AP_OK) {
        out[0] = start;
        return 1;
    }
    day0 = ap_days_from_civil(l.y, l.mon, l.d);
    for (int64_t k = 0; n < MAX_OCCURRENCES && k < 366 * 2; k++) {
        int wday = (int)((l.wday + k) % 7);
        int64_t t;
        struct ap_date dt;
        unsigned mask = rp->wdays ? rp->wdays : 1u << l.wday;

        if (rp->kind == 1 && k % rp->interval != 0)
            continue;
        if (rp->kind == 2 && ((k / 7) % rp->interval != 0 || !(mask & (1u << wday))))
            continue;
        dt = ap_civil_from_days(day0 + k);
        if (ap_tz_local_to_utc(zone, dt.y, dt.m, dt.d, l.h, l.mi, l.s, &t) != AP_OK ||
            t > rp->until)
            break;
        out[n++] = t;
    }
    return n ? n : (out[0] = start, 1);
}

static void shift_create(struct sim_call *c)
{
    int64_t start, end, *occ = NULL;
    struct repeat rp;
    json_t *out, *tech;
    size_t i, n;

    if (!sim_check_body(c, shift_fields, AP_COUNTOF(shift_fields)) ||
        !shift_rules(c, &start, &end, &rp))
        return;
    occ = ap_xmalloc(MAX_OCCURRENCES * sizeof(*occ));
    n = occurrences(sim_dispatch_zone(c->tenant), start, &rp, occ);
    out = json_array();
    json_array_foreach (json_object_get(c->body, "technicianIds"), i, tech) {
        for (size_t k = 0; k < n; k++) {
            json_t *row =
                shift_new(c->body, json_integer_value(tech), occ[k], occ[k] + end - start);

            row = sim_get(c->tenant, SIM_TECHNICIAN_SHIFT,
                          sim_add(c->sim, c->tenant, SIM_TECHNICIAN_SHIFT, row));
            json_array_append_new(out, sim_public(row));
        }
    }
    free(occ);
    sim_reply(c, 200, json_pack("{s:b, s:o}", "created", 1, "technicianShifts", out));
}

/* ---- shift update / delete ---------------------------------------------------------- */

static void shift_patch(struct sim_call *c)
{
    static const struct sim_field f[] = {
        {"shiftType", SIM_F_STR, false, false}, {"title", SIM_F_STR, false, false},
        {"start", SIM_F_TIME, false, false},    {"end", SIM_F_TIME, false, false},
        {"note", SIM_F_STR, false, true},       {"timesheetCodeId", SIM_F_INT, false, true},
    };
    json_t *row = shift_row(c), *v;
    const char *type;
    int64_t s = 0, e = 0;

    if (!row || !sim_check_body(c, f, AP_COUNTOF(f)))
        return;
    type = json_string_value(json_object_get(c->body, "shiftType"));
    if (type && !one_of(type, shift_types)) {
        sim_problem_field(c, "shiftType", "The value must be Normal, OnCall or TimeOff.");
        return;
    }
    v = json_object_get(c->body, "start");
    ap_time_parse(json_string_value(v ? v : json_object_get(row, "start")), &s);
    v = json_object_get(c->body, "end");
    ap_time_parse(json_string_value(v ? v : json_object_get(row, "end")), &e);
    if (e <= s) {
        sim_problem_field(c, "end", "The end must be after the start.");
        return;
    }
    for (size_t i = 0; i < AP_COUNTOF(f); i++) {
        v = json_object_get(c->body, f[i].name);
        if (v && i >= 2 && i <= 3) /* times go out in the house format */
            json_object_set_new(row, f[i].name, sim_time_json(i == 2 ? s : e));
        else if (v)
            json_object_set(row, f[i].name, v);
    }
    sim_touch(c->sim, c->tenant, SIM_TECHNICIAN_SHIFT, row, true);
    sim_reply(c, 200, json_pack("{s:[o]}", "technicianShifts", sim_public(row)));
}

static void shift_delete(struct sim_call *c)
{
    json_t *row = shift_row(c);
    int64_t id;

    if (!row)
        return;
    id = sim_row_id(row);
    sim_remove(c->sim, c->tenant, SIM_TECHNICIAN_SHIFT, id);
    sim_reply(c, 200,
              json_pack("{s:s, s:I}", "message", "Technician shift deleted", "id", (json_int_t)id));
}

static void shift_bulk_delete(struct sim_call *c)
{
    static const struct sim_field f[] = {
        {"start", SIM_F_TIME, true, false},
        {"end", SIM_F_TIME, true, false},
    };
    int64_t from, to;
    json_t *ids;
    size_t i;

    if (!sim_check_body(c, f, 2))
        return;
    ap_time_parse(json_string_value(json_object_get(c->body, "start")), &from);
    ap_time_parse(json_string_value(json_object_get(c->body, "end")), &to);
    if (to < from) {
        sim_problem_field(c, "end", "The end must not be before the start.");
        return;
    }
    ids = json_array();
    for (i = 0; i < sim_count(c->tenant, SIM_TECHNICIAN_SHIFT); i++) {
        const json_t *r = sim_at(c->tenant, SIM_TECHNICIAN_SHIFT, i);
        int64_t s, e;

        if (ap_time_parse(json_string_value(json_object_get(r, "start")), &s) &&
            ap_time_parse(json_string_value(json_object_get(r, "end")), &e) && s >= from && e <= to)
            json_array_append_new(ids, json_integer(sim_row_id(r)));
    }
    for (i = 0; i < json_array_size(ids); i++)
        sim_remove(c->sim, c->tenant, SIM_TECHNICIAN_SHIFT,
                   json_integer_value(json_array_get(ids, i)));
    sim_reply(c, 200,
              json_pack("{s:s, s:o}", "message", "Technician shifts deleted", "deletedIds", ids));
}

/* ---- appointment assignments ---------------------------------------------------------- */

struct assign_filter {
    int64_t appts[MAX_FILTER_IDS];
    size_t nappts;
    bool has_job;
    int64_t job;
};

static bool assign_match(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    const struct assign_filter *f = ud;
    bool hit = f->nappts == 0;

    for (size_t i = 0; i < f->nappts && !hit; i++)
        hit = f->appts[i] == jint(row, "appointmentId");
    return hit && (!f->has_job || jint(row, "jobId") == f->job);
}

/* appointmentIds=1,2,3 (at most 50); false after a 400. */
static bool parse_appt_ids(struct sim_call *c, struct assign_filter *f)
{
    const char *v = sim_query(c->req, "appointmentIds");

    while (v && *v) {
        char *end;
        long long n = strtoll(v, &end, 10);

        if (end == v || n <= 0 || (*end && *end != ',') || f->nappts == MAX_FILTER_IDS) {
            sim_problem_field(c, "appointmentIds",
                              "Give at most %d comma-separated appointment ids.", MAX_FILTER_IDS);
            return false;
        }
        f->appts[f->nappts++] = n;
        v = *end ? end + 1 : end;
    }
    return true;
}

/* The assignments of the requested appointments, or of the job (ascending, malloc'd). */
static int64_t *assign_candidates(struct sim_tenant *t, const struct assign_filter *f, size_t *n)
{
    int64_t *all = NULL;
    size_t m;

    *n = 0;
    if (f->nappts == 0)
        return sim_index_find_id(t, sim_index_int(SIM_APPOINTMENT_ASSIGNMENT, "jobId"), f->job, n);
    for (size_t i = 0; i < f->nappts; i++) {
        int64_t *ids = sim_index_find_id(
            t, sim_index_int(SIM_APPOINTMENT_ASSIGNMENT, "appointmentId"), f->appts[i], &m);
        all = ap_xrealloc(all, (*n + m + 1) * sizeof(*all));
        if (m > 0)
            memcpy(all + *n, ids, m * sizeof(*ids));
        *n += m;
        free(ids);
    }
    return all;
}

static void assign_list(struct sim_call *c)
{
    struct assign_filter f = {.nappts = 0};
    struct sim_list_opts o = {.active_filter = true,
                              .active_default = "True",
                              .sort = sort_std,
                              .dates = true,
                              .match = assign_match,
                              .ud = &f};
    int64_t *cand = NULL;

    if (!parse_appt_ids(c, &f) || !query_id(c, "jobId", &f.has_job, &f.job))
        return;
    if (f.nappts > 0 || f.has_job) {
        cand = assign_candidates(c->tenant, &f, &o.ncand);
        o.has_cand = true;
        o.cand = cand;
    } else {
        o.match = NULL;
    }
    sim_list(c, SIM_APPOINTMENT_ASSIGNMENT, &o);
    free(cand);
}

/* Export: active=True (default, as the spec says) | Any | False. */
static bool export_match(struct sim_call *c, const json_t *row, void *ud)
{
    const char *a = sim_query(c->req, "active");
    bool act = json_is_true(json_object_get(row, "active"));

    if (!a || !*a || strcasecmp(a, "True") == 0)
        return act;
    return strcasecmp(a, "False") == 0 ? !act : true;
}

static void assign_export(struct sim_call *c)
{
    const char *a = sim_query(c->req, "active");

    if (a && *a && strcasecmp(a, "True") && strcasecmp(a, "Any") && strcasecmp(a, "False")) {
        sim_problem_field(c, "active", "The value must be True, Any or False.");
        return;
    }
    struct sim_export_opts o = {.match = export_match};
    sim_export(c, SIM_APPOINTMENT_ASSIGNMENT, &o);
}

/* The active assignment of technician on appointment, or NULL. */
static json_t *assignment_of(struct sim_tenant *t, int64_t appt, int64_t tech)
{
    size_t n;
    int64_t *ids =
        sim_index_find_id(t, sim_index_int(SIM_APPOINTMENT_ASSIGNMENT, "appointmentId"), appt, &n);
    json_t *found = NULL;

    for (size_t i = 0; i < n && found == NULL; i++) {
        json_t *r = sim_get(t, SIM_APPOINTMENT_ASSIGNMENT, ids[i]);

        if (r != NULL && jint(r, "technicianId") == tech &&
            json_is_true(json_object_get(r, "active")))
            found = r;
    }
    free(ids);
    return found;
}

static const char *assign_status(const json_t *appt)
{
    const char *st = json_string_value(json_object_get(appt, "status"));
    static const char *const same[] = {"Scheduled", "Dispatched", "Working", "Done", NULL};

    return one_of(st, same) ? st : "Scheduled";
}

/*
 * Assigns technician_id to appointment appt. AP_ENOTFOUND for an unknown
 * technician, AP_ECONFLICT when already assigned. (jpm_appt.c does the same
 * for jobs created with technicianIds.)
 */
static enum ap_err assign_one(struct sim *s, struct sim_tenant *t, const json_t *appt,
                              int64_t technician_id)
{
    const json_t *tech = sim_get(t, SIM_TECHNICIAN, technician_id);
    const char *name = json_string_value(json_object_get(tech, "name"));
    int64_t by = sim_count(t, SIM_EMPLOYEE) ? sim_row_id(sim_at(t, SIM_EMPLOYEE, 0)) : 1;
    int64_t now = sim_now(s);

    if (!tech)
        return AP_ENOTFOUND;
    if (assignment_of(t, sim_row_id(appt), technician_id))
        return AP_ECONFLICT;
    sim_add(s, t, SIM_APPOINTMENT_ASSIGNMENT,
            json_pack("{s:I, s:s, s:I, s:o, s:s, s:b, s:I, s:I, s:o, s:o, s:b}", "technicianId",
                      (json_int_t)technician_id, "technicianName", name ? name : "", "assignedById",
                      (json_int_t)by, "assignedOn", sim_time_json(now), "status",
                      assign_status(appt), "isPaused", 0, "jobId", (json_int_t)jint(appt, "jobId"),
                      "appointmentId", (json_int_t)sim_row_id(appt), "createdOn",
                      sim_time_json(now), "modifiedOn", sim_time_json(now), "active", 1));
    return AP_OK;
}

/* Dispatch.V2.AppointmentResponse of a jpm appointment row. */
static json_t *appt_json(const json_t *appt)
{
    static const char *const keys[] = {"id",
                                       "jobId",
                                       "appointmentNumber",
                                       "start",
                                       "end",
                                       "arrivalWindowStart",
                                       "arrivalWindowEnd",
                                       "status",
                                       "specialInstructions",
                                       "createdOn",
                                       "modifiedOn"};
    json_t *out = json_object();

    for (size_t i = 0; i < AP_COUNTOF(keys); i++) {
        json_t *v = json_object_get(appt, keys[i]);

        if (v)
            json_object_set(out, keys[i], v);
    }
    return out;
}

static const struct sim_field assign_fields[] = {
    {"jobAppointmentId", SIM_F_INT, true, false},
    {"technicianIds", SIM_F_ARR, true, false},
};

/* The body's appointment and checked technician ids; false after answering. */
static json_t *assign_body(struct sim_call *c)
{
    const json_t *ids;
    json_t *appt;
    size_t n;

    if (!sim_check_body(c, assign_fields, 2))
        return NULL;
    ids = json_object_get(c->body, "technicianIds");
    n = json_array_size(ids);
    if (n == 0 || n > MAX_TECHS) {
        sim_problem_field(c, "technicianIds", "Give 1 to %d technician ids.", MAX_TECHS);
        return NULL;
    }
    if (!sim_dispatch_check_ids(c, ids, SIM_TECHNICIAN, "technicianIds", "Technician"))
        return NULL;
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (json_integer_value(json_array_get(ids, i)) ==
                json_integer_value(json_array_get(ids, j))) {
                sim_problem_field(c, "technicianIds", "Technician ids must not repeat.");
                return NULL;
            }
    appt = sim_get(c->tenant, SIM_APPOINTMENT, jint(c->body, "jobAppointmentId"));
    if (!appt)
        sim_not_found(c, "Appointment not found");
    return appt;
}

static void assign(struct sim_call *c)
{
    json_t *appt = assign_body(c), *ids, *v;
    const char *st;
    size_t i;

    if (!appt)
        return;
    ids = json_object_get(c->body, "technicianIds");
    st = json_string_value(json_object_get(appt, "status"));
    if (st && (strcmp(st, "Canceled") == 0 || strcmp(st, "Done") == 0)) {
        sim_problem(c, 409, "The appointment's state doesn't allow assigning technicians.", NULL);
        return;
    }
    json_array_foreach (ids, i, v)
        if (assignment_of(c->tenant, sim_row_id(appt), json_integer_value(v))) {
            char title[128];

            snprintf(title, sizeof(title),
                     "Technician %lld is already assigned to appointment %lld.",
                     (long long)json_integer_value(v), (long long)sim_row_id(appt));
            sim_problem(c, 409, title, NULL);
            return;
        }
    json_array_foreach (ids, i, v)
        assign_one(c->sim, c->tenant, appt, json_integer_value(v));
    sim_reply(c, 200, appt_json(appt));
}

static void unassign(struct sim_call *c)
{
    json_t *appt = assign_body(c), *ids, *v;
    size_t i;

    if (!appt)
        return;
    ids = json_object_get(c->body, "technicianIds");
    json_array_foreach (ids, i, v)
        if (!assignment_of(c->tenant, sim_row_id(appt), json_integer_value(v))) {
            char field[40];

            snprintf(field, sizeof(field), "technicianIds[%zu]", i);
            sim_problem_field(c, field, "Technician %lld is not assigned to appointment %lld.",
                              (long long)json_integer_value(v), (long long)sim_row_id(appt));
            return;
        }
    json_array_foreach (ids, i, v) {
        json_t *r = assignment_of(c->tenant, sim_row_id(appt), json_integer_value(v));

        json_object_set_new(r, "active", json_false());
        sim_touch(c->sim, c->tenant, SIM_APPOINTMENT_ASSIGNMENT, r, true);
    }
    sim_reply(c, 200, appt_json(appt));
}

void sim_dispatch_shift_routes(struct sim *s, struct ap_router *r)
{
    static const struct {
        const char *method, *path, *scope;
        sim_handler_fn fn;
    } routes[] = {
        {"GET", "/technician-shifts", "tn.dis.technicianshifts:r", shift_list},
        {"POST", "/technician-shifts", "tn.dis.technicianshifts:w", shift_create},
        {"POST", "/technician-shifts/bulk-delete", "tn.dis.technicianshifts:w", shift_bulk_delete},
        {"GET", "/technician-shifts/:id", "tn.dis.technicianshifts:r", shift_get},
        {"PATCH", "/technician-shifts/:id", "tn.dis.technicianshifts:w", shift_patch},
        {"DELETE", "/technician-shifts/:id", "tn.dis.technicianshifts:w", shift_delete},
        {"GET", "/appointment-assignments", "tn.dis.appointmentassignments:r", assign_list},
        {"POST", "/appointment-assignments/assign-technicians", "tn.dis.appointmentassignments:w",
         assign},
        {"POST", "/appointment-assignments/unassign-technicians", "tn.dis.appointmentassignments:w",
         unassign},
        {"GET", "/export/appointment-assignments", "tn.dis.appointmentassignments:r",
         assign_export},
    };

    for (size_t i = 0; i < AP_COUNTOF(routes); i++)
        sim_api_route(s, r, routes[i].method, "dispatch", routes[i].path, routes[i].scope,
                      routes[i].fn);
}

/*
 * dispatch.c — stsim's Dispatch module (/dispatch/v2): route table, arrival
 * windows (+ configuration), business hours, zones, and the demo seed of
 * dispatch data (windows, hours, zones, technician shifts). Capacity lives in
 * capacity.c, technician shifts and appointment assignments in shifts.c.
 *
 * Scopes follow API-NOTES §6.3's spelling, tn.dis.<resource>:r|w; capacity is
 * a POST that reads and needs tn.dis.capacity:w, as the notes record.
 *
 * The arrival-window configuration has no record kind of its own: it rides
 * on the tenant's business-hours row as the hidden "_arrivalWindowConfiguration".
 */
#include <stdio.h>
#include <string.h>

#include "sim/dispatch_int.h"
#include "tz/tz.h"

#define MAX_RANGES 24

/* ---- shared helpers ------------------------------------------------------- */

bool sim_dispatch_timespan(const char *s, int *secs)
{
    int d = 0, h, m, sec, n = 0;

    if (!s)
        return false;
    if (sscanf(s, "%d.%d:%d:%d%n", &d, &h, &m, &sec, &n) == 4 && s[n] == 0) {
    } else if (d = 0, n = 0, sscanf(s, "%d:%d:%d%n", &h, &m, &sec, &n) == 3 && s[n] == 0) {
    } else {
        return false;
    }
    if (d < 0 || d > 6 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
        return false;
    *secs = ((d * 24 + h) * 60 + m) * 60 + sec;
    return true;
}

/* "hh:mm:ss" or "d.hh:mm:ss" of secs (< 7 days). */
static json_t *timespan_json(int secs)
{
    char buf[24];
    int d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;

    if (d > 0)
        snprintf(buf, sizeof(buf), "%d.%02d:%02d:%02d", d, h, m, s);
    else
        snprintf(buf, sizeof(buf), "%02d:%02d:%02d", h, m, s);
    return json_string(buf);
}

const char *sim_dispatch_zone(const struct sim_tenant *t)
{
    return t->tz[0] && ap_tz_valid(t->tz) ? t->tz : "UTC";
}

int64_t sim_days_from_civil(int y, int mon, int d)
{
    int64_t yy = mon <= 2 ? y - 1 : y;
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + d - 1;

    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

void sim_civil_from_days(int64_t z, int *y, int *mon, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*mon <= 2));
}

/* Every item of arr (if any) an id of a row of kind k; else a 400 naming field. */
bool sim_dispatch_check_ids(struct sim_call *c, const json_t *arr, enum sim_kind k,
                            const char *field, const char *what)
{
    size_t i;
    json_t *v;

    json_array_foreach (arr, i, v) {
        char name[64];

        snprintf(name, sizeof(name), "%s[%zu]", field, i);
        if (!json_is_integer(v)) {
            sim_problem_field(c, name, "The value must be an integer.");
            return false;
        }
        if (!sim_get(c->tenant, k, json_integer_value(v))) {
            sim_problem_field(c, name, "%s %lld was not found.", what,
                              (long long)json_integer_value(v));
            return false;
        }
    }
    return true;
}

static const char *const sort_std[] = {"Id", "CreatedOn", "ModifiedOn", NULL};

/* ---- arrival windows -------------------------------------------------------- */

static void aw_list(struct sim_call *c)
{
    struct sim_list_opts o = {.active_filter = true, .active_default = "True"};

    sim_list(c, SIM_ARRIVAL_WINDOW, &o);
}

static json_t *aw_row(struct sim_call *c)
{
    int64_t id;
    json_t *row;

    if (!sim_param_id(c, "id", &id))
        return NULL;
    row = sim_get(c->tenant, SIM_ARRIVAL_WINDOW, id);
    if (!row)
        sim_not_found(c, "Arrival window not found");
    return row;
}

static void aw_get(struct sim_call *c)
{
    json_t *row = aw_row(c);

    if (row)
        sim_reply(c, 200, sim_public(row));
}

static const struct sim_field aw_fields[] = {
    {"start", SIM_F_STR, true, false},
    {"duration", SIM_F_STR, true, false},
    {"businessUnitIds", SIM_F_ARR, true, false},
};

/* Validated start/duration (seconds) of a create/update body; false after a 400. */
static bool aw_body(struct sim_call *c, int *start, int *dur)
{
    if (!sim_check_body(c, aw_fields, sizeof(aw_fields) / sizeof(aw_fields[0])))
        return false;
    if (!sim_dispatch_timespan(json_string_value(json_object_get(c->body, "start")), start) ||
        *start >= 86400) {
        sim_problem_field(c, "start", "The start must be a time of day like \"08:00:00\".");
        return false;
    }
    if (!sim_dispatch_timespan(json_string_value(json_object_get(c->body, "duration")), dur) ||
        *dur <= 0) {
        sim_problem_field(c, "duration", "The duration must be positive, like \"02:00:00\".");
        return false;
    }
    return sim_dispatch_check_ids(c, json_object_get(c->body, "businessUnitIds"), SIM_BUSINESS_UNIT,
                                  "businessUnitIds", "Business unit");
}

static void aw_fill(json_t *row, int start, int dur, json_t *bus)
{
    json_object_set_new(row, "start", timespan_json(start));
    json_object_set_new(row, "duration", timespan_json(dur));
    json_object_set(row, "businessUnitIds", bus);
}

static void aw_create(struct sim_call *c)
{
    int start, dur;
    json_t *row;

    if (!aw_body(c, &start, &dur))
        return;
    row = json_object();
    aw_fill(row, start, dur, json_object_get(c->body, "businessUnitIds"));
    json_object_set_new(row, "active", json_true());
    /* sim_add may replace the row: read it back */
    row =
        sim_get(c->tenant, SIM_ARRIVAL_WINDOW, sim_add(c->sim, c->tenant, SIM_ARRIVAL_WINDOW, row));
    sim_reply(c, 200, sim_public(row));
}

static void aw_update(struct sim_call *c)
{
    json_t *row = aw_row(c);
    int start, dur;

    if (!row || !aw_body(c, &start, &dur))
        return;
    aw_fill(row, start, dur, json_object_get(c->body, "businessUnitIds"));
    sim_touch(c->sim, c->tenant, SIM_ARRIVAL_WINDOW, row, true);
    sim_reply(c, 200, sim_public(row));
}

static void aw_activated(struct sim_call *c)
{
    static const struct sim_field f[] = {{"isActive", SIM_F_BOOL, true, false}};
    json_t *row = aw_row(c);

    if (!row || !sim_check_body(c, f, 1))
        return;
    json_object_set(row, "active", json_object_get(c->body, "isActive"));
    sim_touch(c->sim, c->tenant, SIM_ARRIVAL_WINDOW, row, true);
    sim_reply_empty(c, 200);
}

/* The tenant's business-hours row, created empty when create. */
static json_t *hours_row(struct sim *s, struct sim_tenant *t, bool create)
{
    json_t *row;

    if (sim_count(t, SIM_BUSINESS_HOURS) > 0)
        return sim_at(t, SIM_BUSINESS_HOURS, 0);
    if (!create)
        return NULL;
    row = json_pack("{s:[], s:[], s:[], s:s}", "weekdays", "saturday", "sunday",
                    "_arrivalWindowConfiguration", "StartTimeOfArrivalWindow");
    return sim_get(t, SIM_BUSINESS_HOURS, sim_add(s, t, SIM_BUSINESS_HOURS, row));
}

static void aw_config_reply(struct sim_call *c)
{
    const json_t *row = hours_row(c->sim, c->tenant, false);
    const char *v = json_string_value(json_object_get(row, "_arrivalWindowConfiguration"));

    sim_reply(c, 200, json_pack("{s:s}", "configuration", v ? v : "StartTimeOfArrivalWindow"));
}

static void aw_config_set(struct sim_call *c)
{
    static const struct sim_field f[] = {{"configuration", SIM_F_STR, true, false}};
    const char *v;
    json_t *row;

    if (!sim_check_body(c, f, 1))
        return;
    v = json_string_value(json_object_get(c->body, "configuration"));
    if (strcmp(v, "StartTimeOfArrivalWindow") != 0 && strcmp(v, "EndTimeOfArrivalWindow") != 0) {
        sim_problem_field(c, "configuration",
                          "The value must be StartTimeOfArrivalWindow or EndTimeOfArrivalWindow.");
        return;
    }
    row = hours_row(c->sim, c->tenant, true);
    json_object_set_new(row, "_arrivalWindowConfiguration", json_string(v));
    sim_touch(c->sim, c->tenant, SIM_BUSINESS_HOURS, row, false);
    aw_config_reply(c);
}

/* ---- business hours ------------------------------------------------------------ */

static json_t *hours_json(const json_t *row)
{
    static const char *const days[] = {"weekdays", "saturday", "sunday"};
    json_t *out = json_object();

    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(row, days[i]);

        json_object_set_new(out, days[i], json_is_array(v) ? json_deep_copy(v) : json_array());
    }
    return out;
}

static void hours_get(struct sim_call *c)
{
    sim_reply(c, 200, hours_json(hours_row(c->sim, c->tenant, false)));
}

static json_int_t hour_of(const json_t *range, const char *key)
{
    return json_integer_value(json_object_get(range, key));
}

/* Each range {fromHour, toHour} with 0 <= from < to <= 24; false after a 400. */
static bool hours_check(struct sim_call *c, const char *day)
{
    static const struct sim_field f[] = {
        {"fromHour", SIM_F_INT, true, false},
        {"toHour", SIM_F_INT, true, false},
    };
    const json_t *arr = json_object_get(c->body, day);
    json_t *errors = json_object(), *v;
    size_t i;

    if (json_array_size(arr) > MAX_RANGES)
        json_object_set_new(errors, day, json_pack("[s]", "Too many ranges."));
    json_array_foreach (arr, i, v) {
        char prefix[48];

        snprintf(prefix, sizeof(prefix), "%s[%zu].", day, i);
        if (sim_check(v, prefix, f, 2, errors) &&
            (hour_of(v, "fromHour") < 0 || hour_of(v, "toHour") > 24 ||
             hour_of(v, "fromHour") >= hour_of(v, "toHour")))
            json_object_set_new(
                errors, day, json_pack("[s]", "Hours must satisfy 0 <= fromHour < toHour <= 24."));
    }
    if (json_object_size(errors) == 0) {
        json_decref(errors);
        return true;
    }
    sim_problem(c, 400, "One or more validation errors occurred.", errors);
    return false;
}

static void hours_set(struct sim_call *c)
{
    static const struct sim_field f[] = {
        {"weekdays", SIM_F_ARR, true, false},
        {"saturday", SIM_F_ARR, true, false},
        {"sunday", SIM_F_ARR, true, false},
    };
    json_t *row, *h;

    if (!sim_check_body(c, f, 3) || !hours_check(c, "weekdays") || !hours_check(c, "saturday") ||
        !hours_check(c, "sunday"))
        return;
    row = hours_row(c->sim, c->tenant, true);
    h = hours_json(c->body);
    json_object_update(row, h);
    json_decref(h);
    sim_touch(c->sim, c->tenant, SIM_BUSINESS_HOURS, row, false);
    sim_reply(c, 200, hours_json(row));
}

/* ---- zones ---------------------------------------------------------------------- */

static void zone_list(struct sim_call *c)
{
    struct sim_list_opts o = {
        .active_filter = true, .active_default = "True", .sort = sort_std, .dates = true};

    sim_list(c, SIM_ZONE, &o);
}

static void zone_get(struct sim_call *c)
{
    int64_t id;
    json_t *row;

    if (!sim_param_id(c, "id", &id))
        return;
    row = sim_get(c->tenant, SIM_ZONE, id);
    if (!row) {
        sim_not_found(c, "Zone not found");
        return;
    }
    sim_reply(c, 200, sim_public(row));
}

/* ---- routes ----------------------------------------------------------------------- */

void sim_dispatch_routes(struct sim *s, struct ap_router *r)
{
    static const struct {
        const char *method, *path, *scope;
        sim_handler_fn fn;
    } routes[] = {
        {"POST", "/capacity", "tn.dis.capacity:w", sim_dispatch_capacity},
        {"GET", "/arrival-windows", "tn.dis.arrivalwindows:r", aw_list},
        {"POST", "/arrival-windows", "tn.dis.arrivalwindows:w", aw_create},
        {"GET", "/arrival-windows/configuration", "tn.dis.arrivalwindows:r", aw_config_reply},
        {"POST", "/arrival-windows/configuration", "tn.dis.arrivalwindows:w", aw_config_set},
        {"GET", "/arrival-windows/:id", "tn.dis.arrivalwindows:r", aw_get},
        {"PUT", "/arrival-windows/:id", "tn.dis.arrivalwindows:w", aw_update},
        {"PUT", "/arrival-windows/:id/activated", "tn.dis.arrivalwindows:w", aw_activated},
        {"GET", "/business-hours", "tn.dis.businesshours:r", hours_get},
        {"POST", "/business-hours", "tn.dis.businesshours:w", hours_set},
        {"GET", "/zones", "tn.dis.zones:r", zone_list},
        {"GET", "/zones/:id", "tn.dis.zones:r", zone_get},
    };

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        sim_api_route(s, r, routes[i].method, "dispatch", routes[i].path, routes[i].scope,
                      routes[i].fn);
    sim_dispatch_shift_routes(s, r);
}

/* ---- demo seed ------------------------------------------------------------------------- */

static json_t *active_ids(struct sim_tenant *t, enum sim_kind k)
{
    json_t *ids = json_array();

    for (size_t i = 0; i < sim_count(t, k); i++) {
        const json_t *r = sim_at(t, k, i);

        if (!json_is_false(json_object_get(r, "active")))
            json_array_append_new(ids, json_integer(sim_row_id(r)));
    }
    return ids;
}

static void seed_windows(struct sim *s, struct sim_tenant *t, json_t *bus)
{
    for (int h = 8; h < 16; h += 2)
        sim_add(s, t, SIM_ARRIVAL_WINDOW,
                json_pack("{s:o, s:s, s:O, s:b}", "start", timespan_json(h * 3600), "duration",
                          "02:00:00", "businessUnitIds", bus, "active", 1));
    sim_add(s, t, SIM_BUSINESS_HOURS,
            json_pack("{s:[{s:i, s:i}], s:[{s:i, s:i}], s:[], s:s}", "weekdays", "fromHour", 8,
                      "toHour", 18, "saturday", "fromHour", 9, "toHour", 13, "sunday",
                      "_arrivalWindowConfiguration", "StartTimeOfArrivalWindow"));
}

static json_t *zip_range(int from, int to)
{
    json_t *zips = json_array();

    for (int z = from; z <= to; z++) {
        char buf[8];

        snprintf(buf, sizeof(buf), "%05d", z);
        json_array_append_new(zips, json_string(buf));
    }
    return zips;
}

/* Dallas and Austin zones; technicians alternate between them (zoneIds, mainZoneId). */
static void seed_zones(struct sim *s, struct sim_tenant *t, json_t *bus, json_t *techs)
{
    static const struct {
        const char *name;
        int zip_from, zip_to;
    } zones[] = {{"Dallas", 75201, 75252}, {"Austin", 78701, 78759}};
    int64_t by = sim_count(t, SIM_EMPLOYEE) ? sim_row_id(sim_at(t, SIM_EMPLOYEE, 0)) : 1;
    int64_t ids[2];

    for (size_t z = 0; z < 2; z++) {
        json_t *members = json_array();

        for (size_t i = z; i < json_array_size(techs); i += 2)
            json_array_append(members, json_array_get(techs, i));
        ids[z] = sim_add(s, t, SIM_ZONE,
                         json_pack("{s:b, s:s, s:o, s:[s], s:[], s:[], s:I, s:b, s:[], s:O, s:o}",
                                   "active", 1, "name", zones[z].name, "zips",
                                   zip_range(zones[z].zip_from, zones[z].zip_to), "cities",
                                   zones[z].name, "territoryNumbers", "locnNumbers", "createdBy",
                                   (json_int_t)by, "serviceDaysEnabled", 0, "serviceDays",
                                   "businessUnits", bus, "technicians", members));
    }
    for (size_t i = 0; i < json_array_size(techs); i++) {
        json_t *tech = sim_get(t, SIM_TECHNICIAN, json_integer_value(json_array_get(techs, i)));

        json_object_set_new(tech, "zoneIds", json_pack("[I]", (json_int_t)ids[i % 2]));
        json_object_set_new(tech, "mainZoneId", json_integer(ids[i % 2]));
        sim_touch(s, t, SIM_TECHNICIAN, tech, false);
    }
}

static void seed_shift(struct sim *s, struct sim_tenant *t, int64_t tech, const int ymd[3],
                       int from_h, int to_h, const char *title)
{
    const char *zone = sim_dispatch_zone(t);
    int64_t a, b;

    if (ap_tz_local_to_utc(zone, ymd[0], ymd[1], ymd[2], from_h, 0, 0, &a) != AP_OK ||
        ap_tz_local_to_utc(zone, ymd[0], ymd[1], ymd[2], to_h, 0, 0, &b) != AP_OK)
        return;
    sim_add(s, t, SIM_TECHNICIAN_SHIFT,
            json_pack("{s:I, s:s, s:s, s:n, s:b, s:o, s:o, s:n}", "technicianId", (json_int_t)tech,
                      "shiftType", "Normal", "title", title, "note", "active", 1, "start",
                      sim_time_json(a), "end", sim_time_json(b), "timesheetCodeId"));
}

/*
 * Shifts for the 30 local days from today (sim_now in the tenant's zone):
 * Mon-Fri 08:00-17:00 for every technician, Sat 09:00-13:00 for every other
 * one, none on Sundays.
 */
static void seed_shifts(struct sim *s, struct sim_tenant *t, json_t *techs)
{
    struct ap_tz_local today;
    int64_t day0;

    if (ap_tz_utc_to_local(sim_dispatch_zone(t), sim_now(s), &today) != AP_OK)
        return;
    day0 = sim_days_from_civil(today.y, today.mon, today.d);
    for (int k = 0; k < 30; k++) {
        int ymd[3], wday = (today.wday + k) % 7;

        sim_civil_from_days(day0 + k, &ymd[0], &ymd[1], &ymd[2]);
        for (size_t i = 0; i < json_array_size(techs); i++) {
            int64_t tech = json_integer_value(json_array_get(techs, i));

            if (wday >= 1 && wday <= 5)
                seed_shift(s, t, tech, ymd, 8, 17, "Day shift");
            else if (wday == 6 && i % 2 == 0)
                seed_shift(s, t, tech, ymd, 9, 13, "Saturday shift");
        }
    }
}

void sim_dispatch_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng)
{
    json_t *bus = active_ids(t, SIM_BUSINESS_UNIT);
    json_t *techs = active_ids(t, SIM_TECHNICIAN);

    (void)rng; /* everything here follows from the clock and the settings seed */
    seed_windows(s, t, bus);
    seed_zones(s, t, bus, techs);
    seed_shifts(s, t, techs);
    json_decref(bus);
    json_decref(techs);
}

/*
 * dispatch.c — stsim's Dispatch module (/dispatch/v2): route table, arrival
 * windows (+ configuration), business hours and zones. Capacity lives in
 * capacity.c, technician shifts and appointment assignments in shifts.c,
 * what they share in util.c, the demo seed in seed.c.
 *
 * Scopes follow API-NOTES §6.3's spelling, tn.dis.<resource>:r|w; capacity is
 * a POST that reads and needs tn.dis.capacity:w, as the notes record.
 *
 * The arrival-window configuration has no record kind of its own: it rides
 * on the tenant's business-hours row as the hidden "_arrivalWindowConfiguration".
 */
#include <stdio.h>
#include <string.h>

#include "sim/dispatch/dispatch.h"
#include "sim/dispatch/dispatch_int.h"

#define MAX_RANGES 24

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
    if (!sim_check_body(c, aw_fields, AP_COUNTOF(aw_fields)))
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
    json_object_set_new(row, "start", sim_dispatch_timespan_json(start));
    json_object_set_new(row, "duration", sim_dispatch_timespan_json(dur));
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

/* ---- teams ----------------------------------------------------------------------- */

/* GET /teams: active ones unless includeInactive=true; the date bounds, sort. */
static void team_list(struct sim_call *c)
{
    bool has, inactive = false;
    struct sim_list_opts o = {.sort = sort_std, .dates = true};
    if (!sim_q_bool(c, "includeInactive", &has, &inactive))
        return;
    if (!inactive) {
        o.active_filter = true;
        o.active_default = "True";
    }
    sim_list(c, SIM_TEAM, &o);
}

static void team_get(struct sim_call *c)
{
    int64_t id;
    json_t *row;

    if (!sim_param_id(c, "id", &id))
        return;
    row = sim_get(c->tenant, SIM_TEAM, id);
    if (!row) {
        sim_not_found(c, "Team not found");
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
        {"GET", "/teams", "tn.dis.teams:r", team_list},
        {"GET", "/teams/:id", "tn.dis.teams:r", team_get},
    };

    for (size_t i = 0; i < AP_COUNTOF(routes); i++)
        sim_api_route(s, r, routes[i].method, "dispatch", routes[i].path, routes[i].scope,
                      routes[i].fn);
    sim_dispatch_shift_routes(s, r);
}

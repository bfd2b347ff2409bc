/*
 * seed.c — the demo tenant's dispatch data (--seed demo): four 2-hour
 * arrival windows from 08:00, business hours, a Dallas and an Austin zone
 * with their ZIP codes (technicians alternate between them), and technician
 * shifts for the next 30 local days. Everything follows from the clock and
 * the settings seed, which runs before this one.
 */
#include <stdio.h>

#include "sim/dispatch/dispatch.h"
#include "sim/dispatch/dispatch_int.h"
#include "tz/tz.h"

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
                json_pack("{s:o, s:s, s:O, s:b}", "start", sim_dispatch_timespan_json(h * 3600),
                          "duration", "02:00:00", "businessUnitIds", bus, "active", 1));
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
    day0 = ap_days_from_civil(today.y, today.mon, today.d);
    for (int k = 0; k < 30; k++) {
        struct ap_date dt = ap_civil_from_days(day0 + k);
        int ymd[3] = {dt.y, dt.m, dt.d}, wday = (today.wday + k) % 7;

        for (size_t i = 0; i < json_array_size(techs); i++) {
            int64_t tech = json_integer_value(json_array_get(techs, i));

            if (wday >= 1 && wday <= 5)
                seed_shift(s, t, tech, ymd, 8, 17, "Day shift");
            else if (wday == 6 && i % 2 == 0)
                seed_shift(s, t, tech, ymd, 9, 13, "Saturday shift");
        }
    }
}

static void seed_teams(struct sim *s, struct sim_tenant *t)
{
    static const struct {
        const char *name;
        bool active;
    } teams[] = {{"HVAC Team", true}, {"Plumbing & Electrical Team", true}, {"Night Crew", false}};
    int64_t by = sim_count(t, SIM_EMPLOYEE) ? sim_row_id(sim_at(t, SIM_EMPLOYEE, 0)) : 1;
    for (size_t i = 0; i < AP_COUNTOF(teams); i++)
        sim_add(s, t, SIM_TEAM,
                json_pack("{s:b, s:s, s:I}", "active", teams[i].active, "name", teams[i].name,
                          "createdBy", (json_int_t)by));
}

void sim_dispatch_seed(struct sim *s, struct sim_tenant *t, struct sim_rng *rng)
{
    json_t *bus = active_ids(t, SIM_BUSINESS_UNIT);
    json_t *techs = active_ids(t, SIM_TECHNICIAN);

    (void)rng; /* everything here follows from the clock and the settings seed */
    seed_windows(s, t, bus);
    seed_zones(s, t, bus, techs);
    seed_shifts(s, t, techs);
    seed_teams(s, t);
    json_decref(bus);
    json_decref(techs);
}

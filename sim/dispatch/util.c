/*
 * util.c — what the parts of stsim's Dispatch module (dispatch.c,
 * capacity.c, shifts.c, seed.c) share: .NET TimeSpan texts, the tenant's zone, and
 * the check that a body's id list names existing rows.
 */
#include <stdio.h>
#include <string.h>

#include "sim/dispatch/dispatch_int.h"
#include "tz/tz.h"

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
json_t *sim_dispatch_timespan_json(int secs)
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

/*
 * avail.h — what a homeowner is offered: arrival windows of a service for a
 * run of days, in the scheduler's time zone, with the scheduler's rules
 * applied and our own not-yet-visible bookings taken off ServiceTitan's
 * capacity.
 *
 * This header is the arithmetic (pure, unit-tested): ServiceTitan's
 * capacity answer → slots of one business unit; slots (or, with local
 * capacity, the catalog's arrival windows) → the public windows array. The
 * cache, single flight and ServiceTitan calls that feed it are
 * avail_cache.h's.
 *
 * A window is offered as available when
 *   - it starts after now + minNoticeMinutes and ends after its close time
 *     (start − closeBeforeStartMinutes) has not passed,
 *   - its local date is not a blackout date,
 *   - open − held ≥ need, where, with ServiceTitan capacity, open is the
 *     slot's openAvailability (hours), held the hours our own accepted but
 *     not yet visible bookings take from it, need the job type's duration
 *     in hours (ServiceTitan's isAvailable when the duration is unknown);
 *     with local capacity, open is the per-window cap, held our bookings in
 *     it, need 1.
 * Windows of days past the horizon are left out; every other window of the
 * asked days is listed, available or not, so a widget can show the day.
 */
#ifndef AP_APP_AVAIL_H
#define AP_APP_AVAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/scheduler.h"
#include "core/datetime.h"
#include "json/json.h"

struct ap_catalog;

/* One window of ServiceTitan's capacity for one business unit. */
struct ap_avail_slot {
    int64_t start, end; /* UTC ns */
    double open;        /* hours (ServiceTitan) or bookings (local) still free */
    bool st_available;  /* ServiceTitan's isAvailable */
};

/*
 * Reads a capacity answer ({"availabilities": [...]}) into the slots of
 * business unit bu (rows whose businessUnitIds hold it, or list none),
 * ordered by start, duplicates (same start) merged. tz: the zone the
 * tenant's offset-less "start" texts are read in, to check them against
 * startUtc; *mismatch counts the rows where they disagree (may be NULL).
 * *out is malloc'd (NULL when n is 0). AP_EPARSE for an answer without the
 * availabilities array; rows without a readable startUtc/endUtc are skipped.
 */
enum ap_err ap_avail_parse_capacity(json_t *answer, int64_t bu, const char *tz,
                                    struct ap_avail_slot **out, size_t *n, int *mismatch);

/* What one request for windows asks. */
struct ap_avail_query {
    const struct ap_sched *sched;
    const struct ap_sched_service *service;
    int64_t duration_s; /* the job type's, from the catalog; 0 unknown */
    int64_t now;        /* UTC ns */
    struct ap_date from;
    int days; /* 1..AP_AVAIL_MAX_DAYS */
};

#define AP_AVAIL_MAX_DAYS 31

/* Hours (or, with local capacity, bookings) our own bookings hold in the
 * window starting at start (UTC ns). */
typedef double (*ap_avail_held_fn)(void *ud, int64_t start);

/*
 * The UTC span [*from, *to) of the query's local days in the scheduler's
 * zone, clipped to the horizon (today + horizonDays − 1, local). *to <= *from
 * when every asked day is past the horizon. AP_EINVAL for an unknown zone.
 */
enum ap_err ap_avail_span(const struct ap_avail_query *q, int64_t *from, int64_t *to);

/*
 * Local capacity: the catalog's active arrival windows serving the
 * service's business unit, on every local day of [from, to), each with open
 * = the scheduler's per-window cap. *out malloc'd.
 */
enum ap_err ap_avail_local_slots(const struct ap_avail_query *q, const struct ap_catalog *cat,
                                 int64_t from, int64_t to, struct ap_avail_slot **out, size_t *n);

/*
 * The public windows array [{"start", "end", "available"}] of the slots that
 * start within the query's span, with start/end in RFC 3339 at the
 * scheduler zone's offset of that instant ("2026-03-08T08:00:00-05:00").
 * held may be NULL (nothing held). New reference.
 */
json_t *ap_avail_windows(const struct ap_avail_query *q, const struct ap_avail_slot *slots,
                         size_t n, ap_avail_held_fn held, void *ud);

/* Whether one slot is available under the query's rules (see above). */
bool ap_avail_slot_open(const struct ap_avail_query *q, const struct ap_avail_slot *s, double held);

/* RFC 3339 of utc in zone with its offset then ("…-05:00"); false for an unknown zone. */
bool ap_avail_format_local(const char *zone, int64_t utc, char out[40]);

#endif

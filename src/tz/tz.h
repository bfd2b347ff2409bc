/*
 * tz.h — time zones: converting between UTC instants and wall-clock time in
 * an IANA zone ("America/Chicago"). The adapter over ICU (ucal.h); the only
 * code in the tree that includes ICU headers.
 *
 * Instants are int64 nanoseconds since the Unix epoch; wall-clock fields are
 * whole seconds (sub-second parts of an instant are dropped when converting
 * to local time, and local_to_utc gives whole seconds).
 *
 * Wall times that do not exist or exist twice (daylight-saving changes):
 *  - a time inside a spring-forward gap (2026-03-08 02:30 in Chicago) is read
 *    with the offset in force before the gap, i.e. it is shifted forward by
 *    the gap's length: 02:30 → 08:30Z, which is 03:30 CDT;
 *  - a time inside a fall-back overlap (2026-11-01 01:30 in Chicago) is the
 *    EARLIER of its two instants (the daylight-time one): 01:30 CDT = 06:30Z.
 * These are ICU's lenient defaults (UCAL_WALLTIME_LAST for skipped times,
 * UCAL_WALLTIME_FIRST for repeated ones), set explicitly.
 *
 * Thread-safe: each thread keeps its own small cache of open calendars (one
 * per zone, a handful of zones), released when the thread exits. With each
 * it keeps the span between the offset changes around the last instant it
 * converted, so converting other instants of that span needs no ICU call.
 */
#ifndef AP_TZ_TZ_H
#define AP_TZ_TZ_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* Longest zone id accepted (IANA ids are far shorter). */
#define AP_TZ_MAX_ID 64

struct ap_tz_local {
    int y, mon, d; /* mon 1..12, d 1..31 */
    int h, mi, s;  /* 0..23, 0..59, 0..59 */
    int wday;      /* 0 = Sunday .. 6 = Saturday */
    int offset_s;  /* UTC offset in force (standard + daylight), e.g. -18000 */
};

/* True when zone is a time-zone id ICU knows ("America/Chicago", "UTC"). */
bool ap_tz_valid(const char *zone);

/*
 * Years local_to_utc accepts: every wall time in them is an instant that an
 * int64 of nanoseconds holds (1677-09-21 .. 2262-04-11), and they are
 * Gregorian years (ICU's calendar would read years before 1583 as Julian).
 * The same span as core/datetime.h's parsers.
 */
#define AP_TZ_YEAR_MIN 1678
#define AP_TZ_YEAR_MAX 2261

/*
 * The instant of wall-clock time y-mon-d h:mi:s in zone, into *utc_ns (see
 * the gap/overlap rule above). Fields are not normalised: out-of-range ones
 * (mon 13, d 32, h 24, a year outside AP_TZ_YEAR_MIN..MAX...) are AP_EINVAL,
 * as is an unknown zone.
 */
enum ap_err ap_tz_local_to_utc(const char *zone, int y, int mon, int d, int h, int mi, int s,
                               int64_t *utc_ns);

/* The wall-clock time in zone at instant utc_ns. AP_EINVAL for an unknown zone. */
enum ap_err ap_tz_utc_to_local(const char *zone, int64_t utc_ns, struct ap_tz_local *out);

/* UTC offset in seconds in force in zone at utc_ns; 0 for an unknown zone. */
int ap_tz_offset_s(const char *zone, int64_t utc_ns);

/* Closes the calling thread's cached calendars and forgets the offset spans it learnt (tests:
 * the next conversion asks ICU itself). */
void ap_tz_forget(void);

#endif

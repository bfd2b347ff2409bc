/*
 * datetime.h — the proleptic Gregorian calendar and RFC 3339 timestamps in
 * UTC: the one home of date arithmetic for appointd and stsim. Time zones
 * (wall time in a named zone, DST) are the tz adapter's (tz/tz.h), which
 * builds on these.
 *
 * Instants are int64 nanoseconds since 1970-01-01T00:00:00Z, the unit of
 * ap_clock_real_ns(); that spans 1677-09-21 .. 2262-04-11, so years outside
 * 1678..2261 are refused by the parsers.
 */
#ifndef AP_CORE_DATETIME_H
#define AP_CORE_DATETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/defs.h"

/* A calendar date. */
struct ap_date {
    int y, m, d; /* m 1..12, d 1..31 */
};

/* Days since 1970-01-01 of a date (negative before; H. Hinnant's algorithm). */
int64_t ap_days_from_civil(int y, int m, int d);
/* The date of a day number (the inverse of ap_days_from_civil). */
struct ap_date ap_civil_from_days(int64_t days);
/* 28..31; 0 for a month outside 1..12. */
int ap_days_in_month(int y, int m);
/* 0 = Sunday .. 6 = Saturday. */
int ap_weekday(int64_t days);

/* Strictly "YYYY-MM-DD", a real date of years 1678..2261. */
bool ap_date_parse(const char *s, struct ap_date *out);
/* "YYYY-MM-DD" into out (>= 11 bytes). */
void ap_date_format(struct ap_date d, char out[16]);

/*
 * Parses a timestamp into ns since the epoch:
 *   YYYY-MM-DD                        midnight UTC
 *   YYYY-MM-DD(T|t| )hh:mm[:ss[.f]]   with 1..7 fractional digits (.NET's
 *                                     precision: 100 ns), then a zone:
 *   Z | z | ±hh:mm | ±hhmm | ±hh | nothing (UTC)
 * A space where the zone's sign goes is read as '+' (what a query string's
 * '+' decodes to). Hours 0..23, minutes and seconds 0..59 (no leap second).
 */
bool ap_time_parse(const char *s, int64_t *ns);

/* Enough for any ap_time_format() output. */
#define AP_TIME_BUF 40
/*
 * Formats ns as UTC "YYYY-MM-DDThh:mm:ss[.f]Z" with frac_digits (0..9)
 * fractional digits (truncated). 3 gives milliseconds; 7 is ServiceTitan's
 * own form ("2026-03-08T14:00:00.0000000Z").
 */
void ap_time_format(int64_t ns, int frac_digits, char out[AP_TIME_BUF]);

#endif

/*
 * tz.c — the ICU adapter behind tz.h: IANA zones via ICU's C calendar API.
 *
 * Opening a UCalendar costs tens of microseconds (zone rules are loaded and
 * parsed), converting with an open one about a microsecond, so each thread
 * keeps the calendars of the last few zones it used, keyed by zone id, in a
 * pthread-key slot whose destructor closes them when the thread exits.
 *
 * Each cached zone also remembers the span between the two offset changes
 * around the last instant it converted (ICU's transitions) with the offset
 * in force then: converting another instant of that span — the next window
 * of the same week, in practice — is plain calendar arithmetic, without ICU.
 */
#include "tz/tz.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "core/datetime.h"
#include "core/mem.h"

#define TZ_CACHE 8

struct tz_entry {
    char id[AP_TZ_MAX_ID + 1];
    UCalendar *cal;
    /* UTC seconds [span_from, span_to) keep offset span_off (span_to <= span_from: none yet) */
    int64_t span_from, span_to;
    int span_off;
    int64_t memo_day; /* the last day number converted, and its date */
    struct ap_date memo_date;
};

/* Instants before this (1583-01-01 UTC, in seconds) are left to ICU, whose calendar is Julian
 * before the Gregorian change; the arithmetic is Gregorian. */
#define GREGORIAN_FROM_S (-12212553600LL)

struct tz_cache {
    struct tz_entry e[TZ_CACHE];
    unsigned next; /* round-robin victim */
    unsigned last; /* the entry used last: asked first */
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
    struct tz_cache *c = p;

    if (!c)
        return;
    for (int i = 0; i < TZ_CACHE; i++)
        if (c->e[i].cal)
            ucal_close(c->e[i].cal);
    free(c);
}

static void cache_key_make(void)
{
    (void)pthread_key_create(&cache_key, cache_free);
}

static struct tz_cache *cache_get(void)
{
    struct tz_cache *c;

    pthread_once(&cache_once, cache_key_make);
    c = pthread_getspecific(cache_key);
    if (!c) {
        c = ap_xcalloc(1, sizeof(*c));
        pthread_setspecific(cache_key, c);
    }
    return c;
}

/* zone as UTF-16 into u (cap units); false when too long or empty. */
static bool to_uchars(const char *zone, UChar *u, int32_t cap, int32_t *len)
{
    size_t n = zone ? strlen(zone) : 0;

    if (n == 0 || n > AP_TZ_MAX_ID || (int32_t)n >= cap)
        return false;
    u_uastrncpy(u, zone, (int32_t)n);
    u[n] = 0;
    *len = (int32_t)n;
    return true;
}

/* Whether ICU knows the zone id (unknown ids would silently mean GMT). */
static bool icu_known(const UChar *u, int32_t len)
{
    UChar canon[AP_TZ_MAX_ID * 2];
    UBool system = 0;
    UErrorCode st = U_ZERO_ERROR;

    ucal_getCanonicalTimeZoneID(u, len, canon, (int32_t)(sizeof(canon) / sizeof(canon[0])), &system,
                                &st);
    return U_SUCCESS(st) && system;
}

static UCalendar *cal_open(const UChar *u, int32_t len)
{
    UErrorCode st = U_ZERO_ERROR;
    UCalendar *cal = ucal_open(u, len, "en_US_POSIX", UCAL_GREGORIAN, &st);

    if (U_FAILURE(st)) {
        if (cal)
            ucal_close(cal);
        return NULL;
    }
    ucal_setAttribute(cal, UCAL_LENIENT, 1);
    ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);
    ucal_setAttribute(cal, UCAL_SKIPPED_WALL_TIME, UCAL_WALLTIME_LAST);
    return cal;
}

/* The calling thread's cache entry of zone (with its calendar), or NULL when the zone is
 * unknown. */
static struct tz_entry *entry_for(const char *zone)
{
    struct tz_cache *c = cache_get();
    struct tz_entry *e;
    UChar u[AP_TZ_MAX_ID + 1];
    int32_t len;
    UCalendar *cal;

    if (!zone)
        return NULL;
    if (c->e[c->last].cal && strcmp(c->e[c->last].id, zone) == 0)
        return &c->e[c->last];
    for (unsigned i = 0; i < TZ_CACHE; i++)
        if (c->e[i].cal && strcmp(c->e[i].id, zone) == 0) {
            c->last = i;
            return &c->e[i];
        }
    if (!to_uchars(zone, u, AP_TZ_MAX_ID + 1, &len) || !icu_known(u, len))
        return NULL;
    cal = cal_open(u, len);
    if (!cal)
        return NULL;
    c->last = c->next;
    e = &c->e[c->next];
    c->next = (c->next + 1) % TZ_CACHE;
    if (e->cal)
        ucal_close(e->cal);
    *e = (struct tz_entry){.cal = cal, .memo_day = INT64_MIN};
    memcpy(e->id, zone, strlen(zone) + 1);
    return e;
}

static UCalendar *cal_for(const char *zone)
{
    struct tz_entry *e = entry_for(zone);
    return e ? e->cal : NULL;
}

void ap_tz_forget(void)
{
    struct tz_cache *c = cache_get();

    for (int i = 0; i < TZ_CACHE; i++)
        if (c->e[i].cal)
            ucal_close(c->e[i].cal);
    memset(c, 0, sizeof(*c));
}

bool ap_tz_valid(const char *zone)
{
    return cal_for(zone) != NULL;
}

/* Two days: farther from an offset change than any change moves the clock (Samoa's day), so a
 * wall time this far inside a remembered span is neither skipped nor repeated. */
#define SPAN_MARGIN_S (2 * 86400)

enum ap_err ap_tz_local_to_utc(const char *zone, int y, int mon, int d, int h, int mi, int s,
                               int64_t *utc_ns)
{
    struct tz_entry *e;
    UCalendar *cal;
    UErrorCode st = U_ZERO_ERROR;
    UDate ms;
    int64_t guess;

    if (y < AP_TZ_YEAR_MIN || y > AP_TZ_YEAR_MAX || mon < 1 || mon > 12 || d < 1 ||
        d > ap_days_in_month(y, mon) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
        return AP_EINVAL;
    if (!(e = entry_for(zone)))
        return AP_EINVAL;
    guess = ap_days_from_civil(y, mon, d) * 86400 + h * 3600 + mi * 60 + s - e->span_off;
    if (e->span_to > e->span_from && guess - SPAN_MARGIN_S >= e->span_from &&
        guess + SPAN_MARGIN_S < e->span_to) {
        *utc_ns = guess * 1000000000;
        return AP_OK;
    }
    cal = e->cal;
    ucal_clear(cal);
    ucal_setDateTime(cal, y, mon - 1, d, h, mi, s, &st);
    ms = ucal_getMillis(cal, &st);
    if (U_FAILURE(st))
        return AP_EINVAL;
    *utc_ns = (int64_t)llround(ms) * 1000000;
    return AP_OK;
}

/* Floor division for the arithmetic below. */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The wall-clock fields of UTC second secs at offset off (proleptic Gregorian); e's memo
 * keeps the last day's date (windows of one day come one after the other). */
static void fields_at(struct tz_entry *e, int64_t secs, int off, struct ap_tz_local *out)
{
    int64_t local = secs + off, days = floor_div(local, 86400), rem = local - days * 86400;
    struct ap_date d;

    if (days != e->memo_day) {
        e->memo_day = days;
        e->memo_date = ap_civil_from_days(days);
    }
    d = e->memo_date;

    *out = (struct ap_tz_local){d.y,
                                d.m,
                                d.d,
                                (int)(rem / 3600),
                                (int)(rem / 60 % 60),
                                (int)(rem % 60),
                                (int)(((days + 4) % 7 + 7) % 7), /* 1970-01-01 was a Thursday */
                                off};
}

/* Remembers the span of offset changes around the calendar's instant (secs), with off. */
static void span_learn(struct tz_entry *e, int64_t secs, int off)
{
    UErrorCode st = U_ZERO_ERROR;
    UDate prev = 0, next = 0;
    bool has_prev, has_next;

    has_prev =
        ucal_getTimeZoneTransitionDate(e->cal, UCAL_TZ_TRANSITION_PREVIOUS_INCLUSIVE, &prev, &st);
    has_next = ucal_getTimeZoneTransitionDate(e->cal, UCAL_TZ_TRANSITION_NEXT, &next, &st);
    e->span_to = e->span_from = 0;
    if (U_FAILURE(st))
        return;
    e->span_from = has_prev ? (int64_t)ceil(prev / 1000.0) : INT64_MIN;
    e->span_to = has_next ? (int64_t)floor(next / 1000.0) : INT64_MAX;
    if (e->span_from < GREGORIAN_FROM_S)
        e->span_from = GREGORIAN_FROM_S;
    if (secs < e->span_from || secs >= e->span_to) /* not this instant's span after all */
        e->span_to = e->span_from = 0;
    e->span_off = off;
}

enum ap_err ap_tz_utc_to_local(const char *zone, int64_t utc_ns, struct ap_tz_local *out)
{
    struct tz_entry *e = entry_for(zone);
    UErrorCode st = U_ZERO_ERROR;
    int64_t secs = floor_div(utc_ns, 1000000000); /* whole seconds: the sub-second part dropped */
    UCalendar *cal;

    if (!e)
        return AP_EINVAL;
    if (secs >= e->span_from && secs < e->span_to) {
        fields_at(e, secs, e->span_off, out);
        return AP_OK;
    }
    cal = e->cal;
    ucal_setMillis(cal, (UDate)secs * 1000.0, &st);
    out->y = ucal_get(cal, UCAL_EXTENDED_YEAR, &st);
    out->mon = ucal_get(cal, UCAL_MONTH, &st) + 1;
    out->d = ucal_get(cal, UCAL_DATE, &st);
    out->h = ucal_get(cal, UCAL_HOUR_OF_DAY, &st);
    out->mi = ucal_get(cal, UCAL_MINUTE, &st);
    out->s = ucal_get(cal, UCAL_SECOND, &st);
    out->wday = ucal_get(cal, UCAL_DAY_OF_WEEK, &st) - UCAL_SUNDAY;
    out->offset_s =
        (ucal_get(cal, UCAL_ZONE_OFFSET, &st) + ucal_get(cal, UCAL_DST_OFFSET, &st)) / 1000;
    if (U_FAILURE(st))
        return AP_EINVAL;
    if (secs >= GREGORIAN_FROM_S)
        span_learn(e, secs, out->offset_s);
    return AP_OK;
}

int ap_tz_offset_s(const char *zone, int64_t utc_ns)
{
    struct ap_tz_local l;

    return ap_tz_utc_to_local(zone, utc_ns, &l) == AP_OK ? l.offset_s : 0;
}

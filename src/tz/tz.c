/*
 * tz.c — the ICU adapter behind tz.h: IANA zones via ICU's C calendar API.
 *
 * Opening a UCalendar costs tens of microseconds (zone rules are loaded and
 * parsed), converting with an open one about a microsecond, so each thread
 * keeps the calendars of the last few zones it used, keyed by zone id, in a
 * pthread-key slot whose destructor closes them when the thread exits.
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
};

struct tz_cache {
    struct tz_entry e[TZ_CACHE];
    unsigned next; /* round-robin victim */
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

/* The calling thread's calendar for zone, or NULL when the zone is unknown. */
static UCalendar *cal_for(const char *zone)
{
    struct tz_cache *c = cache_get();
    struct tz_entry *e;
    UChar u[AP_TZ_MAX_ID + 1];
    int32_t len;
    UCalendar *cal;

    for (int i = 0; i < TZ_CACHE; i++)
        if (c->e[i].cal && strcmp(c->e[i].id, zone ? zone : "") == 0)
            return c->e[i].cal;
    if (!to_uchars(zone, u, AP_TZ_MAX_ID + 1, &len) || !icu_known(u, len))
        return NULL;
    cal = cal_open(u, len);
    if (!cal)
        return NULL;
    e = &c->e[c->next];
    c->next = (c->next + 1) % TZ_CACHE;
    if (e->cal)
        ucal_close(e->cal);
    e->cal = cal;
    memcpy(e->id, zone, strlen(zone) + 1);
    return cal;
}

bool ap_tz_valid(const char *zone)
{
    return cal_for(zone) != NULL;
}

enum ap_err ap_tz_local_to_utc(const char *zone, int y, int mon, int d, int h, int mi, int s,
                               int64_t *utc_ns)
{
    UCalendar *cal;
    UErrorCode st = U_ZERO_ERROR;
    UDate ms;

    if (y < AP_TZ_YEAR_MIN || y > AP_TZ_YEAR_MAX || mon < 1 || mon > 12 || d < 1 ||
        d > ap_days_in_month(y, mon) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
        return AP_EINVAL;
    cal = cal_for(zone);
    if (!cal)
        return AP_EINVAL;
    ucal_clear(cal);
    ucal_setDateTime(cal, y, mon - 1, d, h, mi, s, &st);
    ms = ucal_getMillis(cal, &st);
    if (U_FAILURE(st))
        return AP_EINVAL;
    *utc_ns = (int64_t)llround(ms) * 1000000;
    return AP_OK;
}

/* Floor division of ns to whole milliseconds (instants before 1970 too). */
static UDate ns_to_ms(int64_t ns)
{
    int64_t ms = ns / 1000000;

    if (ns % 1000000 < 0)
        ms--;
    return (UDate)ms;
}

enum ap_err ap_tz_utc_to_local(const char *zone, int64_t utc_ns, struct ap_tz_local *out)
{
    UCalendar *cal = cal_for(zone);
    UErrorCode st = U_ZERO_ERROR;

    if (!cal)
        return AP_EINVAL;
    /* whole seconds: drop the sub-second part before converting */
    ucal_setMillis(cal, floor(ns_to_ms(utc_ns) / 1000.0) * 1000.0, &st);
    out->y = ucal_get(cal, UCAL_EXTENDED_YEAR, &st);
    out->mon = ucal_get(cal, UCAL_MONTH, &st) + 1;
    out->d = ucal_get(cal, UCAL_DATE, &st);
    out->h = ucal_get(cal, UCAL_HOUR_OF_DAY, &st);
    out->mi = ucal_get(cal, UCAL_MINUTE, &st);
    out->s = ucal_get(cal, UCAL_SECOND, &st);
    out->wday = ucal_get(cal, UCAL_DAY_OF_WEEK, &st) - UCAL_SUNDAY;
    out->offset_s =
        (ucal_get(cal, UCAL_ZONE_OFFSET, &st) + ucal_get(cal, UCAL_DST_OFFSET, &st)) / 1000;
    return U_SUCCESS(st) ? AP_OK : AP_EINVAL;
}

int ap_tz_offset_s(const char *zone, int64_t utc_ns)
{
    struct ap_tz_local l;

    return ap_tz_utc_to_local(zone, utc_ns, &l) == AP_OK ? l.offset_s : 0;
}

/*
 * retry.c — when and how long to wait before trying a ServiceTitan call
 * again: the jittered exponential backoff, the reading of Retry-After (a
 * header of seconds or an HTTP date, or ServiceTitan's "… N seconds." title),
 * and the mapping of HTTP statuses to enum ap_err and to "retry or not".
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/status.h"
#include "titan/titan_int.h"

int64_t ap_titan_backoff_ns(int retry, uint32_t rnd)
{
    int64_t step = AP_TITAN_BACKOFF_BASE_NS, half;

    for (int i = 1; i < retry && step < AP_TITAN_BACKOFF_CAP_NS; i++)
        step *= 2;
    if (step > AP_TITAN_BACKOFF_CAP_NS)
        step = AP_TITAN_BACKOFF_CAP_NS;
    half = step / 2;
    return half + (int64_t)(rnd % (uint64_t)(half + 1));
}

static int clamp_secs(long long s)
{
    if (s < 0)
        return 0;
    return s > AP_TITAN_MAX_RETRY_AFTER_S ? AP_TITAN_MAX_RETRY_AFTER_S + 1 : (int)s;
}

/* "120" → 120; false unless the whole value is digits. */
static bool delta_seconds(const char *h, int *secs)
{
    size_t n = strspn(h, "0123456789");

    if (n == 0 || h[n] != '\0')
        return false;
    *secs = n > 9 ? AP_TITAN_MAX_RETRY_AFTER_S + 1 : clamp_secs(strtoll(h, NULL, 10));
    return true;
}

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") → seconds from now, rounded up. */
static bool http_date(const char *h, int64_t now_real_ns, int *secs)
{
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char mon[4] = "";
    int d, y, hh, mm, ss, m = -1, used = 0;
    struct tm tm = {0};
    int64_t at, now_s;

    if (strlen(h) > 40 ||
        sscanf(h, "%*3s, %2d %3s %4d %2d:%2d:%2d GMT%n", &d, mon, &y, &hh, &mm, &ss, &used) != 6 ||
        used == 0 || h[used] != '\0')
        return false;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, mons[i]) == 0)
            m = i;
    if (m < 0 || d < 1 || d > 31 || y < 1970 || hh > 23 || mm > 59 || ss > 60)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = m;
    tm.tm_mday = d;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    at = (int64_t)timegm(&tm);
    now_s = now_real_ns / 1000000000LL;
    *secs = clamp_secs(at - now_s); /* whole seconds, so a fraction of now rounds up */
    return true;
}

/* The N of "… N seconds." / "… N second." at the end of a title. */
static bool title_seconds(const char *title, int *secs)
{
    const char *p = title ? strstr(title, " second") : NULL, *last = NULL, *q;

    for (; p; p = strstr(p + 1, " second"))
        last = p;
    if (!last || last == title)
        return false;
    q = last;
    while (q > title && isdigit((unsigned char)q[-1]))
        q--;
    if (q == last || last - q > 9)
        return false;
    *secs = clamp_secs(strtoll(q, NULL, 10));
    return true;
}

bool ap_titan_retry_after(const char *header, const char *title, int64_t now_real_ns, int *secs)
{
    if (header && *header && (delta_seconds(header, secs) || http_date(header, now_real_ns, secs)))
        return true;
    return title_seconds(title, secs);
}

enum ap_err ap_titan_status_err(int status)
{
    switch (status) {
    case 400:
    case 422:
        return AP_EINVAL;
    case 401:
    case 403:
        return AP_EPERM;
    case 404:
        return AP_ENOTFOUND;
    case 409:
        return AP_ECONFLICT;
    case 429:
        return AP_EBUSY;
    default:
        return status >= 200 && status < 300 ? AP_OK : AP_EUNAVAIL;
    }
}

bool ap_titan_status_retryable(int status)
{
    return status == 0 || status == 429 || status >= 500;
}

const char *ap_titan_status_text(int status)
{
    const char *r = status == 0 ? "No answer" : ap_status_reason(status);
    return r ? r : "HTTP error";
}

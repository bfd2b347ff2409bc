/*
 * datetime.c — calendar arithmetic and RFC 3339 parsing and formatting in
 * UTC. See datetime.h.
 */
#include <ctype.h>
#include <stdio.h>

#include "core/datetime.h"

int64_t ap_days_from_civil(int y, int m, int d)
{
    int64_t yy = m <= 2 ? (int64_t)y - 1 : y;
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;

    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

struct ap_date ap_civil_from_days(int64_t z)
{
    int64_t era, doe, yoe, doy, mp;
    struct ap_date out;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    out.d = (int)(doy - (153 * mp + 2) / 5 + 1);
    out.m = (int)(mp < 10 ? mp + 3 : mp - 9);
    out.y = (int)(yoe + era * 400 + (out.m <= 2));
    return out;
}

int ap_days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (m < 1 || m > 12)
        return 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

int ap_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (4). */
    int64_t w = (days + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* "YYYY-MM-DD" at *p, advanced past it. */
static bool date_at(const char **p, struct ap_date *d)
{
    if (!digits(p, 4, &d->y) || *(*p)++ != '-' || !digits(p, 2, &d->m) || *(*p)++ != '-' ||
        !digits(p, 2, &d->d))
        return false;
    return d->y >= 1678 && d->y <= 2261 && d->d >= 1 && d->d <= ap_days_in_month(d->y, d->m);
}

bool ap_date_parse(const char *s, struct ap_date *out)
{
    const char *p = s;
    struct ap_date d;

    if (!s || !date_at(&p, &d) || *p != '\0')
        return false;
    *out = d;
    return true;
}

void ap_date_format(struct ap_date d, char out[16])
{
    snprintf(out, 16, "%04d-%02d-%02d", d.y % 10000, d.m % 100, d.d % 100);
}

/* ".f" with 1..7 digits → ns; no fraction is fine. */
static bool fraction(const char **p, int64_t *ns)
{
    int64_t scale = 100000000;
    int n = 0;

    *ns = 0;
    if (**p != '.')
        return true;
    (*p)++;
    while (isdigit((unsigned char)**p)) {
        if (++n > 7)
            return false;
        *ns += (**p - '0') * scale;
        scale /= 10;
        (*p)++;
    }
    return n > 0;
}

/* The zone, which must end the string: seconds east of UTC into *off. */
static bool zone(const char *p, int *off)
{
    int sign, hh, mm = 0;

    *off = 0;
    if (*p == '\0')
        return true;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return true;
    if (*p != '+' && *p != '-' && *p != ' ')
        return false;
    sign = *p == '-' ? -1 : 1;
    p++;
    if (!digits(&p, 2, &hh))
        return false;
    if (*p == ':')
        p++;
    if (*p != '\0' && !digits(&p, 2, &mm))
        return false;
    if (*p != '\0' || hh > 23 || mm > 59)
        return false;
    *off = sign * (hh * 3600 + mm * 60);
    return true;
}

bool ap_time_parse(const char *s, int64_t *ns)
{
    struct ap_date d;
    int h = 0, mi = 0, se = 0, off = 0;
    int64_t frac = 0, secs;
    const char *p = s;

    if (!s || !date_at(&p, &d))
        return false;
    if (*p != '\0') {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return false;
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return false;
        if (*p == ':' && (p++, !digits(&p, 2, &se)))
            return false;
        if (h > 23 || mi > 59 || se > 59 || !fraction(&p, &frac) || !zone(p, &off))
            return false;
    }
    secs = ap_days_from_civil(d.y, d.m, d.d) * AP_S_PER_DAY + h * 3600 + mi * 60 + se - off;
    *ns = secs * AP_NS_PER_S + frac;
    return true;
}

void ap_time_format(int64_t ns, int frac_digits, char out[AP_TIME_BUF])
{
    int64_t secs = ns / AP_NS_PER_S, frac = ns % AP_NS_PER_S;
    int64_t days, sod;
    struct ap_date d;
    int n;

    if (frac < 0) {
        frac += AP_NS_PER_S;
        secs--;
    }
    days = secs / AP_S_PER_DAY;
    sod = secs % AP_S_PER_DAY;
    if (sod < 0) {
        sod += AP_S_PER_DAY;
        days--;
    }
    d = ap_civil_from_days(days);
    n = snprintf(out, AP_TIME_BUF, "%04d-%02d-%02dT%02d:%02d:%02d", d.y, d.m, d.d,
                 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    if (frac_digits > 9)
        frac_digits = 9;
    if (frac_digits > 0) {
        char f[16];
        snprintf(f, sizeof(f), "%09lld", (long long)frac);
        n += snprintf(out + n, (size_t)(AP_TIME_BUF - n), ".%.*s", frac_digits, f);
    }
    snprintf(out + n, (size_t)(AP_TIME_BUF - n), "Z");
}

/*
 * ics.c — "add to calendar": a booking as an iCalendar (RFC 5545) file with
 * one event, for the widget's confirmation step and the confirmation page
 * (GET /api/v1/bookings/:reference/calendar.ics in public.c).
 *
 * The event spans the arrival window (times in UTC, so every calendar shows
 * them in its own zone); its text fields are escaped (backslash, comma,
 * semicolon, newline) and every line is folded at 75 octets without
 * splitting a UTF-8 character, lines ending in CRLF.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "core/buf.h"
#include "core/datetime.h"

#define ICS_MAX     (64u << 10) /* far above any event a booking makes */
#define ICS_FOLD_AT 75

/* "20260308T130000Z" into out (>= 17 bytes). */
static void ics_time(int64_t ns, char out[20])
{
    char t[AP_TIME_BUF];
    size_t o = 0;

    ap_time_format(ns, 0, t);
    for (const char *p = t; *p && o < 19; p++)
        if (*p != '-' && *p != ':')
            out[o++] = *p;
    out[o] = '\0';
}

/* Appends one content line: folded at ICS_FOLD_AT octets (a fold never splits a UTF-8
 * character), ended with CRLF. */
static void ics_line(struct ap_buf *b, const char *line)
{
    size_t n = strlen(line), col = 0;

    for (size_t i = 0; i < n;) {
        size_t len = 1; /* the octets of the character at i */
        while (i + len < n && ((unsigned char)line[i + len] & 0xC0) == 0x80)
            len++;
        if (col + len > ICS_FOLD_AT) {
            ap_buf_puts(b, "\r\n ");
            col = 1;
        }
        ap_buf_append(b, line + i, len);
        col += len;
        i += len;
    }
    ap_buf_puts(b, "\r\n");
}

/* Appends "NAME:value", value escaped as TEXT when escape (else a URI, as it is); nothing when
 * value is NULL or empty. */
static void ics_prop(struct ap_buf *b, const char *name, const char *value, bool escape)
{
    struct ap_buf v;

    if (!value || !*value)
        return;
    ap_buf_init(&v, ICS_MAX);
    ap_buf_printf(&v, "%s:", name);
    for (const char *p = value; *p; p++) {
        if (escape && (*p == '\\' || *p == ';' || *p == ',')) {
            char esc[2] = {'\\', *p};
            ap_buf_append(&v, esc, 2);
        } else if (*p == '\n') {
            ap_buf_puts(&v, escape ? "\\n" : "");
        } else if (*p != '\r') {
            ap_buf_append(&v, p, 1);
        }
    }
    ics_line(b, v.data);
    ap_buf_cleanup(&v);
}

char *ap_api_ics_calendar(const struct ap_api_ics_event *ev)
{
    struct ap_buf b;
    char t[20], line[160];

    ap_buf_init(&b, ICS_MAX);
    ics_line(&b, "BEGIN:VCALENDAR");
    ics_line(&b, "VERSION:2.0");
    ics_line(&b, "PRODID:-//appointd//booking//EN");
    ics_line(&b, "CALSCALE:GREGORIAN");
    ics_line(&b, "METHOD:PUBLISH");
    ics_line(&b, "BEGIN:VEVENT");
    ics_prop(&b, "UID", ev->uid, true);
    ics_time(ev->stamp_ns, t);
    snprintf(line, sizeof(line), "DTSTAMP:%s", t);
    ics_line(&b, line);
    ics_time(ev->start_ns, t);
    snprintf(line, sizeof(line), "DTSTART:%s", t);
    ics_line(&b, line);
    ics_time(ev->end_ns, t);
    snprintf(line, sizeof(line), "DTEND:%s", t);
    ics_line(&b, line);
    ics_prop(&b, "SUMMARY", ev->summary, true);
    ics_prop(&b, "LOCATION", ev->location, true);
    ics_prop(&b, "DESCRIPTION", ev->description, true);
    ics_prop(&b, "URL", ev->url, false);
    ics_line(&b, ev->canceled ? "STATUS:CANCELLED" : "STATUS:CONFIRMED");
    ics_line(&b, "TRANSP:OPAQUE");
    ics_line(&b, "END:VEVENT");
    ics_line(&b, "END:VCALENDAR");
    return ap_buf_take(&b);
}

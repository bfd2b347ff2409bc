/*
 * test_ics.c — the "add to calendar" file (src/api/ics.c): a whole event as
 * a calendar reads it (UTC times, CRLF lines), TEXT values escaped, long
 * lines folded at 75 octets without splitting a UTF-8 character, and a
 * canceled booking marked CANCELLED.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_int.h"
#include "core/datetime.h"

static int64_t at(const char *rfc3339)
{
    int64_t ns = 0;
    assert_true(ap_time_parse(rfc3339, &ns));
    return ns;
}

/* Undoes the folding: CRLF + space joins the next line. */
static char *unfold(const char *ics)
{
    char *out = strdup(ics), *o = out;
    for (const char *p = ics; *p; p++) {
        if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
            p += 2;
            continue;
        }
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

static void test_event(void **state)
{
    (void)state;
    struct ap_api_ics_event ev = {
        .uid = "bk_abc@appointd",
        .start_ns = at("2026-03-08T08:00:00-05:00"),
        .end_ns = at("2026-03-08T10:00:00-05:00"),
        .stamp_ns = at("2026-03-01T12:34:56Z"),
        .summary = "AC repair — Lone Star Comfort & Plumbing",
        .location = "1 Main St, Apt 2, Dallas, TX 75001",
        .description = "Gate; code\\1234\nCall (214) 555-0100",
        .url = "http://127.0.0.1:8080/b/bk_abc",
    };
    char *ics = ap_api_ics_calendar(&ev);
    const char *want_start = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n";
    assert_memory_equal(ics, want_start, strlen(want_start));
    assert_non_null(strstr(ics, "\r\nDTSTART:20260308T130000Z\r\n"));
    assert_non_null(strstr(ics, "\r\nDTEND:20260308T150000Z\r\n"));
    assert_non_null(strstr(ics, "\r\nDTSTAMP:20260301T123456Z\r\n"));
    assert_non_null(strstr(ics, "\r\nUID:bk_abc@appointd\r\n"));
    assert_non_null(strstr(ics, "\r\nSTATUS:CONFIRMED\r\n"));
    assert_true(strlen(ics) > 2 && strcmp(ics + strlen(ics) - 15, "END:VCALENDAR\r\n") == 0);
    char *flat = unfold(ics);
    assert_non_null(strstr(flat, "\r\nLOCATION:1 Main St\\, Apt 2\\, Dallas\\, TX 75001\r\n"));
    assert_non_null(strstr(flat, "\r\nDESCRIPTION:Gate\\; code\\\\1234\\nCall (214) 555-0100\r\n"));
    assert_non_null(strstr(flat, "\r\nURL:http://127.0.0.1:8080/b/bk_abc\r\n"));
    assert_non_null(strstr(flat, "\r\nSUMMARY:AC repair — Lone Star Comfort & Plumbing\r\n"));
    free(flat);
    /* every line ends CRLF: no bare LF */
    for (const char *p = ics; *p; p++)
        if (*p == '\n')
            assert_int_equal(p[-1], '\r');
    free(ics);
}

static void test_folding_keeps_utf8_whole(void **state)
{
    (void)state;
    char summary[400] = "";
    for (int i = 0; i < 60; i++)
        strcat(summary, "é—"); /* 2 + 3 octets */
    struct ap_api_ics_event ev = {.uid = "u", .summary = summary, .canceled = true};
    char *ics = ap_api_ics_calendar(&ev);
    for (const char *line = ics; *line;) {
        const char *end = strstr(line, "\r\n");
        assert_non_null(end);
        assert_true(end - line <= 75);
        /* a continuation line never starts inside a character */
        if (line[0] == ' ')
            assert_true(((unsigned char)line[1] & 0xC0) != 0x80);
        line = end + 2;
    }
    char *flat = unfold(ics);
    char want[420];
    snprintf(want, sizeof(want), "\r\nSUMMARY:%s\r\n", summary);
    assert_non_null(strstr(flat, want));
    assert_non_null(strstr(flat, "\r\nSTATUS:CANCELLED\r\n"));
    assert_null(strstr(flat, "LOCATION"));
    free(flat);
    free(ics);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_folding_keeps_utf8_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

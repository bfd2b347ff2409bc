/*
 * test_log.c — logfmt lines, levels, request ids, quoting and redaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

/* Runs fn with logging captured through a pipe; returns what was written. */
static void capture(void (*fn)(void), char *out, size_t n)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    ap_log_set_fd(fds[1]);
    fn();
    ap_log_set_fd(2);
    close(fds[1]);
    ssize_t got = read(fds[0], out, n - 1);
    out[got > 0 ? got : 0] = '\0';
    close(fds[0]);
}

static void emit_lines(void)
{
    ap_log_set_level(AP_LOG_INFO);
    ap_log_debug("hidden", "x=%d", 1);
    ap_log_set_request_id("req42");
    ap_log_info("order.placed", "n=%d", 7);
    ap_log_set_request_id(NULL);
    ap_log_warn("plain", "%s", "");
}

static void test_line_format_and_level(void **state)
{
    char out[1024];
    ap_clock_fake_begin(1795886286123000000LL, 0); /* 2026-11-28T17:18:06.123Z */
    capture(emit_lines, out, sizeof(out));
    ap_clock_fake_end();
    assert_null(strstr(out, "hidden"));
    assert_string_equal(out,
                        "ts=2026-11-28T17:18:06.123Z level=info event=order.placed req=req42 n=7\n"
                        "ts=2026-11-28T17:18:06.123Z level=warn event=plain req=-\n");
}

static void test_level_parse(void **state)
{
    enum ap_log_level l;
    assert_int_equal(ap_log_level_parse("warn", &l), AP_OK);
    assert_int_equal(l, AP_LOG_WARN);
    assert_int_equal(ap_log_level_parse("loud", &l), AP_EINVAL);
}

static void test_quote(void **state)
{
    char out[64];
    assert_string_equal(ap_log_quote("simple", out, sizeof(out)), "simple");
    assert_string_equal(ap_log_quote("two words", out, sizeof(out)), "\"two words\"");
    assert_string_equal(ap_log_quote("a\"b\\c\nd", out, sizeof(out)), "\"a\\\"b\\\\c\\nd\"");
    assert_string_equal(ap_log_quote("k=v", out, sizeof(out)), "\"k=v\"");
    assert_string_equal(ap_log_quote("", out, sizeof(out)), "\"\"");
    char small[12];
    ap_log_quote("a very long value indeed", small, sizeof(small));
    assert_true(strlen(small) < sizeof(small));
    assert_non_null(strstr(small, "..."));
}

static void test_redaction(void **state)
{
    char out[64];
    assert_string_equal(ap_redact_secret("cs1.abcdefghijklmnop1234", out, sizeof(out)), "****1234");
    assert_string_equal(ap_redact_secret("short", out, sizeof(out)), "****");
    assert_string_equal(ap_redact_email("jane.doe@example.com", out, sizeof(out)), "j***@e***.com");
    assert_string_equal(ap_redact_email("nonsense", out, sizeof(out)), "***");
    assert_string_equal(ap_redact_phone("(512) 555-0199", out, sizeof(out)), "***-***-0199");
    assert_string_equal(ap_redact_phone("12", out, sizeof(out)), "***-***-****");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_format_and_level),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_redaction),
    };
    return cmocka_run_group_tests_name("core/log", tests, NULL, NULL);
}

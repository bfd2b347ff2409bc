/*
 * test_phone.c — homeowners' phone numbers into E.164.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "app/phone.h"
#include "core/defs.h"

static void test_nanp_forms(void **state)
{
    static const char *const same[] = {
        "2145550100",        "214-555-0100",     "(214) 555-0100",
        "214.555.0100",      "+1 214 555 0100",  "1-214-555-0100",
        "+1 (214) 555-0100", "001 214 555 0100", " 214 555 0100 ",
    };
    char out[AP_PHONE_E164_MAX];

    for (size_t i = 0; i < AP_COUNTOF(same); i++) {
        if (!ap_phone_normalize(same[i], out, NULL))
            fail_msg("refused '%s'", same[i]);
        assert_string_equal(out, "+12145550100");
    }
    assert_true(ap_phone_normalize("+1 416 555 0199", out, NULL)); /* Toronto */
    assert_string_equal(out, "+14165550199");
}

static void test_international(void **state)
{
    char out[AP_PHONE_E164_MAX];

    assert_true(ap_phone_normalize("+44 20 7946 0000", out, NULL));
    assert_string_equal(out, "+442079460000");
    assert_true(ap_phone_normalize("0044 20 7946 0000", out, NULL));
    assert_string_equal(out, "+442079460000");
}

static void test_refused_with_reason(void **state)
{
    static const char *const bad[] = {
        "",
        "555-0100",
        "214555010",
        "21455501000",
        "214-555-0100 x12",
        "call me",
        "114-555-0100",
        "214-155-0100",
        "911-555-0100",
        "214-911-0100",
        "++12145550100",
        "+0 214 555 0100",
        "+44 12",
        "2145550100+",
    };
    char out[AP_PHONE_E164_MAX] = "unchanged";
    const char *why;

    for (size_t i = 0; i < AP_COUNTOF(bad); i++) {
        why = NULL;
        if (ap_phone_normalize(bad[i], out, &why))
            fail_msg("accepted '%s' as %s", bad[i], out);
        assert_non_null(why);
        assert_true(strlen(why) > 10);
    }
    assert_false(ap_phone_normalize(NULL, out, &why));
}

static void test_national(void **state)
{
    char out[AP_PHONE_E164_MAX];

    ap_phone_national("+12145550100", out);
    assert_string_equal(out, "2145550100");
    ap_phone_national("+442079460000", out);
    assert_string_equal(out, "442079460000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nanp_forms),
        cmocka_unit_test(test_international),
        cmocka_unit_test(test_refused_with_reason),
        cmocka_unit_test(test_national),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

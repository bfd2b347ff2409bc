/*
 * test_fms_routes.c — the admin API's one table from FMS domain error codes
 * to HTTP statuses: every code the domain can return has a status, each the
 * one docs/api.md gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api/api_int.h"
#include "app/fms.h"

static void test_every_code_has_a_status(void **state)
{
    (void)state;
    for (int c = AP_FMS_E_NONE + 1; c < AP_FMS_E_NCODES; c++) {
        int st = ap_api_fms_status((enum ap_fms_code)c);
        if (c != AP_FMS_E_INTERNAL && st == 500)
            fail_msg("%s has no status of its own", ap_fms_code_name((enum ap_fms_code)c));
        assert_true(st >= 400 && st <= 599);
    }
    assert_int_equal(ap_api_fms_status(AP_FMS_E_NCODES), 500);
}

static void test_documented_statuses(void **state)
{
    (void)state;
    static const struct {
        enum ap_fms_code code;
        int status;
    } doc[] = {
        {AP_FMS_E_INVALID_TENANT_ID, 400},
        {AP_FMS_E_WRONG_TENANT, 400},
        {AP_FMS_E_INVALID_CREDENTIALS, 400},
        {AP_FMS_E_SCOPES_MISSING, 400},
        {AP_FMS_E_DISCONNECT_FIRST, 409},
        {AP_FMS_E_TENANT_REQUIRED, 409},
        {AP_FMS_E_ALREADY_CONNECTED, 409},
        {AP_FMS_E_NOT_CONNECTED, 409},
        {AP_FMS_E_ADD_FAILED, 503},
        {AP_FMS_E_SERVICETITAN_UNAVAILABLE, 503},
        {AP_FMS_E_SERVICETITAN_RATE_LIMITED, 503},
        {AP_FMS_E_SERVICETITAN_ERROR, 502},
        {AP_FMS_E_SERVICETITAN_TIMEOUT, 504},
        {AP_FMS_E_STORE_UNAVAILABLE, 503},
    };
    for (size_t i = 0; i < sizeof(doc) / sizeof(doc[0]); i++)
        assert_int_equal(ap_api_fms_status(doc[i].code), doc[i].status);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_a_status),
        cmocka_unit_test(test_documented_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

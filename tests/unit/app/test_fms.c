/*
 * test_fms.c — unit tests of the FMS connection's pure parts (Tenant ID
 * parsing, Client ID / Secret format checks, the scope diff, the mapping of
 * ServiceTitan's refusals to the contractor's messages) and of the steps that
 * need no ServiceTitan: saving the tenant, "Add to ServiceTitan" with a
 * command hook, refusals that save nothing, disconnect, the status JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/fms_int.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "db/store.h"

/* ---- Step 1 ------------------------------------------------------------------- */

static void test_parse_tenant(void **state)
{
    (void)state;
    struct ap_fms_error e;
    int64_t t = 0;
    assert_int_equal(ap_fms_parse_tenant("1234567", &t, &e), AP_OK);
    assert_int_equal(t, 1234567);
    assert_int_equal(ap_fms_parse_tenant("  8450 \n", &t, &e), AP_OK);
    assert_int_equal(t, 8450);
    assert_int_equal(ap_fms_parse_tenant("9007199254740992", &t, &e), AP_OK); /* 2^53 */
    assert_int_equal(t, 9007199254740992LL);
    const char *bad[] = {
        "0",     "-5",  "12a", "1.5", "1e6", "9007199254740993", "99999999999999999",
        "12 34", "+12", "0x10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = 77;
        assert_int_equal(ap_fms_parse_tenant(bad[i], &t, &e), AP_EINVAL);
        assert_int_equal(t, 77);
        assert_string_equal(ap_fms_code_name(e.code), "invalid_tenant_id");
        assert_int_equal(e.step, 1);
        assert_string_equal(e.field, "tenantId");
        assert_non_null(strstr(e.message, "API Application Access"));
        assert_non_null(strstr(e.message, "upper right-hand corner"));
    }
    assert_int_equal(ap_fms_parse_tenant("   ", &t, &e), AP_EINVAL);
    assert_string_equal(ap_fms_code_name(e.code), "missing_tenant_id");
    assert_int_equal(ap_fms_parse_tenant(NULL, &t, &e), AP_EINVAL);
}

/* ---- Steps 3 and 4 ---------------------------------------------------------------- */

#define CID "cid.abcdefghij0123456789klmno"
#define CS  "cs2.abcdefghij0123456789abcdefghij0123456789abcdefghij"

static void expect_format(const char *cid, const char *cs, const char *code, int step)
{
    char c[AP_FMS_CRED_MAX + 1], s[AP_FMS_CRED_MAX + 1];
    struct ap_fms_error e;
    assert_int_equal(ap_fms_check_formats(cid, cs, c, s, &e), AP_EINVAL);
    assert_string_equal(ap_fms_code_name(e.code), code);
    assert_int_equal(e.step, step);
    /* a message never echoes a secret back */
    assert_null(strstr(e.message, CS));
}

static void test_formats(void **state)
{
    (void)state;
    char c[AP_FMS_CRED_MAX + 1], s[AP_FMS_CRED_MAX + 1];
    struct ap_fms_error e;
    assert_int_equal(ap_fms_check_formats("  " CID "\n", "\t" CS " ", c, s, &e), AP_OK);
    assert_string_equal(c, CID);
    assert_string_equal(s, CS);
    assert_int_equal(ap_fms_check_formats(CID, "cs1.xyz9", c, s, &e), AP_OK);
    expect_format("", CS, "missing_client_id", 3);
    expect_format(CID, "", "missing_client_secret", 4);
    expect_format("abc", CS, "invalid_client_id", 3);
    expect_format("cid.", CS, "invalid_client_id", 3);
    expect_format("cid.ab cd", CS, "invalid_client_id", 3);
    expect_format(CID, "secret", "invalid_client_secret_format", 4);
    expect_format(CID, "cs3.abc", "invalid_client_secret_format", 4);
    expect_format(CS, CID, "credentials_swapped", 3);
    expect_format(CS, "cs2.other", "secret_in_client_id", 3);
    expect_format(CID, CID, "client_id_in_secret", 4);
    char longer[AP_FMS_CRED_MAX + 10];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    memcpy(longer, "cs2.", 4);
    expect_format(CID, longer, "invalid_client_secret_format", 4);
    /* rotation checks the secret alone */
    assert_int_equal(ap_fms_check_formats(NULL, CS, NULL, s, &e), AP_OK);
    assert_int_equal(ap_fms_check_formats(NULL, CID, NULL, s, &e), AP_EINVAL);
    assert_string_equal(ap_fms_code_name(e.code), "client_id_in_secret");
}

/* ---- scopes -------------------------------------------------------------------- */

static size_t index_of(const char *scope)
{
    for (size_t i = 0; i < ap_fms_nscopes; i++) {
        if (strcmp(ap_fms_scopes[i].scope, scope) == 0)
            return i;
    }
    fail_msg("%s is not in ap_fms_scopes", scope);
    return 0;
}

static void test_scope_table(void **state)
{
    (void)state;
    size_t nreq = 0;
    for (size_t i = 0; i < ap_fms_nscopes; i++) {
        const struct ap_fms_scope *s = &ap_fms_scopes[i];
        assert_true(strncmp(s->scope, "tn.", 3) == 0);
        assert_true(strlen(s->feature) > 5);
        /* write scopes have no harmless probe */
        if (strstr(s->scope, ":w"))
            assert_null(s->probe_module);
        nreq += s->required;
    }
    assert_true(nreq >= 10);
    assert_true(ap_fms_scopes[index_of("tn.crm.customers:w")].required);
    assert_true(ap_fms_scopes[index_of("tn.dis.capacity:w")].required);
    assert_false(ap_fms_scopes[index_of("tn.dis.zones:r")].required);
    assert_non_null(ap_fms_scopes[index_of("tn.crm.customers:r")].probe_module);
}

/* Contract C1: exactly these 16, in this order, the last two optional. */
static void test_scopes_are_c1(void **state)
{
    (void)state;
    static const char *const c1[] = {"tn.crm.customers:r",
                                     "tn.crm.customers:w",
                                     "tn.crm.locations:r",
                                     "tn.crm.locations:w",
                                     "tn.crm.bookings:r",
                                     "tn.crm.bookings:w",
                                     "tn.crm.bookingprovidertags:r",
                                     "tn.jpm.jobs:r",
                                     "tn.jpm.jobs:w",
                                     "tn.jpm.jobtypes:r",
                                     "tn.settings.businessunits:r",
                                     "tn.dis.capacity:w",
                                     "tn.dis.arrivalwindows:r",
                                     "tn.marketing.campaigns:r",
                                     "tn.settings.tagtypes:r",
                                     "tn.dis.zones:r"};
    assert_int_equal(ap_fms_nscopes, 16);
    for (size_t i = 0; i < ap_fms_nscopes; i++) {
        assert_string_equal(ap_fms_scopes[i].scope, c1[i]);
        assert_int_equal(ap_fms_scopes[i].required, i < 14);
        assert_null(strstr(ap_fms_scopes[i].feature, "nothing yet"));
    }
}

/* Every code has a name, a step 0..4 and a field; a bad one is "internal". */
static void test_codes(void **state)
{
    (void)state;
    struct ap_fms_error e;
    for (int c = AP_FMS_E_NONE + 1; c < AP_FMS_E_NCODES; c++) {
        ap_fms_fail(&e, (enum ap_fms_code)c, "m%d", c);
        assert_int_equal(e.code, c);
        assert_true(e.step >= 0 && e.step <= 4);
        assert_non_null(e.field);
        if (c != AP_FMS_E_INTERNAL)
            assert_string_not_equal(ap_fms_code_name((enum ap_fms_code)c), "internal");
    }
    assert_string_equal(ap_fms_code_name(AP_FMS_E_NCODES), "internal");
    assert_int_equal(ap_fms_fail(&e, AP_FMS_E_INVALID_CLIENT_ID, "x"), AP_EINVAL);
    assert_int_equal(e.step, 3);
    assert_string_equal(e.field, "clientId");
    assert_string_equal(e.message, "x");
    assert_int_equal(ap_fms_fail(NULL, AP_FMS_E_SERVICETITAN_UNAVAILABLE, "x"), AP_EUNAVAIL);
}

static void test_scope_diff(void **state)
{
    (void)state;
    char *all[AP_FMS_MAX_SCOPES + 1];
    bool miss[AP_FMS_MAX_SCOPES], denied[AP_FMS_MAX_SCOPES] = {0};
    size_t n = 0;
    for (size_t i = 0; i < ap_fms_nscopes; i++)
        all[n++] = (char *)ap_fms_scopes[i].scope;
    all[n++] = "tn.acc.invoices:r"; /* extra grants are fine */
    assert_int_equal(ap_fms_scope_diff(all, n, NULL, miss), 0);
    char *joined = ap_fms_scopes_join(miss);
    assert_string_equal(joined, "");
    free(joined);

    /* an optional one withheld: connects, listed */
    size_t zones = index_of("tn.dis.zones:r"), cw = index_of("tn.crm.customers:w");
    char *some[AP_FMS_MAX_SCOPES];
    size_t m = 0;
    for (size_t i = 0; i < ap_fms_nscopes; i++) {
        if (i != zones && i != cw)
            some[m++] = (char *)ap_fms_scopes[i].scope;
    }
    assert_int_equal(ap_fms_scope_diff(some, m, NULL, miss), 1);
    assert_true(miss[zones] && miss[cw]);
    joined = ap_fms_scopes_join(miss);
    assert_string_equal(joined, "tn.crm.customers:w tn.dis.zones:r");
    free(joined);
    struct ap_fms_error e;
    assert_int_equal(ap_fms_scopes_error(miss, &e), AP_EPERM);
    assert_string_equal(ap_fms_code_name(e.code), "scopes_missing");
    assert_int_equal(e.step, 2);
    assert_non_null(strstr(e.message, "tn.crm.customers:w (creating customers"));
    assert_null(strstr(e.message, "tn.dis.zones:r")); /* only the required ones refuse */
    assert_non_null(strstr(e.message, "Upgrade to New Version"));

    /* in the claim but refused by its probe read */
    size_t jobs = index_of("tn.jpm.jobs:r");
    denied[jobs] = true;
    assert_int_equal(ap_fms_scope_diff(all, n, denied, miss), 1);
    assert_true(miss[jobs]);
    assert_int_equal(ap_fms_scope_diff(NULL, 0, NULL, miss) > 10, true);
}

/* ---- ServiceTitan's refusals ----------------------------------------------------- */

static struct ap_fms_error map(enum ap_err rc, enum ap_titan_stage stage, int status,
                               const char *oauth, const char *title, bool known, const char *env)
{
    struct ap_titan_error te = {.stage = stage, .status = status};
    snprintf(te.oauth_error, sizeof(te.oauth_error), "%s", oauth);
    snprintf(te.title, sizeof(te.title), "%s", title);
    struct ap_fms_titan_ctx ctx = {.tenant_id = 1234567, .environment = env, .known_client = known};
    struct ap_fms_error e;
    enum ap_err got = ap_fms_error_from_titan(rc, &te, &ctx, &e);
    assert_int_not_equal(got, AP_OK);
    assert_true(e.message[0] != '\0');
    return e;
}

static void test_error_mapping(void **state)
{
    (void)state;
    struct ap_fms_error e;
    e = map(AP_EPERM, AP_TITAN_STAGE_TOKEN, 401, "invalid_client", "", false, "custom");
    assert_string_equal(ap_fms_code_name(e.code), "invalid_credentials");
    assert_int_equal(e.step, 4);
    /* first the whole secret, then how to make a new one (contract C2) */
    const char *whole = strstr(e.message, "pasted the whole Client Secret");
    const char *gen = strstr(e.message, "Settings > Integrations > API Application Access, open "
                                        "the app, click Generate new secret");
    assert_non_null(whole);
    assert_non_null(gen);
    assert_true(whole < gen);
    assert_non_null(strstr(e.message, "Step 4"));
    assert_non_null(strstr(e.message, "Allow Access"));
    assert_null(strstr(e.message, "production")); /* custom: no environment hint */

    e = map(AP_EPERM, AP_TITAN_STAGE_TOKEN, 401, "invalid_client", "", false, "production");
    assert_non_null(strstr(e.message, "integration (sandbox) environment do not work in "
                                      "production"));
    e = map(AP_EPERM, AP_TITAN_STAGE_TOKEN, 401, "invalid_client", "", true, "integration");
    assert_string_equal(ap_fms_code_name(e.code), "invalid_client_secret");
    assert_string_equal(e.field, "clientSecret");

    e = map(AP_EPERM, AP_TITAN_STAGE_TOKEN, 401, "invalid_client",
            "The application is disabled for this tenant.", false, "custom");
    assert_string_equal(ap_fms_code_name(e.code), "app_disabled");
    assert_int_equal(e.step, 2);
    assert_non_null(strstr(e.message, "Enable"));
    e = map(AP_EPERM, AP_TITAN_STAGE_TOKEN, 401, "invalid_client",
            "The application is not connected to this tenant.", false, "custom");
    assert_string_equal(ap_fms_code_name(e.code), "app_not_connected");
    assert_non_null(strstr(e.message, "Connect New App"));
    assert_non_null(strstr(e.message, "Allow Access (Step 2)"));

    e = map(AP_EUNAVAIL, AP_TITAN_STAGE_NETWORK, 0, "", "connection refused", false, "custom");
    assert_string_equal(ap_fms_code_name(e.code), "servicetitan_unavailable");
    assert_non_null(strstr(e.message, "try again in a minute"));
    e = map(AP_EUNAVAIL, AP_TITAN_STAGE_TOKEN, 503, "temporarily_unavailable", "", false, "custom");
    assert_string_equal(ap_fms_code_name(e.code), "servicetitan_unavailable");
    e = map(AP_EBUSY, AP_TITAN_STAGE_API, 429, "", "Rate limit is exceeded.", false, "custom");
    assert_string_equal(ap_fms_code_name(e.code), "servicetitan_rate_limited");
    assert_non_null(strstr(e.message, "try again in a minute"));
    e = map(AP_EBUSY, AP_TITAN_STAGE_TOKEN, 429, "slow_down", "", false, "custom");
    assert_string_equal(ap_fms_code_name(e.code), "servicetitan_rate_limited");
    e = map(AP_EPERM, AP_TITAN_STAGE_API, 401, "", "", false, "custom");
    assert_string_equal(ap_fms_code_name(e.code), "app_access_refused");

    struct ap_fms_error w;
    assert_int_equal(ap_fms_wrong_tenant(7654321, 1234567, &w), AP_EPERM);
    assert_string_equal(ap_fms_code_name(w.code), "wrong_tenant");
    assert_string_equal(w.field, "tenantId");
    assert_int_equal(w.token_tenant_id, 7654321);
    assert_int_equal(w.step, 1);
    assert_string_equal(w.message, "The Client ID belongs to ServiceTitan tenant 7654321, but "
                                   "Step 1 says 1234567. Is your Tenant ID 7654321?");

    assert_true(ap_fms_iss_mismatch("production", "https://auth-integration.servicetitan.io"));
    assert_false(ap_fms_iss_mismatch("production", "https://auth.servicetitan.io"));
    assert_true(ap_fms_iss_mismatch("integration", "https://auth.servicetitan.io"));
    assert_false(ap_fms_iss_mismatch("integration", "https://auth-integration.servicetitan.io"));
    assert_false(ap_fms_iss_mismatch("custom", "https://auth.servicetitan.io"));
    assert_false(ap_fms_iss_mismatch("production", NULL));
}

/* ---- steps against a store ------------------------------------------------------ */

struct fx {
    char dir[64];
    struct ap_store *store;
    struct ap_crypto_key *key;
    struct ap_titan *titan;
    struct ap_fms f;
    int64_t acct;
};

static int fx_setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    char err[256];
    snprintf(x->dir, sizeof(x->dir), "/tmp/test_fms.XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    x->store = ap_store_open(x->dir, err, sizeof(err));
    assert_non_null(x->store);
    assert_int_equal(
        ap_store_migrate(x->store, ap_db_migrations, ap_db_nmigrations, NULL, err, sizeof(err)),
        AP_OK);
    assert_int_equal(ap_crypto_init(), AP_OK);
    x->key = ap_crypto_key_new_random();
    /* nothing listens on port 1: every ServiceTitan call fails at once */
    struct ap_titan_config tc = {.env = AP_TITAN_CUSTOM,
                                 .auth_url = "http://127.0.0.1:1",
                                 .api_url = "http://127.0.0.1:1",
                                 .app_key = "ak1.test",
                                 .max_attempts = 1,
                                 .connect_timeout_ms = 2000};
    x->titan = ap_titan_new(&tc, err, sizeof(err));
    assert_non_null(x->titan);
    struct ap_account a;
    assert_int_equal(ap_account_create(x->store, "Lone Star", &a, err, sizeof(err)), AP_OK);
    x->acct = a.id;
    x->f = (struct ap_fms){.store = x->store,
                           .titan = x->titan,
                           .key = x->key,
                           .environment = "custom",
                           .app_access_url = "http://st.example/access",
                           .hook_kind = AP_FMS_HOOK_NONE};
    *state = x;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *x = *state;
    char cmd[128];
    ap_fms_cleanup(&x->f);
    ap_titan_free(x->titan);
    ap_crypto_key_free(x->key);
    ap_store_close(x->store);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", x->dir);
    assert_int_equal(system(cmd), 0);
    free(x);
    return 0;
}

static enum ap_err connect_(struct fx *x, const char *cid, const char *cs, const char *tenant,
                            struct ap_fms_error *e)
{
    struct ap_fms_connect_in in = {cid, cs, tenant};
    return ap_fms_connect(&x->f, x->acct, &in, NULL, e);
}

static void exec_sql(struct fx *x, const char *sql)
{
    struct ap_db_conn *c = ap_store_acquire(x->store, true);
    struct ap_db_val v = ap_db_int(x->acct);
    assert_int_equal(ap_db_exec(c, sql, &v, 1), AP_OK);
    ap_store_release(c);
}

static const char *state_of(struct fx *x)
{
    static char buf[48];
    json_t *st = ap_fms_status(&x->f, x->acct);
    assert_non_null(st);
    snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(st, "state")));
    json_decref(st);
    return buf;
}

static void test_tenant_and_add(void **state)
{
    struct fx *x = *state;
    struct ap_fms_error e;
    const char *link = NULL;
    assert_string_equal(state_of(x), "none");
    /* nothing before Step 1 */
    assert_int_equal(ap_fms_add_to_servicetitan(&x->f, x->acct, &link, NULL, &e), AP_ECONFLICT);
    assert_string_equal(ap_fms_code_name(e.code), "tenant_required");
    assert_int_equal(connect_(x, CID, CS, NULL, &e), AP_ECONFLICT);
    assert_int_equal(e.step, 1);
    assert_int_equal(ap_fms_set_tenant(&x->f, x->acct, "12ab", &e), AP_EINVAL);
    assert_string_equal(state_of(x), "none");
    assert_int_equal(ap_fms_set_tenant(&x->f, x->acct, " 1234567 ", &e), AP_OK);
    assert_string_equal(state_of(x), "tenant_set");

    /* a failing hook changes nothing */
    x->f.hook_kind = AP_FMS_HOOK_COMMAND;
    x->f.hook = "echo no >&2; exit 3";
    assert_int_equal(ap_fms_add_to_servicetitan(&x->f, x->acct, &link, NULL, &e), AP_EUNAVAIL);
    assert_string_equal(ap_fms_code_name(e.code), "add_to_servicetitan_failed");
    assert_int_equal(e.step, 1);
    assert_non_null(strstr(e.message, "status 3"));
    assert_string_equal(state_of(x), "tenant_set");

    /* the hook sees the tenant */
    char marker[128], hook[256];
    snprintf(marker, sizeof(marker), "%s/hook.out", x->dir);
    snprintf(hook, sizeof(hook), "test \"$TENANT_ID\" = 1234567 && echo $TENANT_ID > %s", marker);
    x->f.hook = hook;
    assert_int_equal(ap_fms_add_to_servicetitan(&x->f, x->acct, &link, NULL, &e), AP_OK);
    assert_string_equal(link, "http://st.example/access");
    assert_string_equal(state_of(x), "awaiting_app_access");
    assert_int_equal(access(marker, R_OK), 0);

    /* the same tenant again keeps the state; another one goes back to tenant_set */
    assert_int_equal(ap_fms_set_tenant(&x->f, x->acct, "1234567", &e), AP_OK);
    assert_string_equal(state_of(x), "awaiting_app_access");
    assert_int_equal(ap_fms_set_tenant(&x->f, x->acct, "7654321", &e), AP_OK);
    assert_string_equal(state_of(x), "tenant_set");
}

static void test_failed_connect_saves_nothing(void **state)
{
    struct fx *x = *state;
    struct ap_fms_error e;
    assert_int_equal(ap_fms_set_tenant(&x->f, x->acct, "1234567", &e), AP_OK);
    json_t *before = ap_fms_status(&x->f, x->acct);
    /* a format error never reaches ServiceTitan */
    assert_int_equal(connect_(x, CS, CID, NULL, &e), AP_EINVAL);
    assert_string_equal(ap_fms_code_name(e.code), "credentials_swapped");
    /* ServiceTitan unreachable */
    assert_int_equal(connect_(x, CID, CS, NULL, &e), AP_EUNAVAIL);
    assert_string_equal(ap_fms_code_name(e.code), "servicetitan_unavailable");
    json_t *after = ap_fms_status(&x->f, x->acct);
    assert_true(json_equal(before, after));
    assert_true(json_is_null(json_object_get(after, "clientId")));
    assert_true(json_is_null(json_object_get(after, "clientSecret")));
    json_decref(before);
    json_decref(after);
    /* rotation and checks need a connection */
    assert_int_equal(ap_fms_rotate_secret(&x->f, x->acct, CS, NULL, &e), AP_ECONFLICT);
    assert_string_equal(ap_fms_code_name(e.code), "not_connected");
    assert_int_equal(ap_fms_check(&x->f, x->acct, AP_FMS_CHECK_SECRET, NULL, &e), AP_ECONFLICT);
    assert_string_equal(ap_fms_code_name(e.code), "not_connected");
}

/* A connected row, written the way ap_fms_connect would (its verification needs ServiceTitan). */
static void fake_connected(struct fx *x, const char *state)
{
    char *sealed = NULL, ctx[64];
    snprintf(ctx, sizeof(ctx), "fms.client_secret:acct=%lld", (long long)x->acct);
    assert_int_equal(ap_crypto_seal(x->key, CS, strlen(CS), ctx, &sealed), AP_OK);
    struct ap_db_conn *c = ap_store_acquire(x->store, true);
    struct ap_db_val v[] = {ap_db_text(state), ap_db_text(CID), ap_db_text(sealed),
                            ap_db_int(x->acct)};
    assert_int_equal(ap_db_exec(c,
                                "UPDATE fms_connections SET state = ?, client_id = ?, "
                                "secret_sealed = ?, secret_last4 = 'hij0', granted_scopes = "
                                "'tn.crm.customers:r tn.crm.customers:w', missing_scopes = "
                                "'tn.dis.zones:r', connected_at = '2026-01-01T00:00:00.000Z' "
                                "WHERE account_id = ?",
                                v, 4),
                     AP_OK);
    ap_store_release(c);
    free(sealed);
}

static void test_status_disconnect_and_tenant_change(void **state)
{
    struct fx *x = *state;
    struct ap_fms_error e;
    assert_int_equal(ap_fms_set_tenant(&x->f, x->acct, "1234567", &e), AP_OK);
    fake_connected(x, "connected");
    json_t *st = ap_fms_status(&x->f, x->acct);
    char *text = ap_json_dumps(st);
    assert_null(strstr(text, CS)); /* never the secret */
    assert_null(strstr(text, "v1:"));
    free(text);
    assert_string_equal(json_string_value(json_object_get(st, "clientSecret")),
                        "\u2022\u2022\u2022\u2022hij0");
    assert_int_equal(json_integer_value(json_object_get(st, "tenantId")), 1234567);
    assert_int_equal(json_array_size(json_object_get(st, "grantedScopes")), 2);
    json_t *m = json_array_get(json_object_get(st, "missingScopes"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "scope")), "tn.dis.zones:r");
    assert_false(json_is_true(json_object_get(m, "required")));
    json_decref(st);

    /* a connected account keeps its tenant until disconnected */
    assert_int_equal(ap_fms_set_tenant(&x->f, x->acct, "7654321", &e), AP_ECONFLICT);
    assert_string_equal(ap_fms_code_name(e.code), "disconnect_first");
    assert_int_equal(connect_(x, CID, CS, NULL, &e), AP_ECONFLICT);
    assert_string_equal(ap_fms_code_name(e.code), "already_connected");
    /* a check that cannot reach ServiceTitan changes nothing */
    assert_int_equal(ap_fms_check(&x->f, x->acct, AP_FMS_CHECK_SECRET, NULL, &e), AP_EUNAVAIL);
    assert_string_equal(ap_fms_code_name(e.code), "servicetitan_unavailable");
    assert_string_equal(state_of(x), "connected");
    /* rotation verifies first: unreachable, the old secret stays */
    assert_int_equal(ap_fms_rotate_secret(&x->f, x->acct, "cs1.newsecret", NULL, &e), AP_EUNAVAIL);
    struct fms_row row;
    assert_int_equal(ap_fms_row_load(&x->f, x->acct, &row), AP_OK);
    char *secret = NULL;
    assert_int_equal(ap_fms_open_secret(&x->f, x->acct, &row, &secret), AP_OK);
    assert_string_equal(secret, CS);
    free(secret);
    ap_fms_row_cleanup(&row);

    assert_int_equal(ap_fms_disconnect(&x->f, x->acct, &e), AP_OK);
    assert_int_equal(ap_fms_row_load(&x->f, x->acct, &row), AP_OK);
    assert_int_equal(row.state, AP_FMS_TENANT_SET);
    assert_null(row.client_id);
    assert_null(row.secret_sealed);
    assert_null(row.secret_last4);
    assert_int_equal(row.tenant_id, 1234567);
    ap_fms_row_cleanup(&row);
    assert_int_equal(ap_fms_set_tenant(&x->f, x->acct, "7654321", &e), AP_OK);
}

/* A Step 1 correction sent with the connect: checked first, saved only with a connection. */
static void test_tenant_correction(void **state)
{
    struct fx *x = *state;
    struct ap_fms_error e;
    assert_int_equal(ap_fms_set_tenant(&x->f, x->acct, "1234567", &e), AP_OK);
    json_t *before = ap_fms_status(&x->f, x->acct);
    assert_int_equal(connect_(x, CID, CS, "12ab", &e), AP_EINVAL);
    assert_string_equal(ap_fms_code_name(e.code), "invalid_tenant_id");
    assert_int_equal(e.step, 1);
    /* verified against the corrected tenant, which ServiceTitan could not confirm: kept out */
    assert_int_equal(connect_(x, CID, CS, "7654321", &e), AP_EUNAVAIL);
    json_t *after = ap_fms_status(&x->f, x->acct);
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);

    /* a V1-era tenant must be confirmed first, unless the connect corrects it */
    exec_sql(x, "UPDATE fms_connections SET state = 'v1_migration_required', tenant_confirmed = 0 "
                "WHERE account_id = ?");
    assert_int_equal(connect_(x, CID, CS, NULL, &e), AP_ECONFLICT);
    assert_string_equal(ap_fms_code_name(e.code), "tenant_unconfirmed");
    assert_int_equal(connect_(x, CID, CS, "1234567", &e), AP_EUNAVAIL); /* went to ServiceTitan */
    assert_string_equal(state_of(x), "v1_migration_required");
}

/* Contract C2's additions to the status. */
static void test_status_c2(void **state)
{
    struct fx *x = *state;
    struct ap_fms_error e;
    json_t *st = ap_fms_status(&x->f, x->acct);
    assert_null(json_object_get(st, "schedulers"));
    assert_string_equal(json_string_value(json_object_get(st, "environmentLabel")),
                        "custom ServiceTitan hosts");
    json_t *scopes = json_object_get(st, "scopes");
    assert_int_equal(json_array_size(scopes), ap_fms_nscopes);
    for (size_t i = 0; i < ap_fms_nscopes; i++) {
        json_t *sc = json_array_get(scopes, i);
        assert_string_equal(json_string_value(json_object_get(sc, "scope")),
                            ap_fms_scopes[i].scope);
        assert_string_equal(json_string_value(json_object_get(sc, "feature")),
                            ap_fms_scopes[i].feature);
        assert_int_equal(json_is_true(json_object_get(sc, "required")), ap_fms_scopes[i].required);
        assert_true(json_is_null(json_object_get(sc, "granted"))); /* before a connect */
    }
    json_decref(st);

    assert_int_equal(ap_fms_set_tenant(&x->f, x->acct, "1234567", &e), AP_OK);
    fake_connected(x, "connected"); /* tn.dis.zones:r missing */
    x->f.env_label = "ServiceTitan emulator (stsim)";
    st = ap_fms_status(&x->f, x->acct);
    assert_string_equal(json_string_value(json_object_get(st, "environmentLabel")),
                        "ServiceTitan emulator (stsim)");
    scopes = json_object_get(st, "scopes");
    assert_true(json_is_true(json_object_get(json_array_get(scopes, 0), "granted")));
    assert_true(json_is_false(json_object_get(json_array_get(scopes, 15), "granted")));
    json_decref(st);
    x->f.environment = "production";
    st = ap_fms_status(&x->f, x->acct);
    assert_string_equal(json_string_value(json_object_get(st, "environmentLabel")),
                        "ServiceTitan production");
    json_decref(st);
}

/* A secret is tested (a fresh token) at most once a minute per account. */
static void test_secret_test_memo(void **state)
{
    struct fx *x = *state;
    ap_clock_fake_begin(1700000000 * AP_NS_PER_S, 500 * AP_NS_PER_S);
    assert_false(ap_fms_memo_recent(&x->f, x->acct));
    ap_fms_memo_tested(&x->f, x->acct);
    assert_true(ap_fms_memo_recent(&x->f, x->acct));
    assert_false(ap_fms_memo_recent(&x->f, x->acct + 1));
    ap_clock_fake_advance(59 * AP_NS_PER_S);
    assert_true(ap_fms_memo_recent(&x->f, x->acct));
    ap_fms_memo_tested(&x->f, x->acct + 1);
    ap_clock_fake_advance(2 * AP_NS_PER_S);
    assert_false(ap_fms_memo_recent(&x->f, x->acct));
    assert_true(ap_fms_memo_recent(&x->f, x->acct + 1));
    ap_clock_fake_end();
    ap_fms_cleanup(&x->f);
    assert_null(x->f.memo);
    assert_false(ap_fms_memo_recent(&x->f, x->acct + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_tenant),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_scope_table),
        cmocka_unit_test(test_scopes_are_c1),
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_scope_diff),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test_setup_teardown(test_tenant_and_add, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_failed_connect_saves_nothing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_status_disconnect_and_tenant_change, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_tenant_correction, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_status_c2, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_secret_test_memo, fx_setup, fx_teardown),
    };
    ap_log_set_level(AP_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_accounts.c — unit tests of accounts, users, role permissions, login
 * and sessions (src/app/accounts.c, sessions.c) on a temporary data dir,
 * with argon2id at its cheapest so hashing is fast.
 *
 * The login throttle is process-wide; setup starts each test with a fresh
 * one. Its behaviour is tested in test_login.c.
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
#include "core/clock.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "db/store.h"

#define PW  "correct horse battery"
#define SEC 1000000000LL

struct fx {
    char dir[64];
    struct ap_store *st;
    struct ap_account a, b;
    char err[300];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/ap-accounts-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->st = ap_store_open(f->dir, f->err, sizeof(f->err));
    assert_non_null(f->st);
    assert_int_equal(
        ap_store_migrate(f->st, ap_db_migrations, ap_db_nmigrations, NULL, f->err, sizeof(f->err)),
        AP_OK);
    assert_int_equal(ap_account_create(f->st, "Acme Heating", &f->a, f->err, sizeof(f->err)), 0);
    assert_int_equal(ap_account_create(f->st, "Bolt Plumbing", &f->b, f->err, sizeof(f->err)), 0);
    ap_login_configure(NULL); /* a fresh throttle per test, with the defaults */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    ap_store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static struct ap_user add(struct fx *f, int64_t acct, const char *email, enum ap_role r)
{
    struct ap_user u;
    enum ap_err err = ap_user_add(f->st, acct, email, r, PW, &u, f->err, sizeof(f->err));
    if (err)
        fail_msg("ap_user_add(%s): %s", email, f->err);
    return u;
}

static void test_account_create_and_find(void **state)
{
    struct fx *f = *state;
    struct ap_account x;
    assert_true(f->a.id > 0);
    assert_true(f->b.id != f->a.id);
    assert_string_equal(f->a.name, "Acme Heating");
    assert_int_equal(ap_account_find(f->st, "Acme Heating", &x), AP_OK);
    assert_int_equal(x.id, f->a.id);
    assert_int_equal(ap_account_get(f->st, f->b.id, &x), AP_OK);
    assert_string_equal(x.name, "Bolt Plumbing");
    assert_int_equal(ap_account_find(f->st, "Nobody", &x), AP_ENOTFOUND);
    assert_int_equal(ap_account_get(f->st, 9999, &x), AP_ENOTFOUND);

    assert_int_equal(ap_account_create(f->st, "Acme Heating", &x, f->err, sizeof(f->err)),
                     AP_ECONFLICT);
    assert_non_null(strstr(f->err, "already exists"));
}

static void test_account_name_rules(void **state)
{
    struct fx *f = *state;
    struct ap_account x;
    char long_name[102];
    memset(long_name, 'x', 101);
    long_name[101] = '\0';
    assert_int_equal(ap_account_create(f->st, "", &x, f->err, sizeof(f->err)), AP_EINVAL);
    assert_int_equal(ap_account_create(f->st, long_name, &x, f->err, sizeof(f->err)), AP_EINVAL);
    assert_int_equal(ap_account_create(f->st, "a\nb", &x, f->err, sizeof(f->err)), AP_EINVAL);
    assert_int_equal(ap_account_create(f->st, " padded", &x, f->err, sizeof(f->err)), AP_EINVAL);
    long_name[100] = '\0';
    assert_int_equal(ap_account_create(f->st, long_name, &x, f->err, sizeof(f->err)), AP_OK);
}

static void test_user_add_rules(void **state)
{
    struct fx *f = *state;
    struct ap_user u = add(f, f->a.id, "Alice@Example.COM", AP_ROLE_OWNER);
    assert_string_equal(u.email, "alice@example.com");
    assert_int_equal(u.account_id, f->a.id);
    assert_int_equal(u.role, AP_ROLE_OWNER);

    /* the same email in other case, even in another account */
    assert_int_equal(ap_user_add(f->st, f->b.id, "ALICE@example.com", AP_ROLE_STAFF, PW, &u, f->err,
                                 sizeof(f->err)),
                     AP_ECONFLICT);
    assert_non_null(strstr(f->err, "alice@example.com already exists"));

    static const char *const bad[] = {"alice",           "@example.com",   "a@b",
                                      "a b@example.com", "a@example..com", "a@@example.com",
                                      "a@-x.com"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(
            ap_user_add(f->st, f->a.id, bad[i], AP_ROLE_STAFF, PW, &u, f->err, sizeof(f->err)),
            AP_EINVAL);

    assert_int_equal(ap_user_add(f->st, f->a.id, "bob@example.com", AP_ROLE_STAFF, "short", &u,
                                 f->err, sizeof(f->err)),
                     AP_EINVAL);
    assert_non_null(strstr(f->err, "at least 10"));
    char *huge = calloc(1, 1026);
    memset(huge, 'p', 1025);
    assert_int_equal(ap_user_add(f->st, f->a.id, "bob@example.com", AP_ROLE_STAFF, huge, &u, f->err,
                                 sizeof(f->err)),
                     AP_EINVAL);
    huge[1024] = '\0';
    assert_int_equal(ap_user_add(f->st, f->a.id, "bob@example.com", AP_ROLE_STAFF, huge, &u, f->err,
                                 sizeof(f->err)),
                     AP_OK);
    free(huge);
    assert_int_equal(ap_user_add(f->st, 9999, "carol@example.com", AP_ROLE_STAFF, PW, &u, f->err,
                                 sizeof(f->err)),
                     AP_ENOTFOUND);
}

static void test_users_scoped_by_account(void **state)
{
    struct fx *f = *state;
    struct ap_user a1 = add(f, f->a.id, "a1@acme.test", AP_ROLE_OWNER);
    struct ap_user a2 = add(f, f->a.id, "a2@acme.test", AP_ROLE_STAFF);
    struct ap_user b1 = add(f, f->b.id, "b1@bolt.test", AP_ROLE_OWNER);
    struct ap_user u, *list = NULL;
    size_t n = 0;

    assert_int_equal(ap_user_get(f->st, f->a.id, a2.id, &u), AP_OK);
    assert_string_equal(u.email, "a2@acme.test");
    assert_int_equal(ap_user_get(f->st, f->a.id, b1.id, &u), AP_ENOTFOUND);
    assert_int_equal(ap_user_get(f->st, f->b.id, a1.id, &u), AP_ENOTFOUND);

    assert_int_equal(ap_user_list(f->st, f->a.id, false, &list, &n), AP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, a1.id);
    assert_int_equal(list[1].id, a2.id);
    free(list);
    assert_int_equal(ap_user_list(f->st, f->b.id, false, &list, &n), AP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].email, "b1@bolt.test");
    free(list);
}

static void test_role_permissions(void **state)
{
    struct fx *f = *state;
    struct ap_user owner = add(f, f->a.id, "o@acme.test", AP_ROLE_OWNER);
    struct ap_user admin = add(f, f->a.id, "ad@acme.test", AP_ROLE_ADMIN);
    struct ap_user staff = add(f, f->a.id, "st@acme.test", AP_ROLE_STAFF);
    struct ap_user bstaff = add(f, f->b.id, "st@bolt.test", AP_ROLE_STAFF);
    struct ap_user u;
    bool g;

    assert_true(owner.manage_integrations);
    assert_true(admin.manage_integrations);
    assert_false(staff.manage_integrations);

    assert_int_equal(ap_role_permission_set(f->st, f->a.id, AP_ROLE_STAFF,
                                            AP_PERM_MANAGE_INTEGRATIONS, true, f->err,
                                            sizeof(f->err)),
                     AP_OK);
    assert_int_equal(ap_user_get(f->st, f->a.id, staff.id, &u), AP_OK);
    assert_true(u.manage_integrations);
    /* granting twice is fine; the other account's staff is unaffected */
    assert_int_equal(ap_role_permission_set(f->st, f->a.id, AP_ROLE_STAFF,
                                            AP_PERM_MANAGE_INTEGRATIONS, true, f->err,
                                            sizeof(f->err)),
                     AP_OK);
    assert_int_equal(ap_user_get(f->st, f->b.id, bstaff.id, &u), AP_OK);
    assert_false(u.manage_integrations);

    assert_int_equal(ap_role_permission_set(f->st, f->a.id, AP_ROLE_ADMIN,
                                            AP_PERM_MANAGE_INTEGRATIONS, false, f->err,
                                            sizeof(f->err)),
                     AP_OK);
    assert_int_equal(
        ap_role_permission_get(f->st, f->a.id, AP_ROLE_ADMIN, AP_PERM_MANAGE_INTEGRATIONS, &g),
        AP_OK);
    assert_false(g);
    assert_int_equal(ap_user_get(f->st, f->a.id, admin.id, &u), AP_OK);
    assert_false(u.manage_integrations);

    assert_int_equal(ap_role_permission_set(f->st, f->a.id, AP_ROLE_OWNER,
                                            AP_PERM_MANAGE_INTEGRATIONS, false, f->err,
                                            sizeof(f->err)),
                     AP_EPERM);
    assert_non_null(strstr(f->err, "owner"));
    assert_int_equal(ap_user_get(f->st, f->a.id, owner.id, &u), AP_OK);
    assert_true(u.manage_integrations);
    assert_int_equal(ap_role_permission_set(f->st, f->a.id, AP_ROLE_STAFF, "launch_rockets", true,
                                            f->err, sizeof(f->err)),
                     AP_EINVAL);
    assert_int_equal(ap_role_permission_set(f->st, 9999, AP_ROLE_STAFF, AP_PERM_MANAGE_INTEGRATIONS,
                                            true, f->err, sizeof(f->err)),
                     AP_ENOTFOUND);
}

static void test_login(void **state)
{
    struct fx *f = *state;
    struct ap_user added = add(f, f->a.id, "login@acme.test", AP_ROLE_ADMIN);
    struct ap_user u;
    int retry = -1;
    assert_int_equal(ap_login(f->st, "LOGIN@acme.test", PW, "10.0.0.1", &u, &retry), AP_OK);
    assert_int_equal(u.id, added.id);
    assert_int_equal(u.account_id, f->a.id);
    assert_true(u.manage_integrations);
    assert_int_equal(ap_login(f->st, "login@acme.test", PW "x", "10.0.0.1", &u, &retry), AP_EPERM);
    assert_int_equal(ap_login(f->st, "ghost@acme.test", PW, "10.0.0.1", &u, &retry), AP_EPERM);
    assert_int_equal(ap_login(f->st, "not an email", PW, "10.0.0.1", &u, &retry), AP_EPERM);
}

static void test_sessions(void **state)
{
    struct fx *f = *state;
    struct ap_user added = add(f, f->a.id, "sess@acme.test", AP_ROLE_STAFF);
    struct ap_user u;
    char *token = NULL, *csrf = NULL, csrf2[64];
    assert_int_equal(ap_session_create(f->st, &added, &token, &csrf), AP_OK);
    assert_true(strlen(token) >= 43);
    assert_true(strlen(csrf) >= 43);
    assert_string_not_equal(token, csrf);
    assert_int_equal(ap_session_get(f->st, token, &u, csrf2), AP_OK);
    assert_int_equal(u.id, added.id);
    assert_int_equal(u.account_id, f->a.id);
    assert_string_equal(csrf2, csrf);

    /* only a hash of the token is stored */
    struct ap_db_conn *c = ap_store_acquire(f->st, false);
    struct ap_db_val v = ap_db_text(token);
    int64_t n = -1;
    assert_int_equal(ap_db_query_int(c,
                                     "SELECT COUNT(*) FROM sessions WHERE token_hash = ? OR "
                                     "instr(token_hash, ?) > 0",
                                     (struct ap_db_val[]){v, v}, 2, &n),
                     AP_OK);
    assert_int_equal(n, 0);
    ap_store_release(c);

    assert_int_equal(ap_session_get(f->st, "bogus", &u, csrf2), AP_ENOTFOUND);
    assert_int_equal(ap_session_get(f->st, "", &u, csrf2), AP_ENOTFOUND);
    assert_int_equal(ap_session_delete(f->st, token), AP_OK);
    assert_int_equal(ap_session_get(f->st, token, &u, csrf2), AP_ENOTFOUND);
    assert_int_equal(ap_session_delete(f->st, token), AP_ENOTFOUND);
    free(token);
    free(csrf);
}

static void test_operator_flag(void **state)
{
    struct fx *f = *state;
    struct ap_user added = add(f, f->a.id, "ops@acme.test", AP_ROLE_STAFF);
    struct ap_user u, *list = NULL;
    char *token = NULL, *csrf = NULL;
    size_t n = 0;
    int retry = 0;
    assert_false(added.operator);
    assert_int_equal(ap_session_create(f->st, &added, &token, &csrf), AP_OK);

    /* granted by email (any case); an open session sees it at once */
    assert_int_equal(ap_user_set_operator(f->st, "OPS@acme.test", true, f->err, sizeof(f->err)),
                     AP_OK);
    assert_int_equal(ap_session_get(f->st, token, &u, NULL), AP_OK);
    assert_true(u.operator);
    assert_int_equal(u.role, AP_ROLE_STAFF); /* the role is untouched */
    assert_int_equal(ap_login(f->st, "ops@acme.test", PW, "10.9.0.1", &u, &retry), AP_OK);
    assert_true(u.operator);
    /* an operator is not one of the contractor's users: left out of their list */
    assert_int_equal(ap_user_list(f->st, f->a.id, false, &list, &n), AP_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(list[i].id != added.id && !list[i].operator);
    free(list);
    assert_int_equal(ap_user_list(f->st, f->a.id, true, &list, &n), AP_OK);
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(list[i].operator, list[i].id == added.id);
        seen += list[i].id == added.id;
    }
    assert_int_equal(seen, 1);
    free(list);

    assert_int_equal(ap_user_set_operator(f->st, "ops@acme.test", false, f->err, sizeof(f->err)),
                     AP_OK);
    assert_int_equal(ap_user_get(f->st, f->a.id, added.id, &u), AP_OK);
    assert_false(u.operator);

    assert_int_equal(ap_user_set_operator(f->st, "nobody@acme.test", true, f->err, sizeof(f->err)),
                     AP_ENOTFOUND);
    assert_non_null(strstr(f->err, "nobody@acme.test"));
    assert_int_equal(ap_user_set_operator(f->st, "not-an-email", true, f->err, sizeof(f->err)),
                     AP_EINVAL);
    free(token);
    free(csrf);
}

static void test_session_expiry(void **state)
{
    struct fx *f = *state;
    struct ap_user added = add(f, f->a.id, "exp@acme.test", AP_ROLE_STAFF);
    struct ap_user u;
    char *token = NULL, *csrf = NULL, c2[64];
    ap_clock_fake_begin(ap_clock_real_ns(), ap_clock_mono_ns());
    assert_int_equal(ap_session_create(f->st, &added, &token, &csrf), AP_OK);
    ap_clock_fake_advance((int64_t)AP_SESSION_TTL_S * SEC - 2 * SEC);
    assert_int_equal(ap_session_get(f->st, token, &u, c2), AP_OK); /* reads do not extend it */
    ap_clock_fake_advance(3 * SEC);
    assert_int_equal(ap_session_get(f->st, token, &u, c2), AP_ENOTFOUND);
    ap_clock_fake_end();
    free(token);
    free(csrf);
}

static void test_set_password(void **state)
{
    struct fx *f = *state;
    struct ap_user added = add(f, f->a.id, "pw@acme.test", AP_ROLE_OWNER);
    struct ap_user u;
    int retry = 0;
    char *token = NULL, *csrf = NULL, c2[64];
    assert_int_equal(ap_session_create(f->st, &added, &token, &csrf), AP_OK);
    assert_int_equal(
        ap_user_set_password(f->st, "PW@acme.test", "a brand new password", f->err, sizeof(f->err)),
        AP_OK);
    assert_int_equal(ap_login(f->st, "pw@acme.test", PW, "10.4.0.1", &u, &retry), AP_EPERM);
    assert_int_equal(
        ap_login(f->st, "pw@acme.test", "a brand new password", "10.4.0.1", &u, &retry), AP_OK);
    /* a new password signs the user out of existing sessions */
    assert_int_equal(ap_session_get(f->st, token, &u, c2), AP_ENOTFOUND);
    assert_int_equal(ap_user_set_password(f->st, "nobody@acme.test", "a brand new password", f->err,
                                          sizeof(f->err)),
                     AP_ENOTFOUND);
    assert_non_null(strstr(f->err, "no user"));
    assert_int_equal(ap_user_set_password(f->st, "pw@acme.test", "short", f->err, sizeof(f->err)),
                     AP_EINVAL);
    free(token);
    free(csrf);
}

static void test_roles(void **state)
{
    (void)state;
    enum ap_role r;
    assert_int_equal(ap_role_parse("admin", &r), AP_OK);
    assert_int_equal(r, AP_ROLE_ADMIN);
    assert_string_equal(ap_role_name(AP_ROLE_STAFF), "staff");
    assert_int_equal(ap_role_parse("Owner", &r), AP_EINVAL);
    assert_int_equal(ap_role_parse(NULL, &r), AP_EINVAL);
}

int main(void)
{
    ap_log_set_level(AP_LOG_OFF);
    if (ap_crypto_init() != AP_OK || ap_crypto_password_set_limits(1, 8192) != AP_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test_setup_teardown(test_account_create_and_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_name_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_add_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_scoped_by_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operator_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_password, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_login.c — the login throttle as sign-in sees it (src/app/sessions.c
 * over src/app/throttle.c), with a real store, argon2id at its cheapest and
 * the fake clock:
 *   - failures from one address never lock the owner out from another;
 *   - backoff instead of a lock, and a success clears its (address, email);
 *   - the per-address budget across emails; IPv6 clients by their /64;
 *   - 393 addresses × 10 failures do not flush a penalised (address, email);
 *   - a burst of 100 concurrent bad logins: exactly the budget reaches the
 *     password check, because attempts are counted when they start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "db/store.h"

#define PW    "correct horse battery"
#define WRONG "wrong horse battery!"
#define SEC   AP_NS_PER_S

struct fx {
    char dir[64];
    struct ap_store *st;
    struct ap_account a;
    char err[300];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct ap_user u;
    strcpy(f->dir, "/tmp/ap-login-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->st = ap_store_open(f->dir, f->err, sizeof(f->err));
    assert_non_null(f->st);
    assert_int_equal(
        ap_store_migrate(f->st, ap_db_migrations, ap_db_nmigrations, NULL, f->err, sizeof(f->err)),
        AP_OK);
    assert_int_equal(ap_account_create(f->st, "Acme Heating", &f->a, f->err, sizeof(f->err)), 0);
    assert_int_equal(ap_user_add(f->st, f->a.id, "owner@acme.test", AP_ROLE_OWNER, PW, &u, f->err,
                                 sizeof(f->err)),
                     AP_OK);
    ap_login_configure(NULL);
    ap_clock_fake_begin(ap_clock_real_ns(), 1000 * SEC);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    ap_clock_fake_end();
    ap_store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static enum ap_err login(struct fx *f, const char *email, const char *pw, const char *peer,
                         int *retry)
{
    struct ap_user u;
    int r = 0;
    enum ap_err err = ap_login(f->st, email, pw, peer, &u, &r);
    if (retry)
        *retry = r;
    return err;
}

static void test_owner_not_locked_out_from_another_address(void **state)
{
    struct fx *f = *state;
    int retry = 0;
    for (int i = 0; i < AP_LOGIN_PAIR_BUDGET; i++)
        assert_int_equal(login(f, "owner@acme.test", WRONG, "198.51.100.7", NULL), AP_EPERM);
    /* the attacker's address waits, even with the right password */
    assert_int_equal(login(f, "owner@acme.test", PW, "198.51.100.7", &retry), AP_EBUSY);
    assert_int_equal(retry, 30);
    /* the owner, elsewhere, is not locked out */
    assert_int_equal(login(f, "OWNER@acme.test", PW, "203.0.113.5", NULL), AP_OK);
    /* nor by 20 more failures from 20 more addresses */
    char peer[32];
    for (int i = 0; i < 20; i++) {
        snprintf(peer, sizeof(peer), "192.0.2.%d", i + 1);
        assert_int_equal(login(f, "owner@acme.test", WRONG, peer, NULL), AP_EPERM);
    }
    assert_int_equal(login(f, "owner@acme.test", PW, "203.0.113.6", NULL), AP_OK);
}

static void test_backoff_not_lock_and_success_clears(void **state)
{
    struct fx *f = *state;
    int retry = 0;
    const char *peer = "198.51.100.8";
    for (int i = 0; i < AP_LOGIN_PAIR_BUDGET; i++)
        assert_int_equal(login(f, "owner@acme.test", WRONG, peer, NULL), AP_EPERM);
    assert_int_equal(login(f, "owner@acme.test", WRONG, peer, &retry), AP_EBUSY);
    assert_int_equal(retry, 30);
    ap_clock_fake_advance(30 * SEC);
    assert_int_equal(login(f, "owner@acme.test", WRONG, peer, NULL), AP_EPERM);
    assert_int_equal(login(f, "owner@acme.test", PW, peer, &retry), AP_EBUSY);
    assert_int_equal(retry, 60); /* doubled */
    ap_clock_fake_advance(60 * SEC);
    /* a slowed user gets in with the right password once the wait is over ... */
    assert_int_equal(login(f, "owner@acme.test", PW, peer, NULL), AP_OK);
    /* ... which clears the pair: a whole budget again */
    for (int i = 0; i < AP_LOGIN_PAIR_BUDGET; i++)
        assert_int_equal(login(f, "owner@acme.test", WRONG, peer, NULL), AP_EPERM);
    assert_int_equal(login(f, "owner@acme.test", WRONG, peer, NULL), AP_EBUSY);
}

static void test_address_budget_across_emails(void **state)
{
    struct fx *f = *state;
    char email[64];
    int retry = 0;
    ap_login_configure(&(struct ap_login_limits){.pair_budget = 3, .address_budget = 6});
    for (int i = 0; i < 6; i++) {
        snprintf(email, sizeof(email), "guess%d@acme.test", i);
        assert_int_equal(login(f, email, WRONG, "198.51.100.9", NULL), AP_EPERM);
    }
    /* the address has spent its budget: any email waits there */
    assert_int_equal(login(f, "owner@acme.test", PW, "198.51.100.9", &retry), AP_EBUSY);
    assert_int_equal(retry, 30);
    assert_int_equal(login(f, "owner@acme.test", PW, "198.51.100.10", NULL), AP_OK);
    /* successes do not count against an address */
    for (int i = 0; i < 10; i++)
        assert_int_equal(login(f, "owner@acme.test", PW, "198.51.100.11", NULL), AP_OK);
}

static void test_ipv6_keyed_by_64(void **state)
{
    struct fx *f = *state;
    char peer[64];
    ap_login_configure(&(struct ap_login_limits){.pair_budget = 4});
    /* every failure from another address of one /64: one (address, email) */
    for (int i = 0; i < 4; i++) {
        snprintf(peer, sizeof(peer), "2001:db8:1:2::%x", i + 1);
        assert_int_equal(login(f, "owner@acme.test", WRONG, peer, NULL), AP_EPERM);
    }
    assert_int_equal(login(f, "owner@acme.test", PW, "2001:db8:1:2:ffff::9", NULL), AP_EBUSY);
    assert_int_equal(login(f, "owner@acme.test", PW, "2001:db8:1:3::1", NULL), AP_OK);
}

static void test_flood_does_not_evict_penalised_pair(void **state)
{
    struct fx *f = *state;
    char peer[32], email[64];
    int retry = 0;
    /* a table much smaller than the flood, so the flood must evict */
    ap_login_configure(&(struct ap_login_limits){.entries = 1024});
    for (int i = 0; i < AP_LOGIN_PAIR_BUDGET; i++)
        assert_int_equal(login(f, "owner@acme.test", WRONG, "198.51.100.66", NULL), AP_EPERM);
    assert_int_equal(login(f, "owner@acme.test", WRONG, "198.51.100.66", NULL), AP_EBUSY);
    /* 393 addresses x 10 failures, each for another email: 4,323 keys for 1,024 entries */
    for (int a = 0; a < 393; a++) {
        snprintf(peer, sizeof(peer), "10.77.%d.%d", a / 200, a % 200 + 1);
        for (int i = 0; i < 10; i++) {
            snprintf(email, sizeof(email), "flood%d-%d@acme.test", a, i);
            assert_int_equal(login(f, email, WRONG, peer, NULL), AP_EPERM);
        }
    }
    /* the penalised (address, email) is still under its penalty */
    assert_int_equal(login(f, "owner@acme.test", PW, "198.51.100.66", &retry), AP_EBUSY);
    assert_true(retry > 0 && retry <= 30);
    /* and the owner still gets in from elsewhere */
    assert_int_equal(login(f, "owner@acme.test", PW, "203.0.113.77", NULL), AP_OK);
}

struct burst {
    struct ap_store *st;
    pthread_barrier_t *go;
    atomic_int *checked, *throttled;
};

static void *burst_one(void *arg)
{
    struct burst *b = arg;
    struct ap_user u;
    int retry = 0;
    pthread_barrier_wait(b->go);
    enum ap_err err = ap_login(b->st, "owner@acme.test", WRONG, "198.51.100.99", &u, &retry);
    if (err == AP_EPERM)
        atomic_fetch_add(b->checked, 1);
    else if (err == AP_EBUSY && retry > 0)
        atomic_fetch_add(b->throttled, 1);
    return NULL; /* anything else is counted by neither, and the test fails */
}

static void test_burst_counted_exactly(void **state)
{
    struct fx *f = *state;
    enum { N = 100 };
    pthread_t th[N];
    pthread_barrier_t go;
    atomic_int checked = 0, throttled = 0;
    struct burst b = {f->st, &go, &checked, &throttled};
    pthread_barrier_init(&go, NULL, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&th[i], NULL, burst_one, &b), 0);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    /* exactly the budget reached the password check (the fake clock does not move) */
    assert_int_equal(atomic_load(&checked), AP_LOGIN_PAIR_BUDGET);
    assert_int_equal(atomic_load(&throttled), N - AP_LOGIN_PAIR_BUDGET);
}

static void test_abandoned_attempt_does_not_count(void **state)
{
    struct fx *f = *state;
    struct ap_login_attempt a;
    int retry = 0;
    ap_login_configure(&(struct ap_login_limits){.pair_budget = 2});
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ap_login_begin(&a, "owner@acme.test", "198.51.100.5", &retry), AP_OK);
        ap_login_abandon(&a); /* e.g. the worker pool was full */
    }
    assert_int_equal(login(f, "owner@acme.test", WRONG, "198.51.100.5", NULL), AP_EPERM);
    assert_int_equal(login(f, "owner@acme.test", PW, "198.51.100.5", NULL), AP_OK);
}

int main(void)
{
    ap_log_set_level(AP_LOG_ERROR);
    if (ap_crypto_init() != AP_OK || ap_crypto_password_set_limits(1, 8192) != AP_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_owner_not_locked_out_from_another_address, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backoff_not_lock_and_success_clears, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_budget_across_emails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_keyed_by_64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_does_not_evict_penalised_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_counted_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_attempt_does_not_count, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

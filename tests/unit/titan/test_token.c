/*
 * test_token.c — unit tests of the token cache with an injected fetch and the
 * fake clock, through ap_titan_token and ap_titan_token_async (each fake
 * token names itself in its "iss" claim): a token is reused until expiry
 * minus the margin, short-lived tokens are used to their end, asks queued
 * while a fetch runs share it (and its error), force and forget drop the
 * token, and ap_titan_token decodes the claims. A 401 dropping only the
 * token that got it, and single flight over real HTTP, are in test_call.c.
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
#include <time.h>

#include "core/clock.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "titan/titan_int.h"

#define SEC 1000000000LL

struct fake {
    _Atomic int fetches;
    int expires_in;
    const char *fail_with; /* oauth error to answer, or NULL */
    const char *token;     /* fixed token to hand out, or NULL: "tok-N" */
    /* a gate the fetch waits on (single-flight test) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool gated, open, entered;
    bool bad_secret;
};

/* A JWT-shaped token whose "iss" claim names it ("tok-N"), so a test can see
 * which token the cache handed out through ap_titan_token's claims. */
static char *named_token(const char *name)
{
    char *payload = ap_xasprintf("{\"tenant\":\"1234567\",\"iss\":\"%s\"}", name);
    char *mid = ap_crypto_b64url(payload, strlen(payload));
    char *tok = ap_xasprintf("eyJhbGciOiJSUzI1NiJ9.%s.c2ln", mid);

    free(payload);
    free(mid);
    return tok;
}

static enum ap_err fake_fetch(void *ud, const struct ap_titan_creds *c,
                              struct ap_titan_token_resp *out, struct ap_titan_error *e)
{
    struct fake *f = ud;
    int n = atomic_fetch_add(&f->fetches, 1) + 1;
    char name[32];

    if (strcmp(c->client_secret, "cs2.secret") != 0)
        f->bad_secret = true; /* checked by the test's thread: cmocka asserts only there */
    if (f->gated) {
        pthread_mutex_lock(&f->mu);
        f->entered = true;
        pthread_cond_broadcast(&f->cv);
        while (!f->open)
            pthread_cond_wait(&f->cv, &f->mu);
        pthread_mutex_unlock(&f->mu);
    }
    if (f->fail_with) {
        e->stage = AP_TITAN_STAGE_TOKEN;
        e->status = 401;
        snprintf(e->oauth_error, sizeof(e->oauth_error), "%s", f->fail_with);
        snprintf(e->title, sizeof(e->title), "wrong secret");
        return AP_EPERM;
    }
    snprintf(name, sizeof(name), "tok-%d", n);
    out->access_token = f->token ? ap_xstrdup(f->token) : named_token(name);
    out->expires_in = f->expires_in;
    out->scope = ap_xstrdup("");
    return AP_OK;
}

static struct fake fk;
static const struct ap_titan_creds creds = {1234567, "cid.abc", "cs2.secret"};

static struct ap_titan *client(int margin_s)
{
    char err[128];
    struct ap_titan_config c = {
        .env = AP_TITAN_INTEGRATION, .app_key = "ak1.test", .token_margin_s = margin_s};
    struct ap_titan_hooks h = {.fetch_token = fake_fetch, .ud = &fk};
    struct ap_titan *t = ap_titan_new(&c, err, sizeof(err));

    assert_non_null(t);
    ap_titan_set_hooks(t, &h);
    return t;
}

static int setup(void **state)
{
    (void)state;
    memset(&fk, 0, sizeof(fk));
    pthread_mutex_init(&fk.mu, NULL);
    pthread_cond_init(&fk.cv, NULL);
    fk.expires_in = 900;
    ap_clock_fake_begin(1700000000LL * SEC, 5000 * SEC);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_false(fk.bad_secret);
    ap_clock_fake_end();
    pthread_mutex_destroy(&fk.mu);
    pthread_cond_destroy(&fk.cv);
    return 0;
}

/* The name of the token the cache hands out now for c (a fetch when needed). */
static void expect_token_of(struct ap_titan *t, const struct ap_titan_creds *c, bool force,
                            const char *want)
{
    struct ap_titan_token_info ti;
    struct ap_titan_error e;

    assert_int_equal(ap_titan_token(t, c, force, &ti, &e), AP_OK);
    assert_string_equal(ti.iss, want);
    ap_titan_token_info_cleanup(&ti);
}

static void expect_token(struct ap_titan *t, const char *want)
{
    expect_token_of(t, &creds, false, want);
}

static void test_cached_until_expiry_minus_margin(void **state)
{
    (void)state;
    struct ap_titan *t = client(60);
    struct ap_titan_creds other = creds;

    expect_token(t, "tok-1");
    ap_clock_fake_advance(839 * SEC);
    expect_token(t, "tok-1");
    assert_int_equal(fk.fetches, 1);
    ap_clock_fake_advance(1 * SEC); /* 900 - 60 */
    expect_token(t, "tok-2");
    assert_int_equal(fk.fetches, 2);
    /* another client id of the same tenant has its own token */
    other.client_id = "cid.other";
    expect_token_of(t, &other, false, "tok-3");
    expect_token(t, "tok-2");
    ap_titan_free(t);
}

static void test_short_lived_token_used_to_its_end(void **state)
{
    (void)state;
    struct ap_titan *t = client(60);

    fk.expires_in = 5; /* shorter than twice the margin: no margin */
    expect_token(t, "tok-1");
    ap_clock_fake_advance(4 * SEC + SEC / 2);
    expect_token(t, "tok-1");
    ap_clock_fake_advance(SEC / 2);
    expect_token(t, "tok-2");
    ap_titan_free(t);
}

static void test_force_and_forget(void **state)
{
    (void)state;
    struct ap_titan *t = client(60);

    expect_token(t, "tok-1");
    expect_token_of(t, &creds, true, "tok-2");
    ap_titan_forget(t, creds.tenant_id, creds.client_id);
    expect_token(t, "tok-3");
    ap_titan_forget(t, 999, "cid.none"); /* unknown: nothing happens */
    expect_token(t, "tok-3");
    ap_titan_free(t);
}

/* ---- shared by several instances (titan.h, struct ap_titan_shared) ------ */

/* What the database holds for one (tenant, client id), in memory. */
static struct {
    pthread_mutex_t mu;
    char *token;
    int64_t expires, gen, claims;
    bool held_by_other; /* another instance holds the claim of the fetch */
} row = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0, false};

static enum ap_err row_load(void *ud, int64_t tenant, const char *cid, int64_t stale,
                            int64_t min_left, char **token, int64_t *expires, int64_t *gen)
{
    enum ap_err err = AP_ENOTFOUND;

    (void)ud, (void)tenant, (void)cid;
    pthread_mutex_lock(&row.mu);
    if (row.token && row.gen != stale && row.expires > ap_clock_real_ns() + min_left) {
        *token = ap_xstrdup(row.token);
        *expires = row.expires;
        *gen = row.gen;
        err = AP_OK;
    }
    pthread_mutex_unlock(&row.mu);
    return err;
}

static bool row_claim(void *ud, int64_t tenant, const char *cid, int64_t stale, int64_t min_left,
                      int lease_ms)
{
    bool mine;

    (void)ud, (void)tenant, (void)cid, (void)min_left, (void)lease_ms;
    pthread_mutex_lock(&row.mu);
    if (stale && row.gen == stale) {
        free(row.token);
        row.token = NULL;
    }
    mine = !row.held_by_other;
    row.claims += mine;
    pthread_mutex_unlock(&row.mu);
    return mine;
}

static void row_save(void *ud, int64_t tenant, const char *cid, const char *token, int64_t expires,
                     int64_t *gen)
{
    (void)ud, (void)tenant, (void)cid;
    pthread_mutex_lock(&row.mu);
    *gen = 0;
    if (token) {
        free(row.token);
        row.token = ap_xstrdup(token);
        row.expires = expires;
        *gen = ++row.gen;
    }
    pthread_mutex_unlock(&row.mu);
}

static struct ap_titan *shared_client(void)
{
    struct ap_titan *t = client(60);
    struct ap_titan_shared sh = {
        .token_load = row_load, .token_claim = row_claim, .token_save = row_save};

    ap_titan_set_shared(t, &sh);
    return t;
}

static int setup_shared(void **state)
{
    pthread_mutex_lock(&row.mu);
    free(row.token);
    row.token = NULL;
    row.expires = row.gen = row.claims = 0;
    row.held_by_other = false;
    pthread_mutex_unlock(&row.mu);
    return setup(state);
}

/* Two instances: the first fetches and saves its token, the second reads it (no fetch of its
 * own); a forced fetch (a check of the credentials) asks ServiceTitan and shares what it got,
 * which the other instance takes once its own copy is due for renewal. */
static void test_shared_between_instances(void **state)
{
    (void)state;
    struct ap_titan *a = shared_client(), *b = shared_client();

    expect_token(a, "tok-1");
    expect_token(b, "tok-1");
    assert_int_equal(fk.fetches, 1);
    assert_int_equal(row.claims, 1);
    expect_token_of(b, &creds, true, "tok-2");
    assert_int_equal(fk.fetches, 2);
    expect_token(a, "tok-1"); /* its own copy, still good */
    ap_clock_fake_advance(840 * SEC);
    /* tok-1 is due for renewal; the row holds tok-2 (fetched 0 s into the run, so also due):
     * one of the two fetches and saves, the other reads */
    expect_token(a, "tok-3");
    expect_token(b, "tok-3");
    assert_int_equal(fk.fetches, 3);
    ap_titan_free(a);
    ap_titan_free(b);
    free(row.token);
    row.token = NULL;
}

/* ---- many asking at once ------------------------------------------------ */

struct answer {
    enum ap_err err;
    char iss[128];
    struct ap_titan_error e;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    struct answer a[16];
} got = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {{0}}};

static void on_token(void *ud, enum ap_err err, const struct ap_titan_token_info *info,
                     const struct ap_titan_error *e)
{
    struct answer *a = ud;

    a->err = err;
    a->e = *e;
    snprintf(a->iss, sizeof(a->iss), "%s", info ? info->iss : "");
    pthread_mutex_lock(&got.mu);
    got.n++;
    pthread_cond_broadcast(&got.cv);
    pthread_mutex_unlock(&got.mu);
}

/* The first ask starts a fetch that holds the engine at the gate; the other
 * fifteen are submitted meanwhile (each submit returns once it is queued to
 * the engine), then the gate opens. */
static void ask_all(struct ap_titan *t)
{
    got.n = 0;
    fk.gated = true;
    fk.open = false;
    assert_int_equal(ap_titan_token_async(t, &creds, false, NULL, on_token, &got.a[0]), AP_OK);
    pthread_mutex_lock(&fk.mu);
    while (!fk.entered)
        pthread_cond_wait(&fk.cv, &fk.mu);
    pthread_mutex_unlock(&fk.mu);
    for (int i = 1; i < 16; i++)
        assert_int_equal(ap_titan_token_async(t, &creds, false, NULL, on_token, &got.a[i]), AP_OK);
    pthread_mutex_lock(&fk.mu);
    fk.open = true;
    pthread_cond_broadcast(&fk.cv);
    pthread_mutex_unlock(&fk.mu);
    pthread_mutex_lock(&got.mu);
    while (got.n < 16)
        pthread_cond_wait(&got.cv, &got.mu);
    pthread_mutex_unlock(&got.mu);
}

static void test_single_flight(void **state)
{
    (void)state;
    struct ap_titan *t = client(60);
    struct ap_titan_stats st;

    ask_all(t);
    assert_int_equal(fk.fetches, 1);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(got.a[i].err, AP_OK);
        assert_string_equal(got.a[i].iss, "tok-1");
    }
    ap_titan_stats(t, &st);
    assert_int_equal(st.token_fetches, 1);
    assert_int_equal(st.ok, 16);
    ap_titan_free(t);
}

/* A refused secret: no retry, every asker hears the OAuth error; the
 * fifteen that queued while the first fetch ran share one more fetch; the
 * error is not cached. */
static void test_single_flight_shares_error(void **state)
{
    (void)state;
    struct ap_titan *t = client(60);
    struct ap_titan_stats st;

    fk.fail_with = "invalid_client";
    ask_all(t);
    assert_int_equal(fk.fetches, 2);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(got.a[i].err, AP_EPERM);
        assert_int_equal(got.a[i].e.stage, AP_TITAN_STAGE_TOKEN);
        assert_string_equal(got.a[i].e.oauth_error, "invalid_client");
        assert_int_equal(got.a[i].e.attempts, 1);
    }
    ap_titan_stats(t, &st);
    assert_int_equal(st.client_errors, 16);
    fk.fail_with = NULL;
    fk.gated = false;
    expect_token(t, "tok-3");
    ap_titan_free(t);
}

static void test_token_claims(void **state)
{
    (void)state;
    struct ap_titan *t = client(60);
    struct ap_titan_token_info ti;
    struct ap_titan_error e;

    /* {"tenant":"1234567","scope":["tn.crm.customers:r"],"exp":1700000900} */
    fk.token = "eyJhbGciOiJSUzI1NiJ9."
               "eyJ0ZW5hbnQiOiIxMjM0NTY3Iiwic2NvcGUiOlsidG4uY3JtLmN1c3RvbWVyczpyIl0sImV4cCI6MTcw"
               "MDAwMDkwMH0.c2ln";
    assert_int_equal(ap_titan_token(t, &creds, false, &ti, &e), AP_OK);
    assert_int_equal(ti.tenant_id, 1234567);
    assert_int_equal(ti.nscopes, 1);
    assert_string_equal(ti.scopes[0], "tn.crm.customers:r");
    assert_int_equal(ti.expires_at_ns, 1700000900LL * SEC);
    ap_titan_token_info_cleanup(&ti);
    /* cached: no second fetch; force: one more */
    assert_int_equal(ap_titan_token(t, &creds, false, NULL, &e), AP_OK);
    assert_int_equal(fk.fetches, 1);
    assert_int_equal(ap_titan_token(t, &creds, true, NULL, &e), AP_OK);
    assert_int_equal(fk.fetches, 2);
    /* a token whose claims cannot be read */
    fk.token = "opaque";
    assert_int_equal(ap_titan_token(t, &creds, true, &ti, &e), AP_EPARSE);
    assert_int_equal(e.stage, AP_TITAN_STAGE_TOKEN);
    /* refused credentials: no retry, the OAuth error is kept */
    fk.fail_with = "invalid_client";
    assert_int_equal(ap_titan_token(t, &creds, true, &ti, &e), AP_EPERM);
    assert_string_equal(e.oauth_error, "invalid_client");
    assert_int_equal(e.attempts, 1);
    ap_titan_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cached_until_expiry_minus_margin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_lived_token_used_to_its_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_force_and_forget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_flight_shares_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_between_instances, setup_shared, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

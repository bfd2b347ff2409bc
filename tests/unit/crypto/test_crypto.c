/*
 * test_crypto.c — unit tests of src/crypto: the secret box refuses anything
 * it did not seal for this context and key, the master key file is created
 * private and refused when it is not, passwords, tokens and HMAC.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"

static const char B64URL_CHARS[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct fixture {
    char dir[64];
    char path[128];
    struct ap_crypto_key *k;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_int_equal(ap_crypto_init(), AP_OK);
    strcpy(f->dir, "/tmp/ap-crypto-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/master.key", f->dir);
    f->k = ap_crypto_key_new_random();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    ap_crypto_key_free(f->k);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_seal_round_trip(void **state)
{
    struct fixture *f = *state;
    const char secret[] = "cs1.abc\0def"; /* a NUL inside must survive */
    char *text = NULL;
    void *plain = NULL;
    size_t n = 0;

    assert_int_equal(ap_crypto_seal(f->k, secret, sizeof(secret), "ctx:1", &text), AP_OK);
    assert_true(strncmp(text, "v1:", 3) == 0);
    assert_null(strstr(text, "cs1"));
    assert_int_equal(strspn(text + 3, B64URL_CHARS), strlen(text + 3));
    assert_int_equal(ap_crypto_open(f->k, text, "ctx:1", &plain, &n), AP_OK);
    assert_int_equal(n, sizeof(secret));
    assert_memory_equal(plain, secret, sizeof(secret));
    free(plain);
    free(text);

    /* Empty plaintexts seal too, and open to an empty string. */
    assert_int_equal(ap_crypto_seal(f->k, "", 0, "ctx:1", &text), AP_OK);
    assert_int_equal(ap_crypto_open(f->k, text, "ctx:1", &plain, &n), AP_OK);
    assert_int_equal(n, 0);
    assert_string_equal(plain, "");
    free(plain);
    free(text);
}

static void test_seal_tamper_any_byte(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;
    void *plain = NULL;
    size_t n = 0, len;

    assert_int_equal(ap_crypto_seal(f->k, "client secret", 13, "fms:acct=42", &text), AP_OK);
    len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        char orig = text[i];
        const char *subst[] = {"A", "_", "%", "v"};

        for (size_t j = 0; j < sizeof(subst) / sizeof(subst[0]); j++) {
            enum ap_err e;

            if (subst[j][0] == orig)
                continue;
            text[i] = subst[j][0];
            e = ap_crypto_open(f->k, text, "fms:acct=42", &plain, &n);
            if (e != AP_ECORRUPT && e != AP_EPARSE)
                fail_msg("byte %zu changed to '%c' gave %s", i, subst[j][0], ap_err_str(e));
            assert_null(plain);
        }
        text[i] = orig;
    }
    /* Truncated and extended texts are refused as well. */
    text[len - 1] = '\0';
    assert_true(ap_crypto_open(f->k, text, "fms:acct=42", &plain, &n) != AP_OK);
    assert_int_equal(ap_crypto_open(f->k, "v1:", "fms:acct=42", &plain, &n), AP_EPARSE);
    assert_int_equal(ap_crypto_open(f->k, "v2:AAAA", "fms:acct=42", &plain, &n), AP_EPARSE);
    assert_int_equal(ap_crypto_open(f->k, "", "fms:acct=42", &plain, &n), AP_EPARSE);
    free(text);
}

static void test_seal_wrong_context_and_key(void **state)
{
    struct fixture *f = *state;
    struct ap_crypto_key *other = ap_crypto_key_new_random();
    char *text = NULL;
    void *plain = NULL;
    size_t n = 0;

    assert_int_equal(ap_crypto_seal(f->k, "s3cret", 6, "fms.client_secret:acct=42", &text), AP_OK);
    assert_int_equal(ap_crypto_open(f->k, text, "fms.client_secret:acct=43", &plain, &n),
                     AP_ECORRUPT);
    assert_null(plain);
    assert_int_equal(ap_crypto_open(other, text, "fms.client_secret:acct=42", &plain, &n),
                     AP_ECORRUPT);
    assert_null(plain);
    ap_crypto_key_free(other);
    free(text);
}

static void test_seal_random_nonce_and_limits(void **state)
{
    struct fixture *f = *state;
    char *a = NULL, *b = NULL;
    char *big = calloc(1, AP_CRYPTO_SEAL_MAX + 1);

    assert_int_equal(ap_crypto_seal(f->k, "same", 4, "ctx", &a), AP_OK);
    assert_int_equal(ap_crypto_seal(f->k, "same", 4, "ctx", &b), AP_OK);
    assert_string_not_equal(a, b);
    free(a);
    free(b);

    assert_int_equal(ap_crypto_seal(f->k, big, AP_CRYPTO_SEAL_MAX + 1, "ctx", &a), AP_ETOOBIG);
    assert_null(a);
    assert_int_equal(ap_crypto_seal(f->k, big, AP_CRYPTO_SEAL_MAX, "ctx", &a), AP_OK);
    free(a);
    free(big);
}

static void test_key_file_created_private_and_reloaded(void **state)
{
    struct fixture *f = *state;
    struct ap_crypto_key *k1 = NULL, *k2 = NULL;
    char err[256] = "";
    struct stat st;
    char *text = NULL;
    void *plain = NULL;
    size_t n = 0;

    assert_int_equal(ap_crypto_key_load(f->path, false, &k1, err, sizeof(err)), AP_ENOTFOUND);
    assert_non_null(strstr(err, f->path));

    assert_int_equal(ap_crypto_key_load(f->path, true, &k1, err, sizeof(err)), AP_OK);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 45); /* 44 base64 characters and a newline */

    /* Reloading (with or without create) gives the same key: k2 opens k1's box. */
    assert_int_equal(ap_crypto_key_load(f->path, true, &k2, err, sizeof(err)), AP_OK);
    assert_int_equal(ap_crypto_seal(k1, "x", 1, "c", &text), AP_OK);
    assert_int_equal(ap_crypto_open(k2, text, "c", &plain, &n), AP_OK);
    free(plain);
    free(text);
    ap_crypto_key_free(k1);
    ap_crypto_key_free(k2);

    /* No temporary files are left beside the key. */
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", f->dir);
    assert_int_equal(system(cmd), 0);
}

/* Several processes starting at once on a fresh data dir end with one key. */
static void test_key_file_concurrent_create(void **state)
{
    struct fixture *f = *state;
    enum { KIDS = 6 };
    char out[KIDS][160];
    pid_t pids[KIDS];
    struct ap_crypto_key *k = NULL;
    char err[256] = "";

    for (int i = 0; i < KIDS; i++) {
        snprintf(out[i], sizeof(out[i]), "%s/box.%d", f->dir, i);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            struct ap_crypto_key *mine = NULL;
            char *text = NULL;
            FILE *fp;

            if (ap_crypto_key_load(f->path, true, &mine, err, sizeof(err)) != AP_OK ||
                ap_crypto_seal(mine, "hello", 5, "race", &text) != AP_OK)
                _exit(1);
            fp = fopen(out[i], "w");
            fputs(text, fp);
            fclose(fp);
            _exit(0);
        }
    }
    for (int i = 0; i < KIDS; i++) {
        int status = 0;

        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    /* Every child sealed with the key now on disk. */
    assert_int_equal(ap_crypto_key_load(f->path, false, &k, err, sizeof(err)), AP_OK);
    for (int i = 0; i < KIDS; i++) {
        char text[512] = "";
        void *plain = NULL;
        size_t n = 0;
        FILE *fp = fopen(out[i], "r");

        assert_non_null(fgets(text, sizeof(text), fp));
        fclose(fp);
        assert_int_equal(ap_crypto_open(k, text, "race", &plain, &n), AP_OK);
        free(plain);
    }
    ap_crypto_key_free(k);
}

static void test_key_file_refused_when_open_to_others(void **state)
{
    struct fixture *f = *state;
    struct ap_crypto_key *k = NULL;
    char err[512] = "", advice[256];

    assert_int_equal(ap_crypto_key_load(f->path, true, &k, err, sizeof(err)), AP_OK);
    ap_crypto_key_free(k);
    k = NULL;
    assert_int_equal(chmod(f->path, 0644), 0);
    assert_int_equal(ap_crypto_key_load(f->path, false, &k, err, sizeof(err)), AP_EPERM);
    assert_null(k);
    snprintf(advice, sizeof(advice), "chmod 600 %s", f->path);
    assert_non_null(strstr(err, advice));
    assert_null(strchr(err, '\n'));

    assert_int_equal(chmod(f->path, 0640), 0);
    assert_int_equal(ap_crypto_key_load(f->path, false, &k, err, sizeof(err)), AP_EPERM);
    assert_int_equal(chmod(f->path, 0600), 0);
    assert_int_equal(ap_crypto_key_load(f->path, false, &k, err, sizeof(err)), AP_OK);
    ap_crypto_key_free(k);
}

static void test_key_file_format(void **state)
{
    struct fixture *f = *state;
    struct ap_crypto_key *k = NULL;
    char err[512] = "";
    const char *bad[] = {
        "not a key\n",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", /* 31 bytes */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e\n",
        "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        "",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(f->path, bad[i], 0600);
        err[0] = '\0';
        assert_int_equal(ap_crypto_key_load(f->path, true, &k, err, sizeof(err)), AP_EPARSE);
        assert_null(k);
        assert_non_null(strstr(err, f->path));
    }

    /* Hex is accepted, as is a key written by hand with CRLF. */
    write_file(f->path, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r\n",
               0600);
    assert_int_equal(ap_crypto_key_load(f->path, false, &k, err, sizeof(err)), AP_OK);
    ap_crypto_key_free(k);
}

static void test_password_hash(void **state)
{
    char h1[AP_CRYPTO_PWHASH_LEN], h2[AP_CRYPTO_PWHASH_LEN];
    char *longpw = malloc(AP_CRYPTO_PASSWORD_MAX + 2);

    (void)state;
    assert_int_equal(ap_crypto_password_set_limits(0, 8192), AP_EINVAL);
    assert_int_equal(ap_crypto_password_set_limits(1, 8192), AP_OK);
    assert_int_equal(ap_crypto_password_hash("correct horse", h1), AP_OK);
    assert_true(strncmp(h1, "$argon2id$", 10) == 0);
    assert_true(ap_crypto_password_verify(h1, "correct horse"));
    assert_false(ap_crypto_password_verify(h1, "correct horsf"));
    assert_false(ap_crypto_password_verify(h1, ""));
    assert_false(ap_crypto_password_verify("garbage", "correct horse"));
    assert_false(ap_crypto_password_needs_rehash(h1));

    /* Same password, different salt. */
    assert_int_equal(ap_crypto_password_hash("correct horse", h2), AP_OK);
    assert_string_not_equal(h1, h2);

    /* A hash made with other limits asks to be redone. */
    assert_int_equal(ap_crypto_password_set_limits(2, 16384), AP_OK);
    assert_true(ap_crypto_password_needs_rehash(h1));
    assert_true(ap_crypto_password_verify(h1, "correct horse"));
    assert_int_equal(ap_crypto_password_set_limits(1, 8192), AP_OK);

    memset(longpw, 'a', AP_CRYPTO_PASSWORD_MAX + 1);
    longpw[AP_CRYPTO_PASSWORD_MAX + 1] = '\0';
    assert_int_equal(ap_crypto_password_hash(longpw, h2), AP_ETOOBIG);
    longpw[AP_CRYPTO_PASSWORD_MAX] = '\0';
    assert_int_equal(ap_crypto_password_hash(longpw, h2), AP_OK);
    assert_true(ap_crypto_password_verify(h2, longpw));
    free(longpw);
}

static void test_tokens(void **state)
{
    char *seen[64];

    (void)state;
    for (size_t i = 0; i < 64; i++) {
        seen[i] = ap_crypto_token(32);
        assert_int_equal(strlen(seen[i]), 43);
        assert_int_equal(strspn(seen[i], B64URL_CHARS), 43);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
    for (size_t i = 0; i < 64; i++)
        free(seen[i]);

    char *a = ap_crypto_token_hex(16), *b = ap_crypto_token_hex(16);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
    free(a);
    free(b);
    assert_null(ap_crypto_token(0));
    assert_null(ap_crypto_token(AP_CRYPTO_TOKEN_MAX + 1));
}

static void test_hmac_rfc4231(void **state)
{
    char hex[65];
    uint8_t key[131];
    const char *msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";

    (void)state;
    /* RFC 4231 test case 2. */
    ap_crypto_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* Test case 6: a key longer than the block is hashed first. */
    memset(key, 0xaa, sizeof(key));
    ap_crypto_hmac_sha256_hex(key, sizeof(key), msg6, strlen(msg6), hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_b64url(void **state)
{
    size_t n = 0;
    char *e = ap_crypto_b64url("\xfb\xff\x01", 3);
    assert_string_equal(e, "-_8B");
    char *d = ap_crypto_b64url_decode(e, strlen(e), &n);
    assert_int_equal(n, 3);
    assert_memory_equal(d, "\xfb\xff\x01", 3);
    free(d);
    free(e);
    /* padding and the standard alphabet are read too; junk is refused */
    d = ap_crypto_b64url_decode("+/8B", 4, &n);
    assert_non_null(d);
    assert_memory_equal(d, "\xfb\xff\x01", 3);
    free(d);
    d = ap_crypto_b64url_decode("aGk=", 4, &n);
    assert_string_equal(d, "hi");
    free(d);
    assert_null(ap_crypto_b64url_decode("a*b=", 4, &n));
    assert_null(ap_crypto_b64url_decode("a", 1, &n));
}

static void test_equal(void **state)
{
    (void)state;
    assert_true(ap_crypto_equal("abcdef", "abcdef", 6));
    assert_false(ap_crypto_equal("abcdef", "abcdeg", 6));
    assert_false(ap_crypto_equal("Xbcdef", "abcdef", 6));
}

/* The keyed short hash: the same answer for the same key and text, another for another key or
 * text (one byte apart), all 16 bytes used. */
static void test_shorthash(void **state)
{
    uint8_t k1[AP_CRYPTO_SHORTHASH_KEY] = {1}, k2[AP_CRYPTO_SHORTHASH_KEY] = {2};
    uint8_t a[AP_CRYPTO_SHORTHASH_LEN], b[AP_CRYPTO_SHORTHASH_LEN],
        z[AP_CRYPTO_SHORTHASH_LEN] = {0};

    (void)state;
    ap_crypto_shorthash(k1, "a:203.0.113.9", 13, a);
    ap_crypto_shorthash(k1, "a:203.0.113.9", 13, b);
    assert_memory_equal(a, b, sizeof(a));
    ap_crypto_shorthash(k1, "a:203.0.113.8", 13, b);
    assert_memory_not_equal(a, b, sizeof(a));
    ap_crypto_shorthash(k2, "a:203.0.113.9", 13, b);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a + 8, z, 8); /* the upper half is hashed too */
    ap_crypto_shorthash(k1, "", 0, b);
    assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seal_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_tamper_any_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_wrong_context_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_random_nonce_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_created_private_and_reloaded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_key_file_concurrent_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_refused_when_open_to_others, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hmac_rfc4231, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shorthash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_b64url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equal, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

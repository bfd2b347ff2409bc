/*
 * crypto.c — libsodium behind crypto.h: the secret box (XChaCha20-Poly1305
 * with the caller's context as associated data), argon2id passwords, random
 * tokens, HMAC-SHA256 and constant-time comparison. The master key file is
 * read and written in keyfile.c.
 */
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "crypto/crypto.h"
#include "crypto/key_int.h"

_Static_assert(AP_CRYPTO_PWHASH_LEN == crypto_pwhash_STRBYTES, "pwhash buffer size");
_Static_assert(AP_CRYPTO_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(AP_CRYPTO_HMAC_LEN == crypto_auth_hmacsha256_BYTES, "hmac size");

#define SEAL_PREFIX  "v1:"
#define SEAL_NONCE   crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_TAG     crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_RAW_MAX (SEAL_NONCE + AP_CRYPTO_SEAL_MAX + SEAL_TAG)
#define B64URL       sodium_base64_VARIANT_URLSAFE_NO_PADDING

static _Atomic uint64_t pw_ops = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
static _Atomic size_t pw_mem = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;

enum ap_err ap_crypto_init(void)
{
    /* sodium_init() takes its own lock and returns 1 when already done. */
    return sodium_init() < 0 ? AP_EINTERNAL : AP_OK;
}

struct ap_crypto_key *ap_crypto_key_alloc(void)
{
    struct ap_crypto_key *k = ap_xcalloc(1, sizeof(*k));

    /* Best effort: RLIMIT_MEMLOCK may be 0 in containers; the key still works. */
    (void)sodium_mlock(k, sizeof(*k));
    return k;
}

struct ap_crypto_key *ap_crypto_key_new_random(void)
{
    struct ap_crypto_key *k = ap_crypto_key_alloc();

    crypto_aead_xchacha20poly1305_ietf_keygen(k->b);
    return k;
}

void ap_crypto_key_free(struct ap_crypto_key *k)
{
    if (k == NULL)
        return;
    sodium_memzero(k, sizeof(*k));
    (void)sodium_munlock(k, sizeof(*k));
    free(k);
}

void ap_crypto_wipe(void *p, size_t n)
{
    if (p != NULL)
        sodium_memzero(p, n);
}

static bool context_ok(const char *context)
{
    return context != NULL && strnlen(context, AP_CRYPTO_CONTEXT_MAX + 1) <= AP_CRYPTO_CONTEXT_MAX;
}

enum ap_err ap_crypto_seal(const struct ap_crypto_key *k, const void *plain, size_t n,
                           const char *context, char **out_text)
{
    unsigned char *raw = NULL;
    unsigned long long clen = 0;
    size_t rawlen, textlen;

    *out_text = NULL;
    if (n > AP_CRYPTO_SEAL_MAX)
        return AP_ETOOBIG;
    if (k == NULL || (plain == NULL && n > 0) || !context_ok(context))
        return AP_EINVAL;

    rawlen = SEAL_NONCE + n + SEAL_TAG;
    raw = ap_xmalloc(rawlen);
    randombytes_buf(raw, SEAL_NONCE);
    crypto_aead_xchacha20poly1305_ietf_encrypt(raw + SEAL_NONCE, &clen, plain, n,
                                               (const unsigned char *)context, strlen(context),
                                               NULL, raw, k->b);
    textlen = strlen(SEAL_PREFIX) + sodium_base64_ENCODED_LEN(rawlen, B64URL);
    *out_text = ap_xmalloc(textlen);
    memcpy(*out_text, SEAL_PREFIX, strlen(SEAL_PREFIX));
    sodium_bin2base64(*out_text + strlen(SEAL_PREFIX), textlen - strlen(SEAL_PREFIX), raw,
                      SEAL_NONCE + clen, B64URL);
    free(raw);
    return AP_OK;
}

/* Decodes the base64url body of a "v1:" text into a new buffer. */
static enum ap_err seal_decode(const char *text, unsigned char **raw, size_t *rawlen)
{
    size_t plen = strlen(SEAL_PREFIX);
    size_t maxtext = plen + sodium_base64_ENCODED_LEN(SEAL_RAW_MAX, B64URL);
    size_t tlen;

    *raw = NULL;
    if (text == NULL || strncmp(text, SEAL_PREFIX, plen) != 0)
        return AP_EPARSE;
    tlen = strnlen(text, maxtext + 1);
    if (tlen > maxtext)
        return AP_EPARSE;
    *raw = ap_xmalloc(SEAL_RAW_MAX);
    /* With b64_end NULL, trailing junk or non-canonical last bits fail. */
    if (sodium_base642bin(*raw, SEAL_RAW_MAX, text + plen, tlen - plen, NULL, rawlen, NULL,
                          B64URL) != 0 ||
        *rawlen < SEAL_NONCE + SEAL_TAG) {
        free(*raw);
        *raw = NULL;
        return AP_EPARSE;
    }
    return AP_OK;
}

enum ap_err ap_crypto_open(const struct ap_crypto_key *k, const char *text, const char *context,
                           void **plain, size_t *n)
{
    unsigned char *raw = NULL;
    unsigned char *out = NULL;
    unsigned long long mlen = 0;
    size_t rawlen = 0;
    enum ap_err err;

    *plain = NULL;
    *n = 0;
    if (k == NULL || !context_ok(context))
        return AP_EINVAL;
    err = seal_decode(text, &raw, &rawlen);
    if (err != AP_OK)
        goto out;
    out = ap_xmalloc(rawlen - SEAL_NONCE - SEAL_TAG + 1);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            out, &mlen, NULL, raw + SEAL_NONCE, rawlen - SEAL_NONCE, (const unsigned char *)context,
            strlen(context), raw, k->b) != 0) {
        err = AP_ECORRUPT;
        goto out;
    }
    out[mlen] = '\0';
    *plain = out;
    *n = (size_t)mlen;
    out = NULL;
out:
    free(out);
    free(raw);
    return err;
}

enum ap_err ap_crypto_password_set_limits(uint64_t opslimit, size_t memlimit)
{
    if (opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
        opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
        memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
        memlimit > crypto_pwhash_argon2id_MEMLIMIT_MAX)
        return AP_EINVAL;
    atomic_store(&pw_ops, opslimit);
    atomic_store(&pw_mem, memlimit);
    return AP_OK;
}

static bool password_ok(const char *pw)
{
    return pw != NULL && strnlen(pw, AP_CRYPTO_PASSWORD_MAX + 1) <= AP_CRYPTO_PASSWORD_MAX;
}

static bool hash_ok(const char *hash)
{
    return hash != NULL && strnlen(hash, AP_CRYPTO_PWHASH_LEN) < AP_CRYPTO_PWHASH_LEN;
}

enum ap_err ap_crypto_password_hash(const char *pw, char out[AP_CRYPTO_PWHASH_LEN])
{
    out[0] = '\0';
    if (pw == NULL)
        return AP_EINVAL;
    if (!password_ok(pw))
        return AP_ETOOBIG;
    if (crypto_pwhash_str_alg(out, pw, strlen(pw), atomic_load(&pw_ops), atomic_load(&pw_mem),
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return AP_EINTERNAL;
    return AP_OK;
}

bool ap_crypto_password_verify(const char *hash, const char *pw)
{
    if (!hash_ok(hash) || !password_ok(pw))
        return false;
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

bool ap_crypto_password_needs_rehash(const char *hash)
{
    if (!hash_ok(hash))
        return true;
    /* 1 = other parameters, -1 = not an argon2id string: both need a new hash. */
    return crypto_pwhash_argon2id_str_needs_rehash(hash, atomic_load(&pw_ops),
                                                   atomic_load(&pw_mem)) != 0;
}

void ap_crypto_random(void *buf, size_t n)
{
    randombytes_buf(buf, n);
}

char *ap_crypto_token(size_t nbytes)
{
    unsigned char raw[AP_CRYPTO_TOKEN_MAX];
    size_t len;
    char *out;

    if (nbytes == 0 || nbytes > AP_CRYPTO_TOKEN_MAX)
        return NULL;
    randombytes_buf(raw, nbytes);
    len = sodium_base64_ENCODED_LEN(nbytes, B64URL);
    out = ap_xmalloc(len);
    sodium_bin2base64(out, len, raw, nbytes, B64URL);
    sodium_memzero(raw, nbytes);
    return out;
}

char *ap_crypto_b64url(const void *bin, size_t n)
{
    size_t len = sodium_base64_ENCODED_LEN(n, B64URL);
    char *out = ap_xmalloc(len);

    sodium_bin2base64(out, len, bin, n, B64URL);
    return out;
}

void *ap_crypto_b64url_decode(const char *s, size_t n, size_t *outlen)
{
    char *text, *out;
    size_t len = 0;

    while (n > 0 && s[n - 1] == '=')
        n--;
    text = ap_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        text[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
    out = ap_xmalloc(n * 3 / 4 + 2);
    /* With b64_end NULL, any other character or non-canonical last bits fail. */
    if (sodium_base642bin((unsigned char *)out, n * 3 / 4 + 1, text, n, NULL, &len, NULL, B64URL) !=
        0) {
        free(text);
        free(out);
        return NULL;
    }
    free(text);
    out[len] = '\0';
    *outlen = len;
    return out;
}

char *ap_crypto_token_hex(size_t nbytes)
{
    unsigned char raw[AP_CRYPTO_TOKEN_MAX];
    char *out;

    if (nbytes == 0 || nbytes > AP_CRYPTO_TOKEN_MAX)
        return NULL;
    randombytes_buf(raw, nbytes);
    out = ap_xmalloc(2 * nbytes + 1);
    sodium_bin2hex(out, 2 * nbytes + 1, raw, nbytes);
    sodium_memzero(raw, nbytes);
    return out;
}

void ap_crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                           uint8_t out[AP_CRYPTO_HMAC_LEN])
{
    crypto_auth_hmacsha256_state st;

    /* The init/update/final form takes a key of any length (RFC 2104). */
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, msg, n);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

void ap_crypto_hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t n,
                               char out[2 * AP_CRYPTO_HMAC_LEN + 1])
{
    uint8_t mac[AP_CRYPTO_HMAC_LEN];

    ap_crypto_hmac_sha256(key, keylen, msg, n, mac);
    ap_crypto_hex(mac, sizeof(mac), out);
}

void ap_crypto_hex(const void *bin, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, bin, n);
}

bool ap_crypto_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

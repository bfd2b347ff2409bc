/*
 * crypto.h — the libsodium adapter: the master key, a secret box for secrets
 * at rest, argon2id password hashes, random tokens, HMAC-SHA256 and
 * constant-time comparison.
 *
 * This module is the only code that includes <sodium.h>; everything else uses
 * these functions. Call ap_crypto_init() once before anything else here (it is
 * idempotent and thread-safe); every other function is thread-safe too.
 *
 * Nothing here logs key material, plaintexts or passwords.
 */
#ifndef AP_CRYPTO_CRYPTO_H
#define AP_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Bytes of the master key. */
#define AP_CRYPTO_KEY_LEN 32
/* Size of a password hash string buffer, terminator included (libsodium's STRBYTES). */
#define AP_CRYPTO_PWHASH_LEN 128
/* Longest password accepted, in bytes. */
#define AP_CRYPTO_PASSWORD_MAX 1024
/* Largest plaintext ap_crypto_seal() takes. */
#define AP_CRYPTO_SEAL_MAX ((size_t)64 * 1024)
/* Longest associated-data context string, in bytes. */
#define AP_CRYPTO_CONTEXT_MAX 1024
/* Largest nbytes for ap_crypto_token() / ap_crypto_token_hex(). */
#define AP_CRYPTO_TOKEN_MAX 1024
/* Bytes of an HMAC-SHA256 tag. */
#define AP_CRYPTO_HMAC_LEN 32

/* Initialises libsodium. AP_EINTERNAL if the library cannot start. */
enum ap_err ap_crypto_init(void);

/* ---- master key -------------------------------------------------------- */

/* 32 secret bytes, locked in RAM where the OS allows. Opaque. */
struct ap_crypto_key;

/*
 * Loads the master key from path: one line holding the 32 bytes as base64
 * (44 characters) or hex (64 characters). When the file does not exist and
 * create is true, a new random key is written there first (mode 0600, via a
 * temporary file that is fsync'd and then linked into place, so a crash or a
 * second process never sees a half-written key and never replaces an existing
 * one). A file whose mode lets group or others read it is refused with
 * AP_EPERM ("... chmod 600 PATH"); a wrong length or format with AP_EPARSE;
 * a missing file with create false with AP_ENOTFOUND; other I/O with AP_EIO.
 * On error err (size errlen) holds one line naming path. On success *out is a
 * new key the caller frees with ap_crypto_key_free().
 */
enum ap_err ap_crypto_key_load(const char *path, bool create, struct ap_crypto_key **out, char *err,
                               size_t errlen);

/* A fresh random key (tests, tools); free with ap_crypto_key_free(). */
struct ap_crypto_key *ap_crypto_key_new_random(void);

/* Wipes and frees k. NULL ok. */
void ap_crypto_key_free(struct ap_crypto_key *k);

/* ---- secret box -------------------------------------------------------- */

/*
 * Encrypts n bytes of plain (n <= AP_CRYPTO_SEAL_MAX) with XChaCha20-Poly1305
 * under k and a random nonce. context (NUL-terminated, at most
 * AP_CRYPTO_CONTEXT_MAX bytes, e.g. "fms.client_secret:acct=42") is bound as
 * associated data: the text opens only with the same context, so it cannot be
 * moved to another row or field. *out_text is a new string "v1:" followed by
 * base64url(nonce || ciphertext), no padding; the caller frees it.
 * AP_ETOOBIG / AP_EINVAL on oversized input; *out_text is then NULL.
 */
enum ap_err ap_crypto_seal(const struct ap_crypto_key *k, const void *plain, size_t n,
                           const char *context, char **out_text);

/*
 * Reverses ap_crypto_seal(). AP_EPARSE when text is not a well-formed "v1:"
 * box; AP_ECORRUPT when it does not authenticate (tampered, other context,
 * other key). On success *plain is a new buffer of *n bytes followed by a NUL
 * (so text secrets can be used as strings); the caller wipes and frees it
 * (ap_crypto_wipe() then free()). On error *plain is NULL and *n is 0.
 */
enum ap_err ap_crypto_open(const struct ap_crypto_key *k, const char *text, const char *context,
                           void **plain, size_t *n);

/* Overwrites n bytes at p with zeros in a way the compiler keeps. NULL ok. */
void ap_crypto_wipe(void *p, size_t n);

/* ---- passwords --------------------------------------------------------- */

/*
 * Sets the argon2id cost used by ap_crypto_password_hash() and judged by
 * ap_crypto_password_needs_rehash(). The default is libsodium's INTERACTIVE
 * (2 passes, 64 MiB). Tests lower it to the minimum (1 pass, 8 KiB) to run
 * fast. AP_EINVAL outside libsodium's argon2id bounds. Call before threads
 * start hashing (the values are read atomically, but a change mid-flight
 * simply applies to the next hash).
 */
enum ap_err ap_crypto_password_set_limits(uint64_t opslimit, size_t memlimit);

/*
 * Hashes pw (NUL-terminated, at most AP_CRYPTO_PASSWORD_MAX bytes) with
 * argon2id and a random salt into out, a NUL-terminated "$argon2id$..."
 * string. AP_ETOOBIG for a longer password; AP_EINTERNAL if memory for the
 * hash could not be had.
 */
enum ap_err ap_crypto_password_hash(const char *pw, char out[AP_CRYPTO_PWHASH_LEN]);
/* True when pw matches hash. False for a malformed hash or an overlong pw. */
bool ap_crypto_password_verify(const char *hash, const char *pw);
/* True when hash was made with other parameters than the current limits. */
bool ap_crypto_password_needs_rehash(const char *hash);

/* ---- random ------------------------------------------------------------ */

/* Fills buf with n cryptographically random bytes. */
void ap_crypto_random(void *buf, size_t n);
/* nbytes random bytes as base64url without padding; a new string the caller
 * frees. NULL when nbytes is 0 or above AP_CRYPTO_TOKEN_MAX. */
char *ap_crypto_token(size_t nbytes);
/* The same as lowercase hex (2 * nbytes characters). */
char *ap_crypto_token_hex(size_t nbytes);

/* ---- base64url ----------------------------------------------------------- */

/* n bytes as base64url without padding: a new NUL-terminated string. */
char *ap_crypto_b64url(const void *bin, size_t n);
/*
 * Decodes base64url of s[0..n) into a new buffer (NUL-terminated, for text;
 * *outlen set). Lenient as peers are: '=' padding may be there or not, and
 * the standard alphabet's '+' and '/' are read as '-' and '_'. NULL when s
 * holds anything else.
 */
void *ap_crypto_b64url_decode(const char *s, size_t n, size_t *outlen);

/* ---- HMAC, hex, comparison --------------------------------------------- */

/* HMAC-SHA256 of msg (n bytes) under key (keylen bytes, any length). */
void ap_crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                           uint8_t out[AP_CRYPTO_HMAC_LEN]);
/* The same, written as 64 lowercase hex characters and a NUL. */
void ap_crypto_hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t n,
                               char out[2 * AP_CRYPTO_HMAC_LEN + 1]);
/* Writes n bytes of bin as lowercase hex into out, which holds 2n+1 bytes. */
void ap_crypto_hex(const void *bin, size_t n, char *out);
/* Compares n bytes in time independent of where they differ. */
bool ap_crypto_equal(const void *a, const void *b, size_t n);

#endif

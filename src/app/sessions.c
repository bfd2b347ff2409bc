/*
 * sessions.c — signing in: the login check with its rate limiter, and the
 * sessions that follow.
 *
 * Login does the same argon2id work whether the email exists or not (an
 * unknown email is verified against a dummy hash), so timing does not tell
 * which emails have accounts. Failed attempts are counted in memory per
 * email and per peer address in fixed 15-minute windows; when either is
 * exhausted login answers AP_EBUSY with the seconds until the window ends.
 *
 * A session token is 32 random bytes (base64url) that only the cookie holds;
 * the sessions table stores HMAC-SHA256(token) under a fixed label, so a
 * copy of the database cannot be replayed as cookies. Sessions expire 12 h
 * after sign-in (fixed, not sliding: reads never write) and are purged when
 * the next session is created.
 */
#include "app/app.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/accounts_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"

#define WINDOW_NS ((int64_t)15 * 60 * 1000000000)
/* Most keys the limiter remembers; past that the oldest window is dropped. */
#define LIMITER_SLOTS   4096
#define LIMITER_KEY_MAX 272
/* Longest cookie value looked up. */
#define TOKEN_MAX 128

static const char session_label[] = "appointd.session.v1";

/* ---- rate limiter ------------------------------------------------------- */

struct limiter_slot {
    char key[LIMITER_KEY_MAX]; /* "e:<email>" or "p:<peer>"; "" when free */
    int64_t start_ns;          /* monotonic start of the window */
    int failures;
};

static struct {
    pthread_mutex_t lock;
    int limit;
    struct limiter_slot slots[LIMITER_SLOTS];
} lim = {PTHREAD_MUTEX_INITIALIZER, 10, {{{0}, 0, 0}}};

void ap_login_set_limit(int per_15min)
{
    pthread_mutex_lock(&lim.lock);
    lim.limit = per_15min > 0 ? per_15min : 1;
    pthread_mutex_unlock(&lim.lock);
}

/* The slot of key (lock held); create makes one, evicting the oldest if full. */
static struct limiter_slot *slot_of(const char *key, int64_t now, bool create)
{
    struct limiter_slot *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < LIMITER_SLOTS; i++) {
        struct limiter_slot *s = &lim.slots[i];
        if (s->key[0] && now - s->start_ns >= WINDOW_NS)
            s->key[0] = '\0'; /* window over: forget it */
        if (!s->key[0]) {
            free_slot = free_slot ? free_slot : s;
            continue;
        }
        if (strcmp(s->key, key) == 0)
            return s;
        if (!oldest || s->start_ns < oldest->start_ns)
            oldest = s;
    }
    if (!create)
        return NULL;
    struct limiter_slot *s = free_slot ? free_slot : oldest;
    snprintf(s->key, sizeof(s->key), "%s", key);
    s->start_ns = now;
    s->failures = 0;
    return s;
}

static void limiter_keys(const char *email, const char *peer, char ek[LIMITER_KEY_MAX],
                         char pk[LIMITER_KEY_MAX])
{
    char norm[256];
    if (!ap_app_email_normalize(email, norm))
        snprintf(norm, sizeof(norm), "%.255s", email ? email : "");
    snprintf(ek, LIMITER_KEY_MAX, "e:%s", norm);
    snprintf(pk, LIMITER_KEY_MAX, "p:%.200s", peer ? peer : "-");
}

static int retry_after(const struct limiter_slot *s, int64_t now)
{
    int64_t left = s->start_ns + WINDOW_NS - now;
    return (int)((left + 999999999) / 1000000000);
}

bool ap_login_limited(const char *email, const char *peer, int *retry_after_s)
{
    char ek[LIMITER_KEY_MAX], pk[LIMITER_KEY_MAX];
    limiter_keys(email, peer, ek, pk);
    int64_t now = ap_clock_mono_ns();
    int wait = 0;
    pthread_mutex_lock(&lim.lock);
    const char *keys[2] = {ek, pk};
    for (int i = 0; i < 2; i++) {
        struct limiter_slot *s = slot_of(keys[i], now, false);
        if (s && s->failures >= lim.limit && retry_after(s, now) > wait)
            wait = retry_after(s, now);
    }
    pthread_mutex_unlock(&lim.lock);
    if (retry_after_s)
        *retry_after_s = wait;
    return wait > 0;
}

static void limiter_record(const char *email, const char *peer, bool ok)
{
    char ek[LIMITER_KEY_MAX], pk[LIMITER_KEY_MAX];
    limiter_keys(email, peer, ek, pk);
    int64_t now = ap_clock_mono_ns();
    pthread_mutex_lock(&lim.lock);
    if (ok) {
        struct limiter_slot *s = slot_of(ek, now, false);
        if (s)
            s->key[0] = '\0';
    } else {
        slot_of(ek, now, true)->failures++;
        slot_of(pk, now, true)->failures++;
    }
    pthread_mutex_unlock(&lim.lock);
}

/* ---- login -------------------------------------------------------------- */

static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[AP_CRYPTO_PWHASH_LEN];

/* Verifies pw against a hash made with the current cost, to spend the same
 * time as for a real user. */
static void dummy_verify(const char *pw)
{
    char h[AP_CRYPTO_PWHASH_LEN];
    pthread_mutex_lock(&dummy_lock);
    if (!dummy_hash[0] || ap_crypto_password_needs_rehash(dummy_hash)) {
        unsigned char raw[16];
        char pwd[33];
        ap_crypto_random(raw, sizeof(raw));
        ap_crypto_hex(raw, sizeof(raw), pwd);
        if (ap_crypto_password_hash(pwd, dummy_hash) != AP_OK)
            dummy_hash[0] = '\0';
    }
    memcpy(h, dummy_hash, sizeof(h));
    pthread_mutex_unlock(&dummy_lock);
    if (h[0])
        (void)ap_crypto_password_verify(h, pw ? pw : "");
}

/* Reads the user with email (normalized) and their password hash. */
static enum ap_err user_by_email(struct ap_store *st, const char *email, struct ap_user *u,
                                 char hash[AP_CRYPTO_PWHASH_LEN])
{
    struct ap_db_conn *c = ap_store_acquire(st, false);
    if (!c)
        return AP_EUNAVAIL;
    struct ap_db_val v = ap_db_text(email);
    struct ap_db_rows *r = NULL;
    bool found = false;
    enum ap_err err = ap_db_query(
        c, "SELECT " AP_APP_USER_COLS ", u.password_hash FROM users u WHERE u.email = ?", &v, 1,
        &r);
    if (!err && ap_db_next(r)) {
        found = true;
        ap_app_user_from_row(r, 0, u);
        snprintf(hash, AP_CRYPTO_PWHASH_LEN, "%s", ap_db_row_text(r, AP_APP_USER_NCOLS));
    }
    if (!err)
        err = ap_db_done(r);
    ap_store_release(c);
    return err ? err : found ? AP_OK : AP_ENOTFOUND;
}

/* Rehashes with the current cost when the stored hash is older (best effort). */
static void maybe_rehash(struct ap_store *st, const struct ap_user *u, const char *hash,
                         const char *pw)
{
    char fresh[AP_CRYPTO_PWHASH_LEN];
    if (!ap_crypto_password_needs_rehash(hash) || ap_crypto_password_hash(pw, fresh) != AP_OK)
        return;
    struct ap_db_conn *c = ap_store_acquire(st, true);
    if (c) {
        struct ap_db_val v[2] = {ap_db_text(fresh), ap_db_int(u->id)};
        ap_db_exec(c, "UPDATE users SET password_hash = ? WHERE id = ?", v, 2);
        ap_store_release(c);
    }
    ap_crypto_wipe(fresh, sizeof(fresh));
}

enum ap_err ap_login(struct ap_store *st, const char *email, const char *password, const char *peer,
                     struct ap_user *user, int *retry_after_s)
{
    char norm[256], hash[AP_CRYPTO_PWHASH_LEN] = "";
    struct ap_user u;
    if (ap_login_limited(email, peer, retry_after_s))
        return AP_EBUSY;
    enum ap_err err = AP_ENOTFOUND;
    bool shape_ok = ap_app_email_normalize(email, norm);
    if (shape_ok && password && strlen(password) <= AP_CRYPTO_PASSWORD_MAX)
        err = user_by_email(st, norm, &u, hash);
    if (err != AP_OK && err != AP_ENOTFOUND)
        return err; /* the store failed: not the user's fault, not counted */
    bool ok = false;
    if (err == AP_OK)
        ok = ap_crypto_password_verify(hash, password);
    else
        dummy_verify(password);
    limiter_record(email, peer, ok);
    if (ok) {
        maybe_rehash(st, &u, hash, password);
        *user = u;
    }
    ap_crypto_wipe(hash, sizeof(hash));
    return ok ? AP_OK : AP_EPERM;
}

/* ---- sessions ----------------------------------------------------------- */

static void token_hash(const char *token, char out[2 * AP_CRYPTO_HMAC_LEN + 1])
{
    ap_crypto_hmac_sha256_hex(session_label, sizeof(session_label) - 1, token, strlen(token), out);
}

static enum ap_err insert_session(struct ap_db_conn *c, const struct ap_user *user,
                                  const char *hash, const char *csrf)
{
    char now[32], expires[32];
    int64_t real = ap_clock_real_ns();
    ap_clock_format_utc(real, now);
    ap_clock_format_utc(real + (int64_t)AP_SESSION_TTL_S * 1000000000, expires);
    struct ap_db_val purge = ap_db_text(now);
    enum ap_err err = ap_db_exec(c, "DELETE FROM sessions WHERE expires_at <= ?", &purge, 1);
    struct ap_db_val v[5] = {ap_db_text(hash), ap_db_int(user->id), ap_db_text(csrf),
                             ap_db_text(now), ap_db_text(expires)};
    if (!err)
        err = ap_db_exec(c,
                         "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, "
                         "expires_at) VALUES (?, ?, ?, ?, ?)",
                         v, 5);
    return err;
}

enum ap_err ap_session_create_token(struct ap_store *st, const struct ap_user *user,
                                    const char *token, char **csrf)
{
    char hash[2 * AP_CRYPTO_HMAC_LEN + 1];
    *csrf = NULL;
    if (!token || strlen(token) < 32 || strlen(token) > TOKEN_MAX)
        return AP_EINVAL;
    token_hash(token, hash);
    char *c_tok = ap_crypto_token(32);
    struct ap_db_conn *c = ap_store_acquire(st, true);
    enum ap_err err = c ? insert_session(c, user, hash, c_tok) : AP_EUNAVAIL;
    if (err)
        ap_log_error("session.create_failed", "err=%s msg=\"%s\"", ap_err_str(err),
                     c ? ap_db_errmsg(c) : "no connection");
    ap_store_release(c);
    if (err)
        free(c_tok);
    else
        *csrf = c_tok;
    return err;
}

enum ap_err ap_session_create(struct ap_store *st, const struct ap_user *user, char **token,
                              char **csrf)
{
    *token = ap_crypto_token(32);
    enum ap_err err = ap_session_create_token(st, user, *token, csrf);
    if (err) {
        free(*token);
        *token = NULL;
    }
    return err;
}

enum ap_err ap_session_get(struct ap_store *st, const char *token, struct ap_user *user,
                           char csrf_out[64])
{
    char hash[2 * AP_CRYPTO_HMAC_LEN + 1], now[32];
    if (!token || !token[0] || strlen(token) > TOKEN_MAX)
        return AP_ENOTFOUND;
    token_hash(token, hash);
    ap_app_now(now);
    struct ap_db_conn *c = ap_store_acquire(st, false);
    if (!c)
        return AP_EUNAVAIL;
    struct ap_db_val v[2] = {ap_db_text(hash), ap_db_text(now)};
    struct ap_db_rows *r = NULL;
    bool found = false;
    enum ap_err err = ap_db_query(c,
                                  "SELECT " AP_APP_USER_COLS ", s.csrf_token FROM sessions s "
                                  "JOIN users u ON u.id = s.user_id "
                                  "WHERE s.token_hash = ? AND s.expires_at > ?",
                                  v, 2, &r);
    if (!err && ap_db_next(r)) {
        found = true;
        ap_app_user_from_row(r, 0, user);
        if (csrf_out)
            snprintf(csrf_out, 64, "%s", ap_db_row_text(r, AP_APP_USER_NCOLS));
    }
    if (!err)
        err = ap_db_done(r);
    ap_store_release(c);
    return err ? err : found ? AP_OK : AP_ENOTFOUND;
}

enum ap_err ap_session_delete(struct ap_store *st, const char *token)
{
    char hash[2 * AP_CRYPTO_HMAC_LEN + 1];
    if (!token || !token[0] || strlen(token) > TOKEN_MAX)
        return AP_ENOTFOUND;
    token_hash(token, hash);
    struct ap_db_conn *c = ap_store_acquire(st, true);
    if (!c)
        return AP_EUNAVAIL;
    struct ap_db_val v = ap_db_text(hash);
    enum ap_err err = ap_db_exec(c, "DELETE FROM sessions WHERE token_hash = ?", &v, 1);
    if (!err && ap_db_changes(c) == 0)
        err = AP_ENOTFOUND;
    ap_store_release(c);
    return err;
}

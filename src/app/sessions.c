/*
 * sessions.c — signing in: the login check behind its throttle, and the
 * sessions that follow.
 *
 * Login does the same argon2id work whether the email exists or not (an
 * unknown email is verified against a dummy hash), so timing does not tell
 * which emails have accounts.
 *
 * The throttle (app/throttle.h) charges every attempt when it starts, before
 * any hashing, to two keys: the (address, email) pair, with a budget of
 * login-rate-limit failures, and the address alone, with the larger
 * login-address-limit. Past a budget the key backs off exponentially (30 s,
 * 1 min, 2, 4, 8, capped at 15 min) instead of locking: nothing is keyed on
 * the email alone, so failures from one address never stop the right
 * password from another. A success clears its pair and does not count
 * against its address; a store failure counts against nothing. An IPv6
 * client is keyed by its /64, which one subscriber usually holds whole.
 *
 * A session token is 32 random bytes (base64url) that only the cookie holds;
 * the sessions table stores HMAC-SHA256(token) under a fixed label, so a
 * copy of the database cannot be replayed as cookies. Sessions expire 12 h
 * after sign-in (fixed, not sliding: reads never write) and are purged when
 * the next session is created.
 */
#include "app/app.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/accounts_int.h"
#include "app/throttle.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"

#define BACKOFF_BASE_NS (30 * AP_NS_PER_S)
#define BACKOFF_CAP_NS  (15 * 60 * AP_NS_PER_S)
#define FORGET_NS       (15 * 60 * AP_NS_PER_S)
/* Longest cookie value looked up. */
#define TOKEN_MAX 128

static const char session_label[] = "appointd.session.v1";

/* ---- throttle ----------------------------------------------------------- */

static struct {
    pthread_mutex_t lock; /* guards the pointer and the limits, not the table */
    struct ap_throttle *t;
    struct ap_login_limits limits;
    struct ap_store *shared; /* several instances: the counters in this store */
} thr = {PTHREAD_MUTEX_INITIALIZER, NULL, {0}, NULL};

static const struct ap_throttle_config db_cfg = {0, BACKOFF_BASE_NS, BACKOFF_CAP_NS, FORGET_NS};

void ap_login_share(struct ap_store *st)
{
    pthread_mutex_lock(&thr.lock);
    thr.shared = st;
    pthread_mutex_unlock(&thr.lock);
}

static void limits_fill(struct ap_login_limits *l)
{
    if (l->pair_budget <= 0)
        l->pair_budget = AP_LOGIN_PAIR_BUDGET;
    if (l->address_budget <= 0)
        l->address_budget = AP_LOGIN_ADDRESS_BUDGET;
    if (l->entries == 0)
        l->entries = AP_LOGIN_THROTTLE_ENTRIES;
}

void ap_login_configure(const struct ap_login_limits *limits)
{
    struct ap_login_limits l = limits ? *limits : (struct ap_login_limits){0};
    limits_fill(&l);
    struct ap_throttle_config c = {l.entries, BACKOFF_BASE_NS, BACKOFF_CAP_NS, FORGET_NS};
    struct ap_throttle *fresh = ap_throttle_new(&c), *old;
    pthread_mutex_lock(&thr.lock);
    old = thr.t;
    thr.t = fresh;
    thr.limits = l;
    pthread_mutex_unlock(&thr.lock);
    ap_throttle_free(old); /* configured before serving: nobody holds it */
}

static struct ap_throttle *throttle(struct ap_login_limits *l, struct ap_store **shared)
{
    pthread_mutex_lock(&thr.lock);
    if (!thr.t) {
        pthread_mutex_unlock(&thr.lock);
        ap_login_configure(NULL);
        pthread_mutex_lock(&thr.lock);
    }
    struct ap_throttle *t = thr.t;
    *l = thr.limits;
    *shared = thr.shared;
    pthread_mutex_unlock(&thr.lock);
    return t;
}

/* The address part of a key: an IPv4 address, an IPv6 /64, or the text as given. */
static void address_key(const char *peer, char out[64])
{
    unsigned char b[16];
    char text[INET6_ADDRSTRLEN];
    if (peer && strchr(peer, ':') && inet_pton(AF_INET6, peer, b) == 1) {
        memset(b + 8, 0, 8);
        inet_ntop(AF_INET6, b, text, sizeof(text));
        snprintf(out, 64, "%s/64", text);
        return;
    }
    snprintf(out, 64, "%.63s", peer && peer[0] ? peer : "-");
}

static void attempt_keys(struct ap_login_attempt *a, const char *email, const char *peer,
                         const struct ap_login_limits *l)
{
    char norm[256], addr[64];
    if (!ap_app_email_normalize(email, norm)) {
        size_t n = 0;
        for (const char *p = email ? email : ""; *p && n < 254; p++)
            norm[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        norm[n] = '\0';
    }
    address_key(peer, addr);
    memset(a, 0, sizeof(*a));
    snprintf(a->keys[0].text, sizeof(a->keys[0].text), "p:%s|%.254s", addr, norm);
    a->keys[0].budget = l->pair_budget;
    snprintf(a->keys[1].text, sizeof(a->keys[1].text), "a:%s", addr);
    a->keys[1].budget = l->address_budget;
}

enum ap_err ap_login_begin(struct ap_login_attempt *a, const char *email, const char *peer,
                           int *retry_after_s)
{
    struct ap_login_limits l;
    struct ap_store *shared;
    struct ap_throttle *t = throttle(&l, &shared);
    int64_t wait = 0;
    attempt_keys(a, email, peer, &l);
    enum ap_err err =
        shared ? ap_throttle_db_take(shared, &db_cfg, a->keys, AP_COUNTOF(a->keys), &wait)
        : ap_throttle_take(t, a->keys, AP_COUNTOF(a->keys), &wait) ? AP_OK
                                                                   : AP_EBUSY;
    if (err == AP_EBUSY && retry_after_s)
        *retry_after_s = (int)((wait + AP_NS_PER_S - 1) / AP_NS_PER_S);
    if (err)
        return err == AP_EBUSY ? AP_EBUSY : AP_EUNAVAIL;
    a->open = true;
    if (retry_after_s)
        *retry_after_s = 0;
    return AP_OK;
}

/* Settles a's charges: a success clears the pair and refunds the address. */
static void attempt_settle(struct ap_login_attempt *a, enum ap_err result)
{
    struct ap_login_limits l;
    struct ap_store *shared;
    struct ap_throttle *t = throttle(&l, &shared);
    if (!a->open)
        return;
    a->open = false;
    if (result == AP_EPERM)
        return; /* a failure: both charges stand */
    enum ap_throttle_outcome pair = result == AP_OK ? AP_THROTTLE_CLEAR : AP_THROTTLE_REFUND;
    if (shared) {
        ap_throttle_db_settle(shared, &a->keys[0], pair);
        ap_throttle_db_settle(shared, &a->keys[1], AP_THROTTLE_REFUND);
        return;
    }
    ap_throttle_settle(t, &a->keys[0], pair);
    ap_throttle_settle(t, &a->keys[1], AP_THROTTLE_REFUND);
}

void ap_login_abandon(struct ap_login_attempt *a)
{
    attempt_settle(a, AP_EUNAVAIL);
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

/* The password check itself (the slow part); AP_OK, AP_EPERM or a store error. */
static enum ap_err check_password(struct ap_store *st, const char *email, const char *password,
                                  struct ap_user *user)
{
    char norm[256], hash[AP_CRYPTO_PWHASH_LEN] = "";
    struct ap_user u;
    enum ap_err err = AP_ENOTFOUND;
    bool shape_ok = ap_app_email_normalize(email, norm);
    if (shape_ok && password && strlen(password) <= AP_CRYPTO_PASSWORD_MAX)
        err = user_by_email(st, norm, &u, hash);
    if (err != AP_OK && err != AP_ENOTFOUND)
        return err; /* the store failed: not the user's fault */
    bool ok = false;
    if (err == AP_OK)
        ok = ap_crypto_password_verify(hash, password);
    else
        dummy_verify(password);
    if (ok) {
        maybe_rehash(st, &u, hash, password);
        *user = u;
    }
    ap_crypto_wipe(hash, sizeof(hash));
    return ok ? AP_OK : AP_EPERM;
}

enum ap_err ap_login_finish(struct ap_store *st, struct ap_login_attempt *a, const char *email,
                            const char *password, struct ap_user *user)
{
    enum ap_err err = check_password(st, email, password, user);
    attempt_settle(a, err);
    return err;
}

enum ap_err ap_login(struct ap_store *st, const char *email, const char *password, const char *peer,
                     struct ap_user *user, int *retry_after_s)
{
    struct ap_login_attempt a;
    enum ap_err err = ap_login_begin(&a, email, peer, retry_after_s);
    return err ? err : ap_login_finish(st, &a, email, password, user);
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

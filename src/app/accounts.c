/*
 * accounts.c — accounts (contractor companies), their users and the
 * permissions of their roles.
 *
 * Every query that touches an account's data is scoped by account_id in its
 * WHERE clause. Password hashing (argon2id, slow on purpose) happens before a
 * store connection is taken, so no connection is held while hashing. Login
 * and sessions live in sessions.c.
 */
#include "app/app.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/accounts_int.h"
#include "core/clock.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"

/* Most users ap_user_list() returns for one account. */
#define USERS_MAX 10000

static const char *const role_names[] = {"owner", "admin", "staff"};

enum ap_err ap_role_parse(const char *s, enum ap_role *out)
{
    for (int i = 0; s && i < 3; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum ap_role)i;
            return AP_OK;
        }
    }
    return AP_EINVAL;
}

const char *ap_role_name(enum ap_role r)
{
    return (unsigned)r < 3 ? role_names[r] : "unknown";
}

void ap_app_now(char out[32])
{
    ap_clock_format_utc(ap_clock_real_ns(), out);
}

/* ---- accounts ----------------------------------------------------------- */

static enum ap_err check_account_name(const char *name, char *err, size_t errlen)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 100) {
        snprintf(err, errlen, "an account name needs 1 to 100 characters");
        return AP_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(err, errlen, "an account name cannot hold control characters");
            return AP_EINVAL;
        }
    }
    if (isspace((unsigned char)name[0]) || isspace((unsigned char)name[n - 1])) {
        snprintf(err, errlen, "an account name cannot start or end with a space");
        return AP_EINVAL;
    }
    return AP_OK;
}

static enum ap_err insert_account(struct ap_db_conn *c, const char *name, struct ap_account *out)
{
    char now[32];
    ap_app_now(now);
    struct ap_db_val v[2] = {ap_db_text(name), ap_db_text(now)};
    int64_t id = 0;
    enum ap_err err = ap_db_query_int(
        c, "INSERT INTO accounts (name, created_at) VALUES (?, ?) RETURNING id", v, 2, &id);
    if (err)
        return err;
    /* owner and admin manage integrations and schedulers from the start (the seed's default) */
    static const char *const seeded[] = {"owner", "admin"};
    static const char *const perms[] = {AP_PERM_MANAGE_INTEGRATIONS, AP_PERM_MANAGE_SCHEDULERS};
    for (int i = 0; i < 4 && !err; i++) {
        struct ap_db_val p[3] = {ap_db_int(id), ap_db_text(seeded[i % 2]),
                                 ap_db_text(perms[i / 2])};
        err = ap_db_exec(c,
                         "INSERT INTO role_permissions (account_id, role, permission) "
                         "VALUES (?, ?, ?)",
                         p, 3);
    }
    if (!err && out) {
        out->id = id;
        snprintf(out->name, sizeof(out->name), "%s", name);
        snprintf(out->created_at, sizeof(out->created_at), "%s", now);
    }
    return err;
}

enum ap_err ap_account_create(struct ap_store *st, const char *name, struct ap_account *out,
                              char *err, size_t errlen)
{
    enum ap_err rc = check_account_name(name, err, errlen);
    if (rc)
        return rc;
    struct ap_db_conn *c = ap_store_acquire(st, true);
    if (!c) {
        snprintf(err, errlen, "the database cannot be used right now");
        return AP_EUNAVAIL;
    }
    rc = ap_db_begin(c);
    if (!rc)
        rc = insert_account(c, name, out);
    if (!rc)
        rc = ap_db_commit(c);
    if (rc == AP_ECONFLICT)
        snprintf(err, errlen, "an account named \"%s\" already exists", name);
    else if (rc)
        snprintf(err, errlen, "could not create the account: %s", ap_db_errmsg(c));
    ap_db_rollback(c);
    ap_store_release(c);
    return rc;
}

static enum ap_err account_query(struct ap_store *st, const char *sql, struct ap_db_val v,
                                 struct ap_account *out)
{
    struct ap_db_conn *c = ap_store_acquire(st, false);
    if (!c)
        return AP_EUNAVAIL;
    struct ap_db_rows *r = NULL;
    enum ap_err err = ap_db_query(c, sql, &v, 1, &r);
    bool found = false;
    if (!err && ap_db_next(r)) {
        found = true;
        out->id = ap_db_row_int(r, 0);
        snprintf(out->name, sizeof(out->name), "%s", ap_db_row_text(r, 1));
        snprintf(out->created_at, sizeof(out->created_at), "%s", ap_db_row_text(r, 2));
    }
    if (!err)
        err = ap_db_done(r);
    ap_store_release(c);
    if (!err && !found)
        err = AP_ENOTFOUND;
    return err;
}

enum ap_err ap_account_find(struct ap_store *st, const char *name, struct ap_account *out)
{
    if (!name || strlen(name) > 100)
        return AP_ENOTFOUND;
    return account_query(st, "SELECT id, name, created_at FROM accounts WHERE name = ?",
                         ap_db_text(name), out);
}

enum ap_err ap_account_get(struct ap_store *st, int64_t id, struct ap_account *out)
{
    return account_query(st, "SELECT id, name, created_at FROM accounts WHERE id = ?",
                         ap_db_int(id), out);
}

/* ---- users -------------------------------------------------------------- */

static bool domain_ok(const char *d)
{
    size_t n = strlen(d);
    if (n < 3 || n > 253 || !strchr(d, '.') || d[0] == '.' || d[0] == '-' || d[n - 1] == '.' ||
        d[n - 1] == '-' || strstr(d, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)d[i]) && !isdigit((unsigned char)d[i]) && d[i] != '-' &&
            d[i] != '.')
            return false;
    return true;
}

bool ap_app_email_normalize(const char *in, char out[256])
{
    size_t n = in ? strlen(in) : 0;
    if (n < 5 || n > 254)
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    char *at = strchr(out, '@');
    if (!at || at == out || at - out > 64 || strchr(at + 1, '@'))
        return false;
    for (const char *p = out; p < at; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>[\\]", c))
            return false;
    }
    return domain_ok(at + 1);
}

static enum ap_err check_password(const char *pw, char *err, size_t errlen)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n < AP_APP_PASSWORD_MIN) {
        snprintf(err, errlen, "a password needs at least %d characters", AP_APP_PASSWORD_MIN);
        return AP_EINVAL;
    }
    if (n > AP_CRYPTO_PASSWORD_MAX) {
        snprintf(err, errlen, "a password can have at most %d bytes", AP_CRYPTO_PASSWORD_MAX);
        return AP_EINVAL;
    }
    return AP_OK;
}

/* Checks email and password and hashes the password (slow; no connection held). */
static enum ap_err prepare_credentials(const char *email, const char *pw, char norm[256],
                                       char hash[AP_CRYPTO_PWHASH_LEN], char *err, size_t errlen)
{
    if (!ap_app_email_normalize(email, norm)) {
        snprintf(err, errlen, "\"%.254s\" is not a valid email address", email ? email : "");
        return AP_EINVAL;
    }
    enum ap_err rc = check_password(pw, err, errlen);
    if (rc)
        return rc;
    rc = ap_crypto_password_hash(pw, hash);
    if (rc)
        snprintf(err, errlen, "could not hash the password (%s)", ap_err_str(rc));
    return rc;
}

enum ap_err ap_user_add(struct ap_store *st, int64_t account_id, const char *email,
                        enum ap_role role, const char *password, struct ap_user *out, char *err,
                        size_t errlen)
{
    char norm[256], hash[AP_CRYPTO_PWHASH_LEN], now[32];
    struct ap_account acct;
    enum ap_err rc = prepare_credentials(email, password, norm, hash, err, errlen);
    if (rc)
        return rc;
    if ((unsigned)role > AP_ROLE_STAFF) {
        snprintf(err, errlen, "the role must be owner, admin or staff");
        return AP_EINVAL;
    }
    if ((rc = ap_account_get(st, account_id, &acct)) != AP_OK) {
        snprintf(err, errlen, rc == AP_ENOTFOUND ? "no such account" : "could not read accounts");
        return rc;
    }
    struct ap_db_conn *c = ap_store_acquire(st, true);
    if (!c) {
        snprintf(err, errlen, "the database cannot be used right now");
        return AP_EUNAVAIL;
    }
    ap_app_now(now);
    struct ap_db_val v[6] = {ap_db_int(account_id),          ap_db_text(norm), ap_db_text(hash),
                             ap_db_text(ap_role_name(role)), ap_db_text(now),  ap_db_text(now)};
    int64_t id = 0;
    rc = ap_db_query_int(c,
                         "INSERT INTO users (account_id, email, password_hash, role, created_at, "
                         "password_changed_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                         v, 6, &id);
    if (rc == AP_ECONFLICT)
        snprintf(err, errlen, "a user with the email %s already exists", norm);
    else if (rc)
        snprintf(err, errlen, "could not add the user: %s", ap_db_errmsg(c));
    ap_store_release(c);
    ap_crypto_wipe(hash, sizeof(hash));
    if (!rc && out)
        rc = ap_user_get(st, account_id, id, out);
    return rc;
}

enum ap_err ap_user_set_password(struct ap_store *st, const char *email, const char *password,
                                 char *err, size_t errlen)
{
    char norm[256], hash[AP_CRYPTO_PWHASH_LEN], now[32];
    enum ap_err rc = prepare_credentials(email, password, norm, hash, err, errlen);
    if (rc)
        return rc;
    struct ap_db_conn *c = ap_store_acquire(st, true);
    if (!c) {
        snprintf(err, errlen, "the database cannot be used right now");
        return AP_EUNAVAIL;
    }
    ap_app_now(now);
    struct ap_db_val v[3] = {ap_db_text(hash), ap_db_text(now), ap_db_text(norm)};
    rc = ap_db_begin(c);
    if (!rc)
        rc = ap_db_exec(
            c, "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE email = ?", v, 3);
    if (!rc && ap_db_changes(c) == 0)
        rc = AP_ENOTFOUND;
    /* a new password signs the user out everywhere */
    if (!rc)
        rc = ap_db_exec(
            c, "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE email = ?)",
            &v[2], 1);
    if (!rc)
        rc = ap_db_commit(c);
    if (rc == AP_ENOTFOUND)
        snprintf(err, errlen, "there is no user with the email %s", norm);
    else if (rc)
        snprintf(err, errlen, "could not set the password: %s", ap_db_errmsg(c));
    ap_db_rollback(c);
    ap_store_release(c);
    ap_crypto_wipe(hash, sizeof(hash));
    return rc;
}

enum ap_err ap_user_set_operator(struct ap_store *st, const char *email, bool on, char *err,
                                 size_t errlen)
{
    char norm[256];
    if (!ap_app_email_normalize(email, norm)) {
        snprintf(err, errlen, "\"%.254s\" is not a valid email address", email ? email : "");
        return AP_EINVAL;
    }
    struct ap_db_conn *c = ap_store_acquire(st, true);
    if (!c) {
        snprintf(err, errlen, "the database cannot be used right now");
        return AP_EUNAVAIL;
    }
    struct ap_db_val v[2] = {ap_db_int(on), ap_db_text(norm)};
    enum ap_err rc = ap_db_exec(c, "UPDATE users SET is_operator = ? WHERE email = ?", v, 2);
    if (!rc && ap_db_changes(c) == 0)
        rc = AP_ENOTFOUND;
    if (rc == AP_ENOTFOUND)
        snprintf(err, errlen, "there is no user with the email %s", norm);
    else if (rc)
        snprintf(err, errlen, "could not change the operator flag: %s", ap_db_errmsg(c));
    ap_store_release(c);
    return rc;
}

void ap_app_user_from_row(struct ap_db_rows *r, int col, struct ap_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = ap_db_row_int(r, col);
    u->account_id = ap_db_row_int(r, col + 1);
    snprintf(u->email, sizeof(u->email), "%s", ap_db_row_text(r, col + 2));
    if (ap_role_parse(ap_db_row_text(r, col + 3), &u->role) != AP_OK)
        u->role = AP_ROLE_STAFF; /* the schema's CHECK makes this unreachable */
    u->manage_integrations = ap_db_row_int(r, col + 4) != 0;
    u->operator= ap_db_row_int(r, col + 5) != 0;
    u->manage_schedulers = ap_db_row_int(r, col + 6) != 0;
}

enum ap_err ap_user_get(struct ap_store *st, int64_t account_id, int64_t user_id,
                        struct ap_user *out)
{
    struct ap_db_conn *c = ap_store_acquire(st, false);
    if (!c)
        return AP_EUNAVAIL;
    struct ap_db_val v[2] = {ap_db_int(account_id), ap_db_int(user_id)};
    struct ap_db_rows *r = NULL;
    bool found = false;
    enum ap_err err = ap_db_query(
        c, "SELECT " AP_APP_USER_COLS " FROM users u WHERE u.account_id = ? AND u.id = ?", v, 2,
        &r);
    if (!err && ap_db_next(r)) {
        found = true;
        ap_app_user_from_row(r, 0, out);
    }
    if (!err)
        err = ap_db_done(r);
    ap_store_release(c);
    return err ? err : found ? AP_OK : AP_ENOTFOUND;
}

enum ap_err ap_user_list(struct ap_store *st, int64_t account_id, bool with_operators,
                         struct ap_user **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    struct ap_db_conn *c = ap_store_acquire(st, false);
    if (!c)
        return AP_EUNAVAIL;
    struct ap_db_val v[2] = {ap_db_int(account_id), ap_db_int(with_operators)};
    struct ap_db_rows *r = NULL;
    size_t cap = 0;
    enum ap_err err =
        ap_db_query(c,
                    "SELECT " AP_APP_USER_COLS
                    " FROM users u WHERE u.account_id = ? AND (? = 1 OR u.is_operator = 0)"
                    " ORDER BY u.id LIMIT 10000",
                    v, 2, &r);
    while (!err && *n < USERS_MAX && ap_db_next(r)) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = ap_xrealloc(*out, cap * sizeof(**out));
        }
        ap_app_user_from_row(r, 0, &(*out)[(*n)++]);
    }
    if (!err)
        err = ap_db_done(r);
    ap_store_release(c);
    if (err) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return err;
}

/* ---- role permissions --------------------------------------------------- */

static bool permission_known(const char *p)
{
    return p && (strcmp(p, AP_PERM_MANAGE_INTEGRATIONS) == 0 ||
                 strcmp(p, AP_PERM_MANAGE_SCHEDULERS) == 0);
}

enum ap_err ap_role_permission_set(struct ap_store *st, int64_t account_id, enum ap_role role,
                                   const char *permission, bool granted, char *err, size_t errlen)
{
    struct ap_account acct;
    if (!permission_known(permission) || (unsigned)role > AP_ROLE_STAFF) {
        snprintf(err, errlen, "unknown permission or role");
        return AP_EINVAL;
    }
    if (role == AP_ROLE_OWNER && !granted) {
        snprintf(err, errlen, "the owner role always keeps the %s permission", permission);
        return AP_EPERM;
    }
    enum ap_err rc = ap_account_get(st, account_id, &acct);
    if (rc) {
        snprintf(err, errlen, rc == AP_ENOTFOUND ? "no such account" : "could not read accounts");
        return rc;
    }
    struct ap_db_conn *c = ap_store_acquire(st, true);
    if (!c) {
        snprintf(err, errlen, "the database cannot be used right now");
        return AP_EUNAVAIL;
    }
    struct ap_db_val v[3] = {ap_db_int(account_id), ap_db_text(ap_role_name(role)),
                             ap_db_text(permission)};
    if (granted)
        rc = ap_db_exec(c,
                        "INSERT INTO role_permissions (account_id, role, permission) VALUES (?, ?, "
                        "?) ON CONFLICT DO NOTHING",
                        v, 3);
    else
        rc = ap_db_exec(c,
                        "DELETE FROM role_permissions WHERE account_id = ? AND role = ? AND "
                        "permission = ?",
                        v, 3);
    if (rc)
        snprintf(err, errlen, "could not change the permission: %s", ap_db_errmsg(c));
    ap_store_release(c);
    return rc;
}

enum ap_err ap_role_permission_get(struct ap_store *st, int64_t account_id, enum ap_role role,
                                   const char *permission, bool *granted)
{
    *granted = false;
    if (role == AP_ROLE_OWNER) {
        *granted = permission_known(permission);
        return AP_OK;
    }
    struct ap_db_conn *c = ap_store_acquire(st, false);
    if (!c)
        return AP_EUNAVAIL;
    struct ap_db_val v[3] = {ap_db_int(account_id), ap_db_text(ap_role_name(role)),
                             ap_db_text(permission)};
    int64_t one = 0;
    enum ap_err err = ap_db_query_int(c,
                                      "SELECT 1 FROM role_permissions WHERE account_id = ? AND "
                                      "role = ? AND permission = ?",
                                      v, 3, &one);
    ap_store_release(c);
    if (err == AP_ENOTFOUND)
        return AP_OK;
    *granted = err == AP_OK;
    return err;
}

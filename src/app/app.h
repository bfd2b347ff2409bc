/*
 * app.h — accounts, users, roles and sessions: who may do what in the
 * dashboard's admin API and the CLI.
 *
 * An account is a contractor company. Its users have one role each: owner,
 * admin or staff. Permissions are granted to roles per account
 * (role_permissions); "manage_integrations" goes to owner and admin when the
 * account is created and an owner/admin may grant it to staff (mirroring
 * ServiceTitan's Role Permissions). Passwords are argon2id (crypto). Sessions
 * are random tokens in an HttpOnly SameSite=Strict cookie; only their hash is
 * stored; each session has a CSRF token that every state-changing admin
 * call must echo in the X-CSRF-Token header. Login is rate limited per email
 * and per client address.
 *
 * Every function that reads or writes account data takes the account id and
 * scopes its SQL by it: there is no query that can see another account.
 *
 * An operator is a user who runs appointd itself (not a contractor's role):
 * besides their own account they may see every account's connection state
 * (the dashboard's operator page). Only the CLI grants it.
 */
#ifndef AP_APP_APP_H
#define AP_APP_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct ap_store;

#define AP_PERM_MANAGE_INTEGRATIONS "manage_integrations"

enum ap_role { AP_ROLE_OWNER, AP_ROLE_ADMIN, AP_ROLE_STAFF };
enum ap_err ap_role_parse(const char *s, enum ap_role *out);
const char *ap_role_name(enum ap_role r);

struct ap_account {
    int64_t id;
    char name[128];
    char created_at[40];
};

struct ap_user {
    int64_t id;
    int64_t account_id;
    char email[256];
    enum ap_role role;
    bool manage_integrations; /* resolved from role_permissions */
    bool operator;            /* appointd's own staff: sees every account's state */
};

/* Accounts. Names are 1..100 printable characters, unique. */
enum ap_err ap_account_create(struct ap_store *st, const char *name, struct ap_account *out,
                              char *err, size_t errlen);
enum ap_err ap_account_find(struct ap_store *st, const char *name, struct ap_account *out);
enum ap_err ap_account_get(struct ap_store *st, int64_t id, struct ap_account *out);

/* Users. Emails are lowercased and checked for shape; passwords need 10..1024 bytes. */
enum ap_err ap_user_add(struct ap_store *st, int64_t account_id, const char *email,
                        enum ap_role role, const char *password, struct ap_user *out, char *err,
                        size_t errlen);
enum ap_err ap_user_set_password(struct ap_store *st, const char *email, const char *password,
                                 char *err, size_t errlen);
/*
 * Makes the user with email an operator (on) or not. AP_ENOTFOUND (message
 * in err) when no user has that email. Takes effect at once, also for the
 * user's open sessions.
 */
enum ap_err ap_user_set_operator(struct ap_store *st, const char *email, bool on, char *err,
                                 size_t errlen);
/* Looks the user up within the account only. */
enum ap_err ap_user_get(struct ap_store *st, int64_t account_id, int64_t user_id,
                        struct ap_user *out);
/* All users of an account (malloc'd array, caller frees). */
enum ap_err ap_user_list(struct ap_store *st, int64_t account_id, struct ap_user **out, size_t *n);
/* Grants or revokes a permission for a role of the account (owner keeps everything). */
enum ap_err ap_role_permission_set(struct ap_store *st, int64_t account_id, enum ap_role role,
                                   const char *permission, bool granted, char *err, size_t errlen);

/*
 * Checks email + password. AP_OK with *user; AP_EPERM for wrong credentials
 * (same answer for an unknown email, after the same work), AP_EBUSY when the
 * login rate limit for this email or peer is exhausted (*retry_after_s set).
 */
enum ap_err ap_login(struct ap_store *st, const char *email, const char *password, const char *peer,
                     struct ap_user *user, int *retry_after_s);

/*
 * Reads whether role holds permission in the account (owner: always).
 * AP_OK with *granted set; a store failure otherwise.
 */
enum ap_err ap_role_permission_get(struct ap_store *st, int64_t account_id, enum ap_role role,
                                   const char *permission, bool *granted);

/*
 * Login rate limit: at most per_15min failed attempts per email and per
 * peer address in a 15-minute window (fixed window from the first failure;
 * default 10). Counters live in memory (per process); a success clears the
 * email's counter, not the peer's. Call before serving.
 */
void ap_login_set_limit(int per_15min);
/* True (and *retry_after_s set) when ap_login() would answer AP_EBUSY now.
 * Cheap, no store access: for answering 429 before deferring slow work. */
bool ap_login_limited(const char *email, const char *peer, int *retry_after_s);

/* Sessions last 12 hours from sign-in (a fixed expiry, not sliding). */
#define AP_SESSION_TTL_S (12 * 3600)

/* A new session for user: token (cookie value) and csrf are malloc'd, caller frees. */
enum ap_err ap_session_create(struct ap_store *st, const struct ap_user *user, char **token,
                              char **csrf);
/*
 * ap_session_create() with a token the caller made (ap_crypto_token(32)):
 * the HTTP login names the cookie before the password check (on a worker)
 * finishes, because headers cannot be added to a deferred reply.
 */
enum ap_err ap_session_create_token(struct ap_store *st, const struct ap_user *user,
                                    const char *token, char **csrf);
/* The session's user and csrf token (csrf_out: 64 bytes); AP_ENOTFOUND when unknown or expired. */
enum ap_err ap_session_get(struct ap_store *st, const char *token, struct ap_user *user,
                           char csrf_out[64]);
enum ap_err ap_session_delete(struct ap_store *st, const char *token);

#endif

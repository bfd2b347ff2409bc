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
 * call must echo in the X-CSRF-Token header. Login attempts are throttled
 * per (client address, email) and per client address, never per email alone.
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
/* Creating, editing and pausing schedulers; refreshing the catalog. */
#define AP_PERM_MANAGE_SCHEDULERS "manage_schedulers"

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
    bool manage_schedulers;
    bool operator; /* appointd's own staff: sees every account's state */
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
/*
 * The users of an account (malloc'd array, caller frees), in id order.
 * Operators (appointd's own staff, who may hold a user in a contractor's
 * account) are left out unless with_operators: a contractor's user list
 * shows the contractor's people only.
 */
enum ap_err ap_user_list(struct ap_store *st, int64_t account_id, bool with_operators,
                         struct ap_user **out, size_t *n);
/* Grants or revokes a permission for a role of the account (owner keeps everything). */
enum ap_err ap_role_permission_set(struct ap_store *st, int64_t account_id, enum ap_role role,
                                   const char *permission, bool granted, char *err, size_t errlen);

/*
 * Reads whether role holds permission in the account (owner: always).
 * AP_OK with *granted set; a store failure otherwise.
 */
enum ap_err ap_role_permission_get(struct ap_store *st, int64_t account_id, enum ap_role role,
                                   const char *permission, bool *granted);

/* ---- login and its throttle ---------------------------------------------- */

#define AP_LOGIN_PAIR_BUDGET      10    /* failures per (address, email) before backoff */
#define AP_LOGIN_ADDRESS_BUDGET   100   /* failures per address, any email, before backoff */
#define AP_LOGIN_THROTTLE_ENTRIES 65536 /* keys the throttle remembers */

/*
 * The login throttle's settings (0 fields take the defaults above). Failed
 * attempts are counted per (client address, email) and per client address
 * (an IPv6 client by its /64); past a budget each further attempt waits a
 * backoff doubling from 30 s to at most 15 min; a key idle for 15 min after
 * its backoff is forgotten. Counters live in memory, per process, in a table
 * of `entries` keys that a flood cannot empty (see app/throttle.h). Call
 * before serving; calling again starts from an empty table (tests).
 */
struct ap_login_limits {
    int pair_budget;
    int address_budget;
    size_t entries;
};
void ap_login_configure(const struct ap_login_limits *limits);
/* Several appointd on one PostgreSQL: the throttle's counters are kept in st (shared by them;
 * app/throttle_db.c) instead of this process's memory. Before serving. */
void ap_login_share(struct ap_store *st);

#include "app/throttle.h"

/* One login attempt between ap_login_begin() and its settling. */
struct ap_login_attempt {
    struct ap_throttle_key keys[2]; /* (address, email), address */
    bool open;                      /* charged and not yet settled */
};

/*
 * Starts an attempt for email from peer (ap_http_peer()): charges it to the
 * throttle before any hashing, so concurrent attempts count. AP_OK,
 * AP_EUNAVAIL when a shared throttle's store cannot be reached, or
 * AP_EBUSY with *retry_after_s (>= 1) when the pair or the address must
 * wait. Cheap: no store access, or with a shared throttle (ap_login_share)
 * one short transaction, as the admin routes' session reads; call it on the
 * loop thread. Every AP_OK
 * must be followed by exactly one ap_login_finish() or ap_login_abandon().
 */
enum ap_err ap_login_begin(struct ap_login_attempt *a, const char *email, const char *peer,
                           int *retry_after_s);
/*
 * Checks email + password (argon2id: slow, run it on a worker) and settles
 * the attempt. AP_OK with *user (the pair's failures are forgotten, the
 * attempt does not count against the address); AP_EPERM for wrong
 * credentials — the same answer, after the same work, for an unknown email
 * (the attempt counts); a store error otherwise (it does not count).
 */
enum ap_err ap_login_finish(struct ap_store *st, struct ap_login_attempt *a, const char *email,
                            const char *password, struct ap_user *user);
/* Settles a begun attempt that never reached the password check: it does not count. */
void ap_login_abandon(struct ap_login_attempt *a);
/* ap_login_begin() then ap_login_finish(): AP_EBUSY, AP_EPERM, AP_OK or a store error. */
enum ap_err ap_login(struct ap_store *st, const char *email, const char *password, const char *peer,
                     struct ap_user *user, int *retry_after_s);

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

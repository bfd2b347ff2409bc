/*
 * accounts_int.h — private to accounts.c and sessions.c: helpers both share.
 */
#ifndef AP_APP_ACCOUNTS_INT_H
#define AP_APP_ACCOUNTS_INT_H

#include <stdbool.h>

#include "app/app.h"

struct ap_db_rows;

/* Shortest password accepted, in bytes. */
#define AP_APP_PASSWORD_MIN 10

/* The AP_APP_USER_NCOLS columns ap_app_user_from_row() reads, from "users u";
 * the owner role holds every permission whatever role_permissions says. */
#define AP_APP_USER_COLS                                                                           \
    "u.id, u.account_id, u.email, u.role, (u.role = 'owner' OR EXISTS (SELECT 1 FROM "             \
    "role_permissions rp WHERE rp.account_id = u.account_id AND rp.role = u.role AND "             \
    "rp.permission = '" AP_PERM_MANAGE_INTEGRATIONS "')), u.is_operator, (u.role = 'owner' OR "    \
    "EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.account_id = u.account_id AND rp.role = "  \
    "u.role AND rp.permission = '" AP_PERM_MANAGE_SCHEDULERS "'))"
#define AP_APP_USER_NCOLS 7

/* Now as RFC 3339 UTC with milliseconds (fixed width, so text order is time order). */
void ap_app_now(char out[32]);
/* Lowercases in into out and checks its shape (local@domain.tld); false if bad. */
bool ap_app_email_normalize(const char *in, char out[256]);
/* Fills u from AP_APP_USER_COLS starting at column col. */
void ap_app_user_from_row(struct ap_db_rows *r, int col, struct ap_user *u);

#endif

/*
 * fms_conn.h — an account's ServiceTitan connection as the booking half
 * uses it: the tenant, the Client ID and the opened Client Secret, ready for
 * the titan client. Only connected (or needs_attention, which may still
 * work) accounts have one.
 */
#ifndef AP_APP_FMS_CONN_H
#define AP_APP_FMS_CONN_H

#include <stdint.h>

#include "app/fms.h"
#include "titan/titan.h"

struct ap_fms_conn {
    enum ap_fms_state state;
    int64_t tenant_id;
    char *client_id;
    char *secret;                /* wiped by ap_fms_conn_cleanup() */
    struct ap_titan_creds creds; /* borrows the strings above */
};

/*
 * Opens the account's connection. AP_ENOTFOUND when the account is not
 * connected (no Client ID and Secret saved), AP_ECORRUPT when the sealed
 * secret does not open (the master key changed), AP_EUNAVAIL when the store
 * fails. On success clean it up with ap_fms_conn_cleanup().
 */
enum ap_err ap_fms_conn_open(struct ap_fms *f, int64_t account_id, struct ap_fms_conn *out);
void ap_fms_conn_cleanup(struct ap_fms_conn *c);

#endif

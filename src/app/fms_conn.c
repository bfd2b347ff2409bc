/*
 * fms_conn.c — an account's connection opened for ServiceTitan calls. See
 * fms_conn.h.
 */
#include "app/fms_conn.h"

#include <stdlib.h>
#include <string.h>

#include "app/fms_int.h"
#include "core/mem.h"
#include "crypto/crypto.h"

enum ap_err ap_fms_conn_open(struct ap_fms *f, int64_t account_id, struct ap_fms_conn *out)
{
    struct fms_row row = {0};
    enum ap_err err;

    memset(out, 0, sizeof(*out));
    if ((err = ap_fms_row_load(f, account_id, &row)))
        return err;
    if (!row.exists || !row.client_id || !row.secret_sealed ||
        (row.state != AP_FMS_CONNECTED && row.state != AP_FMS_NEEDS_ATTENTION)) {
        err = AP_ENOTFOUND;
        goto out;
    }
    if ((err = ap_fms_open_secret(f, account_id, &row, &out->secret))) {
        err = err == AP_EUNAVAIL ? err : AP_ECORRUPT;
        goto out;
    }
    out->state = row.state;
    out->tenant_id = row.tenant_id;
    out->client_id = ap_xstrdup(row.client_id);
    out->creds = (struct ap_titan_creds){out->tenant_id, out->client_id, out->secret};
out:
    ap_fms_row_cleanup(&row);
    return err;
}

void ap_fms_conn_cleanup(struct ap_fms_conn *c)
{
    if (!c)
        return;
    if (c->secret)
        ap_crypto_wipe(c->secret, strlen(c->secret));
    free(c->secret);
    free(c->client_id);
    memset(c, 0, sizeof(*c));
}

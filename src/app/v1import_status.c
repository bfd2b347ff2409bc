/*
 * v1import_status.c — `appointd migration-status` and the operator page's
 * list: every account with its connection state (the states named by
 * ap_fms_state_name()), how many accounts are in each state, and whether a
 * sealed V1 key is still held, so that the operator can see who has yet to
 * move from the V1 integration to V2. Read-only; never a key, sealed or not.
 */
#include "app/fms_int.h"

#include "core/log.h"
#include "db/store.h"

static void status_row(struct ap_db_rows *r, json_t *counts, json_t *list)
{
    const char *state = ap_db_row_is_null(r, 2) ? "none" : ap_db_row_text(r, 2);
    bool has_tenant = !ap_db_row_is_null(r, 3);
    json_t *a = json_object();
    json_object_set_new(a, "account", json_string(ap_db_row_text(r, 1)));
    json_object_set_new(a, "accountId", json_integer(ap_db_row_int(r, 0)));
    json_object_set_new(a, "state", json_string(state));
    json_object_set_new(a, "tenantId",
                        has_tenant ? json_integer(ap_db_row_int(r, 3)) : json_null());
    json_object_set_new(a, "tenantConfirmed", json_boolean(has_tenant && ap_db_row_int(r, 4)));
    json_object_set_new(a, "connectedAt",
                        ap_db_row_is_null(r, 5) ? json_null() : json_string(ap_db_row_text(r, 5)));
    json_object_set_new(a, "v1KeyStored", json_boolean(ap_db_row_int(r, 6) != 0));
    json_array_append_new(list, a);
    json_t *cnt = json_object_get(counts, state);
    if (cnt)
        json_integer_set(cnt, json_integer_value(cnt) + 1);
}

json_t *ap_fms_migration_status(struct ap_store *st)
{
    struct ap_db_rows *r = NULL;
    json_t *counts = json_object(), *list = json_array(), *out = NULL;
    /* every state: past the last one, ap_fms_state_name() says "none" again */
    for (enum ap_fms_state s = AP_FMS_NONE; ap_fms_state_parse(ap_fms_state_name(s)) == s; s++)
        json_object_set_new(counts, ap_fms_state_name(s), json_integer(0));
    struct ap_db_conn *c = ap_store_acquire(st, false);
    enum ap_err err = c ? AP_OK : AP_EUNAVAIL;
    if (!err)
        err = ap_db_query(c,
                          "SELECT a.id, a.name, f.state, f.tenant_id, f.tenant_confirmed, "
                          "f.connected_at, f.v1_key_sealed IS NOT NULL FROM accounts a "
                          "LEFT JOIN fms_connections f ON f.account_id = a.id "
                          "ORDER BY a.name, a.id",
                          NULL, 0, &r);
    if (!err) {
        while (ap_db_next(r))
            status_row(r, counts, list);
        err = ap_db_done(r);
    }
    if (err) {
        ap_log_error("fms.migration_status", "err=%s msg=\"%s\"", ap_err_str(err),
                     c ? ap_db_errmsg(c) : "no read connection");
    } else {
        out = json_object();
        json_object_set(out, "counts", counts);
        json_object_set(out, "accounts", list);
    }
    ap_store_release(c);
    json_decref(counts);
    json_decref(list);
    return out;
}

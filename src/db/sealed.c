/*
 * sealed.c — where appointd's schema keeps values sealed with the master key,
 * and how many there are. Backend-neutral.
 *
 * A lost master key makes every sealed value unreadable, so a new key may be
 * created only for a database that holds none (src/cli/cli.c asks here). Keep
 * the list in step with src/db/migrations.c: a sealed column is named
 * "*_sealed", and tests/unit/db checks that every such column is listed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/mem.h"
#include "db/store.h"

const struct ap_db_sealed_col ap_db_sealed_cols[] = {
    {"fms_connections", "secret_sealed"}, /* ServiceTitan client secrets */
    {"fms_connections", "v1_key_sealed"}, /* V1 API keys until V2 connects */
    {"st_tokens", "token_sealed"},        /* ServiceTitan access tokens shared by instances */
};
const size_t ap_db_nsealed_cols = sizeof(ap_db_sealed_cols) / sizeof(ap_db_sealed_cols[0]);

enum ap_err ap_store_count_sealed(struct ap_store *s, int64_t *out, char *err, size_t errlen)
{
    struct ap_db_conn *c = ap_store_acquire(s, false);
    enum ap_err e = AP_OK;
    int64_t total = 0;

    *out = 0;
    if (c == NULL) {
        snprintf(err, errlen, "database %s cannot be opened for reading (see the log)",
                 ap_store_path(s));
        return AP_EUNAVAIL;
    }
    for (size_t i = 0; e == AP_OK && i < ap_db_nsealed_cols; i++) {
        /* Names from the constant table above, never from input. */
        char *sql = ap_xasprintf("SELECT count(*) FROM %s WHERE %s IS NOT NULL",
                                 ap_db_sealed_cols[i].table, ap_db_sealed_cols[i].column);
        int64_t n = 0;

        e = ap_db_query_int(c, sql, NULL, 0, &n);
        if (e != AP_OK)
            snprintf(err, errlen, "database %s: cannot count sealed secrets: %s", ap_store_path(s),
                     ap_db_errmsg(c));
        total += n;
        free(sql);
    }
    ap_store_release(c);
    if (e == AP_OK)
        *out = total;
    return e;
}

/*
 * tables.c — appointd's tables, each after those it references, with their
 * primary keys: what ap_store_copy() copies, in that order. Backend-neutral.
 *
 * Keep it in step with src/db/migrations.c: a table added there is added
 * here; tests/unit/db checks the list against the migrated schema. The
 * store's own tables (schema_migrations, store_probe) are not listed: each
 * store keeps its own.
 */
#include "core/defs.h"
#include "db/store.h"

const struct ap_db_table ap_db_tables[] = {
    {"meta", "key", NULL},
    {"accounts", "id", "id"},
    {"users", "id", "id"},
    {"role_permissions", "account_id, role, permission", NULL},
    {"sessions", "token_hash", NULL},
    {"fms_connections", "account_id", NULL},
    {"st_catalog", "account_id, kind, st_id", NULL},
    {"st_catalog_state", "account_id, kind", NULL},
    {"schedulers", "id", "id"},
    {"bookings", "id", "id"},
    {"booking_calls", "id", "id"},
    {"idempotency_keys", "scheduler_id, key", NULL},
    {"instances", "id", NULL},
    {"leases", "name", NULL},
    {"st_tokens", "tenant_id, client_id", NULL},
    {"login_throttle", "key", NULL},
};
const size_t ap_db_ntables = AP_COUNTOF(ap_db_tables);

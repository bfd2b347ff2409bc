/*
 * db_int.h — what the backend-neutral parts of src/db (migrations, the
 * writer, statement names) need from a backend beyond store.h, and what they
 * share. Private to src/db.
 */
#ifndef AP_DB_DB_INT_H
#define AP_DB_DB_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "db/store.h"

/* True when table exists in c's database; false when not or on error (the
 * query that follows then reports the error). */
bool ap_db_table_exists(struct ap_db_conn *c, const char *table);

/*
 * Makes commits on the write connection c durable against power loss (on:
 * each commit waits for the disk) or returns them to the store's default
 * (off: durable at the next checkpoint; never corrupt). Outside a transaction
 * only. For the writer's batches, which answer callers only once durable.
 */
enum ap_err ap_db_conn_set_durable(struct ap_db_conn *c, bool on);

/* Longest statement name, terminator included. */
#define AP_DB_STMT_NAME_MAX 64

/*
 * A short stable name for sql, for logs: the verb and the first table it
 * names, lowercased ("insert.sessions", "select.users", "update.fms_connections",
 * "pragma.journal_mode"), or the verb alone ("begin", "commit"). Written into
 * out (n bytes, at least 1). Returns out.
 */
char *ap_db_stmt_name(const char *sql, char *out, size_t n);

#endif

/*
 * db_int.h — what the backend-neutral parts of src/db (migrations) need from
 * a backend beyond store.h. Private to src/db.
 */
#ifndef AP_DB_DB_INT_H
#define AP_DB_DB_INT_H

#include <stdbool.h>

#include "db/store.h"

/* True when table exists in c's database; false when not or on error (the
 * query that follows then reports the error). */
bool ap_db_table_exists(struct ap_db_conn *c, const char *table);

#endif

/*
 * migrations.c — appointd's schema, one migration per change, never edited
 * once released: a change to the schema is a new entry at the end.
 *
 * The SQL is written in the subset SQLite and PostgreSQL share.
 */
#include "db/store.h"

const struct ap_migration ap_db_migrations[] = {
    {1, "meta",
     "CREATE TABLE meta (\n"
     "  key   TEXT PRIMARY KEY,\n"
     "  value TEXT NOT NULL\n"
     ");\n"
     "INSERT INTO meta (key, value) VALUES ('created_at', CURRENT_TIMESTAMP);\n"},
};

const size_t ap_db_nmigrations = sizeof(ap_db_migrations) / sizeof(ap_db_migrations[0]);

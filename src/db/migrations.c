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
    {2, "accounts_users_fms",
     "CREATE TABLE accounts (\n"
     "  id         INTEGER PRIMARY KEY,\n"
     "  name       TEXT NOT NULL UNIQUE,\n"
     "  created_at TEXT NOT NULL\n"
     ");\n"
     "CREATE TABLE users (\n"
     "  id            INTEGER PRIMARY KEY,\n"
     "  account_id    INTEGER NOT NULL REFERENCES accounts (id),\n"
     "  email         TEXT NOT NULL UNIQUE,\n" /* stored lowercased */
     "  password_hash TEXT NOT NULL,\n"
     "  role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'staff')),\n"
     "  created_at    TEXT NOT NULL,\n"
     "  password_changed_at TEXT NOT NULL\n"
     ");\n"
     "CREATE INDEX users_account ON users (account_id);\n"
     /* a permission granted to a role within an account ("manage_integrations") */
     "CREATE TABLE role_permissions (\n"
     "  account_id INTEGER NOT NULL REFERENCES accounts (id),\n"
     "  role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'staff')),\n"
     "  permission TEXT NOT NULL,\n"
     "  PRIMARY KEY (account_id, role, permission)\n"
     ");\n"
     /* the cookie holds a random token; only its hash is stored */
     "CREATE TABLE sessions (\n"
     "  token_hash TEXT PRIMARY KEY,\n"
     "  user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
     "  csrf_token TEXT NOT NULL,\n"
     "  created_at TEXT NOT NULL,\n"
     "  expires_at TEXT NOT NULL\n"
     ");\n"
     "CREATE INDEX sessions_user ON sessions (user_id);\n"
     /* one ServiceTitan connection per account; every scheduler uses it */
     "CREATE TABLE fms_connections (\n"
     "  account_id     INTEGER PRIMARY KEY REFERENCES accounts (id),\n"
     "  state          TEXT NOT NULL CHECK (state IN ('none', 'tenant_set', "
     "'awaiting_app_access', 'connected', 'needs_attention', 'v1_migration_required')),\n"
     "  environment    TEXT NOT NULL,\n"
     "  tenant_id      INTEGER,\n"
     "  tenant_confirmed INTEGER NOT NULL DEFAULT 1,\n"
     "  client_id      TEXT,\n"
     "  secret_sealed  TEXT,\n" /* ap_crypto_seal, context fms.client_secret:acct=<id> */
     "  secret_last4   TEXT,\n"
     "  granted_scopes TEXT,\n" /* space-separated */
     "  missing_scopes TEXT,\n"
     "  connected_at   TEXT,\n"
     "  last_success_at TEXT,\n"
     "  last_checked_at TEXT,\n"
     "  attention_reason TEXT,\n"
     "  v1_key_sealed  TEXT,\n" /* context fms.v1_key:acct=<id>; wiped once V2 connects */
     "  updated_at     TEXT NOT NULL\n"
     ");\n"},
    /* appointd's own staff: may see every account's connection state (the operator page) */
    {3, "users_operator", "ALTER TABLE users ADD COLUMN is_operator INTEGER NOT NULL DEFAULT 0;\n"},
    /* the ServiceTitan catalog of each account, and the schedulers set up from it */
    {4, "catalog_schedulers",
     "CREATE TABLE st_catalog (\n"
     "  account_id   INTEGER NOT NULL REFERENCES accounts (id),\n"
     "  kind         TEXT NOT NULL,\n" /* business_unit, job_type, ... (catalog.c) */
     "  st_id        INTEGER NOT NULL,\n"
     "  name         TEXT NOT NULL,\n"
     "  active       INTEGER NOT NULL,\n"
     "  deleted      INTEGER NOT NULL DEFAULT 0,\n" /* no longer returned by ServiceTitan */
     "  data         TEXT NOT NULL,\n"              /* ServiceTitan's row, JSON */
     "  refreshed_at TEXT NOT NULL,\n"
     "  PRIMARY KEY (account_id, kind, st_id)\n"
     ");\n"
     "CREATE TABLE st_catalog_state (\n"
     "  account_id   INTEGER NOT NULL REFERENCES accounts (id),\n"
     "  kind         TEXT NOT NULL,\n"
     "  refreshed_at TEXT,\n" /* last successful read */
     "  error        TEXT,\n" /* last failure, NULL after a success */
     "  PRIMARY KEY (account_id, kind)\n"
     ");\n"
     "CREATE TABLE schedulers (\n"
     "  id         INTEGER PRIMARY KEY,\n"
     "  account_id INTEGER NOT NULL REFERENCES accounts (id),\n"
     "  key        TEXT NOT NULL UNIQUE,\n" /* public: sits in a website */
     "  name       TEXT NOT NULL,\n"
     "  config     TEXT NOT NULL,\n" /* the scheduler JSON, normalised */
     "  paused     INTEGER NOT NULL DEFAULT 0,\n"
     "  created_at TEXT NOT NULL,\n"
     "  updated_at TEXT NOT NULL\n"
     ");\n"
     "CREATE INDEX schedulers_account ON schedulers (account_id);\n"
     /* owner and admin manage schedulers from the start, as they manage integrations */
     "INSERT INTO role_permissions (account_id, role, permission) SELECT id, 'owner', "
     "'manage_schedulers' FROM accounts;\n"
     "INSERT INTO role_permissions (account_id, role, permission) SELECT id, 'admin', "
     "'manage_schedulers' FROM accounts;\n"},
    /* bookings, their ServiceTitan call log, and the widget's idempotency keys */
    {5, "bookings",
     "CREATE TABLE bookings (\n"
     "  id            INTEGER PRIMARY KEY,\n"
     "  reference     TEXT NOT NULL UNIQUE,\n" /* the homeowner's handle: unguessable */
     "  account_id    INTEGER NOT NULL REFERENCES accounts (id),\n"
     "  scheduler_id  INTEGER NOT NULL REFERENCES schedulers (id),\n"
     "  state         TEXT NOT NULL CHECK (state IN ('accepted', 'pushing', 'booked', "
     "'needs_attention', 'parked', 'canceled')),\n"
     "  mode          TEXT NOT NULL CHECK (mode IN ('job', 'booking')),\n"
     "  service_id    TEXT NOT NULL,\n"
     "  tenant_id     INTEGER NOT NULL,\n"
     "  business_unit_id INTEGER NOT NULL,\n"
     "  job_type_id   INTEGER NOT NULL,\n"
     "  campaign_id   INTEGER NOT NULL,\n"
     "  window_start  INTEGER NOT NULL,\n" /* UTC ns */
     "  window_end    INTEGER NOT NULL,\n"
     "  hold          INTEGER NOT NULL,\n" /* what it takes from its window: seconds (local: 1) */
     "  request       TEXT NOT NULL,\n"    /* the normalised request, JSON */
     "  name          TEXT NOT NULL,\n"    /* the homeowner's, for search */
     "  phone         TEXT NOT NULL,\n"    /* E.164, for search */
     "  summary       TEXT NOT NULL,\n"
     "  created_at    TEXT NOT NULL,\n"
     "  updated_at    TEXT NOT NULL,\n"
     "  attempts      INTEGER NOT NULL DEFAULT 0,\n"
     "  next_attempt  INTEGER NOT NULL DEFAULT 0,\n" /* UTC ns */
     "  lease_until   INTEGER NOT NULL DEFAULT 0,\n"
     "  lease_owner   TEXT,\n"
     "  pushed_at     INTEGER,\n" /* UTC ns it reached ServiceTitan */
     "  st_customer_id INTEGER, st_location_id INTEGER, st_job_id INTEGER,\n"
     "  st_appointment_id INTEGER, st_booking_id INTEGER,\n"
     "  last_error    TEXT,\n" /* JSON: title, fields, traceId, status */
     "  resolved_note TEXT\n"
     ");\n"
     "CREATE INDEX bookings_due ON bookings (state, next_attempt);\n"
     "CREATE INDEX bookings_account ON bookings (account_id, created_at);\n"
     "CREATE INDEX bookings_window ON bookings (tenant_id, business_unit_id, window_start);\n"
     "CREATE TABLE booking_calls (\n"
     "  id          INTEGER PRIMARY KEY,\n"
     "  booking_id  INTEGER NOT NULL REFERENCES bookings (id),\n"
     "  at          TEXT NOT NULL,\n"
     "  method      TEXT NOT NULL,\n"
     "  path        TEXT NOT NULL,\n"    /* no query: it may hold a phone number */
     "  status      INTEGER NOT NULL,\n" /* 0: no answer */
     "  outcome     TEXT NOT NULL,\n"
     "  trace_id    TEXT,\n"
     "  title       TEXT,\n"
     "  fields      TEXT,\n"
     "  created_ids TEXT,\n"
     "  duration_ms INTEGER NOT NULL\n"
     ");\n"
     "CREATE INDEX booking_calls_booking ON booking_calls (booking_id, id);\n"
     "CREATE TABLE idempotency_keys (\n"
     "  scheduler_id INTEGER NOT NULL REFERENCES schedulers (id),\n"
     "  key          TEXT NOT NULL,\n"
     "  body_hash    TEXT NOT NULL,\n"
     "  booking_id   INTEGER NOT NULL REFERENCES bookings (id),\n"
     "  created_at   TEXT NOT NULL,\n"
     "  PRIMARY KEY (scheduler_id, key)\n"
     ");\n"},
    /* the push takes each account's due bookings in order without walking other accounts';
     * a local-capacity booking counts its window's bookings without walking the table */
    {6, "bookings_push_and_local_windows",
     "CREATE INDEX bookings_account_due ON bookings (account_id, state, next_attempt);\n"
     "CREATE INDEX bookings_scheduler_window ON bookings (scheduler_id, window_start);\n"},
    /* the acceptance counts what a window's bookings hold from the index alone: the table rows
     * of a busy window are never read on the writer thread */
    {7, "bookings_window_holds_covered",
     "CREATE INDEX bookings_window_holds ON bookings (tenant_id, business_unit_id, window_start, "
     "state, pushed_at, hold);\n"
     "DROP INDEX bookings_window;\n"
     "CREATE INDEX bookings_scheduler_window_state ON bookings (scheduler_id, window_start, "
     "state);\n"
     "DROP INDEX bookings_scheduler_window;\n"},
    /* the holds ledger, read every few seconds, follows the bookings that still hold capacity
     * (unpushed, pushed lately, or a window ahead) instead of scanning every booking ever taken */
    {8, "bookings_ledger",
     "CREATE INDEX bookings_pushed ON bookings (state, pushed_at);\n"
     "CREATE INDEX bookings_window_start ON bookings (window_start);\n"},
    /* several appointd on one database (PostgreSQL; the tables exist on SQLite too, unused):
     * the live instances and the leader's lease (src/app/cluster.c), and each ServiceTitan
     * token shared by them, sealed, with the claim of its one fetch in flight
     * (src/app/st_tokens.c); the login throttle's attempts (src/app/throttle_db.c, keyed by
     * a hash of the address and email). Times are ms of the database's clock, except
     * expires_at (wall ns of the instance that fetched the token) */
    {9, "instances_and_shared_tokens",
     "CREATE TABLE instances (\n"
     "  id         TEXT PRIMARY KEY,\n"
     "  started_at INTEGER NOT NULL,\n"
     "  seen_at    INTEGER NOT NULL\n"
     ");\n"
     "CREATE TABLE leases (\n"
     "  name     TEXT PRIMARY KEY,\n"
     "  owner    TEXT NOT NULL,\n"
     "  until_ms INTEGER NOT NULL\n"
     ");\n"
     "CREATE TABLE st_tokens (\n"
     "  tenant_id    INTEGER NOT NULL,\n"
     "  client_id    TEXT NOT NULL,\n"
     "  token_sealed TEXT,\n"
     "  expires_at   INTEGER NOT NULL DEFAULT 0,\n"
     "  gen          INTEGER NOT NULL DEFAULT 0,\n"
     "  fetch_owner  TEXT,\n"
     "  fetch_until  INTEGER NOT NULL DEFAULT 0,\n"
     "  PRIMARY KEY (tenant_id, client_id)\n"
     ");\n"
     "CREATE TABLE login_throttle (\n"
     "  key      TEXT PRIMARY KEY,\n"
     "  n        INTEGER NOT NULL,\n"
     "  last_ms  INTEGER NOT NULL,\n"
     "  next_ms  INTEGER NOT NULL\n"
     ");\n"},
};

const size_t ap_db_nmigrations = sizeof(ap_db_migrations) / sizeof(ap_db_migrations[0]);

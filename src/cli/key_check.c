/*
 * key_check.c — one master key per database. The database keeps a check of
 * the key its secrets are sealed with: meta row "master_key_check", a
 * constant sealed under that key. A process whose key does not open it is
 * refused before it seals anything — which matters most on PostgreSQL,
 * where several appointd share a database and each reads its key from its
 * own machine: a second one that made a key of its own would seal secrets
 * the others cannot read.
 *
 * The first process to open a database with a key records the check (the
 * row is inserted only if missing, then read back, so of two processes
 * starting at once with different keys one wins and the other is refused).
 * On SQLite, where one server owns the data dir, a new key made for a
 * database that holds nothing sealed (see ap_open_key) replaces the check,
 * as before; on PostgreSQL it is refused, since other processes may be
 * using the old key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "db/store.h"

#define CHECK_KEY     "master_key_check"
#define CHECK_CONTEXT "meta.master_key_check"
#define CHECK_PLAIN   "appointd master key"

/* The recorded check into out ("" when none). */
static enum ap_err read_check(struct ap_store *store, char *out, size_t n)
{
    struct ap_db_conn *c = ap_store_acquire(store, false);
    struct ap_db_rows *r = NULL;
    enum ap_err err = c ? AP_OK : AP_EUNAVAIL;

    out[0] = '\0';
    if (!err)
        err = ap_db_query(c, "SELECT value FROM meta WHERE key = '" CHECK_KEY "'", NULL, 0, &r);
    if (!err && ap_db_next(r))
        snprintf(out, n, "%s", ap_db_row_text(r, 0));
    if (!err)
        err = ap_db_done(r);
    ap_store_release(c);
    return err;
}

/* Records key's check: inserted when missing (replace false) or replacing. */
static enum ap_err write_check(struct ap_store *store, const struct ap_crypto_key *key,
                               bool replace)
{
    char *text = NULL;
    enum ap_err err = ap_crypto_seal(key, CHECK_PLAIN, strlen(CHECK_PLAIN), CHECK_CONTEXT, &text);
    if (err)
        return err;
    struct ap_db_conn *c = ap_store_acquire(store, true);
    struct ap_db_val v = ap_db_text(text);
    err = ap_db_exec(c,
                     replace ? "INSERT INTO meta (key, value) VALUES ('" CHECK_KEY
                               "', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                             : "INSERT INTO meta (key, value) VALUES ('" CHECK_KEY
                               "', ?) ON CONFLICT (key) DO NOTHING",
                     &v, 1);
    ap_store_release(c);
    free(text);
    return err;
}

static bool opens(const struct ap_crypto_key *key, const char *check)
{
    void *plain = NULL;
    size_t n = 0;
    bool ok = ap_crypto_open(key, check, CHECK_CONTEXT, &plain, &n) == AP_OK;
    ap_crypto_wipe(plain, n);
    free(plain);
    return ok;
}

enum ap_err ap_key_check(struct ap_store *store, const struct ap_crypto_key *key, const char *path,
                         char *err, size_t errlen)
{
    char check[512];
    int64_t sealed = 0;
    if (read_check(store, check, sizeof(check)) != AP_OK)
        return AP_OK; /* nothing to compare with: the key's own checks stand */
    if (!check[0]) {
        if (write_check(store, key, false) != AP_OK || read_check(store, check, sizeof(check)))
            return AP_OK; /* a database that cannot be written is reported elsewhere */
    }
    if (!check[0] || opens(key, check))
        return AP_OK;
    if (ap_store_count_sealed(store, &sealed, err, errlen) != AP_OK)
        return AP_EUNAVAIL;
    if (sealed > 0) {
        snprintf(err, errlen,
                 "master key file %s is not the key database %s is sealed with (it holds %lld "
                 "%s sealed with another key); restore the right key file from a backup, or "
                 "point --master-key-file (APPOINTD_MASTER_KEY_FILE) at it",
                 path, ap_store_path(store), (long long)sealed, sealed == 1 ? "secret" : "secrets");
        return AP_ECONFLICT;
    }
    if (strcmp(ap_store_backend(store), "postgres") == 0) {
        snprintf(err, errlen,
                 "master key file %s is not the key of the other appointd on database %s; every "
                 "appointd of one database needs the same key: copy theirs here or point "
                 "--master-key-file (APPOINTD_MASTER_KEY_FILE) at a copy (if none of them has it "
                 "any more, and nothing is sealed yet, delete the database's meta row " CHECK_KEY
                 ")",
                 path, ap_store_path(store));
        return AP_ECONFLICT;
    }
    ap_log_warn("key.replaced", "path=%s reason=\"nothing was sealed with the old key\"", path);
    return write_check(store, key, true) == AP_OK ? AP_OK : AP_EUNAVAIL;
}

/*
 * st_tokens.c — each tenant's ServiceTitan token shared by the appointd on
 * one PostgreSQL database (cluster.h), behind the titan client's shared
 * functions (titan.h, struct ap_titan_shared). One row per (tenant, client
 * id) in st_tokens: the token sealed with the master key and bound to its
 * row (context "st_token:tenant=N:client=ID"), its expiry, a generation that
 * numbers the tokens of the row (a 401 drops only the generation that got
 * it), and the claim of the one fetch in flight (owner, until: ms of the
 * database's clock). These run on the titan engine thread, a statement or
 * two each, once per token per instance; never per call.
 */
#include "app/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "db/store.h"
#include "titan/titan.h"

/* Now on the database's clock, in ms (PostgreSQL: this file runs on it only). */
#define DB_NOW_MS "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"

struct shared_tokens {
    struct ap_store *st;
    const struct ap_crypto_key *key;
    const char *owner;
};

static struct shared_tokens the_tokens;

static void context_of(int64_t tenant_id, const char *client_id, char *out, size_t n)
{
    snprintf(out, n, "st_token:tenant=%lld:client=%s", (long long)tenant_id, client_id);
}

static enum ap_err load(void *ud, int64_t tenant_id, const char *client_id, int64_t stale_gen,
                        int64_t min_left_ns, char **token, int64_t *expires_real_ns, int64_t *gen)
{
    struct shared_tokens *s = ud;
    struct ap_db_val v[] = {ap_db_int(tenant_id), ap_db_text(client_id), ap_db_int(stale_gen),
                            ap_db_int(ap_clock_real_ns() + min_left_ns)};
    struct ap_db_conn *c = ap_store_acquire(s->st, false);
    struct ap_db_rows *r = NULL;
    enum ap_err err = AP_ENOTFOUND;
    char ctx[160];

    if (!c)
        return AP_EUNAVAIL;
    context_of(tenant_id, client_id, ctx, sizeof(ctx));
    if (ap_db_query(c,
                    "SELECT token_sealed, expires_at, gen FROM st_tokens WHERE tenant_id = ? AND "
                    "client_id = ? AND token_sealed IS NOT NULL AND gen <> ? AND expires_at > ?",
                    v, AP_COUNTOF(v), &r) != AP_OK) {
        err = AP_EUNAVAIL;
        goto out;
    }
    if (ap_db_next(r)) {
        void *plain = NULL;
        size_t n = 0;
        err = ap_crypto_open(s->key, ap_db_row_text(r, 0), ctx, &plain, &n);
        if (err == AP_OK) {
            *token = plain;
            *expires_real_ns = ap_db_row_int(r, 1);
            *gen = ap_db_row_int(r, 2);
        } else {
            ap_log_error("titan.token_shared",
                         "tenant=%lld reason=\"the stored token does not "
                         "open with this master key\"",
                         (long long)tenant_id);
        }
    }
out:
    ap_db_done(r);
    ap_store_release(c);
    return err;
}

static bool claim(void *ud, int64_t tenant_id, const char *client_id, int64_t stale_gen,
                  int64_t min_left_ns, int lease_ms)
{
    struct shared_tokens *s = ud;
    struct ap_db_val d[] = {ap_db_int(tenant_id), ap_db_text(client_id), ap_db_int(stale_gen)};
    struct ap_db_val v[] = {ap_db_int(tenant_id), ap_db_text(client_id), ap_db_text(s->owner),
                            ap_db_int(lease_ms), ap_db_int(ap_clock_real_ns() + min_left_ns)};
    struct ap_db_conn *c = ap_store_acquire(s->st, true);
    bool mine = false;

    if (!c)
        return false;
    if (stale_gen)
        ap_db_exec(c,
                   "UPDATE st_tokens SET token_sealed = NULL WHERE tenant_id = ? AND client_id = ? "
                   "AND gen = ?",
                   d, AP_COUNTOF(d));
    /* taken when nobody holds the claim (or it ran out) and no valid token is stored: a
     * token another instance saved a moment ago is read, not fetched again */
    if (ap_db_exec(c,
                   "INSERT INTO st_tokens (tenant_id, client_id, fetch_owner, fetch_until) VALUES "
                   "(?, ?, ?, " DB_NOW_MS " + ?) ON CONFLICT (tenant_id, client_id) DO UPDATE SET "
                   "fetch_owner = excluded.fetch_owner, fetch_until = excluded.fetch_until WHERE "
                   "(st_tokens.fetch_owner IS NULL OR st_tokens.fetch_until < " DB_NOW_MS
                   ") AND (st_tokens.token_sealed IS NULL OR st_tokens.expires_at <= ?)",
                   v, AP_COUNTOF(v)) == AP_OK)
        mine = ap_db_changes(c) == 1;
    ap_store_release(c);
    return mine;
}

static void save(void *ud, int64_t tenant_id, const char *client_id, const char *token,
                 int64_t expires_real_ns, int64_t *gen)
{
    struct shared_tokens *s = ud;
    struct ap_db_conn *c = ap_store_acquire(s->st, true);
    char *sealed = NULL, ctx[160];

    *gen = 0;
    if (!c)
        return;
    if (!token) {
        struct ap_db_val v[] = {ap_db_int(tenant_id), ap_db_text(client_id), ap_db_text(s->owner)};
        ap_db_exec(c,
                   "UPDATE st_tokens SET fetch_owner = NULL, fetch_until = 0 WHERE tenant_id = ? "
                   "AND client_id = ? AND fetch_owner = ?",
                   v, AP_COUNTOF(v));
        goto out;
    }
    context_of(tenant_id, client_id, ctx, sizeof(ctx));
    if (ap_crypto_seal(s->key, token, strlen(token), ctx, &sealed) != AP_OK)
        goto out;
    struct ap_db_val v[] = {ap_db_int(tenant_id), ap_db_text(client_id), ap_db_text(sealed),
                            ap_db_int(expires_real_ns)};
    if (ap_db_query_int(c,
                        "INSERT INTO st_tokens (tenant_id, client_id, token_sealed, expires_at, "
                        "gen) VALUES (?, ?, ?, ?, 1) ON CONFLICT (tenant_id, client_id) DO UPDATE "
                        "SET token_sealed = excluded.token_sealed, expires_at = "
                        "excluded.expires_at, gen = st_tokens.gen + 1, fetch_owner = NULL, "
                        "fetch_until = 0 RETURNING gen",
                        v, AP_COUNTOF(v), gen) != AP_OK)
        *gen = 0;
out:
    free(sealed);
    ap_store_release(c);
    if (!*gen && token)
        ap_log_warn("titan.token_shared",
                    "tenant=%lld reason=\"the token could not be saved "
                    "for the other instances\"",
                    (long long)tenant_id);
}

void ap_st_tokens_share(struct ap_titan *titan, struct ap_store *st,
                        const struct ap_crypto_key *key, const char *owner)
{
    the_tokens = (struct shared_tokens){st, key, owner};
    ap_titan_set_shared(titan, &(struct ap_titan_shared){
                                   .token_load = load,
                                   .token_claim = claim,
                                   .token_save = save,
                                   .ud = &the_tokens,
                               });
}

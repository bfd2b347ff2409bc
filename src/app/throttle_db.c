/*
 * throttle_db.c — the attempt counters of throttle.h kept in the database,
 * for several appointd on one PostgreSQL (the login throttle then holds
 * across instances: an address cannot spread its guesses over them). The
 * same rules as the table in memory: a budget per key, then a backoff that
 * doubles from base to cap, a key forgotten once quiet for forget after its
 * backoff; a charge is settled later (kept, refunded or cleared).
 *
 * One row per key (table login_throttle): the key is an HMAC-SHA256 of its
 * text under a fixed label, so neither addresses nor emails are stored in
 * clear; times are ms of the database's clock. A take is one transaction
 * that locks its keys (in a fixed order, so two takes never deadlock), reads
 * them, and charges them all or none. Rows quiet for longer than forget are
 * deleted now and then by the takes themselves.
 */
#include "app/throttle.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/defs.h"
#include "crypto/crypto.h"
#include "db/store.h"

#define DB_NOW_MS "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"
/* One take in this many also deletes forgotten rows. */
#define PRUNE_EVERY 256

static const char label[] = "appointd.throttle.v1";

struct db_take {
    const struct ap_throttle_config *cfg;
    struct ap_throttle_key *keys;
    size_t n;
    char ids[AP_THROTTLE_TAKE_MAX][2 * AP_CRYPTO_HMAC_LEN + 1];
    int64_t wait_ms;
};

static void key_hex(const struct ap_throttle_key *k, char out[2 * AP_CRYPTO_HMAC_LEN + 1])
{
    size_t n = strnlen(k->text, sizeof(k->text));

    ap_crypto_hmac_sha256_hex(label, sizeof(label) - 1, k->text, n, out);
}

static int64_t backoff_ms(const struct ap_throttle_config *cfg, int64_t over)
{
    int64_t d = cfg->base_ns;

    for (int64_t i = 0; i < over && d < cfg->cap_ns; i++)
        d *= 2;
    return (d < cfg->cap_ns ? d : cfg->cap_ns) / AP_NS_PER_MS;
}

/* Locks and reads key i: how long it must still wait (ms, 0: now). */
static enum ap_err wait_of(struct ap_db_conn *c, struct db_take *t, size_t i, int64_t *wait)
{
    struct ap_db_val v[] = {ap_db_int(t->keys[i].budget),
                            ap_db_int(t->cfg->forget_ns / AP_NS_PER_MS), ap_db_text(t->ids[i])};
    int64_t key;
    enum ap_err err;

    memcpy(&key, t->keys[i].id, sizeof(key));
    if ((err = ap_db_lock(c, key)))
        return err;
    /* penalised and still in its backoff; a forgotten row counts as none */
    err = ap_db_query_int(c,
                          "SELECT CASE WHEN n >= ? AND next_ms > " DB_NOW_MS " AND " DB_NOW_MS
                          " - GREATEST(last_ms, next_ms) < ? THEN next_ms - " DB_NOW_MS
                          " ELSE 0 END FROM login_throttle WHERE key = ?",
                          v, AP_COUNTOF(v), wait);
    if (err == AP_ENOTFOUND) {
        *wait = 0;
        err = AP_OK;
    }
    return err;
}

static enum ap_err charge(struct ap_db_conn *c, struct db_take *t, size_t i)
{
    struct ap_db_val v[] = {ap_db_text(t->ids[i]), ap_db_int(t->cfg->forget_ns / AP_NS_PER_MS)};
    int64_t n = 0;
    enum ap_err err = ap_db_query_int(
        c,
        "INSERT INTO login_throttle (key, n, last_ms, next_ms) VALUES (?, 1, " DB_NOW_MS
        ", 0) ON CONFLICT (key) DO UPDATE SET n = CASE WHEN " DB_NOW_MS
        " - GREATEST(login_throttle.last_ms, login_throttle.next_ms) >= ? THEN 1 "
        "ELSE login_throttle.n + 1 END, last_ms = excluded.last_ms RETURNING n",
        v, AP_COUNTOF(v), &n);

    if (err || n < t->keys[i].budget)
        return err;
    struct ap_db_val b[] = {ap_db_int(backoff_ms(t->cfg, n - t->keys[i].budget)),
                            ap_db_text(t->ids[i])};
    return ap_db_exec(c, "UPDATE login_throttle SET next_ms = " DB_NOW_MS " + ? WHERE key = ?", b,
                      AP_COUNTOF(b));
}

static enum ap_err take_tx(struct ap_db_conn *c, void *arg)
{
    struct db_take *t = arg;
    size_t order[AP_THROTTLE_TAKE_MAX];
    enum ap_err err = AP_OK;

    t->wait_ms = 0;
    for (size_t i = 0; i < t->n; i++) { /* lock order: by key, so takes never deadlock */
        size_t j = i;
        for (; j > 0 && strcmp(t->ids[order[j - 1]], t->ids[i]) > 0; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (size_t i = 0; i < t->n && !err; i++) {
        int64_t w = 0;
        err = wait_of(c, t, order[i], &w);
        t->wait_ms = w > t->wait_ms ? w : t->wait_ms;
    }
    for (size_t i = 0; i < t->n && !err && t->wait_ms == 0; i++)
        err = charge(c, t, i);
    return err;
}

enum ap_err ap_throttle_db_take(struct ap_store *st, const struct ap_throttle_config *cfg,
                                struct ap_throttle_key *keys, size_t n, int64_t *retry_ns)
{
    static _Atomic unsigned takes;
    struct db_take t = {
        .cfg = cfg, .keys = keys, .n = n < AP_THROTTLE_TAKE_MAX ? n : AP_THROTTLE_TAKE_MAX};
    struct ap_db_conn *c;
    enum ap_err err;

    for (size_t i = 0; i < t.n; i++) {
        uint8_t mac[AP_CRYPTO_HMAC_LEN];
        if (keys[i].budget < 1)
            keys[i].budget = 1;
        keys[i].overflowed = false;
        ap_crypto_hmac_sha256(label, sizeof(label) - 1, keys[i].text,
                              strnlen(keys[i].text, sizeof(keys[i].text)), mac);
        memcpy(keys[i].id, mac, sizeof(keys[i].id)); /* (its first 8 bytes: the lock's key) */
        ap_crypto_hex(mac, sizeof(mac), t.ids[i]);
    }
    if (!(c = ap_store_acquire(st, true)))
        return AP_EUNAVAIL;
    err = ap_db_run_tx(c, take_tx, &t);
    if (!err && atomic_fetch_add(&takes, 1) % PRUNE_EVERY == 0) {
        struct ap_db_val f = ap_db_int(cfg->forget_ns / AP_NS_PER_MS);
        ap_db_exec(
            c, "DELETE FROM login_throttle WHERE GREATEST(last_ms, next_ms) < " DB_NOW_MS " - ?",
            &f, 1);
    }
    ap_store_release(c);
    if (err)
        return err;
    *retry_ns = t.wait_ms * AP_NS_PER_MS;
    return t.wait_ms > 0 ? AP_EBUSY : AP_OK;
}

void ap_throttle_db_settle(struct ap_store *st, const struct ap_throttle_key *key,
                           enum ap_throttle_outcome how)
{
    char id[2 * AP_CRYPTO_HMAC_LEN + 1];
    struct ap_db_conn *c;

    if (how == AP_THROTTLE_KEEP || !(c = ap_store_acquire(st, true)))
        return;
    key_hex(key, id);
    struct ap_db_val v[] = {ap_db_int(key->budget), ap_db_text(id)};
    if (how == AP_THROTTLE_CLEAR)
        ap_db_exec(c, "DELETE FROM login_throttle WHERE key = ?", &v[1], 1);
    else /* a refund: this attempt goes, and with it a penalty it brought */
        ap_db_exec(c,
                   "UPDATE login_throttle SET n = n - 1, next_ms = CASE WHEN n - 1 < ? THEN 0 ELSE "
                   "next_ms END WHERE key = ? AND n > 0",
                   v, AP_COUNTOF(v));
    ap_store_release(c);
}

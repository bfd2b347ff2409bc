/*
 * ratelimit.c — GCRA buckets in a bounded, flood-resistant table. See
 * ratelimit.h.
 */
#include "app/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/defs.h"
#include "core/mem.h"
#include "crypto/crypto.h"

#define SET    8
#define KEYLEN 128

struct slot {
    uint8_t id[16]; /* keyed hash of the key */
    bool used;
    int64_t tat; /* theoretical arrival time of the next request (ns) */
};

struct ap_ratelimit {
    pthread_mutex_t mu;
    int64_t interval, tolerance;
    struct slot *slots;
    size_t nsets;
    struct slot overflow;
    uint8_t hash_key[32];
};

struct ap_ratelimit *ap_ratelimit_new(double rate, int burst, size_t entries)
{
    struct ap_ratelimit *r = ap_xcalloc(1, sizeof(*r));

    if (rate <= 0)
        rate = 1;
    if (burst < 1)
        burst = 1;
    r->interval = (int64_t)((double)AP_NS_PER_S / rate);
    r->tolerance = r->interval * (burst - 1);
    r->nsets = (entries < 16 ? 16 : entries + SET - 1) / SET;
    r->slots = ap_xcalloc(r->nsets * SET, sizeof(*r->slots));
    ap_crypto_random(r->hash_key, sizeof(r->hash_key));
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

void ap_ratelimit_free(struct ap_ratelimit *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r->slots);
    free(r);
}

/* GCRA: admits at now when tat - tolerance <= now, then moves tat on. */
static bool admit(struct ap_ratelimit *r, struct slot *s, int64_t now, int *retry_s)
{
    int64_t tat = s->tat > now ? s->tat : now;

    if (tat - r->tolerance > now) {
        int64_t wait = tat - r->tolerance - now;
        *retry_s = (int)((wait + AP_NS_PER_S - 1) / AP_NS_PER_S);
        if (*retry_s < 1)
            *retry_s = 1;
        return false;
    }
    s->tat = tat + r->interval;
    return true;
}

/* The key's slot: its own, a free or idle one, or NULL (all limited: overflow). */
static struct slot *find(struct ap_ratelimit *r, const uint8_t id[16], int64_t now)
{
    uint64_t h;
    struct slot *set, *best = NULL;

    memcpy(&h, id, sizeof(h));
    set = &r->slots[(h % r->nsets) * SET];
    for (int i = 0; i < SET; i++)
        if (set[i].used && memcmp(set[i].id, id, 16) == 0)
            return &set[i];
    for (int i = 0; i < SET; i++) {
        struct slot *s = &set[i];
        if (!s->used || s->tat <= now) { /* free, or idle: its bucket is full again */
            if (!best || !s->used || (best->used && s->tat < best->tat))
                best = s;
        }
    }
    if (best) {
        memcpy(best->id, id, 16);
        best->used = true;
        best->tat = 0;
    }
    return best;
}

bool ap_ratelimit_allow(struct ap_ratelimit *r, const char *key, int64_t now_ns, int *retry_s)
{
    uint8_t mac[AP_CRYPTO_HMAC_LEN];
    struct slot *s;
    bool ok;

    ap_crypto_hmac_sha256(r->hash_key, sizeof(r->hash_key), key, strnlen(key, KEYLEN), mac);
    pthread_mutex_lock(&r->mu);
    s = find(r, mac, now_ns);
    ok = admit(r, s ? s : &r->overflow, now_ns, retry_s);
    pthread_mutex_unlock(&r->mu);
    return ok;
}

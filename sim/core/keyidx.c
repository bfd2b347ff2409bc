/*
 * keyidx.c — the key indexes the modules define (api.h: sim_index_define,
 * sim_index_find): per tenant and index, a hash table from a key to the ids
 * of the rows that had it.
 *
 * A row's keys are its kind's key function's answer. When a row is added or
 * changed, its id is appended under each of its keys unless its keys are what
 * they were (a signature per row says so). Ids under a key the row no longer
 * has are left behind and weeded out when that key is looked up: a lookup
 * checks each id against the row's current keys, keeps the live ones and
 * rewrites the key's list with them. So a change costs a few appends, and a
 * lookup what it finds.
 *
 * The definitions are process-wide (the same indexes for every tenant); each
 * tenant's index is built from its table on its first lookup.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "sim/core/api.h"
#include "sim/core/index.h"

struct index_def {
    enum sim_kind kind;
    char name[48];
    sim_keys_fn fn;
};

static pthread_mutex_t defs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct index_def defs[SIM_MAX_INDEXES];
static int ndefs;

struct kbucket { /* one key and its ids; key NULL = free */
    char *key;
    uint64_t h;
    int64_t *ids;
    uint32_t n, cap;
};

struct sigslot { /* a row's key signature; id 0 = free */
    int64_t id;
    uint64_t sig;
};

struct sim_keyidx {
    struct kbucket *b;
    size_t cap, used; /* power of two; used counts keys */
    struct sigslot *sig;
    size_t sigcap, sigused;
};

/* ---- hashing ------------------------------------------------------------------- */

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t key_hash(const char *k)
{
    return fnv(k, strlen(k), 0xcbf29ce484222325ULL);
}

static uint64_t keys_sig(const struct sim_keys *ks)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < ks->n; i++)
        h = fnv(ks->k[i], strlen(ks->k[i]) + 1, h);
    return h | 1; /* never 0 */
}

static uint64_t id_hash(int64_t id)
{
    uint64_t z = (uint64_t)id * 0x9e3779b97f4a7c15ULL;
    return z ^ (z >> 29);
}

/* ---- the key table --------------------------------------------------------------- */

static struct kbucket *bucket_find(struct sim_keyidx *ix, const char *key, uint64_t h)
{
    size_t mask = ix->cap - 1;

    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct kbucket *b = &ix->b[i];
        if (b->key == NULL || (b->h == h && strcmp(b->key, key) == 0))
            return b;
    }
}

static void buckets_grow(struct sim_keyidx *ix)
{
    struct kbucket *old = ix->b;
    size_t oldcap = ix->cap;

    ix->cap = oldcap ? oldcap * 2 : 256;
    ix->b = ap_xcalloc(ix->cap, sizeof(*ix->b));
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].key != NULL)
            *bucket_find(ix, old[i].key, old[i].h) = old[i];
    }
    free(old);
}

static void bucket_append(struct sim_keyidx *ix, const char *key, int64_t id)
{
    uint64_t h = key_hash(key);

    if ((ix->used + 1) * 2 > ix->cap)
        buckets_grow(ix);
    struct kbucket *b = bucket_find(ix, key, h);
    if (b->key == NULL) {
        b->key = ap_xstrdup(key);
        b->h = h;
        ix->used++;
    }
    if (b->n > 0 && b->ids[b->n - 1] == id)
        return;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4;
        b->ids = ap_xrealloc(b->ids, b->cap * sizeof(*b->ids));
    }
    b->ids[b->n++] = id;
}

/* ---- row signatures ------------------------------------------------------------------ */

static struct sigslot *sig_slot(struct sim_keyidx *ix, int64_t id)
{
    size_t mask = ix->sigcap - 1;

    for (size_t i = id_hash(id) & mask;; i = (i + 1) & mask) {
        if (ix->sig[i].id == 0 || ix->sig[i].id == id)
            return &ix->sig[i];
    }
}

static void sig_grow(struct sim_keyidx *ix)
{
    struct sigslot *old = ix->sig;
    size_t oldcap = ix->sigcap;

    ix->sigcap = oldcap ? oldcap * 2 : 256;
    ix->sig = ap_xcalloc(ix->sigcap, sizeof(*ix->sig));
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].id != 0)
            *sig_slot(ix, old[i].id) = old[i];
    }
    free(old);
}

/* Indexes row's keys unless they are what they were. */
static void learn(struct sim_keyidx *ix, sim_keys_fn fn, const json_t *row)
{
    struct sim_keys ks = {0};
    int64_t id = sim_row_id(row);

    fn(row, &ks);
    uint64_t sig = keys_sig(&ks);
    if ((ix->sigused + 1) * 2 > ix->sigcap)
        sig_grow(ix);
    struct sigslot *slot = sig_slot(ix, id);
    if (slot->id == id && slot->sig == sig)
        return;
    if (slot->id == 0)
        ix->sigused++;
    slot->id = id;
    slot->sig = sig;
    for (size_t i = 0; i < ks.n; i++)
        bucket_append(ix, ks.k[i], id);
}

static void keyidx_free(struct sim_keyidx *ix)
{
    if (ix == NULL)
        return;
    for (size_t i = 0; i < ix->cap; i++) {
        free(ix->b[i].key);
        free(ix->b[i].ids);
    }
    free(ix->b);
    free(ix->sig);
    free(ix);
}

/* ---- the module's side ------------------------------------------------------------------- */

void sim_keys_add(struct sim_keys *ks, const char *fmt, ...)
{
    va_list ap;

    if (ks->n >= SIM_KEYS_MAX)
        return;
    va_start(ap, fmt);
    vsnprintf(ks->k[ks->n], SIM_KEY_LEN, fmt, ap);
    va_end(ap);
    ks->n++;
}

void sim_keys_of_int(const json_t *row, const char *field, struct sim_keys *out)
{
    json_t *v = json_object_get(row, field);

    if (json_is_integer(v))
        sim_keys_add(out, "%lld", (long long)json_integer_value(v));
}

/* The integer fields rows are often looked up by, each with its key function. */
// clang-format off
#define INT_FIELDS(X)                                                                              \
    X(customerId) X(locationId) X(jobId) X(appointmentId) X(technicianId) X(bookingId)             \
    X(businessUnitId) X(_customerId) X(_locationId) X(_bookingId) X(_jobId) X(_ownerId)
// clang-format on
#define INT_KEYS_FN(f)                                                                             \
    static void keys_##f(const json_t *row, struct sim_keys *out)                                  \
    {                                                                                              \
        sim_keys_of_int(row, #f, out);                                                             \
    }
INT_FIELDS(INT_KEYS_FN)
#define INT_ENTRY(f) {#f, keys_##f},
static const struct {
    const char *field;
    sim_keys_fn fn;
} int_fields[] = {INT_FIELDS(INT_ENTRY)};

int sim_index_int(enum sim_kind k, const char *field)
{
    for (size_t i = 0; i < AP_COUNTOF(int_fields); i++) {
        if (strcmp(int_fields[i].field, field) == 0)
            return sim_index_define(k, field, int_fields[i].fn);
    }
    return -1;
}

int sim_index_define(enum sim_kind k, const char *name, sim_keys_fn fn)
{
    int slot = -1;

    pthread_mutex_lock(&defs_mu);
    for (int i = 0; i < ndefs && slot < 0; i++) {
        if (defs[i].kind == k && strcmp(defs[i].name, name) == 0)
            slot = i;
    }
    if (slot < 0 && ndefs < SIM_MAX_INDEXES) {
        slot = ndefs++;
        defs[slot].kind = k;
        snprintf(defs[slot].name, sizeof(defs[slot].name), "%s", name);
        defs[slot].fn = fn;
    }
    pthread_mutex_unlock(&defs_mu);
    return slot;
}

static struct sim_keyidx *index_of(struct sim_tenant *t, int slot)
{
    if (t->kidx[slot] == NULL) {
        const struct sim_table *tb = &t->tables[defs[slot].kind];
        struct sim_keyidx *ix = ap_xcalloc(1, sizeof(*ix));

        for (size_t i = 0; i < tb->n; i++)
            learn(ix, defs[slot].fn, tb->rows[i]);
        t->kidx[slot] = ix;
    }
    return t->kidx[slot];
}

static bool has_key(int slot, const json_t *row, const char *key)
{
    struct sim_keys ks = {0};

    defs[slot].fn(row, &ks);
    for (size_t i = 0; i < ks.n; i++) {
        if (strcmp(ks.k[i], key) == 0)
            return true;
    }
    return false;
}

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t *sim_index_find(struct sim_tenant *t, int slot, const char *key, size_t *n)
{
    *n = 0;
    if (slot < 0 || slot >= ndefs)
        return NULL;
    struct sim_keyidx *ix = index_of(t, slot);
    if (ix->cap == 0)
        return NULL;
    struct kbucket *b = bucket_find(ix, key, key_hash(key));
    if (b->key == NULL || b->n == 0)
        return NULL;
    int64_t *out = ap_xmalloc(b->n * sizeof(*out));
    for (uint32_t i = 0; i < b->n; i++) {
        const json_t *row = sim_get(t, defs[slot].kind, b->ids[i]);
        if (row != NULL && has_key(slot, row, key))
            out[(*n)++] = b->ids[i];
    }
    qsort(out, *n, sizeof(*out), id_cmp);
    size_t live = 0;
    for (size_t i = 0; i < *n; i++) { /* a row changed back and forth appears twice */
        if (live == 0 || out[live - 1] != out[i])
            out[live++] = out[i];
    }
    *n = live;
    memcpy(b->ids, out, live * sizeof(*out)); /* the stale ones are gone for good */
    b->n = (uint32_t)live;
    if (live == 0) {
        free(out);
        return NULL;
    }
    return out;
}

int64_t *sim_index_find_id(struct sim_tenant *t, int slot, int64_t key, size_t *n)
{
    char k[24];

    snprintf(k, sizeof(k), "%lld", (long long)key);
    return sim_index_find(t, slot, k, n);
}

/* ---- the model's side ------------------------------------------------------------------- */

void sim_keyidx_row(struct sim_tenant *t, enum sim_kind k, const json_t *row)
{
    for (int i = 0; i < ndefs; i++) {
        if (defs[i].kind == k && t->kidx[i] != NULL)
            learn(t->kidx[i], defs[i].fn, row);
    }
}

void sim_keyidx_warm(struct sim_tenant *t)
{
    for (int i = 0; i < ndefs; i++)
        (void)index_of(t, i);
}

void sim_keyidx_free(struct sim_tenant *t)
{
    for (int i = 0; i < SIM_MAX_INDEXES; i++) {
        keyidx_free(t->kidx[i]);
        t->kidx[i] = NULL;
    }
}

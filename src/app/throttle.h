/*
 * throttle.h — a bounded table of attempt counters with exponential
 * backoff that a flood cannot flush: the login throttle's (sessions.c), and
 * meant for any other "N attempts per key, then slow down" (the public
 * API's per-address limits).
 *
 * Each key (a short string: "a:192.0.2.1", "p:192.0.2.1|owner@acme.test")
 * has a budget of attempts. Past it, each further attempt must wait a
 * backoff that doubles from base up to cap: with budget 10 and base 30 s,
 * the 11th attempt may start 30 s after the 10th, the 12th 60 s after the
 * 11th, and so on. A key nobody tried for forget after its backoff ended is
 * forgotten (its budget is whole again).
 *
 * Attempts are charged when they start (ap_throttle_take), before the slow
 * work they guard, so a burst of concurrent attempts is counted exactly:
 * with budget 10, ten of a hundred simultaneous attempts go through. The
 * caller settles each charge afterwards: it stands (a failure), is refunded
 * (it was not the client's fault, or a success that should not count), or
 * clears the key (a success that proves the key's owner).
 *
 * The table is fixed-size: sets of 16 entries chosen by a keyed hash (a
 * random key per table, so a client cannot aim its keys at one set). A new
 * key takes a free or expired entry of its set, else evicts the cheapest:
 * the fewest attempts, then the least recently used. An entry that has spent
 * its budget (it is under penalty) is never evicted for a new key. When a
 * set holds nothing but penalised entries, new keys that land in it share
 * one overflow bucket per budget (with ten times that budget): they are
 * slowed together, and nobody's penalty is forgotten. Filling a set takes
 * 16 × budget real attempts per set; see docs/api.md for what that means for
 * logins.
 *
 * Thread-safe (one mutex; every operation is a few dozen compares).
 */
#ifndef AP_APP_THROTTLE_H
#define AP_APP_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define AP_THROTTLE_KEY_MAX  336 /* longest key text; longer ones are cut */
#define AP_THROTTLE_TAKE_MAX 4   /* keys one attempt may be charged to */

struct ap_throttle;

struct ap_throttle_config {
    size_t entries;    /* capacity, rounded up to whole sets of 16; at least 16 */
    int64_t base_ns;   /* first backoff once a key's budget is spent */
    int64_t cap_ns;    /* longest backoff */
    int64_t forget_ns; /* idle time after the backoff before a key is forgotten */
};

/* One key of an attempt: the caller fills text and budget; take() fills the rest. */
struct ap_throttle_key {
    char text[AP_THROTTLE_KEY_MAX];
    int budget;      /* attempts before backoff, >= 1 */
    uint8_t id[16];  /* keyed hash of text */
    bool overflowed; /* charged to its budget's shared overflow bucket */
};

struct ap_throttle_stats {
    size_t entries;    /* capacity */
    size_t used;       /* live entries */
    size_t penalised;  /* live entries at or past their budget */
    uint64_t evicted;  /* entries given up for new keys (never penalised ones) */
    uint64_t overflow; /* charges sent to an overflow bucket */
};

/* A new table (never NULL; allocation failure aborts). */
struct ap_throttle *ap_throttle_new(const struct ap_throttle_config *cfg);
void ap_throttle_free(struct ap_throttle *t);

/*
 * Charges one attempt to every key of keys[0..n) (n <= AP_THROTTLE_TAKE_MAX)
 * if each of them allows one now, and returns true. Otherwise charges nothing, returns false and
 * sets *retry_ns to how long until they all would (at least 1 ns).
 */
bool ap_throttle_take(struct ap_throttle *t, struct ap_throttle_key *keys, size_t n,
                      int64_t *retry_ns);

enum ap_throttle_outcome {
    AP_THROTTLE_KEEP,   /* the attempt counts (a failure) */
    AP_THROTTLE_REFUND, /* the attempt does not count */
    AP_THROTTLE_CLEAR,  /* forget the key: its budget is whole again */
};
/* Settles one key of a charged attempt (a key evicted meanwhile is ignored). */
void ap_throttle_settle(struct ap_throttle *t, const struct ap_throttle_key *key,
                        enum ap_throttle_outcome how);

void ap_throttle_stats(struct ap_throttle *t, struct ap_throttle_stats *out);

/*
 * The same counters kept in the database (throttle_db.c: PostgreSQL, several
 * appointd sharing them; entries is unused, the table is pruned by age).
 * take: AP_OK (charged), AP_EBUSY with *retry_ns (nothing charged), or a
 * store error (nothing charged). settle: as ap_throttle_settle(); a store
 * error is ignored (the charge stands).
 */
struct ap_store;
enum ap_err ap_throttle_db_take(struct ap_store *st, const struct ap_throttle_config *cfg,
                                struct ap_throttle_key *keys, size_t n, int64_t *retry_ns);
void ap_throttle_db_settle(struct ap_store *st, const struct ap_throttle_key *key,
                           enum ap_throttle_outcome how);

#endif

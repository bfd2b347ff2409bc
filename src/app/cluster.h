/*
 * cluster.h — several `appointd serve` on one PostgreSQL database: what they
 * share beyond the rows every request reads and writes.
 *
 *   - The live instances (table instances): each registers on start and
 *     beats every second on the database's clock; an instance not seen for
 *     three beats is gone. The per-tenant ServiceTitan rate limit is shared
 *     out among the live ones (ap_titan_set_rate_share): 1/n each. A new
 *     instance that finds others live makes no ServiceTitan call until two
 *     and a half beats after it joined, when every other one has seen it and
 *     lowered its share (one that finds itself alone starts at once: any
 *     later one waits for it in turn); an instance
 *     whose beats fail (it lost the database) stops its calls two beats
 *     after its last good one, before the others count it gone.
 *   - The leader (table leases, row "jobs"): a lease of five beats renewed
 *     every beat by its holder and taken by another instance once it ran
 *     out; the background jobs on a timer (catalog refresh, the periodic
 *     health round) run on the leader only. An instance considers itself
 *     leader one beat less long than the lease it holds.
 *   - Each tenant's ServiceTitan token (table st_tokens, st_tokens.c):
 *     sealed with the master key (every instance has the same), fetched by
 *     one instance at a time (a claim with a lease) and read by the others.
 *
 * SQLite (one process) has none of this: ap_cluster_start() is not called,
 * ap_cluster_leader() is then true, and the ServiceTitan client keeps its
 * whole rate and its own tokens, with no database work per call.
 */
#ifndef AP_APP_CLUSTER_H
#define AP_APP_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

struct ap_store;
struct ap_titan;
struct ap_crypto_key;
struct ap_metrics;

struct ap_cluster;

/*
 * Registers this process among the live instances of st (PostgreSQL) and
 * starts its beat thread; hands titan (may be NULL) the shared token
 * functions and its rate share. One per process. NULL when the thread cannot
 * start. Metrics (may be NULL): appointd_cluster_instances (live instances
 * seen at the last beat), appointd_cluster_leader (1 on the leader).
 */
struct ap_cluster *ap_cluster_start(struct ap_store *st, struct ap_titan *titan,
                                    const struct ap_crypto_key *key, struct ap_metrics *m);
/* Stops beating, leaves the instances, gives the lease up and frees c. Call after the
 * ServiceTitan client was freed (its token functions name this instance) and before the
 * metrics are rendered no more. NULL ok. */
void ap_cluster_stop(struct ap_cluster *c);

/* Whether this process runs the background jobs now: true without a cluster (SQLite). Any
 * thread. */
bool ap_cluster_leader(void);

/* This instance's name among the live ones (host:pid:random); "" without a cluster. */
const char *ap_cluster_id(const struct ap_cluster *c);

/* st_tokens.c: hands titan the functions that share its tokens through st (sealed with key,
 * claims in owner's name). The strings and pointers must outlive titan's calls. */
void ap_st_tokens_share(struct ap_titan *titan, struct ap_store *st,
                        const struct ap_crypto_key *key, const char *owner);

#endif

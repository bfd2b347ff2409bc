/*
 * cluster.c — the live instances, the leader's lease and the rate share of
 * cluster.h: one thread that beats every BEAT_MS on the write connection
 * (three short statements on the database's clock, so the instances' own
 * clocks never have to agree), and hands the ServiceTitan client its share
 * and the window in which it may use it. PostgreSQL only.
 */
#include "app/cluster.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "crypto/crypto.h"
#include "db/store.h"
#include "titan/titan.h"

#define BEAT_MS 1000
/* Not seen for this long (the database's clock): gone. */
#define GONE_MS (3 * BEAT_MS)
/* The leader's lease; the holder believes in it one beat less. */
#define LEASE_MS (5 * BEAT_MS)
/* The rows of instances gone for this long are deleted. */
#define PRUNE_MS (3600 * 1000)

#define DB_NOW_MS "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"

struct ap_cluster {
    struct ap_store *st;
    struct ap_titan *titan;
    char id[128];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    int64_t joined_ns;  /* mono: the first good beat after none (or a gap) */
    int64_t from_ns;    /* mono: ServiceTitan calls from then on (the share's window) */
    int64_t last_ok_ns; /* mono: when the last good beat was sent */
    int beats;
    _Atomic int live;
    _Atomic int64_t leader_until_ns; /* mono */
};

static _Atomic(struct ap_cluster *) the_cluster;

bool ap_cluster_leader(void)
{
    struct ap_cluster *c = atomic_load(&the_cluster);

    return !c || ap_clock_mono_ns() < atomic_load(&c->leader_until_ns);
}

const char *ap_cluster_id(const struct ap_cluster *c)
{
    return c ? c->id : "";
}

/* One beat: seen now, how many are live, the lease kept or taken. AP_OK when all went. */
static enum ap_err beat(struct ap_cluster *c, int *live, bool *leader)
{
    struct ap_db_val id = ap_db_text(c->id);
    struct ap_db_val gone = ap_db_int(GONE_MS), prune = ap_db_int(PRUNE_MS);
    struct ap_db_val lease[] = {ap_db_text(c->id), ap_db_int(LEASE_MS)};
    struct ap_db_conn *db = ap_store_acquire(c->st, true);
    int64_t n = 0;
    enum ap_err err;

    if (!db)
        return AP_EUNAVAIL;
    err = ap_db_exec(db,
                     "INSERT INTO instances (id, started_at, seen_at) VALUES (?, " DB_NOW_MS
                     ", " DB_NOW_MS ") ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
                     &id, 1);
    if (!err)
        err = ap_db_query_int(
            db, "SELECT COUNT(*) FROM instances WHERE seen_at > " DB_NOW_MS " - ?", &gone, 1, &n);
    if (!err)
        err = ap_db_exec(db,
                         "INSERT INTO leases (name, owner, until_ms) VALUES ('jobs', ?, " DB_NOW_MS
                         " + ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                         "until_ms = excluded.until_ms WHERE leases.owner = excluded.owner OR "
                         "leases.until_ms < " DB_NOW_MS,
                         lease, AP_COUNTOF(lease));
    *leader = !err && ap_db_changes(db) == 1;
    if (!err && c->beats % 60 == 0)
        ap_db_exec(db, "DELETE FROM instances WHERE seen_at < " DB_NOW_MS " - ?", &prune, 1);
    ap_store_release(db);
    *live = (int)n;
    return err;
}

/* After a beat sent at sent_ns: the share, the leadership, the log on a change. */
static void after_beat(struct ap_cluster *c, int64_t sent_ns, enum ap_err err, int live,
                       bool leader)
{
    bool was_leader = ap_clock_mono_ns() < atomic_load(&c->leader_until_ns);
    int was_live = atomic_load(&c->live);

    if (err) {
        if (c->last_ok_ns && sent_ns - c->last_ok_ns >= 2 * BEAT_MS * AP_NS_PER_MS)
            ap_log_warn("cluster.beat_failed",
                        "id=%s err=%s reason=\"ServiceTitan calls wait "
                        "until the database answers\"",
                        c->id, ap_err_str(err));
        return; /* the share's window and the lease run out by themselves */
    }
    /* a gap longer than the share's window: the others may have counted this one gone, so it
     * joins again (and waits as a new one) */
    if (!c->joined_ns || sent_ns - c->last_ok_ns >= 2 * BEAT_MS * AP_NS_PER_MS) {
        c->joined_ns = sent_ns;
        /* alone, it takes nobody's share: at once; else once the others have lowered theirs
         * (an instance that joins later sees this one at its first beat and waits itself) */
        c->from_ns =
            live <= 1 ? sent_ns : sent_ns + (int64_t)(2 * BEAT_MS + BEAT_MS / 2) * AP_NS_PER_MS;
    }
    c->last_ok_ns = sent_ns;
    atomic_store(&c->live, live);
    atomic_store(&c->leader_until_ns,
                 leader ? sent_ns + (int64_t)(LEASE_MS - BEAT_MS) * AP_NS_PER_MS : 0);
    if (c->titan)
        ap_titan_set_rate_share(c->titan, live, c->from_ns,
                                sent_ns + (int64_t)2 * BEAT_MS * AP_NS_PER_MS);
    if (live != was_live || leader != was_leader)
        ap_log_info("cluster.beat", "id=%s live=%d leader=%d", c->id, live, leader);
}

static void *beat_main(void *arg)
{
    struct ap_cluster *c = arg;

    pthread_mutex_lock(&c->mu);
    while (!c->stopping) {
        pthread_mutex_unlock(&c->mu);
        int live = 0;
        bool leader = false;
        int64_t sent = ap_clock_mono_ns();
        enum ap_err err = beat(c, &live, &leader);
        after_beat(c, sent, err, live, leader);
        c->beats++;
        pthread_mutex_lock(&c->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (int64_t)BEAT_MS * AP_NS_PER_MS;
        ts.tv_sec += ns / AP_NS_PER_S;
        ts.tv_nsec = ns % AP_NS_PER_S;
        while (!c->stopping && pthread_cond_timedwait(&c->cv, &c->mu, &ts) == 0)
            ;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static double gauge_live(void *ud)
{
    return (double)atomic_load(&((struct ap_cluster *)ud)->live);
}

static double gauge_leader(void *ud)
{
    (void)ud;
    return ap_cluster_leader() ? 1 : 0;
}

struct ap_cluster *ap_cluster_start(struct ap_store *st, struct ap_titan *titan,
                                    const struct ap_crypto_key *key, struct ap_metrics *m)
{
    struct ap_cluster *c = ap_xcalloc(1, sizeof(*c));
    char host[64] = "appointd", hex[9];
    uint8_t rnd[4];

    gethostname(host, sizeof(host) - 1);
    ap_crypto_random(rnd, sizeof(rnd));
    ap_crypto_hex(rnd, sizeof(rnd), hex);
    snprintf(c->id, sizeof(c->id), "%s:%d:%s", host, (int)getpid(), hex);
    c->st = st;
    c->titan = titan;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (titan) {
        /* no ServiceTitan call before the first beat says how many share the rate */
        ap_titan_set_rate_share(titan, 1, INT64_MAX, INT64_MAX);
        ap_st_tokens_share(titan, st, key, c->id);
    }
    if (m) {
        ap_metrics_gauge_fn(m, "appointd_cluster_instances",
                            "live appointd instances on this database at the last beat", gauge_live,
                            c);
        ap_metrics_gauge_fn(m, "appointd_cluster_leader",
                            "1 when this instance runs the background jobs", gauge_leader, c);
    }
    atomic_store(&the_cluster, c);
    /* the first beat before the server answers anyone: a lone instance may call ServiceTitan
     * at once (else its first cold availability answers waited on the beat thread, or failed) */
    int live = 0;
    bool leader = false;
    int64_t sent = ap_clock_mono_ns();
    enum ap_err err = beat(c, &live, &leader);
    after_beat(c, sent, err, live, leader);
    c->beats++;
    if (pthread_create(&c->thread, NULL, beat_main, c) != 0) {
        atomic_store(&the_cluster, NULL);
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c);
        return NULL;
    }
    ap_log_info("cluster.join", "id=%s", c->id);
    return c;
}

void ap_cluster_stop(struct ap_cluster *c)
{
    struct ap_db_conn *db;

    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    atomic_store(&c->leader_until_ns, 0);
    if ((db = ap_store_acquire(c->st, true))) {
        struct ap_db_val id = ap_db_text(c->id);
        ap_db_exec(db, "DELETE FROM leases WHERE name = 'jobs' AND owner = ?", &id, 1);
        ap_db_exec(db, "DELETE FROM instances WHERE id = ?", &id, 1);
        ap_store_release(db);
    }
    ap_log_info("cluster.leave", "id=%s", c->id);
    atomic_store(&the_cluster, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

/*
 * serve_booking.c — starting and stopping the booking half of `appointd
 * serve` (see serve_booking.h), and the catalog timer: every
 * catalog-refresh-interval seconds (and soon after start) a catalog refresh
 * of each connected account goes on the ServiceTitan work queue, joining one
 * a user asked for.
 */
#include "cli/serve_booking.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/booking_push.h"
#include "app/bsvc.h"
#include "app/catalog.h"
#include "app/cluster.h"
#include "app/fms.h"
#include "app/fms_conn.h"
#include "app/stqueue.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/jobq.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"

/* ---- the catalog timer ------------------------------------------------------------------- */

struct ap_catalog_timer {
    struct ap_store *st;
    struct ap_titan *t;
    struct ap_fms *fms;
    struct ap_jobq *q;
    int interval_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
};

struct cat_job {
    struct ap_catalog_timer *ct;
    int64_t account_id;
};

static enum ap_jobq_ran cat_run(struct ap_jobq_job *job, void *arg)
{
    struct cat_job *j = arg;
    struct ap_fms_conn conn;
    struct ap_catalog_result res;

    (void)job;
    if (ap_fms_conn_open(j->ct->fms, j->account_id, &conn) != AP_OK)
        return AP_JOBQ_FINISHED;
    ap_catalog_refresh(j->ct->st, j->ct->t, &conn.creds, j->account_id, &res);
    ap_fms_conn_cleanup(&conn);
    return AP_JOBQ_FINISHED;
}

static void submit_all(struct ap_catalog_timer *ct)
{
    int64_t *ids = NULL;
    size_t n = 0;

    if (ap_fms_live_accounts(ct->fms, &ids, &n) != AP_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        struct cat_job *j = ap_xcalloc(1, sizeof(*j));
        *j = (struct cat_job){ct, ids[i]};
        struct ap_jobq_spec s = {.key = ids[i],
                                 .kind = AP_ST_WORK_CATALOG,
                                 .coalesce = AP_ST_CATALOG_TIMER_COALESCE,
                                 .deadline_ns =
                                     ap_clock_mono_ns() + (int64_t)ct->interval_s * AP_NS_PER_S,
                                 .run = cat_run,
                                 .free = free,
                                 .arg = j};
        struct ap_jobq_ticket t;
        if (ap_jobq_submit(ct->q, &s, &t) != AP_OK)
            free(j);
    }
    free(ids);
}

static void *timer_main(void *arg)
{
    struct ap_catalog_timer *ct = arg;
    int wait_s = 5; /* soon after start: a restart may follow changes made in ServiceTitan */

    pthread_mutex_lock(&ct->mu);
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += wait_s;
        while (!ct->stopping && pthread_cond_timedwait(&ct->cv, &ct->mu, &ts) == 0)
            ;
        if (ct->stopping)
            break;
        pthread_mutex_unlock(&ct->mu);
        if (ap_cluster_leader()) /* on a shared database: one instance refreshes */
            submit_all(ct);
        pthread_mutex_lock(&ct->mu);
        wait_s = ct->interval_s;
    }
    pthread_mutex_unlock(&ct->mu);
    return NULL;
}

static struct ap_catalog_timer *timer_start(struct ap_store *st, struct ap_titan *t,
                                            struct ap_fms *fms, struct ap_jobq *q, int interval_s)
{
    struct ap_catalog_timer *ct = ap_xcalloc(1, sizeof(*ct));

    *ct = (struct ap_catalog_timer){.st = st, .t = t, .fms = fms, .q = q, .interval_s = interval_s};
    pthread_mutex_init(&ct->mu, NULL);
    pthread_cond_init(&ct->cv, NULL);
    if (pthread_create(&ct->thread, NULL, timer_main, ct) != 0) {
        free(ct);
        return NULL;
    }
    return ct;
}

static void timer_stop(struct ap_catalog_timer *ct)
{
    if (!ct)
        return;
    pthread_mutex_lock(&ct->mu);
    ct->stopping = true;
    pthread_cond_broadcast(&ct->cv);
    pthread_mutex_unlock(&ct->mu);
    pthread_join(ct->thread, NULL);
    pthread_mutex_destroy(&ct->mu);
    pthread_cond_destroy(&ct->cv);
    free(ct);
}

/* ---- the booking half ------------------------------------------------------------------------ */

/*
 * The operator's ServiceTitan application GUID (external data): the setting, or one derived
 * from the app key (stable for the operator's app, the same on every instance).
 */
static void app_guid(const struct ap_conf *c, char out[40])
{
    const char *g = ap_conf_str(c, "st-app-guid");
    const char *k = ap_conf_str(c, "st-app-key");
    uint8_t mac[AP_CRYPTO_HMAC_LEN];
    char hex[2 * AP_CRYPTO_HMAC_LEN + 1];

    if (g && *g) {
        snprintf(out, 40, "%s", g);
        return;
    }
    ap_crypto_hmac_sha256("appointd application guid", 25, k ? k : "", k ? strlen(k) : 0, mac);
    ap_crypto_hex(mac, 16, hex);
    snprintf(out, 40, "%.8s-%.4s-4%.3s-8%.3s-%.12s", hex, hex + 8, hex + 13, hex + 17, hex + 20);
}

int ap_serve_booking_start(struct ap_serve_booking *b, const struct ap_conf *c, struct ap_store *st,
                           struct ap_titan *t, struct ap_fms *fms, struct ap_jobq *q,
                           struct ap_metrics *m, char *err, size_t errlen)
{
    static char guid[40]; /* one server per process */

    memset(b, 0, sizeof(*b));
    if (!t)
        return 0;
    if (!(b->writer = ap_db_writer_new(st, NULL, err, errlen)))
        return -1;
    app_guid(c, guid);
    struct ap_push_opts po = {.app_guid = guid,
                              .per_account = (int)ap_conf_int(c, "push-per-account"),
                              .lease_s = (int)ap_conf_int(c, "push-lease"),
                              .rate_per_s = (int)ap_conf_int(c, "st-rate-limit"),
                              .backoff_max_s = (int)ap_conf_int(c, "push-backoff-max"),
                              .metrics = m};
    if (!(b->push = ap_push_start(st, b->writer, t, fms, &po))) {
        snprintf(err, errlen, "could not start the booking push thread");
        return -1;
    }
    struct ap_bsvc_config bc = {
        .st = st,
        .w = b->writer,
        .t = t,
        .fms = fms,
        .push = b->push,
        .metrics = m,
        .avail_ttl_s = (int)ap_conf_int(c, "availability-ttl"),
        .avail_max_stale_s = (int)ap_conf_int(c, "availability-max-stale"),
        .recheck_max_age_s = (int)ap_conf_int(c, "booking-recheck-max-age"),
    };
    if (!(b->bsvc = ap_bsvc_new(&bc))) {
        snprintf(err, errlen, "could not start the booking service");
        return -1;
    }
    if (!(b->catalog =
              timer_start(st, t, fms, q, (int)ap_conf_int(c, "catalog-refresh-interval")))) {
        snprintf(err, errlen, "could not start the catalog refresh thread");
        return -1;
    }
    ap_log_info("booking.ready", "app_guid=%s", guid);
    return 0;
}

void ap_serve_booking_stop(struct ap_serve_booking *b, int grace_ms)
{
    timer_stop(b->catalog);
    b->catalog = NULL;
    ap_push_stop(b->push, grace_ms);
}

void ap_serve_booking_free(struct ap_serve_booking *b)
{
    ap_serve_booking_stop(b, 0);
    ap_push_free(b->push);
    ap_bsvc_free(b->bsvc);
    ap_db_writer_free(b->writer);
    memset(b, 0, sizeof(*b));
}

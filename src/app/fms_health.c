/*
 * fms_health.c — keeps connections honest: a check fetches a fresh token and
 * makes one minimal read with the stored credentials. A refused secret, a
 * disabled app or a withdrawn required scope moves the connection to
 * needs_attention with the reason the dashboard shows; a check that works
 * moves it back to connected. Network trouble and rate limiting change
 * nothing (ServiceTitan being away is not the contractor's problem).
 *
 * The health thread runs every account's check every interval, and early
 * (at most once a minute) when the ServiceTitan client counted a burst of
 * 401s since it last looked — the sign of a regenerated secret or a
 * disabled app during normal traffic.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/fms_int.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"

#define BURST_401       3  /* this many new 401s since the last look trigger a check */
#define BURST_POLL_S    5  /* how often the thread looks at the counter */
#define BURST_MIN_GAP_S 60 /* early checks at most this often */

/* The probe read of a check: the first required read scope's. */
static const struct ap_fms_scope *check_probe(void)
{
    for (size_t i = 0; i < ap_fms_nscopes; i++) {
        if (ap_fms_scopes[i].required && ap_fms_scopes[i].probe_module)
            return &ap_fms_scopes[i];
    }
    return NULL;
}

/* Writes the verdict: connected (reason NULL) or needs_attention (reason). */
static enum ap_err save_verdict(struct ap_fms *f, int64_t account_id, const char *client_id,
                                const char *reason, const char *granted, const char *missing)
{
    char now[32];
    ap_fms_now(now);
    struct ap_db_val v[] = {ap_db_text(reason ? "needs_attention" : "connected"),
                            ap_db_text(reason),
                            ap_db_text(now),
                            ap_db_text(reason ? NULL : now),
                            ap_db_text(granted),
                            ap_db_text(missing),
                            ap_db_text(now),
                            ap_db_int(account_id),
                            ap_db_text(client_id)};
    struct ap_db_conn *c = ap_store_acquire(f->store, true);
    if (!c)
        return AP_EUNAVAIL;
    enum ap_err err = ap_db_exec(
        c,
        "UPDATE fms_connections SET state = ?, attention_reason = ?, last_checked_at = ?, "
        "last_success_at = COALESCE(?, last_success_at), granted_scopes = COALESCE(?, "
        "granted_scopes), missing_scopes = COALESCE(?, missing_scopes), updated_at = ? "
        "WHERE account_id = ? AND client_id = ? AND state IN ('connected', 'needs_attention')",
        v, 9);
    ap_store_release(c);
    return err;
}

/* One check with the opened secret; fills reason ("" when healthy) or returns AP_EUNAVAIL. */
static enum ap_err run_check(struct ap_fms *f, const struct fms_row *row, const char *secret,
                             char *reason, size_t rlen, char **granted, char **missing)
{
    struct ap_fms_titan_ctx ctx = {row->tenant_id, f->environment, true};
    struct ap_titan_creds cr = {row->tenant_id, row->client_id, secret};
    struct ap_titan_token_info ti = {0};
    struct ap_titan_error te = {0};
    struct ap_fms_error fe = {0};
    bool miss[AP_FMS_MAX_SCOPES] = {0};
    const struct ap_fms_scope *p = check_probe();
    enum ap_err rc = ap_titan_token(f->titan, &cr, true, &ti, &te);
    if (rc == AP_OK && ti.tenant_id != row->tenant_id) {
        ap_fms_wrong_tenant(ti.tenant_id, row->tenant_id, &fe);
    } else if (rc == AP_OK && p) {
        json_t *out = NULL;
        rc = ap_titan_call(f->titan, &cr, "GET", p->probe_module, p->probe_path, p->probe_query,
                           NULL, &out, &te);
        json_decref(out);
    }
    if (rc != AP_OK && te.status == 403 && p) { /* the probe's own read grant was withdrawn */
        bool denied[AP_FMS_MAX_SCOPES] = {0};
        denied[p - ap_fms_scopes] = true;
        ap_fms_scope_diff(ti.scopes, ti.nscopes, denied, miss);
        ap_fms_scopes_error(miss, &fe);
        rc = AP_OK;
    } else if (rc == AP_OK && !fe.code[0] && ap_fms_scope_diff(ti.scopes, ti.nscopes, NULL, miss)) {
        ap_fms_scopes_error(miss, &fe);
    }
    if (rc == AP_OK && !fe.code[0]) {
        struct ap_buf b;
        ap_buf_init(&b, 64 * 1024);
        for (size_t i = 0; i < ti.nscopes; i++)
            ap_buf_printf(&b, "%s%s", i ? " " : "", ti.scopes[i]);
        *granted = ap_buf_take(&b);
        *missing = ap_fms_scopes_join(miss);
    }
    if (rc != AP_OK && ap_fms_error_from_titan(rc, &te, &ctx, &fe) == AP_EUNAVAIL)
        rc = AP_EUNAVAIL;
    else
        rc = AP_OK;
    snprintf(reason, rlen, "%s", rc == AP_OK ? fe.message : "");
    ap_titan_token_info_cleanup(&ti);
    return rc;
}

enum ap_err ap_fms_check(struct ap_fms *f, int64_t account_id)
{
    struct fms_row row;
    char *secret = NULL, *granted = NULL, *missing = NULL, reason[400] = "";
    if (ap_fms_row_load(f, account_id, &row))
        return AP_EUNAVAIL;
    enum ap_err err = AP_ENOTFOUND;
    if (!row.exists || (row.state != AP_FMS_CONNECTED && row.state != AP_FMS_NEEDS_ATTENTION) ||
        !row.client_id)
        goto out;
    if ((err = ap_fms_open_secret(f, account_id, &row, &secret))) {
        ap_log_error("fms.secret_unreadable", "account=%lld err=%s", (long long)account_id,
                     ap_err_str(err));
        snprintf(reason, sizeof(reason),
                 "The stored Client Secret cannot be read (was the master key changed?). "
                 "Generate a new Client Secret in ServiceTitan and paste it in Step 4.");
        err = AP_OK;
    } else if ((err = run_check(f, &row, secret, reason, sizeof(reason), &granted, &missing))) {
        ap_log_warn("fms.check_unavailable", "account=%lld tenant=%lld", (long long)account_id,
                    (long long)row.tenant_id);
        goto out;
    }
    err = save_verdict(f, account_id, row.client_id, reason[0] ? reason : NULL, granted, missing);
    if (reason[0] && row.state == AP_FMS_CONNECTED)
        ap_log_warn("fms.needs_attention", "account=%lld tenant=%lld", (long long)account_id,
                    (long long)row.tenant_id);
    else if (!reason[0] && row.state == AP_FMS_NEEDS_ATTENTION)
        ap_log_info("fms.recovered", "account=%lld tenant=%lld", (long long)account_id,
                    (long long)row.tenant_id);
out:
    if (secret) {
        ap_crypto_wipe(secret, strlen(secret));
        free(secret);
    }
    free(granted);
    free(missing);
    ap_fms_row_cleanup(&row);
    return err;
}

void ap_fms_check_all(struct ap_fms *f)
{
    struct ap_db_conn *c = ap_store_acquire(f->store, false);
    if (!c)
        return;
    int64_t *ids = NULL;
    size_t n = 0;
    struct ap_db_rows *r = NULL;
    if (ap_db_query(c,
                    "SELECT account_id FROM fms_connections WHERE state IN ('connected', "
                    "'needs_attention') ORDER BY account_id",
                    NULL, 0, &r) == AP_OK) {
        while (ap_db_next(r)) {
            ids = ap_xrealloc(ids, (n + 1) * sizeof(*ids));
            ids[n++] = ap_db_row_int(r, 0);
        }
        ap_db_done(r);
    }
    ap_store_release(c);
    for (size_t i = 0; i < n; i++)
        ap_fms_check(f, ids[i]);
    free(ids);
}

/* ---- the thread ------------------------------------------------------------- */

struct ap_fms_health {
    struct ap_fms *f;
    int interval_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
};

/* Sleeps up to s seconds; false when asked to stop. */
static bool nap(struct ap_fms_health *h, int s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += s;
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        if (pthread_cond_timedwait(&h->wake, &h->lock, &until) != 0)
            break;
    }
    bool go = !h->stopping;
    pthread_mutex_unlock(&h->lock);
    return go;
}

static uint64_t count_401(struct ap_fms *f)
{
    struct ap_titan_stats st = {0};
    ap_titan_stats(f->titan, &st);
    return st.http_401;
}

static void *health_main(void *arg)
{
    struct ap_fms_health *h = arg;
    int64_t last_run = ap_clock_mono_ns(), s_ns = 1000000000;
    uint64_t seen_401 = count_401(h->f);
    while (nap(h, BURST_POLL_S < h->interval_s ? BURST_POLL_S : h->interval_s)) {
        int64_t now = ap_clock_mono_ns();
        uint64_t n401 = count_401(h->f);
        bool due = now - last_run >= (int64_t)h->interval_s * s_ns;
        bool burst = n401 - seen_401 >= BURST_401 && now - last_run >= BURST_MIN_GAP_S * s_ns;
        if (!due && !burst)
            continue;
        if (burst)
            ap_log_info("fms.health_burst", "new_401=%llu", (unsigned long long)(n401 - seen_401));
        ap_fms_check_all(h->f);
        last_run = ap_clock_mono_ns();
        seen_401 = count_401(h->f);
    }
    return NULL;
}

struct ap_fms_health *ap_fms_health_start(struct ap_fms *f, int interval_s)
{
    struct ap_fms_health *h = ap_xcalloc(1, sizeof(*h));
    h->f = f;
    h->interval_s = interval_s > 0 ? interval_s : 900;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    if (pthread_create(&h->thread, NULL, health_main, h) != 0) {
        pthread_mutex_destroy(&h->lock);
        pthread_cond_destroy(&h->wake);
        free(h);
        return NULL;
    }
    ap_log_info("fms.health_started", "interval_s=%d", h->interval_s);
    return h;
}

void ap_fms_health_stop(struct ap_fms_health *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->wake);
    free(h);
}

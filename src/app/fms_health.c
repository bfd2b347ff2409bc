/*
 * fms_health.c — keeps connections honest: a check gets a token (a fresh one
 * when its point is to test the secret, at most once a minute per account;
 * the cached one otherwise) and makes one minimal read with the stored
 * credentials. A refused secret, a disabled app or a withdrawn required
 * scope moves the connection to needs_attention with the reason the
 * dashboard shows; a check that works moves it back to connected. Network
 * trouble and rate limiting change nothing (ServiceTitan being away is not
 * the contractor's problem).
 *
 * Checks run as jobs of the account work queue. The health thread submits
 * one per live account every interval, and early (at most once a minute)
 * when the ServiceTitan client counted a burst of 401s since it last looked
 * — the sign of a regenerated secret or a disabled app during normal
 * traffic; a check already waiting or running for the account is joined.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/cluster.h"
#include "app/fms_int.h"
#include "app/stqueue.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/jobq.h"
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

/*
 * Writes the verdict: connected (reason NULL) or needs_attention (reason),
 * only if the row still holds the secret the check used (a rotation that
 * saved meanwhile wins over a verdict on the old secret).
 */
static enum ap_err save_verdict(struct ap_fms *f, int64_t account_id, const struct fms_row *row,
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
                            ap_db_text(row->client_id),
                            ap_db_text(row->secret_sealed)};
    struct ap_db_conn *c = ap_store_acquire(f->store, true);
    if (!c)
        return AP_EUNAVAIL;
    enum ap_err err = ap_db_exec(
        c,
        "UPDATE fms_connections SET state = ?, attention_reason = ?, last_checked_at = ?, "
        "last_success_at = COALESCE(?, last_success_at), granted_scopes = COALESCE(?, "
        "granted_scopes), missing_scopes = COALESCE(?, missing_scopes), updated_at = ? "
        "WHERE account_id = ? AND client_id = ? AND secret_sealed IS NOT DISTINCT FROM ? "
        "AND state IN ('connected', 'needs_attention')",
        v, AP_COUNTOF(v));
    ap_store_release(c);
    return err;
}

/* What a check found. */
struct verdict {
    char reason[sizeof(((struct ap_fms_error *)0)->message)]; /* "" when healthy */
    char *granted, *missing;                                  /* when healthy (malloc'd) */
};

/* The token's claims and the probe read, turned into a verdict (fe: why it is not healthy). */
static void judge(const struct ap_titan_token_info *ti, enum ap_err *rc,
                  const struct ap_titan_error *te, struct ap_fms_error *fe, struct verdict *v)
{
    const struct ap_fms_scope *p = check_probe();
    bool miss[AP_FMS_MAX_SCOPES] = {0};
    if (*rc != AP_OK && te->status == 403 && p) { /* the probe's own read grant was withdrawn */
        bool denied[AP_FMS_MAX_SCOPES] = {0};
        denied[p - ap_fms_scopes] = true;
        ap_fms_scope_diff(ti->scopes, ti->nscopes, denied, miss);
        ap_fms_scopes_error(miss, fe);
        *rc = AP_OK;
    } else if (*rc == AP_OK && !fe->code &&
               ap_fms_scope_diff(ti->scopes, ti->nscopes, NULL, miss)) {
        ap_fms_scopes_error(miss, fe);
    }
    if (*rc == AP_OK && !fe->code) {
        struct ap_buf b;
        ap_buf_init(&b, 64 * 1024);
        for (size_t i = 0; i < ti->nscopes; i++)
            ap_buf_printf(&b, "%s%s", i ? " " : "", ti->scopes[i]);
        v->granted = ap_buf_take(&b);
        v->missing = ap_fms_scopes_join(miss);
    }
}

/*
 * One check with the opened secret (force: a fresh token). AP_OK with the
 * verdict, or AP_EUNAVAIL with e saying why ServiceTitan could not be asked.
 */
static enum ap_err run_check(struct ap_fms *f, const struct fms_row *row, const char *secret,
                             bool force, struct verdict *v, struct ap_fms_error *e)
{
    struct ap_fms_titan_ctx ctx = {row->tenant_id, f->environment, true};
    struct ap_titan_creds cr = {row->tenant_id, row->client_id, secret};
    struct ap_titan_token_info ti = {0};
    struct ap_titan_error te = {0};
    struct ap_fms_error fe = {0};
    const struct ap_fms_scope *p = check_probe();
    enum ap_err rc = ap_titan_token(f->titan, &cr, force, &ti, &te);
    if (rc == AP_OK && ti.tenant_id != row->tenant_id) {
        ap_fms_wrong_tenant(ti.tenant_id, row->tenant_id, &fe);
    } else if (rc == AP_OK && p) {
        json_t *out = NULL;
        rc = ap_titan_call(f->titan, &cr, "GET", p->probe_module, p->probe_path, p->probe_query,
                           NULL, &out, &te);
        json_decref(out);
    }
    judge(&ti, &rc, &te, &fe, v);
    ap_titan_token_info_cleanup(&ti);
    if (rc != AP_OK && ap_fms_error_from_titan(rc, &te, &ctx, &fe) == AP_EUNAVAIL) {
        if (e)
            *e = fe;
        return AP_EUNAVAIL;
    }
    snprintf(v->reason, sizeof(v->reason), "%s", fe.message);
    return AP_OK;
}

static void log_verdict(const struct fms_row *row, int64_t account_id, const char *reason)
{
    if (reason[0] && row->state == AP_FMS_CONNECTED)
        ap_log_warn("fms.needs_attention", "account=%lld tenant=%lld", (long long)account_id,
                    (long long)row->tenant_id);
    else if (!reason[0] && row->state == AP_FMS_NEEDS_ATTENTION)
        ap_log_info("fms.recovered", "account=%lld tenant=%lld", (long long)account_id,
                    (long long)row->tenant_id);
}

/* Checks with the stored secret; AP_OK with the verdict, AP_EUNAVAIL (e) when ST was away. */
static enum ap_err check_row(struct ap_fms *f, int64_t account_id, const struct fms_row *row,
                             bool force, struct verdict *v, struct ap_fms_error *e)
{
    char *secret = NULL;
    enum ap_err err = ap_fms_open_secret(f, account_id, row, &secret);
    if (err) {
        ap_log_error("fms.secret_unreadable", "account=%lld err=%s", (long long)account_id,
                     ap_err_str(err));
        snprintf(v->reason, sizeof(v->reason),
                 "The stored Client Secret cannot be read (was the master key changed?). "
                 "Generate a new Client Secret in ServiceTitan and paste it in Step 4.");
        return AP_OK;
    }
    err = run_check(f, row, secret, force, v, e);
    if (force)
        ap_fms_memo_tested(f, account_id);
    ap_crypto_wipe(secret, strlen(secret));
    free(secret);
    if (err)
        ap_log_warn("fms.check_unavailable", "account=%lld tenant=%lld", (long long)account_id,
                    (long long)row->tenant_id);
    return err;
}

enum ap_err ap_fms_check(struct ap_fms *f, int64_t account_id, enum ap_fms_check_mode mode,
                         struct ap_jobq_job *job, struct ap_fms_error *e)
{
    struct fms_row row;
    struct verdict v = {0};
    if (ap_fms_row_load(f, account_id, &row))
        return ap_fms_fail(e, AP_FMS_E_STORE_UNAVAILABLE,
                           "The database is not available right now. Nothing changed: try again "
                           "in a minute.");
    enum ap_err err;
    bool force = mode == AP_FMS_CHECK_SECRET && !ap_fms_memo_recent(f, account_id);
    if (!row.exists || (row.state != AP_FMS_CONNECTED && row.state != AP_FMS_NEEDS_ATTENTION) ||
        !row.client_id) {
        err = ap_fms_fail(e, AP_FMS_E_NOT_CONNECTED,
                          "This account is not connected to ServiceTitan.");
    } else if (!(err = check_row(f, account_id, &row, force, &v, e))) {
        if (!ap_jobq_commit(job))
            err = ap_fms_fail(e, AP_FMS_E_SERVICETITAN_TIMEOUT,
                              "The check took longer than the caller could wait. Nothing was "
                              "saved: try again in a minute.");
        else if (save_verdict(f, account_id, &row, v.reason[0] ? v.reason : NULL, v.granted,
                              v.missing))
            err = ap_fms_fail(e, AP_FMS_E_STORE_UNAVAILABLE,
                              "The database is not available right now. Nothing changed: try "
                              "again in a minute.");
        else
            log_verdict(&row, account_id, v.reason);
    }
    free(v.granted);
    free(v.missing);
    ap_fms_row_cleanup(&row);
    return err;
}

enum ap_err ap_fms_live_accounts(struct ap_fms *f, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    struct ap_db_conn *c = ap_store_acquire(f->store, false);
    if (!c)
        return AP_EUNAVAIL;
    struct ap_db_rows *r = NULL;
    enum ap_err err = ap_db_query(c,
                                  "SELECT account_id FROM fms_connections WHERE state IN "
                                  "('connected', 'needs_attention') ORDER BY account_id",
                                  NULL, 0, &r);
    while (!err && ap_db_next(r)) {
        *ids = ap_xrealloc(*ids, (*n + 1) * sizeof(**ids));
        (*ids)[(*n)++] = ap_db_row_int(r, 0);
    }
    if (!err)
        err = ap_db_done(r);
    ap_store_release(c);
    return err;
}

/* ---- checks as jobs of the account work queue ------------------------------------ */

struct ap_fms_check_job *ap_fms_check_job_new(struct ap_fms *f, int64_t account_id,
                                              enum ap_fms_check_mode mode)
{
    struct ap_fms_check_job *j = ap_xcalloc(1, sizeof(*j));
    j->f = f;
    j->account_id = account_id;
    j->mode = mode;
    return j;
}

enum ap_jobq_ran ap_fms_check_job_run(struct ap_jobq_job *job, void *arg)
{
    struct ap_fms_check_job *j = arg;
    j->err = ap_fms_check(j->f, j->account_id, j->mode, job, &j->e);
    json_t *st = j->err ? NULL : ap_fms_status(j->f, j->account_id);
    if (!j->err && !st)
        j->err = ap_fms_fail(&j->e, AP_FMS_E_STORE_UNAVAILABLE,
                             "The database is not available right now: try again in a minute.");
    j->status = st ? ap_json_dumps(st) : NULL;
    json_decref(st);
    return AP_JOBQ_FINISHED;
}

void ap_fms_check_job_free(void *arg)
{
    struct ap_fms_check_job *j = arg;
    if (j)
        free(j->status);
    free(j);
}

/* ---- when each account's secret was last tested ------------------------------------ */

#define MEMO_MAX 100000 /* accounts remembered at once (only those tested within the window) */

struct ap_fms_memo {
    size_t n;
    struct memo_entry {
        int64_t account_id, at_ns;
    } * e;
};

/* One lock for every memo: they are touched once per check. */
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static bool fresh(const struct memo_entry *m, int64_t now)
{
    return now - m->at_ns < (int64_t)AP_FMS_SECRET_TEST_S * AP_NS_PER_S;
}

void ap_fms_memo_tested(struct ap_fms *f, int64_t account_id)
{
    int64_t now = ap_clock_mono_ns();
    pthread_mutex_lock(&memo_lock);
    if (!f->memo)
        f->memo = ap_xcalloc(1, sizeof(*f->memo));
    struct ap_fms_memo *m = f->memo;
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) { /* keep the fresh ones, not this account's */
        if (fresh(&m->e[i], now) && m->e[i].account_id != account_id)
            m->e[k++] = m->e[i];
    }
    m->n = k < MEMO_MAX ? k : MEMO_MAX - 1;
    m->e = ap_xrealloc(m->e, (m->n + 1) * sizeof(*m->e));
    m->e[m->n++] = (struct memo_entry){account_id, now};
    pthread_mutex_unlock(&memo_lock);
}

bool ap_fms_memo_recent(struct ap_fms *f, int64_t account_id)
{
    int64_t now = ap_clock_mono_ns();
    bool yes = false;
    pthread_mutex_lock(&memo_lock);
    for (size_t i = 0; f->memo && i < f->memo->n && !yes; i++)
        yes = f->memo->e[i].account_id == account_id && fresh(&f->memo->e[i], now);
    pthread_mutex_unlock(&memo_lock);
    return yes;
}

void ap_fms_cleanup(struct ap_fms *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&memo_lock);
    if (f->memo)
        free(f->memo->e);
    free(f->memo);
    f->memo = NULL;
    pthread_mutex_unlock(&memo_lock);
}

/* ---- the thread ------------------------------------------------------------- */

struct ap_fms_health {
    struct ap_fms *f;
    struct ap_jobq *q;
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

/* Submits a check of every live account, each joining a check already there. */
static void submit_checks(struct ap_fms_health *h)
{
    int64_t *ids = NULL, start_by = ap_clock_mono_ns() + (int64_t)h->interval_s * AP_NS_PER_S;
    size_t n = 0, queued = 0, joined = 0;
    if (ap_fms_live_accounts(h->f, &ids, &n)) {
        ap_log_warn("fms.health_skipped", "reason=\"the database cannot be read\"");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct ap_fms_check_job *j = ap_fms_check_job_new(h->f, ids[i], AP_FMS_CHECK_SECRET);
        struct ap_jobq_spec s = {.key = ids[i],
                                 .kind = AP_ST_WORK_CHECK,
                                 .coalesce = AP_FMS_CHECK_COALESCE,
                                 .deadline_ns = start_by,
                                 .run = ap_fms_check_job_run,
                                 .free = ap_fms_check_job_free,
                                 .arg = j};
        struct ap_jobq_ticket t;
        if (ap_jobq_submit(h->q, &s, &t) != AP_OK)
            ap_fms_check_job_free(j);
        else
            *(t.joined ? &joined : &queued) += 1;
    }
    ap_log_info("fms.health_round", "accounts=%zu queued=%zu joined=%zu refused=%zu", n, queued,
                joined, n - queued - joined);
    free(ids);
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
        /* on a shared database the periodic round is the leader's; a burst of this
         * instance's own 401s is checked here */
        if (!burst && !ap_cluster_leader()) {
            last_run = now;
            continue;
        }
        if (burst)
            ap_log_info("fms.health_burst", "new_401=%llu", (unsigned long long)(n401 - seen_401));
        submit_checks(h);
        last_run = ap_clock_mono_ns();
        seen_401 = count_401(h->f);
    }
    return NULL;
}

struct ap_fms_health *ap_fms_health_start(struct ap_fms *f, struct ap_jobq *q, int interval_s)
{
    struct ap_fms_health *h = ap_xcalloc(1, sizeof(*h));
    h->f = f;
    h->q = q;
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

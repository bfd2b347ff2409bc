/*
 * booking_push.c — the outbox's poller: it parks and unparks bookings with
 * their account's connection, claims due bookings with a lease, loads each
 * into a job for push_steps.c, and persists how each push ended (and every
 * call of it) through the db writer. See booking_push.h.
 */
#include "app/booking_push_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/scheduler.h"
#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "crypto/crypto.h"
#include "db/store.h"

/* Most bookings one poll claims. */
#define CLAIM_BATCH 256
/* Shortest time between two passes of the poller (ns). */
#define POLL_MIN_NS (5 * AP_NS_PER_MS)

static int64_t now_real(void)
{
    return ap_clock_real_ns();
}

/* ---- accounts and bookings in flight (p->mu held) ------------------------------------ */

static struct push_acct *account_slot(struct ap_push *p, int64_t account_id)
{
    for (size_t i = 0; i < p->naccts; i++)
        if (p->accts[i].account_id == account_id)
            return &p->accts[i];
    p->accts = ap_xrealloc(p->accts, (p->naccts + 1) * sizeof(*p->accts));
    p->accts[p->naccts] = (struct push_acct){account_id, 0};
    return &p->accts[p->naccts++];
}

/* Whether booking id is being pushed by this process (its lease may look expired to the store
 * while its end waits for the writer: never claim it twice). */
static bool flying(const struct ap_push *p, int64_t id)
{
    for (size_t i = 0; i < p->nflying; i++)
        if (p->flying[i] == id)
            return true;
    return false;
}

static void fly(struct ap_push *p, int64_t id)
{
    if (p->nflying == p->capflying) {
        p->capflying = p->capflying ? 2 * p->capflying : 64;
        p->flying = ap_xrealloc(p->flying, p->capflying * sizeof(*p->flying));
    }
    p->flying[p->nflying++] = id;
}

static void land(struct ap_push *p, int64_t id)
{
    for (size_t i = 0; i < p->nflying; i++)
        if (p->flying[i] == id) {
            p->flying[i] = p->flying[--p->nflying];
            return;
        }
}

/* ---- persisting --------------------------------------------------------------------- */

struct call_log {
    int64_t booking_id;
    char at[32], method[8], path[256], outcome[24], trace[80], title[256], fields[512];
    char created[96];
    int status;
    int64_t ms;
};

static enum ap_err write_call(struct ap_db_conn *c, void *arg)
{
    struct call_log *l = arg;
    struct ap_db_val v[] = {
        ap_db_int(l->booking_id),
        ap_db_text(l->at),
        ap_db_text(l->method),
        ap_db_text(l->path),
        ap_db_int(l->status),
        ap_db_text(l->outcome),
        ap_db_text(l->trace[0] ? l->trace : NULL),
        ap_db_text(l->title[0] ? l->title : NULL),
        ap_db_text(l->fields[0] ? l->fields : NULL),
        ap_db_text(l->created[0] ? l->created : NULL),
        ap_db_int(l->ms),
    };
    return ap_db_exec(c,
                      "INSERT INTO booking_calls (booking_id, at, method, path, status, outcome, "
                      "trace_id, title, fields, created_ids, duration_ms) VALUES (?, ?, ?, ?, ?, "
                      "?, ?, ?, ?, ?, ?)",
                      v, AP_COUNTOF(v));
}

static void free_arg(void *arg, enum ap_err err)
{
    if (err)
        ap_log_error("push.log_failed", "err=%s", ap_err_str(err));
    free(arg);
}

static const char *outcome_name(enum ap_err err, const struct ap_titan_error *e)
{
    if (err == AP_OK)
        return "ok";
    if (e->stage == AP_TITAN_STAGE_CANCELED)
        return "canceled";
    if (err == AP_ETIMEOUT)
        return "timeout";
    if (e->status == 0)
        return e->sent ? "no_answer" : "network";
    if (e->status == 429)
        return "rate_limited";
    return e->status >= 500 ? "server_error" : "client_error";
}

void ap_push_log_call(struct push_job *j, const char *method, enum ap_err err,
                      const struct ap_titan_error *e, const char *created)
{
    struct call_log *l = ap_xcalloc(1, sizeof(*l));

    l->booking_id = j->id;
    ap_clock_format_utc(now_real(), l->at);
    snprintf(l->method, sizeof(l->method), "%s", method);
    snprintf(l->path, sizeof(l->path), "/%s%.240s",
             j->step == STEP_CREATE_JOB || j->step == STEP_LOOKUP_JOB ? "jpm" : "crm", j->path);
    snprintf(l->outcome, sizeof(l->outcome), "%s", outcome_name(err, e));
    snprintf(l->trace, sizeof(l->trace), "%s", e->trace_id);
    snprintf(l->title, sizeof(l->title), "%s", err ? e->title : "");
    snprintf(l->fields, sizeof(l->fields), "%s", e->fields);
    snprintf(l->created, sizeof(l->created), "%s", created);
    l->status = err == AP_OK ? 200 : e->status;
    l->ms = (ap_clock_mono_ns() - j->call_started) / AP_NS_PER_MS;
    atomic_fetch_add(&j->p->n_calls, 1);
    ap_log_debug("push.call", "booking=%lld step=%d method=%s status=%d outcome=%s ms=%lld",
                 (long long)j->id, (int)j->step, method, l->status, l->outcome, (long long)l->ms);
    if (ap_db_writer_submit(j->p->w, write_call, l, free_arg) != AP_OK) {
        ap_log_warn("push.log_dropped", "booking=%lld reason=\"writer busy\"", (long long)j->id);
        free(l);
    }
}

/* Jittered exponential backoff for attempt n (1 = first retry), at least retry_after. */
static int64_t backoff_ns(const struct ap_push *p, int n, int retry_after_s)
{
    int64_t base = 2 * AP_NS_PER_S << (n > 10 ? 10 : n - 1), cap = p->o.backoff_max_s * AP_NS_PER_S;
    uint32_t r;

    if (base > cap)
        base = cap;
    ap_crypto_random(&r, sizeof(r));
    base = base / 2 + (int64_t)(r % (uint32_t)(base / 2 / AP_NS_PER_MS + 1)) * AP_NS_PER_MS;
    if ((int64_t)retry_after_s * AP_NS_PER_S > base)
        base = (int64_t)retry_after_s * AP_NS_PER_S;
    return base;
}

static enum ap_err write_end(struct ap_db_conn *c, void *arg)
{
    struct push_job *j = arg;
    char now[32], *err_text = j->error ? ap_json_dumps(j->error) : NULL;
    const char *state = j->outcome == PUSH_BOOKED            ? "booked"
                        : j->outcome == PUSH_NEEDS_ATTENTION ? "needs_attention"
                        : j->outcome == PUSH_PARK            ? "parked"
                                                             : "accepted";
    int64_t next = j->outcome == PUSH_RETRY
                       ? now_real() + backoff_ns(j->p, j->attempts + 1, j->retry_after_s)
                       : 0;
    enum ap_err err;
    struct ap_db_val n = ap_db_null();

    ap_clock_format_utc(now_real(), now);
    struct ap_db_val v[] = {
        ap_db_text(state),
        ap_db_int(next),
        j->outcome == PUSH_BOOKED ? ap_db_int(now_real()) : n,
        j->customer ? ap_db_int(j->customer) : n,
        j->location ? ap_db_int(j->location) : n,
        j->job ? ap_db_int(j->job) : n,
        j->appointment ? ap_db_int(j->appointment) : n,
        j->booking ? ap_db_int(j->booking) : n,
        ap_db_text(j->outcome == PUSH_BOOKED ? NULL : err_text),
        ap_db_text(now),
        ap_db_int(j->id),
        ap_db_text(j->p->owner),
    };
    err = ap_db_exec(c,
                     "UPDATE bookings SET state = ?, next_attempt = ?, pushed_at = COALESCE(?, "
                     "pushed_at), st_customer_id = COALESCE(?, st_customer_id), st_location_id = "
                     "COALESCE(?, st_location_id), st_job_id = COALESCE(?, st_job_id), "
                     "st_appointment_id = COALESCE(?, st_appointment_id), st_booking_id = "
                     "COALESCE(?, st_booking_id), last_error = ?, updated_at = ?, attempts = "
                     "attempts + 1, lease_until = 0, lease_owner = NULL WHERE id = ? AND "
                     "state = 'pushing' AND lease_owner = ?",
                     v, AP_COUNTOF(v));
    free(err_text);
    if (!err && ap_db_changes(c) == 0)
        ap_log_warn("push.lease_lost", "booking=%lld reason=\"claimed by another pusher\"",
                    (long long)j->id);
    return err;
}

static void job_free(struct push_job *j)
{
    ap_fms_conn_cleanup(&j->conn);
    json_decref(j->req);
    json_decref(j->body);
    json_decref(j->error);
    free(j->summary);
    free(j);
}

/* After the end was written: counts, metrics, the account's slot back, the poller woken. */
static void ended(void *arg, enum ap_err err)
{
    struct push_job *j = arg;
    struct ap_push *p = j->p;
    static const char *const names[] = {"booked", "needs_attention", "retry", "parked"};

    if (err)
        ap_log_error("push.end_failed", "booking=%lld err=%s", (long long)j->id, ap_err_str(err));
    ap_log_info("push.end", "booking=%lld reference=%s outcome=%s attempts=%d", (long long)j->id,
                j->reference, names[j->outcome], j->attempts + 1);
    atomic_fetch_add(j->outcome == PUSH_BOOKED            ? &p->n_booked
                     : j->outcome == PUSH_NEEDS_ATTENTION ? &p->n_attention
                     : j->outcome == PUSH_PARK            ? &p->n_parked
                                                          : &p->n_retried,
                     1);
    ap_counter_add(p->by_outcome[j->outcome], 1);
    if (j->outcome == PUSH_BOOKED)
        ap_histogram_observe(p->latency, (double)(now_real() - j->accepted_at) / 1e9);
    pthread_mutex_lock(&p->mu);
    account_slot(p, j->account_id)->in_flight--;
    p->in_flight--;
    land(p, j->id);
    p->kicked = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    job_free(j);
}

void ap_push_job_end(struct push_job *j)
{
    if (ap_db_writer_submit(j->p->w, write_end, j, ended) != AP_OK) {
        /* the writer is stopping or full: the lease expires and a later run resumes it */
        ap_log_warn("push.end_dropped", "booking=%lld", (long long)j->id);
        ended(j, AP_EUNAVAIL);
    }
}

/* ---- the poller ---------------------------------------------------------------------- */

/*
 * Parks and unparks by the accounts' connections. An account is refused while its connection
 * is not connected, or while it has a booking parked since the connection last worked (a push
 * was refused: its 401 came before the health check noticed); its accepted bookings wait
 * parked then, instead of each being refused in turn. Parked bookings go on once the
 * connection is connected and has worked since they were parked (the health check, or "Check
 * connection now"). Times are RFC 3339 UTC text of one format, so they compare as text.
 */
static void park_unpark(struct ap_push *p)
{
    static const char park[] =
        "UPDATE bookings SET state = 'parked', updated_at = ? WHERE state = 'accepted' AND ("
        "NOT EXISTS (SELECT 1 FROM fms_connections f WHERE f.account_id = bookings.account_id "
        "AND f.state = 'connected') OR EXISTS (SELECT 1 FROM bookings p JOIN fms_connections f "
        "ON f.account_id = p.account_id WHERE p.account_id = bookings.account_id AND p.state = "
        "'parked' AND p.updated_at >= COALESCE(f.last_success_at, '')))";
    static const char unpark[] =
        "UPDATE bookings SET state = 'accepted', next_attempt = 0, updated_at = ? WHERE state = "
        "'parked' AND EXISTS (SELECT 1 FROM fms_connections f WHERE f.account_id = "
        "bookings.account_id AND f.state = 'connected' AND f.last_success_at > "
        "bookings.updated_at)";
    struct ap_db_conn *c;
    char now[32];
    int64_t parked = 0, unparked = 0, any = 0;

    /* the common case, nothing parked and every account connected, costs one read */
    if (!(c = ap_store_acquire(p->st, false)))
        return;
    ap_db_query_int(c,
                    "SELECT EXISTS (SELECT 1 FROM bookings WHERE state = 'parked') OR EXISTS "
                    "(SELECT 1 FROM fms_connections f WHERE f.state <> 'connected' AND EXISTS "
                    "(SELECT 1 FROM bookings b WHERE b.account_id = f.account_id AND b.state = "
                    "'accepted'))",
                    NULL, 0, &any);
    ap_store_release(c);
    if (any && (c = ap_store_acquire(p->st, true))) {
        ap_clock_format_utc(now_real(), now);
        struct ap_db_val v = ap_db_text(now);
        if (ap_db_exec(c, unpark, &v, 1) == AP_OK)
            unparked = ap_db_changes(c);
        if (ap_db_exec(c, park, &v, 1) == AP_OK)
            parked = ap_db_changes(c);
        ap_store_release(c);
    }
    if (parked || unparked)
        ap_log_info("push.parking", "parked=%lld resumed=%lld", (long long)parked,
                    (long long)unparked);
}

static const char job_cols[] =
    "SELECT b.id, b.account_id, b.reference, b.mode, b.attempts, b.request, b.summary, "
    "b.business_unit_id, b.job_type_id, b.campaign_id, b.window_start, b.window_end, "
    "b.service_id, s.config, b.created_at, b.st_customer_id, b.st_location_id "
    "FROM bookings b JOIN schedulers s ON s.id = b.scheduler_id WHERE b.id = ?";

/* The scheduler's settings a push needs: priority, tags, booking provider. */
static void job_sched(struct push_job *j, const char *cfg_text, const char *service)
{
    json_t *cfg = NULL;
    struct ap_sched *s = NULL;

    snprintf(j->priority, sizeof(j->priority), "Normal");
    if (!cfg_text || ap_json_parse_body(cfg_text, strlen(cfg_text), AP_JSON_OBJECT, &cfg, NULL) ||
        ap_sched_parse(cfg, NULL, &s, NULL)) {
        json_decref(cfg);
        return;
    }
    const struct ap_sched_service *sv = ap_sched_service(s, service);
    if (sv)
        snprintf(j->priority, sizeof(j->priority), "%s", sv->priority);
    for (size_t i = 0; i < s->ntags && i < AP_COUNTOF(j->tag_ids); i++)
        j->tag_ids[j->ntags++] = s->tag_type_ids[i];
    j->provider = s->booking_provider_tag_id;
    ap_sched_free(s);
    json_decref(cfg);
}

static struct push_job *job_load(struct ap_push *p, struct ap_db_conn *c, int64_t id, bool resume)
{
    struct ap_db_val v = ap_db_int(id);
    struct ap_db_rows *r;
    struct push_job *j = NULL;

    if (ap_db_query(c, job_cols, &v, 1, &r) != AP_OK)
        return NULL;
    if (ap_db_next(r)) {
        const char *req = ap_db_row_text(r, 5);
        j = ap_xcalloc(1, sizeof(*j));
        j->p = p;
        j->id = ap_db_row_int(r, 0);
        j->account_id = ap_db_row_int(r, 1);
        snprintf(j->reference, sizeof(j->reference), "%s", ap_db_row_text(r, 2));
        j->booking_mode = strcmp(ap_db_row_text(r, 3), "booking") == 0;
        j->attempts = (int)ap_db_row_int(r, 4);
        j->resume = resume || j->attempts > 0;
        ap_json_parse_body(req, strlen(req), AP_JSON_OBJECT, &j->req, NULL);
        j->summary = ap_xstrdup(ap_db_row_text(r, 6));
        j->bu = ap_db_row_int(r, 7);
        j->job_type = ap_db_row_int(r, 8);
        j->campaign = ap_db_row_int(r, 9);
        j->window_start = ap_db_row_int(r, 10);
        j->window_end = ap_db_row_int(r, 11);
        job_sched(j, ap_db_row_text(r, 13), ap_db_row_text(r, 12));
        ap_time_parse(ap_db_row_text(r, 14), &j->accepted_at);
        if (!j->req)
            j->req = json_object();
    }
    ap_db_done(r);
    return j;
}

/* Claims booking id (true when this pusher got it); resume tells an expired lease. */
static bool claim(struct ap_push *p, struct ap_db_conn *c, int64_t id, bool *resume)
{
    int64_t now = now_real(), until = now + (int64_t)p->o.lease_s * AP_NS_PER_S, was = 0;
    struct ap_db_val q[3] = {ap_db_int(id), ap_db_int(now), ap_db_int(now)};
    struct ap_db_val v[5] = {ap_db_int(until), ap_db_text(p->owner), ap_db_int(id), ap_db_int(now),
                             ap_db_int(now)};

    /* PostgreSQL: a row another instance is claiming right now is skipped, not waited for (its
     * claim wins); SQLite leaves the clause out, its write transaction excludes the others */
    if (ap_db_query_int(c,
                        "SELECT state = 'pushing' FROM bookings WHERE id = ? AND ((state = "
                        "'accepted' AND next_attempt <= ?) OR (state = 'pushing' AND lease_until "
                        "< ?)) FOR UPDATE SKIP LOCKED",
                        q, 3, &was) != AP_OK)
        return false;
    if (ap_db_exec(c,
                   "UPDATE bookings SET state = 'pushing', lease_until = ?, lease_owner = ? "
                   "WHERE id = ? AND ((state = 'accepted' AND next_attempt <= ?) OR "
                   "(state = 'pushing' AND lease_until < ?))",
                   v, 5) != AP_OK ||
        ap_db_changes(c) != 1)
        return false;
    *resume = was != 0;
    return true;
}

/* Accounts whose bookings may be pushed: connected ones (the others' are parked). */
static size_t live_accounts(struct ap_db_conn *c, int64_t *accts, size_t cap)
{
    struct ap_db_rows *r;
    size_t n = 0;

    if (ap_db_query(c, "SELECT account_id FROM fms_connections WHERE state = 'connected'", NULL, 0,
                    &r) != AP_OK)
        return 0;
    while (ap_db_next(r) && n < cap)
        accts[n++] = ap_db_row_int(r, 0);
    ap_db_done(r);
    return n;
}

/* Up to max due bookings of one account (expired leases first, then accepted ones oldest
 * first), each an index walk that stops at max (bookings_account_due). */
static size_t due_of(struct ap_db_conn *c, int64_t account_id, size_t max, int64_t *ids)
{
    static const char *const sql[] = {
        "SELECT id FROM bookings WHERE account_id = ? AND state = 'pushing' AND lease_until < ? "
        "LIMIT ?",
        "SELECT id FROM bookings WHERE account_id = ? AND state = 'accepted' AND next_attempt <= ? "
        "ORDER BY next_attempt, id LIMIT ?"};
    size_t n = 0;

    for (size_t q = 0; q < AP_COUNTOF(sql) && n < max; q++) {
        struct ap_db_val v[3] = {ap_db_int(account_id), ap_db_int(now_real()),
                                 ap_db_int((int64_t)(max - n))};
        struct ap_db_rows *r;
        if (ap_db_query(c, sql[q], v, 3, &r) != AP_OK)
            break;
        while (ap_db_next(r) && n < max)
            ids[n++] = ap_db_row_int(r, 0);
        ap_db_done(r);
    }
    return n;
}

/* How many more bookings of the account may start now (p->mu not held). */
static size_t room_of(struct ap_push *p, int64_t account_id)
{
    int room;

    pthread_mutex_lock(&p->mu);
    room = p->stopping ? 0 : p->o.per_account - account_slot(p, account_id)->in_flight;
    pthread_mutex_unlock(&p->mu);
    return room > 0 ? (size_t)room : 0;
}

/* Whether this process is pushing booking id already (p->mu not held). */
static bool mine(struct ap_push *p, int64_t id)
{
    bool yes;

    pthread_mutex_lock(&p->mu);
    yes = flying(p, id);
    pthread_mutex_unlock(&p->mu);
    return yes;
}

/*
 * The due bookings this pusher may start now, account by account (each within its own
 * limit, so one account's backlog never holds back another's), read on a read connection.
 */
static size_t candidates(struct ap_push *p, int64_t *ids)
{
    int64_t accts[CLAIM_BATCH];
    struct ap_db_conn *c = ap_store_acquire(p->st, false);
    size_t na, n = 0;

    if (!c)
        return 0;
    na = live_accounts(c, accts, CLAIM_BATCH);
    for (size_t a = 0; a < na && n < CLAIM_BATCH; a++) {
        size_t room = room_of(p, accts[a]);
        if (room > CLAIM_BATCH - n)
            room = CLAIM_BATCH - n;
        if (room)
            n += due_of(c, accts[a], room, ids + n);
    }
    ap_store_release(c);
    return n;
}

/* Claims what it can of ids[0..n) in one short write transaction; the claimed ones are
 * compacted to the front (resume[i]: an expired lease taken over). Returns how many. */
static size_t claim_all(struct ap_push *p, int64_t *ids, bool *resume, size_t n)
{
    struct ap_db_conn *c = ap_store_acquire(p->st, true);
    size_t k = 0;

    if (!c)
        return 0;
    if (ap_db_begin(c) == AP_OK) {
        for (size_t i = 0; i < n; i++)
            if (!mine(p, ids[i]) && claim(p, c, ids[i], &resume[k]))
                ids[k++] = ids[i];
        if (ap_db_commit(c) != AP_OK)
            k = 0; /* rolled back: nothing was claimed */
    }
    ap_store_release(c);
    return k;
}

/* Claims and starts what is due. Returns how many started. */
static int claim_and_start(struct ap_push *p)
{
    int64_t ids[CLAIM_BATCH], lease = (int64_t)p->o.lease_s * AP_NS_PER_S;
    bool resume[CLAIM_BATCH];
    struct push_job *jobs[CLAIM_BATCH];
    size_t n = candidates(p, ids), started = 0;
    struct ap_db_conn *c;

    if (!n || !(n = claim_all(p, ids, resume, n)) || !(c = ap_store_acquire(p->st, false)))
        return 0; /* (claimed rows that do not load are resumed when their lease expires) */
    for (size_t i = 0; i < n; i++) {
        struct push_job *j = job_load(p, c, ids[i], resume[i]);
        if (!j)
            continue;
        /* no call after four fifths of the lease: another pusher may take it over at its end */
        j->deadline = ap_clock_mono_ns() + lease - lease / 5;
        pthread_mutex_lock(&p->mu);
        account_slot(p, j->account_id)->in_flight++;
        p->in_flight++;
        fly(p, j->id);
        pthread_mutex_unlock(&p->mu);
        jobs[started++] = j;
    }
    ap_store_release(c);
    for (size_t i = 0; i < started; i++) {
        struct push_job *j = jobs[i];
        atomic_fetch_add(&p->n_claimed, 1);
        if (ap_fms_conn_open(p->fms, j->account_id, &j->conn) != AP_OK) {
            j->outcome = PUSH_PARK; /* no usable connection: parked until it works */
            ap_push_job_end(j);
            continue;
        }
        ap_log_info("push.start", "booking=%lld reference=%s attempt=%d resume=%d",
                    (long long)j->id, j->reference, j->attempts + 1, j->resume);
        ap_push_job_begin(j);
    }
    return (int)started;
}

static void *poller(void *arg)
{
    struct ap_push *p = arg;

    for (;;) {
        int64_t began = ap_clock_mono_ns(), left;
        pthread_mutex_lock(&p->mu);
        bool stop = p->stopping;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        park_unpark(p);
        int started = claim_and_start(p);
        pthread_mutex_lock(&p->mu);
        if (!p->stopping && !p->kicked && started == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (int64_t)p->o.poll_ms * AP_NS_PER_MS;
            ts.tv_sec += ns / AP_NS_PER_S;
            ts.tv_nsec = ns % AP_NS_PER_S;
            pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        }
        p->kicked = false;
        pthread_mutex_unlock(&p->mu);
        /* at most one pass per POLL_MIN_NS: the kicks of a busy second (every acceptance, every
         * end) share passes instead of each costing its reads */
        if ((left = began + POLL_MIN_NS - ap_clock_mono_ns()) > 0)
            nanosleep(&(struct timespec){0, (long)left}, NULL);
    }
    return NULL;
}

/* The bookings-by-state gauge: counts read from the store at most once a second (a scrape
 * reads all six at once, under the registry lock). */
static double state_gauge(void *ud, size_t i)
{
    struct ap_push *p = ud;
    int64_t now = ap_clock_mono_ns();

    if (!p->counts_at || now - p->counts_at > AP_NS_PER_S) {
        int64_t counts[AP_BK_NSTATES];
        if (ap_booking_counts(p->st, 0, counts) == AP_OK)
            memcpy(p->counts, counts, sizeof(counts));
        p->counts_at = now;
    }
    return i < AP_BK_NSTATES ? (double)p->counts[i] : 0;
}

static void register_metrics(struct ap_push *p, struct ap_metrics *m)
{
    static const double bounds[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600};
    static const char *const outcomes[] = {"booked", "needs_attention", "retry", "parked"};
    const char *states[AP_BK_NSTATES];
    char labels[AP_BK_NSTATES][40];
    int h = ap_metrics_histogram_family(m, "appointd_booking_push_seconds",
                                        "time from a booking's acceptance to ServiceTitan", bounds,
                                        AP_COUNTOF(bounds));
    int f =
        ap_metrics_counter_family(m, "appointd_booking_pushes_total", "pushes ended, by outcome");

    p->latency = ap_metrics_histogram_get(m, h, "");
    for (int i = 0; i < 4; i++) {
        char label[48];
        snprintf(label, sizeof(label), "outcome=\"%s\"", outcomes[i]);
        p->by_outcome[i] = ap_metrics_counter_get(m, f, label);
    }
    for (int i = 0; i < AP_BK_NSTATES; i++) {
        snprintf(labels[i], sizeof(labels[i]), "state=\"%s\"", ap_booking_state_name(i));
        states[i] = labels[i];
    }
    ap_metrics_gauge_set_fn(m, "appointd_bookings", "bookings by state (all accounts)", states,
                            AP_BK_NSTATES, state_gauge, p);
}

/* Most ServiceTitan calls one push makes: a resumed push's look-ups, the searches by phone and
 * address, a merge followed, contacts, the location, then the creates. */
#define PUSH_CALLS_MAX 10

/*
 * Bounds the bookings of one account in flight by what the tenant's rate limit serves within a
 * lease. Each call waits its turn behind the others' in the client-side limiter, so N bookings in
 * flight take about N * calls / rate seconds each; when that passes the lease's usable four
 * fifths, every push runs out of lease before it ends, is retried, and none ever ends (seen with a
 * 5 s lease and 64 in flight). A 2x margin; at the defaults (600 s) nothing changes.
 */
static void fit_in_lease(struct ap_push_opts *o)
{
    int64_t fit = (int64_t)o->rate_per_s * (o->lease_s - o->lease_s / 5) / (2 * PUSH_CALLS_MAX);

    if (fit < 1)
        fit = 1;
    if (o->per_account > fit) {
        ap_log_info("push.per_account",
                    "per_account=%d asked=%d lease_s=%d rate=%d "
                    "reason=\"more would run out of lease waiting for the rate limit\"",
                    (int)fit, o->per_account, o->lease_s, o->rate_per_s);
        o->per_account = (int)fit;
    }
}

struct ap_push *ap_push_start(struct ap_store *st, struct ap_db_writer *w, struct ap_titan *t,
                              struct ap_fms *fms, const struct ap_push_opts *o)
{
    struct ap_push *p = ap_xcalloc(1, sizeof(*p));
    char host[64] = "appointd";

    p->st = st;
    p->w = w;
    p->t = t;
    p->fms = fms;
    p->o = *o;
    if (p->o.per_account <= 0)
        p->o.per_account = 64;
    if (p->o.lease_s <= 0)
        p->o.lease_s = 600;
    if (p->o.rate_per_s <= 0)
        p->o.rate_per_s = 50;
    fit_in_lease(&p->o);
    if (p->o.poll_ms <= 0)
        p->o.poll_ms = 1000;
    if (p->o.call_timeout_ms <= 0)
        p->o.call_timeout_ms = 60000;
    if (p->o.backoff_max_s <= 0)
        p->o.backoff_max_s = 600;
    gethostname(host, sizeof(host) - 1);
    snprintf(p->owner, sizeof(p->owner), "%s:%d", o->owner ? o->owner : host, (int)getpid());
    if (o->metrics)
        register_metrics(p, o->metrics);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, poller, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        return NULL;
    }
    return p;
}

void ap_push_kick(struct ap_push *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->kicked = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Waits (up to ns) until no booking is in flight. */
static void wait_idle(struct ap_push *p, int64_t ns)
{
    int64_t until = ap_clock_mono_ns() + ns;

    for (;;) {
        pthread_mutex_lock(&p->mu);
        int left = p->in_flight;
        pthread_mutex_unlock(&p->mu);
        if (left == 0 || ap_clock_mono_ns() >= until)
            return;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
}

void ap_push_stop(struct ap_push *p, int grace_ms)
{
    bool join;

    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    join = !p->stopping;
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (join)
        pthread_join(p->thread, NULL);
    wait_idle(p, (int64_t)grace_ms * AP_NS_PER_MS);
}

void ap_push_free(struct ap_push *p)
{
    if (!p)
        return;
    ap_push_stop(p, 0);
    /* what was still in flight ends through the titan client's shutdown: its end goes through
     * the writer, which is still running; give it a moment */
    wait_idle(p, 5 * AP_NS_PER_S);
    if (p->in_flight)
        ap_log_error("push.leak", "in_flight=%d reason=\"ends not written in time\"", p->in_flight);
    else {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p->accts);
        free(p->flying);
        free(p);
    }
}

void ap_push_stats(struct ap_push *p, struct ap_push_stats *out)
{
    out->claimed = atomic_load(&p->n_claimed);
    out->booked = atomic_load(&p->n_booked);
    out->needs_attention = atomic_load(&p->n_attention);
    out->parked = atomic_load(&p->n_parked);
    out->retried = atomic_load(&p->n_retried);
    out->calls = atomic_load(&p->n_calls);
    pthread_mutex_lock(&p->mu);
    out->in_flight = (uint64_t)p->in_flight;
    pthread_mutex_unlock(&p->mu);
}

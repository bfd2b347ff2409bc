/*
 * engine.c — one ServiceTitan call as a state machine on the engine thread
 * (titan.h has the overview). An op goes
 *
 *   start → attempt: token (cached, or queued on the one fetch in flight)
 *         → limiter slot (a timer when the tenant's bucket says wait)
 *         → request in flight → answer
 *         → done | 401: a fresh token, once | retry after a timer (Retry-After
 *           or jittered backoff) | end
 *
 * and ends exactly once in finish(), which runs the caller's callback. A
 * deadline timer runs beside every op; every wait is checked against the
 * deadline before it starts (a wait that would pass it ends the call at
 * once). Cancellation ends an op wherever it is; an op in flight is aborted
 * and ends when the loop hands the abort back. One log line per failed call;
 * never a secret or a token in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/log.h"
#include "core/mem.h"
#include "httpc/loop.h"
#include "titan/titan_int.h"

static void attempt(struct ap_titan_op *op);

static const char *stage_name(enum ap_titan_stage s)
{
    static const char *const n[] = {"none", "token", "api", "network", "canceled"};
    return (unsigned)s < 5 ? n[s] : "none";
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void ap_titan_op_free(struct ap_titan_op *op)
{
    if (!op)
        return;
    free(op->client_id);
    wipe_free(op->client_secret);
    wipe_free(op->token);
    free(op->method);
    free(op->url);
    free(op->logpath);
    free(op->body);
    free(op->raw);
    free(op);
}

/* ---- the end --------------------------------------------------------------- */

void ap_titan_count_outcome(struct ap_titan *t, enum ap_err err, const struct ap_titan_error *e)
{
    enum ap_titan_ctr c = AP_TITAN_CTR_CLIENT;

    if (err == AP_OK)
        c = AP_TITAN_CTR_OK;
    else if (e->stage == AP_TITAN_STAGE_CANCELED)
        c = AP_TITAN_CTR_CANCELED;
    else if (err == AP_ETIMEOUT)
        c = AP_TITAN_CTR_TIMEOUT;
    else if (e->status == 429)
        c = AP_TITAN_CTR_LIMITED;
    else if (e->stage == AP_TITAN_STAGE_NETWORK || e->status == 0)
        c = AP_TITAN_CTR_NETWORK;
    else if (e->status >= 500 || (e->status >= 200 && e->status < 300))
        c = AP_TITAN_CTR_SERVER;
    ap_titan_count(t, c);
}

void ap_titan_log_end(const struct ap_titan_op *op, enum ap_err err)
{
    const struct ap_titan_error *e = &op->e;
    char title[160];
    enum ap_log_level lvl = e->stage == AP_TITAN_STAGE_CANCELED ? AP_LOG_INFO : AP_LOG_WARN;

    ap_log_at(lvl, "titan.call",
              "method=%s path=%s tenant=%lld status=%d attempts=%d stage=%s err=%s sent=%d "
              "trace_id=%s title=%s",
              op->is_token ? "TOKEN" : op->method, op->is_token ? "-" : op->logpath,
              (long long)op->creds.tenant_id, e->status, e->attempts, stage_name(e->stage),
              ap_err_str(err), e->sent, e->trace_id[0] ? e->trace_id : "-",
              ap_log_quote(e->title, title, sizeof(title)));
}

/* A token check's answer: the claims of the token it got. */
static enum ap_err finish_token(struct ap_titan_op *op, enum ap_err err)
{
    struct ap_titan_token_info info = {0};

    if (err == AP_OK && op->claims && ap_titan_jwt_claims(op->token, &info) != AP_OK) {
        op->e.stage = AP_TITAN_STAGE_TOKEN;
        op->e.status = 200;
        snprintf(op->e.title, sizeof(op->e.title), "the access token's claims could not be read");
        err = AP_EPARSE;
    }
    if (err != AP_OK)
        ap_titan_log_end(op, err);
    ap_titan_count_outcome(op->t, err, &op->e);
    op->tdone(op->ud, err, err == AP_OK && op->claims ? &info : NULL, &op->e);
    ap_titan_token_info_cleanup(&info);
    return err;
}

/* Ends op: stops what it waits on, runs the callback once, frees it. */
static void finish(struct ap_titan_op *op, enum ap_err err, json_t *body)
{
    struct ap_titan *t = op->t;

    if (op->deadline_tm)
        ap_httpc_timer_stop(t->loop, op->deadline_tm);
    if (op->wait_tm)
        ap_httpc_timer_stop(t->loop, op->wait_tm);
    if (op->st == AP_TITAN_OP_TOKEN)
        ap_titan_tok_unwait(t, op);
    if (op->linked) {
        if (op->prev)
            op->prev->next = op->next;
        else
            t->ops = op->next;
        if (op->next)
            op->next->prev = op->prev;
    }
    if (op->is_token) {
        finish_token(op, err);
    } else if (op->rdone) {
        ap_titan_op_end_raw(op, err);
    } else {
        if (err != AP_OK)
            ap_titan_log_end(op, err);
        ap_titan_count_outcome(t, err, &op->e);
        op->done(op->ud, err, body, &op->e);
    }
    json_decref(body);
    ap_titan_op_free(op);
    ap_titan_live_done(t);
}

static void finish_canceled(struct ap_titan_op *op)
{
    op->e.stage = AP_TITAN_STAGE_CANCELED;
    snprintf(op->e.title, sizeof(op->e.title), "canceled: %s", op->why);
    finish(op, AP_EUNAVAIL, NULL);
}

/* The deadline ends op; why is the title's sentence (the last answer, if
 * any, stays in e and is named). */
static void finish_timeout(struct ap_titan_op *op, const char *why)
{
    char last[48] = "";

    if (op->e.status > 0)
        snprintf(last, sizeof(last), " (last answer: HTTP %d)", op->e.status);
    snprintf(op->e.title, sizeof(op->e.title), "%s%s", why, last);
    finish(op, AP_ETIMEOUT, NULL);
}

/* ---- waiting ------------------------------------------------------------------ */

static void on_wait(void *arg, bool canceled)
{
    struct ap_titan_op *op = arg;

    op->wait_tm = NULL;
    if (canceled) {
        snprintf(op->why, sizeof(op->why), "the ServiceTitan client is shutting down");
        finish_canceled(op);
        return;
    }
    op->after_wait(op);
}

/* Continues op with next at mono time at (a timer; at once when due). */
static void wait_until(struct ap_titan_op *op, int64_t at, void (*next)(struct ap_titan_op *))
{
    struct ap_titan *t = op->t;
    int64_t now = ap_clock_mono_ns();

    if (t->hooks.sleep_ns && at > now)
        t->hooks.sleep_ns(t->hooks.ud, at - now);
    op->st = AP_TITAN_OP_WAIT;
    op->after_wait = next;
    if (ap_httpc_timer_start(t->loop, at, on_wait, op, &op->wait_tm) != AP_OK) {
        snprintf(op->why, sizeof(op->why), "the ServiceTitan client is shutting down");
        finish_canceled(op);
    }
}

static void on_deadline(void *arg, bool canceled)
{
    struct ap_titan_op *op = arg;

    op->deadline_tm = NULL;
    if (canceled) {
        snprintf(op->why, sizeof(op->why), "the ServiceTitan client is shutting down");
        op->canceled = true;
    }
    if (op->st == AP_TITAN_OP_HTTP) {
        /* the abort comes back through on_answer */
        op->deadline_hit = !canceled;
        ap_httpc_abort(op->t->loop, op->xfer);
        return;
    }
    if (canceled)
        finish_canceled(op);
    else
        finish_timeout(op, op->st == AP_TITAN_OP_TOKEN
                               ? "the call's deadline passed while it waited for a token"
                               : "the call's deadline passed while it waited");
}

/* ---- after a failure: again, or the end ----------------------------------------- */

static bool method_repeatable(const struct ap_titan_op *op)
{
    return op->repeatable || (strcmp(op->method, "POST") != 0 && strcmp(op->method, "PATCH") != 0);
}

/* Whether the failure in op->e is worth another attempt of this op. */
static bool worth_again(const struct ap_titan_op *op)
{
    const struct ap_titan_error *e = &op->e;

    if (!ap_titan_status_retryable(e->status))
        return false;
    /* a token request, a 429 (refused at the gate) and a request that never
     * left can always go again; anything else only if sending it twice is
     * harmless */
    return e->stage == AP_TITAN_STAGE_TOKEN || e->status == 429 || !e->sent ||
           method_repeatable(op);
}

/* Handles a failed attempt: the 401 refresh, a retry on a timer, or the end.
 * ra: the Retry-After seconds of a 429 (-1: none said). */
static void failed(struct ap_titan_op *op, enum ap_err err, int ra)
{
    struct ap_titan *t = op->t;
    int64_t delay, now = ap_clock_mono_ns();
    char what[128];

    if (op->e.stage == AP_TITAN_STAGE_API && op->e.status == 401 && !op->refreshed &&
        !op->is_token) {
        op->refreshed = true; /* the token was refused: a fresh one, once */
        op->tries--;
        attempt(op);
        return;
    }
    if (!worth_again(op) || op->tries >= op->max_attempts) {
        finish(op, err, NULL);
        return;
    }
    delay =
        ra >= 0 ? (int64_t)ra * AP_NS_PER_S : ap_titan_backoff_ns(op->tries, ap_titan_random(t));
    if (now + delay > op->deadline_ns) {
        if (ra >= 0)
            snprintf(what, sizeof(what),
                     "ServiceTitan's Retry-After of %d s goes past the call's deadline", ra);
        else
            snprintf(what, sizeof(what),
                     "the next try (in %lld ms) would come after the call's "
                     "deadline",
                     (long long)(delay / AP_NS_PER_MS));
        finish_timeout(op, what);
        return;
    }
    ap_titan_count(t, AP_TITAN_CTR_RETRIES);
    wait_until(op, now + delay, attempt);
}

/* ---- the request ------------------------------------------------------------------ */

/* An API error answer: e from the ApiErrorResponse; the counters. */
static enum ap_err api_error(struct ap_titan_op *op, struct ap_httpc_resp *r, int *ra)
{
    struct ap_titan *t = op->t;

    op->e.stage = AP_TITAN_STAGE_API;
    ap_titan_parse_error_body((int)r->status, r->body, r->body_len, &op->e);
    if (r->status == 429) {
        ap_titan_count(t, AP_TITAN_CTR_429);
        if (ap_titan_retry_after(ap_httpc_resp_header(r, "Retry-After"), op->e.title,
                                 ap_clock_real_ns(), ra))
            op->e.retry_after_s = *ra;
    }
    if (r->status == 401) {
        ap_titan_count(t, AP_TITAN_CTR_401);
        op->got_401 = true;
    }
    return ap_titan_status_err((int)r->status);
}

static void on_answer(void *arg, enum ap_err err, struct ap_httpc_resp *r)
{
    struct ap_titan_op *op = arg;
    json_t *body = NULL;
    int ra = -1;

    op->xfer = NULL;
    op->e.sent = r->sent;
    op->e.status = (int)r->status;
    if (op->canceled || op->deadline_hit || err != AP_OK) {
        op->e.stage = AP_TITAN_STAGE_NETWORK;
        snprintf(op->e.title, sizeof(op->e.title), "%s", r->errmsg);
        if (op->canceled)
            finish_canceled(op);
        else if (op->deadline_hit || (err == AP_ETIMEOUT && op->clamped))
            finish_timeout(op, "the call's deadline passed while it waited for ServiceTitan's "
                               "answer");
        else
            failed(op, AP_EUNAVAIL, -1);
        return;
    }
    if (r->status >= 200 && r->status < 300 && op->rdone) {
        /* the blocking caller reads the body on its own thread */
        op->raw = r->body;
        op->raw_len = r->body_len;
        r->body = NULL;
        finish(op, AP_OK, NULL);
        return;
    }
    if (r->status >= 200 && r->status < 300) {
        err = ap_titan_read_body(r->body, r->body_len, (int)r->status, &body, &op->e);
        finish(op, err, body);
        return;
    }
    err = api_error(op, r, &ra);
    failed(op, err, ra);
}

/* Sends the request with op->token. */
static void send_request(struct ap_titan_op *op)
{
    struct ap_titan *t = op->t;
    char *auth = ap_xasprintf("Authorization: Bearer %s", op->token);
    const char *hdrs[] = {t->app_key_header, auth, "Accept: application/json",
                          op->body ? "Content-Type: application/json" : NULL, NULL};
    struct ap_httpc_req req = {.method = op->method,
                               .url = op->url,
                               .headers = hdrs,
                               .body = op->body,
                               .body_len = op->body ? strlen(op->body) : 0};
    int64_t left_ms = (op->deadline_ns - ap_clock_mono_ns()) / AP_NS_PER_MS;
    struct ap_httpc_req_opts ro = {.fresh_connect = !method_repeatable(op)};
    enum ap_err err;

    if (left_ms < 1)
        left_ms = 1;
    /* the deadline bounds the request too: curl ends it then */
    op->clamped = left_ms < t->cfg.total_timeout_ms;
    ro.total_timeout_ms = op->clamped ? (long)left_ms : t->cfg.total_timeout_ms;
    op->st = AP_TITAN_OP_HTTP;
    err = ap_httpc_start(t->loop, &req, &ro, on_answer, op, &op->xfer);
    wipe_free(auth);
    if (err != AP_OK) {
        op->e.stage = AP_TITAN_STAGE_NETWORK;
        snprintf(op->e.title, sizeof(op->e.title), "the request could not be started (%s)",
                 ap_err_str(err));
        op->st = AP_TITAN_OP_NEW;
        finish(op, err == AP_EBUSY ? AP_EUNAVAIL : AP_EINTERNAL, NULL);
    }
}

/* A slot of the tenant's limiter, then the request. */
static void take_slot(struct ap_titan_op *op)
{
    struct ap_titan *t = op->t;
    int64_t now = ap_clock_mono_ns(), at;
    bool again;

    if (!ap_titan_limit(t, op->creds.tenant_id, now, op->deadline_ns, &at, &again)) {
        finish_timeout(op, "the call's deadline comes before its turn in the client-side rate "
                           "limit (kept under ServiceTitan's 60 requests/s per tenant)");
        return;
    }
    if (again) {
        /* this instance has no share of the rate right now (src/app/cluster.c) */
        wait_until(op, at, take_slot);
        return;
    }
    if (at <= now) {
        send_request(op);
        return;
    }
    ap_titan_count(t, AP_TITAN_CTR_WAITS);
    wait_until(op, at, send_request);
}

void ap_titan_op_token_ready(struct ap_titan_op *op, enum ap_err err,
                             const struct ap_titan_error *e)
{
    int attempts = op->e.attempts, ra;

    op->st = AP_TITAN_OP_NEW;
    if (err != AP_OK) {
        op->e = *e;
        op->e.attempts = attempts;
        op->e.sent = false; /* the call's own request never left: a token request is no harm */
        ra = e->status == 429 && e->retry_after_s > 0 ? e->retry_after_s : -1;
        failed(op, err, ra);
    } else if (op->is_token) {
        finish(op, AP_OK, NULL);
    } else {
        take_slot(op);
    }
}

/* One attempt: the token (refreshed after a 401), then a slot, then the request. */
static void attempt(struct ap_titan_op *op)
{
    struct ap_titan *t = op->t;
    char *prev = op->token;
    int attempts = op->e.attempts;
    bool ready;

    memset(&op->e, 0, sizeof(op->e));
    op->e.attempts = attempts + 1;
    op->tries++;
    op->token = NULL;
    if (ap_clock_mono_ns() >= op->deadline_ns) {
        wipe_free(prev);
        finish_timeout(op, "the call's deadline passed before its next try");
        return;
    }
    /* only a 401 makes a token stale: after a 429, a 5xx or a network error
     * the same token is used again */
    op->st = AP_TITAN_OP_TOKEN;
    ready = ap_titan_tok_need(t, op, op->force, op->got_401 ? prev : NULL);
    op->force = false;
    op->got_401 = false;
    wipe_free(prev);
    if (ready)
        ap_titan_op_token_ready(op, AP_OK, NULL);
}

void ap_titan_op_start(void *arg)
{
    struct ap_titan_op *op = arg;
    struct ap_titan *t = op->t;
    bool stopping;

    pthread_mutex_lock(&t->mu);
    stopping = t->stopping;
    pthread_mutex_unlock(&t->mu);
    if (stopping) {
        snprintf(op->why, sizeof(op->why), "the ServiceTitan client is shutting down");
        finish_canceled(op);
        return;
    }
    op->linked = true;
    op->next = t->ops;
    if (t->ops)
        t->ops->prev = op;
    t->ops = op;
    if (ap_httpc_timer_start(t->loop, op->deadline_ns, on_deadline, op, &op->deadline_tm) !=
        AP_OK) {
        snprintf(op->why, sizeof(op->why), "the ServiceTitan client is shutting down");
        finish_canceled(op);
        return;
    }
    attempt(op);
}

/* ---- cancellation ------------------------------------------------------------- */

static void cancel_op(struct ap_titan_op *op, const char *why)
{
    if (op->canceled)
        return;
    op->canceled = true;
    snprintf(op->why, sizeof(op->why), "%s", why);
    if (op->st == AP_TITAN_OP_HTTP)
        ap_httpc_abort(op->t->loop, op->xfer); /* ends in on_answer */
    else
        finish_canceled(op);
}

void ap_titan_ops_cancel(struct ap_titan *t, int64_t tenant_id, const char *why)
{
    struct ap_titan_op *op = t->ops, *next;

    for (; op; op = next) {
        next = op->next;
        if (tenant_id == 0 || op->creds.tenant_id == tenant_id)
            cancel_op(op, why);
    }
}

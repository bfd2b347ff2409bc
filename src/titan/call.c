/*
 * call.c — submitting ServiceTitan calls to the engine (ap_titan_call_async,
 * ap_titan_token_async) and the blocking forms built on them (ap_titan_call,
 * ap_titan_call_sync, ap_titan_token): submit, then wait on a condition
 * variable for the callback. Everything a call needs is copied here, on the
 * caller's thread, so the caller's memory is free once the submit returns;
 * the engine (engine.c) owns the op from then on. A blocking call's answer is
 * parsed on the calling thread, not the engine's: many workers then share
 * the JSON work as they did before the engine, and the engine only moves
 * bytes.
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

#define MAX_PATH_LEN  2048
#define MAX_QUERY_LEN 8192

static bool creds_ok(const struct ap_titan_creds *c)
{
    return c && c->tenant_id > 0 && c->client_id && c->client_id[0] && c->client_secret &&
           strlen(c->client_id) < 512 && strlen(c->client_secret) < 4096;
}

static bool req_ok(const struct ap_titan_req *r)
{
    const char *m = r->module, *p = r->path, *q = r->query;

    return m && m[0] && strlen(m) < 64 && !strpbrk(m, "/?# \r\n") && p &&
           (p[0] == '/' || p[0] == '\0') && strlen(p) < MAX_PATH_LEN && !strpbrk(p, "?# \r\n") &&
           (!q || (strlen(q) < MAX_QUERY_LEN && !strpbrk(q, "# \r\n"))) &&
           (!r->method || (r->method[0] && strlen(r->method) < 16 && !strpbrk(r->method, " \r\n")));
}

/* A new op for creds with the options applied (not yet submitted). */
static struct ap_titan_op *op_new(struct ap_titan *t, const struct ap_titan_creds *creds,
                                  const struct ap_titan_opts *opts)
{
    struct ap_titan_op *op = ap_xcalloc(1, sizeof(*op));
    int64_t budget = (int64_t)t->cfg.retry_budget_ms * AP_NS_PER_MS;

    op->t = t;
    op->client_id = ap_xstrdup(creds->client_id);
    op->client_secret = ap_xstrdup(creds->client_secret);
    op->creds = (struct ap_titan_creds){creds->tenant_id, op->client_id, op->client_secret};
    op->deadline_ns =
        opts && opts->deadline_ns > 0 ? opts->deadline_ns : ap_clock_mono_ns() + budget;
    op->max_attempts = opts && opts->max_attempts > 0 ? opts->max_attempts : t->cfg.max_attempts;
    if (op->max_attempts > 20)
        op->max_attempts = 20;
    op->repeatable = opts && opts->repeatable;
    return op;
}

/* Hands op to the engine; on failure frees it (its callback never runs). */
static enum ap_err submit(struct ap_titan *t, struct ap_titan_op *op)
{
    pthread_mutex_lock(&t->mu);
    if (t->stopping) {
        pthread_mutex_unlock(&t->mu);
        ap_titan_op_free(op);
        return AP_EUNAVAIL;
    }
    t->live++;
    pthread_mutex_unlock(&t->mu);
    ap_titan_count(t, AP_TITAN_CTR_CALLS);
    if (ap_httpc_loop_post(t->loop, ap_titan_op_start, op) != AP_OK) {
        ap_titan_op_free(op);
        ap_titan_live_done(t);
        return AP_EUNAVAIL;
    }
    return AP_OK;
}

/* A new API call op for req (not yet submitted); NULL when the arguments are bad. */
static struct ap_titan_op *call_op(struct ap_titan *t, const struct ap_titan_creds *creds,
                                   const struct ap_titan_req *req, const struct ap_titan_opts *opts)
{
    struct ap_titan_op *op;

    if (!creds_ok(creds) || !req || !req_ok(req))
        return NULL;
    op = op_new(t, creds, opts);
    op->method = ap_xstrdup(req->method ? req->method : "GET");
    op->logpath =
        ap_xasprintf("/%s/v2/tenant/%lld%s", req->module, (long long)creds->tenant_id, req->path);
    op->url =
        ap_xasprintf("%s%s%s%s", t->api_base, op->logpath, req->query && *req->query ? "?" : "",
                     req->query && *req->query ? req->query : "");
    op->body = req->body ? ap_json_dumps(req->body) : NULL;
    return op;
}

enum ap_err ap_titan_call_async(struct ap_titan *t, const struct ap_titan_creds *creds,
                                const struct ap_titan_req *req, const struct ap_titan_opts *opts,
                                ap_titan_done_fn done, void *ud)
{
    struct ap_titan_op *op = done ? call_op(t, creds, req, opts) : NULL;

    if (!op)
        return AP_EINVAL;
    op->done = done;
    op->ud = ud;
    return submit(t, op);
}

/* A token check; claims: decode the token's claims for the callback. */
static enum ap_err token_submit(struct ap_titan *t, const struct ap_titan_creds *creds, bool force,
                                bool claims, const struct ap_titan_opts *opts,
                                ap_titan_token_fn done, void *ud)
{
    struct ap_titan_op *op;

    if (!creds_ok(creds) || !done)
        return AP_EINVAL;
    op = op_new(t, creds, opts);
    op->is_token = true;
    op->force = force;
    op->claims = claims;
    op->repeatable = true; /* a token request may always be sent again */
    op->method = ap_xstrdup("POST");
    op->tdone = done;
    op->ud = ud;
    return submit(t, op);
}

enum ap_err ap_titan_token_async(struct ap_titan *t, const struct ap_titan_creds *creds, bool force,
                                 const struct ap_titan_opts *opts, ap_titan_token_fn done, void *ud)
{
    return token_submit(t, creds, force, true, opts, done, ud);
}

/* ---- the blocking forms ----------------------------------------------------- */

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    enum ap_err err;
    char *raw; /* a call's 2xx body, read on the waiting thread */
    size_t raw_len;
    int status;
    struct ap_titan_error e;
    struct ap_titan_token_info *info; /* token checks: where the claims go */
};

static void waiter_init(struct waiter *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
}

static void wake(struct waiter *w, enum ap_err err, const struct ap_titan_error *e)
{
    pthread_mutex_lock(&w->mu);
    w->err = err;
    w->e = *e;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void raw_done(void *ud, enum ap_err err, char *raw, size_t len, int status,
                     const struct ap_titan_error *e)
{
    struct waiter *w = ud;

    w->raw = raw;
    w->raw_len = len;
    w->status = status;
    wake(w, err, e);
}

void ap_titan_op_end_raw(struct ap_titan_op *op, enum ap_err err)
{
    if (err != AP_OK) {
        ap_titan_log_end(op, err);
        ap_titan_count_outcome(op->t, err, &op->e);
    }
    op->rdone(op->ud, err, op->raw, op->raw_len, op->e.status, &op->e);
    op->raw = NULL;
}

static void copy_claims(struct ap_titan_token_info *to, const struct ap_titan_token_info *from)
{
    *to = *from;
    to->scopes = from->nscopes ? ap_xcalloc(from->nscopes, sizeof(char *)) : NULL;
    for (size_t i = 0; i < from->nscopes; i++)
        to->scopes[i] = ap_xstrdup(from->scopes[i]);
}

static void token_done(void *ud, enum ap_err err, const struct ap_titan_token_info *info,
                       const struct ap_titan_error *e)
{
    struct waiter *w = ud;

    if (info && w->info)
        copy_claims(w->info, info);
    wake(w, err, e);
}

/* Waits for w's callback; returns its result and hands e over. */
static enum ap_err wait_for(struct waiter *w, struct ap_titan_error *e)
{
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    *e = w->e;
    return w->err;
}

/* A submit that failed (its callback never runs): e says why; stage is that of bad input. */
static enum ap_err refused(enum ap_err err, struct ap_titan_error *e, enum ap_titan_stage stage,
                           const char *what)
{
    e->stage = err == AP_EUNAVAIL ? AP_TITAN_STAGE_CANCELED : stage;
    snprintf(e->title, sizeof(e->title), "%s",
             err == AP_EUNAVAIL ? "the ServiceTitan client is shutting down" : what);
    return err;
}

/* Blocking calls would wait for themselves on the engine thread. */
static bool on_engine(struct ap_titan *t, struct ap_titan_error *e, enum ap_err *err)
{
    if (!ap_httpc_loop_on_thread(t->loop))
        return false;
    ap_log_error("titan.call", "msg=\"a blocking ServiceTitan call was made on the engine "
                               "thread; use the asynchronous form\"");
    snprintf(e->title, sizeof(e->title), "blocking ServiceTitan call on the engine thread");
    *err = AP_EINTERNAL;
    return true;
}

enum ap_err ap_titan_call_sync(struct ap_titan *t, const struct ap_titan_creds *creds,
                               const struct ap_titan_req *req, const struct ap_titan_opts *opts,
                               json_t **out, struct ap_titan_error *e)
{
    struct ap_titan_error scratch;
    struct ap_titan_op *op;
    struct waiter w;
    json_t *body = NULL;
    enum ap_err err;

    if (!e)
        e = &scratch;
    memset(e, 0, sizeof(*e));
    if (out)
        *out = NULL;
    if (on_engine(t, e, &err))
        return err;
    waiter_init(&w);
    if (!(op = call_op(t, creds, req, opts))) {
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
        return refused(AP_EINVAL, e, AP_TITAN_STAGE_NONE,
                       "bad ServiceTitan call: module, path or credentials");
    }
    op->rdone = raw_done;
    op->ud = &w;
    if ((err = submit(t, op)) != AP_OK) {
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
        return refused(err, e, AP_TITAN_STAGE_NONE, "");
    }
    if ((err = wait_for(&w, e)) == AP_OK) {
        /* parsed here, so the engine thread only moves bytes */
        err = ap_titan_read_body(w.raw, w.raw_len, w.status, &body, e);
        ap_titan_count_outcome(t, err, e);
        if (err != AP_OK)
            ap_log_warn("titan.call", "method=%s module=%s path=%s status=%d err=%s",
                        req->method ? req->method : "GET", req->module, req->path, w.status,
                        ap_err_str(err));
    }
    free(w.raw);
    if (out)
        *out = body;
    else
        json_decref(body);
    return err;
}

enum ap_err ap_titan_call(struct ap_titan *t, const struct ap_titan_creds *creds,
                          const char *method, const char *module, const char *path,
                          const char *query, const json_t *body, json_t **out,
                          struct ap_titan_error *e)
{
    struct ap_titan_req req = {method, module, path, query, body};

    return ap_titan_call_sync(t, creds, &req, NULL, out, e);
}

enum ap_err ap_titan_token(struct ap_titan *t, const struct ap_titan_creds *creds, bool force,
                           struct ap_titan_token_info *info, struct ap_titan_error *e)
{
    struct ap_titan_error scratch;
    struct waiter w;
    enum ap_err err;

    if (!e)
        e = &scratch;
    memset(e, 0, sizeof(*e));
    if (info)
        memset(info, 0, sizeof(*info));
    if (on_engine(t, e, &err))
        return err;
    waiter_init(&w);
    w.info = info;
    if ((err = token_submit(t, creds, force, info != NULL, NULL, token_done, &w)) != AP_OK) {
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
        return refused(err, e, AP_TITAN_STAGE_TOKEN,
                       "no tenant id, client id or client secret given");
    }
    return wait_for(&w, e);
}

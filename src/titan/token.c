/*
 * token.c — the token cache, on the engine thread: one entry per (tenant,
 * client id), holding the access token until it expires minus a margin (on
 * the injectable monotonic clock). One fetch is in flight per entry however
 * many calls need it: the first call that finds no valid token starts the
 * fetch, it and every later one queue on the entry, and the fetch's end
 * hands its token (or its error) to all of them in order. A 401 on an API
 * call drops the token only when it is still the one that got the 401, so a
 * burst of 401s costs one fetch; nothing else drops a token (a 429 or a 5xx
 * says nothing about it).
 *
 * The client secret is used for the fetch (a copy lives in the fetch's
 * request until it ends, then is wiped) and never logged; the token is kept
 * here and handed to calls as copies.
 *
 * Shared (t->shared set: several appointd on one database): before fetching,
 * the entry takes a token another instance saved; else it claims the one
 * fetch across instances, or — another instance fetching — looks again every
 * 50 ms; a token it fetched is saved for the others. A forced fetch (a check
 * of the credentials) always asks ServiceTitan, and saves what it got.
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

struct ap_titan_tok {
    struct ap_titan_tok *next;
    int64_t tenant_id;
    char *client_id;
    char *token;      /* NULL: none cached */
    int64_t renew_ns; /* mono time from which the token is no longer handed out */
    int64_t gen;      /* shared: the stored generation of token (0: not stored) */
    int64_t stale;    /* shared: the generation that got a 401 (never taken from the store) */
    struct fetch *fetching;
    struct ap_titan_op *wait_head, *wait_tail;
};

/* One fetch in flight (its request, or the test hook's posted run). */
struct fetch {
    struct ap_titan *t;
    struct ap_titan_tok *x;
    struct ap_httpc_xfer *xfer;
    int64_t started_ns;
    struct ap_titan_creds creds; /* copies, for the hook */
    char *client_id, *client_secret;
    enum ap_err start_err;
    bool claimed;                   /* shared: this instance holds the fetch's claim */
    int64_t started_real;           /* wall clock at the start, for the stored expiry */
    struct ap_httpc_timer *recheck; /* shared: another instance fetches; look again */
};

/* While another instance fetches a token, how often the store is asked again. */
#define SHARED_RECHECK_NS (50 * AP_NS_PER_MS)

static struct ap_titan_tok *find_entry(struct ap_titan *t, int64_t tenant, const char *cid,
                                       bool add)
{
    struct ap_titan_tok *x;

    for (x = t->tokens; x; x = x->next)
        if (x->tenant_id == tenant && strcmp(x->client_id, cid) == 0)
            return x;
    if (!add)
        return NULL;
    x = ap_xcalloc(1, sizeof(*x));
    x->tenant_id = tenant;
    x->client_id = ap_xstrdup(cid);
    x->next = t->tokens;
    t->tokens = x;
    return x;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

static void drop_token(struct ap_titan_tok *x)
{
    wipe_free(x->token);
    x->token = NULL;
}

static void start_real(struct fetch *f);

static void fetch_free(struct fetch *f)
{
    free(f->client_id);
    wipe_free(f->client_secret);
    free(f);
}

/* The margin before expiry: the configured one, unless the token lives less
 * than twice as long; such short-lived tokens are used to their end and the
 * 401 refresh covers the edge. */
static int64_t renew_at(struct ap_titan *t, int64_t started_ns, int64_t expires_in)
{
    int64_t margin = t->cfg.token_margin_s;

    if (expires_in < 2 * margin)
        margin = 0;
    return started_ns + (expires_in - margin) * AP_NS_PER_S;
}

/* A fetch ended: the entry keeps the token; every queued op gets it (or the
 * error), in the order they queued. */
static void fetched(struct fetch *f, enum ap_err err, struct ap_titan_token_resp *r,
                    const struct ap_titan_error *e)
{
    struct ap_titan_tok *x = f->x;
    struct ap_titan_op *op, *next;

    if (err)
        ap_log_warn("titan.token", "tenant=%lld status=%d oauth_error=%s", (long long)x->tenant_id,
                    e->status, e->oauth_error[0] ? e->oauth_error : "-");
    x->fetching = NULL;
    if (f->claimed)
        f->t->shared.token_save(f->t->shared.ud, x->tenant_id, x->client_id,
                                err == AP_OK ? r->access_token : NULL,
                                f->started_real + r->expires_in * AP_NS_PER_S, &x->gen);
    else
        x->gen = 0;
    if (err == AP_OK) {
        drop_token(x);
        x->token = r->access_token;
        r->access_token = NULL;
        x->renew_ns = renew_at(f->t, f->started_ns, r->expires_in);
    }
    op = x->wait_head;
    x->wait_head = x->wait_tail = NULL;
    for (; op; op = next) {
        next = op->wnext;
        op->wnext = NULL;
        /* fresh from the fetch: used even if it is short-lived */
        if (err == AP_OK)
            op->token = ap_xstrdup(x->token);
        ap_titan_op_token_ready(op, err, e);
    }
    fetch_free(f);
}

/* The answer of POST {auth}/connect/token. */
static void on_token_http(void *arg, enum ap_err err, struct ap_httpc_resp *resp)
{
    struct fetch *f = arg;
    struct ap_titan_token_resp r = {0};
    struct ap_titan_error e = {0};

    if (err != AP_OK) {
        e.stage = resp->canceled ? AP_TITAN_STAGE_CANCELED : AP_TITAN_STAGE_NETWORK;
        snprintf(e.title, sizeof(e.title), "%s", resp->errmsg);
        err = AP_EUNAVAIL;
    } else {
        err = ap_titan_parse_token_response((int)resp->status, resp->body, resp->body_len, &r, &e);
        if (resp->status == 429)
            ap_titan_retry_after(ap_httpc_resp_header(resp, "Retry-After"), NULL,
                                 ap_clock_real_ns(), &e.retry_after_s);
    }
    e.sent = resp->sent;
    fetched(f, err, &r, &e);
    ap_titan_token_resp_cleanup(&r);
}

static enum ap_err start_http(struct ap_titan *t, struct fetch *f)
{
    const char *pairs[] = {"grant_type",    "client_credentials", "client_id", f->client_id,
                           "client_secret", f->client_secret,     NULL};
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                          "Accept: application/json", NULL};
    struct ap_httpc_req req = {.method = "POST", .url = t->token_url, .headers = hdrs};
    char *form = NULL;
    enum ap_err err;

    if ((err = ap_httpc_urlencode_form(pairs, &form)) != AP_OK)
        return err;
    req.body = form;
    req.body_len = strlen(form);
    err = ap_httpc_start(t->loop, &req, NULL, on_token_http, f, &f->xfer);
    wipe_free(form);
    return err;
}

/* The test hook's fetch, run from the loop (never inside ap_titan_tok_need). */
static void run_hook(void *arg)
{
    struct fetch *f = arg;
    struct ap_titan_token_resp r = {0};
    struct ap_titan_error e = {0};
    enum ap_err err = f->t->hooks.fetch_token(f->t->hooks.ud, &f->creds, &r, &e);

    fetched(f, err, &r, &e);
    ap_titan_token_resp_cleanup(&r);
}

/* A fetch that could not be started, told to its ops on a later turn. */
static void start_failed(void *arg)
{
    struct fetch *f = arg;
    struct ap_titan_token_resp r = {0};
    struct ap_titan_error e = {.stage = AP_TITAN_STAGE_TOKEN};

    snprintf(e.title, sizeof(e.title), "the token request could not be made: %s",
             f->start_err == AP_ETOOBIG ? "the client id or secret is too long"
                                        : ap_err_str(f->start_err));
    fetched(f, f->start_err == AP_ETOOBIG ? AP_EINVAL : AP_EUNAVAIL, &r, &e);
}

/* A token another instance saved is taken as if fetched: its ops get it. */
static void took_stored(struct fetch *f, char *token, int64_t expires_real, int64_t gen)
{
    struct ap_titan_tok *x = f->x;
    struct ap_titan_token_resp r = {.access_token = token};
    int64_t left = (expires_real - ap_clock_real_ns()) / AP_NS_PER_S;

    r.expires_in = left < 1 ? 1 : left;
    f->started_ns = ap_clock_mono_ns();
    fetched(f, AP_OK, &r, NULL);
    x->gen = gen;
    ap_titan_token_resp_cleanup(&r);
}

static void on_recheck(void *arg, bool canceled);

/* Shared: the stored token, else the claim of the fetch, else a look again soon. Loop thread. */
static void shared_step(void *arg)
{
    struct fetch *f = arg;
    struct ap_titan *t = f->t;
    struct ap_titan_tok *x = f->x;
    int64_t margin = ((int64_t)t->cfg.token_margin_s + 1) * AP_NS_PER_S, exp = 0, gen = 0;
    int lease_ms = t->cfg.connect_timeout_ms + t->cfg.total_timeout_ms + 1000;
    char *token = NULL;

    if (!x->wait_head) { /* every caller gave up meanwhile (deadlines) */
        x->fetching = NULL;
        fetch_free(f);
        return;
    }
    if (t->shared.token_load(t->shared.ud, x->tenant_id, x->client_id, x->stale, margin, &token,
                             &exp, &gen) == AP_OK) {
        took_stored(f, token, exp, gen);
        return;
    }
    if (t->shared.token_claim(t->shared.ud, x->tenant_id, x->client_id, x->stale, margin,
                              lease_ms)) {
        f->claimed = true;
        start_real(f);
        return;
    }
    if (ap_httpc_timer_start(t->loop, ap_clock_mono_ns() + SHARED_RECHECK_NS, on_recheck, f,
                             &f->recheck) != AP_OK) {
        struct ap_titan_error e = {.stage = AP_TITAN_STAGE_CANCELED};
        snprintf(e.title, sizeof(e.title), "the ServiceTitan client is shutting down");
        fetched(f, AP_EUNAVAIL, &(struct ap_titan_token_resp){0}, &e);
    }
}

static void on_recheck(void *arg, bool canceled)
{
    struct fetch *f = arg;

    f->recheck = NULL;
    if (canceled) {
        struct ap_titan_error e = {.stage = AP_TITAN_STAGE_CANCELED};
        snprintf(e.title, sizeof(e.title), "the ServiceTitan client is shutting down");
        fetched(f, AP_EUNAVAIL, &(struct ap_titan_token_resp){0}, &e);
        return;
    }
    shared_step(f);
}

/* Starts x's fetch with op's credentials. Whatever happens, the queued ops
 * hear of it from the loop, never inside ap_titan_tok_need(). */
static void start_fetch(struct ap_titan *t, struct ap_titan_tok *x, const struct ap_titan_op *op,
                        bool force)
{
    struct fetch *f = ap_xcalloc(1, sizeof(*f));

    f->t = t;
    f->x = x;
    f->started_ns = ap_clock_mono_ns();
    f->started_real = ap_clock_real_ns();
    f->client_id = ap_xstrdup(op->client_id);
    f->client_secret = ap_xstrdup(op->client_secret);
    f->creds = (struct ap_titan_creds){x->tenant_id, f->client_id, f->client_secret};
    x->fetching = f;
    if (!t->shared.token_load) {
        start_real(f);
        return;
    }
    /* a forced fetch checks the credentials with ServiceTitan itself, and shares its token */
    f->claimed = force;
    if (force) {
        start_real(f);
        return;
    }
    if (ap_httpc_loop_post(t->loop, shared_step, f) != AP_OK)
        ap_log_warn("titan.token", "tenant=%lld msg=\"the engine is closing\"",
                    (long long)x->tenant_id);
}

/* The fetch from ServiceTitan (or the test hook). */
static void start_real(struct fetch *f)
{
    struct ap_titan *t = f->t;
    struct ap_titan_tok *x = f->x;
    void (*later)(void *) = run_hook;

    ap_titan_count(t, AP_TITAN_CTR_TOKEN_FETCHES);
    if (!t->hooks.fetch_token) {
        if ((f->start_err = start_http(t, f)) == AP_OK)
            return;
        later = start_failed;
    }
    /* refused only while the loop closes, after every call has ended:
     * ap_titan_tokens_free() frees f then */
    if (ap_httpc_loop_post(t->loop, later, f) != AP_OK)
        ap_log_warn("titan.token", "tenant=%lld msg=\"the engine is closing\"",
                    (long long)x->tenant_id);
}

bool ap_titan_tok_need(struct ap_titan *t, struct ap_titan_op *op, bool force, const char *stale)
{
    struct ap_titan_tok *x = find_entry(t, op->creds.tenant_id, op->client_id, true);

    if (!x->fetching && (force || (stale && x->token && strcmp(x->token, stale) == 0))) {
        drop_token(x);
        if (x->gen)
            x->stale = x->gen; /* other instances hold it too: never take it from the store */
    }
    if (x->token && ap_clock_mono_ns() < x->renew_ns) {
        op->token = ap_xstrdup(x->token);
        return true;
    }
    op->wnext = NULL;
    if (x->wait_tail)
        x->wait_tail->wnext = op;
    else
        x->wait_head = op;
    x->wait_tail = op;
    if (!x->fetching)
        start_fetch(t, x, op, force);
    return false;
}

void ap_titan_tok_unwait(struct ap_titan *t, struct ap_titan_op *op)
{
    struct ap_titan_tok *x = find_entry(t, op->creds.tenant_id, op->client_id, false);
    struct ap_titan_op **pp, *prev = NULL;

    if (!x)
        return;
    for (pp = &x->wait_head; *pp; prev = *pp, pp = &(*pp)->wnext) {
        if (*pp == op) {
            *pp = op->wnext;
            if (x->wait_tail == op)
                x->wait_tail = prev;
            op->wnext = NULL;
            return;
        }
    }
}

void ap_titan_tok_forget(struct ap_titan *t, int64_t tenant_id, const char *client_id)
{
    struct ap_titan_tok *x = find_entry(t, tenant_id, client_id, false);

    if (x && !x->fetching)
        drop_token(x);
}

void ap_titan_tok_abort_all(struct ap_titan *t)
{
    for (struct ap_titan_tok *x = t->tokens; x; x = x->next)
        if (x->fetching && x->fetching->xfer)
            ap_httpc_abort(t->loop, x->fetching->xfer);
        else if (x->fetching && x->fetching->recheck) {
            struct fetch *f = x->fetching;
            ap_httpc_timer_stop(t->loop, f->recheck);
            on_recheck(f, true);
        }
}

void ap_titan_tokens_free(struct ap_titan *t)
{
    struct ap_titan_tok *x, *next;

    for (x = t->tokens; x; x = next) {
        next = x->next;
        drop_token(x);
        if (x->fetching && !x->fetching->xfer)
            fetch_free(x->fetching);
        free(x->client_id);
        free(x);
    }
    t->tokens = NULL;
}

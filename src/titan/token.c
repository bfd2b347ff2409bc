/*
 * token.c — the token cache: one entry per (tenant, client id), holding the
 * access token until it expires minus a margin (on the injectable monotonic
 * clock). One fetch is in flight per entry however many threads ask: the
 * first asker fetches outside the lock while the others wait on the
 * condition variable and share its result, token or error. A 401 on an API
 * call drops the token only when it is still the one that got the 401, so a
 * burst of 401s from many threads costs one fetch.
 *
 * The client secret is used for the fetch and never stored or logged; the
 * token is kept here and handed to callers as malloc'd copies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "httpc/httpc.h"
#include "titan/titan_int.h"

struct ap_titan_tok {
    struct ap_titan_tok *next;
    int64_t tenant_id;
    char *client_id;
    char *token;        /* NULL: none cached */
    int64_t renew_ns;   /* mono time from which the token is no longer handed out */
    bool fetching;      /* a thread is fetching for this entry */
    uint64_t fetches;   /* completed fetches, to tell waiters theirs is done */
    enum ap_err result; /* of the last fetch */
    struct ap_titan_error error;
};

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

static void drop_token(struct ap_titan_tok *x)
{
    if (x->token) {
        memset(x->token, 0, strlen(x->token));
        free(x->token);
    }
    x->token = NULL;
}

/* POST {auth}/connect/token with the client credentials. */
static enum ap_err fetch_http(struct ap_titan *t, const struct ap_titan_creds *c,
                              struct ap_titan_token_resp *out, struct ap_titan_error *e)
{
    const char *pairs[] = {"grant_type",    "client_credentials", "client_id", c->client_id,
                           "client_secret", c->client_secret,     NULL};
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                          "Accept: application/json", NULL};
    struct ap_httpc_resp resp = {0};
    struct ap_httpc_req req = {.method = "POST", .url = t->token_url, .headers = hdrs};
    char *form = NULL;
    enum ap_err err;

    if ((err = ap_httpc_urlencode_form(pairs, &form)) != AP_OK) {
        e->stage = AP_TITAN_STAGE_TOKEN;
        snprintf(e->title, sizeof(e->title), "the client id or secret is too long");
        return AP_EINVAL;
    }
    req.body = form;
    req.body_len = strlen(form);
    err = ap_httpc_do(ap_titan_httpc(t), &req, &resp);
    memset(form, 0, req.body_len);
    free(form);
    if (err != AP_OK) {
        e->stage = AP_TITAN_STAGE_NETWORK;
        e->status = 0;
        snprintf(e->title, sizeof(e->title), "%s", resp.errmsg);
        err = AP_EUNAVAIL;
    } else {
        err = ap_titan_parse_token_response((int)resp.status, resp.body, resp.body_len, out, e);
        if (resp.status == 429)
            ap_titan_retry_after(ap_httpc_resp_header(&resp, "Retry-After"), NULL,
                                 ap_clock_real_ns(), &e->retry_after_s);
    }
    ap_httpc_resp_cleanup(&resp);
    return err;
}

/* The margin before expiry: the configured one, unless the token lives less
 * than twice as long; such short-lived tokens are used to their end and the
 * 401 refresh covers the edge. */
static int64_t renew_at(struct ap_titan *t, int64_t started_ns, int64_t expires_in)
{
    int64_t margin = t->cfg.token_margin_s;

    if (expires_in < 2 * margin)
        margin = 0;
    return started_ns + (expires_in - margin) * 1000000000LL;
}

/* Runs one fetch for x with t->mu unlocked around it; wakes the waiters. */
static void run_fetch(struct ap_titan *t, struct ap_titan_tok *x, const struct ap_titan_creds *c)
{
    struct ap_titan_token_resp r = {0};
    struct ap_titan_error e = {0};
    int64_t started = ap_clock_mono_ns();
    enum ap_err err;

    x->fetching = true;
    pthread_mutex_unlock(&t->mu);
    atomic_fetch_add(&t->n_token_fetches, 1);
    if (t->hooks.fetch_token)
        err = t->hooks.fetch_token(t->hooks.ud, c, &r, &e);
    else
        err = fetch_http(t, c, &r, &e);
    if (err)
        ap_log_warn("titan.token", "tenant=%lld status=%d oauth_error=%s", (long long)c->tenant_id,
                    e.status, e.oauth_error[0] ? e.oauth_error : "-");
    pthread_mutex_lock(&t->mu);
    drop_token(x);
    if (err == AP_OK) {
        x->token = r.access_token;
        r.access_token = NULL;
        x->renew_ns = renew_at(t, started, r.expires_in);
    }
    x->result = err;
    x->error = e;
    x->fetching = false;
    x->fetches++;
    pthread_cond_broadcast(&t->cv);
    ap_titan_token_resp_cleanup(&r);
}

/* With t->mu held: a valid cached token (copied into *token), else a fetch or
 * a wait for the one in flight. */
static enum ap_err get_locked(struct ap_titan *t, struct ap_titan_tok *x,
                              const struct ap_titan_creds *c, char **token,
                              struct ap_titan_error *e)
{
    uint64_t seen;

    for (;;) {
        if (x->token && ap_clock_mono_ns() < x->renew_ns) {
            *token = ap_xstrdup(x->token);
            return AP_OK;
        }
        if (!x->fetching) {
            run_fetch(t, x, c);
        } else {
            seen = x->fetches;
            while (x->fetching && x->fetches == seen)
                pthread_cond_wait(&t->cv, &t->mu);
        }
        if (x->token) { /* fresh from the fetch: used even if it is short-lived */
            *token = ap_xstrdup(x->token);
            return AP_OK;
        }
        if (x->result != AP_OK) {
            int attempts = e->attempts; /* the caller's count */
            *e = x->error;
            e->attempts = attempts;
            return x->result;
        }
    }
}

enum ap_err ap_titan_token_get(struct ap_titan *t, const struct ap_titan_creds *creds, bool force,
                               const char *stale, char **token, struct ap_titan_error *e)
{
    struct ap_titan_tok *x;
    enum ap_err err;

    *token = NULL;
    if (!creds || creds->tenant_id <= 0 || !creds->client_id || !creds->client_secret) {
        e->stage = AP_TITAN_STAGE_TOKEN;
        snprintf(e->title, sizeof(e->title), "no tenant id, client id or client secret given");
        return AP_EINVAL;
    }
    pthread_mutex_lock(&t->mu);
    x = find_entry(t, creds->tenant_id, creds->client_id, true);
    if (!x->fetching && (force || (stale && x->token && strcmp(x->token, stale) == 0)))
        drop_token(x);
    err = get_locked(t, x, creds, token, e);
    pthread_mutex_unlock(&t->mu);
    return err;
}

void ap_titan_forget(struct ap_titan *t, int64_t tenant_id, const char *client_id)
{
    struct ap_titan_tok *x;

    if (!t || !client_id)
        return;
    pthread_mutex_lock(&t->mu);
    if ((x = find_entry(t, tenant_id, client_id, false)) && !x->fetching)
        drop_token(x);
    pthread_mutex_unlock(&t->mu);
}

void ap_titan_tokens_free(struct ap_titan *t)
{
    struct ap_titan_tok *x, *next;

    for (x = t->tokens; x; x = next) {
        next = x->next;
        drop_token(x);
        free(x->client_id);
        free(x);
    }
    t->tokens = NULL;
}

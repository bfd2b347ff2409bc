/*
 * titan.c — the ServiceTitan V2 client (titan.h): environments, the client's
 * lifecycle, the per-thread HTTP client, sleeping and randomness (which
 * tests replace through hooks) and the counters. One call and its retries
 * are in call.c, the token cache in token.c, the rate limiter in limiter.c,
 * backoff and Retry-After in retry.c, the parsers in parse.c and the
 * iterators in pages.c.
 *
 * One call: get the connection's token (cached), wait for a slot of the
 * tenant's rate limiter, send with ST-App-Key and the bearer token; on a 401
 * drop that token, fetch a fresh one and retry once; on a network error, a
 * 429 or a 5xx wait (Retry-After, else jittered backoff) and retry while
 * attempts and the time budget last; anything else is final. One log line per
 * failed call; never a secret or a token in it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "httpc/httpc.h"
#include "titan/titan_int.h"

/* ---- environments -------------------------------------------------------- */

static const char *const env_names[] = {"production", "integration", "custom"};

enum ap_err ap_titan_env_parse(const char *s, enum ap_titan_env *out)
{
    for (int i = 0; s && i < 3; i++) {
        if (strcmp(s, env_names[i]) == 0) {
            *out = (enum ap_titan_env)i;
            return AP_OK;
        }
    }
    return AP_EINVAL;
}

const char *ap_titan_env_name(enum ap_titan_env env)
{
    return (unsigned)env < 3 ? env_names[env] : "unknown";
}

const char *ap_titan_app_access_url(enum ap_titan_env env)
{
    /* [inferred] ServiceTitan's web app is go.servicetitan.com (production)
     * and integration.servicetitan.com (the integration sandbox); the page is
     * Settings → Integrations → API Application Access. The exact fragment
     * path is not documented publicly. */
    switch (env) {
    case AP_TITAN_PRODUCTION:
        return "https://go.servicetitan.com/#/Settings/Integrations/ApiApplicationAccess";
    case AP_TITAN_INTEGRATION:
        return "https://integration.servicetitan.com/#/Settings/Integrations/ApiApplicationAccess";
    default:
        return NULL;
    }
}

/* ---- lifecycle ------------------------------------------------------------- */

/* One thread's HTTP client, registered so ap_titan_free can free those of
 * threads that are still alive. */
struct ap_titan_tls {
    struct ap_titan_tls *next, *prev;
    struct ap_titan *t;
    struct ap_httpc *c;
};

static void tls_release(void *p)
{
    struct ap_titan_tls *x = p;
    struct ap_titan *t = x->t;

    pthread_mutex_lock(&t->mu);
    if (x->prev)
        x->prev->next = x->next;
    else
        t->tls = x->next;
    if (x->next)
        x->next->prev = x->prev;
    pthread_mutex_unlock(&t->mu);
    ap_httpc_free(x->c);
    free(x);
}

struct ap_httpc *ap_titan_httpc(struct ap_titan *t)
{
    struct ap_titan_tls *x = pthread_getspecific(t->tls_key);
    struct ap_httpc_opts o = {.connect_timeout_ms = t->cfg.connect_timeout_ms,
                              .total_timeout_ms = t->cfg.total_timeout_ms};

    if (x)
        return x->c;
    x = ap_xcalloc(1, sizeof(*x));
    x->t = t;
    if (!(x->c = ap_httpc_new(&o))) {
        ap_log_error("titan.httpc", "msg=\"libcurl could not make a handle\"");
        abort();
    }
    pthread_mutex_lock(&t->mu);
    x->next = t->tls;
    if (t->tls)
        t->tls->prev = x;
    t->tls = x;
    pthread_mutex_unlock(&t->mu);
    pthread_setspecific(t->tls_key, x);
    return x->c;
}

static char *base_url(const char *u)
{
    size_t n = strlen(u);

    while (n > 0 && u[n - 1] == '/')
        n--;
    return ap_xstrndup(u, n);
}

static bool url_ok(const char *u)
{
    return u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
           strlen(u) < 1024;
}

static void set_defaults(struct ap_titan_config *c)
{
    if (c->rate_limit <= 0)
        c->rate_limit = 50;
    if (c->connect_timeout_ms <= 0)
        c->connect_timeout_ms = 5000;
    if (c->total_timeout_ms <= 0)
        c->total_timeout_ms = 30000;
    if (c->max_attempts <= 0)
        c->max_attempts = 4;
    if (c->max_attempts > 20)
        c->max_attempts = 20;
    if (c->retry_budget_ms <= 0)
        c->retry_budget_ms = 60000;
    if (c->token_margin_s <= 0)
        c->token_margin_s = 60;
}

static bool check_config(const struct ap_titan_config *cfg, char *err, size_t errlen)
{
    if (!cfg->app_key || !cfg->app_key[0] || strlen(cfg->app_key) > 256 ||
        strpbrk(cfg->app_key, "\r\n")) {
        snprintf(err, errlen, "no ServiceTitan app key: set APPOINTD_ST_APP_KEY (ak1.…)");
        return false;
    }
    if ((unsigned)cfg->env > AP_TITAN_CUSTOM) {
        snprintf(err, errlen, "unknown ServiceTitan environment");
        return false;
    }
    if (cfg->env == AP_TITAN_CUSTOM && (!url_ok(cfg->auth_url) || !url_ok(cfg->api_url))) {
        snprintf(err, errlen,
                 "st-env custom needs st-auth-url and st-api-url (http:// or https:// base URLs)");
        return false;
    }
    return true;
}

struct ap_titan *ap_titan_new(const struct ap_titan_config *cfg, char *err, size_t errlen)
{
    struct ap_titan *t;
    const char *auth = cfg->auth_url, *api = cfg->api_url;

    if (!check_config(cfg, err, errlen))
        return NULL;
    if (ap_httpc_global_init() != AP_OK) {
        snprintf(err, errlen, "libcurl failed to initialise");
        return NULL;
    }
    t = ap_xcalloc(1, sizeof(*t));
    t->cfg = *cfg;
    set_defaults(&t->cfg);
    if (cfg->env == AP_TITAN_PRODUCTION) {
        auth = "https://auth.servicetitan.io";
        api = "https://api.servicetitan.io";
    } else if (cfg->env == AP_TITAN_INTEGRATION) {
        auth = "https://auth-integration.servicetitan.io";
        api = "https://api-integration.servicetitan.io";
    }
    char *ab = base_url(auth);
    t->token_url = ap_xasprintf("%s/connect/token", ab);
    free(ab);
    t->api_base = base_url(api);
    t->app_key = ap_xstrdup(cfg->app_key);
    t->app_key_header = ap_xasprintf("ST-App-Key: %s", cfg->app_key);
    t->cfg.auth_url = t->token_url;
    t->cfg.api_url = t->api_base;
    t->cfg.app_key = t->app_key;
    t->burst = ap_titan_burst_for(t->cfg.rate_limit);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    pthread_key_create(&t->tls_key, tls_release);
    return t;
}

void ap_titan_free(struct ap_titan *t)
{
    struct ap_titan_tls *x, *next;

    if (!t)
        return;
    pthread_key_delete(t->tls_key);
    for (x = t->tls; x; x = next) {
        next = x->next;
        ap_httpc_free(x->c);
        free(x);
    }
    ap_titan_tokens_free(t);
    ap_titan_limiters_free(t);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t->token_url);
    free(t->api_base);
    free(t->app_key);
    free(t->app_key_header);
    free(t);
}

void ap_titan_set_hooks(struct ap_titan *t, const struct ap_titan_hooks *h)
{
    t->hooks = *h;
}

void ap_titan_sleep(struct ap_titan *t, int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};

    if (ns <= 0)
        return;
    if (t->hooks.sleep_ns) {
        t->hooks.sleep_ns(t->hooks.ud, ns);
        return;
    }
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

uint32_t ap_titan_random(struct ap_titan *t)
{
    static _Thread_local uint64_t s;

    if (t->hooks.random)
        return t->hooks.random(t->hooks.ud);
    if (!s)
        s = (uint64_t)ap_clock_mono_ns() ^ (uint64_t)(uintptr_t)&s ^ 0x9e3779b97f4a7c15ULL;
    s ^= s << 13; /* xorshift64: jitter needs spread, not secrecy */
    s ^= s >> 7;
    s ^= s << 17;
    return (uint32_t)(s >> 16);
}

void ap_titan_stats(struct ap_titan *t, struct ap_titan_stats *out)
{
    out->calls = atomic_load(&t->n_calls);
    out->retries = atomic_load(&t->n_retries);
    out->token_fetches = atomic_load(&t->n_token_fetches);
    out->rate_limited_waits = atomic_load(&t->n_waits);
    out->http_429 = atomic_load(&t->n_429);
    out->http_401 = atomic_load(&t->n_401);
}

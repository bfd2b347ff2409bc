/*
 * titan_load.c — a load driver of the ServiceTitan client (src/titan). One
 * struct ap_titan; calls to one API path, in one of two ways:
 *
 *   blocking (default): N threads each call ap_titan_call() in a loop, for
 *     S seconds or C calls each;
 *   async (--async W): one thread submits ap_titan_call_async() and keeps up
 *     to W calls in flight on the engine, for S seconds or C calls per
 *     tenant.
 *
 * Calls go to one tenant (--tenant, --client-id, --client-secret-file), or
 * round-robin over the tenants of --tenants-file (lines "TENANT CLIENT_ID
 * CLIENT_SECRET"). It prints one JSON line of what happened:
 *
 *   titan_load --auth-url U --api-url U --app-key K
 *              (--tenant T --client-id C --client-secret-file F | --tenants-file F)
 *              [--threads 20 | --async W] [--seconds 60 | --calls N]
 *              [--path /settings/business-units] [--query pageSize=10]
 *              [--rate-limit R] [--deadline-ms D] [--max-connections N]
 *
 *   {"mode":…, "tenants":…, "calls":…, "failures":…, "failures_401":…,
 *    "token_fetches":…, "http_429_seen_by_callers":…, "http_401":…,
 *    "http_429":…, "retries":…, "rate_limited_waits":…, "timeouts":…,
 *    "seconds":…, "calls_per_s":…, "mean_call_us":…,
 *    "per_tenant_min":…, "per_tenant_max":…}
 *
 * Used by tests/e2e/titan.test.mjs, tests/e2e/titan_client.test.mjs and
 * bench/titan_client.sh. Secrets are read from files and never printed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/defs.h"
#include "core/mem.h"
#include "titan/titan.h"

#define MAX_TENANTS 1000

struct opts {
    const char *auth_url, *api_url, *app_key, *client_id, *secret_file, *tenants_file, *path,
        *query;
    long long tenant;
    int threads, seconds, calls, window, deadline_ms, max_connections;
    double rate_limit;
};

struct tenant {
    struct ap_titan_creds creds;
    _Atomic uint64_t calls;
};

struct run {
    struct opts o;
    struct ap_titan *t;
    struct tenant *tn;
    int ntn;
    char module[64];
    const char *subpath;
    int64_t end_ns;
    _Atomic uint64_t calls, failures, failures_401, seen_429, timeouts, call_ns;
    /* async: calls in flight, and the submitter waiting for room */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int in_flight;
};

/* One async call's bookkeeping. */
struct pending {
    struct run *r;
    struct tenant *tn;
    int64_t t0;
};

static void usage(void)
{
    fprintf(stderr, "usage: titan_load --auth-url U --api-url U --app-key K (--tenant T "
                    "--client-id C --client-secret-file F | --tenants-file F) [--threads N | "
                    "--async W] [--seconds S | --calls N] [--path /module/rest] [--query Q] "
                    "[--rate-limit R] [--deadline-ms D] [--max-connections N]\n");
    exit(2);
}

static void set_opt(struct opts *o, const char *a, const char *v)
{
    if (!strcmp(a, "--auth-url"))
        o->auth_url = v;
    else if (!strcmp(a, "--api-url"))
        o->api_url = v;
    else if (!strcmp(a, "--app-key"))
        o->app_key = v;
    else if (!strcmp(a, "--tenant"))
        o->tenant = atoll(v);
    else if (!strcmp(a, "--client-id"))
        o->client_id = v;
    else if (!strcmp(a, "--client-secret-file"))
        o->secret_file = v;
    else if (!strcmp(a, "--tenants-file"))
        o->tenants_file = v;
    else if (!strcmp(a, "--threads"))
        o->threads = atoi(v);
    else if (!strcmp(a, "--async"))
        o->window = atoi(v);
    else if (!strcmp(a, "--seconds"))
        o->seconds = atoi(v);
    else if (!strcmp(a, "--calls"))
        o->calls = atoi(v);
    else if (!strcmp(a, "--path"))
        o->path = v;
    else if (!strcmp(a, "--query"))
        o->query = v;
    else if (!strcmp(a, "--rate-limit"))
        o->rate_limit = atof(v);
    else if (!strcmp(a, "--deadline-ms"))
        o->deadline_ms = atoi(v);
    else if (!strcmp(a, "--max-connections"))
        o->max_connections = atoi(v);
    else
        usage();
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.threads = 20, .seconds = 60, .path = "/settings/business-units"};
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            usage();
        set_opt(o, argv[i], argv[i + 1]);
    }
    if (!o->auth_url || !o->api_url || !o->app_key || o->threads < 1 || o->threads > 1000 ||
        o->window < 0 || o->window > 100000 || o->path[0] != '/' ||
        (!o->tenants_file && (o->tenant <= 0 || !o->client_id || !o->secret_file)))
        usage();
}

static char *read_secret(const char *file)
{
    char buf[512];
    FILE *f = fopen(file, "r");
    size_t n;

    if (!f) {
        perror(file);
        exit(2);
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, " \t\r\n")] = '\0';
    return ap_xstrdup(buf);
}

/* The tenants to call: the file's lines, or the one of the options. */
static void load_tenants(struct run *r)
{
    char line[1024], cid[512], secret[512];
    long long tenant;
    FILE *f;

    r->tn = ap_xcalloc(MAX_TENANTS, sizeof(*r->tn));
    if (!r->o.tenants_file) {
        r->tn[0].creds = (struct ap_titan_creds){r->o.tenant, ap_xstrdup(r->o.client_id),
                                                 read_secret(r->o.secret_file)};
        r->ntn = 1;
        return;
    }
    if (!(f = fopen(r->o.tenants_file, "r"))) {
        perror(r->o.tenants_file);
        exit(2);
    }
    while (r->ntn < MAX_TENANTS && fgets(line, sizeof(line), f))
        if (sscanf(line, "%lld %511s %511s", &tenant, cid, secret) == 3 && tenant > 0)
            r->tn[r->ntn++].creds =
                (struct ap_titan_creds){tenant, ap_xstrdup(cid), ap_xstrdup(secret)};
    fclose(f);
    if (r->ntn == 0) {
        fprintf(stderr, "titan_load: no tenants in %s\n", r->o.tenants_file);
        exit(2);
    }
}

static struct ap_titan_opts call_opts(const struct run *r)
{
    struct ap_titan_opts o = {0};

    if (r->o.deadline_ms > 0)
        o.deadline_ns = ap_clock_mono_ns() + (int64_t)r->o.deadline_ms * AP_NS_PER_MS;
    return o;
}

/* Counts one ended call. */
static void tally(struct run *r, struct tenant *tn, int64_t t0, enum ap_err err,
                  const struct ap_titan_error *e)
{
    atomic_fetch_add(&r->call_ns, (uint64_t)(ap_clock_mono_ns() - t0));
    atomic_fetch_add(&r->calls, 1);
    atomic_fetch_add(&tn->calls, 1);
    if (err == AP_OK)
        return;
    atomic_fetch_add(&r->failures, 1);
    if (e->status == 401)
        atomic_fetch_add(&r->failures_401, 1);
    if (e->status == 429)
        atomic_fetch_add(&r->seen_429, 1);
    if (err == AP_ETIMEOUT)
        atomic_fetch_add(&r->timeouts, 1);
}

/* ---- blocking: threads ------------------------------------------------------ */

static _Atomic int next_tenant;

static void *worker(void *arg)
{
    struct run *r = arg;
    struct ap_titan_req req = {"GET", r->module, r->subpath, r->o.query, NULL};
    struct ap_titan_error e;
    json_t *out = NULL;

    for (int n = 0; r->o.calls > 0 ? n < r->o.calls : ap_clock_mono_ns() < r->end_ns; n++) {
        struct tenant *tn = &r->tn[atomic_fetch_add(&next_tenant, 1) % r->ntn];
        struct ap_titan_opts o = call_opts(r);
        int64_t t0 = ap_clock_mono_ns();
        enum ap_err err = ap_titan_call_sync(r->t, &tn->creds, &req, &o, &out, &e);
        tally(r, tn, t0, err, &e);
        json_decref(out);
        out = NULL;
    }
    return NULL;
}

static void run_threads(struct run *r)
{
    pthread_t *th = ap_xcalloc((size_t)r->o.threads, sizeof(*th));

    for (int i = 0; i < r->o.threads; i++)
        pthread_create(&th[i], NULL, worker, r);
    for (int i = 0; i < r->o.threads; i++)
        pthread_join(th[i], NULL);
    free(th);
}

/* ---- async: one submitting thread ----------------------------------------------- */

static void on_done(void *ud, enum ap_err err, json_t *body, const struct ap_titan_error *e)
{
    struct pending *p = ud;
    struct run *r = p->r;

    (void)body;
    tally(r, p->tn, p->t0, err, e);
    free(p);
    pthread_mutex_lock(&r->mu);
    r->in_flight--;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Whether the async run should submit another call to a tenant that has n so far. */
static bool more(const struct run *r, int n)
{
    return r->o.calls > 0 ? n < r->o.calls : ap_clock_mono_ns() < r->end_ns;
}

static void run_async(struct run *r)
{
    struct ap_titan_req req = {"GET", r->module, r->subpath, r->o.query, NULL};
    int *sent = ap_xcalloc((size_t)r->ntn, sizeof(int)), busy = r->ntn;
    bool *over = ap_xcalloc((size_t)r->ntn, sizeof(bool));

    for (int i = 0; busy > 0; i = (i + 1) % r->ntn) {
        struct pending *p;
        struct ap_titan_opts o;
        if (over[i])
            continue;
        if (!more(r, sent[i])) {
            over[i] = true;
            busy--;
            continue;
        }
        pthread_mutex_lock(&r->mu);
        while (r->in_flight >= r->o.window)
            pthread_cond_wait(&r->cv, &r->mu);
        r->in_flight++;
        pthread_mutex_unlock(&r->mu);
        p = ap_xcalloc(1, sizeof(*p));
        *p = (struct pending){r, &r->tn[i], ap_clock_mono_ns()};
        o = call_opts(r);
        if (ap_titan_call_async(r->t, &r->tn[i].creds, &req, &o, on_done, p) != AP_OK) {
            fprintf(stderr, "titan_load: submit refused\n");
            exit(1);
        }
        sent[i]++;
    }
    pthread_mutex_lock(&r->mu);
    while (r->in_flight > 0)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    free(sent);
    free(over);
}

static void report(struct run *r, double secs)
{
    struct ap_titan_stats st;
    uint64_t calls = atomic_load(&r->calls), lo = UINT64_MAX, hi = 0;

    for (int i = 0; i < r->ntn; i++) {
        uint64_t n = atomic_load(&r->tn[i].calls);
        lo = n < lo ? n : lo;
        hi = n > hi ? n : hi;
    }
    ap_titan_stats(r->t, &st);
    printf("{\"mode\":\"%s\",\"tenants\":%d,\"calls\":%llu,\"failures\":%llu,\"failures_401\":%llu,"
           "\"token_fetches\":%llu,\"http_429_seen_by_callers\":%llu,\"http_401\":%llu,"
           "\"http_429\":%llu,\"retries\":%llu,\"rate_limited_waits\":%llu,\"timeouts\":%llu,"
           "\"seconds\":%.3f,\"calls_per_s\":%.1f,\"mean_call_us\":%.1f,"
           "\"per_tenant_min\":%llu,\"per_tenant_max\":%llu}\n",
           r->o.window ? "async" : "threads", r->ntn, (unsigned long long)calls,
           (unsigned long long)atomic_load(&r->failures),
           (unsigned long long)atomic_load(&r->failures_401), (unsigned long long)st.token_fetches,
           (unsigned long long)atomic_load(&r->seen_429), (unsigned long long)st.http_401,
           (unsigned long long)st.http_429, (unsigned long long)st.retries,
           (unsigned long long)st.rate_limited_waits, (unsigned long long)atomic_load(&r->timeouts),
           secs, secs > 0 ? (double)calls / secs : 0.0,
           calls ? (double)atomic_load(&r->call_ns) / (double)calls / 1000.0 : 0.0,
           (unsigned long long)lo, (unsigned long long)hi);
}

int main(int argc, char **argv)
{
    static struct run r;
    struct ap_titan_config cfg = {.env = AP_TITAN_CUSTOM};
    char err[256] = "";
    const char *slash;
    int64_t t0;

    parse_args(argc, argv, &r.o);
    slash = strchr(r.o.path + 1, '/');
    snprintf(r.module, sizeof(r.module), "%.*s",
             (int)(slash ? slash - r.o.path - 1 : (long)strlen(r.o.path + 1)), r.o.path + 1);
    r.subpath = slash ? slash : "";
    cfg.auth_url = r.o.auth_url;
    cfg.api_url = r.o.api_url;
    cfg.app_key = r.o.app_key;
    cfg.rate_limit = r.o.rate_limit;
    cfg.max_connections = r.o.max_connections;
    if (r.o.deadline_ms > 0)
        cfg.retry_budget_ms = r.o.deadline_ms;
    if (!(r.t = ap_titan_new(&cfg, err, sizeof(err)))) {
        fprintf(stderr, "titan_load: %s\n", err);
        return 2;
    }
    load_tenants(&r);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    t0 = ap_clock_mono_ns();
    r.end_ns = t0 + (int64_t)r.o.seconds * AP_NS_PER_S;
    if (r.o.window > 0)
        run_async(&r);
    else
        run_threads(&r);
    report(&r, (double)(ap_clock_mono_ns() - t0) / 1e9);
    ap_titan_free(r.t);
    for (int i = 0; i < r.ntn; i++) {
        free((char *)r.tn[i].creds.client_id);
        memset((char *)r.tn[i].creds.client_secret, 0, strlen(r.tn[i].creds.client_secret));
        free((char *)r.tn[i].creds.client_secret);
    }
    free(r.tn);
    return 0;
}

/*
 * titan_load.c — a load driver of the ServiceTitan client (src/titan): N
 * threads share one struct ap_titan and call one API path for S seconds (or
 * C calls each), then it prints one JSON line of what happened:
 *
 *   titan_load --auth-url U --api-url U --app-key K --tenant T --client-id C
 *              --client-secret-file F [--threads 20] [--seconds 60 | --calls N]
 *              [--path /settings/business-units] [--query pageSize=10]
 *              [--rate-limit R]
 *
 *   {"calls":…, "failures":…, "failures_401":…, "token_fetches":…,
 *    "http_429_seen_by_callers":…, "http_401":…, "http_429":…, "retries":…,
 *    "rate_limited_waits":…, "seconds":…, "calls_per_s":…, "mean_call_us":…}
 *
 * Used by tests/e2e/titan.test.mjs (token refresh under a short token
 * lifetime, bursts against the rate limit) and bench/titan_client.sh.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "titan/titan.h"

struct opts {
    const char *auth_url, *api_url, *app_key, *client_id, *secret_file, *path, *query;
    long long tenant;
    int threads, seconds, calls;
    double rate_limit;
};

struct run {
    struct opts o;
    struct ap_titan *t;
    struct ap_titan_creds creds;
    char module[64];
    const char *subpath;
    int64_t end_ns;
    _Atomic uint64_t calls, failures, failures_401, seen_429, call_ns;
};

static void usage(void)
{
    fprintf(stderr, "usage: titan_load --auth-url U --api-url U --app-key K --tenant T "
                    "--client-id C --client-secret-file F [--threads N] [--seconds S | --calls "
                    "N] [--path /module/rest] [--query Q] [--rate-limit R]\n");
    exit(2);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.threads = 20, .seconds = 60, .path = "/settings/business-units"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        i++;
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
        else if (!strcmp(a, "--threads"))
            o->threads = atoi(v);
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
        else
            usage();
    }
    if (!o->auth_url || !o->api_url || !o->app_key || o->tenant <= 0 || !o->client_id ||
        !o->secret_file || o->threads < 1 || o->threads > 1000 || o->path[0] != '/')
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

static void *worker(void *arg)
{
    struct run *r = arg;
    struct ap_titan_error e;
    json_t *out = NULL;
    enum ap_err err;

    for (int n = 0; r->o.calls > 0 ? n < r->o.calls : ap_clock_mono_ns() < r->end_ns; n++) {
        int64_t t0 = ap_clock_mono_ns();
        err = ap_titan_call(r->t, &r->creds, "GET", r->module, r->subpath, r->o.query, NULL, &out,
                            &e);
        atomic_fetch_add(&r->call_ns, (uint64_t)(ap_clock_mono_ns() - t0));
        atomic_fetch_add(&r->calls, 1);
        json_decref(out);
        out = NULL;
        if (err == AP_OK)
            continue;
        atomic_fetch_add(&r->failures, 1);
        if (e.status == 401)
            atomic_fetch_add(&r->failures_401, 1);
        if (e.status == 429)
            atomic_fetch_add(&r->seen_429, 1);
    }
    return NULL;
}

static void report(struct run *r, double secs)
{
    struct ap_titan_stats st;
    uint64_t calls = atomic_load(&r->calls);

    ap_titan_stats(r->t, &st);
    printf("{\"calls\":%llu,\"failures\":%llu,\"failures_401\":%llu,\"token_fetches\":%llu,"
           "\"http_429_seen_by_callers\":%llu,\"http_401\":%llu,\"http_429\":%llu,"
           "\"retries\":%llu,\"rate_limited_waits\":%llu,\"seconds\":%.3f,"
           "\"calls_per_s\":%.1f,\"mean_call_us\":%.1f}\n",
           (unsigned long long)calls, (unsigned long long)atomic_load(&r->failures),
           (unsigned long long)atomic_load(&r->failures_401), (unsigned long long)st.token_fetches,
           (unsigned long long)atomic_load(&r->seen_429), (unsigned long long)st.http_401,
           (unsigned long long)st.http_429, (unsigned long long)st.retries,
           (unsigned long long)st.rate_limited_waits, secs, secs > 0 ? (double)calls / secs : 0.0,
           calls ? (double)atomic_load(&r->call_ns) / (double)calls / 1000.0 : 0.0);
}

int main(int argc, char **argv)
{
    static struct run r;
    struct ap_titan_config cfg = {.env = AP_TITAN_CUSTOM};
    char err[256] = "", *secret;
    const char *slash;
    pthread_t *th;
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
    if (!(r.t = ap_titan_new(&cfg, err, sizeof(err)))) {
        fprintf(stderr, "titan_load: %s\n", err);
        return 2;
    }
    secret = read_secret(r.o.secret_file);
    r.creds = (struct ap_titan_creds){r.o.tenant, r.o.client_id, secret};
    th = ap_xcalloc((size_t)r.o.threads, sizeof(*th));
    t0 = ap_clock_mono_ns();
    r.end_ns = t0 + (int64_t)r.o.seconds * 1000000000LL;
    for (int i = 0; i < r.o.threads; i++)
        pthread_create(&th[i], NULL, worker, &r);
    for (int i = 0; i < r.o.threads; i++)
        pthread_join(th[i], NULL);
    report(&r, (double)(ap_clock_mono_ns() - t0) / 1e9);
    ap_titan_free(r.t);
    free(th);
    free(secret);
    return 0;
}

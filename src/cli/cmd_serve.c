/*
 * cmd_serve.c — `appointd serve`: wires the store (migrated), the master
 * key, the ServiceTitan client and FMS, the password hashing pool and the
 * ServiceTitan work queue, the api, the HTTP server and the FMS health
 * thread together, runs until SIGTERM/SIGINT, and takes them down in the
 * reverse order.
 *
 * Start-up order matters for the error a user sees: the data dir lock comes
 * first (so a second server on the same dir says exactly that; SQLite only:
 * several servers on one PostgreSQL database is what it is for), then the
 * database (a corrupt file is named), then the master key, then the port
 * (and a bad trusted-proxies or public-url), then the metrics listener's.
 * Opening the ServiceTitan client starts its engine thread.
 *
 * Shutdown: the signal stops the listener and the ServiceTitan queue at
 * once (work not started is canceled, its callers answered 503); running
 * work gets what is left of shutdown-grace. Then the ServiceTitan client is
 * shut down, so any job still waiting on a ServiceTitan call returns at once.
 * Should a job still not end (an operator's hook), the process ends anyway
 * (_exit), leaving it and what it uses alone.
 */
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ap_build.h"
#include "api/api.h"
#include "app/app.h"
#include "app/stqueue.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/proc.h"
#include "core/metrics.h"
#include "crypto/crypto.h"
#include "app/cluster.h"
#include "db/store.h"
#include "core/jobq.h"
#include "core/workers.h"
#include "http/http.h"
#include "titan/titan.h"
#include "cli/cli.h"
#include "cli/serve_booking.h"

/* How long jobs get to end once their ServiceTitan calls were ended, after the grace. */
#define AFTER_TITAN_SHUTDOWN_MS 2000

static struct ap_http_server *_Atomic running_server;
static struct ap_jobq *_Atomic running_queue;

static void on_signal(int sig)
{
    (void)sig;
    struct ap_http_server *s = atomic_load(&running_server);
    if (s)
        ap_http_server_stop(s);
    ap_jobq_stop(atomic_load(&running_queue)); /* async-signal-safe; NULL ok */
}

/*
 * Ends the process now: jobs still running on the ServiceTitan queue use the
 * store, the titan client and the api, so nothing may be freed under them.
 * Their callers were answered 503 shutting_down by the HTTP server when the
 * grace ended.
 */
static _Noreturn void abandon(int code)
{
    ap_log_warn("server.exit_abandoning_jobs", "reason=\"jobs still running after "
                                               "shutdown-grace and the ServiceTitan shutdown\"");
    fflush(NULL);
    _exit(code);
}

/* Gives running jobs the rest of the grace, then ends their ServiceTitan calls. */
static void stop_queue(struct ap_jobq *q, struct ap_titan *titan, int grace_ms, int code)
{
    if (ap_jobq_free(q, grace_ms) == AP_OK)
        return;
    ap_titan_shutdown(titan); /* whoever waits on a ServiceTitan call returns now */
    if (ap_jobq_free(q, grace_ms + AFTER_TITAN_SHUTDOWN_MS) != AP_OK)
        abandon(code);
}

static struct ap_metrics *make_metrics(void)
{
    struct ap_metrics *m = ap_metrics_new();
    ap_metrics_info(m, "appointd_build_info", "appointd version", "version=\"" AP_VERSION "\"");
    return m;
}

/*
 * The dashboard's pages (web/admin) are plain files with no inline script or
 * style, so static answers can carry a strict policy: only this origin's
 * scripts, styles and images, framed only by this origin (the scheduler
 * editor frames /admin/preview.html to show the live widget), no <base>,
 * forms post here only.
 */
static const char static_csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'self'";

/*
 * The booking widget runs on contractors' websites: its loader (/widget.js)
 * and the modules it loads on first open (/widget/) are fetched from other
 * origins, so they carry CORS headers (module scripts are fetched in CORS
 * mode). Every booking's confirmation page (/b/{reference}) is one static
 * page that reads the reference from its URL.
 */
static const struct ap_http_static_rule static_rules[] = {
    {"/widget.js", NULL, true},
    {"/widget/", NULL, true},
    {"/b/", "/b/index.html", false},
    {NULL, NULL, false},
};

/* True when the data dir lies inside web-root: the database and the master
 * key would be served as static files (and opening the database from the
 * HTTP side would drop SQLite's locks in this process). */
static bool data_dir_served(const struct ap_conf *c, char *err, size_t errlen)
{
    char web[PATH_MAX], data[PATH_MAX];
    if (!realpath(ap_conf_str(c, "web-root"), web) || !realpath(ap_conf_str(c, "data-dir"), data))
        return false;
    size_t n = strlen(web);
    if (strncmp(web, data, n) != 0 || (data[n] != '/' && data[n] != '\0' && n > 1))
        return false;
    snprintf(err, errlen,
             "data dir %s is inside web-root %s, which would serve the database and the master "
             "key; choose a data dir outside web-root",
             data, web);
    return true;
}

/* Health checks and scrapes answer whatever Host they name (see public-url). */
static const char *const any_host_paths[] = {"/healthz", "/metrics", NULL};

static struct ap_http_server *make_server(const struct ap_conf *c, struct ap_router *r,
                                          struct ap_metrics *m, char *err, size_t errlen)
{
    char host[256];
    int port = 0;
    if (ap_conf_split_addr(ap_conf_str(c, "listen"), host, sizeof(host), &port) != AP_OK) {
        snprintf(err, errlen, "bad listen address %s", ap_conf_str(c, "listen"));
        return NULL;
    }
    struct ap_http_config hc = {
        .host = host,
        .port = port,
        .threads = (int)ap_conf_int(c, "threads"),
        .max_body = (size_t)ap_conf_int(c, "max-body"),
        .static_root = ap_conf_str(c, "web-root"),
        .static_prefix = "/",
        .static_csp = static_csp,
        .static_rules = static_rules,
        .grace_ms = (int)ap_conf_int(c, "shutdown-grace"),
        .access_log = ap_conf_bool(c, "access-log"),
        .metrics = m,
        .trusted_proxies = ap_conf_str(c, "trusted-proxies"),
        .public_urls = ap_conf_str(c, "public-url"),
        .any_host_paths = any_host_paths,
    };
    if (access(hc.static_root, R_OK) != 0)
        hc.static_root = NULL; /* nothing to serve yet; not an error */
    return ap_http_server_new(&hc, r, err, errlen);
}

/* The separate metrics listener (metrics-listen), started; NULL when not configured or on error. */
static struct ap_http_server *start_metrics_server(const struct ap_conf *c, struct ap_router *r,
                                                   char *err, size_t errlen)
{
    char host[256];
    int port = 0;
    const char *addr = ap_conf_str(c, "metrics-listen");
    if (!addr || ap_conf_split_addr(addr, host, sizeof(host), &port) != AP_OK)
        return NULL;
    struct ap_http_config hc = {.host = host,
                                .port = port,
                                .threads = 1,
                                .max_body = 4096,
                                .access_log = ap_conf_bool(c, "access-log"),
                                .trusted_proxies = ap_conf_str(c, "trusted-proxies")};
    struct ap_http_server *s = ap_http_server_new(&hc, r, err, errlen);
    if (s && ap_http_server_start(s) != AP_OK) {
        snprintf(err, errlen, "could not start the metrics listener on %s", addr);
        ap_http_server_free(s);
        return NULL;
    }
    if (s)
        ap_log_info("metrics.listen", "addr=%s:%d", host, ap_http_server_port(s));
    return s;
}

static int serve(const struct ap_conf *c)
{
    char err[512] = "";
    int lock_fd = -1;
    struct ap_store *store = NULL;
    struct ap_crypto_key *key = NULL;
    struct ap_metrics *metrics = NULL;
    struct ap_api *api = NULL;
    struct ap_router *router = NULL;
    struct ap_http_server *server = NULL, *metrics_server = NULL;
    struct ap_router *metrics_router = NULL;
    struct ap_titan *titan = NULL;
    struct ap_workers *hash_workers = NULL;
    struct ap_jobq *stq = NULL;
    struct ap_fms fms = {0};
    struct ap_fms_health *health = NULL;
    struct ap_serve_booking booking = {0};
    struct ap_cluster *cluster = NULL;
    int code = EXIT_FAILURE;
    const char *dir = ap_conf_str(c, "data-dir");

    /* On PostgreSQL the data dir holds only the master key, and no lock:
     * several servers may share the database. */
    bool on_pg = ap_conf_str(c, "database") != NULL;
    if ((on_pg ? ap_store_ensure_dir(dir, err, sizeof(err))
               : ap_store_lock_dir(dir, &lock_fd, err, sizeof(err))) != AP_OK ||
        data_dir_served(c, err, sizeof(err)))
        goto out;
    int applied = 0;
    if (!(store = ap_open_store(c, &applied, err, sizeof(err))))
        goto out;
    if (!(key = ap_open_key(c, store, err, sizeof(err))))
        goto out;
    if (ap_conf_str(c, "st-app-key")) {
        if (!(titan = ap_open_titan(c, err, sizeof(err))))
            goto out;
        ap_fms_from_conf(&fms, c, store, titan, key);
    } else {
        ap_log_warn("fms.disabled", "reason=\"no st-app-key: set APPOINTD_ST_APP_KEY to connect "
                                    "accounts to ServiceTitan\"");
    }
    if (!(hash_workers = ap_workers_new((int)ap_conf_int(c, "hash-workers"), 4096))) {
        snprintf(err, sizeof(err), "could not start the password hashing threads");
        goto out;
    }
    metrics = make_metrics();
    if (titan)
        ap_titan_metrics(titan, metrics);
    /* several servers on one PostgreSQL share tokens, the rate limit and one leader */
    if (on_pg && !(cluster = ap_cluster_start(store, titan, key, metrics))) {
        snprintf(err, sizeof(err), "could not start the cluster thread");
        goto out;
    }
    if (titan &&
        !(stq = ap_st_queue_new((int)ap_conf_int(c, "st-workers"),
                                (int)ap_conf_int(c, "st-account-jobs"), metrics, err, sizeof(err))))
        goto out;
    if (ap_serve_booking_start(&booking, c, store, titan, titan ? &fms : NULL, stq, metrics, err,
                               sizeof(err)) != 0)
        goto out;
    router = ap_router_new();
    ap_login_configure(&(struct ap_login_limits){(int)ap_conf_int(c, "login-rate-limit"),
                                                 (int)ap_conf_int(c, "login-address-limit"),
                                                 (size_t)ap_conf_int(c, "login-throttle-entries")});
    if (on_pg)
        ap_login_share(store); /* every instance counts every attempt */
    struct ap_api_config ac = {
        .store = store,
        .metrics = metrics,
        .debug_routes = ap_conf_bool(c, "debug-routes"),
        .fms = titan ? &fms : NULL,
        .hash_workers = hash_workers,
        .st_queue = stq,
        .st_deadline_s = (int)ap_conf_int(c, "st-deadline"),
        .bsvc = booking.bsvc,
        .titan = titan,
        .public_rate = (double)ap_conf_int(c, "public-rate"),
        .booking_rate = (double)ap_conf_int(c, "booking-rate") / 60.0,
        .scheduler_rate = (double)ap_conf_int(c, "scheduler-rate"),
    };
    api = ap_api_new(&ac);
    if (!api || ap_api_routes(api, router) != AP_OK) {
        snprintf(err, sizeof(err), "could not set up the HTTP routes");
        goto out;
    }
    ap_api_metrics_access(api, ap_conf_str(c, "metrics-token"),
                          ap_conf_str(c, "metrics-listen") != NULL);
    if (!(server = make_server(c, router, metrics, err, sizeof(err))))
        goto out;
    if (ap_conf_str(c, "metrics-listen") &&
        (ap_api_metrics_routes(api, metrics_router = ap_router_new()) != AP_OK ||
         !(metrics_server = start_metrics_server(c, metrics_router, err, sizeof(err)))))
        goto out;
    if (titan &&
        !(health = ap_fms_health_start(&fms, stq, (int)ap_conf_int(c, "health-interval")))) {
        snprintf(err, sizeof(err), "could not start the ServiceTitan health check thread");
        goto out;
    }

    atomic_store(&running_queue, stq);
    ap_proc_on_stop(on_signal);
    atomic_store(&running_server, server);
    char host[256];
    int port = 0;
    ap_conf_split_addr(ap_conf_str(c, "listen"), host, sizeof(host), &port);
    port = ap_http_server_port(server);
    char where[1100];
    ap_log_info("server.ready",
                "addr=%s%s%s:%d data_dir=%s database=%s schema=%d migrated=%d version=%s",
                strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port, dir,
                ap_log_quote(ap_store_path(store), where, sizeof(where)),
                ap_store_schema_version(store), applied, AP_VERSION);
    enum ap_err rc = ap_http_server_run(server);
    atomic_store(&running_server, NULL);
    ap_log_info("server.stopped", "result=%s", ap_err_str(rc));
    code = rc == AP_OK ? EXIT_SUCCESS : EXIT_FAILURE;
out:
    if (code != EXIT_SUCCESS && err[0])
        fprintf(stderr, "appointd: %s\n", err);
    ap_fms_health_stop(health); /* it submits to the queue */
    ap_serve_booking_stop(&booking, (int)ap_conf_int(c, "shutdown-grace"));
    stop_queue(stq, titan, (int)ap_conf_int(c, "shutdown-grace"), code);
    atomic_store(&running_queue, NULL);
    ap_titan_shutdown(titan);      /* ends what else may wait on ServiceTitan */
    ap_workers_free(hash_workers); /* finishes queued logins (quick); late replies drop */
    ap_http_server_stop(metrics_server);
    ap_http_server_join(metrics_server);
    ap_http_server_free(metrics_server);
    ap_router_free(metrics_router);
    ap_serve_booking_free(&booking); /* the writer drains: accepted bookings are kept */
    ap_api_free(api);                /* answers leftover deferred requests before the server goes */
    ap_http_server_free(server);
    ap_router_free(router);
    ap_titan_free(titan);
    ap_cluster_stop(cluster); /* after the client: its token functions use the cluster's name */
    ap_metrics_free(metrics);
    ap_crypto_key_free(key);
    ap_fms_cleanup(&fms);
    ap_store_close(store);
    ap_store_unlock_dir(lock_fd);
    return code;
}

int ap_cmd_serve(int argc, char **argv)
{
    struct ap_cli cli;
    int code = ap_cli_open(&cli, argc, argv, 0);
    if (code)
        return code;
    if (cli.npos) {
        fprintf(stderr, "appointd: serve takes no arguments (got '%s')\n", cli.pos[0]);
        ap_cli_close(&cli);
        return AP_EXIT_USAGE;
    }
    code = serve(cli.conf);
    ap_cli_close(&cli);
    return code;
}

/*
 * serve.c — `appointd serve`: wires the store, the key, the api and the
 * HTTP server together, runs until SIGTERM/SIGINT, and takes them down in
 * the reverse order.
 *
 * Start-up order matters for the error a user sees: the data dir lock comes
 * first (so a second server on the same dir says exactly that), then the
 * database (a corrupt file is named), then the master key, then the port.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ap_build.h"
#include "api/api.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "crypto/crypto.h"
#include "db/store.h"
#include "http/http.h"
#include "serve.h"

static struct ap_http_server *_Atomic running_server;

static void on_signal(int sig)
{
    (void)sig;
    struct ap_http_server *s = atomic_load(&running_server);
    if (s)
        ap_http_server_stop(s);
}

static void install_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

struct ap_store *ap_open_store(const struct ap_conf *c, int *applied, char *err, size_t errlen)
{
    struct ap_store *store = ap_store_open(ap_conf_str(c, "data-dir"), err, errlen);
    if (!store)
        return NULL;
    *applied = 0;
    if (ap_store_migrate(store, ap_db_migrations, ap_db_nmigrations, applied, err, errlen)) {
        ap_store_close(store);
        return NULL;
    }
    if (*applied)
        ap_log_info("db.migrated", "applied=%d version=%d", *applied,
                    ap_store_schema_version(store));
    return store;
}

static struct ap_crypto_key *load_key(const struct ap_conf *c, char *err, size_t errlen)
{
    const char *path = ap_conf_str(c, "master-key-file");
    char *def = NULL;
    if (!path)
        path = def = ap_xasprintf("%s/master.key", ap_conf_str(c, "data-dir"));
    struct ap_crypto_key *key = NULL;
    if (ap_crypto_key_load(path, def != NULL, &key, err, errlen) != AP_OK)
        key = NULL;
    free(def);
    return key;
}

static struct ap_metrics *make_metrics(void)
{
    struct ap_metrics *m = ap_metrics_new();
    ap_metrics_info(m, "appointd_build_info", "appointd version", "version=\"" AP_VERSION "\"");
    return m;
}

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
        .grace_ms = (int)ap_conf_int(c, "shutdown-grace"),
        .access_log = ap_conf_bool(c, "access-log"),
        .metrics = m,
    };
    if (access(hc.static_root, R_OK) != 0)
        hc.static_root = NULL; /* nothing to serve yet; not an error */
    return ap_http_server_new(&hc, r, err, errlen);
}

int ap_serve(const struct ap_conf *c)
{
    char err[512] = "";
    int lock_fd = -1;
    struct ap_store *store = NULL;
    struct ap_crypto_key *key = NULL;
    struct ap_metrics *metrics = NULL;
    struct ap_api *api = NULL;
    struct ap_router *router = NULL;
    struct ap_http_server *server = NULL;
    int code = EXIT_FAILURE;
    const char *dir = ap_conf_str(c, "data-dir");

    if (ap_crypto_init() != AP_OK) {
        snprintf(err, sizeof(err), "libsodium failed to initialise");
        goto out;
    }
    if (ap_store_lock_dir(dir, &lock_fd, err, sizeof(err)) != AP_OK)
        goto out;
    int applied = 0;
    if (!(store = ap_open_store(c, &applied, err, sizeof(err))))
        goto out;
    if (!(key = load_key(c, err, sizeof(err))))
        goto out;
    metrics = make_metrics();
    router = ap_router_new();
    api = ap_api_new(store, metrics, ap_conf_bool(c, "debug-routes"));
    if (!api || ap_api_routes(api, router) != AP_OK) {
        snprintf(err, sizeof(err), "could not set up the HTTP routes");
        goto out;
    }
    if (!(server = make_server(c, router, metrics, err, sizeof(err))))
        goto out;

    install_signals();
    atomic_store(&running_server, server);
    char host[256];
    int port = 0;
    ap_conf_split_addr(ap_conf_str(c, "listen"), host, sizeof(host), &port);
    port = ap_http_server_port(server);
    ap_log_info("server.ready", "addr=%s%s%s:%d data_dir=%s schema=%d migrated=%d version=%s",
                strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port, dir,
                ap_store_schema_version(store), applied, AP_VERSION);
    enum ap_err rc = ap_http_server_run(server);
    atomic_store(&running_server, NULL);
    ap_log_info("server.stopped", "result=%s", ap_err_str(rc));
    code = rc == AP_OK ? EXIT_SUCCESS : EXIT_FAILURE;
out:
    if (code != EXIT_SUCCESS && err[0])
        fprintf(stderr, "appointd: %s\n", err);
    ap_api_free(api); /* answers leftover deferred requests before the server goes */
    ap_http_server_free(server);
    ap_router_free(router);
    ap_metrics_free(metrics);
    ap_crypto_key_free(key);
    ap_store_close(store);
    ap_store_unlock_dir(lock_fd);
    return code;
}

/*
 * cli.c — appointd's settings table and the opening of what commands need.
 *
 * Every setting is declared once here; the config module turns it into an
 * env var (APPOINTD_*), a config-file key and a --flag.
 */
#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ap_build.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "db/store.h"
#include "titan/titan.h"

extern char **environ;

const struct ap_conf_opt ap_options[] = {
    {"config", AP_CONF_STR, NULL, "read settings from this file (key = value lines)"},
    {"listen", AP_CONF_ADDR, "127.0.0.1:8080",
     "address to serve HTTP on (port 0: pick a free one)"},
    {"data-dir", AP_CONF_STR, "./var", "directory for the SQLite database and the master key"},
    {"database", AP_CONF_STR, NULL,
     "PostgreSQL URL (postgres://user:password@host:5432/db?sslmode=verify-full) to use instead "
     "of the data dir's SQLite database; several appointd may share it",
     0, 0, NULL, AP_CONF_URL_SECRET},
    {"db-pool", AP_CONF_INT, "16", "database connections for reads (one more for writes)", 1,
     AP_DB_MAX_READERS_LIMIT},
    {"threads", AP_CONF_INT, "0", "HTTP event loops (0: one per core)", 0, 256},
    {"hash-workers", AP_CONF_INT, "4", "threads that hash passwords (logins), a pool of their own",
     1, 64},
    {"log-level", AP_CONF_ENUM, "info", "least severe log level written", 0, 0,
     "debug|info|warn|error"},
    {"access-log", AP_CONF_BOOL, "true", "log one line per HTTP response"},
    {"max-body", AP_CONF_SIZE, "1m", "largest request body accepted", 1024, 64 << 20},
    {"web-root", AP_CONF_STR, AP_SOURCE_ROOT "/web", "directory of the dashboard and widget files"},
    {"master-key-file", AP_CONF_STR, NULL,
     "key that encrypts secrets at rest (default: DATA_DIR/master.key, created while no "
     "secret is sealed)"},
    {"shutdown-grace", AP_CONF_INT, "10000",
     "milliseconds in-flight requests get to finish on SIGTERM", 0, 600000},
    {"debug-routes", AP_CONF_BOOL, "false", "serve /debug/* routes (tests and benchmarks only)"},
    {"st-env", AP_CONF_ENUM, "integration", "ServiceTitan environment", 0, 0,
     "production|integration|custom"},
    {"st-auth-url", AP_CONF_STR, NULL, "custom environment: base URL of the auth host"},
    {"st-api-url", AP_CONF_STR, NULL, "custom environment: base URL of the API host"},
    {"st-app-key", AP_CONF_STR, NULL, "the operator's ServiceTitan app key (ak1.…)", 0, 0, NULL,
     AP_CONF_SECRET},
    {"st-rate-limit", AP_CONF_INT, "50", "ServiceTitan requests per second per tenant", 1, 60},
    {"st-max-connections", AP_CONF_INT, "512",
     "open connections to each ServiceTitan host (HTTP/1.1: one per call in flight)", 1, 10000},
    {"st-env-label", AP_CONF_STR, "custom ServiceTitan hosts",
     "how the dashboard names a custom environment (e.g. ServiceTitan emulator (stsim))"},
    {"st-workers", AP_CONF_INT, "8", "threads for ServiceTitan work (connects, checks)", 1, 256},
    {"st-account-jobs", AP_CONF_INT, "2",
     "ServiceTitan jobs of one account that may run at once (the others wait their turn)", 1, 64},
    {"st-deadline", AP_CONF_INT, "30",
     "seconds a ServiceTitan call from the dashboard may take before it answers 504 (nothing "
     "saved)",
     1, 600},
    {"fms-hook-kind", AP_CONF_ENUM, "none",
     "how \"Add to ServiceTitan\" asks the operator's side to add a tenant to the app", 0, 0,
     "none|command|url"},
    {"fms-hook", AP_CONF_STR, NULL,
     "command (gets TENANT_ID in its environment) or URL (POST {\"tenantId\"}) of that hook"},
    {"fms-app-access-url", AP_CONF_STR, NULL,
     "link to ServiceTitan's API Application Access page (default: the environment's)"},
    {"st-web-url", AP_CONF_STR, NULL,
     "ServiceTitan's web app, where the dashboard links bookings' jobs and customers (default: "
     "the environment's)"},
    {"health-interval", AP_CONF_INT, "900", "seconds between ServiceTitan connection checks", 5,
     86400},
    {"login-rate-limit", AP_CONF_INT, "10",
     "failed logins per (client address, email) before each next try waits (30 s, doubling to "
     "15 min)",
     1, 1000},
    {"login-address-limit", AP_CONF_INT, "100",
     "failed logins per client address, any email, before each next try waits", 1, 100000},
    {"login-throttle-entries", AP_CONF_INT, "65536",
     "(address, email) and address keys the login throttle remembers (about 40 bytes each)", 64,
     16777216},
    {"trusted-proxies", AP_CONF_STR, NULL,
     "addresses/CIDRs of your reverse proxies, whose X-Forwarded-For/-Proto/-Host are believed "
     "(e.g. 127.0.0.1,10.0.0.0/8)"},
    {"public-url", AP_CONF_STR, NULL,
     "URL(s) the dashboard is reached at (e.g. https://book.example.com): other Hosts get 421, "
     "and Origin must match"},
    {"metrics-listen", AP_CONF_ADDR, NULL,
     "serve /metrics (and /healthz) on this separate address; the main one then answers 404"},
    {"metrics-token", AP_CONF_STR, NULL,
     "bearer token a /metrics scrape must send (default: /metrics answers this machine only)", 0, 0,
     NULL, AP_CONF_SECRET},
    /* the booking half */
    {"st-app-guid", AP_CONF_STR, NULL,
     "your ServiceTitan application's GUID, under which bookings' references are kept in "
     "external data (default: one derived from st-app-key)"},
    {"availability-ttl", AP_CONF_INT, "60",
     "seconds ServiceTitan's capacity answers are served from the cache before a refresh", 1, 3600},
    {"availability-max-stale", AP_CONF_INT, "900",
     "seconds an older capacity answer may still be served while ServiceTitan is slow or down", 1,
     86400},
    {"booking-recheck-max-age", AP_CONF_INT, "5",
     "a booking is accepted against capacity at most this many seconds old (0: always asks "
     "ServiceTitan first)",
     0, 600},
    {"public-rate", AP_CONF_INT, "20",
     "public API reads per second per client address (scheduler, availability)", 1, 1000000},
    {"booking-rate", AP_CONF_INT, "12", "bookings per minute per client address", 1, 1000000},
    {"scheduler-rate", AP_CONF_INT, "500", "public API requests per second per scheduler", 1,
     10000000},
    {"push-per-account", AP_CONF_INT, "64",
     "bookings of one account pushed into ServiceTitan at once (each has one call in flight: "
     "enough for the tenant's rate limit times ServiceTitan's answer time, 60/s x 1 s; fewer "
     "when a short push-lease could not serve that many at st-rate-limit)",
     1, 1000},
    {"push-lease", AP_CONF_INT, "600",
     "seconds a pusher holds a booking before another may take it over (it makes no call in the "
     "last fifth)",
     5, 86400},
    {"push-backoff-max", AP_CONF_INT, "600",
     "longest wait in seconds between two attempts to push a booking (2 s doubling up to it)", 1,
     86400},
    {"catalog-refresh-interval", AP_CONF_INT, "3600",
     "seconds between reads of each account's ServiceTitan catalog", 10, 604800},
};
const size_t ap_noptions = sizeof(ap_options) / sizeof(ap_options[0]);

const char *ap_store_where(const struct ap_conf *c)
{
    const char *url = ap_conf_str(c, "database");
    return url ? url : ap_conf_str(c, "data-dir");
}

struct ap_store *ap_open_store(const struct ap_conf *c, int *applied, char *err, size_t errlen)
{
    const char *url = ap_conf_str(c, "database");
    if (url && !ap_store_is_url(url)) {
        snprintf(err, errlen,
                 "database must be a postgres:// URL (for SQLite, set --data-dir instead)");
        return NULL;
    }
    struct ap_store_opts o = {.readers = (int)ap_conf_int(c, "db-pool")};
    struct ap_store *store = ap_store_open_with(ap_store_where(c), &o, err, errlen);
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

/*
 * The key is missing: says why no new one is made when store holds values
 * sealed with it, and how to get it back. AP_OK when one may be made.
 */
static enum ap_err key_missing(struct ap_store *store, const char *path, char *err, size_t errlen)
{
    int64_t n = 0;

    if (!store) {
        snprintf(err, errlen, "master key file %s does not exist", path);
        return AP_ENOTFOUND;
    }
    if (ap_store_count_sealed(store, &n, err, errlen) != AP_OK)
        return AP_EUNAVAIL;
    if (n == 0)
        return AP_OK;
    snprintf(err, errlen,
             "master key file %s is missing, and database %s holds %lld %s sealed with that key; "
             "appointd will not make a new key, which would leave %s unreadable. Restore the file "
             "from a backup of the data dir, or point --master-key-file (APPOINTD_MASTER_KEY_FILE) "
             "at a copy of it",
             path, ap_store_path(store), (long long)n, n == 1 ? "secret" : "secrets",
             n == 1 ? "it" : "them");
    return AP_ENOTFOUND;
}

struct ap_crypto_key *ap_open_key(const struct ap_conf *c, struct ap_store *store, char *err,
                                  size_t errlen)
{
    const char *path = ap_conf_str(c, "master-key-file");
    char *def = NULL;
    if (!path)
        path = def = ap_xasprintf("%s/master.key", ap_conf_str(c, "data-dir"));
    struct ap_crypto_key *key = NULL;
    enum ap_err e = AP_EINTERNAL;
    if (ap_crypto_init() != AP_OK) {
        snprintf(err, errlen, "libsodium failed to initialise");
        goto out;
    }
    e = ap_crypto_key_load(path, false, &key, err, errlen);
    if (e != AP_ENOTFOUND)
        goto out;
    /* A new key only at the default path, and only for a database that
     * holds nothing sealed with the lost one. */
    e = key_missing(store, path, err, errlen);
    /* On PostgreSQL nothing else has made the data dir. */
    if (e == AP_OK && def)
        e = ap_store_ensure_dir(ap_conf_str(c, "data-dir"), err, errlen);
    if (e == AP_OK && def)
        e = ap_crypto_key_load(path, true, &key, err, errlen);
    else if (e == AP_OK)
        e = ap_crypto_key_load(path, false, &key, err, errlen); /* says it is missing */
out:
    /* One key per database, whichever process opens it (key_check.c). */
    if (e == AP_OK && store)
        e = ap_key_check(store, key, path, err, errlen);
    if (e != AP_OK) {
        ap_crypto_key_free(key);
        key = NULL;
    }
    free(def);
    return key;
}

struct ap_titan *ap_open_titan(const struct ap_conf *c, char *err, size_t errlen)
{
    struct ap_titan_config tc = {0};
    if (ap_titan_env_parse(ap_conf_str(c, "st-env"), &tc.env) != AP_OK) {
        snprintf(err, errlen, "bad st-env %s", ap_conf_str(c, "st-env"));
        return NULL;
    }
    tc.auth_url = ap_conf_str(c, "st-auth-url");
    tc.api_url = ap_conf_str(c, "st-api-url");
    tc.app_key = ap_conf_str(c, "st-app-key");
    tc.rate_limit = (double)ap_conf_int(c, "st-rate-limit");
    tc.max_connections = (int)ap_conf_int(c, "st-max-connections");
    if (!tc.app_key) {
        snprintf(err, errlen,
                 "ServiceTitan is not set up: set APPOINTD_ST_APP_KEY (the operator's app key, "
                 "ak1.…) and APPOINTD_ST_ENV");
        return NULL;
    }
    return ap_titan_new(&tc, err, errlen);
}

void ap_fms_from_conf(struct ap_fms *f, const struct ap_conf *c, struct ap_store *store,
                      struct ap_titan *titan, const struct ap_crypto_key *key)
{
    enum ap_titan_env env = AP_TITAN_INTEGRATION;
    ap_titan_env_parse(ap_conf_str(c, "st-env"), &env);
    const char *kind = ap_conf_str(c, "fms-hook-kind");
    memset(f, 0, sizeof(*f));
    f->store = store;
    f->titan = titan;
    f->key = key;
    f->environment = ap_conf_str(c, "st-env");
    f->env_label = ap_conf_str(c, "st-env-label");
    f->app_access_url = ap_conf_str(c, "fms-app-access-url");
    if (!f->app_access_url)
        f->app_access_url = ap_titan_app_access_url(env);
    f->web_url = ap_conf_str(c, "st-web-url");
    if (!f->web_url)
        f->web_url = ap_titan_web_url(env);
    f->hook_kind = !strcmp(kind, "command") ? AP_FMS_HOOK_COMMAND
                   : !strcmp(kind, "url")   ? AP_FMS_HOOK_URL
                                            : AP_FMS_HOOK_NONE;
    f->hook = ap_conf_str(c, "fms-hook");
}

const char *ap_cli_flag_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/* Takes --json out of argv (commands accept it anywhere). Returns the new argc. */
static int strip_json_flag(int argc, char **argv, bool *json)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            *json = true;
        else
            argv[out++] = argv[i];
    }
    return out;
}

int ap_cli_open(struct ap_cli *cli, int argc, char **argv, unsigned needs)
{
    char err[512] = "";
    memset(cli, 0, sizeof(*cli));
    /* A write past the file-size limit (ulimit -f) then fails with EFBIG and
     * is reported (/healthz, 503s, an error line) instead of killing us. */
    signal(SIGXFSZ, SIG_IGN);
    argc = strip_json_flag(argc, argv, &cli->json);
    cli->conf = ap_conf_new(ap_options, ap_noptions, "APPOINTD_");
    if (ap_conf_load(cli->conf, argc, argv, environ, cli->pos, 8, &cli->npos, err, sizeof(err))) {
        fprintf(stderr, "appointd: %s\n", err);
        ap_cli_close(cli);
        return AP_EXIT_USAGE;
    }
    enum ap_log_level lvl;
    if (ap_log_level_parse(ap_conf_str(cli->conf, "log-level"), &lvl) == AP_OK)
        ap_log_set_level(lvl);
    int applied = 0;
    if ((needs & AP_CLI_STORE) &&
        !(cli->store = ap_open_store(cli->conf, &applied, err, sizeof(err))))
        goto fail;
    if ((needs & AP_CLI_KEY) && !(cli->key = ap_open_key(cli->conf, cli->store, err, sizeof(err))))
        goto fail;
    if ((needs & AP_CLI_TITAN) && !(cli->titan = ap_open_titan(cli->conf, err, sizeof(err))))
        goto fail;
    if ((needs & AP_CLI_FMS) == AP_CLI_FMS)
        ap_fms_from_conf(&cli->fms, cli->conf, cli->store, cli->titan, cli->key);
    return 0;
fail:
    fprintf(stderr, "appointd: %s\n", err);
    ap_cli_close(cli);
    return AP_EXIT_FAILURE;
}

void ap_cli_close(struct ap_cli *cli)
{
    ap_fms_cleanup(&cli->fms);
    ap_titan_free(cli->titan);
    ap_crypto_key_free(cli->key);
    ap_store_close(cli->store);
    ap_conf_free(cli->conf);
    memset(cli, 0, sizeof(*cli));
}

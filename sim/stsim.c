/*
 * stsim.c — the emulator's main(): options, the three HTTP servers and the
 * credentials file.
 *
 *   auth host  POST /connect/token                      (core/auth.c)
 *   API host   /{module}/v2/tenant/{tenant}/...          (core/gate.c + modules)
 *              /_stsim/...  the control API             (core/control.c)
 *              /healthz
 *   web host   tenant-side and developer-portal pages    (web/)
 *
 * Every setting is in the options table (flags --name, env STSIM_NAME, or a
 * config file). The servers run in parallel threads; SIGTERM/SIGINT stop
 * all three gracefully and stsim exits 0. Once all three are bound the
 * credentials file (--write-credentials) is written atomically (temporary
 * file + rename) and one event=stsim.ready line names the URLs: tests wait
 * for either.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/proc.h"
#include "crypto/crypto.h"
#include "sim/core/backbone.h"
#include "sim/core/core_int.h"
#include "sim/core/seed.h"
#include "sim/crm/crm.h"
#include "sim/dispatch/dispatch.h"
#include "sim/jpm/jpm.h"
#include "sim/settings/settings.h"
#include "sim/web/web.h"

#define EXIT_USAGE 2
#define NSERVERS   3

extern char **environ;

static const struct ap_conf_opt options[] = {
    {"config", AP_CONF_STR, NULL, "read settings from this file (key = value lines)"},
    {"seed", AP_CONF_ENUM, "demo", "initial data", 0, 0, "demo|none"},
    {"scale", AP_CONF_INT, "200",
     "customers of the demo tenant (with locations, contacts, jobs and bookings in proportion)", 1,
     1000000},
    {"auth-listen", AP_CONF_ADDR, "127.0.0.1:8801", "auth host (POST /connect/token); port 0: any"},
    {"api-listen", AP_CONF_ADDR, "127.0.0.1:8802", "API host and control API; port 0: any"},
    {"web-listen", AP_CONF_ADDR, "127.0.0.1:8803", "tenant-side web pages; port 0: any"},
    {"token-lifetime", AP_CONF_INT, "900", "access token lifetime in seconds", 1, 86400},
    {"rate-limit", AP_CONF_INT, "60", "API requests per second per (app, tenant); 0: off", 0,
     1000000},
    {"token-rate-limit", AP_CONF_INT, "60", "token requests per client per minute; 0: off", 0,
     1000000},
    {"capacity-max-days", AP_CONF_INT, "14", "longest capacity query range in days", 1, 366},
    {"export-delay", AP_CONF_INT, "0", "seconds before export feeds show a change", 0, 86400},
    {"environment", AP_CONF_ENUM, "integration", "which ServiceTitan environment to play", 0, 0,
     "integration|production"},
    {"connect", AP_CONF_BOOL, "false",
     "connect the demo app to the demo tenant and write its client id and secret"},
    {"write-credentials", AP_CONF_STR, NULL, "write URLs and credentials as JSON to this file"},
    {"state-file", AP_CONF_STR, NULL, "keep state in this SQLite file (default: memory only)"},
    {"threads", AP_CONF_INT, "2", "event loops of the API host", 1, 64},
    {"log-level", AP_CONF_ENUM, "info", "least severe log level written", 0, 0,
     "debug|info|warn|error"},
    {"access-log", AP_CONF_BOOL, "false", "log one line per HTTP response"},
};
#define NOPTIONS (AP_COUNTOF(options))

static struct ap_http_server *servers[NSERVERS];
static volatile sig_atomic_t stop_asked; /* a signal came before the servers existed */

static void on_signal(int sig)
{
    (void)sig;
    stop_asked = 1;
    for (int i = 0; i < NSERVERS; i++)
        ap_http_server_stop(servers[i]);
}

static int usage(FILE *to, int code)
{
    return ap_conf_print_usage(to, options, NOPTIONS, "STSIM_",
                               "usage: stsim [flags]\n\nA ServiceTitan V2 API emulator: auth host, "
                               "API host, tenant-side pages, control API.\n\nflags (each also an "
                               "env var STSIM_<NAME>):\n",
                               code);
}

static enum ap_http_result healthz(struct ap_http_req *req, void *ud)
{
    (void)ud;
    static const char body[] = "{\"status\":\"ok\"}";
    ap_http_respond_json(req, 200, body, sizeof(body) - 1);
    return AP_HTTP_DONE;
}

/* Binds one server; NULL after printing why. */
static struct ap_http_server *bind_server(struct ap_conf *c, const char *opt,
                                          const struct ap_router *r, int threads)
{
    char host[256], err[512];
    int port = 0;
    ap_conf_split_addr(ap_conf_str(c, opt), host, sizeof(host), &port);
    struct ap_http_config hc = {.host = host,
                                .port = port,
                                .threads = threads,
                                .grace_ms = 5000,
                                .access_log = ap_conf_bool(c, "access-log"),
                                .gzip_json = true};
    struct ap_http_server *srv = ap_http_server_new(&hc, r, err, sizeof(err));
    if (!srv)
        fprintf(stderr, "stsim: %s (--%s)\n", err, opt);
    return srv;
}

static char *url_of(struct ap_conf *c, const char *opt, int port)
{
    char host[256];
    int p = 0;
    ap_conf_split_addr(ap_conf_str(c, opt), host, sizeof(host), &p);
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (strchr(host, ':'))
        return ap_xasprintf("http://[%s]:%d", strcmp(host, "::") == 0 ? "::1" : host, port);
    return ap_xasprintf("http://%s:%d", host, port);
}

static bool write_atomic(const char *path, const char *text)
{
    char *tmp = ap_xasprintf("%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "stsim: cannot write credentials file %s: %s\n", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok;
}

struct urls {
    char *auth, *api, *web;
};

static bool write_creds(struct sim *s, struct ap_conf *c, const struct urls *u, const char *secret)
{
    const char *path = ap_conf_str(c, "write-credentials");
    if (!path)
        return true;
    pthread_mutex_lock(&s->lock);
    struct sim_app *app = sim_app_find(s, SIM_DEMO_APP);
    struct sim_tenant *t = sim_tenant_find(s, SIM_DEMO_TENANT);
    struct sim_conn *conn = sim_conn_get(s, SIM_DEMO_TENANT, SIM_DEMO_APP, false);
    char *control = ap_xasprintf("%s/_stsim", u->api);
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "authUrl", u->auth, "apiUrl",
                  u->api, "webUrl", u->web, "controlUrl", control, "appId", SIM_DEMO_APP, "appKey",
                  app ? app->key : "", "tenantId", (json_int_t)SIM_DEMO_TENANT, "emptyTenantId",
                  (json_int_t)SIM_EMPTY_TENANT, "bookingProviderId",
                  (json_int_t)(conn && conn->booking_provider_id ? conn->booking_provider_id
                               : t                               ? sim_seed_provider_tag(t)
                                                                 : 0));
    if (secret && conn) {
        json_object_set_new(j, "clientId", json_string(conn->client_id));
        json_object_set_new(j, "clientSecret", json_string(secret));
    }
    pthread_mutex_unlock(&s->lock);
    char *text = ap_json_dumps(j);
    bool ok = write_atomic(path, text);
    free(text);
    free(control);
    json_decref(j);
    return ok;
}

static struct sim *make_sim(struct ap_conf *c)
{
    struct sim_config cfg = {
        .token_lifetime_s = (int)ap_conf_int(c, "token-lifetime"),
        .rate_limit = (int)ap_conf_int(c, "rate-limit"),
        .token_rate_limit = (int)ap_conf_int(c, "token-rate-limit"),
        .capacity_max_days = (int)ap_conf_int(c, "capacity-max-days"),
        .export_delay_s = (int)ap_conf_int(c, "export-delay"),
        .seed_scale = (int)ap_conf_int(c, "scale"),
    };
    snprintf(cfg.environment, sizeof(cfg.environment), "%s", ap_conf_str(c, "environment"));
    return sim_new(&cfg);
}

/* Loads the state file and/or seeds; false after printing why. */
static bool fill_sim(struct sim *s, struct ap_conf *c, char secret[64], bool *have_secret)
{
    const char *state = ap_conf_str(c, "state-file");
    char err[512];
    if (state && sim_persist_open(s, state, err, sizeof(err)) != AP_OK) {
        fprintf(stderr, "stsim: %s\n", err);
        return false;
    }
    pthread_mutex_lock(&s->lock);
    if (s->ntenants == 0 && strcmp(ap_conf_str(c, "seed"), "demo") == 0)
        sim_seed_demo(s, (size_t)s->cfg.seed_scale);
    enum ap_err rc = AP_OK;
    if (ap_conf_bool(c, "connect") && sim_app_find(s, SIM_DEMO_APP)) {
        rc = sim_seed_connect(s, secret);
        *have_secret = rc == AP_OK;
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != AP_OK)
        fprintf(stderr, "stsim: --connect failed: %s\n", ap_err_str(rc));
    return rc == AP_OK;
}

static void *run_thread(void *arg)
{
    ap_http_server_run(arg);
    return NULL;
}

static void build_routers(struct sim *s, struct ap_router *r[NSERVERS])
{
    for (int i = 0; i < NSERVERS; i++)
        r[i] = ap_router_new();
    sim_auth_routes(s, r[0]);
    sim_settings_routes(s, r[1]);
    sim_crm_routes(s, r[1]);
    sim_jpm_routes(s, r[1]);
    sim_dispatch_routes(s, r[1]);
    sim_control_routes(s, r[1]);
    ap_router_add(r[1], "GET", "/healthz", healthz, NULL);
    sim_gate_fallback_route(s, r[1]);
    sim_web_routes(s, r[2]);
}

static int serve(struct ap_conf *c)
{
    static const char *const opts[NSERVERS] = {"auth-listen", "api-listen", "web-listen"};
    struct ap_router *routers[NSERVERS] = {0};
    struct urls u = {0};
    char secret[64] = "";
    bool have_secret = false;
    int code = EXIT_FAILURE;
    pthread_t tids[2];
    ap_proc_on_stop(on_signal);
    struct sim *s = make_sim(c);
    build_routers(s, routers);
    if (!fill_sim(s, c, secret, &have_secret))
        goto out;
    for (int i = 0; i < NSERVERS; i++) {
        int threads = i == 1 ? (int)ap_conf_int(c, "threads") : 1;
        if (!(servers[i] = bind_server(c, opts[i], routers[i], threads)))
            goto out;
    }
    u.auth = url_of(c, opts[0], ap_http_server_port(servers[0]));
    u.api = url_of(c, opts[1], ap_http_server_port(servers[1]));
    u.web = url_of(c, opts[2], ap_http_server_port(servers[2]));
    if (!write_creds(s, c, &u, have_secret ? secret : NULL))
        goto out;
    if (stop_asked)
        on_signal(SIGTERM);
    ap_log_info("stsim.ready", "auth=%s api=%s web=%s control=%s/_stsim", u.auth, u.api, u.web,
                u.api);
    pthread_create(&tids[0], NULL, run_thread, servers[0]);
    pthread_create(&tids[1], NULL, run_thread, servers[2]);
    ap_http_server_run(servers[1]);
    for (int i = 0; i < NSERVERS; i++)
        ap_http_server_stop(servers[i]);
    pthread_join(tids[0], NULL);
    pthread_join(tids[1], NULL);
    code = EXIT_SUCCESS;
out:
    for (int i = 0; i < NSERVERS; i++) {
        ap_http_server_free(servers[i]);
        servers[i] = NULL;
        ap_router_free(routers[i]);
    }
    ap_crypto_wipe(secret, sizeof(secret));
    free(u.auth);
    free(u.api);
    free(u.web);
    sim_gate_free(s);
    sim_free(s);
    return code;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout, EXIT_SUCCESS);
    }
    struct ap_conf *c = ap_conf_new(options, NOPTIONS, "STSIM_");
    char err[512];
    size_t npos = 0;
    if (ap_conf_load(c, argc - 1, argv + 1, environ, NULL, 0, &npos, err, sizeof(err)) != AP_OK) {
        fprintf(stderr, "stsim: %s\n", err);
        ap_conf_free(c);
        return EXIT_USAGE;
    }
    enum ap_log_level lvl;
    if (ap_log_level_parse(ap_conf_str(c, "log-level"), &lvl) == AP_OK)
        ap_log_set_level(lvl);
    if (ap_crypto_init() != AP_OK) {
        fprintf(stderr, "stsim: cannot initialise libsodium\n");
        ap_conf_free(c);
        return EXIT_FAILURE;
    }
    int code = serve(c);
    ap_conf_free(c);
    return code;
}

/*
 * appointd.c — the appointd command line: serve, migrate, config.
 *
 * Every setting is declared once in the options table below; the config
 * module turns it into an env var (APPOINTD_*), a config-file key and a
 * --flag. Exit codes: 0 success, 1 a runtime failure (one line on stderr
 * saying what and where), 2 a usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ap_build.h"
#include "api/api.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "crypto/crypto.h"
#include "db/store.h"
#include "http/http.h"
#include "serve.h"

#define EXIT_USAGE 2

extern char **environ;

static const struct ap_conf_opt options[] = {
    {"config", AP_CONF_STR, NULL, "read settings from this file (key = value lines)"},
    {"listen", AP_CONF_ADDR, "127.0.0.1:8080",
     "address to serve HTTP on (port 0: pick a free one)"},
    {"data-dir", AP_CONF_STR, "./var", "directory for the SQLite database and the master key"},
    {"threads", AP_CONF_INT, "0", "HTTP event loops (0: one per core)", 0, 256},
    {"log-level", AP_CONF_ENUM, "info", "least severe log level written", 0, 0,
     "debug|info|warn|error"},
    {"access-log", AP_CONF_BOOL, "true", "log one line per HTTP response"},
    {"max-body", AP_CONF_SIZE, "1m", "largest request body accepted", 1024, 64 << 20},
    {"web-root", AP_CONF_STR, AP_SOURCE_ROOT "/web", "directory of the dashboard and widget files"},
    {"master-key-file", AP_CONF_STR, NULL,
     "key that encrypts secrets at rest (default: DATA_DIR/master.key, created on first run)"},
    {"shutdown-grace", AP_CONF_INT, "10000",
     "milliseconds in-flight requests get to finish on SIGTERM", 0, 600000},
    {"debug-routes", AP_CONF_BOOL, "false", "serve /debug/* routes (tests and benchmarks only)"},
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const char usage_head[] =
    "usage: appointd <command> [flags]\n"
    "\n"
    "Online booking for home-service contractors, straight into ServiceTitan.\n"
    "\n"
    "commands:\n"
    "  serve      run the HTTP server (applies pending migrations first)\n"
    "  migrate    apply pending database migrations and exit\n"
    "  config     print the effective settings and where each came from\n"
    "  help       show this help\n"
    "  version    print the version\n"
    "\n"
    "flags (each also an env var APPOINTD_<NAME> and a config-file key <name>):\n";

static int usage(FILE *to, int code)
{
    struct ap_conf *c = ap_conf_new(options, NOPTIONS, "APPOINTD_");
    struct ap_buf b;
    ap_buf_init(&b, 1 << 16);
    ap_conf_usage(c, &b);
    fprintf(to, "%s%s", usage_head, b.data ? b.data : "");
    ap_buf_cleanup(&b);
    ap_conf_free(c);
    return code;
}

static int fail(const char *msg)
{
    fprintf(stderr, "appointd: %s\n", msg);
    return EXIT_FAILURE;
}

/* Loads the settings for a command; NULL after printing a usage error. */
static struct ap_conf *load_conf(int argc, char **argv)
{
    struct ap_conf *c = ap_conf_new(options, NOPTIONS, "APPOINTD_");
    char *pos[1];
    size_t npos = 0;
    char err[512];
    enum ap_err rc = ap_conf_load(c, argc, argv, environ, pos, 0, &npos, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "appointd: %s\n", err);
        ap_conf_free(c);
        return NULL;
    }
    enum ap_log_level lvl;
    if (ap_log_level_parse(ap_conf_str(c, "log-level"), &lvl) == AP_OK)
        ap_log_set_level(lvl);
    return c;
}

static int cmd_migrate(int argc, char **argv)
{
    struct ap_conf *c = load_conf(argc, argv);
    if (!c)
        return EXIT_USAGE;
    char err[512];
    int code = EXIT_SUCCESS;
    int applied = 0;
    struct ap_store *store = ap_open_store(c, &applied, err, sizeof(err));
    if (!store)
        code = fail(err);
    else
        printf("database %s/appointd.db is at schema version %d\n", ap_conf_str(c, "data-dir"),
               ap_store_schema_version(store));
    ap_store_close(store);
    ap_conf_free(c);
    return code;
}

static int cmd_config(int argc, char **argv)
{
    struct ap_conf *c = load_conf(argc, argv);
    if (!c)
        return EXIT_USAGE;
    struct ap_buf b;
    ap_buf_init(&b, 1 << 16);
    ap_conf_print(c, &b);
    fputs(b.data ? b.data : "", stdout);
    ap_buf_cleanup(&b);
    ap_conf_free(c);
    return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, EXIT_USAGE);
    const char *cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout, EXIT_SUCCESS);
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
        return usage(stdout, EXIT_SUCCESS);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("appointd %s\n", AP_VERSION);
        return EXIT_SUCCESS;
    }
    if (!strcmp(cmd, "migrate"))
        return cmd_migrate(argc - 2, argv + 2);
    if (!strcmp(cmd, "config"))
        return cmd_config(argc - 2, argv + 2);
    if (!strcmp(cmd, "serve")) {
        struct ap_conf *c = load_conf(argc - 2, argv + 2);
        if (!c)
            return EXIT_USAGE;
        int code = ap_serve(c);
        ap_conf_free(c);
        return code;
    }
    if (cmd[0] == '-')
        fprintf(stderr, "appointd: unknown flag %s (flags come after the command; see --help)\n",
                cmd);
    else
        fprintf(stderr, "appointd: unknown command '%s' (see appointd --help)\n", cmd);
    return EXIT_USAGE;
}

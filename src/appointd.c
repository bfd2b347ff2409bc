/*
 * appointd.c — the appointd command line: picks the command and hands it
 * the rest of the arguments. The commands live in src/cli/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ap_build.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/defs.h"

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"serve", ap_cmd_serve, "run the HTTP server (applies pending migrations first)"},
    {"migrate", ap_cmd_migrate, "apply pending database migrations and exit"},
    {"config", ap_cmd_config, "print the effective settings and where each came from"},
    {"account", ap_cmd_account, "account create NAME"},
    {"user", ap_cmd_user, "user add EMAIL --account NAME --role ROLE | user reset-password EMAIL"},
    {"fms", ap_cmd_fms,
     "fms tenant ACCOUNT TENANT_ID | fms connect ACCOUNT --client-id ID --client-secret-stdin | "
     "fms status ACCOUNT"},
    {"import-v1", ap_cmd_import_v1,
     "import V1-era accounts from a CSV or JSON-lines FILE (exit 3: some rows skipped)"},
    {"migration-status", ap_cmd_migration_status, "accounts by ServiceTitan connection state"},
    {"booking", ap_cmd_booking,
     "booking list ACCOUNT [--state S] | show REF | retry REF | resolve REF | cancel REF"},
    {"catalog", ap_cmd_catalog,
     "catalog refresh ACCOUNT | show ACCOUNT: the ServiceTitan items schedulers are set up from"},
    {"scheduler", ap_cmd_scheduler,
     "scheduler create ACCOUNT --config FILE.json | update KEY --config FILE.json | show KEY | "
     "list ACCOUNT | pause KEY | resume KEY"},
    {"db", ap_cmd_db,
     "db copy --from sqlite:DATA_DIR --to postgres://... (move a deployment's database)"},
};

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: appointd <command> [arguments] [flags]\n\n"
                "Online booking for home-service contractors, straight into ServiceTitan.\n\n"
                "commands:\n");
    for (size_t i = 0; i < AP_COUNTOF(commands); i++)
        fprintf(to, "  %-17s %s\n", commands[i].name, commands[i].help);
    fprintf(to, "  %-17s %s\n  %-17s %s\n", "help", "show this help", "version",
            "print the version");
    return ap_conf_print_usage(
        to, ap_options, ap_noptions, "APPOINTD_",
        "\nflags (each also an env var APPOINTD_<NAME> and a config-file key "
        "<name>; commands that print take --json):\n",
        code);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, AP_EXIT_USAGE);
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
    for (size_t i = 0; i < AP_COUNTOF(commands); i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 2, argv + 2);
    if (cmd[0] == '-')
        fprintf(stderr, "appointd: unknown flag %s (flags come after the command; see --help)\n",
                cmd);
    else
        fprintf(stderr, "appointd: unknown command '%s' (see appointd --help)\n", cmd);
    return AP_EXIT_USAGE;
}

/*
 * cmd_basic.c — `appointd migrate` and `appointd config`.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "db/store.h"

static int no_arguments(struct ap_cli *cli, const char *cmd)
{
    if (!cli->npos)
        return 0;
    fprintf(stderr, "appointd: %s takes no arguments (got '%s')\n", cmd, cli->pos[0]);
    ap_cli_close(cli);
    return AP_EXIT_USAGE;
}

int ap_cmd_migrate(int argc, char **argv)
{
    struct ap_cli cli;
    int code = ap_cli_open(&cli, argc, argv, AP_CLI_STORE);
    if (code || (code = no_arguments(&cli, "migrate")))
        return code;
    printf("database %s is at schema version %d\n", ap_store_path(cli.store),
           ap_store_schema_version(cli.store));
    ap_cli_close(&cli);
    return EXIT_SUCCESS;
}

int ap_cmd_config(int argc, char **argv)
{
    struct ap_cli cli;
    int code = ap_cli_open(&cli, argc, argv, 0);
    if (code || (code = no_arguments(&cli, "config")))
        return code;
    struct ap_buf b;
    ap_buf_init(&b, 1 << 16);
    ap_conf_print(cli.conf, &b);
    fputs(b.data ? b.data : "", stdout);
    ap_buf_cleanup(&b);
    ap_cli_close(&cli);
    return EXIT_SUCCESS;
}

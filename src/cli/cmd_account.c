/*
 * cmd_account.c — `appointd account create NAME [--json]`: creates an
 * account (a contractor company) and prints its id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cli/cli.h"
#include "json/json.h"

static int usage(void)
{
    fprintf(stderr, "usage: appointd account create NAME [--json]\n");
    return AP_EXIT_USAGE;
}

static void print_account(const struct ap_cli *cli, const struct ap_account *a)
{
    if (!cli->json) {
        printf("%lld\n", (long long)a->id);
        return;
    }
    json_t *j = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)a->id, "name", a->name, "createdAt",
                          a->created_at);
    char *s = ap_json_dumps(j);
    printf("%s\n", s);
    free(s);
    json_decref(j);
}

int ap_cmd_account(int argc, char **argv)
{
    struct ap_cli cli;
    struct ap_account a;
    char err[300];
    int code = ap_cli_open(&cli, argc, argv, AP_CLI_STORE);
    if (code)
        return code;
    if (cli.npos != 2 || strcmp(cli.pos[0], "create") != 0) {
        ap_cli_close(&cli);
        return usage();
    }
    if (ap_account_create(cli.store, cli.pos[1], &a, err, sizeof(err)) != AP_OK) {
        fprintf(stderr, "appointd: %s\n", err);
        code = AP_EXIT_FAILURE;
    } else {
        print_account(&cli, &a);
    }
    ap_cli_close(&cli);
    return code;
}

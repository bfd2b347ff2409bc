/*
 * cmd_catalog.c — `appointd catalog refresh|show ACCOUNT [--json]`: reads
 * the account's ServiceTitan catalog (business units, job types, campaigns,
 * arrival windows, zones, booking provider tags, tag types) now, or shows
 * what is stored. A running server refreshes it by itself (hourly by
 * default); this is the "now" for an admin who just changed something in
 * ServiceTitan. Exit 1 when no kind could be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/catalog.h"
#include "app/fms_conn.h"
#include "cli/cli.h"
#include "json/json.h"

static int usage(void)
{
    fprintf(stderr, "usage: appointd catalog refresh ACCOUNT | show ACCOUNT [--json]\n");
    return AP_EXIT_USAGE;
}

static void print_json(json_t *j)
{
    char *s = ap_json_dumps(j);
    printf("%s\n", s);
    free(s);
}

static void print_counts(const struct ap_catalog *c)
{
    for (int k = 0; k < AP_CAT_NKINDS; k++) {
        size_t n = ap_catalog_count(c, k), active = 0;
        for (size_t i = 0; i < n; i++)
            active += ap_catalog_at(c, k, i)->active && !ap_catalog_at(c, k, i)->deleted;
        const char *at = ap_catalog_refreshed_at(c, k), *err = ap_catalog_error(c, k);
        printf("%-22s %4zu (%zu active)  read %s%s%s\n", ap_cat_kind_key(k), n, active,
               *at ? at : "never", *err ? "  last error: " : "", err);
    }
}

static int show(struct ap_cli *cli, int64_t account_id)
{
    struct ap_catalog *c = ap_catalog_load(cli->store, account_id);

    if (!c) {
        fprintf(stderr, "appointd: the database could not be read\n");
        return AP_EXIT_FAILURE;
    }
    if (cli->json) {
        json_t *j = ap_catalog_json(c);
        print_json(j);
        json_decref(j);
    } else {
        print_counts(c);
    }
    ap_catalog_free(c);
    return 0;
}

static int refresh(struct ap_cli *cli, int64_t account_id, const char *name)
{
    struct ap_catalog_result res;
    struct ap_fms_conn conn;
    enum ap_err err = ap_fms_conn_open(&cli->fms, account_id, &conn);

    if (err) {
        fprintf(stderr, "appointd: %s\n",
                err == AP_ENOTFOUND
                    ? "this account is not connected to ServiceTitan yet (FMS Configuration)"
                    : "the account's ServiceTitan Client Secret could not be opened");
        return AP_EXIT_FAILURE;
    }
    err = ap_catalog_refresh(cli->store, cli->titan, &conn.creds, account_id, &res);
    ap_fms_conn_cleanup(&conn);
    if (err) {
        fprintf(stderr, "appointd: the catalog of '%s' could not be read from ServiceTitan: %s\n",
                name, res.first_error[0] ? res.first_error : ap_err_str(err));
        return AP_EXIT_FAILURE;
    }
    if (res.failed)
        fprintf(stderr, "appointd: some of the catalog could not be read: %s\n", res.first_error);
    return show(cli, account_id);
}

int ap_cmd_catalog(int argc, char **argv)
{
    struct ap_account a;
    struct ap_cli cli;
    int code;
    bool is_refresh = argc > 0 && strcmp(argv[0], "refresh") == 0;

    if ((code = ap_cli_open(&cli, argc, argv, is_refresh ? AP_CLI_FMS : AP_CLI_STORE)))
        return code;
    if (cli.npos != 2 || (strcmp(cli.pos[0], "refresh") && strcmp(cli.pos[0], "show"))) {
        ap_cli_close(&cli);
        return usage();
    }
    if (ap_account_find(cli.store, cli.pos[1], &a) != AP_OK) {
        fprintf(stderr, "appointd: there is no account named '%s'\n", cli.pos[1]);
        code = AP_EXIT_FAILURE;
    } else {
        code = is_refresh ? refresh(&cli, a.id, cli.pos[1]) : show(&cli, a.id);
    }
    ap_cli_close(&cli);
    return code;
}

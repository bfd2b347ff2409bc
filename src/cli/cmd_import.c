/*
 * cmd_import.c — `appointd import-v1 FILE` (bring V1-era accounts over) and
 * `appointd migration-status` (every account by connection state).
 *
 * import-v1 exit codes: 0 every row imported (or already up to date); 3 the
 * file was read and its good rows imported, but some rows were skipped (each
 * named on stderr as "line N: reason"); 1 the import failed (file
 * unreadable, CSV header unusable, or a storage failure, after which the rows
 * before it are kept and a re-run completes the import); 2 usage. Neither command talks to
 * ServiceTitan, so neither needs st-app-key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "db/store.h"

/* Some rows were skipped; the rest imported. */
#define EXIT_PARTIAL 3

static int one_argument(struct ap_cli *cli, const char *usage)
{
    if (cli->npos == 1)
        return 0;
    fprintf(stderr, "appointd: usage: %s\n", usage);
    ap_cli_close(cli);
    return AP_EXIT_USAGE;
}

/* The report's lines as a JSON array of strings. */
static json_t *report_lines(const char *report)
{
    json_t *arr = json_array();
    for (const char *p = report; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n)
            json_array_append_new(arr, json_stringn(p, n));
        p += n + (nl != NULL);
    }
    return arr;
}

static void print_summary(const struct ap_cli *cli, const struct ap_fms_v1_summary *s,
                          const char *report, bool ok)
{
    if (!cli->json) {
        printf("imported %d row%s (%d changed, %d already up to date, %d account%s created); "
               "skipped %d\n",
               s->imported, s->imported == 1 ? "" : "s", s->changed, s->unchanged,
               s->accounts_created, s->accounts_created == 1 ? "" : "s", s->skipped);
        return;
    }
    json_t *j =
        json_pack("{s:b, s:i, s:i, s:i, s:i, s:i, s:o}", "ok", ok, "imported", s->imported,
                  "changed", s->changed, "unchanged", s->unchanged, "accountsCreated",
                  s->accounts_created, "skipped", s->skipped, "problems", report_lines(report));
    char *text = ap_json_dumps(j);
    puts(text);
    free(text);
    json_decref(j);
}

int ap_cmd_import_v1(int argc, char **argv)
{
    struct ap_cli cli;
    struct ap_fms_v1_summary sum = {0};
    char *report = NULL;
    int code = ap_cli_open(&cli, argc, argv, AP_CLI_STORE | AP_CLI_KEY);
    if (code || (code = one_argument(&cli, "appointd import-v1 FILE [--json]  (FILE: CSV with "
                                           "header account,tenant_id,v1_api_key, or JSON lines "
                                           "{\"account\",\"tenantId\",\"v1ApiKey\"}; exit 3 when "
                                           "some rows were skipped)")))
        return code;
    struct ap_fms f;
    ap_fms_from_conf(&f, cli.conf, cli.store, NULL, cli.key);
    enum ap_err err = ap_fms_import_v1_file(&f, cli.pos[0], &sum, &report);
    fputs(report, stderr);
    if (err)
        fprintf(stderr, "appointd: import of %s failed (%s)\n", cli.pos[0], ap_err_str(err));
    print_summary(&cli, &sum, report, err == AP_OK);
    code = err ? AP_EXIT_FAILURE : sum.skipped ? EXIT_PARTIAL : EXIT_SUCCESS;
    free(report);
    ap_cli_close(&cli);
    return code;
}

static void print_table(json_t *st)
{
    json_t *counts = json_object_get(st, "counts"), *list = json_object_get(st, "accounts"), *v;
    const char *state, *name;
    size_t i, width = 7;
    printf("%-22s %s\n", "STATE", "ACCOUNTS");
    json_object_foreach (counts, state, v) {
        printf("%-22s %lld\n", state, (long long)json_integer_value(v));
    }
    printf("%-22s %zu\n\n", "total", json_array_size(list));
    json_array_foreach (list, i, v) {
        name = json_string_value(json_object_get(v, "account"));
        if (strlen(name) > width)
            width = strlen(name);
    }
    printf("%-*s  %-22s %-17s %-10s %-7s %s\n", (int)width, "ACCOUNT", "STATE", "TENANT ID",
           "CONFIRMED", "V1 KEY", "CONNECTED SINCE");
    json_array_foreach (list, i, v) {
        json_t *tenant = json_object_get(v, "tenantId"), *since = json_object_get(v, "connectedAt");
        char tid[32] = "-";
        if (json_is_integer(tenant))
            snprintf(tid, sizeof(tid), "%lld", (long long)json_integer_value(tenant));
        printf("%-*s  %-22s %-17s %-10s %-7s %s\n", (int)width,
               json_string_value(json_object_get(v, "account")),
               json_string_value(json_object_get(v, "state")), tid,
               json_is_true(json_object_get(v, "tenantConfirmed")) ? "yes" : "no",
               json_is_true(json_object_get(v, "v1KeyStored")) ? "held" : "-",
               json_is_string(since) ? json_string_value(since) : "-");
    }
}

int ap_cmd_migration_status(int argc, char **argv)
{
    struct ap_cli cli;
    int code = ap_cli_open(&cli, argc, argv, AP_CLI_STORE);
    if (code)
        return code;
    if (cli.npos) {
        fprintf(stderr, "appointd: usage: appointd migration-status [--json] (got '%s')\n",
                cli.pos[0]);
        ap_cli_close(&cli);
        return AP_EXIT_USAGE;
    }
    json_t *st = ap_fms_migration_status(cli.store);
    if (!st) {
        fprintf(stderr, "appointd: cannot read the accounts from %s (see the log line above)\n",
                ap_store_path(cli.store));
        ap_cli_close(&cli);
        return AP_EXIT_FAILURE;
    }
    if (cli.json) {
        char *text = ap_json_dumps(st);
        puts(text);
        free(text);
    } else {
        print_table(st);
    }
    json_decref(st);
    ap_cli_close(&cli);
    return EXIT_SUCCESS;
}

/*
 * cmd_fms.c — `appointd fms …`: the FMS Configuration flow from the command
 * line, for support staff and scripts (and the tests):
 *
 *   fms tenant ACCOUNT TENANT_ID [--json]           Step 1
 *   fms add ACCOUNT [--json]                        "Add to ServiceTitan": prints the link
 *   fms connect ACCOUNT --client-id ID --client-secret-stdin [--tenant-id N] [--json]
 *                                                   Steps 3–4 (--tenant-id: a Step 1 correction)
 *   fms status ACCOUNT [--json]
 *   fms rotate ACCOUNT --client-secret-stdin [--json]
 *   fms disconnect ACCOUNT [--json]
 *   fms check ACCOUNT [--json]                      a health check now
 *
 * Exit 0 on success; 1 with exactly the message the admin API gives (on
 * stderr; with --json the API's error body also goes to stdout); 2 for
 * usage errors. `check` exits 1 with the reason when the connection needs
 * attention. The secret is read from the first line of stdin, never from
 * the command line (where ps and shell history would keep it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/fms.h"
#include "cli/cli.h"
#include "crypto/crypto.h"
#include "json/json.h"

#define SECRET_MAX 4096

static int usage(void)
{
    fprintf(stderr, "usage: appointd fms tenant ACCOUNT TENANT_ID | add ACCOUNT | connect ACCOUNT "
                    "--client-id ID --client-secret-stdin [--tenant-id N] | status ACCOUNT | "
                    "rotate ACCOUNT "
                    "--client-secret-stdin | disconnect ACCOUNT | check ACCOUNT  [--json]\n");
    return AP_EXIT_USAGE;
}

/* Our own flags, taken out of argv before the shared settings parser sees it. */
struct fms_flags {
    const char *client_id, *tenant_id;
    bool secret_stdin;
};

static int strip_flags(int argc, char **argv, struct fms_flags *fl, bool *bad)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--client-id") == 0) {
            if (i + 1 >= argc)
                *bad = true;
            else
                fl->client_id = argv[++i];
        } else if (strncmp(argv[i], "--client-id=", 12) == 0) {
            fl->client_id = argv[i] + 12;
        } else if (strcmp(argv[i], "--tenant-id") == 0) {
            if (i + 1 >= argc)
                *bad = true;
            else
                fl->tenant_id = argv[++i];
        } else if (strncmp(argv[i], "--tenant-id=", 12) == 0) {
            fl->tenant_id = argv[i] + 12;
        } else if (strcmp(argv[i], "--client-secret-stdin") == 0) {
            fl->secret_stdin = true;
        } else {
            argv[out++] = argv[i];
        }
    }
    return out;
}

/* First line of stdin (malloc'd; caller wipes and frees). */
static char *read_secret(void)
{
    char *buf = calloc(1, SECRET_MAX + 1);
    if (!buf)
        return NULL;
    size_t n = fread(buf, 1, SECRET_MAX, stdin);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf;
}

static void free_secret(char *s)
{
    if (s) {
        ap_crypto_wipe(s, strlen(s));
        free(s);
    }
}

static void print_json(json_t *j)
{
    char *s = ap_json_dumps(j);
    printf("%s\n", s);
    free(s);
}

static int fail(const struct ap_cli *cli, const struct ap_fms_error *e)
{
    if (cli->json) {
        json_t *j =
            json_pack("{s:{s:s, s:s, s:s, s:i}}", "error", "code", ap_fms_code_name(e->code),
                      "message", e->message, "field", e->field ? e->field : "", "step", e->step);
        if (e->token_tenant_id)
            json_object_set_new(json_object_get(j, "error"), "tokenTenantId",
                                json_integer(e->token_tenant_id));
        print_json(j);
        json_decref(j);
    }
    fprintf(stderr, "appointd: %s\n", e->message);
    return AP_EXIT_FAILURE;
}

static const char *jstr(json_t *j, const char *k)
{
    const char *s = json_string_value(json_object_get(j, k));
    return s ? s : "-";
}

static void print_human(json_t *st)
{
    json_t *v;
    size_t i;
    printf("state:           %s\n", jstr(st, "state"));
    if (json_is_integer(json_object_get(st, "tenantId")))
        printf("tenant id:       %lld%s\n",
               (long long)json_integer_value(json_object_get(st, "tenantId")),
               json_is_true(json_object_get(st, "tenantConfirmed")) ? "" : " (unconfirmed)");
    printf("environment:     %s\n", jstr(st, "environmentLabel"));
    printf("client id:       %s\n", jstr(st, "clientId"));
    printf("client secret:   %s\n", jstr(st, "clientSecret"));
    printf("connected since: %s\n", jstr(st, "connectedAt"));
    printf("last success:    %s\n", jstr(st, "lastSuccessAt"));
    printf("last checked:    %s\n", jstr(st, "lastCheckedAt"));
    printf("granted scopes:  %zu\n", json_array_size(json_object_get(st, "grantedScopes")));
    json_array_foreach (json_object_get(st, "scopes"), i, v) {
        if (json_is_false(json_object_get(v, "granted")))
            printf("missing scope:   %s (%s: %s)\n", jstr(v, "scope"),
                   json_is_true(json_object_get(v, "required")) ? "needed for" : "only for",
                   jstr(v, "feature"));
    }
    if (json_is_string(json_object_get(st, "attentionReason")))
        printf("attention:       %s\n", jstr(st, "attentionReason"));
    printf("app access url:  %s\n", jstr(st, "appAccessUrl"));
}

static int print_status(struct ap_cli *cli, int64_t account_id, const char *headline)
{
    json_t *st = ap_fms_status(&cli->fms, account_id);
    if (!st) {
        fprintf(stderr, "appointd: the database cannot be read\n");
        return AP_EXIT_FAILURE;
    }
    if (cli->json) {
        print_json(st);
    } else {
        if (headline)
            printf("%s\n", headline);
        print_human(st);
    }
    json_decref(st);
    return 0;
}

/* After `check`: 0 when connected, 1 with the reason otherwise. */
static int check_result(struct ap_cli *cli, int64_t account_id, enum ap_err err,
                        const struct ap_fms_error *e)
{
    if (err)
        return fail(cli, e);
    json_t *st = ap_fms_status(&cli->fms, account_id);
    const char *reason = st ? json_string_value(json_object_get(st, "attentionReason")) : NULL;
    int code = print_status(cli, account_id, NULL);
    if (reason && !code) {
        fprintf(stderr, "appointd: %s\n", reason);
        code = AP_EXIT_FAILURE;
    }
    json_decref(st);
    return code;
}

static int run_op(struct ap_cli *cli, const char *op, int64_t acct, const struct fms_flags *fl)
{
    struct ap_fms_error e = {0};
    enum ap_err err = AP_OK;
    char *secret = NULL;
    const char *link = NULL;
    if (!strcmp(op, "tenant")) {
        err = ap_fms_set_tenant(&cli->fms, acct, cli->pos[2], &e);
    } else if (!strcmp(op, "add")) {
        if ((err = ap_fms_add_to_servicetitan(&cli->fms, acct, &link, NULL, &e)) == AP_OK) {
            json_t *st = ap_fms_status(&cli->fms, acct);
            json_t *j = json_pack("{s:s?, s:O?}", "appAccessUrl", link, "state",
                                  st ? json_object_get(st, "state") : NULL);
            if (cli->json)
                print_json(j);
            else
                printf("Now open ServiceTitan's API Application Access page, click Connect New "
                       "App, select the app, Connect and Allow Access (Step 2):\n%s\n",
                       link ? link : "(set fms-app-access-url for this environment)");
            json_decref(j);
            json_decref(st);
            return 0;
        }
    } else if (!strcmp(op, "connect") || !strcmp(op, "rotate")) {
        if (!(secret = read_secret()))
            return AP_EXIT_FAILURE;
        struct ap_fms_connect_in in = {fl->client_id, secret, fl->tenant_id};
        err = !strcmp(op, "connect") ? ap_fms_connect(&cli->fms, acct, &in, NULL, &e)
                                     : ap_fms_rotate_secret(&cli->fms, acct, secret, NULL, &e);
        free_secret(secret);
    } else if (!strcmp(op, "disconnect")) {
        err = ap_fms_disconnect(&cli->fms, acct, &e);
    } else if (!strcmp(op, "check")) {
        err = ap_fms_check(&cli->fms, acct, AP_FMS_CHECK_SECRET, NULL, &e);
        return check_result(cli, acct, err, &e);
    }
    if (err)
        return fail(cli, &e);
    return print_status(cli, acct, !strcmp(op, "connect") ? "Connected to ServiceTitan." : NULL);
}

/* Arguments each subcommand takes after ACCOUNT, and whether it needs the secret flag. */
static bool args_ok(const char *op, size_t npos, const struct fms_flags *fl)
{
    if (fl->tenant_id && strcmp(op, "connect") != 0)
        return false; /* a Step 1 correction goes with a connect only */
    if (!strcmp(op, "tenant"))
        return npos == 3;
    if (npos != 2)
        return false;
    if (!strcmp(op, "connect"))
        return fl->client_id && fl->secret_stdin;
    if (!strcmp(op, "rotate"))
        return fl->secret_stdin && !fl->client_id;
    return !strcmp(op, "status") || !strcmp(op, "add") || !strcmp(op, "disconnect") ||
           !strcmp(op, "check");
}

int ap_cmd_fms(int argc, char **argv)
{
    struct fms_flags fl = {0};
    bool bad = false;
    struct ap_cli cli;
    struct ap_account a;
    argc = strip_flags(argc, argv, &fl, &bad);
    if (bad)
        return usage();
    int code = ap_cli_open(&cli, argc, argv, AP_CLI_FMS);
    if (code)
        return code;
    if (cli.npos < 2 || !args_ok(cli.pos[0], cli.npos, &fl)) {
        ap_cli_close(&cli);
        return usage();
    }
    if (ap_account_find(cli.store, cli.pos[1], &a) != AP_OK) {
        fprintf(stderr,
                "appointd: no account named '%s' (create it with `appointd account "
                "create NAME`)\n",
                cli.pos[1]);
        ap_cli_close(&cli);
        return AP_EXIT_FAILURE;
    }
    code = run_op(&cli, cli.pos[0], a.id, &fl);
    ap_cli_close(&cli);
    return code;
}

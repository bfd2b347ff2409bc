/*
 * cmd_scheduler.c — `appointd scheduler …`: schedulers from the shell, the
 * same JSON shape as the admin API (docs/api.md, "Schedulers"):
 *
 *   scheduler create ACCOUNT --config FILE.json [--json]
 *   scheduler update KEY --config FILE.json [--json]
 *   scheduler show KEY [--json]
 *   scheduler list ACCOUNT [--json]
 *   scheduler pause|resume KEY [--json]
 *
 * Here --config names the scheduler's JSON file (the settings file is then
 * given by APPOINTD_CONFIG). A refused config prints the API's message
 * ("services[1].jobTypeId: job type 123 is inactive in ServiceTitan") and
 * exits 1 with nothing saved. Works beside a running server (SQLite WAL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/scheduler.h"
#include "cli/cli.h"
#include "json/json.h"

/* A scheduler file larger than this is refused. */
#define CONFIG_MAX (1024 * 1024)

static int usage(void)
{
    fprintf(stderr, "usage: appointd scheduler create ACCOUNT --config FILE.json | update KEY "
                    "--config FILE.json | show KEY | list ACCOUNT | pause KEY | resume KEY "
                    "[--json]\n");
    return AP_EXIT_USAGE;
}

/* Takes --config FILE out of argv. Returns the new argc, -1 on a usage error. */
static int take_config(int argc, char **argv, const char **file)
{
    int out = 0;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "appointd: --config needs the scheduler's JSON file\n");
                return -1;
            }
            *file = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            *file = argv[i] + 9;
        } else {
            argv[out++] = argv[i];
        }
    }
    return out;
}

/* Reads and parses the file; one line on stderr and NULL when it can't. */
static json_t *read_config(const char *file)
{
    FILE *f = fopen(file, "rb");
    struct ap_json_error e = {0};
    char *buf;
    size_t n;
    json_t *j = NULL;

    if (!f) {
        fprintf(stderr, "appointd: cannot read %s: %m\n", file);
        return NULL;
    }
    buf = malloc(CONFIG_MAX + 1);
    n = buf ? fread(buf, 1, CONFIG_MAX + 1, f) : 0;
    fclose(f);
    if (!buf || n > CONFIG_MAX)
        fprintf(stderr, "appointd: %s is larger than 1 MiB\n", file);
    else if (ap_json_parse_body(buf, n, AP_JSON_OBJECT, &j, &e) != AP_OK)
        fprintf(stderr, "appointd: %s: %s\n", file, e.message);
    free(buf);
    return j;
}

static void print_json(json_t *j)
{
    char *s = ap_json_dumps(j);
    printf("%s\n", s);
    free(s);
}

/* The scheduler as `show` prints it: key, account, paused, updatedAt and its config. */
static json_t *sched_json(const struct ap_sched *s)
{
    json_t *j =
        json_pack("{s:s, s:I, s:b, s:s}", "key", s->key, "accountId", (json_int_t)s->account_id,
                  "paused", s->paused, "updatedAt", s->updated_at);
    json_object_set_new(j, "config", ap_sched_config_json(s));
    return j;
}

static void print_sched(const struct ap_cli *cli, const struct ap_sched *s)
{
    if (cli->json) {
        json_t *j = sched_json(s);
        print_json(j);
        json_decref(j);
        return;
    }
    printf("%s  %s%s  (%s, %zu service%s, %s)\n", s->key, s->name, s->paused ? " [paused]" : "",
           s->mode == AP_SCHED_BOOKING ? "booking mode" : "job mode", s->nservices,
           s->nservices == 1 ? "" : "s", s->time_zone);
}

static int fail_json(const struct ap_cli *cli, const struct ap_json_error *e)
{
    fprintf(stderr, "appointd: %s\n", e->message);
    if (cli->json) {
        char *body = ap_json_error_body_of(e);
        printf("%s\n", body);
        free(body);
    }
    return AP_EXIT_FAILURE;
}

static int find_account(struct ap_cli *cli, const char *name, struct ap_account *a)
{
    if (ap_account_find(cli->store, name, a) == AP_OK)
        return 0;
    fprintf(stderr, "appointd: there is no account named '%s'\n", name);
    return AP_EXIT_FAILURE;
}

static int cmd_write(struct ap_cli *cli, bool create, const char *file)
{
    struct ap_json_error e = {0};
    struct ap_sched *s = NULL;
    struct ap_account a;
    json_t *cfg;
    enum ap_err err;
    int code;

    if (!file) {
        fprintf(stderr, "appointd: scheduler %s needs --config FILE.json\n",
                create ? "create" : "update");
        return AP_EXIT_USAGE;
    }
    if (!(cfg = read_config(file)))
        return AP_EXIT_FAILURE;
    if (create) {
        if ((code = find_account(cli, cli->pos[1], &a))) {
            json_decref(cfg);
            return code;
        }
        err = ap_sched_create(cli->store, a.id, cfg, &s, &e);
    } else {
        struct ap_sched *cur = NULL;
        err = ap_sched_get(cli->store, 0, cli->pos[1], &cur);
        if (err == AP_OK)
            err = ap_sched_update(cli->store, cur->account_id, cur->key, cfg, &s, &e);
        else
            ap_json_error_set(&e, "not_found", "", "there is no scheduler %s", cli->pos[1]);
        ap_sched_free(cur);
    }
    json_decref(cfg);
    if (err)
        return fail_json(cli, &e);
    print_sched(cli, s);
    ap_sched_free(s);
    return 0;
}

static int cmd_show(struct ap_cli *cli, const char *key)
{
    struct ap_sched *s = NULL;

    if (ap_sched_get(cli->store, 0, key, &s) != AP_OK) {
        fprintf(stderr, "appointd: there is no scheduler %s\n", key);
        return AP_EXIT_FAILURE;
    }
    print_sched(cli, s);
    for (size_t i = 0; !cli->json && i < s->nservices; i++)
        printf("  service %-20s %s (job type %lld, business unit %lld)\n", s->services[i].id,
               s->services[i].label, (long long)s->services[i].job_type_id,
               (long long)s->services[i].business_unit_id);
    if (!cli->json)
        printf("  campaign %lld, %s, embed: <script src=\"…/widget.js\" data-scheduler=\"%s\" "
               "async></script>\n",
               (long long)s->campaign_id,
               s->area_zones ? "ZIPs of ServiceTitan's zones" : "ZIP list", s->key);
    ap_sched_free(s);
    return 0;
}

static int cmd_list(struct ap_cli *cli, const char *account)
{
    struct ap_sched **v = NULL;
    struct ap_account a;
    size_t n = 0;
    int code;

    if ((code = find_account(cli, account, &a)))
        return code;
    if (ap_sched_list(cli->store, a.id, &v, &n) != AP_OK) {
        fprintf(stderr, "appointd: the database could not be read\n");
        return AP_EXIT_FAILURE;
    }
    if (cli->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, sched_json(v[i]));
        json_t *j = json_pack("{s:o}", "schedulers", arr);
        print_json(j);
        json_decref(j);
    } else {
        for (size_t i = 0; i < n; i++)
            print_sched(cli, v[i]);
        if (n == 0)
            printf("no schedulers yet: appointd scheduler create '%s' --config FILE.json\n",
                   account);
    }
    ap_sched_list_free(v, n);
    return 0;
}

static int cmd_pause(struct ap_cli *cli, const char *key, bool paused)
{
    struct ap_sched *s = NULL;

    if (ap_sched_get(cli->store, 0, key, &s) != AP_OK ||
        ap_sched_set_paused(cli->store, s->account_id, key, paused) != AP_OK) {
        fprintf(stderr, "appointd: there is no scheduler %s\n", key);
        ap_sched_free(s);
        return AP_EXIT_FAILURE;
    }
    ap_sched_free(s);
    if (ap_sched_get(cli->store, 0, key, &s) == AP_OK) {
        print_sched(cli, s);
        ap_sched_free(s);
    }
    return 0;
}

int ap_cmd_scheduler(int argc, char **argv)
{
    const char *file = NULL;
    struct ap_cli cli;
    int code;

    if ((argc = take_config(argc, argv, &file)) < 0)
        return AP_EXIT_USAGE;
    if ((code = ap_cli_open(&cli, argc, argv, AP_CLI_STORE)))
        return code;
    const char *verb = cli.npos == 2 ? cli.pos[0] : "";
    if (!strcmp(verb, "create") || !strcmp(verb, "update"))
        code = cmd_write(&cli, verb[0] == 'c', file);
    else if (file)
        code = usage();
    else if (!strcmp(verb, "show"))
        code = cmd_show(&cli, cli.pos[1]);
    else if (!strcmp(verb, "list"))
        code = cmd_list(&cli, cli.pos[1]);
    else if (!strcmp(verb, "pause") || !strcmp(verb, "resume"))
        code = cmd_pause(&cli, cli.pos[1], verb[0] == 'p');
    else
        code = usage();
    ap_cli_close(&cli);
    return code;
}

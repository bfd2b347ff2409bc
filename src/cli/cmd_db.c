/*
 * cmd_db.c — `appointd db copy --from WHERE --to WHERE [--json]`: moves a
 * deployment's database, typically from SQLite to PostgreSQL:
 *
 *   appointd db copy --from sqlite:/var/lib/appointd --to postgres://app@db/appointd
 *
 * WHERE is "sqlite:PATH" (a data dir holding appointd.db, or the file
 * itself) or a postgres:// URL. Both are migrated to this appointd's schema,
 * then every table is copied (ap_store_copy: idempotent, refuses a target
 * holding other data, checks the row counts). A data dir source is locked
 * like `appointd serve` locks it, so the copy never runs beside a server
 * that is still writing to it. URLs are printed without their password.
 *
 * --from and --to belong to this command only (see cmd_user.c for why they
 * are not in the settings table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "db/store.h"
#include "json/json.h"

static int usage(void)
{
    fprintf(stderr, "usage: appointd db copy --from sqlite:PATH|postgres://... "
                    "--to postgres://...|sqlite:PATH [--json]\n");
    return AP_EXIT_USAGE;
}

/* One end of the copy. */
struct end {
    const char *where; /* as given */
    struct ap_store *store;
    int lock_fd; /* the data dir's lock, -1 when none */
};

/* Opens e->where ("sqlite:PATH" or a postgres:// URL) and migrates it. A
 * data dir is locked as `serve` locks it; a missing PATH is an error for the
 * source and a new data dir for the target. NULL with err set. */
static struct ap_store *open_end(struct end *e, const struct ap_conf *c, bool source, char *err,
                                 size_t errlen)
{
    struct ap_store_opts o = {.readers = (int)ap_conf_int(c, "db-pool")};
    const char *path = e->where + strlen("sqlite:");
    struct stat st;
    int applied = 0;

    if (ap_store_is_url(e->where)) {
        e->store = ap_store_open_with(e->where, &o, err, errlen);
    } else if (strncmp(e->where, "sqlite:", 7) != 0 || path[0] == '\0') {
        snprintf(err, errlen, "'%s' is neither sqlite:PATH nor a postgres:// URL", e->where);
    } else if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
        e->store = ap_store_open_file(path, err, errlen);
    } else if (source && stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: no such data dir or database file", path);
    } else if (ap_store_lock_dir(path, &e->lock_fd, err, errlen) == AP_OK) {
        e->store = ap_store_open_with(path, &o, err, errlen);
    }
    if (e->store &&
        ap_store_migrate(e->store, ap_db_migrations, ap_db_nmigrations, &applied, err, errlen)) {
        ap_store_close(e->store);
        e->store = NULL;
    }
    return e->store;
}

static void close_end(struct end *e)
{
    ap_store_close(e->store);
    ap_store_unlock_dir(e->lock_fd);
}

static void print_report(const struct ap_cli *cli, const struct end *from, const struct end *to,
                         const struct ap_db_copy_report *r)
{
    if (cli->json) {
        json_t *tables = json_array();
        for (size_t i = 0; i < r->ntables; i++)
            json_array_append_new(tables, json_pack("{s:s, s:I, s:I, s:I}", "table", r->t[i].table,
                                                    "source", (json_int_t)r->t[i].source, "target",
                                                    (json_int_t)r->t[i].target, "written",
                                                    (json_int_t)r->t[i].written));
        json_t *j = json_pack("{s:s, s:s, s:o}", "from", ap_store_path(from->store), "to",
                              ap_store_path(to->store), "tables", tables);
        char *s = ap_json_dumps(j);
        puts(s);
        free(s);
        json_decref(j);
        return;
    }
    printf("%-22s %10s %10s %10s\n", "table", "source", "target", "written");
    for (size_t i = 0; i < r->ntables; i++)
        printf("%-22s %10lld %10lld %10lld\n", r->t[i].table, (long long)r->t[i].source,
               (long long)r->t[i].target, (long long)r->t[i].written);
    printf("copied %zu tables from %s to %s; the row counts match\n", r->ntables,
           ap_store_path(from->store), ap_store_path(to->store));
}

/* Takes --from and --to out of argv; returns the new argc, or -1 on a usage error. */
static int take_ends(int argc, char **argv, struct end *from, struct end *to)
{
    int out = 0;
    bool missing = false;
    const char *v;
    for (int i = 0; i < argc; i++) {
        if ((v = ap_cli_flag_value(argc, argv, &i, "--from", &missing)))
            from->where = v;
        else if ((v = ap_cli_flag_value(argc, argv, &i, "--to", &missing)))
            to->where = v;
        else if (!missing)
            argv[out++] = argv[i];
        if (missing) {
            fprintf(stderr, "appointd: %s needs a value\n", argv[i]);
            return -1;
        }
    }
    return out;
}

static int copy(int argc, char **argv)
{
    struct end from = {.lock_fd = -1}, to = {.lock_fd = -1};
    struct ap_db_copy_report report;
    struct ap_cli cli;
    char err[1024] = "";
    int code;

    argc = take_ends(argc, argv, &from, &to);
    if (argc < 0 || !from.where || !to.where)
        return usage();
    if ((code = ap_cli_open(&cli, argc, argv, 0)))
        return code;
    code = AP_EXIT_FAILURE;
    if (cli.npos) {
        fprintf(stderr, "appointd: db copy takes no arguments (got '%s')\n", cli.pos[0]);
        code = AP_EXIT_USAGE;
    } else if (open_end(&from, cli.conf, true, err, sizeof(err)) &&
               open_end(&to, cli.conf, false, err, sizeof(err)) &&
               ap_store_copy(from.store, to.store, &report, err, sizeof(err)) == AP_OK) {
        print_report(&cli, &from, &to, &report);
        code = EXIT_SUCCESS;
    }
    if (code == AP_EXIT_FAILURE)
        fprintf(stderr, "appointd: %s\n", err);
    close_end(&to);
    close_end(&from);
    ap_cli_close(&cli);
    return code;
}

int ap_cmd_db(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "copy") != 0)
        return usage();
    return copy(argc - 1, argv + 1);
}

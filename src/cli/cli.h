/*
 * cli.h — what appointd's commands share: the settings table, and opening
 * the pieces a command needs (store, master key, ServiceTitan client, FMS).
 *
 * Each command lives in its own file (cmd_<name>.c) as
 *   int ap_cmd_<name>(int argc, char **argv);
 * taking the arguments after the command word and returning the exit code:
 * 0 success, 1 failure (one line on stderr, the same message the dashboard
 * shows), 2 usage error.
 */
#ifndef AP_CLI_CLI_H
#define AP_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "app/fms.h"
#include "core/config.h"

#define AP_EXIT_FAILURE 1
#define AP_EXIT_USAGE   2

extern const struct ap_conf_opt ap_options[];
extern const size_t ap_noptions;

enum ap_cli_needs {
    AP_CLI_STORE = 1 << 0, /* open the data dir's database, apply migrations */
    AP_CLI_KEY = 1 << 1,   /* load (or create, see ap_open_key) the master key; with STORE */
    AP_CLI_TITAN = 1 << 2, /* the ServiceTitan client (needs st-app-key) */
    AP_CLI_FMS = AP_CLI_STORE | AP_CLI_KEY | AP_CLI_TITAN,
};

struct ap_cli {
    struct ap_conf *conf;
    char *pos[8]; /* positional arguments, borrowed from argv */
    size_t npos;
    bool json; /* --json was given (stripped before the config sees it) */
    struct ap_store *store;
    struct ap_crypto_key *key;
    struct ap_titan *titan;
    struct ap_fms fms; /* filled when needs has AP_CLI_FMS */
};

/*
 * Loads settings from argv (flags, env, file) and opens what needs asks for.
 * Returns 0, or the exit code after printing one line to stderr.
 */
int ap_cli_open(struct ap_cli *cli, int argc, char **argv, unsigned needs);
void ap_cli_close(struct ap_cli *cli);

/* Shared with `serve`: builds pieces from settings. NULL with err set. */
/* The store named by the settings (database, else data-dir, with db-pool
 * read connections), migrated; *applied counts the migrations applied now. */
struct ap_store *ap_open_store(const struct ap_conf *c, int *applied, char *err, size_t errlen);
/* What ap_open_store() opens: the database URL when set, else the data dir. */
const char *ap_store_where(const struct ap_conf *c);
/* The master key at master-key-file, or DATA_DIR/master.key, which is
 * created when missing only if store (may be NULL: never) holds no sealed
 * secret; otherwise the error says which file is missing and how to restore
 * it. */
struct ap_crypto_key *ap_open_key(const struct ap_conf *c, struct ap_store *store, char *err,
                                  size_t errlen);
/*
 * Is key the one store's secrets are sealed with? Records a check of it in
 * a database that has none. AP_ECONFLICT with one line in err saying which
 * key to use when not (src/cli/key_check.c). store and key are borrowed.
 */
enum ap_err ap_key_check(struct ap_store *store, const struct ap_crypto_key *key, const char *path,
                         char *err, size_t errlen);
struct ap_titan *ap_open_titan(const struct ap_conf *c, char *err, size_t errlen);
/* Fills f from settings (borrowing store, titan, key and the conf's strings). */
void ap_fms_from_conf(struct ap_fms *f, const struct ap_conf *c, struct ap_store *store,
                      struct ap_titan *titan, const struct ap_crypto_key *key);

/*
 * Value of a command's own flag "--name VALUE" or "--name=VALUE" at argv[*i]
 * (moving *i past VALUE); NULL when argv[*i] is not that flag, or when VALUE
 * is missing (then *missing is set).
 */
const char *ap_cli_flag_value(int argc, char **argv, int *i, const char *name, bool *missing);

/* Commands. */
int ap_cmd_serve(int argc, char **argv);
int ap_cmd_migrate(int argc, char **argv);
int ap_cmd_config(int argc, char **argv);
int ap_cmd_account(int argc, char **argv);          /* account create NAME */
int ap_cmd_user(int argc, char **argv);             /* user add | reset-password */
int ap_cmd_fms(int argc, char **argv);              /* fms tenant | connect | status | ... */
int ap_cmd_import_v1(int argc, char **argv);        /* import-v1 FILE */
int ap_cmd_migration_status(int argc, char **argv); /* migration-status */
int ap_cmd_booking(int argc, char **argv);          /* booking list | show | retry | ... */
int ap_cmd_catalog(int argc, char **argv);          /* catalog refresh | show */
int ap_cmd_scheduler(int argc, char **argv);        /* scheduler create | update | show | ... */
int ap_cmd_db(int argc, char **argv);               /* db copy --from WHERE --to WHERE */

#endif

/*
 * cmd_user.c — `appointd user add EMAIL --account NAME --role ROLE
 * [--operator] [--password-stdin] [--json]`, `appointd user reset-password
 * EMAIL [--password-stdin] [--json]` and `appointd user grant-operator|
 * revoke-operator EMAIL [--json]`.
 *
 * An operator (appointd's own staff, see app.h) may open the dashboard's
 * operator page; only this command grants or revokes it.
 *
 * The password comes from stdin (one line; a trailing newline is dropped) or,
 * without --password-stdin, is generated (144 random bits) and printed once.
 *
 * --account, --role, --operator and --password-stdin belong to this command only, so
 * they are taken out of argv here before the rest goes to ap_cli_open():
 * putting them in the global settings table would also make them env vars
 * and config-file keys (APPOINTD_ROLE=owner in a config file would be a
 * trap) and list them under every command's help.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cli/cli.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "json/json.h"

struct user_flags {
    const char *account;
    const char *role;
    bool password_stdin;
    bool operator;
};

static int usage(void)
{
    fprintf(stderr, "usage: appointd user add EMAIL --account NAME --role owner|admin|staff "
                    "[--operator] [--password-stdin] [--json]\n"
                    "       appointd user reset-password EMAIL [--password-stdin] [--json]\n"
                    "       appointd user grant-operator|revoke-operator EMAIL [--json]\n");
    return AP_EXIT_USAGE;
}

/* Takes this command's own flags out of argv; returns the new argc, or -1 on a usage error. */
static int take_flags(int argc, char **argv, struct user_flags *f)
{
    int out = 0;
    bool missing = false;
    const char *v;
    for (int i = 0; i < argc; i++) {
        if ((v = ap_cli_flag_value(argc, argv, &i, "--account", &missing)))
            f->account = v;
        else if ((v = ap_cli_flag_value(argc, argv, &i, "--role", &missing)))
            f->role = v;
        else if (strcmp(argv[i], "--password-stdin") == 0)
            f->password_stdin = true;
        else if (strcmp(argv[i], "--operator") == 0)
            f->operator= true;
        else
            argv[out++] = argv[i];
        if (missing) {
            fprintf(stderr, "appointd: %s needs a value\n", argv[i]);
            return -1;
        }
    }
    return out;
}

/* Reads one password line from stdin into a new string (caller wipes and frees). */
static char *read_password(char *err, size_t errlen)
{
    size_t cap = AP_CRYPTO_PASSWORD_MAX + 3, n = 0;
    char *pw = ap_xmalloc(cap);
    int c;
    while (n < cap - 1 && (c = getchar()) != EOF && c != '\n')
        pw[n++] = (char)c;
    pw[n] = '\0';
    if (n > 0 && pw[n - 1] == '\r')
        pw[--n] = '\0';
    if (n > AP_CRYPTO_PASSWORD_MAX) {
        snprintf(err, errlen, "the password on stdin is longer than %d bytes",
                 AP_CRYPTO_PASSWORD_MAX);
        ap_crypto_wipe(pw, cap);
        free(pw);
        return NULL;
    }
    return pw;
}

static char *get_password(bool from_stdin, bool *generated, char *err, size_t errlen)
{
    *generated = !from_stdin;
    if (from_stdin)
        return read_password(err, errlen);
    return ap_crypto_token(18);
}

static void free_password(char *pw)
{
    if (pw)
        ap_crypto_wipe(pw, strlen(pw));
    free(pw);
}

/* Prints the outcome; a generated password exactly once. */
static void print_result(const struct ap_cli *cli, const char *what, const struct ap_user *u,
                         const char *account, const char *pw)
{
    if (cli->json) {
        json_t *j = json_pack("{s:s, s:s}", "result", what, "email", u->email);
        if (u->id) {
            json_object_set_new(j, "id", json_integer(u->id));
            json_object_set_new(j, "role", json_string(ap_role_name(u->role)));
            json_object_set_new(j, "accountId", json_integer(u->account_id));
            json_object_set_new(j, "account", json_string(account));
            json_object_set_new(j, "operator", json_boolean(u->operator));
        }
        if (pw)
            json_object_set_new(j, "password", json_string(pw));
        char *s = ap_json_dumps(j);
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        if (u->id)
            printf("added user %s (%s%s) to account \"%s\", id %lld\n", u->email,
                   ap_role_name(u->role), u->operator? ", operator" : "", account,
                   (long long)u->id);
        else
            printf("password changed for %s; their sessions were signed out\n", u->email);
        if (pw)
            printf("password: %s\nthis password will not be shown again; keep it somewhere safe\n",
                   pw);
    }
}

static int user_add(struct ap_cli *cli, const struct user_flags *f)
{
    struct ap_account a;
    struct ap_user u;
    enum ap_role role;
    char err[300] = "";
    bool gen = false;
    char *pw = NULL;
    int code = AP_EXIT_FAILURE;
    if (!f->account || !f->role) {
        fprintf(stderr, "appointd: user add needs --account NAME and --role owner|admin|staff\n");
        return AP_EXIT_USAGE;
    }
    if (ap_role_parse(f->role, &role) != AP_OK) {
        fprintf(stderr, "appointd: unknown role '%s' (owner, admin or staff)\n", f->role);
        return AP_EXIT_USAGE;
    }
    enum ap_err rc = ap_account_find(cli->store, f->account, &a);
    if (rc == AP_ENOTFOUND)
        snprintf(err, sizeof(err),
                 "no account named \"%s\"; create it with `appointd account create`", f->account);
    else if (rc)
        snprintf(err, sizeof(err), "could not read accounts (%s)", ap_err_str(rc));
    if (!rc && (pw = get_password(f->password_stdin, &gen, err, sizeof(err))) != NULL)
        rc = ap_user_add(cli->store, a.id, cli->pos[1], role, pw, &u, err, sizeof(err));
    if (!rc && pw && f->operator)
        rc = ap_user_set_operator(cli->store, u.email, true, err, sizeof(err));
    u.operator= f->operator;
    if (!rc && pw) {
        print_result(cli, "added", &u, a.name, gen ? pw : NULL);
        code = 0;
    } else {
        fprintf(stderr, "appointd: %s\n", err);
    }
    free_password(pw);
    return code;
}

static int user_reset(struct ap_cli *cli, const struct user_flags *f)
{
    char err[300] = "";
    bool gen = false;
    struct ap_user u = {0};
    if (f->account || f->role || f->operator) {
        fprintf(stderr, "appointd: user reset-password takes no --account, --role or --operator\n");
        return AP_EXIT_USAGE;
    }
    char *pw = get_password(f->password_stdin, &gen, err, sizeof(err));
    enum ap_err rc =
        pw ? ap_user_set_password(cli->store, cli->pos[1], pw, err, sizeof(err)) : AP_EINVAL;
    if (rc) {
        fprintf(stderr, "appointd: %s\n", err);
        free_password(pw);
        return AP_EXIT_FAILURE;
    }
    snprintf(u.email, sizeof(u.email), "%s", cli->pos[1]);
    for (char *p = u.email; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    print_result(cli, "password_reset", &u, NULL, gen ? pw : NULL);
    free_password(pw);
    return 0;
}

/* grant-operator / revoke-operator EMAIL. */
static int user_operator(struct ap_cli *cli, const struct user_flags *f, bool on)
{
    char err[300] = "", norm[256];
    if (f->account || f->role || f->operator|| f->password_stdin) {
        fprintf(stderr, "appointd: user %s takes only EMAIL\n", cli->pos[0]);
        return AP_EXIT_USAGE;
    }
    if (ap_user_set_operator(cli->store, cli->pos[1], on, err, sizeof(err)) != AP_OK) {
        fprintf(stderr, "appointd: %s\n", err);
        return AP_EXIT_FAILURE;
    }
    snprintf(norm, sizeof(norm), "%s", cli->pos[1]);
    for (char *p = norm; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    if (cli->json) {
        json_t *j =
            json_pack("{s:s, s:s, s:b}", "result", on ? "operator_granted" : "operator_revoked",
                      "email", norm, "operator", on);
        char *s = ap_json_dumps(j);
        printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        printf("%s %s an operator (the dashboard's operator page)\n", norm,
               on ? "is now" : "is no longer");
    }
    return 0;
}

int ap_cmd_user(int argc, char **argv)
{
    struct user_flags f = {0};
    struct ap_cli cli;
    if ((argc = take_flags(argc, argv, &f)) < 0)
        return usage();
    int code = ap_cli_open(&cli, argc, argv, AP_CLI_STORE);
    if (code)
        return code;
    if (ap_crypto_init() != AP_OK) {
        fprintf(stderr, "appointd: libsodium failed to initialise\n");
        code = AP_EXIT_FAILURE;
    } else if (cli.npos == 2 && strcmp(cli.pos[0], "add") == 0) {
        code = user_add(&cli, &f);
    } else if (cli.npos == 2 && strcmp(cli.pos[0], "reset-password") == 0) {
        code = user_reset(&cli, &f);
    } else if (cli.npos == 2 && (strcmp(cli.pos[0], "grant-operator") == 0 ||
                                 strcmp(cli.pos[0], "revoke-operator") == 0)) {
        code = user_operator(&cli, &f, cli.pos[0][0] == 'g');
    } else {
        code = usage();
    }
    ap_cli_close(&cli);
    return code;
}

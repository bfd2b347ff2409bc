/*
 * config.h — one table of option descriptors drives everything about a
 * setting: its env var, its config-file key, its --flag, its default, its
 * validation and how `appointd config` prints it.
 *
 * A program declares a static array of struct ap_conf_opt. For the option
 * named "data-dir" with prefix "APPOINTD_":
 *   flag  --data-dir VALUE  or  --data-dir=VALUE   (bool: --name, --no-name)
 *   env   APPOINTD_DATA_DIR
 *   file  data-dir = VALUE          (in the file named by the "config" option)
 * Precedence, lowest first: default < file < env < flag.
 */
#ifndef AP_CORE_CONFIG_H
#define AP_CORE_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

enum ap_conf_type {
    AP_CONF_STR,  /* any text */
    AP_CONF_INT,  /* decimal integer within [min, max]; min == max == 0: no limit */
    AP_CONF_BOOL, /* true/false/yes/no/on/off/1/0 */
    AP_CONF_ADDR, /* HOST:PORT, [IPv6]:PORT; port 0..65535 */
    AP_CONF_ENUM, /* one of choices, "a|b|c" */
    AP_CONF_SIZE, /* bytes, with optional k/m/g suffix (1024-based) within [min, max] */
};

enum ap_conf_flag {
    AP_CONF_SECRET = 1 << 0,     /* never printed; `config` shows "(set)" or "(unset)" */
    AP_CONF_URL_SECRET = 1 << 1, /* a URL that may hold a password: printed with the password
                                    masked (ap_conf_redact_url), never echoed in errors */
};

struct ap_conf_opt {
    const char *name; /* lowercase-with-dashes */
    enum ap_conf_type type;
    const char *def; /* default as text; NULL means unset */
    const char *help;
    int64_t min, max;    /* AP_CONF_INT and AP_CONF_SIZE; both 0 means no limit */
    const char *choices; /* AP_CONF_ENUM */
    unsigned flags;
};

enum ap_conf_src { AP_CONF_SRC_DEFAULT, AP_CONF_SRC_FILE, AP_CONF_SRC_ENV, AP_CONF_SRC_FLAG };

struct ap_conf;

/*
 * A config over opts (borrowed: must outlive it). The option named "config"
 * (if the table has one) names the config file. Returns a new config holding
 * only defaults; free with ap_conf_free(). A malformed table (bad or duplicate
 * name, invalid default, enum without choices) is a bug: aborts.
 * Values never hold control characters other than tab, nor exceed 4096 bytes.
 */
struct ap_conf *ap_conf_new(const struct ap_conf_opt *opts, size_t nopts, const char *env_prefix);
void ap_conf_free(struct ap_conf *c);

/*
 * Applies file, environment (envp, NULL-terminated "K=V" strings; may be
 * NULL) and flags from argv[0..argc) (argv[0] is NOT skipped: pass the
 * arguments after the program/subcommand). Arguments that are not flags
 * (including "-") are positional: their pointers (into argv) are stored in
 * order into positional (up to max_positional, more is an error) and counted
 * in *npositional (0 on error). "--" ends flags. A flag that takes a value
 * takes the next argument when not written --name=VALUE; bool flags never
 * take the next argument.
 * The config file is the "config" value from a flag, else from the env, else
 * the value held so far; a missing file is an error unless that path is the
 * table's default. File lines are "key = value" ('#' starts a comment at the
 * start of a line or after a blank; a value may be in double quotes with \"
 * and \\ escapes); the file cannot set "config". Variables with the prefix
 * that name no option are logged as a warning (config.unknown_env).
 * On error returns AP_EINVAL (or AP_EIO for an unreadable file) and writes one
 * line into err naming the setting and its source, e.g.
 *   "bad value for listen (from APPOINTD_LISTEN): expected HOST:PORT, got 'x'"
 *   "bad value for threads (from --threads): expected an integer from 1 to 64, got '0'"
 *   "bad value for threads (from config file /etc/a.conf line 2): ..."
 *   "unknown flag --lisen (see --help)"
 *   "config file /etc/a.conf line 3: unknown key 'lisen'"
 *   "cannot read config file /etc/a.conf: No such file or directory"
 * The value of a SECRET option is never echoed in err.
 * Nothing is partly applied: on error the config holds what it held before.
 */
enum ap_err ap_conf_load(struct ap_conf *c, int argc, char **argv, char **envp, char **positional,
                         size_t max_positional, size_t *npositional, char *err, size_t errlen);

/*
 * Sets one option from text with validation; src says where it came from
 * (messages say "(from config file)", "(from APPOINTD_X)", "(from --x)" or
 * "(default)"). value NULL unsets the option. Unknown name: AP_EINVAL.
 */
enum ap_err ap_conf_set(struct ap_conf *c, const char *name, const char *value,
                        enum ap_conf_src src, char *err, size_t errlen);

/*
 * Typed reads. Asking for an unknown name or the wrong type is a bug (abort).
 * ap_conf_str reads STR, ADDR and ENUM (the table's spelling of the choice);
 * the returned pointer is owned by c and valid until the option next changes.
 * Unset INT/SIZE read 0 and unset BOOL false.
 */
const char *ap_conf_str(const struct ap_conf *c, const char *name); /* NULL when unset */
int64_t ap_conf_int(const struct ap_conf *c, const char *name);     /* INT and SIZE */
bool ap_conf_bool(const struct ap_conf *c, const char *name);
enum ap_conf_src ap_conf_source(const struct ap_conf *c, const char *name);

/*
 * Splits an AP_CONF_ADDR value into host (without brackets) and port.
 * host must have room for hostlen bytes. AP_EINVAL when addr is not a valid
 * address, AP_ETOOBIG when the host does not fit.
 */
enum ap_err ap_conf_split_addr(const char *addr, char *host, size_t hostlen, int *port);

/*
 * Appends the effective config, one "name = value  # source" line per option
 * in table order, source being "default", "file", "env APPOINTD_X" or "flag".
 * Secrets print as "(set)"/"(unset)", other unset options as "(unset)";
 * values a config file would misread are double-quoted.
 */
enum ap_err ap_conf_print(const struct ap_conf *c, struct ap_buf *out);

/*
 * Writes url into out (n bytes) with its password masked: the password of
 * "scheme://user:password@host/..." and the value of any query parameter
 * named "password" or "...password" (sslpassword) become "***". Anything
 * that is not such a URL is copied as it is. Returns out.
 */
char *ap_conf_redact_url(const char *url, char *out, size_t n);

/*
 * Appends aligned "  --name VALUE  help (env APPOINTD_NAME; default D)" lines;
 * VALUE is N, SIZE, HOST:PORT, the choices or VALUE by type, bools show as
 * --[no-]name. Secrets never show a default.
 */
enum ap_err ap_conf_usage(const struct ap_conf *c, struct ap_buf *out);

/*
 * Prints a program's usage to `to`: head (printf-free text), then the flags
 * of the options table opts[0..n) as ap_conf_usage() writes them for the env
 * prefix. Returns code, so a main can `return ap_conf_print_usage(...)`.
 */
int ap_conf_print_usage(FILE *to, const struct ap_conf_opt *opts, size_t n, const char *env_prefix,
                        const char *head, int code);

#endif

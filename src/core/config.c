/*
 * config.c — the option table at work: defaults, the config file, the
 * environment and flags are parsed and validated into one struct ap_conf,
 * which can be printed (secrets redacted) and described for --help.
 *
 * ap_conf_load() builds every change into a scratch copy of the values and
 * swaps it in only when all sources parsed, so a bad setting never leaves the
 * config half-applied. Error texts name the option and where its value came
 * from, and never echo the value of a secret.
 */
#include "core/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"

#define CONF_VALUE_MAX 4096      /* longest value of any option, in bytes */
#define CONF_FILE_MAX  (1 << 20) /* largest config file read */
#define CONF_NAME_MAX  64        /* longest option name */
#define CONF_WHERE_MAX 320       /* "config file PATH line N" and friends */
#define CONF_HOST_MAX  256       /* host part of an address, with its NUL */

struct conf_val {
    char *text;  /* owned; NULL when unset */
    int64_t num; /* INT, SIZE: the number; BOOL: 0 or 1 */
    enum ap_conf_src src;
};

struct ap_conf {
    const struct ap_conf_opt *opts; /* borrowed */
    size_t nopts;
    char *prefix;
    struct conf_val *vals; /* nopts entries */
};

/* A flag seen on the command line, applied after the file and env. */
struct conf_flag {
    size_t opt;
    const char *value;
    const char *arg; /* as written, e.g. "--no-verbose" or "--threads=3" */
    size_t arglen;   /* of the flag name in arg, without "=value" */
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("appointd: bug: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static void msgf(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void msgf(char *msg, size_t msglen, const char *fmt, ...)
{
    if (!msg || !msglen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
}

static int find_opt(const struct ap_conf *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->nopts; i++) {
        if (strncmp(c->opts[i].name, name, len) == 0 && c->opts[i].name[len] == '\0')
            return (int)i;
    }
    return -1;
}

/* APPOINTD_ + "data-dir" -> APPOINTD_DATA_DIR */
static void env_name(const struct ap_conf *c, size_t i, char *out, size_t n)
{
    snprintf(out, n, "%s%s", c->prefix, c->opts[i].name);
    size_t plen = strlen(c->prefix), len = strlen(out);
    for (char *p = out + (plen < len ? plen : len); *p; p++)
        *p = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
}

/* Quotes a user value for an error line: cut to 64 bytes, control bytes as '?'. */
static void show_value(const char *text, char *out, size_t n)
{
    size_t len = strlen(text), max = 64, o = 0;
    for (size_t i = 0; i < len && i < max && o + 1 < n; i++)
        out[o++] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i];
    out[o] = '\0';
    if (len > max && o + 4 < n)
        memcpy(out + o, "...", 4);
}

/* ---- parsing one value ---- */

static void opt_range(const struct ap_conf_opt *o, int64_t *lo, int64_t *hi)
{
    bool unlimited = o->min == 0 && o->max == 0;
    *lo = unlimited ? (o->type == AP_CONF_SIZE ? 0 : INT64_MIN) : o->min;
    *hi = unlimited ? INT64_MAX : o->max;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Decimal integer with optional sign; *end gets the first byte after it. */
static bool parse_i64(const char *s, int64_t *out, const char **end)
{
    if (!is_digit(s[0]) && !((s[0] == '-' || s[0] == '+') && is_digit(s[1])))
        return false;
    errno = 0;
    char *e;
    long long v = strtoll(s, &e, 10);
    if (errno == ERANGE)
        return false;
    *out = v;
    *end = e;
    return true;
}

static bool parse_int(const struct ap_conf_opt *o, const char *text, int64_t *num, char *exp,
                      size_t explen)
{
    int64_t lo, hi, v;
    const char *end;
    opt_range(o, &lo, &hi);
    if (o->min == 0 && o->max == 0)
        snprintf(exp, explen, "an integer");
    else
        snprintf(exp, explen, "an integer from %lld to %lld", (long long)lo, (long long)hi);
    if (!parse_i64(text, &v, &end) || *end || v < lo || v > hi)
        return false;
    *num = v;
    return true;
}

/* "512", "4k", "2M", "1g", "3kb" (1024-based). */
static bool parse_size(const struct ap_conf_opt *o, const char *text, int64_t *num, char *exp,
                       size_t explen)
{
    int64_t lo, hi, v, mul = 1;
    const char *end;
    opt_range(o, &lo, &hi);
    snprintf(exp, explen, "a size in bytes (suffix k, m or g allowed) from %lld to %lld",
             (long long)lo, (long long)hi);
    if (!is_digit(text[0]) || !parse_i64(text, &v, &end))
        return false;
    static const char units[] = "kmg";
    const char *unit = *end ? strchr(units, *end | 0x20) : NULL;
    if (unit) {
        mul = 1LL << (10 * (unit - units + 1));
        end++;
    }
    if (mul > 1 && (*end == 'b' || *end == 'B'))
        end++;
    if (*end || v > INT64_MAX / mul)
        return false;
    v *= mul;
    if (v < lo || v > hi)
        return false;
    *num = v;
    return true;
}

static bool parse_bool(const char *text, int64_t *num)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
            *num = strcasecmp(text, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

/* Case-insensitive match against "a|b|c"; *canon gets the table's spelling. */
static bool parse_enum(const struct ap_conf_opt *o, const char *text, char **canon)
{
    size_t len = strlen(text);
    for (const char *p = o->choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && n > 0 && strncasecmp(p, text, n) == 0) {
            *canon = ap_xstrndup(p, n);
            return true;
        }
        p = bar ? bar + 1 : p + n;
    }
    return false;
}

/* A DNS name, or a dotted IPv4 address when it is all digits and dots. */
static bool host_ok(const char *h, size_t len)
{
    bool only_digits_dots = true;
    if (len == 0 || len > 253 || h[0] == '.' || h[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = h[i];
        bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        if (!alpha && !is_digit(ch) && ch != '.' && ch != '-' && ch != '_')
            return false;
        if (!is_digit(ch) && ch != '.')
            only_digits_dots = false;
    }
    if (only_digits_dots) {
        char v4[INET_ADDRSTRLEN];
        struct in_addr a;
        if (len >= sizeof(v4))
            return false;
        memcpy(v4, h, len);
        v4[len] = '\0';
        return inet_pton(AF_INET, v4, &a) == 1;
    }
    return true;
}

static bool ipv6_ok(const char *h, size_t len)
{
    char v6[INET6_ADDRSTRLEN];
    struct in6_addr a;
    if (len == 0 || len >= sizeof(v6))
        return false;
    memcpy(v6, h, len);
    v6[len] = '\0';
    return inet_pton(AF_INET6, v6, &a) == 1;
}

enum addr_result { ADDR_OK, ADDR_MALFORMED, ADDR_BAD_PORT, ADDR_HOST_TOO_LONG };

static enum addr_result parse_addr(const char *addr, char *host, size_t hostlen, int *port)
{
    const char *h = addr, *colon;
    size_t hlen;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return ADDR_MALFORMED;
        h = addr + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
        if (!ipv6_ok(h, hlen))
            return ADDR_MALFORMED;
    } else {
        colon = strchr(addr, ':');
        if (!colon || strchr(colon + 1, ':'))
            return ADDR_MALFORMED;
        hlen = (size_t)(colon - addr);
        if (!host_ok(addr, hlen))
            return ADDR_MALFORMED;
    }
    const char *p = colon + 1;
    size_t ndigits = strspn(p, "0123456789");
    if (ndigits == 0 || p[ndigits] != '\0')
        return ADDR_MALFORMED;
    long port_n = ndigits > 5 ? 99999 : strtol(p, NULL, 10);
    if (port_n > 65535)
        return ADDR_BAD_PORT;
    if (hlen >= hostlen)
        return ADDR_HOST_TOO_LONG;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)port_n;
    return ADDR_OK;
}

enum ap_err ap_conf_split_addr(const char *addr, char *host, size_t hostlen, int *port)
{
    switch (parse_addr(addr, host, hostlen, port)) {
    case ADDR_OK:
        return AP_OK;
    case ADDR_HOST_TOO_LONG:
        return AP_ETOOBIG;
    default:
        return AP_EINVAL;
    }
}

/*
 * Checks text against o. On success *num and *canon (malloc'd text to store)
 * are set; on failure exp says what was expected.
 */
static bool parse_value(const struct ap_conf_opt *o, const char *text, int64_t *num, char **canon,
                        char *exp, size_t explen)
{
    char host[CONF_HOST_MAX];
    int port;
    bool ok = false;
    *num = 0;
    *canon = NULL;
    if (strlen(text) > CONF_VALUE_MAX) {
        snprintf(exp, explen, "at most %d bytes", CONF_VALUE_MAX);
        return false;
    }
    for (const char *p = text; *p; p++) {
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
            snprintf(exp, explen, "text without control characters");
            return false;
        }
    }
    switch (o->type) {
    case AP_CONF_STR:
        ok = true;
        break;
    case AP_CONF_INT:
        ok = parse_int(o, text, num, exp, explen);
        break;
    case AP_CONF_SIZE:
        ok = parse_size(o, text, num, exp, explen);
        break;
    case AP_CONF_BOOL:
        snprintf(exp, explen, "true/false/yes/no/on/off/1/0");
        if ((ok = parse_bool(text, num)))
            *canon = ap_xstrdup(*num ? "true" : "false");
        break;
    case AP_CONF_ENUM:
        snprintf(exp, explen, "one of %s", o->choices ? o->choices : "");
        ok = parse_enum(o, text, canon);
        break;
    case AP_CONF_ADDR: {
        enum addr_result r = parse_addr(text, host, sizeof(host), &port);
        snprintf(exp, explen,
                 r == ADDR_BAD_PORT ? "HOST:PORT with a port from 0 to 65535" : "HOST:PORT");
        ok = r == ADDR_OK;
        break;
    }
    }
    if (ok && !*canon)
        *canon = ap_xstrdup(text);
    return ok;
}

/*
 * Validates text for option i and stores it into vals[i]. where names the
 * source for messages ("APPOINTD_X", "--x", "config file F line N"); NULL
 * means the default. text NULL unsets the option.
 */
static enum ap_err set_val(const struct ap_conf *c, struct conf_val *vals, size_t i,
                           const char *text, enum ap_conf_src src, const char *where, char *msg,
                           size_t msglen)
{
    const struct ap_conf_opt *o = &c->opts[i];
    char exp[160], shown[80], from[CONF_WHERE_MAX + 16];
    int64_t num = 0;
    char *canon = NULL;
    if (text && !parse_value(o, text, &num, &canon, exp, sizeof(exp))) {
        if (where)
            snprintf(from, sizeof(from), "(from %s)", where);
        else
            snprintf(from, sizeof(from), "(default)");
        if (o->flags & (AP_CONF_SECRET | AP_CONF_URL_SECRET)) {
            msgf(msg, msglen, "bad value for %s %s: expected %s", o->name, from, exp);
        } else {
            show_value(text, shown, sizeof(shown));
            msgf(msg, msglen, "bad value for %s %s: expected %s, got '%s'", o->name, from, exp,
                 shown);
        }
        return AP_EINVAL;
    }
    free(vals[i].text);
    vals[i].text = canon;
    vals[i].num = num;
    vals[i].src = src;
    return AP_OK;
}

/* ---- construction ---- */

static void check_decl(const struct ap_conf *c, size_t i)
{
    const struct ap_conf_opt *o = &c->opts[i];
    size_t len = o->name ? strlen(o->name) : 0;
    if (len == 0 || len > CONF_NAME_MAX ||
        strspn(o->name, "abcdefghijklmnopqrstuvwxyz0123456789-") != len)
        die("config option %zu has a bad name '%s'", i, o->name ? o->name : "(null)");
    if (find_opt(c, o->name, len) != (int)i)
        die("config option '%s' is declared twice", o->name);
    if (o->type == AP_CONF_ENUM && (!o->choices || !*o->choices))
        die("config option '%s' is an enum without choices", o->name);
    if (o->min > o->max)
        die("config option '%s' has min > max", o->name);
}

struct ap_conf *ap_conf_new(const struct ap_conf_opt *opts, size_t nopts, const char *env_prefix)
{
    struct ap_conf *c = ap_xcalloc(1, sizeof(*c));
    char msg[512];
    c->opts = opts;
    c->nopts = nopts;
    c->prefix = ap_xstrdup(env_prefix ? env_prefix : "");
    c->vals = ap_xcalloc(nopts ? nopts : 1, sizeof(*c->vals));
    for (size_t i = 0; i < nopts; i++) {
        check_decl(c, i);
        if (opts[i].def &&
            set_val(c, c->vals, i, opts[i].def, AP_CONF_SRC_DEFAULT, NULL, msg, sizeof(msg)))
            die("%s", msg);
    }
    return c;
}

static void vals_free(struct conf_val *vals, size_t n)
{
    if (!vals)
        return;
    for (size_t i = 0; i < n; i++)
        free(vals[i].text);
    free(vals);
}

static struct conf_val *vals_dup(const struct ap_conf *c)
{
    struct conf_val *v = ap_xcalloc(c->nopts ? c->nopts : 1, sizeof(*v));
    for (size_t i = 0; i < c->nopts; i++) {
        v[i] = c->vals[i];
        v[i].text = ap_xstrdup(c->vals[i].text);
    }
    return v;
}

void ap_conf_free(struct ap_conf *c)
{
    if (!c)
        return;
    vals_free(c->vals, c->nopts);
    free(c->prefix);
    free(c);
}

/* ---- the command line ---- */

static enum ap_err scan_flag(const struct ap_conf *c, int argc, char **argv, int *i,
                             struct conf_flag *f, char *msg, size_t msglen)
{
    const char *a = argv[*i], *name = a + 2, *eq = a[1] == '-' ? strchr(name, '=') : NULL;
    size_t len = eq ? (size_t)(eq - name) : strlen(a + 1) - 1;
    int k = a[1] == '-' ? find_opt(c, name, len) : -1;
    bool neg = false;
    if (k < 0 && a[1] == '-' && len > 3 && strncmp(name, "no-", 3) == 0) {
        k = find_opt(c, name + 3, len - 3);
        neg = k >= 0 && c->opts[k].type == AP_CONF_BOOL;
        k = neg ? k : -1;
    }
    f->arg = a;
    f->arglen = eq ? (size_t)(eq - a) : strlen(a);
    if (k < 0) {
        msgf(msg, msglen, "unknown flag %.*s (see --help)", (int)(f->arglen > 80 ? 80 : f->arglen),
             a);
        return AP_EINVAL;
    }
    f->opt = (size_t)k;
    if (neg && eq) {
        msgf(msg, msglen, "flag %.*s takes no value", (int)f->arglen, a);
        return AP_EINVAL;
    }
    if (neg || eq) {
        f->value = neg ? "false" : eq + 1;
        return AP_OK;
    }
    if (c->opts[k].type == AP_CONF_BOOL) {
        f->value = "true";
        return AP_OK;
    }
    if (*i + 1 >= argc) {
        msgf(msg, msglen, "flag %.80s needs a value", a);
        return AP_EINVAL;
    }
    f->value = argv[++*i];
    return AP_OK;
}

/* Sorts argv into flags (checked for names, not yet applied) and positionals. */
static enum ap_err scan_args(const struct ap_conf *c, int argc, char **argv,
                             struct conf_flag *flags, size_t *nflags, char **positional,
                             size_t max_positional, size_t *npos, char *msg, size_t msglen)
{
    char shown[80];
    bool only_positional = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!only_positional && strcmp(a, "--") == 0) {
            only_positional = true;
        } else if (!only_positional && a[0] == '-' && a[1] != '\0') {
            enum ap_err err = scan_flag(c, argc, argv, &i, &flags[*nflags], msg, msglen);
            if (err)
                return err;
            (*nflags)++;
        } else if (*npos < max_positional && positional) {
            positional[(*npos)++] = argv[i];
        } else {
            show_value(a, shown, sizeof(shown));
            msgf(msg, msglen, "unexpected argument '%s'", shown);
            return AP_EINVAL;
        }
    }
    return AP_OK;
}

static enum ap_err apply_flags(const struct ap_conf *c, struct conf_val *vals,
                               const struct conf_flag *flags, size_t nflags, char *msg,
                               size_t msglen)
{
    char where[CONF_NAME_MAX + 8];
    for (size_t i = 0; i < nflags; i++) {
        snprintf(where, sizeof(where), "%.*s", (int)flags[i].arglen, flags[i].arg);
        enum ap_err err =
            set_val(c, vals, flags[i].opt, flags[i].value, AP_CONF_SRC_FLAG, where, msg, msglen);
        if (err)
            return err;
    }
    return AP_OK;
}

/* ---- the environment ---- */

static const char *env_get(const struct ap_conf *c, char **envp, size_t i)
{
    char name[CONF_NAME_MAX + 128];
    env_name(c, i, name, sizeof(name));
    size_t len = strlen(name);
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    }
    return NULL;
}

/* A variable with our prefix that names no option is most likely a typo. */
static void warn_unknown_env(const struct ap_conf *c, char **envp)
{
    size_t plen = strlen(c->prefix);
    char name[CONF_NAME_MAX + 128], quoted[CONF_NAME_MAX + 140];
    for (char **e = envp; plen && e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strncmp(*e, c->prefix, plen) != 0)
            continue;
        bool known = false;
        for (size_t i = 0; i < c->nopts && !known; i++) {
            env_name(c, i, name, sizeof(name));
            known = strlen(name) == (size_t)(eq - *e) && strncmp(name, *e, strlen(name)) == 0;
        }
        if (!known) {
            snprintf(name, sizeof(name), "%.*s", (int)(eq - *e), *e);
            ap_log_warn("config.unknown_env", "name=%s",
                        ap_log_quote(name, quoted, sizeof(quoted)));
        }
    }
}

static enum ap_err apply_env(const struct ap_conf *c, struct conf_val *vals, char **envp, char *msg,
                             size_t msglen)
{
    char name[CONF_NAME_MAX + 128];
    warn_unknown_env(c, envp);
    for (size_t i = 0; i < c->nopts; i++) {
        const char *v = env_get(c, envp, i);
        if (!v)
            continue;
        env_name(c, i, name, sizeof(name));
        enum ap_err err = set_val(c, vals, i, v, AP_CONF_SRC_ENV, name, msg, msglen);
        if (err)
            return err;
    }
    return AP_OK;
}

/* ---- the config file ---- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/*
 * Unquotes "..." in place (\" and \\ escapes) or cuts an unquoted value at
 * " #". Returns NULL with *why set when the value is malformed.
 */
static char *file_value(char *v, const char **why)
{
    if (*v != '"') {
        for (char *p = v; *p; p++) {
            if (*p == '#' && p > v && (p[-1] == ' ' || p[-1] == '\t')) {
                *p = '\0';
                break;
            }
        }
        return trim(v);
    }
    char *o = v, *p = v + 1;
    for (; *p && *p != '"'; p++)
        *o++ = (*p == '\\' && (p[1] == '"' || p[1] == '\\')) ? *++p : *p;
    if (*p != '"') {
        *why = "unterminated quote";
        return NULL;
    }
    *o = '\0';
    char *rest = trim(p + 1);
    if (*rest && *rest != '#') {
        *why = "text after the closing quote";
        return NULL;
    }
    return v;
}

static enum ap_err file_line(const struct ap_conf *c, struct conf_val *vals, const char *path,
                             int lineno, char *line, char *msg, size_t msglen)
{
    char where[CONF_WHERE_MAX], shown[80];
    const char *why = "expected 'key = value'";
    char *s = trim(line), *eq = strchr(s, '='), *val = NULL;
    if (*s == '\0' || *s == '#')
        return AP_OK;
    if (eq) {
        *eq = '\0';
        val = file_value(trim(eq + 1), &why);
    }
    char *key = trim(s);
    if (!eq || !*key || !val) {
        msgf(msg, msglen, "config file %s line %d: %s", path, lineno, why);
        return AP_EINVAL;
    }
    int k = find_opt(c, key, strlen(key));
    if (k < 0) {
        show_value(key, shown, sizeof(shown));
        msgf(msg, msglen, "config file %s line %d: unknown key '%s'", path, lineno, shown);
        return AP_EINVAL;
    }
    if (strcmp(key, "config") == 0) {
        msgf(msg, msglen, "config file %s line %d: 'config' cannot be set in a config file", path,
             lineno);
        return AP_EINVAL;
    }
    snprintf(where, sizeof(where), "config file %s line %d", path, lineno);
    return set_val(c, vals, (size_t)k, val, AP_CONF_SRC_FILE, where, msg, msglen);
}

/* Reads path whole into a malloc'd NUL-terminated string. */
static enum ap_err read_file(const char *path, bool missing_ok, char **out, char *msg,
                             size_t msglen)
{
    enum ap_err err = AP_OK;
    char *data = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (missing_ok && errno == ENOENT)
            return AP_OK;
        goto out_io;
    }
    data = ap_xmalloc(CONF_FILE_MAX + 2);
    len = fread(data, 1, CONF_FILE_MAX + 1, f);
    if (ferror(f))
        goto out_io;
    if (len > CONF_FILE_MAX || memchr(data, '\0', len)) {
        msgf(msg, msglen, "config file %s: %s", path,
             len > CONF_FILE_MAX ? "larger than 1 MiB" : "contains a NUL byte");
        err = AP_EINVAL;
        goto out;
    }
    data[len] = '\0';
    *out = data;
    data = NULL;
    goto out;
out_io:
    msgf(msg, msglen, "cannot read config file %s: %s", path, strerror(errno));
    err = AP_EIO;
out:
    free(data);
    if (f)
        fclose(f);
    return err;
}

/* The file named by "config": from a flag, else the env, else its value so far. */
static enum ap_err apply_file(const struct ap_conf *c, struct conf_val *vals,
                              const struct conf_flag *flags, size_t nflags, char **envp, char *msg,
                              size_t msglen)
{
    int k = find_opt(c, "config", 6);
    const char *path = NULL;
    char *data = NULL;
    if (k < 0)
        return AP_OK;
    for (size_t i = 0; i < nflags; i++)
        path = flags[i].opt == (size_t)k ? flags[i].value : path;
    if (!path)
        path = env_get(c, envp, (size_t)k);
    bool missing_ok = !path && vals[k].src == AP_CONF_SRC_DEFAULT;
    if (!path)
        path = vals[k].text;
    if (!path || !*path)
        return AP_OK;
    enum ap_err err = read_file(path, missing_ok, &data, msg, msglen);
    int lineno = 0;
    for (char *line = data; !err && line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        err = file_line(c, vals, path, ++lineno, line, msg, msglen);
        line = nl ? nl + 1 : NULL;
    }
    free(data);
    return err;
}

enum ap_err ap_conf_load(struct ap_conf *c, int argc, char **argv, char **envp, char **positional,
                         size_t max_positional, size_t *npositional, char *msg, size_t msglen)
{
    enum ap_err err;
    size_t nflags = 0, npos = 0;
    struct conf_flag *flags = ap_xcalloc(argc > 0 ? (size_t)argc : 1, sizeof(*flags));
    struct conf_val *scratch = vals_dup(c);
    err = scan_args(c, argc, argv, flags, &nflags, positional, max_positional, &npos, msg, msglen);
    if (err)
        goto out;
    err = apply_file(c, scratch, flags, nflags, envp, msg, msglen);
    if (err)
        goto out;
    err = apply_env(c, scratch, envp, msg, msglen);
    if (err)
        goto out;
    err = apply_flags(c, scratch, flags, nflags, msg, msglen);
    if (err)
        goto out;
    vals_free(c->vals, c->nopts);
    c->vals = scratch;
    scratch = NULL;
out:
    if (npositional)
        *npositional = err ? 0 : npos;
    vals_free(scratch, c->nopts);
    free(flags);
    return err;
}

enum ap_err ap_conf_set(struct ap_conf *c, const char *name, const char *value,
                        enum ap_conf_src src, char *msg, size_t msglen)
{
    char where[CONF_NAME_MAX + 128];
    int k = find_opt(c, name, strlen(name));
    if (k < 0) {
        msgf(msg, msglen, "unknown option '%.64s'", name);
        return AP_EINVAL;
    }
    switch (src) {
    case AP_CONF_SRC_DEFAULT:
        break;
    case AP_CONF_SRC_FILE:
        snprintf(where, sizeof(where), "config file");
        break;
    case AP_CONF_SRC_ENV:
        env_name(c, (size_t)k, where, sizeof(where));
        break;
    case AP_CONF_SRC_FLAG:
        snprintf(where, sizeof(where), "--%s", name);
        break;
    }
    return set_val(c, c->vals, (size_t)k, value, src, src == AP_CONF_SRC_DEFAULT ? NULL : where,
                   msg, msglen);
}

/* ---- reading ---- */

static const struct conf_val *get(const struct ap_conf *c, const char *name, unsigned types)
{
    int k = find_opt(c, name, strlen(name));
    if (k < 0)
        die("no config option named '%s'", name);
    if (!(types & (1u << c->opts[k].type)))
        die("config option '%s' read as the wrong type", name);
    return &c->vals[k];
}

#define T(type) (1u << (type))

const char *ap_conf_str(const struct ap_conf *c, const char *name)
{
    return get(c, name, T(AP_CONF_STR) | T(AP_CONF_ADDR) | T(AP_CONF_ENUM))->text;
}

int64_t ap_conf_int(const struct ap_conf *c, const char *name)
{
    return get(c, name, T(AP_CONF_INT) | T(AP_CONF_SIZE))->num;
}

bool ap_conf_bool(const struct ap_conf *c, const char *name)
{
    return get(c, name, T(AP_CONF_BOOL))->num != 0;
}

enum ap_conf_src ap_conf_source(const struct ap_conf *c, const char *name)
{
    return get(c, name, ~0u)->src;
}

/* ---- printing ---- */

/* Appends v, in double quotes when a config file would not read it back as is. */
static enum ap_err append_value(struct ap_buf *out, const char *v)
{
    size_t len = strlen(v);
    bool quote = len == 0 || v[0] == ' ' || v[0] == '\t' || v[len - 1] == ' ' ||
                 v[len - 1] == '\t' || strpbrk(v, "\"#\\") != NULL;
    enum ap_err err = quote ? ap_buf_puts(out, "\"") : AP_OK;
    for (const char *p = v; !err && *p; p++) {
        if (quote && (*p == '"' || *p == '\\'))
            err = ap_buf_puts(out, "\\");
        if (!err)
            err = ap_buf_append(out, p, 1);
    }
    return err ? err : quote ? ap_buf_puts(out, "\"") : AP_OK;
}

/* Appends s[0, len) to out (n bytes, *at used so far), truncating. */
static void put_n(char *out, size_t n, size_t *at, const char *s, size_t len)
{
    if (*at + 1 >= n)
        return;
    if (len > n - 1 - *at)
        len = n - 1 - *at;
    memcpy(out + *at, s, len);
    *at += len;
    out[*at] = '\0';
}

/* True when the query parameter name p[0, len) holds a password. */
static bool password_param(const char *p, size_t len)
{
    return len >= 8 && strncasecmp(p + len - 8, "password", 8) == 0;
}

/* Copies the rest of a URL from its query ("?..." or "#..." or "") into
 * out, masking password parameters. */
static void redact_query(const char *q, char *out, size_t n, size_t *at)
{
    if (*q == '?') {
        put_n(out, n, at, q++, 1);
        for (;;) {
            size_t plen = strcspn(q, "&#");
            const char *eq = memchr(q, '=', plen);
            if (eq && password_param(q, (size_t)(eq - q))) {
                put_n(out, n, at, q, (size_t)(eq + 1 - q));
                put_n(out, n, at, "***", 3);
            } else {
                put_n(out, n, at, q, plen);
            }
            q += plen;
            if (*q != '&')
                break;
            put_n(out, n, at, q++, 1);
        }
    }
    put_n(out, n, at, q, strlen(q)); /* a '#' fragment, or nothing */
}

char *ap_conf_redact_url(const char *url, char *out, size_t n)
{
    size_t at = 0;
    const char *auth = strstr(url, "://");
    if (n == 0)
        return out;
    out[0] = '\0';
    if (!auth) {
        put_n(out, n, &at, url, strlen(url));
        return out;
    }
    auth += 3;
    size_t alen = strcspn(auth, "/?#");
    const char *atsign = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            atsign = p;
    const char *colon = atsign ? memchr(auth, ':', (size_t)(atsign - auth)) : NULL;
    if (colon) {
        put_n(out, n, &at, url, (size_t)(colon + 1 - url));
        put_n(out, n, &at, "***", 3);
        put_n(out, n, &at, atsign, (size_t)(auth + alen - atsign));
    } else {
        put_n(out, n, &at, url, (size_t)(auth + alen - url));
    }
    const char *rest = auth + alen;
    size_t plen = strcspn(rest, "?#");
    put_n(out, n, &at, rest, plen);
    redact_query(rest + plen, out, n, &at);
    return out;
}

enum ap_err ap_conf_print(const struct ap_conf *c, struct ap_buf *out)
{
    enum ap_err err = AP_OK;
    char env[CONF_NAME_MAX + 128];
    static const char *const srcs[] = {"default", "file", "env", "flag"};
    for (size_t i = 0; i < c->nopts && !err; i++) {
        const struct conf_val *v = &c->vals[i];
        err = ap_buf_printf(out, "%s = ", c->opts[i].name);
        if (!err && (c->opts[i].flags & AP_CONF_SECRET)) {
            err = ap_buf_puts(out, v->text ? "(set)" : "(unset)");
        } else if (!err && v->text && (c->opts[i].flags & AP_CONF_URL_SECRET)) {
            char shown[CONF_VALUE_MAX + 8];
            err = append_value(out, ap_conf_redact_url(v->text, shown, sizeof(shown)));
        } else if (!err)
            err = v->text ? append_value(out, v->text) : ap_buf_puts(out, "(unset)");
        env_name(c, i, env, sizeof(env));
        if (!err)
            err = ap_buf_printf(out, "  # %s%s%s\n", srcs[v->src],
                                v->src == AP_CONF_SRC_ENV ? " " : "",
                                v->src == AP_CONF_SRC_ENV ? env : "");
    }
    return err;
}

/* "--name VALUE" column of the usage text. */
static void usage_flag(const struct ap_conf_opt *o, char *out, size_t n)
{
    switch (o->type) {
    case AP_CONF_BOOL:
        snprintf(out, n, "--[no-]%s", o->name);
        break;
    case AP_CONF_INT:
        snprintf(out, n, "--%s N", o->name);
        break;
    case AP_CONF_SIZE:
        snprintf(out, n, "--%s SIZE", o->name);
        break;
    case AP_CONF_ADDR:
        snprintf(out, n, "--%s HOST:PORT", o->name);
        break;
    case AP_CONF_ENUM:
        snprintf(out, n, "--%s %s", o->name, o->choices);
        break;
    case AP_CONF_STR:
        snprintf(out, n, "--%s VALUE", o->name);
        break;
    }
}

enum ap_err ap_conf_usage(const struct ap_conf *c, struct ap_buf *out)
{
    enum ap_err err = AP_OK;
    char left[CONF_NAME_MAX + 256], env[CONF_NAME_MAX + 128];
    int width = 0;
    for (size_t i = 0; i < c->nopts; i++) {
        usage_flag(&c->opts[i], left, sizeof(left));
        width = (int)strlen(left) > width ? (int)strlen(left) : width;
    }
    for (size_t i = 0; i < c->nopts && !err; i++) {
        const struct ap_conf_opt *o = &c->opts[i];
        const char *def = o->def ? o->def : o->type == AP_CONF_BOOL ? "false" : NULL;
        usage_flag(o, left, sizeof(left));
        env_name(c, i, env, sizeof(env));
        err = ap_buf_printf(out, "  %-*s  %s (env %s", width, left, o->help ? o->help : "", env);
        if (!err && def && !(o->flags & AP_CONF_SECRET))
            err = ap_buf_printf(out, "; default %s", *def ? def : "\"\"");
        if (!err)
            err = ap_buf_puts(out, ")\n");
    }
    return err;
}

int ap_conf_print_usage(FILE *to, const struct ap_conf_opt *opts, size_t n, const char *env_prefix,
                        const char *head, int code)
{
    struct ap_conf *c = ap_conf_new(opts, n, env_prefix);
    struct ap_buf b;

    ap_buf_init(&b, 1 << 16);
    ap_conf_usage(c, &b);
    fprintf(to, "%s%s", head, b.data ? b.data : "");
    ap_buf_cleanup(&b);
    ap_conf_free(c);
    return code;
}

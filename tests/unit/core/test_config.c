/*
 * test_config.c — the option table: defaults, config file < env < flag,
 * validation messages that name the option and its source, all-or-nothing
 * loading, positional arguments, the printed config and the usage text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"

static const struct ap_conf_opt opts[] = {
    {.name = "config", .type = AP_CONF_STR, .help = "config file"},
    {.name = "listen", .type = AP_CONF_ADDR, .def = "127.0.0.1:8080", .help = "listen address"},
    {.name = "threads",
     .type = AP_CONF_INT,
     .def = "2",
     .help = "loop threads",
     .min = 1,
     .max = 64},
    {.name = "verbose", .type = AP_CONF_BOOL, .def = "false", .help = "log more"},
    {.name = "log-level",
     .type = AP_CONF_ENUM,
     .def = "info",
     .help = "least level logged",
     .choices = "debug|info|warn|error"},
    {.name = "max-body",
     .type = AP_CONF_SIZE,
     .def = "1m",
     .help = "largest request body",
     .min = 1024,
     .max = 1LL << 30},
    {.name = "data-dir", .type = AP_CONF_STR, .def = "./data", .help = "where data lives"},
    {.name = "app-key",
     .type = AP_CONF_STR,
     .help = "ServiceTitan app key",
     .flags = AP_CONF_SECRET},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static char tmpdir[] = "/tmp/test_config.XXXXXX";
static int nfiles;

/* Writes text into a fresh file under tmpdir; returns its path (static, per call). */
static const char *write_file(const char *text)
{
    static char paths[32][64];
    char *path = paths[nfiles++ % 32];
    snprintf(path, 64, "%s/%d.conf", tmpdir, nfiles);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int setup(void **state)
{
    ap_log_set_level(AP_LOG_OFF); /* the unknown-env warning is not under test */
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct ap_conf *conf(void)
{
    return ap_conf_new(opts, NOPTS, "APPOINTD_");
}

/* Loads argv/envp into c; returns the error and copies the message to msg. */
static enum ap_err load(struct ap_conf *c, char **argv, char **envp, char *msg)
{
    int argc = 0;
    msg[0] = '\0';
    while (argv && argv[argc])
        argc++;
    return ap_conf_load(c, argc, argv, envp, NULL, 0, NULL, msg, 256);
}

static void test_defaults(void **state)
{
    struct ap_conf *c = conf();
    assert_string_equal(ap_conf_str(c, "listen"), "127.0.0.1:8080");
    assert_int_equal(ap_conf_int(c, "threads"), 2);
    assert_false(ap_conf_bool(c, "verbose"));
    assert_string_equal(ap_conf_str(c, "log-level"), "info");
    assert_int_equal(ap_conf_int(c, "max-body"), 1 << 20);
    assert_null(ap_conf_str(c, "app-key"));
    assert_null(ap_conf_str(c, "config"));
    assert_int_equal(ap_conf_source(c, "threads"), AP_CONF_SRC_DEFAULT);
    ap_conf_free(c);
}

static void test_precedence_file_env_flag(void **state)
{
    char msg[256];
    struct ap_conf *c = conf();
    const char *path = write_file("# appointd\n"
                                  "\n"
                                  "threads = 3\n"
                                  "verbose = yes\n"
                                  "log-level = warn\n"
                                  "max-body = 2m\n"
                                  "listen = 0.0.0.0:9000\n");
    char env_config[128];
    snprintf(env_config, sizeof(env_config), "APPOINTD_CONFIG=%s", path);
    char *envp[] = {"HOME=/root",
                    env_config,
                    "APPOINTD_THREADS=4",
                    "APPOINTD_LOG_LEVEL=debug",
                    "APPOINTD_LISTEN=[::1]:9001",
                    NULL};
    char *argv[] = {"--threads", "5", "--listen=example.com:9002", NULL};
    assert_int_equal(load(c, argv, envp, msg), AP_OK);
    assert_string_equal(msg, "");

    assert_int_equal(ap_conf_int(c, "threads"), 5);
    assert_int_equal(ap_conf_source(c, "threads"), AP_CONF_SRC_FLAG);
    assert_string_equal(ap_conf_str(c, "listen"), "example.com:9002");
    assert_int_equal(ap_conf_source(c, "listen"), AP_CONF_SRC_FLAG);
    assert_string_equal(ap_conf_str(c, "log-level"), "debug");
    assert_int_equal(ap_conf_source(c, "log-level"), AP_CONF_SRC_ENV);
    assert_int_equal(ap_conf_int(c, "max-body"), 2 << 20);
    assert_int_equal(ap_conf_source(c, "max-body"), AP_CONF_SRC_FILE);
    assert_true(ap_conf_bool(c, "verbose"));
    assert_int_equal(ap_conf_source(c, "verbose"), AP_CONF_SRC_FILE);
    assert_string_equal(ap_conf_str(c, "data-dir"), "./data");
    assert_int_equal(ap_conf_source(c, "data-dir"), AP_CONF_SRC_DEFAULT);
    ap_conf_free(c);
}

/* The file named by a flag wins over the one named by the env. */
static void test_config_flag_beats_env(void **state)
{
    char msg[256], flag[128];
    struct ap_conf *c = conf();
    const char *path = write_file("threads = 7\n");
    snprintf(flag, sizeof(flag), "--config=%s", path);
    char *envp[] = {"APPOINTD_CONFIG=/nonexistent/appointd.conf", NULL};
    char *argv[] = {flag, NULL};
    assert_int_equal(load(c, argv, envp, msg), AP_OK);
    assert_int_equal(ap_conf_int(c, "threads"), 7);
    assert_string_equal(ap_conf_str(c, "config"), path);

    char *none[] = {NULL};
    assert_int_equal(load(c, none, envp, msg), AP_EIO);
    assert_string_equal(msg, "cannot read config file /nonexistent/appointd.conf: "
                             "No such file or directory");
    ap_conf_free(c);
}

static void test_missing_default_file_is_fine(void **state)
{
    static const struct ap_conf_opt o[] = {
        {.name = "config", .type = AP_CONF_STR, .def = "/nonexistent/appointd.conf"},
        {.name = "threads", .type = AP_CONF_INT, .def = "1"},
    };
    char msg[256];
    struct ap_conf *c = ap_conf_new(o, 2, "APPOINTD_");
    assert_int_equal(load(c, NULL, NULL, msg), AP_OK);
    char *argv[] = {"--config", "/nonexistent/appointd.conf", NULL};
    assert_int_equal(load(c, argv, NULL, msg), AP_EIO);
    ap_conf_free(c);
}

static void test_flag_forms(void **state)
{
    char msg[256];
    struct ap_conf *c = conf();
    char *argv1[] = {"--threads=7", "--data-dir", "/srv/a b", NULL};
    assert_int_equal(load(c, argv1, NULL, msg), AP_OK);
    assert_int_equal(ap_conf_int(c, "threads"), 7);
    assert_string_equal(ap_conf_str(c, "data-dir"), "/srv/a b");

    char *argv2[] = {"--threads", "8", "--threads=9", NULL}; /* the last one wins */
    assert_int_equal(load(c, argv2, NULL, msg), AP_OK);
    assert_int_equal(ap_conf_int(c, "threads"), 9);

    char *argv3[] = {"--threads", NULL};
    assert_int_equal(load(c, argv3, NULL, msg), AP_EINVAL);
    assert_string_equal(msg, "flag --threads needs a value");
    ap_conf_free(c);
}

static void test_bool_flags(void **state)
{
    char msg[256];
    struct ap_conf *c = conf();
    const char *path = write_file("verbose = on\n");
    char env[128];
    snprintf(env, sizeof(env), "APPOINTD_CONFIG=%s", path);
    char *envp[] = {env, NULL};

    char *argv1[] = {"--no-verbose", NULL};
    assert_int_equal(load(c, argv1, envp, msg), AP_OK);
    assert_false(ap_conf_bool(c, "verbose"));
    assert_int_equal(ap_conf_source(c, "verbose"), AP_CONF_SRC_FLAG);

    char *argv2[] = {"--verbose", "serve", NULL}; /* a bool never eats the next argument */
    char *pos[2];
    size_t npos = 9;
    assert_int_equal(ap_conf_load(c, 2, argv2, NULL, pos, 2, &npos, msg, sizeof(msg)), AP_OK);
    assert_true(ap_conf_bool(c, "verbose"));
    assert_int_equal(npos, 1);
    assert_string_equal(pos[0], "serve");

    char *argv3[] = {"--verbose=false", NULL};
    assert_int_equal(load(c, argv3, NULL, msg), AP_OK);
    assert_false(ap_conf_bool(c, "verbose"));

    char *argv4[] = {"--verbose=maybe", NULL};
    assert_int_equal(load(c, argv4, NULL, msg), AP_EINVAL);
    assert_string_equal(msg, "bad value for verbose (from --verbose): "
                             "expected true/false/yes/no/on/off/1/0, got 'maybe'");

    char *argv5[] = {"--no-verbose=1", NULL};
    assert_int_equal(load(c, argv5, NULL, msg), AP_EINVAL);
    assert_string_equal(msg, "flag --no-verbose takes no value");

    char *argv6[] = {"--no-threads", NULL}; /* --no- only exists for bools */
    assert_int_equal(load(c, argv6, NULL, msg), AP_EINVAL);
    assert_string_equal(msg, "unknown flag --no-threads (see --help)");
    ap_conf_free(c);
}

static void test_unknown_flag(void **state)
{
    char msg[256];
    struct ap_conf *c = conf();
    char *argv1[] = {"--lisen=0.0.0.0:80", NULL};
    assert_int_equal(load(c, argv1, NULL, msg), AP_EINVAL);
    assert_string_equal(msg, "unknown flag --lisen (see --help)");
    char *argv2[] = {"-x", NULL};
    assert_int_equal(load(c, argv2, NULL, msg), AP_EINVAL);
    assert_string_equal(msg, "unknown flag -x (see --help)");
    ap_conf_free(c);
}

static void test_file_errors_name_line(void **state)
{
    char msg[256], want[256], env[128];
    struct ap_conf *c = conf();
    char *envp[] = {env, NULL};

    const char *p1 = write_file("# comment\n\nthreads = 3\nlisen = 0.0.0.0:80\n");
    snprintf(env, sizeof(env), "APPOINTD_CONFIG=%s", p1);
    assert_int_equal(load(c, NULL, envp, msg), AP_EINVAL);
    snprintf(want, sizeof(want), "config file %s line 4: unknown key 'lisen'", p1);
    assert_string_equal(msg, want);

    const char *p2 = write_file("threads = 3\nverbose\n");
    snprintf(env, sizeof(env), "APPOINTD_CONFIG=%s", p2);
    assert_int_equal(load(c, NULL, envp, msg), AP_EINVAL);
    snprintf(want, sizeof(want), "config file %s line 2: expected 'key = value'", p2);
    assert_string_equal(msg, want);

    const char *p3 = write_file("data-dir = \"/srv\n");
    snprintf(env, sizeof(env), "APPOINTD_CONFIG=%s", p3);
    assert_int_equal(load(c, NULL, envp, msg), AP_EINVAL);
    snprintf(want, sizeof(want), "config file %s line 1: unterminated quote", p3);
    assert_string_equal(msg, want);

    const char *p4 = write_file("config = /etc/other.conf\n");
    snprintf(env, sizeof(env), "APPOINTD_CONFIG=%s", p4);
    assert_int_equal(load(c, NULL, envp, msg), AP_EINVAL);
    snprintf(want, sizeof(want), "config file %s line 1: 'config' cannot be set in a config file",
             p4);
    assert_string_equal(msg, want);

    const char *p5 = write_file("\nthreads = many\n");
    snprintf(env, sizeof(env), "APPOINTD_CONFIG=%s", p5);
    assert_int_equal(load(c, NULL, envp, msg), AP_EINVAL);
    snprintf(want, sizeof(want),
             "bad value for threads (from config file %s line 2): "
             "expected an integer from 1 to 64, got 'many'",
             p5);
    assert_string_equal(msg, want);
    assert_int_equal(ap_conf_int(c, "threads"), 2);
    ap_conf_free(c);
}

static void test_file_quotes_comments_crlf(void **state)
{
    char msg[256], env[128];
    struct ap_conf *c = conf();
    const char *path = write_file("data-dir = \"/srv/a #1 \\\"x\\\" \"   # trailing comment\r\n"
                                  "  threads=12   # inline comment\r\n"
                                  "\t# indented comment\n"
                                  "listen = host.example:80");
    snprintf(env, sizeof(env), "APPOINTD_CONFIG=%s", path);
    char *envp[] = {env, NULL};
    assert_int_equal(load(c, NULL, envp, msg), AP_OK);
    assert_string_equal(ap_conf_str(c, "data-dir"), "/srv/a #1 \"x\" ");
    assert_int_equal(ap_conf_int(c, "threads"), 12);
    assert_string_equal(ap_conf_str(c, "listen"), "host.example:80");
    ap_conf_free(c);
}

static void test_bad_int_names_option_and_source(void **state)
{
    char msg[256];
    struct ap_conf *c = conf();
    char *envp[] = {"APPOINTD_THREADS=abc", NULL};
    assert_int_equal(load(c, NULL, envp, msg), AP_EINVAL);
    assert_string_equal(msg, "bad value for threads (from APPOINTD_THREADS): "
                             "expected an integer from 1 to 64, got 'abc'");
    char *argv[] = {"--threads=3x", NULL};
    assert_int_equal(load(c, argv, NULL, msg), AP_EINVAL);
    assert_string_equal(msg, "bad value for threads (from --threads): "
                             "expected an integer from 1 to 64, got '3x'");
    assert_int_equal(ap_conf_set(c, "threads", "", AP_CONF_SRC_FILE, msg, sizeof(msg)), AP_EINVAL);
    assert_string_equal(msg, "bad value for threads (from config file): "
                             "expected an integer from 1 to 64, got ''");
    ap_conf_free(c);
}

static void test_int_range(void **state)
{
    char msg[256];
    struct ap_conf *c = conf();
    char *argv1[] = {"--threads=65", NULL};
    assert_int_equal(load(c, argv1, NULL, msg), AP_EINVAL);
    assert_string_equal(msg, "bad value for threads (from --threads): "
                             "expected an integer from 1 to 64, got '65'");
    char *argv2[] = {"--threads=0", NULL};
    assert_int_equal(load(c, argv2, NULL, msg), AP_EINVAL);
    char *argv3[] = {"--threads=99999999999999999999", NULL};
    assert_int_equal(load(c, argv3, NULL, msg), AP_EINVAL);
    char *argv4[] = {"--threads=64", NULL};
    assert_int_equal(load(c, argv4, NULL, msg), AP_OK);
    assert_int_equal(ap_conf_int(c, "threads"), 64);
    char *argv5[] = {"--threads=1", NULL};
    assert_int_equal(load(c, argv5, NULL, msg), AP_OK);
    assert_int_equal(ap_conf_int(c, "threads"), 1);
    ap_conf_free(c);
}

static void test_enum(void **state)
{
    char msg[256];
    struct ap_conf *c = conf();
    char *argv1[] = {"--log-level", "loud", NULL};
    assert_int_equal(load(c, argv1, NULL, msg), AP_EINVAL);
    assert_string_equal(msg, "bad value for log-level (from --log-level): "
                             "expected one of debug|info|warn|error, got 'loud'");
    char *argv2[] = {"--log-level", "WARN", NULL};
    assert_int_equal(load(c, argv2, NULL, msg), AP_OK);
    assert_string_equal(ap_conf_str(c, "log-level"), "warn");
    char *argv3[] = {"--log-level=inf", NULL}; /* a prefix of a choice is not a choice */
    assert_int_equal(load(c, argv3, NULL, msg), AP_EINVAL);
    ap_conf_free(c);
}

static void test_addr(void **state)
{
    static const char *const good[] = {"example.com:80", "10.0.0.1:0", "[::1]:443",
                                       "[2001:db8::1]:65535", "localhost:8080"};
    static const char *const bad[] = {"abc",          "::1:80",     "[::1]80", "[::1]",
                                      "host:",        ":80",        "host:8o", "host:-1",
                                      "999.1.1.1:80", "[zz::q]:80", "a b:80",  "host:80:81"};
    char msg[256];
    struct ap_conf *c = conf();
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(ap_conf_set(c, "listen", good[i], AP_CONF_SRC_FLAG, msg, sizeof(msg)),
                         AP_OK);
        assert_string_equal(ap_conf_str(c, "listen"), good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ap_conf_set(c, "listen", bad[i], AP_CONF_SRC_FLAG, msg, sizeof(msg)),
                         AP_EINVAL);
        assert_non_null(strstr(msg, "expected HOST:PORT"));
    }
    char *envp[] = {"APPOINTD_LISTEN=abc", NULL};
    assert_int_equal(load(c, NULL, envp, msg), AP_EINVAL);
    assert_string_equal(msg, "bad value for listen (from APPOINTD_LISTEN): "
                             "expected HOST:PORT, got 'abc'");
    char *argv[] = {"--listen=host:65536", NULL};
    assert_int_equal(load(c, argv, NULL, msg), AP_EINVAL);
    assert_string_equal(msg, "bad value for listen (from --listen): "
                             "expected HOST:PORT with a port from 0 to 65535, got 'host:65536'");

    char host[64];
    int port = -1;
    assert_int_equal(ap_conf_split_addr("[2001:db8::1]:443", host, sizeof(host), &port), AP_OK);
    assert_string_equal(host, "2001:db8::1");
    assert_int_equal(port, 443);
    assert_int_equal(ap_conf_split_addr("example.com:0", host, sizeof(host), &port), AP_OK);
    assert_string_equal(host, "example.com");
    assert_int_equal(port, 0);
    assert_int_equal(ap_conf_split_addr("example.com:80", host, 4, &port), AP_ETOOBIG);
    assert_int_equal(ap_conf_split_addr("example.com", host, sizeof(host), &port), AP_EINVAL);
    ap_conf_free(c);
}

static void test_size(void **state)
{
    static const struct {
        const char *text;
        int64_t bytes;
    } good[] = {{"1024", 1024},  {"4k", 4096},      {"4K", 4096},      {"3kb", 3072},
                {"2M", 2 << 20}, {"1g", 1LL << 30}, {"1GB", 1LL << 30}};
    static const char *const bad[] = {"1t", "-1", "k", "", "1.5m", "2mm", "1000", "2g"};
    char msg[256];
    struct ap_conf *c = conf();
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(ap_conf_set(c, "max-body", good[i].text, AP_CONF_SRC_ENV, msg, 256),
                         AP_OK);
        assert_int_equal(ap_conf_int(c, "max-body"), good[i].bytes);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ap_conf_set(c, "max-body", bad[i], AP_CONF_SRC_ENV, msg, 256), AP_EINVAL);
    assert_string_equal(msg, "bad value for max-body (from APPOINTD_MAX_BODY): expected a size "
                             "in bytes (suffix k, m or g allowed) from 1024 to 1073741824, "
                             "got '2g'");
    assert_int_equal(ap_conf_int(c, "max-body"), 1LL << 30); /* the last good value stays */
    ap_conf_free(c);
}

static void test_all_or_nothing(void **state)
{
    char msg[256], env[128];
    struct ap_conf *c = conf();
    char *argv1[] = {"--threads=5", NULL};
    assert_int_equal(load(c, argv1, NULL, msg), AP_OK);

    const char *path = write_file("data-dir = /from/file\nmax-body = 4m\n");
    snprintf(env, sizeof(env), "APPOINTD_CONFIG=%s", path);
    char *envp[] = {env, "APPOINTD_LOG_LEVEL=debug", NULL};
    char *argv2[] = {"--threads=6", "--verbose", "--threads=oops", NULL};
    assert_int_equal(load(c, argv2, envp, msg), AP_EINVAL);
    assert_int_equal(ap_conf_int(c, "threads"), 5);
    assert_int_equal(ap_conf_source(c, "threads"), AP_CONF_SRC_FLAG);
    assert_false(ap_conf_bool(c, "verbose"));
    assert_string_equal(ap_conf_str(c, "log-level"), "info");
    assert_int_equal(ap_conf_source(c, "log-level"), AP_CONF_SRC_DEFAULT);
    assert_string_equal(ap_conf_str(c, "data-dir"), "./data");
    assert_int_equal(ap_conf_int(c, "max-body"), 1 << 20);
    assert_null(ap_conf_str(c, "config"));
    ap_conf_free(c);
}

static void test_positional_and_double_dash(void **state)
{
    char msg[256];
    char *pos[4];
    size_t npos = 0;
    struct ap_conf *c = conf();
    char *argv[] = {"serve", "--threads", "3", "extra", "--", "--verbose", "-"};
    assert_int_equal(ap_conf_load(c, 7, argv, NULL, pos, 4, &npos, msg, sizeof(msg)), AP_OK);
    assert_int_equal(npos, 4);
    assert_string_equal(pos[0], "serve");
    assert_string_equal(pos[1], "extra");
    assert_string_equal(pos[2], "--verbose");
    assert_string_equal(pos[3], "-");
    assert_int_equal(ap_conf_int(c, "threads"), 3);
    assert_false(ap_conf_bool(c, "verbose"));

    char *argv2[] = {"a", "b", "c"};
    assert_int_equal(ap_conf_load(c, 3, argv2, NULL, pos, 2, &npos, msg, sizeof(msg)), AP_EINVAL);
    assert_string_equal(msg, "unexpected argument 'c'");
    assert_int_equal(npos, 0);
    ap_conf_free(c);
}

static void test_print_redacts_secrets(void **state)
{
    char msg[256];
    struct ap_buf out;
    struct ap_conf *c = conf();
    ap_buf_init(&out, 1 << 16);
    assert_int_equal(ap_conf_print(c, &out), AP_OK);
    assert_non_null(strstr(out.data, "app-key = (unset)  # default\n"));

    char *envp[] = {"APPOINTD_APP_KEY=sekrit-abc-123", NULL};
    char *argv[] = {"--threads", "5", "--data-dir", "/srv/my data #1", NULL};
    assert_int_equal(load(c, argv, envp, msg), AP_OK);
    assert_string_equal(ap_conf_str(c, "app-key"), "sekrit-abc-123");
    ap_buf_reset(&out);
    assert_int_equal(ap_conf_print(c, &out), AP_OK);
    assert_null(strstr(out.data, "sekrit"));
    assert_string_equal(out.data, "config = (unset)  # default\n"
                                  "listen = 127.0.0.1:8080  # default\n"
                                  "threads = 5  # flag\n"
                                  "verbose = false  # default\n"
                                  "log-level = info  # default\n"
                                  "max-body = 1m  # default\n"
                                  "data-dir = \"/srv/my data #1\"  # flag\n"
                                  "app-key = (set)  # env APPOINTD_APP_KEY\n");
    ap_buf_cleanup(&out);
    ap_conf_free(c);
}

/* An error about a secret's value must not repeat the value. */
static void test_secret_not_in_errors(void **state)
{
    char msg[256];
    struct ap_conf *c = conf();
    assert_int_equal(ap_conf_set(c, "app-key", "sekrit\nline", AP_CONF_SRC_ENV, msg, 256),
                     AP_EINVAL);
    assert_string_equal(msg, "bad value for app-key (from APPOINTD_APP_KEY): "
                             "expected text without control characters");
    assert_null(ap_conf_str(c, "app-key"));
    ap_conf_free(c);
}

static void test_usage_mentions_env(void **state)
{
    struct ap_buf out;
    struct ap_conf *c = conf();
    ap_buf_init(&out, 1 << 16);
    assert_int_equal(ap_conf_usage(c, &out), AP_OK);
    const char *want[] = {
        "  --config VALUE                     config file (env APPOINTD_CONFIG)",
        "  --listen HOST:PORT                 listen address (env APPOINTD_LISTEN; default "
        "127.0.0.1:8080)",
        "  --threads N                        loop threads (env APPOINTD_THREADS; default 2)",
        "  --[no-]verbose                     log more (env APPOINTD_VERBOSE; default false)",
        "  --log-level debug|info|warn|error  least level logged (env APPOINTD_LOG_LEVEL; "
        "default info)",
        "  --max-body SIZE                    largest request body (env APPOINTD_MAX_BODY; "
        "default 1m)",
        "  --data-dir VALUE                   where data lives (env APPOINTD_DATA_DIR; default "
        "./data)",
        "  --app-key VALUE                    ServiceTitan app key (env APPOINTD_APP_KEY)",
    };
    char *line = out.data;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_string_equal(line, want[i]);
        line = nl + 1;
    }
    assert_string_equal(line, "");
    ap_buf_cleanup(&out);
    ap_conf_free(c);
}

/* Reading an option as the wrong type, or one that does not exist, aborts. */
static void test_getter_misuse_aborts(void **state)
{
    struct ap_conf *c = conf();
    for (int i = 0; i < 3; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            dup2(fd, 2);
            if (i == 0)
                ap_conf_int(c, "listen");
            else if (i == 1)
                ap_conf_bool(c, "threads");
            else
                ap_conf_str(c, "no-such-option");
            _exit(0);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGABRT);
    }
    ap_conf_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_precedence_file_env_flag),
        cmocka_unit_test(test_config_flag_beats_env),
        cmocka_unit_test(test_missing_default_file_is_fine),
        cmocka_unit_test(test_flag_forms),
        cmocka_unit_test(test_bool_flags),
        cmocka_unit_test(test_unknown_flag),
        cmocka_unit_test(test_file_errors_name_line),
        cmocka_unit_test(test_file_quotes_comments_crlf),
        cmocka_unit_test(test_bad_int_names_option_and_source),
        cmocka_unit_test(test_int_range),
        cmocka_unit_test(test_enum),
        cmocka_unit_test(test_addr),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_positional_and_double_dash),
        cmocka_unit_test(test_print_redacts_secrets),
        cmocka_unit_test(test_secret_not_in_errors),
        cmocka_unit_test(test_usage_mentions_env),
        cmocka_unit_test(test_getter_misuse_aborts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_call.c — unit tests of ap_titan_call and the iterators against a tiny
 * HTTP/1.1 server run inside the test (plain sockets, one thread, 127.0.0.1
 * port 0) that answers from a script. Tokens come from an injected fetch,
 * sleeps advance the fake clock, so retries and backoff cost no wall time.
 * Each test checks what the caller got (result, error, attempts) and what
 * the server saw (requests, headers, tokens).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/mem.h"
#include "titan/titan_int.h"

#define SEC      1000000000LL
#define MAX_SEEN 32

/* ---- the in-test server ------------------------------------------------- */

struct reply {
    int status;
    const char *headers; /* extra "Name: value\r\n" lines */
    const char *body;
};

static struct {
    int fd, port;
    pthread_t th;
    pthread_mutex_t mu;
    struct reply script[16];
    int nscript, next;
    int nseen;
    char seen[MAX_SEEN][2048]; /* request line + headers of each request */
    char seen_body[MAX_SEEN][256];
    /* adversarial mode: the first API call made with each token gets
     * 429 + Retry-After: 1 (a ServiceTitan that throttles fresh tokens) */
    bool first_call_429;
    char tokens[16][64];
    int ntokens;
} srv;

/* In first_call_429 mode: whether this request is the first with its token. */
static bool first_with_token(const char *head)
{
    const char *a = strstr(head, "Authorization: Bearer ");
    char tok[64];

    if (!srv.first_call_429 || !a)
        return false;
    snprintf(tok, sizeof(tok), "%.*s", (int)strcspn(a + 22, "\r\n"), a + 22);
    for (int i = 0; i < srv.ntokens; i++)
        if (strcmp(srv.tokens[i], tok) == 0)
            return false;
    if (srv.ntokens < 16)
        snprintf(srv.tokens[srv.ntokens++], sizeof(srv.tokens[0]), "%s", tok);
    return true;
}

static bool read_req(FILE *in, char *head, size_t hn, char *body, size_t bn)
{
    char line[2048];
    size_t used = 0;
    long clen = 0;

    head[0] = body[0] = '\0';
    for (;;) {
        if (!fgets(line, sizeof(line), in))
            return false;
        if (strcmp(line, "\r\n") == 0)
            break;
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            clen = atol(line + 15);
        if (used + strlen(line) < hn) {
            memcpy(head + used, line, strlen(line) + 1);
            used += strlen(line);
        }
    }
    for (long i = 0; i < clen; i++) {
        int ch = fgetc(in);
        if (ch == EOF)
            return false;
        if ((size_t)i + 1 < bn) {
            body[i] = (char)ch;
            body[i + 1] = '\0';
        }
    }
    return true;
}

static void *serve(void *arg)
{
    (void)arg;
    char head[2048], body[256];
    int c;

    while ((c = accept(srv.fd, NULL, NULL)) >= 0) {
        FILE *in = fdopen(c, "r");
        while (read_req(in, head, sizeof(head), body, sizeof(body))) {
            pthread_mutex_lock(&srv.mu);
            struct reply r =
                first_with_token(head)
                    ? (struct reply){429, "Retry-After: 1\r\n",
                                     "{\"title\":\"Rate limit is exceeded. Try again in 1 "
                                     "seconds.\",\"status\":429}"}
                : srv.next < srv.nscript ? srv.script[srv.next++]
                                         : (struct reply){200, NULL, "{}"};
            if (srv.nseen < MAX_SEEN) {
                snprintf(srv.seen[srv.nseen], sizeof(srv.seen[0]), "%s", head);
                snprintf(srv.seen_body[srv.nseen], sizeof(srv.seen_body[0]), "%s", body);
                srv.nseen++;
            }
            pthread_mutex_unlock(&srv.mu);
            char *out = ap_xasprintf("HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                                     "Content-Length: %zu\r\n%s\r\n%s",
                                     r.status, strlen(r.body), r.headers ? r.headers : "", r.body);
            if (write(c, out, strlen(out)) < 0) {
            }
            free(out);
        }
        fclose(in);
    }
    return NULL;
}

static void server_start(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);

    pthread_mutex_init(&srv.mu, NULL);
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(srv.fd >= 0);
    assert_int_equal(bind(srv.fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(srv.fd, 16), 0);
    getsockname(srv.fd, (struct sockaddr *)&a, &al);
    srv.port = ntohs(a.sin_port);
    pthread_create(&srv.th, NULL, serve, NULL);
}

static void server_stop(void)
{
    shutdown(srv.fd, SHUT_RDWR);
    close(srv.fd);
    pthread_join(srv.th, NULL);
    pthread_mutex_destroy(&srv.mu);
}

static void script(const struct reply *r, int n)
{
    pthread_mutex_lock(&srv.mu);
    if (n > 0)
        memcpy(srv.script, r, (size_t)n * sizeof(*r));
    srv.nscript = n;
    srv.next = 0;
    srv.nseen = 0;
    pthread_mutex_unlock(&srv.mu);
}

/* ---- the client under test ---------------------------------------------- */

static _Atomic int fetches;
static int64_t slept[64];
static int nslept;

static enum ap_err fake_fetch(void *ud, const struct ap_titan_creds *c,
                              struct ap_titan_token_resp *out, struct ap_titan_error *e)
{
    (void)ud;
    (void)c;
    (void)e;
    out->access_token = ap_xasprintf("tok-%d", atomic_fetch_add(&fetches, 1) + 1);
    out->expires_in = 900;
    out->scope = ap_xstrdup("");
    return AP_OK;
}

static void fake_sleep(void *ud, int64_t ns)
{
    (void)ud;
    if (nslept < 64)
        slept[nslept++] = ns;
    ap_clock_fake_advance(ns);
}

static uint32_t fixed_random(void *ud)
{
    (void)ud;
    return 0; /* the low end of the jitter: step / 2 */
}

static const struct ap_titan_creds creds = {1234567, "cid.abc", "cs2.secret"};

static struct ap_titan *client(int port, int budget_ms)
{
    char err[128], url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    struct ap_titan_config c = {.env = AP_TITAN_CUSTOM,
                                .auth_url = url,
                                .api_url = url,
                                .app_key = "ak1.appkey",
                                .rate_limit = 1e6,
                                .retry_budget_ms = budget_ms};
    struct ap_titan_hooks h = {
        .fetch_token = fake_fetch, .sleep_ns = fake_sleep, .random = fixed_random};
    struct ap_titan *t = ap_titan_new(&c, err, sizeof(err));
    assert_non_null(t);
    ap_titan_set_hooks(t, &h);
    return t;
}

static int setup(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof(srv));
    atomic_store(&fetches, 0);
    nslept = 0;
    ap_clock_fake_begin(1700000000LL * SEC, 5000 * SEC);
    server_start();
    *state = client(srv.port, 0);
    return 0;
}

static int teardown(void **state)
{
    ap_titan_free(*state);
    server_stop();
    ap_clock_fake_end();
    return 0;
}

static enum ap_err get(struct ap_titan *t, json_t **out, struct ap_titan_error *e)
{
    return ap_titan_call(t, &creds, "GET", "settings", "/business-units", "pageSize=5", NULL, out,
                         e);
}

static void test_headers_and_url(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    json_t *out = NULL, *body = json_pack("{s:s}", "name", "Jo");
    const struct reply r[] = {{200, NULL, "{\"id\":7}"}};

    script(r, 1);
    assert_int_equal(ap_titan_call(t, &creds, "POST", "crm", "/customers", NULL, body, &out, &e),
                     AP_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "id")), 7);
    assert_int_equal(srv.nseen, 1);
    assert_true(strncmp(srv.seen[0], "POST /crm/v2/tenant/1234567/customers HTTP/1.1", 46) == 0);
    assert_non_null(strstr(srv.seen[0], "ST-App-Key: ak1.appkey\r\n"));
    assert_non_null(strstr(srv.seen[0], "Authorization: Bearer tok-1\r\n"));
    assert_non_null(strstr(srv.seen[0], "Content-Type: application/json\r\n"));
    assert_non_null(strstr(srv.seen[0], "Accept: application/json\r\n"));
    assert_string_equal(srv.seen_body[0], "{\"name\":\"Jo\"}");
    json_decref(out);
    json_decref(body);
    /* the query string is passed on; the token is reused */
    script(r, 1);
    assert_int_equal(get(t, NULL, &e), AP_OK);
    assert_true(strncmp(srv.seen[0], "GET /settings/v2/tenant/1234567/business-units?pageSize=5 ",
                        58) == 0);
    assert_int_equal(fetches, 1);
}

static void test_429_retry_after_header(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    json_t *out = NULL;
    struct ap_titan_stats st;
    const struct reply r[] = {{429, "Retry-After: 2\r\n", "{\"title\":\"Slow down\"}"},
                              {200, NULL, "{\"data\":[]}"}};

    script(r, 2);
    assert_int_equal(get(t, &out, &e), AP_OK);
    assert_int_equal(e.attempts, 2);
    assert_int_equal(nslept, 1);
    assert_int_equal(slept[0], 2 * SEC);
    ap_titan_stats(t, &st);
    assert_int_equal(st.http_429, 1);
    assert_int_equal(st.retries, 1);
    json_decref(out);
}

static void test_429_title_seconds(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    const struct reply r[] = {
        {429, NULL,
         "{\"title\":\"Rate limit is exceeded. Try again in 3 seconds.\",\"status\":429}"},
        {200, NULL, "{}"}};

    script(r, 2);
    assert_int_equal(get(t, NULL, &e), AP_OK);
    assert_int_equal(slept[0], 3 * SEC);
}

static void test_429_storm_gives_busy(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    const struct reply r[] = {{429, NULL, "{}"},
                              {429, NULL, "{}"},
                              {429, NULL, "{}"},
                              {429, NULL, "{\"title\":\"Too many\",\"traceId\":\"t-4\"}"}};

    script(r, 4);
    assert_int_equal(get(t, NULL, &e), AP_EBUSY);
    assert_int_equal(e.status, 429);
    assert_int_equal(e.stage, AP_TITAN_STAGE_API);
    assert_int_equal(e.attempts, 4); /* max_attempts */
    assert_string_equal(e.trace_id, "t-4");
    /* no Retry-After: the backoff, growing (jitter at its low end) */
    assert_int_equal(nslept, 3);
    assert_int_equal(slept[0], 100 * 1000000LL);
    assert_int_equal(slept[1], 200 * 1000000LL);
    assert_int_equal(slept[2], 400 * 1000000LL);
}

static void test_retry_budget(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    struct ap_titan *small = client(srv.port, 10000);
    const struct reply r[] = {{429, "Retry-After: 100\r\n", "{}"}, {200, NULL, "{}"}};

    (void)t;
    script(r, 2);
    /* waiting 100 s does not fit a 10 s budget: the caller hears it at once */
    assert_int_equal(get(small, NULL, &e), AP_EBUSY);
    assert_int_equal(e.attempts, 1);
    assert_int_equal(e.retry_after_s, 100);
    assert_int_equal(nslept, 0);
    ap_titan_free(small);
}

static void test_5xx_retried(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    const struct reply ok[] = {{503, NULL, "oops"}, {500, NULL, "{}"}, {200, NULL, "{}"}};
    const struct reply bad[] = {{500, NULL, "{}"},
                                {502, NULL, "{}"},
                                {503, NULL, "{}"},
                                {504, NULL, "{\"title\":\"Gateway Timeout\"}"}};

    script(ok, 3);
    assert_int_equal(get(t, NULL, &e), AP_OK);
    assert_int_equal(e.attempts, 3);
    script(bad, 4);
    assert_int_equal(get(t, NULL, &e), AP_EUNAVAIL);
    assert_int_equal(e.status, 504);
    assert_int_equal(e.attempts, 4);
    assert_int_equal(srv.nseen, 4);
}

static void test_no_retry_for_client_errors(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    const struct {
        int status;
        enum ap_err err;
    } cases[] = {{400, AP_EINVAL},
                 {403, AP_EPERM},
                 {404, AP_ENOTFOUND},
                 {409, AP_ECONFLICT},
                 {422, AP_EINVAL}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct reply r[] = {{cases[i].status, NULL,
                                   "{\"title\":\"Nope\",\"status\":0,\"traceId\":\"tr-1\","
                                   "\"errors\":{\"name\":[\"Name is required.\"]}}"},
                                  {200, NULL, "{}"}};
        script(r, 2);
        assert_int_equal(get(t, NULL, &e), cases[i].err);
        assert_int_equal(e.status, cases[i].status);
        assert_int_equal(e.attempts, 1);
        assert_int_equal(srv.nseen, 1);
        assert_string_equal(e.title, "Nope");
        assert_string_equal(e.trace_id, "tr-1");
        assert_string_equal(e.fields, "name: Name is required.");
    }
    assert_int_equal(nslept, 0);
}

static void test_401_refresh_once(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    struct ap_titan_stats st;
    const struct reply once[] = {{200, NULL, "{}"}, {401, NULL, "{}"}, {200, NULL, "{}"}};
    const struct reply twice[] = {
        {401, NULL, "{}"}, {401, NULL, "{\"title\":\"expired\"}"}, {200, NULL, "{}"}};

    script(once, 3);
    assert_int_equal(get(t, NULL, &e), AP_OK);
    assert_int_equal(get(t, NULL, &e), AP_OK);
    assert_int_equal(e.attempts, 2);
    assert_non_null(strstr(srv.seen[1], "Bearer tok-1\r\n"));
    assert_non_null(strstr(srv.seen[2], "Bearer tok-2\r\n"));
    assert_int_equal(fetches, 2);
    /* a fresh token refused too: that is final */
    script(twice, 3);
    assert_int_equal(get(t, NULL, &e), AP_EPERM);
    assert_int_equal(e.status, 401);
    assert_int_equal(e.attempts, 2);
    assert_int_equal(srv.nseen, 2);
    assert_int_equal(fetches, 3);
    ap_titan_stats(t, &st);
    assert_int_equal(st.http_401, 3);
    assert_int_equal(nslept, 0);
}

static void test_network_error(void **state)
{
    (void)state;
    struct ap_titan_error e;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);

    /* a port that was free a moment ago: connection refused */
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);
    close(fd);
    struct ap_titan *t = client(port, 0);
    assert_int_equal(get(t, NULL, &e), AP_EUNAVAIL);
    assert_int_equal(e.stage, AP_TITAN_STAGE_NETWORK);
    assert_int_equal(e.status, 0);
    assert_int_equal(e.attempts, 4);
    assert_true(e.title[0] != '\0');
    ap_titan_free(t);
}

/* Issue 8 item 3: a ServiceTitan that answers 429 + Retry-After: 1 to the
 * first call of every token. A connect-like sequence (a token check, then
 * several reads) must succeed on one token: a 429 says nothing about the
 * token, only a 401 makes it stale. */
static void test_429_keeps_the_token(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    struct ap_titan_stats st;

    script(NULL, 0);
    srv.first_call_429 = true;
    assert_int_equal(ap_titan_token(t, &creds, true, NULL, &e), AP_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(get(t, NULL, &e), AP_OK);
        assert_int_equal(e.attempts, i == 0 ? 2 : 1);
    }
    assert_int_equal(fetches, 1);
    assert_int_equal(srv.ntokens, 1);
    assert_int_equal(srv.nseen, 5); /* one 429, four answers */
    assert_int_equal(nslept, 1);
    assert_int_equal(slept[0], 1 * SEC);
    ap_titan_stats(t, &st);
    assert_int_equal(st.token_fetches, 1);
    assert_int_equal(st.http_429, 1);
}

static bool collect(json_t *row, void *ud)
{
    json_array_append(ud, row);
    return true;
}

static void test_each_pages(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    json_t *rows = json_array();
    const struct reply r[] = {
        {200, NULL,
         "{\"page\":1,\"pageSize\":2,\"hasMore\":true,\"data\":[{\"id\":1},{\"id\":2}]}"},
        {200, NULL, "{\"page\":2,\"pageSize\":2,\"hasMore\":false,\"data\":[{\"id\":3}]}"}};

    script(r, 2);
    assert_int_equal(
        ap_titan_each(t, &creds, "crm", "/customers", "active=Any", 2, collect, rows, &e), AP_OK);
    assert_int_equal(json_array_size(rows), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 2), "id")), 3);
    assert_int_equal(srv.nseen, 2);
    assert_non_null(strstr(srv.seen[0], "customers?active=Any&page=1&pageSize=2 "));
    assert_non_null(strstr(srv.seen[1], "customers?active=Any&page=2&pageSize=2 "));
    json_decref(rows);
}

static void test_export_continues(void **state)
{
    struct ap_titan *t = *state;
    struct ap_titan_error e;
    json_t *rows = json_array();
    char *next = NULL;
    const struct reply r[] = {
        {200, NULL, "{\"hasMore\":true,\"continueFrom\":\"a+b/c\",\"data\":[{\"id\":1}]}"},
        {200, NULL, "{\"hasMore\":false,\"continueFrom\":\"zz\",\"data\":[{\"id\":2}]}"}};

    script(r, 2);
    assert_int_equal(
        ap_titan_export(t, &creds, "crm", "customers", "2020-01-01", collect, rows, &next, &e),
        AP_OK);
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(next, "zz");
    assert_non_null(
        strstr(srv.seen[0], "GET /crm/v2/tenant/1234567/export/customers?from=2020-01-01 "));
    assert_non_null(strstr(srv.seen[1], "export/customers?from=a%2Bb%2Fc "));
    free(next);
    json_decref(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_headers_and_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_retry_after_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_title_seconds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_storm_gives_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_5xx_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_for_client_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_401_refresh_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_keeps_the_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_continues, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_titan_parse.c — libFuzzer target of the ServiceTitan client's parsers
 * of untrusted bytes (src/titan/parse.c, retry.c): the token endpoint's
 * answer, the JWT claims of an access token, the ApiErrorResponse body,
 * Retry-After and timestamps. Every input goes through all of them (the JWT
 * decoder both on the raw bytes and on the bytes wrapped as a JWT payload).
 *
 * Beyond "does not crash" it checks what callers rely on: every string of
 * struct ap_titan_error is NUL-terminated within its array and free of
 * control bytes; a refused token leaves nothing allocated and says which
 * stage failed; an accepted token is a non-empty word with a sane lifetime;
 * decoded claims have a positive tenant and bounded, non-empty scopes;
 * Retry-After is clamped; a parsed timestamp is its date plus less than two days.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "titan/titan_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_str(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    CHECK(len < n);
    for (size_t i = 0; i < len; i++)
        CHECK((unsigned char)s[i] >= 0x20);
}

static void check_error(const struct ap_titan_error *e)
{
    check_str(e->oauth_error, sizeof(e->oauth_error));
    check_str(e->title, sizeof(e->title));
    check_str(e->trace_id, sizeof(e->trace_id));
    check_str(e->fields, sizeof(e->fields));
}

static void fuzz_token(const char *s, size_t n, int status)
{
    struct ap_titan_token_resp r;
    struct ap_titan_error e = {0};
    enum ap_err err = ap_titan_parse_token_response(status, s, n, &r, &e);

    check_error(&e);
    if (err == AP_OK) {
        CHECK(status == 200);
        CHECK(r.access_token && r.access_token[0] && !strpbrk(r.access_token, " \t\r\n"));
        CHECK(strlen(r.access_token) <= AP_TITAN_MAX_TOKEN);
        CHECK(r.expires_in >= 1 && r.expires_in <= AP_TITAN_MAX_EXPIRES_IN);
        CHECK(r.scope != NULL);
    } else {
        CHECK(r.access_token == NULL && r.scope == NULL);
        CHECK(e.stage == AP_TITAN_STAGE_TOKEN && e.status == status && e.title[0]);
    }
    ap_titan_token_resp_cleanup(&r);
}

static void fuzz_jwt(const char *jwt)
{
    struct ap_titan_token_info ti;

    if (ap_titan_jwt_claims(jwt, &ti) == AP_OK) {
        CHECK(ti.tenant_id > 0);
        CHECK(ti.nscopes <= AP_TITAN_MAX_SCOPES);
        for (size_t i = 0; i < ti.nscopes; i++)
            CHECK(ti.scopes[i] && ti.scopes[i][0]);
        CHECK(ti.expires_at_ns >= 0);
    } else {
        CHECK(ti.scopes == NULL && ti.nscopes == 0);
    }
    ap_titan_token_info_cleanup(&ti);
}

/* The input as the payload of a JWT, so the claims decoder sees JSON. */
static char *wrap_jwt(const uint8_t *d, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = ap_xmalloc(n * 2 + 16), *o = out;
    uint32_t acc = 0;
    int bits = 0;

    o += sprintf(o, "e30.");
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | d[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            *o++ = a[(acc >> bits) & 63];
        }
    }
    if (bits)
        *o++ = a[(acc << (6 - bits)) & 63];
    strcpy(o, ".sig");
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char *z, *jwt;
    struct ap_titan_error e;
    int64_t ns = 0;
    int secs = -1;
    static const int statuses[] = {200, 400, 401, 429, 503};

    if (size > 64 * 1024)
        return 0;
    z = ap_xstrndup(s, size);
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        fuzz_token(s, size, statuses[i]);

    memset(&e, 0, sizeof(e));
    ap_titan_parse_error_body(size ? data[0] + 300 : 500, s, size, &e);
    check_error(&e);
    CHECK(e.title[0]);

    fuzz_jwt(z);
    jwt = wrap_jwt(data, size);
    fuzz_jwt(jwt);
    free(jwt);

    if (ap_titan_retry_after(z, z, 1700000000LL * 1000000000LL, &secs))
        CHECK(secs >= 0 && secs <= AP_TITAN_MAX_RETRY_AFTER_S + 1);
    if (ap_titan_parse_time(z, &ns)) {
        /* the date part alone parses, and the time of day and offset move it by < 2 days */
        int64_t day = 0;
        CHECK(size >= 10);
        z[10] = '\0';
        CHECK(ap_titan_parse_time(z, &day));
        CHECK(ns - day > -2 * 86400 * 1000000000LL && ns - day < 2 * 86400 * 1000000000LL);
    }
    free(z);
    return 0;
}

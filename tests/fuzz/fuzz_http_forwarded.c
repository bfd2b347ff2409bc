/*
 * fuzz_http_forwarded.c — libFuzzer target of the http adapter's address
 * decoders (src/http/decode.c): IP addresses, CIDR lists (trusted-proxies)
 * and the client behind an X-Forwarded-For chain.
 *
 * Input lines: the trusted-proxies list, the TCP peer, then X-Forwarded-For
 * header values (one per line).
 * Checks: a list either parses (at most HTTP_CIDRS_MAX entries, host bits
 * clear, prefixes in range, each network matching itself) or is refused
 * with a message and left empty; every address that parses prints as text
 * that parses back to the same address; the client of an untrusted peer is
 * the peer whatever the header says, and with no trusted proxies at all it
 * is always the peer.
 */
#include "fuzz_http.h"

#include "http/parse_int.h"

#define LINES 8

static void check_ip_roundtrip(struct ap_str s)
{
    struct http_ip ip, again;
    char text[HTTP_IP_TEXT_MAX];
    if (!http_ip_parse(s, &ip))
        return;
    http_ip_format(&ip, text);
    CHECK(strlen(text) < sizeof(text));
    CHECK(http_ip_parse(ap_str_c(text), &again));
    CHECK(memcmp(ip.b, again.b, 16) == 0);
}

static void check_cidrs(const char *text, struct http_cidrs *set)
{
    char err[200] = "";
    if (http_cidrs_parse(text, set, err, sizeof(err)) != AP_OK) {
        CHECK(err[0] && set->n == 0);
        return;
    }
    CHECK(set->n <= HTTP_CIDRS_MAX);
    for (size_t i = 0; i < set->n; i++) {
        CHECK(set->v[i].bits >= 0 && set->v[i].bits <= 128);
        struct http_cidrs one = {.n = 1, .v = {set->v[i]}};
        CHECK(http_cidrs_match(&one, &set->v[i].net));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ap_str l[LINES];
    struct http_cidrs trusted, none = {0};
    struct http_ip peer, c;
    size_t n = fuzz_lines(data, size, l, LINES);
    for (size_t i = 0; i < n; i++)
        check_ip_roundtrip(l[i]);
    char *list = fuzz_cstr(l[0]);
    if (!list)
        return 0;
    check_cidrs(list, &trusted);
    free(list);
    if (n < 2 || !http_ip_parse(l[1], &peer))
        return 0;
    c = http_xff_client(&trusted, &peer, l + 2, n - 2);
    if (!http_cidrs_match(&trusted, &peer))
        CHECK(memcmp(c.b, peer.b, 16) == 0);
    c = http_xff_client(&none, &peer, l + 2, n - 2);
    CHECK(memcmp(c.b, peer.b, 16) == 0);
    return 0;
}

/*
 * fuzz_http_origin.c — libFuzzer target of the http adapter's origin and
 * host decoders (src/http/decode.c): public-url lists, Host headers, Origin
 * headers and the same-origin check built on them.
 *
 * Input lines: a public-url list, a Host header value, an Origin header value.
 * Checks: a parsed URL's canonical text parses back to the same origin (and
 * as an Origin, which allows no path); its own host and port match it as a
 * Host; a parsed Host is lowercase with a port in range; an Origin that is
 * "the same" as a scheme and Host parses, has that scheme and names that
 * Host; a list either parses or is refused with a message and left empty.
 */
#include "fuzz_http.h"

#include <ctype.h>

#include "http/parse_int.h"

static void check_origin(const struct http_origin *o)
{
    struct http_origin again;
    char host[HTTP_HOST_MAX + 24];
    CHECK(strcmp(o->scheme, "http") == 0 || strcmp(o->scheme, "https") == 0);
    CHECK(o->port >= 1 && o->port <= 65535);
    CHECK(http_origin_parse(ap_str_c(o->text), false, &again));
    CHECK(strcmp(again.text, o->text) == 0 && strcmp(again.host, o->host) == 0);
    CHECK(again.port == o->port && strcmp(again.scheme, o->scheme) == 0);
    snprintf(host, sizeof(host), "%s:%d", o->host, o->port);
    CHECK(http_origin_host_matches(o, ap_str_c(host)));
    CHECK(http_origin_same(ap_str_c(o->text), o->scheme, ap_str_c(host)));
}

static void check_host(struct ap_str value)
{
    char host[HTTP_HOST_MAX + 1];
    int port = -1;
    if (!http_host_parse(value, host, &port))
        return;
    CHECK(port >= 0 && port <= 65535);
    CHECK(strlen(host) >= 1 && strlen(host) <= HTTP_HOST_MAX);
    for (const char *p = host; *p; p++)
        CHECK(!isupper((unsigned char)*p) && (unsigned char)*p > 0x20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ap_str l[3] = {{"", 0}, {"", 0}, {"", 0}};
    struct http_origins list;
    struct http_origin o;
    char err[200] = "";
    fuzz_lines(data, size, l, 3);
    char *text = fuzz_cstr(l[0]);
    if (text) {
        if (http_origins_parse(text, &list, err, sizeof(err)) == AP_OK) {
            CHECK(list.n <= HTTP_ORIGINS_MAX);
            for (size_t i = 0; i < list.n; i++)
                check_origin(&list.v[i]);
        } else {
            CHECK(err[0] && list.n == 0);
        }
        free(text);
    }
    for (int i = 0; i < 3; i++) {
        check_host(l[i]);
        if (http_origin_parse(l[i], true, &o))
            check_origin(&o);
        if (http_origin_parse(l[i], false, &o)) {
            check_origin(&o);
            CHECK(http_origin_parse(l[i], true, &o));
        }
    }
    for (int s = 0; s < 2; s++) {
        const char *scheme = s ? "https" : "http";
        if (http_origin_same(l[2], scheme, l[1])) {
            CHECK(http_origin_parse(l[2], false, &o) && strcmp(o.scheme, scheme) == 0);
            CHECK(http_origin_host_matches(&o, l[1]));
        }
    }
    return 0;
}

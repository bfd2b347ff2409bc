/*
 * test_decode.c — the http adapter's pure decoders (src/http/decode.c via
 * parse_int.h): %-decoding, form pairs, cookies, IP addresses and CIDR
 * lists, the client behind X-Forwarded-For, public URLs, Origin and Host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "http/http.h"
#include "http/parse_int.h"

static struct ap_str S(const char *s) {
    return ap_str_c(s);
}

static void
test_decode_and_pairs(void **state)
{
    struct ap_arena a = {0};
    assert_string_equal(ap_http_decode(&a, S("a%20b+c"), true), "a b c");
    assert_string_equal(ap_http_decode(&a, S("a%20b+c"), false), "a b+c");
    assert_null(ap_http_decode(&a, S("bad%2"), false));
    assert_null(ap_http_decode(&a, S("bad%zz"), false));
    assert_null(ap_http_decode(&a, S("nul%00"), false));
    assert_string_equal(http_pairs_find(&a, S("a=1&b=x%2By&a=2"), "a"), "1");
    assert_string_equal(http_pairs_find(&a, S("a=1&b=x%2By"), "b"), "x+y");
    assert_string_equal(http_pairs_find(&a, S("flag&x=1"), "flag"), "");
    assert_string_equal(http_pairs_find(&a, S("my+key=v"), "my key"), "v");
    assert_null(http_pairs_find(&a, S("a=1"), "b"));
    assert_null(http_pairs_find(&a, S("a=%zz"), "a"));
    assert_null(http_pairs_find(&a, S(""), "a"));
    ap_arena_free(&a);
}

static void test_cookies(void **state)
{
    struct ap_arena a = {0};
    assert_string_equal(http_cookie_find(&a, S("sid=abc; theme=\"dark\""), "theme"), "dark");
    assert_string_equal(http_cookie_find(&a, S("sid=abc; theme=\"dark\""), "sid"), "abc");
    assert_null(http_cookie_find(&a, S("sidx=1; xsid=2"), "sid"));
    assert_string_equal(http_cookie_find(&a, S("  a=1 ;b= 2 "), "b"), " 2");
    assert_null(http_cookie_find(&a, S(";;;"), "a"));
    ap_arena_free(&a);
}

static void ip_text(const char *in, const char *want)
{
    struct http_ip ip;
    char out[HTTP_IP_TEXT_MAX];
    assert_true(http_ip_parse(S(in), &ip));
    http_ip_format(&ip, out);
    assert_string_equal(out, want);
}

static void test_ip_parse(void **state)
{
    struct http_ip ip;
    ip_text("192.0.2.1", "192.0.2.1");
    ip_text("::ffff:192.0.2.1", "192.0.2.1"); /* IPv4-mapped reads as IPv4 */
    ip_text("2001:DB8:0:0::1", "2001:db8::1");
    ip_text("::1", "::1");
    const char *bad[] = {"",      "1.2.3",    "1.2.3.4.5",  "01.2.3.4", "256.1.1.1",
                         "[::1]", "::1%eth0", "1.2.3.4:80", "x",        "::g"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(http_ip_parse(S(bad[i]), &ip));
    assert_true(http_ip_parse(S("127.9.8.7"), &ip));
    assert_true(http_ip_is_loopback(&ip));
    assert_true(http_ip_parse(S("::1"), &ip));
    assert_true(http_ip_is_loopback(&ip));
    assert_true(http_ip_parse(S("10.0.0.1"), &ip));
    assert_false(http_ip_is_loopback(&ip));
}

static bool in(const struct http_cidrs *c, const char *addr)
{
    struct http_ip ip;
    assert_true(http_ip_parse(S(addr), &ip));
    return http_cidrs_match(c, &ip);
}

static void test_cidrs(void **state)
{
    struct http_cidrs c;
    char err[200] = "";
    assert_int_equal(http_cidrs_parse("10.0.0.0/8, 192.0.2.7 fd00::/8,::1", &c, err, sizeof(err)),
                     AP_OK);
    assert_int_equal(c.n, 4);
    assert_true(in(&c, "10.200.3.4"));
    assert_false(in(&c, "11.0.0.1"));
    assert_true(in(&c, "192.0.2.7"));
    assert_false(in(&c, "192.0.2.8"));
    assert_true(in(&c, "fd12::5"));
    assert_false(in(&c, "fe80::1"));
    assert_true(in(&c, "::1"));
    assert_true(in(&c, "::ffff:10.1.1.1")); /* a mapped peer of a dual-stack socket */
    /* host bits are cleared; /0 matches everything of its family */
    assert_int_equal(http_cidrs_parse("10.1.2.3/16 0.0.0.0/0", &c, err, sizeof(err)), AP_OK);
    assert_true(in(&c, "10.1.99.99"));
    assert_true(in(&c, "203.0.113.9"));
    assert_false(in(&c, "2001:db8::1"));
    assert_int_equal(http_cidrs_parse(NULL, &c, err, sizeof(err)), AP_OK);
    assert_int_equal(c.n, 0);
    assert_false(in(&c, "10.0.0.1"));
    const char *bad[] = {"10.0.0.0/33", "::/129",       "10.0.0.0/",   "10.0.0.0/-1",
                         "example.com", "10.0.0.0/8/8", "10.0.0.0/0x8"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(http_cidrs_parse(bad[i], &c, err, sizeof(err)), AP_EINVAL);
        assert_non_null(strstr(err, "is not an IPv4 or IPv6 address or CIDR"));
        assert_int_equal(c.n, 0);
    }
}

/* The client for peer and X-Forwarded-For values (NULL-terminated), as text. */
static const char *client(const char *trusted, const char *peer, const char *const *xff)
{
    static char out[HTTP_IP_TEXT_MAX];
    struct http_cidrs t;
    struct http_ip p, c;
    struct ap_str v[8];
    char err[200];
    size_t n = 0;
    assert_int_equal(http_cidrs_parse(trusted, &t, err, sizeof(err)), AP_OK);
    assert_true(http_ip_parse(S(peer), &p));
    while (xff && xff[n])
        v[n] = S(xff[n]), n++;
    c = http_xff_client(&t, &p, v, n);
    http_ip_format(&c, out);
    return out;
}

static void test_xff_client(void **state)
{
    const char *one[] = {"203.0.113.9", NULL};
    /* an untrusted peer's header is ignored */
    assert_string_equal(client("", "198.51.100.1", one), "198.51.100.1");
    assert_string_equal(client("10.0.0.0/8", "198.51.100.1", one), "198.51.100.1");
    /* a trusted proxy's is believed */
    assert_string_equal(client("10.0.0.0/8", "10.0.0.2", one), "203.0.113.9");
    /* the right-most untrusted entry: a client cannot pick its address by sending one first */
    const char *spoof[] = {"1.2.3.4, 203.0.113.9", NULL};
    assert_string_equal(client("10.0.0.0/8", "10.0.0.2", spoof), "203.0.113.9");
    /* chains of trusted proxies are walked, across repeated headers */
    const char *chain[] = {"1.2.3.4, 203.0.113.9", "10.0.0.7,10.0.0.8", NULL};
    assert_string_equal(client("10.0.0.0/8", "10.0.0.2", chain), "203.0.113.9");
    /* ports and brackets */
    const char *ported[] = {"[2001:db8::7]:443", NULL};
    assert_string_equal(client("10.0.0.0/8", "10.0.0.2", ported), "2001:db8::7");
    const char *ported4[] = {"203.0.113.9:5000", NULL};
    assert_string_equal(client("10.0.0.0/8", "10.0.0.2", ported4), "203.0.113.9");
    /* garbage stops the walk at the last trusted hop */
    const char *junk[] = {"203.0.113.9, unknown", NULL};
    assert_string_equal(client("10.0.0.0/8", "10.0.0.2", junk), "10.0.0.2");
    const char *empty[] = {"", NULL};
    assert_string_equal(client("10.0.0.0/8", "10.0.0.2", empty), "10.0.0.2");
    /* all trusted: the left-most */
    const char *all[] = {"10.1.1.1, 10.2.2.2", NULL};
    assert_string_equal(client("10.0.0.0/8", "10.0.0.2", all), "10.1.1.1");
    /* no header: the proxy itself */
    assert_string_equal(client("10.0.0.0/8", "10.0.0.2", NULL), "10.0.0.2");
    /* a mapped peer on a dual-stack socket matches an IPv4 CIDR */
    assert_string_equal(client("127.0.0.1", "::ffff:127.0.0.1", one), "203.0.113.9");
}

static void test_xff_hops_bounded(void **state)
{
    char longest[HTTP_XFF_HOPS_MAX * 12 + 32] = "203.0.113.9";
    for (int i = 0; i < HTTP_XFF_HOPS_MAX + 2; i++)
        strcat(longest, ", 10.9.9.9");
    const char *v[] = {longest, NULL};
    /* the walk gives up after HTTP_XFF_HOPS_MAX entries, on a trusted hop */
    assert_string_equal(client("10.0.0.0/8", "10.0.0.2", v), "10.9.9.9");
}

static void test_origins(void **state)
{
    struct http_origin o;
    assert_true(http_origin_parse(S("HTTPS://Book.Example.com/booking/"), true, &o));
    assert_string_equal(o.scheme, "https");
    assert_string_equal(o.host, "book.example.com");
    assert_int_equal(o.port, 443);
    assert_string_equal(o.text, "https://book.example.com");
    assert_false(http_origin_parse(S("https://book.example.com/"), false, &o));
    assert_true(http_origin_parse(S("http://[::1]:8080"), false, &o));
    assert_string_equal(o.text, "http://[::1]:8080");
    assert_true(http_origin_parse(S("http://example.com:80"), false, &o));
    assert_string_equal(o.text, "http://example.com");
    const char *bad[] = {"null",
                         "ftp://x.com",
                         "https://",
                         "https://u:p@x.com",
                         "https://x.com:0",
                         "https://x.com:99999",
                         "https://[zz]",
                         "https://x y.com",
                         "//x.com",
                         "https://x.com?q",
                         "https://x.com:8a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(http_origin_parse(S(bad[i]), true, &o));

    assert_true(http_origin_parse(S("https://book.example.com"), true, &o));
    assert_true(http_origin_host_matches(&o, S("book.example.com")));
    assert_true(http_origin_host_matches(&o, S("BOOK.example.com:443")));
    assert_false(http_origin_host_matches(&o, S("book.example.com:8443")));
    assert_false(http_origin_host_matches(&o, S("evil.example.com")));
    assert_false(http_origin_host_matches(&o, S("")));

    /* same-origin without public URLs: scheme, host and port all count */
    assert_true(http_origin_same(S("http://127.0.0.1:8080"), "http", S("127.0.0.1:8080")));
    assert_false(http_origin_same(S("https://127.0.0.1:8080"), "http", S("127.0.0.1:8080")));
    assert_false(http_origin_same(S("http://127.0.0.1:8080"), "https", S("127.0.0.1:8080")));
    assert_true(http_origin_same(S("https://Example.com"), "https", S("example.com:443")));
    assert_false(http_origin_same(S("http://example.com"), "http", S("example.com:8080")));
    assert_false(http_origin_same(S("null"), "http", S("example.com")));
}

static void test_origin_lists(void **state)
{
    struct http_origins os;
    char err[200] = "";
    assert_int_equal(
        http_origins_parse("https://a.example, http://b.example:8080/x", &os, err, sizeof(err)),
        AP_OK);
    assert_int_equal(os.n, 2);
    assert_string_equal(os.v[1].text, "http://b.example:8080");
    assert_int_equal(http_origins_parse("https://a.example b.example", &os, err, sizeof(err)),
                     AP_EINVAL);
    assert_non_null(strstr(err, "'b.example' is not an http:// or https:// URL"));
    assert_int_equal(os.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_and_pairs), cmocka_unit_test(test_cookies),
        cmocka_unit_test(test_ip_parse),         cmocka_unit_test(test_cidrs),
        cmocka_unit_test(test_xff_client),       cmocka_unit_test(test_xff_hops_bounded),
        cmocka_unit_test(test_origins),          cmocka_unit_test(test_origin_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

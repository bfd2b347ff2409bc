/*
 * parse_int.h — private to src/http (and to its unit tests and fuzz
 * targets): the adapter's hand-written decoders of untrusted bytes, as pure
 * functions of their input. No libh2o here, no I/O, no global state: a
 * fuzz target can call each of them on any bytes.
 *
 *   - application/x-www-form-urlencoded pairs (query strings, form bodies);
 *   - Cookie headers;
 *   - IP addresses and CIDR lists (--trusted-proxies) and the client
 *     address behind them (X-Forwarded-For);
 *   - origins: a public URL (--public-url), an Origin header, a Host header.
 *
 * ap_http_decode() (the %-decoder under them all) is public: see http.h.
 *
 * Every size is bounded: slices longer than the limits below are refused,
 * not truncated. Functions that return text put it in the caller's arena.
 */
#ifndef AP_HTTP_PARSE_INT_H
#define AP_HTTP_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"

#define HTTP_IP_TEXT_MAX  46  /* INET6_ADDRSTRLEN, with its NUL */
#define HTTP_CIDRS_MAX    64  /* entries of one trusted-proxies list */
#define HTTP_XFF_HOPS_MAX 32  /* X-Forwarded-For entries walked, right to left */
#define HTTP_ORIGINS_MAX  16  /* entries of one public-url list */
#define HTTP_HOST_MAX     255 /* a host name, an IPv6 literal in brackets included */
#define HTTP_ORIGIN_MAX   (HTTP_HOST_MAX + 16) /* "https://" host ":65535" */

/* ---- form pairs and cookies ---------------------------------------------- */

/*
 * The value of name in "k=v&k2=v2" text (a query string or a form body),
 * %- and '+'-decoded into a. NULL when absent, or when the first pair whose
 * key is name has a badly encoded value. A key without '=' has the value "".
 */
const char *http_pairs_find(struct ap_arena *a, struct ap_str text, const char *name);

/*
 * The value of cookie name in one Cookie header value ("a=1; b=2"), copied
 * into a as sent, without surrounding double quotes. NULL if absent.
 */
const char *http_cookie_find(struct ap_arena *a, struct ap_str header, const char *name);

/* ---- addresses ----------------------------------------------------------- */

/* An IPv6 address; IPv4 is kept IPv4-mapped (::ffff:a.b.c.d), so one compare fits both. */
struct http_ip {
    uint8_t b[16];
};

/* Parses a bare IPv4 (dotted quad) or IPv6 address (no brackets, no port, no zone). */
bool http_ip_parse(struct ap_str s, struct http_ip *out);
/* "192.0.2.1" for IPv4 (mapped or not), RFC 5952 text for IPv6. */
void http_ip_format(const struct http_ip *ip, char out[HTTP_IP_TEXT_MAX]);
bool http_ip_is_v4(const struct http_ip *ip);
/* 127.0.0.0/8 or ::1. */
bool http_ip_is_loopback(const struct http_ip *ip);

struct http_cidr {
    struct http_ip net; /* host bits cleared */
    int bits;           /* prefix length over the 16 bytes (IPv4's /n is 96 + n) */
};

struct http_cidrs {
    size_t n;
    struct http_cidr v[HTTP_CIDRS_MAX];
};

/*
 * Parses a list of addresses and CIDRs ("10.0.0.0/8, 192.0.2.7 fd00::/8")
 * separated by commas and/or blanks; NULL or empty text is the empty list.
 * An address without /n is one host. Host bits after the prefix are
 * cleared. On a bad entry: AP_EINVAL and err says which and what is expected
 * (out then holds the empty list).
 */
enum ap_err http_cidrs_parse(const char *text, struct http_cidrs *out, char *err, size_t errlen);
bool http_cidrs_match(const struct http_cidrs *set, const struct http_ip *ip);

/*
 * The client behind a chain of proxies: starting from the TCP peer, while
 * the current hop is trusted, step to the entry left of it in
 * X-Forwarded-For (values: the header's values in the order received, each
 * a comma-separated list). The client is the first hop that is not trusted
 * (the right-most untrusted address). When an entry is not an address
 * ("unknown", garbage), or the walk passes HTTP_XFF_HOPS_MAX entries, the
 * last trusted hop is the answer; so is the left-most entry when every hop
 * is trusted. An entry may carry a port ("192.0.2.1:5000", "[2001:db8::1]:80").
 */
struct http_ip http_xff_client(const struct http_cidrs *trusted, const struct http_ip *peer,
                               const struct ap_str *values, size_t nvalues);

/* ---- origins and hosts --------------------------------------------------- */

struct http_origin {
    char scheme[6];                 /* "http" or "https" */
    char host[HTTP_HOST_MAX + 1];   /* lowercase; an IPv6 literal keeps its brackets */
    int port;                       /* as written, else the scheme's default */
    char text[HTTP_ORIGIN_MAX + 1]; /* canonical "scheme://host[:port]", default port left out */
};

/*
 * Parses "scheme://host[:port]" with scheme http or https (any case), a
 * host name, IPv4 or [IPv6] host, no user info. With allow_path a path
 * ("/booking/") may follow and is ignored (a public URL); without, nothing
 * may follow (an Origin header). False when url is not such a URL.
 */
bool http_origin_parse(struct ap_str url, bool allow_path, struct http_origin *out);

/*
 * Parses a Host header value: host[:port] ([IPv6][:port]). host gets the
 * lowercase host, *port the port or 0 when none was written.
 */
bool http_host_parse(struct ap_str value, char host[HTTP_HOST_MAX + 1], int *port);

/* True when the Host header value names o's host and port (a missing port is the default). */
bool http_origin_host_matches(const struct http_origin *o, struct ap_str host_header);

/*
 * True when an Origin header value is the origin scheme://host_header: same
 * scheme, same host (any case), same port (defaults filled in).
 */
bool http_origin_same(struct ap_str origin, const char *scheme, struct ap_str host_header);

struct http_origins {
    size_t n;
    struct http_origin v[HTTP_ORIGINS_MAX];
};

/*
 * Parses a list of public URLs separated by commas and/or blanks
 * ("https://book.acme.com, https://acme.example:8443/"). On a bad entry:
 * AP_EINVAL and err names it (out then holds the empty list).
 */
enum ap_err http_origins_parse(const char *text, struct http_origins *out, char *err,
                               size_t errlen);

#endif

/*
 * decode.c — the adapter's hand-written decoders of untrusted bytes (see
 * parse_int.h): %-decoding, form pairs, Cookie headers, IP addresses and
 * CIDR lists, X-Forwarded-For chains, origins and Host headers.
 *
 * All of them are pure functions of their input, never read past the slice
 * they are given, and refuse (rather than truncate) anything longer than
 * their limits. They are fuzzed by tests/fuzz/fuzz_http_*.c and replayed
 * over the committed corpora by every `make check`.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"
#include "http/parse_int.h"

#define ENTRY_TEXT_MAX 300 /* one list entry (an address, a CIDR, a URL) */

/* ---- %-decoding, pairs and cookies --------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *ap_http_decode(struct ap_arena *a, struct ap_str s, bool plus_is_space)
{
    char *out = ap_arena_alloc(a, s.len + 1), *o = out;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '%') {
            if (i + 2 >= s.len)
                return NULL;
            int hi = hexval(s.p[i + 1]);
            int lo = hexval(s.p[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0')
            return NULL;
        *o++ = c;
    }
    *o = '\0';
    return out;
}

const char *http_pairs_find(struct ap_arena *a, struct ap_str text, const char *name)
{
    const char *p = text.p, *end = text.p + text.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        const char *ke = eq ? eq : pe;
        char *key = ap_http_decode(a, (struct ap_str){p, (size_t)(ke - p)}, true);
        if (key && strcmp(key, name) == 0) {
            struct ap_str v = eq ? (struct ap_str){eq + 1, (size_t)(pe - eq - 1)} : AP_STR("");
            return ap_http_decode(a, v, true);
        }
        p = pe + 1;
    }
    return NULL;
}

const char *http_cookie_find(struct ap_arena *a, struct ap_str header, const char *name)
{
    const char *p = header.p, *end = header.p + header.len;
    size_t nlen = strlen(name);
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq + 1;
            size_t n = (size_t)(pe - v);
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                v++;
                n -= 2;
            }
            return ap_arena_strndup(a, v, n);
        }
        p = pe + 1;
    }
    return NULL;
}

/* ---- addresses ----------------------------------------------------------- */

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool http_ip_is_v4(const struct http_ip *ip)
{
    return memcmp(ip->b, v4_mapped, sizeof(v4_mapped)) == 0;
}

bool http_ip_parse(struct ap_str s, struct http_ip *out)
{
    char buf[HTTP_IP_TEXT_MAX];
    if (s.len == 0 || s.len >= sizeof(buf) || memchr(s.p, '\0', s.len))
        return false;
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    if (memchr(buf, ':', s.len))
        return inet_pton(AF_INET6, buf, out->b) == 1;
    memcpy(out->b, v4_mapped, sizeof(v4_mapped));
    return inet_pton(AF_INET, buf, out->b + 12) == 1;
}

void http_ip_format(const struct http_ip *ip, char out[HTTP_IP_TEXT_MAX])
{
    const char *ok = http_ip_is_v4(ip) ? inet_ntop(AF_INET, ip->b + 12, out, HTTP_IP_TEXT_MAX)
                                       : inet_ntop(AF_INET6, ip->b, out, HTTP_IP_TEXT_MAX);
    if (!ok)
        snprintf(out, HTTP_IP_TEXT_MAX, "-");
}

bool http_ip_is_loopback(const struct http_ip *ip)
{
    static const uint8_t v6_loopback[16] = {[15] = 1};
    if (http_ip_is_v4(ip))
        return ip->b[12] == 127;
    return memcmp(ip->b, v6_loopback, 16) == 0;
}

/* Clears the bits of ip after the first bits. */
static void mask_bits(struct http_ip *ip, int bits)
{
    for (int i = 0; i < 16; i++) {
        int keep = bits - i * 8;
        if (keep >= 8)
            continue;
        ip->b[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
    }
}

static bool cidr_parse(struct ap_str s, struct http_cidr *out)
{
    const char *slash = memchr(s.p, '/', s.len);
    struct ap_str addr = {s.p, slash ? (size_t)(slash - s.p) : s.len};
    if (!http_ip_parse(addr, &out->net))
        return false;
    bool v4 = http_ip_is_v4(&out->net) && !memchr(addr.p, ':', addr.len);
    int max = v4 ? 32 : 128, bits = max;
    if (slash) {
        const char *d = slash + 1, *end = s.p + s.len;
        if (d == end || end - d > 3)
            return false;
        for (bits = 0; d < end; d++) {
            if (*d < '0' || *d > '9')
                return false;
            bits = bits * 10 + (*d - '0');
        }
        if (bits > max)
            return false;
    }
    out->bits = v4 ? 96 + bits : bits;
    mask_bits(&out->net, out->bits);
    return true;
}

static bool is_list_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t';
}

/* Next entry of a comma/blank separated list from *p; false at the end. */
static bool next_entry(const char **p, struct ap_str *entry)
{
    const char *s = *p;
    while (*s && is_list_sep(*s))
        s++;
    if (!*s)
        return false;
    const char *e = s;
    while (*e && !is_list_sep(*e))
        e++;
    *entry = (struct ap_str){s, (size_t)(e - s)};
    *p = e;
    return true;
}

enum ap_err http_cidrs_parse(const char *text, struct http_cidrs *out, char *err, size_t errlen)
{
    struct ap_str e;
    const char *p = text ? text : "";
    out->n = 0;
    while (next_entry(&p, &e)) {
        if (out->n == HTTP_CIDRS_MAX) {
            snprintf(err, errlen, "more than %d entries", HTTP_CIDRS_MAX);
            goto bad;
        }
        if (e.len > ENTRY_TEXT_MAX || !cidr_parse(e, &out->v[out->n])) {
            snprintf(err, errlen,
                     "'%.*s' is not an IPv4 or IPv6 address or CIDR (such as 10.0.0.0/8, "
                     "192.0.2.7 or fd00::/8)",
                     (int)(e.len > 64 ? 64 : e.len), e.p);
            goto bad;
        }
        out->n++;
    }
    return AP_OK;
bad:
    out->n = 0;
    return AP_EINVAL;
}

bool http_cidrs_match(const struct http_cidrs *set, const struct http_ip *ip)
{
    for (size_t i = 0; i < set->n; i++) {
        struct http_ip m = *ip;
        mask_bits(&m, set->v[i].bits);
        if (memcmp(m.b, set->v[i].net.b, 16) == 0)
            return true;
    }
    return false;
}

/* One X-Forwarded-For entry: an address, "v4:port", "[v6]" or "[v6]:port". */
static bool xff_entry_parse(struct ap_str s, struct http_ip *out)
{
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.len--;
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
        s.len--;
    if (s.len && s.p[0] == '[') {
        const char *close = memchr(s.p, ']', s.len);
        if (!close)
            return false;
        size_t rest = s.len - (size_t)(close + 1 - s.p);
        if (rest && close[1] != ':')
            return false;
        return http_ip_parse((struct ap_str){s.p + 1, (size_t)(close - s.p - 1)}, out);
    }
    const char *colon = memchr(s.p, ':', s.len);
    if (colon && !memchr(colon + 1, ':', s.len - (size_t)(colon + 1 - s.p)))
        s.len = (size_t)(colon - s.p); /* IPv4 with a port */
    return http_ip_parse(s, out);
}

struct http_ip http_xff_client(const struct http_cidrs *trusted, const struct http_ip *peer,
                               const struct ap_str *values, size_t nvalues)
{
    struct http_ip cur = *peer, next;
    size_t hops = 0;
    for (size_t v = nvalues; v-- > 0;) {
        const char *start = values[v].p, *end = values[v].p + values[v].len;
        for (;;) {
            const char *comma = end;
            while (comma > start && comma[-1] != ',')
                comma--;
            if (!http_cidrs_match(trusted, &cur) || ++hops > HTTP_XFF_HOPS_MAX ||
                !xff_entry_parse((struct ap_str){comma, (size_t)(end - comma)}, &next))
                return cur;
            cur = next;
            if (comma == start)
                break;
            end = comma - 1;
        }
    }
    return cur;
}

/* ---- origins and hosts --------------------------------------------------- */

static bool host_char_ok(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int default_port(const char *scheme)
{
    return strcmp(scheme, "https") == 0 ? 443 : 80;
}

/* Digits of a port 1..65535. */
static bool port_parse(struct ap_str s, int *port)
{
    int v = 0;
    if (s.len == 0 || s.len > 5)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (s.p[i] - '0');
    }
    *port = v;
    return v >= 1 && v <= 65535;
}

/* The host part: a bracketed IPv6 literal, or a name / IPv4 of host characters. */
static bool host_part(struct ap_str h, char host[HTTP_HOST_MAX + 1])
{
    struct http_ip ip;
    if (h.len == 0 || h.len > HTTP_HOST_MAX)
        return false;
    if (h.p[0] == '[') {
        if (h.len < 3 || h.p[h.len - 1] != ']' ||
            !http_ip_parse((struct ap_str){h.p + 1, h.len - 2}, &ip))
            return false;
    } else {
        for (size_t i = 0; i < h.len; i++)
            if (!host_char_ok(h.p[i]))
                return false;
    }
    for (size_t i = 0; i < h.len; i++)
        host[i] = (char)tolower((unsigned char)h.p[i]);
    host[h.len] = '\0';
    return true;
}

bool http_host_parse(struct ap_str value, char host[HTTP_HOST_MAX + 1], int *port)
{
    const char *hend = value.p + value.len;
    *port = 0;
    if (value.len && value.p[0] == '[') {
        const char *close = memchr(value.p, ']', value.len);
        if (!close)
            return false;
        hend = close + 1;
    } else {
        const char *colon = memchr(value.p, ':', value.len);
        if (colon)
            hend = colon;
    }
    struct ap_str rest = {hend, value.len - (size_t)(hend - value.p)};
    if (rest.len &&
        (rest.p[0] != ':' || !port_parse((struct ap_str){rest.p + 1, rest.len - 1}, port)))
        return false;
    return host_part((struct ap_str){value.p, (size_t)(hend - value.p)}, host);
}

bool http_origin_parse(struct ap_str url, bool allow_path, struct http_origin *out)
{
    const char *sep = url.len > 3 ? memmem(url.p, url.len, "://", 3) : NULL;
    if (!sep)
        return false;
    size_t slen = (size_t)(sep - url.p);
    if (slen == 4 && strncasecmp(url.p, "http", 4) == 0)
        snprintf(out->scheme, sizeof(out->scheme), "http");
    else if (slen == 5 && strncasecmp(url.p, "https", 5) == 0)
        snprintf(out->scheme, sizeof(out->scheme), "https");
    else
        return false;
    const char *auth = sep + 3, *end = url.p + url.len, *aend = auth;
    while (aend < end && *aend != '/' && *aend != '?' && *aend != '#')
        aend++;
    if (aend < end && (!allow_path || *aend != '/'))
        return false;
    for (const char *p = aend; p < end; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    if (memchr(auth, '@', (size_t)(aend - auth)))
        return false;
    int port = 0;
    if (!http_host_parse((struct ap_str){auth, (size_t)(aend - auth)}, out->host, &port))
        return false;
    out->port = port ? port : default_port(out->scheme);
    if (out->port == default_port(out->scheme))
        snprintf(out->text, sizeof(out->text), "%s://%s", out->scheme, out->host);
    else
        snprintf(out->text, sizeof(out->text), "%s://%s:%d", out->scheme, out->host, out->port);
    return true;
}

bool http_origin_host_matches(const struct http_origin *o, struct ap_str host_header)
{
    char host[HTTP_HOST_MAX + 1];
    int port = 0;
    if (!http_host_parse(host_header, host, &port))
        return false;
    return strcmp(host, o->host) == 0 && (port ? port : default_port(o->scheme)) == o->port;
}

bool http_origin_same(struct ap_str origin, const char *scheme, struct ap_str host_header)
{
    struct http_origin o;
    if (!http_origin_parse(origin, false, &o) || strcmp(o.scheme, scheme) != 0)
        return false;
    return http_origin_host_matches(&o, host_header);
}

enum ap_err http_origins_parse(const char *text, struct http_origins *out, char *err, size_t errlen)
{
    struct ap_str e;
    const char *p = text ? text : "";
    out->n = 0;
    while (next_entry(&p, &e)) {
        if (out->n == HTTP_ORIGINS_MAX) {
            snprintf(err, errlen, "more than %d URLs", HTTP_ORIGINS_MAX);
            goto bad;
        }
        if (e.len > ENTRY_TEXT_MAX || !http_origin_parse(e, true, &out->v[out->n])) {
            snprintf(err, errlen,
                     "'%.*s' is not an http:// or https:// URL with a host (such as "
                     "https://book.example.com or http://192.0.2.7:8080)",
                     (int)(e.len > 80 ? 80 : e.len), e.p);
            goto bad;
        }
        out->n++;
    }
    return AP_OK;
bad:
    out->n = 0;
    return AP_EINVAL;
}

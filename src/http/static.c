/*
 * static.c — serves the files under static_root for GET/HEAD requests the
 * router did not match (the dashboard and the widget: plain HTML, CSS, ES
 * modules, no build step).
 *
 * The URL path after static_prefix is %-decoded; "." and ".." segments and
 * NUL bytes are refused, and the realpath() of the result must lie inside
 * the realpath() of the root, so neither dot segments nor symlinks escape
 * it. A directory serves its index.html (a directory URL without its
 * trailing slash is redirected to one). Responses carry a strong ETag made
 * of size and mtime, and If-None-Match gives 304. Compressible types are
 * gzipped for clients that accept it; the compressed bytes are cached per
 * (file, etag) in a bounded LRU shared by the loops (a mutex: static files
 * are not the hot path). Files above MAX_MEM_FILE are streamed by h2o's file
 * sender instead, without gzip. When configured, every file response (304s
 * included) carries the Content-Security-Policy given at creation — the
 * dashboard's pages rely on it to forbid inline and foreign scripts.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/log.h"
#include "http/http_int.h"

#define MAX_MEM_FILE (8u << 20)
#define GZ_ENTRIES   256
#define GZ_MAX_BYTES (32u << 20)

struct gz_entry {
    char *key; /* realpath "\n" etag; NULL when empty */
    char *data;
    size_t len;
    bool smaller; /* false: gzip did not help, serve identity */
    uint64_t used;
};

struct http_static {
    char *root; /* realpath of static_root */
    size_t rootlen;
    char *prefix; /* without trailing '/', "" for "/" */
    size_t prefixlen;
    char *csp; /* Content-Security-Policy header value, or NULL */
    pthread_mutex_t mu;
    struct gz_entry ents[GZ_ENTRIES];
    size_t bytes;
    uint64_t tick;
};

struct file_type {
    const char *ext;
    const char *mime;
    bool compressible;
};

static const struct file_type types[] = {
    {"html", "text/html; charset=utf-8", true},
    {"css", "text/css; charset=utf-8", true},
    {"js", "text/javascript; charset=utf-8", true},
    {"mjs", "text/javascript; charset=utf-8", true},
    {"json", "application/json", true},
    {"svg", "image/svg+xml", true},
    {"txt", "text/plain; charset=utf-8", true},
    {"png", "image/png", false},
    {"ico", "image/x-icon", false},
    {"woff2", "font/woff2", false},
};

static const struct file_type *type_of(const char *path)
{
    static const struct file_type other = {"", "application/octet-stream", false};
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return &other;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return &types[i];
    return &other;
}

struct http_static *http_static_new(const char *root, const char *prefix, const char *csp,
                                    char *err, size_t errlen)
{
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(root, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "static root %s is not a readable directory", root);
        return NULL;
    }
    struct http_static *s = ap_xcalloc(1, sizeof(*s));
    s->root = ap_xstrdup(real);
    s->rootlen = strlen(real);
    if (!prefix || prefix[0] != '/')
        prefix = "/";
    s->prefixlen = strlen(prefix);
    while (s->prefixlen > 0 && prefix[s->prefixlen - 1] == '/')
        s->prefixlen--;
    s->prefix = ap_xstrndup(prefix, s->prefixlen);
    s->csp = csp && csp[0] ? ap_xstrdup(csp) : NULL;
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void http_static_free(struct http_static *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < GZ_ENTRIES; i++) {
        free(s->ents[i].key);
        free(s->ents[i].data);
    }
    pthread_mutex_destroy(&s->mu);
    free(s->root);
    free(s->prefix);
    free(s->csp);
    free(s);
}

static bool segments_ok(const char *p)
{
    while (*p) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
    }
    return true;
}

/* The decoded path below the prefix ("/a/b" or ""), or NULL when not ours / refused. */
static const char *relative_path(struct http_static *s, struct ap_http_req *r)
{
    struct ap_str path = ap_http_path(r);
    if (path.len < s->prefixlen || memcmp(path.p, s->prefix, s->prefixlen) != 0)
        return NULL;
    struct ap_str rest = {path.p + s->prefixlen, path.len - s->prefixlen};
    if (rest.len > 0 && rest.p[0] != '/')
        return NULL;
    char *dec = ap_http_decode(&r->arena, rest, false);
    if (!dec || !segments_ok(dec))
        return NULL;
    return dec;
}

static bool inside_root(struct http_static *s, const char *real)
{
    return strncmp(real, s->root, s->rootlen) == 0 &&
           (real[s->rootlen] == '/' || real[s->rootlen] == '\0');
}

static bool etag_matches(const char *inm, const char *etag, const char *etag_gz)
{
    if (!inm)
        return false;
    while (*inm) {
        inm += strspn(inm, " \t,");
        size_t n = strcspn(inm, ",");
        while (n > 0 && (inm[n - 1] == ' ' || inm[n - 1] == '\t'))
            n--;
        const char *t = inm;
        size_t tn = n;
        if (tn >= 2 && t[0] == 'W' && t[1] == '/') {
            t += 2;
            tn -= 2;
        }
        if ((tn == 1 && t[0] == '*') || (tn == strlen(etag) && memcmp(t, etag, tn) == 0) ||
            (tn == strlen(etag_gz) && memcmp(t, etag_gz, tn) == 0))
            return true;
        inm += n;
        inm += strcspn(inm, ",");
    }
    return false;
}

static bool read_all(int fd, char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = pread(fd, buf + off, len - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    return true;
}

char *http_gzip(const char *in, size_t len, int level, size_t *outlen)
{
    z_stream zs = {0};
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&zs, (uLong)len);
    char *out = ap_xmalloc(cap);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    *outlen = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

static struct gz_entry *gz_find(struct http_static *s, const char *key)
{
    for (size_t i = 0; i < GZ_ENTRIES; i++)
        if (s->ents[i].key && strcmp(s->ents[i].key, key) == 0)
            return &s->ents[i];
    return NULL;
}

static struct gz_entry *gz_slot(struct http_static *s, bool want_empty)
{
    struct gz_entry *lru = NULL;
    for (size_t i = 0; i < GZ_ENTRIES; i++) {
        struct gz_entry *e = &s->ents[i];
        if (want_empty && !e->key)
            return e;
        if (!want_empty && e->key && (!lru || e->used < lru->used))
            lru = e;
    }
    return lru;
}

/* Stores (key, data), evicting least recently used entries; takes data. Locked. */
static struct gz_entry *gz_store(struct http_static *s, const char *key, char *data, size_t len,
                                 bool smaller)
{
    struct gz_entry *e = gz_find(s, key);
    if (e) {
        free(data);
        return e;
    }
    while (s->bytes + len > GZ_MAX_BYTES || !gz_slot(s, true)) {
        struct gz_entry *lru = gz_slot(s, false);
        s->bytes -= lru->len;
        free(lru->key);
        free(lru->data);
        *lru = (struct gz_entry){0};
    }
    e = gz_slot(s, true);
    *e = (struct gz_entry){ap_xstrdup(key), data, len, smaller, ++s->tick};
    s->bytes += len;
    return e;
}

/* The gzip form of body in r's pool, or {NULL,0} when gzip does not make it smaller. */
static h2o_iovec_t gz_get(struct http_static *s, struct ap_http_req *r, const char *key,
                          const char *body, size_t len)
{
    h2o_iovec_t out = {NULL, 0};
    pthread_mutex_lock(&s->mu);
    struct gz_entry *e = gz_find(s, key);
    if (!e) {
        pthread_mutex_unlock(&s->mu);
        size_t zlen = 0;
        char *z = http_gzip(body, len, 9, &zlen);
        bool smaller = z && zlen < len;
        if (!smaller) {
            free(z);
            z = NULL;
            zlen = 0;
        }
        pthread_mutex_lock(&s->mu);
        e = gz_store(s, key, z, zlen, smaller);
    }
    e->used = ++s->tick;
    if (e->smaller)
        out = h2o_strdup(&r->h2o->pool, e->data, e->len);
    pthread_mutex_unlock(&s->mu);
    return out;
}

static void redirect_dir(struct ap_http_req *r)
{
    struct ap_str p = ap_http_path(r);
    char *loc = ap_arena_printf(&r->arena, "%.*s/", (int)p.len, p.p);
    ap_http_add_header(r, "Location", loc);
    http_send(r, 301, NULL, NULL, 0);
}

struct file_req {
    const char *real;
    const struct file_type *type;
    struct stat st;
    char etag[64], etag_gz[72];
    bool gzip_ok;
};

static void send_file(struct http_static *s, struct ap_http_req *r, struct file_req *f, int fd)
{
    char *body = h2o_mem_alloc_pool(&r->h2o->pool, (size_t)f->st.st_size + 1);
    size_t len = (size_t)f->st.st_size;
    if (!read_all(fd, body, len)) {
        http_send_error(r, 500, "internal", "cannot read the file");
        return;
    }
    if (f->gzip_ok) {
        char *key = ap_arena_printf(&r->arena, "%s\n%s", f->real, f->etag);
        h2o_iovec_t z = gz_get(s, r, key, body, len);
        if (z.base) {
            ap_http_add_header(r, "ETag", f->etag_gz);
            ap_http_add_header(r, "Content-Encoding", "gzip");
            http_send(r, 200, f->type->mime, z.base, z.len);
            return;
        }
    }
    ap_http_add_header(r, "ETag", f->etag);
    http_send(r, 200, f->type->mime, body, len);
}

static void serve_open(struct http_static *s, struct ap_http_req *r, struct file_req *f, int fd)
{
    long long mt = (long long)f->st.st_mtim.tv_sec * 1000000000LL + f->st.st_mtim.tv_nsec;
    snprintf(f->etag, sizeof(f->etag), "\"%llx-%llx\"", (long long)f->st.st_size, mt);
    snprintf(f->etag_gz, sizeof(f->etag_gz), "\"%llx-%llx-gz\"", (long long)f->st.st_size, mt);
    f->type = type_of(f->real);
    f->gzip_ok = f->type->compressible &&
                 (h2o_get_compressible_types(&r->h2o->headers) & H2O_COMPRESSIBLE_GZIP);
    if (f->type->compressible)
        ap_http_add_header(r, "Vary", "Accept-Encoding");
    ap_http_add_header(r, "X-Content-Type-Options", "nosniff");
    if (s->csp)
        ap_http_add_header(r, "Content-Security-Policy", s->csp);
    if (etag_matches(ap_http_header(r, "if-none-match"), f->etag, f->etag_gz)) {
        ap_http_add_header(r, "ETag", f->gzip_ok ? f->etag_gz : f->etag);
        http_send(r, 304, NULL, NULL, 0);
        return;
    }
    if ((uint64_t)f->st.st_size > MAX_MEM_FILE) {
        h2o_iovec_t mime = h2o_strdup(&r->h2o->pool, f->type->mime, strlen(f->type->mime));
        r->responded = true;
        h2o_add_header_by_str(&r->h2o->pool, &r->h2o->res.headers, H2O_STRLIT("x-request-id"), 0,
                              NULL, r->id, strlen(r->id));
        h2o_file_send(r->h2o, 200, "OK", f->real, mime, 0);
        return;
    }
    send_file(s, r, f, fd);
}

bool http_static_serve(struct http_static *s, struct ap_http_req *r)
{
    const char *rel = relative_path(s, r);
    if (!rel)
        return false;
    size_t rl = strlen(rel);
    bool dir_url = rl == 0 || rel[rl - 1] == '/';
    char *want = ap_arena_printf(&r->arena, "%s%s%s", s->root, rel, dir_url ? "/index.html" : "");
    char real[PATH_MAX];
    struct file_req f = {.real = real};
    if (strlen(want) >= PATH_MAX || !realpath(want, real) || !inside_root(s, real))
        return false;
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fstat(fd, &f.st) == 0;
    if (ok && S_ISDIR(f.st.st_mode) && !dir_url)
        redirect_dir(r);
    else if (ok && S_ISREG(f.st.st_mode))
        serve_open(s, r, &f, fd);
    else
        ok = false;
    close(fd);
    return ok;
}

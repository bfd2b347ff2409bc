/*
 * router.c — maps (method, path) to a handler.
 *
 * Patterns are split on '/' into a tree of segments: literal children, at
 * most one ':param' child, and a set of '*rest' routes per node. Matching
 * walks the tree trying literals before the parameter and the parameter
 * before a trailing capture, backtracking when a branch has no route for the
 * method, so a literal route always beats a capture. When some branch
 * matched the path but none the method, the most specific such branch gives
 * the 405 and its Allow list. No allocation happens while matching.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "http/http.h"

#define MAX_PARAMS  8
#define MAX_METHOD  15
#define MAX_PATTERN 1024

struct route {
    char method[MAX_METHOD + 1]; /* "*" for any */
    ap_http_handler_fn fn;
    void *ud;
    char *pattern;
    size_t nnames;
    char *names[MAX_PARAMS];
};

struct route_set {
    struct route *v;
    size_t n;
    char allow[160];
};

struct node {
    char *lit;
    size_t litlen;
    struct node **lits;
    size_t nlits;
    struct node *param;
    struct route_set here; /* routes ending at this node */
    struct route_set wild; /* "*name" routes below this node */
};

struct ap_router {
    struct node root;
};

struct walk {
    struct ap_str method;
    struct ap_str vals[MAX_PARAMS];
    size_t nvals;
    struct ap_route_match *m;
    const char *mismatch_allow;
};

struct ap_router *ap_router_new(void)
{
    return ap_xcalloc(1, sizeof(struct ap_router));
}

static void set_cleanup(struct route_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].pattern);
        for (size_t j = 0; j < s->v[i].nnames; j++)
            free(s->v[i].names[j]);
    }
    free(s->v);
}

static void node_cleanup(struct node *n)
{
    for (size_t i = 0; i < n->nlits; i++) {
        node_cleanup(n->lits[i]);
        free(n->lits[i]);
    }
    free(n->lits);
    if (n->param) {
        node_cleanup(n->param);
        free(n->param);
    }
    free(n->lit);
    set_cleanup(&n->here);
    set_cleanup(&n->wild);
}

void ap_router_free(struct ap_router *r)
{
    if (!r)
        return;
    node_cleanup(&r->root);
    free(r);
}

static bool method_ok(const char *m)
{
    size_t n = strlen(m);
    if (strcmp(m, "*") == 0)
        return true;
    if (n == 0 || n > MAX_METHOD)
        return false;
    for (size_t i = 0; i < n; i++)
        if (m[i] < 'A' || m[i] > 'Z')
            return false;
    return true;
}

static struct node *child_lit(struct node *n, const char *seg, size_t len)
{
    for (size_t i = 0; i < n->nlits; i++)
        if (n->lits[i]->litlen == len && memcmp(n->lits[i]->lit, seg, len) == 0)
            return n->lits[i];
    struct node *c = ap_xcalloc(1, sizeof(*c));
    c->lit = ap_xstrndup(seg, len);
    c->litlen = len;
    n->lits = ap_xrealloc(n->lits, (n->nlits + 1) * sizeof(*n->lits));
    n->lits[n->nlits++] = c;
    return c;
}

static void allow_append(char *allow, size_t cap, const char *method)
{
    size_t len = strlen(allow);
    if (strstr(allow, method))
        return;
    snprintf(allow + len, cap - len, "%s%s", len ? ", " : "", method);
}

static enum ap_err set_add(struct route_set *s, const struct route *rt)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].method, rt->method) == 0)
            return AP_ECONFLICT;
    s->v = ap_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
    s->v[s->n++] = *rt;
    if (strcmp(rt->method, "*") == 0)
        return AP_OK;
    allow_append(s->allow, sizeof(s->allow), rt->method);
    if (strcmp(rt->method, "GET") == 0)
        allow_append(s->allow, sizeof(s->allow), "HEAD");
    return AP_OK;
}

/* Walks/creates the nodes of pattern; returns the set the route belongs in. */
static struct route_set *place(struct ap_router *r, const char *pattern, struct route *rt)
{
    struct node *n = &r->root;
    const char *p = pattern + 1, *end = pattern + strlen(pattern);
    for (;;) {
        const char *se = memchr(p, '/', (size_t)(end - p));
        if (!se)
            se = end;
        size_t len = (size_t)(se - p);
        if (len > 1 && (*p == ':' || *p == '*')) {
            if (rt->nnames == MAX_PARAMS)
                return NULL;
            rt->names[rt->nnames++] = ap_xstrndup(p + 1, len - 1);
            if (*p == '*')
                return se == end ? &n->wild : NULL;
            if (!n->param)
                n->param = ap_xcalloc(1, sizeof(*n->param));
            n = n->param;
        } else {
            n = child_lit(n, p, len);
        }
        if (se == end)
            return &n->here;
        p = se + 1;
    }
}

enum ap_err ap_router_add(struct ap_router *r, const char *method, const char *pattern,
                          ap_http_handler_fn fn, void *ud)
{
    struct route rt = {.fn = fn, .ud = ud};
    enum ap_err err = AP_EINVAL;
    if (!r || !fn || !method || !pattern || pattern[0] != '/' || !method_ok(method) ||
        strlen(pattern) > MAX_PATTERN)
        goto out;
    snprintf(rt.method, sizeof(rt.method), "%s", method);
    struct route_set *set = place(r, pattern, &rt);
    if (!set)
        goto out;
    rt.pattern = ap_xstrdup(pattern);
    err = set_add(set, &rt);
out:
    if (err != AP_OK) {
        free(rt.pattern);
        for (size_t i = 0; i < rt.nnames; i++)
            free(rt.names[i]);
    }
    return err;
}

static const struct route *pick(const struct route_set *s, struct ap_str method)
{
    const struct route *get = NULL, *any = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const struct route *rt = &s->v[i];
        if (ap_str_eq_c(method, rt->method))
            return rt;
        if (rt->method[0] == '*')
            any = rt;
        else if (strcmp(rt->method, "GET") == 0)
            get = rt;
    }
    if (get && ap_str_eq_c(method, "HEAD"))
        return get;
    return any;
}

static bool try_set(const struct route_set *s, struct walk *w, const struct ap_str *rest)
{
    if (s->n == 0)
        return false;
    const struct route *rt = pick(s, w->method);
    if (!rt) {
        if (!w->mismatch_allow)
            w->mismatch_allow = s->allow;
        return false;
    }
    struct ap_route_match *m = w->m;
    m->fn = rt->fn;
    m->ud = rt->ud;
    m->pattern = rt->pattern;
    m->nparams = rt->nnames;
    for (size_t i = 0; i < w->nvals; i++)
        m->values[i] = w->vals[i];
    if (rest)
        m->values[w->nvals] = *rest;
    for (size_t i = 0; i < rt->nnames; i++)
        m->names[i] = ap_str_c(rt->names[i]);
    return true;
}

/* p..end is what follows the last consumed '/'; more is false once the path is used up. */
static bool walk(const struct node *n, const char *p, const char *end, bool more, struct walk *w)
{
    if (!more) {
        static const struct ap_str empty = {"", 0};
        return try_set(&n->here, w, NULL) || try_set(&n->wild, w, &empty);
    }
    const char *se = memchr(p, '/', (size_t)(end - p));
    bool nmore = se != NULL;
    if (!se)
        se = end;
    const char *next = nmore ? se + 1 : end;
    size_t len = (size_t)(se - p);
    for (size_t i = 0; i < n->nlits; i++) {
        const struct node *c = n->lits[i];
        if (c->litlen == len && memcmp(c->lit, p, len) == 0 && walk(c, next, end, nmore, w))
            return true;
    }
    if (n->param && len > 0 && w->nvals < MAX_PARAMS) {
        w->vals[w->nvals++] = (struct ap_str){p, len};
        if (walk(n->param, next, end, nmore, w))
            return true;
        w->nvals--;
    }
    struct ap_str rest = {p, (size_t)(end - p)};
    return try_set(&n->wild, w, &rest);
}

bool ap_router_match(const struct ap_router *r, struct ap_str method, struct ap_str path,
                     struct ap_route_match *m)
{
    struct walk w = {.method = method, .m = m};
    m->fn = NULL;
    m->ud = NULL;
    m->pattern = NULL;
    m->nparams = 0;
    m->method_mismatch = false;
    m->allow = NULL;
    if (!r || path.len == 0 || path.p[0] != '/')
        return false;
    if (walk(&r->root, path.p + 1, path.p + path.len, true, &w))
        return true;
    m->method_mismatch = w.mismatch_allow != NULL;
    m->allow = w.mismatch_allow;
    return false;
}

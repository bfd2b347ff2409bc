/*
 * mem.c — allocation that aborts on exhaustion, and the bump arena.
 *
 * Out of memory is not a condition appointd can answer well in the middle of
 * a request, so the process says so and stops; a supervisor restarts it.
 */
#include "core/mem.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void oom(size_t n)
{
    char msg[96];
    int len = snprintf(msg, sizeof(msg), "appointd: out of memory (asked for %zu bytes)\n", n);
    if (len > 0)
        (void)!write(2, msg, (size_t)len);
    abort();
}

void *ap_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *ap_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *ap_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *ap_xstrdup(const char *s)
{
    return s ? ap_xstrndup(s, strlen(s)) : NULL;
}

char *ap_xstrndup(const char *s, size_t n)
{
    char *p = ap_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ap_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    return out;
}

/* ---- arena ------------------------------------------------------------ */

#define ARENA_CHUNK 4096
#define ARENA_ALIGN alignof(max_align_t)

struct ap_arena_chunk {
    struct ap_arena_chunk *next;
    alignas(max_align_t) unsigned char data[];
};

void *ap_arena_alloc(struct ap_arena *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n)
        oom(n);
    if (!a->chunks || a->cap - a->used < need) {
        size_t cap = need > ARENA_CHUNK / 2 ? need : ARENA_CHUNK;
        struct ap_arena_chunk *c = ap_xmalloc(sizeof(*c) + cap);
        if (a->chunks && need > ARENA_CHUNK / 2) {
            /* A big block gets its own chunk behind the current one, so the
             * free space of the current chunk is not thrown away. */
            c->next = a->chunks->next;
            a->chunks->next = c;
            return c->data;
        }
        c->next = a->chunks;
        a->chunks = c;
        a->used = 0;
        a->cap = cap;
    }
    void *p = a->chunks->data + a->used;
    a->used += need;
    return p;
}

char *ap_arena_strndup(struct ap_arena *a, const char *s, size_t n)
{
    char *p = ap_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ap_arena_strdup(struct ap_arena *a, const char *s)
{
    return s ? ap_arena_strndup(a, s, strlen(s)) : NULL;
}

char *ap_arena_printf(struct ap_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *tmp = NULL;
    int n = vasprintf(&tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    char *p = ap_arena_strndup(a, tmp, (size_t)n);
    free(tmp);
    return p;
}

void ap_arena_free(struct ap_arena *a)
{
    if (!a)
        return;
    struct ap_arena_chunk *c = a->chunks;
    while (c) {
        struct ap_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->chunks = NULL;
    a->used = 0;
    a->cap = 0;
}

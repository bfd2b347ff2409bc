/*
 * mem.h — allocation that never returns NULL, and a bump arena.
 *
 * ap_x* functions abort the process with a message when memory is exhausted:
 * every caller may assume success. An arena hands out memory that lives until
 * ap_arena_free(); the http adapter gives each request one, so handler
 * temporaries need no individual free.
 */
#ifndef AP_CORE_MEM_H
#define AP_CORE_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *ap_xmalloc(size_t n);
void *ap_xcalloc(size_t count, size_t size);
void *ap_xrealloc(void *p, size_t n);
/* Returns a malloc'd copy of s (caller frees). s may be NULL: returns NULL. */
char *ap_xstrdup(const char *s);
/* Returns a malloc'd, NUL-terminated copy of the first n bytes of s. */
char *ap_xstrndup(const char *s, size_t n);
/* Returns a malloc'd formatted string (caller frees). */
char *ap_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct ap_arena_chunk;

struct ap_arena {
    struct ap_arena_chunk *chunks;
    size_t used; /* bytes handed out from the newest chunk */
    size_t cap;  /* size of the newest chunk */
};

#define AP_ARENA_INIT                                                                              \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Memory from the arena, aligned for any type; freed by ap_arena_free(). */
void *ap_arena_alloc(struct ap_arena *a, size_t n);
char *ap_arena_strndup(struct ap_arena *a, const char *s, size_t n);
char *ap_arena_strdup(struct ap_arena *a, const char *s);
char *ap_arena_printf(struct ap_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Frees every chunk; the arena is empty and reusable afterwards. NULL ok. */
void ap_arena_free(struct ap_arena *a);

#endif

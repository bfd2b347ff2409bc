/*
 * fuzz_http.h — what the http adapter's fuzz targets (fuzz_http_*.c) share:
 * the invariant check that aborts, and splitting an input into lines (each
 * target reads its several inputs — a name and a text, a header list, a
 * proxy list and a chain — as lines of one input).
 */
#ifndef AP_TESTS_FUZZ_HTTP_H
#define AP_TESTS_FUZZ_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/*
 * Splits data into at most max lines on '\n' (the last line takes the rest,
 * newlines included). Returns how many lines were filled; slices point into data.
 */
static inline size_t fuzz_lines(const uint8_t *data, size_t size, struct ap_str *out, size_t max)
{
    const char *p = (const char *)data, *end = p + size;
    size_t n = 0;
    while (n < max) {
        const char *nl = n + 1 < max ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        out[n++] = (struct ap_str){p, nl ? (size_t)(nl - p) : (size_t)(end - p)};
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

/* A NUL-terminated copy of s (malloc'd), or NULL when s holds a NUL byte. */
static inline char *fuzz_cstr(struct ap_str s)
{
    if (memchr(s.p, '\0', s.len))
        return NULL;
    char *c = malloc(s.len + 1);
    memcpy(c, s.p, s.len);
    c[s.len] = '\0';
    return c;
}

#endif

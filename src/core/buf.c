/*
 * buf.c — bounded growable buffers and string slices.
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"

struct ap_str ap_str_c(const char *s)
{
    return (struct ap_str){s ? s : "", s ? strlen(s) : 0};
}

bool ap_str_eq(struct ap_str a, struct ap_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool ap_str_eq_c(struct ap_str a, const char *s)
{
    return ap_str_eq(a, ap_str_c(s));
}

bool ap_str_case_eq_c(struct ap_str a, const char *s)
{
    size_t n = strlen(s);
    return a.len == n && strncasecmp(a.p, s, n) == 0;
}

void ap_buf_init(struct ap_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

/* Makes room for len + extra bytes plus the terminator. */
static enum ap_err reserve(struct ap_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return AP_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return AP_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = ap_xrealloc(b->data, cap);
    b->cap = cap;
    return AP_OK;
}

enum ap_err ap_buf_append(struct ap_buf *b, const void *p, size_t n)
{
    enum ap_err err = reserve(b, n);
    if (err)
        return err;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return AP_OK;
}

enum ap_err ap_buf_puts(struct ap_buf *b, const char *s)
{
    return ap_buf_append(b, s, strlen(s));
}

enum ap_err ap_buf_printf(struct ap_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    enum ap_err err = n < 0 ? AP_EINVAL : reserve(b, (size_t)n);
    if (!err) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
    return err;
}

void ap_buf_reset(struct ap_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *ap_buf_take(struct ap_buf *b)
{
    char *p = b->data ? b->data : ap_xstrdup("");
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void ap_buf_cleanup(struct ap_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

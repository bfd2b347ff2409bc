/*
 * buf.h — growable byte buffers with a hard maximum, and (ptr,len) slices.
 *
 * A buffer never grows past the max given at init: appends that would return
 * AP_ETOOBIG and leave the buffer unchanged. The data is always NUL
 * terminated (the terminator is not counted in len).
 */
#ifndef AP_CORE_BUF_H
#define AP_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct ap_str {
    const char *p;
    size_t len;
};

#define AP_STR(lit) ((struct ap_str){(lit), sizeof(lit) - 1})

/* Slice of a NUL-terminated string (NULL gives the empty slice). */
struct ap_str ap_str_c(const char *s);
bool ap_str_eq(struct ap_str a, struct ap_str b);
bool ap_str_eq_c(struct ap_str a, const char *s);
bool ap_str_case_eq_c(struct ap_str a, const char *s);

struct ap_buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* len never exceeds this */
};

void ap_buf_init(struct ap_buf *b, size_t max);
enum ap_err ap_buf_append(struct ap_buf *b, const void *p, size_t n);
enum ap_err ap_buf_puts(struct ap_buf *b, const char *s);
enum ap_err ap_buf_printf(struct ap_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Forget the contents, keep the memory. */
void ap_buf_reset(struct ap_buf *b);
/* Hands the data to the caller (free() it) and resets b to empty. Never NULL. */
char *ap_buf_take(struct ap_buf *b);
void ap_buf_cleanup(struct ap_buf *b);

#endif

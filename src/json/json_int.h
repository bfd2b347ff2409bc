/*
 * json_int.h — private helpers shared by the files of the JSON adapter.
 * Not for use outside src/json.
 */
#ifndef AP_JSON_JSON_INT_H
#define AP_JSON_JSON_INT_H

#include <stddef.h>

#define AP_JSON_STR_(x) #x
/* The value of macro x as a string literal. */
#define AP_JSON_STR(x) AP_JSON_STR_(x)

/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1), or 0 if invalid. */
size_t ap_json_utf8_len(const unsigned char *s, size_t n);
/* Copies s (NULL: "") into out[n], n >= 1, as valid, whole-character UTF-8. */
void ap_json_copy_utf8(char *out, size_t n, const char *s);
/* jansson could not allocate: abort like ap_xmalloc does. */
void ap_json_oom(void) __attribute__((noreturn));

#endif

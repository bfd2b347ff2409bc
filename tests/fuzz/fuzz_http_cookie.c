/*
 * fuzz_http_cookie.c — libFuzzer target of the http adapter's Cookie header
 * parser (src/http/decode.c: http_cookie_find).
 *
 * Input: the first line is the cookie name, the rest the header value.
 * Checks: a found value is a piece of the header as sent (copied, not
 * decoded), holds no ';' (the separator), and is shorter than the header;
 * a name that does not occur in the header is never found.
 */
#include "fuzz_http.h"

#include "core/mem.h"
#include "http/parse_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ap_str l[2];
    struct ap_arena a = {0};
    if (fuzz_lines(data, size, l, 2) < 2)
        return 0;
    char *name = fuzz_cstr(l[0]);
    if (!name)
        return 0;
    const char *v = http_cookie_find(&a, l[1], name);
    if (v) {
        size_t n = strlen(v);
        CHECK(n < l[1].len || (n == 0 && l[1].len == 0));
        CHECK(n == 0 || memmem(l[1].p, l[1].len, v, n));
        CHECK(!strchr(v, ';'));
        CHECK(memmem(l[1].p, l[1].len, name, strlen(name)) || !name[0]);
    }
    free(name);
    ap_arena_free(&a);
    return 0;
}

/*
 * fuzz_http_form.c — libFuzzer target of the http adapter's %-decoder and
 * form-pair finder (src/http/decode.c: ap_http_decode, http_pairs_find), as
 * query strings and x-www-form-urlencoded bodies reach them.
 *
 * Input: the first line is the name looked up, the rest the text.
 * Checks: a decoded text is never longer than its input, holds no NUL, and
 * survives a round trip (every byte %-encoded again decodes to the same
 * text); without '%' (and '+' when it means a space) decoding changes
 * nothing; a found value is a decode of part of the text, so never longer.
 */
#include "fuzz_http.h"

#include "core/mem.h"
#include "http/http.h"
#include "http/parse_int.h"

static void check_decode(struct ap_arena *a, struct ap_str s, bool plus)
{
    char *out = ap_http_decode(a, s, plus);
    if (!out) {
        CHECK(memchr(s.p, '%', s.len) || memchr(s.p, '\0', s.len));
        return;
    }
    size_t n = strlen(out);
    CHECK(n <= s.len);
    if (!memchr(s.p, '%', s.len) && !(plus && memchr(s.p, '+', s.len)))
        CHECK(n == s.len && memcmp(out, s.p, n) == 0);
    if (plus)
        CHECK(!strchr(out, '+') || memmem(s.p, s.len, "%2", 2)); /* '+' only from %2B */
    char *enc = ap_arena_alloc(a, 3 * n + 1);
    for (size_t i = 0; i < n; i++)
        snprintf(enc + 3 * i, 4, "%%%02X", (unsigned char)out[i]);
    char *back = ap_http_decode(a, (struct ap_str){enc, 3 * n}, plus);
    CHECK(back && strcmp(back, out) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ap_str l[2];
    struct ap_arena a = {0};
    size_t n = fuzz_lines(data, size, l, 2);
    struct ap_str text = n == 2 ? l[1] : l[0];
    check_decode(&a, text, false);
    check_decode(&a, text, true);
    char *name = n == 2 ? fuzz_cstr(l[0]) : NULL;
    if (name) {
        const char *v = http_pairs_find(&a, text, name);
        if (v)
            CHECK(strlen(v) <= text.len);
        free(name);
    }
    ap_arena_free(&a);
    return 0;
}

/*
 * test_buf.c — bounded buffers, slices and the arena.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

static void test_append_and_take(void **state)
{
    struct ap_buf b;
    ap_buf_init(&b, 64);
    assert_int_equal(ap_buf_puts(&b, "hello"), AP_OK);
    assert_int_equal(ap_buf_printf(&b, " %d+%s", 42, "x"), AP_OK);
    assert_string_equal(b.data, "hello 42+x");
    assert_int_equal(b.len, 10);
    char *s = ap_buf_take(&b);
    assert_string_equal(s, "hello 42+x");
    assert_null(b.data);
    free(s);
}

static void test_max_is_hard(void **state)
{
    struct ap_buf b;
    ap_buf_init(&b, 8);
    assert_int_equal(ap_buf_puts(&b, "12345678"), AP_OK);
    /* one byte over: refused, contents unchanged */
    assert_int_equal(ap_buf_puts(&b, "9"), AP_ETOOBIG);
    assert_int_equal(ap_buf_printf(&b, "%s", "9"), AP_ETOOBIG);
    assert_string_equal(b.data, "12345678");
    ap_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(ap_buf_append(&b, "ab\0cd", 5), AP_OK);
    assert_memory_equal(b.data, "ab\0cd", 6);
    ap_buf_cleanup(&b);
    ap_buf_cleanup(NULL);
}

static void test_take_empty_is_string(void **state)
{
    struct ap_buf b;
    ap_buf_init(&b, 8);
    char *s = ap_buf_take(&b);
    assert_string_equal(s, "");
    free(s);
}

static void test_slices(void **state)
{
    struct ap_str a = ap_str_c("GET");
    assert_true(ap_str_eq_c(a, "GET"));
    assert_false(ap_str_eq_c(a, "GE"));
    assert_true(ap_str_case_eq_c(a, "get"));
    assert_true(ap_str_eq(ap_str_c(NULL), AP_STR("")));
}

static void test_arena(void **state)
{
    struct ap_arena a = AP_ARENA_INIT;
    char *first = ap_arena_strdup(&a, "first");
    /* many small and a few big allocations, all aligned and intact */
    char *ptrs[200];
    for (int i = 0; i < 200; i++) {
        ptrs[i] = ap_arena_printf(&a, "item-%d", i);
        assert_int_equal((uintptr_t)ptrs[i] % _Alignof(max_align_t), 0);
    }
    char *big = ap_arena_alloc(&a, 100000);
    memset(big, 'x', 100000);
    char *after = ap_arena_strndup(&a, "after-big-xyz", 9);
    for (int i = 0; i < 200; i++) {
        char want[16];
        snprintf(want, sizeof(want), "item-%d", i);
        assert_string_equal(ptrs[i], want);
    }
    assert_string_equal(first, "first");
    assert_string_equal(after, "after-big");
    ap_arena_free(&a);
    assert_null(a.chunks);
    ap_arena_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_take),
        cmocka_unit_test(test_max_is_hard),
        cmocka_unit_test(test_take_empty_is_string),
        cmocka_unit_test(test_slices),
        cmocka_unit_test(test_arena),
    };
    return cmocka_run_group_tests_name("core/buf", tests, NULL, NULL);
}

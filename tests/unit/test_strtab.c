#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/strtab.h"

/* Intern a NUL-terminated string. */
static uint32_t I(cw_strtab *t, const char *s)
{
    return cw_strtab_intern(t, s, strlen(s));
}

/* Intern from a heap copy of exactly len bytes (no NUL after it), so that
 * AddressSanitizer catches a read past len or a pointer kept to the
 * caller's buffer (the copy is freed at once). */
static uint32_t intern_exact(cw_strtab *t, const char *s, size_t len)
{
    char *copy = malloc(len ? len : 1);
    uint32_t id;

    assert_non_null(copy);
    memcpy(copy, s, len);
    id = cw_strtab_intern(t, copy, len);
    free(copy);
    return id;
}

static void test_empty_string_is_id_zero(void **state)
{
    cw_strtab *t = cw_strtab_new();

    assert_int_equal(cw_strtab_count(t), 1);
    assert_string_equal(cw_strtab_str(t, 0), "");
    assert_int_equal(cw_strtab_len(t, 0), 0);
    /* Any pointer with length 0 is the empty string, even NULL. */
    assert_int_equal(cw_strtab_intern(t, "abc", 0), 0);
    assert_int_equal(cw_strtab_intern(t, NULL, 0), 0);
    assert_int_equal(cw_strtab_find(t, "xyz", 0), 0);
    /* ...and it is not counted again. */
    assert_int_equal(cw_strtab_count(t), 1);
    cw_strtab_free(t);
}

static void test_same_bytes_same_id(void **state)
{
    cw_strtab *t = cw_strtab_new();
    uint32_t a = intern_exact(t, "370102", 6);
    uint32_t b = intern_exact(t, "370102", 6);

    assert_true(a >= 1);
    assert_int_equal(a, b);
    assert_int_equal(I(t, "370102"), a);
    assert_int_equal(cw_strtab_count(t), 2);
    /* The table keeps its own copy: the input buffer is already freed. */
    assert_string_equal(cw_strtab_str(t, a), "370102");
    assert_int_equal(cw_strtab_len(t, a), 6);
    cw_strtab_free(t);
}

static void test_different_strings_differ(void **state)
{
    cw_strtab *t = cw_strtab_new();
    const char *words[] = { "a", "b", "ab", "ba", "abc", "abd", "A", "a ", " a",
                            "case.accepted", "case.accepte", "case.acceptedx",
                            "\xe5\x8f\x97\xe6\xa1\x88" /* 受案 */ };
    size_t n = sizeof words / sizeof *words;
    uint32_t ids[sizeof words / sizeof *words];

    for (size_t i = 0; i < n; i++)
        ids[i] = I(t, words[i]);
    for (size_t i = 0; i < n; i++) {
        assert_true(ids[i] != 0);
        assert_string_equal(cw_strtab_str(t, ids[i]), words[i]);
        for (size_t j = i + 1; j < n; j++)
            assert_true(ids[i] != ids[j]);
    }
    /* Ids are handed out densely from 1. */
    assert_int_equal(cw_strtab_count(t), n + 1);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ids[i], i + 1);
    cw_strtab_free(t);
}

static void test_length_not_nul_decides(void **state)
{
    cw_strtab *t = cw_strtab_new();
    uint32_t abc = cw_strtab_intern(t, "abcdef", 3);

    /* Only the first len bytes count, and the stored copy ends there. */
    assert_int_equal(cw_strtab_intern(t, "abc", 3), abc);
    assert_int_equal(cw_strtab_intern(t, "abcxyz", 3), abc);
    assert_string_equal(cw_strtab_str(t, abc), "abc");
    assert_int_equal(cw_strtab_len(t, abc), 3);
    assert_true(cw_strtab_intern(t, "abcdef", 6) != abc);
    assert_true(cw_strtab_intern(t, "abcdef", 2) != abc);

    /* Embedded NUL bytes are part of the string. */
    uint32_t n1 = cw_strtab_intern(t, "a\0b", 3);
    uint32_t n2 = cw_strtab_intern(t, "a\0c", 3);
    uint32_t a = cw_strtab_intern(t, "a", 1);
    assert_true(n1 != n2);
    assert_true(n1 != a);
    assert_int_equal(cw_strtab_len(t, n1), 3);
    assert_memory_equal(cw_strtab_str(t, n1), "a\0b", 4);
    assert_int_equal(cw_strtab_find(t, "a\0b", 3), n1);
    assert_int_equal(cw_strtab_find(t, "a\0d", 3), UINT32_MAX);
    cw_strtab_free(t);
}

static void test_find_does_not_add(void **state)
{
    cw_strtab *t = cw_strtab_new();
    uint32_t x = I(t, "x");

    assert_int_equal(cw_strtab_find(t, "x", 1), x);
    assert_int_equal(cw_strtab_find(t, "y", 1), UINT32_MAX);
    assert_int_equal(cw_strtab_find(t, "xx", 2), UINT32_MAX);
    assert_int_equal(cw_strtab_count(t), 2);
    /* A later intern of the absent string gets the next id. */
    assert_int_equal(I(t, "y"), 2);
    assert_int_equal(cw_strtab_find(t, "y", 1), 2);
    cw_strtab_free(t);
}

static void test_unknown_id(void **state)
{
    cw_strtab *t = cw_strtab_new();

    I(t, "one");
    assert_string_equal(cw_strtab_str(t, 2), "");
    assert_int_equal(cw_strtab_len(t, 2), 0);
    assert_string_equal(cw_strtab_str(t, UINT32_MAX), "");
    assert_int_equal(cw_strtab_len(t, UINT32_MAX), 0);
    cw_strtab_free(t);
}

/* Many interns force the id arrays to grow and the hash to rehash many
 * times; strings must keep their ids and their addresses. */
static void test_growth_keeps_ids_and_pointers(void **state)
{
    enum { EARLY = 50, MORE = 200000 };
    cw_strtab *t = cw_strtab_new();
    const char *early[EARLY];
    uint32_t early_id[EARLY];
    char buf[32];
    uint32_t base;

    for (int i = 0; i < EARLY; i++) {
        snprintf(buf, sizeof buf, "early-%d", i);
        early_id[i] = I(t, buf);
        early[i] = cw_strtab_str(t, early_id[i]);
    }
    base = cw_strtab_count(t);
    for (int i = 0; i < MORE; i++) {
        snprintf(buf, sizeof buf, "s%07d", i);
        assert_int_equal(intern_exact(t, buf, strlen(buf)), base + (uint32_t)i);
    }
    assert_int_equal(cw_strtab_count(t), base + MORE);
    for (int i = 0; i < EARLY; i++) {
        snprintf(buf, sizeof buf, "early-%d", i);
        /* Same address, same text, same id from both lookups. */
        assert_ptr_equal(cw_strtab_str(t, early_id[i]), early[i]);
        assert_string_equal(early[i], buf);
        assert_int_equal(cw_strtab_find(t, buf, strlen(buf)), early_id[i]);
        assert_int_equal(I(t, buf), early_id[i]);
    }
    /* Every string is still found after all the rehashing. */
    for (int i = 0; i < MORE; i++) {
        uint32_t id = base + (uint32_t)i;
        snprintf(buf, sizeof buf, "s%07d", i);
        assert_int_equal(cw_strtab_find(t, buf, strlen(buf)), id);
        assert_int_equal(cw_strtab_len(t, id), strlen(buf));
        assert_string_equal(cw_strtab_str(t, id), buf);
    }
    assert_int_equal(cw_strtab_find(t, "s0200000", 8), UINT32_MAX);
    assert_int_equal(cw_strtab_count(t), base + MORE);
    cw_strtab_free(t);
}

/* Strings beyond a quarter of a storage chunk get a chunk of their own;
 * small strings stored around them must not be disturbed. */
static void test_large_strings(void **state)
{
    cw_strtab *t = cw_strtab_new();
    size_t sizes[] = { 16383, 16384, 16385, 65535, 65536, 200000 };
    uint32_t ids[6], small[7];
    size_t bytes0 = cw_strtab_bytes(t);
    char name[16];

    /* A big string first, into a table that holds no text yet. */
    for (size_t k = 0; k < 6; k++) {
        char *s = malloc(sizes[k]);
        assert_non_null(s);
        memset(s, 'a' + (int)k, sizes[k]);
        snprintf(name, sizeof name, "small%zu", k);
        ids[k] = intern_exact(t, s, sizes[k]);
        small[k] = I(t, name);
        free(s);
    }
    small[6] = I(t, "after");
    assert_true(cw_strtab_bytes(t) >= bytes0 + 16383 + 16384 + 16385 + 65535 + 65536 + 200000);
    for (size_t k = 0; k < 6; k++) {
        const char *s = cw_strtab_str(t, ids[k]);
        assert_int_equal(cw_strtab_len(t, ids[k]), sizes[k]);
        for (size_t i = 0; i < sizes[k]; i++)
            if (s[i] != 'a' + (int)k)
                fail_msg("string %zu differs at byte %zu", k, i);
        assert_int_equal(s[sizes[k]], '\0');
        assert_int_equal(cw_strtab_find(t, s, sizes[k]), ids[k]);
        /* One byte shorter is another string, never interned. */
        assert_int_equal(cw_strtab_find(t, s, sizes[k] - 1), UINT32_MAX);
        snprintf(name, sizeof name, "small%zu", k);
        assert_string_equal(cw_strtab_str(t, small[k]), name);
    }
    assert_string_equal(cw_strtab_str(t, small[6]), "after");
    cw_strtab_free(t);
}

/* Interning text that lives in the table itself (a prefix of a stored
 * string) must copy it before any storage moves. */
static void test_intern_from_own_storage(void **state)
{
    cw_strtab *t = cw_strtab_new();
    uint32_t id = I(t, "prefix-and-more");
    const char *s = cw_strtab_str(t, id);
    uint32_t p;

    assert_int_equal(cw_strtab_intern(t, s, strlen(s)), id);
    p = cw_strtab_intern(t, s, 6);
    assert_true(p != id);
    assert_string_equal(cw_strtab_str(t, p), "prefix");
    /* Also across a growth of the id arrays. */
    for (int i = 0; i < 5000; i++) {
        const char *q = cw_strtab_str(t, id);
        cw_strtab_intern(t, q, (size_t)(i % 15) + 1);
        char buf[16];
        snprintf(buf, sizeof buf, "n%d", i);
        I(t, buf);
    }
    assert_string_equal(cw_strtab_str(t, id), "prefix-and-more");
    assert_int_equal(cw_strtab_find(t, "prefix-and-mor", 14), cw_strtab_intern(t, "prefix-and-mor", 14));
    cw_strtab_free(t);
}

static void test_count(void **state)
{
    cw_strtab *t = cw_strtab_new();

    assert_int_equal(cw_strtab_count(t), 1);
    I(t, "a");
    assert_int_equal(cw_strtab_count(t), 2);
    I(t, "a");
    assert_int_equal(cw_strtab_count(t), 2);
    I(t, "b");
    cw_strtab_find(t, "c", 1);
    assert_int_equal(cw_strtab_count(t), 3);
    cw_strtab_free(NULL);   /* allowed, like free() */
    cw_strtab_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_string_is_id_zero),
        cmocka_unit_test(test_same_bytes_same_id),
        cmocka_unit_test(test_different_strings_differ),
        cmocka_unit_test(test_length_not_nul_decides),
        cmocka_unit_test(test_find_does_not_add),
        cmocka_unit_test(test_unknown_id),
        cmocka_unit_test(test_growth_keeps_ids_and_pointers),
        cmocka_unit_test(test_large_strings),
        cmocka_unit_test(test_intern_from_own_storage),
        cmocka_unit_test(test_count),
    };
    return cmocka_run_group_tests_name("strtab", tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/yamltree.h"

static cw_ydoc *parse(const char *text)
{
    cw_ydoc *d = NULL;
    cw_err err;

    assert_int_equal(cw_ydoc_parse(&d, "t.yaml", text, strlen(text), &err), 0);
    return d;
}

static void test_scalars_keep_quoting_and_lines(void **state)
{
    cw_ydoc *d = parse("a: 1\nb: \"370102\"\nc:\n  - x\n  - y\n");
    const cw_ynode *a = cw_ymap_get(d->root, "a"), *b = cw_ymap_get(d->root, "b"),
                   *c = cw_ymap_get(d->root, "c");
    int64_t n;
    cw_err err;

    assert_non_null(a);
    assert_false(a->quoted);
    assert_true(b->quoted);
    assert_string_equal(b->text, "370102");
    assert_int_equal(b->line, 2);
    assert_int_equal(c->type, CW_Y_SEQ);
    assert_int_equal(c->n, 2);
    assert_int_equal(c->kids[1]->line, 5);
    assert_int_equal(cw_ynode_int(d, a, "a", &n, &err), 0);
    assert_int_equal(n, 1);
    /* a quoted number is a string, not an integer */
    assert_int_equal(cw_ynode_int(d, b, "b", &n, &err), CW_EPARSE);
    assert_non_null(strstr(err.msg, "t.yaml:2: field 'b'"));
    assert_null(cw_ymap_get(d->root, "missing"));
    cw_ydoc_free(d);
}

static void test_bool_and_null(void **state)
{
    cw_ydoc *d = parse("t: true\nf: false\nq: 'true'\nn: ~\ne:\n");
    bool b;
    cw_err err;

    assert_int_equal(cw_ynode_bool(d, cw_ymap_get(d->root, "t"), "t", &b, &err), 0);
    assert_true(b);
    assert_int_equal(cw_ynode_bool(d, cw_ymap_get(d->root, "f"), "f", &b, &err), 0);
    assert_false(b);
    assert_int_equal(cw_ynode_bool(d, cw_ymap_get(d->root, "q"), "q", &b, &err), CW_EPARSE);
    assert_true(cw_ynode_is_null(cw_ymap_get(d->root, "n")));
    assert_true(cw_ynode_is_null(cw_ymap_get(d->root, "e")));
    assert_false(cw_ynode_is_null(cw_ymap_get(d->root, "q")));
    cw_ydoc_free(d);
}

static void expect_error(const char *text, const char *needle)
{
    cw_ydoc *d = NULL;
    cw_err err;

    assert_int_equal(cw_ydoc_parse(&d, "bad.yaml", text, strlen(text), &err), CW_EPARSE);
    assert_null(d);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("'%s' not in '%s'", needle, err.msg);
}

static void test_errors_name_file_and_line(void **state)
{
    expect_error("a: 1\na: 2\n", "bad.yaml:2: duplicate key 'a'");
    expect_error("a: [1, 2\n", "bad.yaml:");
    expect_error("a: &x 1\nb: *x\n", "bad.yaml:2: aliases are not supported");
    expect_error("a: 1\n---\nb: 2\n", "only one YAML document");
    expect_error("? [1]\n: 2\n", "map keys must be scalars");
}

static void test_deep_nesting_refused(void **state)
{
    char buf[400];
    size_t n = 0;

    for (int i = 0; i < 100; i++)
        buf[n++] = '[';
    for (int i = 0; i < 100; i++)
        buf[n++] = ']';
    buf[n] = '\0';
    expect_error(buf, "nesting deeper than");
}

static void test_empty_document_and_missing_file(void **state)
{
    cw_ydoc *d = parse("");
    cw_err err;

    assert_null(d->root);
    cw_ydoc_free(d);
    assert_int_equal(cw_ydoc_load(&d, "/nonexistent/x.yaml", &err), CW_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.yaml"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_keep_quoting_and_lines),
        cmocka_unit_test(test_bool_and_null),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_deep_nesting_refused),
        cmocka_unit_test(test_empty_document_and_missing_file),
    };
    return cmocka_run_group_tests_name("yamltree", tests, NULL, NULL);
}

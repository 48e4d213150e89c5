/*
 * The plugin loader: the ABI check refuses another major version or a
 * newer minor one, naming both; a shared object without the entry symbol
 * is not a plugin; a plugin built for 1.1, whose model table ends before
 * the members 1.2 appended, still loads; the shipped plugins load and
 * offer their models, the discretion one with advise (1.2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules/ruleset.h"

#define LIBS CW_BUILDDIR "/tests/plugins/.libs/"

static void expect_refused(const char *path, int code, const char *a, const char *b)
{
    cw_plugin_handle h;
    cw_err err = { 0 };

    assert_int_equal(cw_plugin_open(path, &h, &err), code);
    if (strstr(err.msg, a) == NULL || (b && strstr(err.msg, b) == NULL))
        fail_msg("'%s' lacks '%s' / '%s'", err.msg, a, b ? b : "");
    assert_non_null(strstr(err.msg, path));
}

static void test_other_major_refused(void **state)
{
    char mine[32];

    (void)state;
    snprintf(mine, sizeof mine, "ABI %d.%d", CW_ABI_MAJOR, CW_ABI_MINOR);
    expect_refused(LIBS "badabi_major.so", CW_EABI, "built for plugin ABI 2.0", mine);
}

static void test_newer_minor_refused(void **state)
{
    char theirs[64], mine[32];

    (void)state;
    snprintf(theirs, sizeof theirs, "built for plugin ABI %d.%d", CW_ABI_MAJOR, CW_ABI_MINOR + 1);
    snprintf(mine, sizeof mine, "ABI %d.%d", CW_ABI_MAJOR, CW_ABI_MINOR);
    expect_refused(LIBS "badabi_minor.so", CW_EABI, theirs, mine);
}

static void test_no_entry_symbol(void **state)
{
    (void)state;
    expect_refused(LIBS "noentry.so", CW_EABI, "no cw_plugin_entry symbol", NULL);
}

static void test_missing_file(void **state)
{
    (void)state;
    expect_refused(LIBS "nothere.so", CW_EIO, "nothere.so", NULL);
}

static void test_deadline_plugin_loads(void **state)
{
    cw_plugin_handle h;
    cw_err err = { 0 };

    (void)state;
    assert_int_equal(cw_plugin_open(CW_BUILDDIR "/plugins/.libs/deadline.so", &h, &err), 0);
    assert_int_equal(h.p->abi_major, CW_ABI_MAJOR);
    assert_true(h.p->abi_minor <= CW_ABI_MINOR);
    assert_int_equal(h.p->nmodels, 1);
    assert_string_equal(h.p->models[0]->name, "deadline");
    cw_plugin_close(&h);
}

static void test_older_minor_loads(void **state)
{
    cw_plugin_handle h;
    cw_err err = { 0 };

    (void)state;
    assert_int_equal(cw_plugin_open(LIBS "oldmodel.so", &h, &err), 0);
    assert_int_equal(h.p->abi_minor, 1);
    assert_false(CW_MODEL_HAS(h.p->models[0], advise));
    assert_true(CW_MODEL_HAS(h.p->models[0], release));
    cw_plugin_close(&h);
}

static void test_discretion_plugin_advises(void **state)
{
    cw_plugin_handle h;
    cw_err err = { 0 };

    (void)state;
    assert_int_equal(cw_plugin_open(CW_BUILDDIR "/plugins/.libs/discretion.so", &h, &err), 0);
    assert_string_equal(h.p->models[0]->name, "discretion");
    assert_true(CW_MODEL_HAS(h.p->models[0], advice_free));
    assert_non_null(h.p->models[0]->advise);
    assert_non_null(h.p->models[0]->advice_free);
    cw_plugin_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_major_refused),
        cmocka_unit_test(test_newer_minor_refused),
        cmocka_unit_test(test_no_entry_symbol),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_deadline_plugin_loads),
        cmocka_unit_test(test_older_minor_loads),
        cmocka_unit_test(test_discretion_plugin_advises),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

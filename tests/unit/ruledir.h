/*
 * For the unit tests that build a rules directory in a temporary
 * directory: `dir` is its path (the test fills it, e.g. with mkdtemp),
 * write_file puts text in it, copy_file copies a file of the tree into it.
 */
#ifndef CW_TEST_RULEDIR_H
#define CW_TEST_RULEDIR_H

#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char *p = cw_path_join(dir, name);
    FILE *f = fopen(p, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static void copy_file(const char *from, const char *to)
{
    char *buf, *p = cw_path_join(dir, to);
    size_t len;
    FILE *f;

    assert_int_equal(cw_read_file(from, &buf, &len), 0);
    f = fopen(p, "w");
    assert_non_null(f);
    fwrite(buf, 1, len, f);
    fclose(f);
    free(buf);
    free(p);
}

#endif

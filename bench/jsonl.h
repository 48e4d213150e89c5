/*
 * JSON lines read one object at a time, for the bench programs that read
 * events or findings.
 */
#ifndef CW_BENCH_JSONL_H
#define CW_BENCH_JSONL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

/* Called for each non-empty line: j is the line's value (borrowed: the
 * reader frees it after the call), or NULL with why saying what is wrong
 * when the line is not JSON. A non-zero return stops the reading. */
typedef int (*jsonl_fn)(void *ud, json_t *j, const char *why, size_t line);

/* Read path ("-": stdin) line by line into fn. Returns 0 when every line
 * was read, fn's non-zero value when it stopped the reading, or -1 when
 * the file cannot be opened ("PROG: PATH: why" printed on stderr). */
static int jsonl_each(const char *prog, const char *path, jsonl_fn fn, void *ud)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char *buf = NULL;
    size_t cap = 0, line = 0;
    ssize_t len;
    int rc = 0;

    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    while (rc == 0 && (len = getline(&buf, &cap, f)) >= 0) {
        json_error_t jerr;
        json_t *j;

        line++;
        if (len <= 1)
            continue;
        j = json_loadb(buf, (size_t)len, 0, &jerr);
        rc = fn(ud, j, j ? NULL : jerr.text, line);
        json_decref(j);
    }
    free(buf);
    if (f != stdin)
        fclose(f);
    return rc;
}

#endif

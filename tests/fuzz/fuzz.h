/*
 * Shared by the libFuzzer targets: a private directory for the files a
 * loader reads (the loaders take paths), removed at exit, and helpers to
 * put the input or a file of the tree into it.
 */
#ifndef CW_FUZZ_H
#define CW_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fuzz_dir[64];

static inline void fuzz_cleanup(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
    if (fuzz_dir[0] && system(cmd) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
}

/* The private directory, made once. */
static inline const char *fuzz_tmp(void)
{
    if (fuzz_dir[0] == '\0') {
        snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/cw-fuzz-XXXXXX");
        if (mkdtemp(fuzz_dir) == NULL) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_cleanup);
    }
    return fuzz_dir;
}

/* Write len bytes as NAME in the directory; returns the path (owned). */
static inline char *fuzz_put(const char *name, const void *data, size_t len)
{
    char *p = cw_path_join(fuzz_tmp(), name);
    FILE *f = fopen(p, "w");

    if (f == NULL || (len && fwrite(data, 1, len, f) != len)) {
        perror(p);
        abort();
    }
    fclose(f);
    return p;
}

/* Copy a file of the source tree (relative to its top) as NAME. */
static inline void fuzz_copy(const char *from, const char *name)
{
    char *src = cw_path_join(CW_SRCDIR, from), *buf;
    size_t len;

    if (cw_read_file(src, &buf, &len) < 0) {
        fprintf(stderr, "fuzz: cannot read %s\n", src);
        abort();
    }
    free(fuzz_put(name, buf, len));
    free(buf);
    free(src);
}

static inline void fuzz_mkdir(const char *name)
{
    char *p = cw_path_join(fuzz_tmp(), name);

    mkdir(p, 0700);
    free(p);
}

#endif

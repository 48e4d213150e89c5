#include "base/util.h"

#include <dirent.h>
#include <errno.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void oom(size_t n)
{
    fprintf(stderr, "casewarden: out of memory (%zu bytes)\n", n);
    abort();
}

void *cw_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        oom(n);
    return p;
}

void *cw_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        oom(n * size);
    return p;
}

void *cw_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        oom(n);
    return q;
}

char *cw_xstrndup(const char *s, size_t n)
{
    char *p = cw_xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cw_xstrdup(const char *s)
{
    return cw_xstrndup(s, strlen(s));
}

char *cw_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    p = cw_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void cw_grow(void **v, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 4;

    if (need <= *cap)
        return;
    while (n < need)
        n += n / 2 + 4;
    *v = cw_xrealloc(*v, n * size);
    *cap = n;
}

void cw_grow_zeroed(void **v, size_t *n, size_t index, size_t size)
{
    size_t m = *n ? *n : 1024;

    if (index < *n)
        return;
    while (m <= index)
        m *= 2;
    *v = cw_xrealloc(*v, m * size);
    memset((char *)*v + *n * size, 0, (m - *n) * size);
    *n = m;
}

char *cw_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir);

    if (name[0] == '/' || a == 0)
        return cw_xstrdup(name);
    if (dir[a - 1] == '/')
        return cw_xasprintf("%s%s", dir, name);
    return cw_xasprintf("%s/%s", dir, name);
}

int cw_read_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0, cap = 0;
    char *b = NULL;

    *buf = NULL;
    *len = 0;
    if (f == NULL)
        return -errno;
    for (;;) {
        size_t got;
        if (cap - n < 4096)
            CW_GROW(b, cap, n + 65536);
        got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno ? errno : EIO;
        fclose(f);
        free(b);
        return -e;
    }
    fclose(f);
    if (b == NULL)
        b = cw_xmalloc(1);
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

void cw_buf_reserve(cw_buf *b, size_t n)
{
    if (b->cap - b->n < n + 1) {
        size_t c = b->cap ? b->cap : 256;
        while (c - b->n < n + 1)
            c *= 2;
        b->p = cw_xrealloc(b->p, c);
        b->cap = c;
    }
}

void cw_buf_printf(cw_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    cw_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

void cw_buf_json(cw_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    cw_buf_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t len = 2;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        cw_buf_put(b, s + run, i - run);
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        }
        cw_buf_put(b, esc, len);
    }
    cw_buf_put(b, s + run, n - run);
    cw_buf_put(b, "\"", 1);
}

void cw_buf_free(cw_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

static int path_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cw_dir_list(const char *dir, const char *suffix, char ***out, size_t *n)
{
    size_t sl = strlen(suffix), cap = 0;
    struct dirent *de;
    DIR *d = opendir(dir);

    *out = NULL;
    *n = 0;
    if (d == NULL)
        return -errno;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= sl || strcmp(de->d_name + len - sl, suffix) != 0)
            continue;
        CW_GROW(*out, cap, *n + 1);
        (*out)[(*n)++] = cw_path_join(dir, de->d_name);
    }
    closedir(d);
    if (*n > 1)
        qsort(*out, *n, sizeof **out, path_cmp);
    return (int)*n;
}

void cw_paths_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

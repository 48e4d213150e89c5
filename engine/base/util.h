/*
 * Small shared helpers: allocation that never returns NULL, hashing,
 * growable arrays.
 *
 * Running out of memory is not something the engine recovers from: a
 * half-applied event is worse than a restart, and the service resumes from
 * its checkpoint. So allocation failures print one line and abort, and the
 * rest of the code does not carry NULL checks for them. (The Lua allocator
 * is the exception: it refuses past a rule's cap, by design.)
 */
#ifndef CW_UTIL_H
#define CW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

void *cw_xmalloc(size_t n);
void *cw_xcalloc(size_t n, size_t size);
void *cw_xrealloc(void *p, size_t n);
char *cw_xstrdup(const char *s);
char *cw_xstrndup(const char *s, size_t n);
/* A formatted string on the heap. */
char *cw_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow *v (of *cap elements of size `size`) to hold at least need. */
void cw_grow(void **v, size_t *cap, size_t need, size_t size);
#define CW_GROW(v, cap, need) cw_grow((void **)&(v), &(cap), (need), sizeof *(v))
/* Grow *v (of *n elements, zeroed) so that index is in it, doubling; the
 * new elements are zero. For tables indexed by string id. */
void cw_grow_zeroed(void **v, size_t *n, size_t index, size_t size);
#define CW_GROW_ZEROED(v, n, index) cw_grow_zeroed((void **)&(v), &(n), (index), sizeof *(v))

/* A 64-bit hash of bytes (fast, not cryptographic). */
static inline uint64_t cw_hash(const void *p, size_t len)
{
    const unsigned char *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xff51afd7ed558ccdULL);

    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ (w * 0x87c37b91114253d5ULL)) * 0x4cf5ad432745937fULL;
        h ^= h >> 31;
        s += 8;
        len -= 8;
    }
    if (len > 0) {
        uint64_t w = 0;
        memcpy(&w, s, len);
        h = (h ^ (w * 0x87c37b91114253d5ULL)) * 0x4cf5ad432745937fULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* A growable byte buffer, always NUL-terminated once written to. */
typedef struct cw_buf {
    char *p;
    size_t n, cap;
} cw_buf;

/* Room for n more bytes and the terminating NUL. */
void cw_buf_reserve(cw_buf *b, size_t n);
/* Append s[0..n) (s may be NULL when n is 0). Inline: most calls append a
 * few bytes to a buffer with room, and a call per field was measured. */
static inline void cw_buf_put(cw_buf *b, const void *s, size_t n)
{
    if (b->cap - b->n < n + 1)
        cw_buf_reserve(b, n);
    if (n > 0)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}
static inline void cw_buf_puts(cw_buf *b, const char *s)
{
    cw_buf_put(b, s, strlen(s));
}
void cw_buf_printf(cw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s[0..n) as a JSON string literal (quotes included). */
void cw_buf_json(cw_buf *b, const char *s, size_t n);
void cw_buf_free(cw_buf *b);

/* Join a directory and a name ("dir/name"; name as is when absolute). */
char *cw_path_join(const char *dir, const char *name);

/* Read a whole file into a NUL-terminated heap buffer. Returns 0 or -errno. */
int cw_read_file(const char *path, char **buf, size_t *len);

/* The paths (dir/name) of the entries of dir whose name ends in suffix
 * and does not start with a dot, sorted by name, into *out (free each
 * and the array with cw_paths_free). Returns how many, or -errno when dir
 * cannot be read. */
int cw_dir_list(const char *dir, const char *suffix, char ***out, size_t *n);
void cw_paths_free(char **v, size_t n);

#endif

#include "base/strtab.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* Strings live in large chunks that never move, so a returned pointer
 * stays valid; the id arrays and the hash grow by doubling. */
#define CHUNK (64 * 1024)

typedef struct chunk {
    struct chunk *next;
    size_t used, size;
    char data[];
} chunk;

struct cw_strtab {
    const char **str;       /* id -> text */
    uint32_t *len;          /* id -> length */
    uint32_t *hash;         /* id -> low bits of its hash */
    size_t n, cap;
    uint32_t *slot;         /* open addressing: id + 1, 0 = empty */
    size_t nslot;           /* power of two */
    chunk *chunks;
    size_t bytes;
};

static char *store(cw_strtab *t, const char *s, size_t len)
{
    chunk *c = t->chunks;
    char *p;

    if (c == NULL || c->size - c->used < len + 1) {
        size_t sz = len + 1 > CHUNK / 4 ? len + 1 : CHUNK;
        c = cw_xmalloc(sizeof *c + sz);
        c->size = sz;
        c->used = 0;
        /* A big string gets a chunk of its own behind the current one, so
         * the current chunk's free space is not wasted. */
        if (sz != CHUNK && t->chunks != NULL) {
            c->next = t->chunks->next;
            t->chunks->next = c;
        } else {
            c->next = t->chunks;
            t->chunks = c;
        }
        t->bytes += sizeof *c + sz;
    }
    p = c->data + c->used;
    memcpy(p, s, len);
    p[len] = '\0';
    c->used += len + 1;
    return p;
}

static void rehash(cw_strtab *t, size_t nslot)
{
    free(t->slot);
    t->slot = cw_xcalloc(nslot, sizeof *t->slot);
    t->nslot = nslot;
    for (size_t id = 1; id < t->n; id++) {
        size_t i = t->hash[id] & (nslot - 1);
        while (t->slot[i] != 0)
            i = (i + 1) & (nslot - 1);
        t->slot[i] = (uint32_t)id + 1;
    }
}

cw_strtab *cw_strtab_new(void)
{
    cw_strtab *t = cw_xcalloc(1, sizeof *t);

    CW_GROW(t->str, t->cap, 1024);
    t->len = cw_xmalloc(t->cap * sizeof *t->len);
    t->hash = cw_xmalloc(t->cap * sizeof *t->hash);
    t->str[0] = "";
    t->len[0] = 0;
    t->hash[0] = 0;
    t->n = 1;
    rehash(t, 2048);
    return t;
}

void cw_strtab_free(cw_strtab *t)
{
    if (t == NULL)
        return;
    while (t->chunks) {
        chunk *c = t->chunks;
        t->chunks = c->next;
        free(c);
    }
    free(t->str);
    free(t->len);
    free(t->hash);
    free(t->slot);
    free(t);
}

static size_t lookup(const cw_strtab *t, const char *s, size_t len, uint32_t h)
{
    size_t i = h & (t->nslot - 1);

    for (;;) {
        uint32_t v = t->slot[i];
        if (v == 0)
            return i;
        v--;
        if (t->hash[v] == h && t->len[v] == len && memcmp(t->str[v], s, len) == 0)
            return i;
        i = (i + 1) & (t->nslot - 1);
    }
}

uint32_t cw_strtab_find(const cw_strtab *t, const char *s, size_t len)
{
    uint32_t h;
    size_t i;

    if (len == 0)
        return 0;
    h = (uint32_t)cw_hash(s, len);
    i = lookup(t, s, len, h);
    return t->slot[i] ? t->slot[i] - 1 : UINT32_MAX;
}

uint32_t cw_strtab_intern(cw_strtab *t, const char *s, size_t len)
{
    uint32_t h;
    size_t i;

    if (len == 0)
        return 0;
    h = (uint32_t)cw_hash(s, len);
    i = lookup(t, s, len, h);
    if (t->slot[i] != 0)
        return t->slot[i] - 1;
    if (t->n == t->cap) {
        CW_GROW(t->str, t->cap, t->n + 1);
        t->len = cw_xrealloc(t->len, t->cap * sizeof *t->len);
        t->hash = cw_xrealloc(t->hash, t->cap * sizeof *t->hash);
    }
    t->str[t->n] = store(t, s, len);
    t->len[t->n] = (uint32_t)len;
    t->hash[t->n] = h;
    t->slot[i] = (uint32_t)t->n + 1;
    t->n++;
    if (t->n * 2 > t->nslot)
        rehash(t, t->nslot * 2);
    return (uint32_t)t->n - 1;
}

const char *cw_strtab_str(const cw_strtab *t, uint32_t id)
{
    return id < t->n ? t->str[id] : "";
}

size_t cw_strtab_len(const cw_strtab *t, uint32_t id)
{
    return id < t->n ? t->len[id] : 0;
}

uint32_t cw_strtab_count(const cw_strtab *t)
{
    return (uint32_t)t->n;
}

size_t cw_strtab_bytes(const cw_strtab *t)
{
    return t->bytes + t->cap * (sizeof *t->str + sizeof *t->len + sizeof *t->hash) +
           t->nslot * sizeof *t->slot;
}

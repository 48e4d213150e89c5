#include "cases.h"

#include <stdlib.h>
#include <string.h>

/* Open addressing with linear probing over a power-of-two table; the
 * load factor stays under 1/2 so probes stay short. */
typedef struct slot {
    uint64_t hash;
    void *val;               /* NULL = empty */
} slot;

typedef struct table {
    slot *s;
    size_t cap, n;
} table;

typedef struct index_entry {
    char *key;               /* value of the field */
    int spec;                /* which spec */
    cw_event **ev;
    size_t n, cap;
} index_entry;

struct cw_store {
    table cases;             /* val: cw_case* */
    cw_case **order;         /* insertion order */
    size_t ncases, ordercap;
    cw_case **dirty;         /* cases with unsorted timelines */
    size_t ndirty, dirtycap;
    size_t nevents;
    cw_index_spec *specs;
    size_t nspecs;
    table index;             /* val: index_entry* */
    index_entry **entries;
    size_t nentries, entriescap;
};

uint64_t cw_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t nc;
    void *p;

    if (need <= *cap)
        return 0;
    nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    p = realloc(*arr, nc * elem);
    if (p == NULL)
        return CW_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

static int table_rehash(table *t)
{
    size_t nc = t->cap ? t->cap * 2 : 1024;
    slot *ns = calloc(nc, sizeof *ns);

    if (ns == NULL)
        return CW_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->s[i].val == NULL)
            continue;
        size_t j = t->s[i].hash & (nc - 1);
        while (ns[j].val != NULL)
            j = (j + 1) & (nc - 1);
        ns[j] = t->s[i];
    }
    free(t->s);
    t->s = ns;
    t->cap = nc;
    return 0;
}

/* Find the slot for hash where eq(val, ctx) holds, or the empty slot where
 * it would go. */
static slot *table_find(const table *t, uint64_t h,
                        bool (*eq)(const void *val, const void *ctx), const void *ctx)
{
    size_t j;

    if (t->cap == 0)
        return NULL;
    j = h & (t->cap - 1);
    while (t->s[j].val != NULL) {
        if (t->s[j].hash == h && eq(t->s[j].val, ctx))
            return &t->s[j];
        j = (j + 1) & (t->cap - 1);
    }
    return &t->s[j];
}

static bool case_eq(const void *val, const void *ctx)
{
    return strcmp(((const cw_case *)val)->id, ctx) == 0;
}

typedef struct ikey {
    int spec;
    const char *value;
} ikey;

static bool index_eq(const void *val, const void *ctx)
{
    const index_entry *e = val;
    const ikey *k = ctx;

    return e->spec == k->spec && strcmp(e->key, k->value) == 0;
}

static uint64_t index_hash(int spec, const char *value)
{
    return cw_hash(value, strlen(value)) ^ ((uint64_t)(spec + 1) * 0x9e3779b97f4a7c15ULL);
}

int cw_store_new(cw_store **out, const cw_index_spec *specs, size_t nspecs,
                 cw_err *err)
{
    cw_store *st = calloc(1, sizeof *st);

    *out = NULL;
    if (st == NULL)
        return cw_err_set(err, CW_ENOMEM, "case store: out of memory");
    if (nspecs > 0) {
        st->specs = calloc(nspecs, sizeof *st->specs);
        if (st->specs == NULL) {
            free(st);
            return cw_err_set(err, CW_ENOMEM, "case store: out of memory");
        }
        memcpy(st->specs, specs, nspecs * sizeof *specs);
        st->nspecs = nspecs;
    }
    *out = st;
    return 0;
}

void cw_store_free(cw_store *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->ncases; i++) {
        cw_case *c = st->order[i];
        for (uint32_t j = 0; j < c->n; j++)
            cw_event_free(c->ev[j]);
        free(c->ev);
        free(c->id);
        free(c);
    }
    for (size_t i = 0; i < st->nentries; i++) {
        free(st->entries[i]->key);
        free(st->entries[i]->ev);
        free(st->entries[i]);
    }
    free(st->entries);
    free(st->index.s);
    free(st->cases.s);
    free(st->order);
    free(st->dirty);
    free(st->specs);
    free(st);
}

static int index_add(cw_store *st, int spec, const char *value, cw_event *ev)
{
    ikey k = { spec, value };
    uint64_t h = index_hash(spec, value);
    slot *s;
    index_entry *e;

    if ((st->index.n + 1) * 2 > st->index.cap && table_rehash(&st->index) < 0)
        return CW_ENOMEM;
    s = table_find(&st->index, h, index_eq, &k);
    if (s->val == NULL) {
        if (grow((void **)&st->entries, &st->entriescap, st->nentries + 1,
                 sizeof *st->entries) < 0)
            return CW_ENOMEM;
        e = calloc(1, sizeof *e);
        if (e == NULL || (e->key = strdup(value)) == NULL) {
            free(e);
            return CW_ENOMEM;
        }
        e->spec = spec;
        s->hash = h;
        s->val = e;
        st->index.n++;
        st->entries[st->nentries++] = e;
    }
    e = s->val;
    if (grow((void **)&e->ev, &e->cap, e->n + 1, sizeof *e->ev) < 0)
        return CW_ENOMEM;
    e->ev[e->n++] = ev;
    return 0;
}

int cw_store_add(cw_store *st, cw_event *ev, cw_case **cp, cw_err *err)
{
    uint64_t h = cw_hash(ev->case_id, strlen(ev->case_id));
    slot *s;
    cw_case *c;

    if (cp)
        *cp = NULL;
    if ((st->cases.n + 1) * 2 > st->cases.cap && table_rehash(&st->cases) < 0)
        goto nomem;
    s = table_find(&st->cases, h, case_eq, ev->case_id);
    if (s->val == NULL) {
        if (grow((void **)&st->order, &st->ordercap, st->ncases + 1,
                 sizeof *st->order) < 0)
            goto nomem;
        c = calloc(1, sizeof *c);
        if (c == NULL || (c->id = strdup(ev->case_id)) == NULL) {
            free(c);
            goto nomem;
        }
        s->hash = h;
        s->val = c;
        st->cases.n++;
        st->order[st->ncases++] = c;
    }
    c = s->val;
    if (c->n == c->cap) {
        uint32_t nc = c->cap ? c->cap * 2 : 4;
        cw_event **ne = realloc(c->ev, nc * sizeof *ne);
        if (ne == NULL)
            goto nomem;
        c->ev = ne;
        c->cap = nc;
    }
    if (c->n > 0 && !c->unsorted) {
        const cw_event *last = c->ev[c->n - 1];
        if (last->at > ev->at || (last->at == ev->at && last->seq > ev->seq)) {
            if (grow((void **)&st->dirty, &st->dirtycap, st->ndirty + 1,
                     sizeof *st->dirty) < 0)
                goto nomem;
            st->dirty[st->ndirty++] = c;
            c->unsorted = true;
        }
    }
    c->ev[c->n++] = ev;
    st->nevents++;
    for (size_t i = 0; i < st->nspecs; i++) {
        const char *v;
        if (st->specs[i].type != ev->type)
            continue;
        v = cw_event_str(ev, st->specs[i].field);
        if (v != NULL && index_add(st, (int)i, v, ev) < 0)
            return cw_err_set(err, CW_ENOMEM, "case store: out of memory");
    }
    if (cp)
        *cp = c;
    return 0;
nomem:
    cw_event_free(ev);
    return cw_err_set(err, CW_ENOMEM, "case store: out of memory");
}

static int by_time(const void *a, const void *b)
{
    const cw_event *x = *(cw_event *const *)a, *y = *(cw_event *const *)b;

    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cw_store_sort(cw_store *st)
{
    for (size_t i = 0; i < st->ndirty; i++) {
        cw_case *c = st->dirty[i];
        qsort(c->ev, c->n, sizeof *c->ev, by_time);
        c->unsorted = false;
    }
    st->ndirty = 0;
}

cw_case *cw_store_case(const cw_store *st, const char *id)
{
    slot *s = table_find(&st->cases, cw_hash(id, strlen(id)), case_eq, id);

    return s ? s->val : NULL;
}

size_t cw_store_ncases(const cw_store *st) { return st->ncases; }
size_t cw_store_nevents(const cw_store *st) { return st->nevents; }

cw_case *cw_store_case_at(const cw_store *st, size_t i)
{
    return i < st->ncases ? st->order[i] : NULL;
}

cw_event *const *cw_store_lookup(const cw_store *st, int type, const char *field,
                                 const char *value, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < st->nspecs; i++) {
        if (st->specs[i].type != type || strcmp(st->specs[i].field, field) != 0)
            continue;
        ikey k = { (int)i, value };
        slot *s = table_find(&st->index, index_hash((int)i, value), index_eq, &k);
        if (s == NULL || s->val == NULL)
            return NULL;
        *n = ((index_entry *)s->val)->n;
        return ((index_entry *)s->val)->ev;
    }
    return NULL;
}

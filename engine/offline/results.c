#include "offline/results.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/engine_int.h"

typedef struct entry {
    const cw_rule *rule;
    uint32_t case_sid, subject, unit;
    uint8_t state;
    bool alive;
    cw_time due, raised;
    uint64_t digest;
    char *message;
    char *events;            /* "id\0id\0\0", or NULL */
} entry;

struct cw_results {
    cw_engine *e;
    entry *v;
    size_t n, cap, nalive;
    uint32_t *slot;          /* open addressing: entry index + 1 */
    size_t nslot;
};

cw_results *cw_results_new(cw_engine *e)
{
    cw_results *r = cw_xcalloc(1, sizeof *r);

    r->e = e;
    return r;
}

void cw_results_free(cw_results *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].message);
        free(r->v[i].events);
    }
    free(r->v);
    free(r->slot);
    free(r);
}

static uint64_t key_hash(const cw_rule *rule, uint32_t case_sid, uint32_t subject)
{
    uint64_t k[2] = { (uint64_t)rule->index << 32 | case_sid, subject };

    return cw_hash(k, sizeof k);
}

static void rehash(cw_results *r, size_t n)
{
    free(r->slot);
    r->slot = cw_xcalloc(n, sizeof *r->slot);
    r->nslot = n;
    for (size_t i = 0; i < r->n; i++) {
        size_t j = (size_t)key_hash(r->v[i].rule, r->v[i].case_sid, r->v[i].subject) & (n - 1);
        while (r->slot[j])
            j = (j + 1) & (n - 1);
        r->slot[j] = (uint32_t)i + 1;
    }
}

/* The entry of the key, or NULL, or (create) a new one. */
static entry *lookup(cw_results *r, const cw_rule *rule, uint32_t case_sid, uint32_t subject,
                     bool create)
{
    size_t j;

    if (r->nslot == 0) {
        if (!create)
            return NULL;
        rehash(r, 1024);
    }
    for (j = (size_t)key_hash(rule, case_sid, subject) & (r->nslot - 1); r->slot[j];
         j = (j + 1) & (r->nslot - 1)) {
        entry *x = &r->v[r->slot[j] - 1];
        if (x->rule == rule && x->case_sid == case_sid && x->subject == subject)
            return x;
    }
    if (!create)
        return NULL;
    CW_GROW(r->v, r->cap, r->n + 1);
    memset(&r->v[r->n], 0, sizeof *r->v);
    r->v[r->n].rule = rule;
    r->v[r->n].case_sid = case_sid;
    r->v[r->n].subject = subject;
    r->slot[j] = (uint32_t)++r->n;
    if (r->n * 2 > r->nslot)
        rehash(r, r->nslot * 2);
    return &r->v[r->n - 1];
}

static char *events_copy(const cw_finding *f)
{
    size_t len = 1;
    char *s, *o;

    if (f->nevents == 0)
        return NULL;
    for (unsigned i = 0; i < f->nevents; i++)
        len += strlen(f->events[i]) + 1;
    o = s = cw_xmalloc(len);
    for (unsigned i = 0; i < f->nevents; i++) {
        size_t l = strlen(f->events[i]) + 1;
        memcpy(o, f->events[i], l);
        o += l;
    }
    *o = '\0';
    return s;
}

static int on_upsert(void *ud, const cw_finding *f, const char *events_json, uint64_t digest)
{
    cw_results *r = ud;
    cw_strtab *strs = r->e->w->strs;
    uint32_t case_sid = cw_strtab_intern(strs, f->case_id, strlen(f->case_id));
    entry *x = lookup(r, f->rule, case_sid, cw_strtab_intern(strs, f->subject, strlen(f->subject)),
                      true);

    (void)events_json;
    free(x->message);
    free(x->events);
    if (!x->alive)
        r->nalive++;
    x->alive = true;
    x->unit = cw_strtab_intern(strs, f->unit, strlen(f->unit));
    x->state = (uint8_t)f->state;
    x->due = f->due;
    x->raised = f->raised;
    x->digest = digest;
    x->message = cw_xstrdup(f->message);
    x->events = events_copy(f);
    return 0;
}

static int on_remove(void *ud, const char *rule, const char *case_id, const char *subject)
{
    cw_results *r = ud;
    cw_strtab *strs = r->e->w->strs;
    const cw_rule *ru = cw_ruleset_find(r->e->rs, rule);
    uint32_t cs = cw_strtab_find(strs, case_id, strlen(case_id)),
             ss = cw_strtab_find(strs, subject, strlen(subject));
    entry *x = ru && cs != UINT32_MAX && ss != UINT32_MAX ? lookup(r, ru, cs, ss, false) : NULL;

    if (x != NULL && x->alive) {
        x->alive = false;
        r->nalive--;
        free(x->message);
        free(x->events);
        x->message = x->events = NULL;
    }
    return 0;
}

cw_sink cw_results_sink(cw_results *r)
{
    return (cw_sink){ on_upsert, on_remove, r };
}

/* Output order: case number, rule id, subject. */
typedef struct oref {
    const char *case_id, *rule, *subject;
    uint32_t i;
} oref;

static int oref_cmp(const void *pa, const void *pb)
{
    const oref *a = pa, *b = pb;
    int d;

    if (a->case_id != b->case_id && (d = strcmp(a->case_id, b->case_id)) != 0)
        return d;
    if ((d = strcmp(a->rule, b->rule)) != 0)
        return d;
    return strcmp(a->subject, b->subject);
}

int cw_results_each(cw_results *r, int (*fn)(void *ud, const cw_finding *f), void *ud)
{
    cw_strtab *strs = r->e->w->strs;
    oref *v = cw_xmalloc((r->nalive ? r->nalive : 1) * sizeof *v);
    const char **ids = NULL;
    size_t n = 0, capids = 0;
    int rc = 0;

    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].alive)
            v[n++] = (oref){ cw_strtab_str(strs, r->v[i].case_sid), r->v[i].rule->info.id,
                             cw_strtab_str(strs, r->v[i].subject), (uint32_t)i };
    qsort(v, n, sizeof *v, oref_cmp);
    for (size_t k = 0; k < n && rc == 0; k++) {
        const entry *x = &r->v[v[k].i];
        cw_finding f = { 0 };
        size_t ne = 0;
        for (const char *p = x->events; p && *p; p += strlen(p) + 1) {
            CW_GROW(ids, capids, ne + 1);
            ids[ne++] = p;
        }
        f.rule = x->rule;
        f.case_id = v[k].case_id;
        f.subject = v[k].subject;
        f.unit = cw_strtab_str(strs, x->unit);
        f.state = x->state;
        f.due = x->due;
        f.raised = x->raised;
        f.message = x->message;
        f.events = ids;
        f.nevents = (unsigned)ne;
        f.review = "open";
        rc = fn(ud, &f);
    }
    free(ids);
    free(v);
    return rc;
}

size_t cw_results_count(const cw_results *r)
{
    return r->nalive;
}

size_t cw_results_memory(const cw_results *r)
{
    size_t n = r->cap * sizeof *r->v + r->nslot * sizeof *r->slot;

    for (size_t i = 0; i < r->n; i++)
        n += (r->v[i].message ? strlen(r->v[i].message) + 1 : 0) + (r->v[i].events ? 32 : 0);
    return n;
}

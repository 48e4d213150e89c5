/*
 * Cross-case indexes: the events of a (type, string field) pair by value,
 * in any case, for the rules that look across cases (find_events). Each
 * entry keeps a copy of its event's record, so a lookup needs no case in
 * memory, and lives as long as its case is in memory or its time is
 * within the spec's window behind the engine's clock; past that an entry
 * of a case out of memory is dropped, or kept as a stub (time, case; no
 * record) for specs that are kept: revisiting uses them, and a lookup
 * that meets one brings its case back to be judged again. So an index is
 * sized by its window and the cases in memory, not by history (a kept
 * spec by a stub per event).
 */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/engine_int.h"

static inline uint64_t ikey(uint32_t spec, uint32_t value)
{
    return ((uint64_t)spec << 32) | value;
}

static void slots_rebuild(cw_engine *e, size_t n)
{
    free(e->islot);
    e->islot = cw_xcalloc(n, sizeof *e->islot);
    e->nislot = n;
    for (size_t k = 0; k < e->nient; k++) {
        size_t j = (size_t)(cw_hash(&e->ient[k].key, 8) & (n - 1));
        while (e->islot[j])
            j = (j + 1) & (n - 1);
        e->islot[j] = (uint32_t)k + 1;
    }
}

void cw__index_rehash(cw_engine *e)
{
    size_t n = 1024;

    while (n < 2 * e->nient)
        n *= 2;
    slots_rebuild(e, n);
}

static cw_ientry *index_slot(cw_engine *e, uint64_t key, bool create)
{
    size_t i;

    if (e->nislot == 0) {
        if (!create)
            return NULL;
        slots_rebuild(e, 1024);
    }
    i = (size_t)(cw_hash(&key, 8) & (e->nislot - 1));
    for (;; i = (i + 1) & (e->nislot - 1)) {
        uint32_t v = e->islot[i];
        if (v == 0)
            break;
        if (e->ient[v - 1].key == key)
            return &e->ient[v - 1];
    }
    if (!create)
        return NULL;
    CW_GROW(e->ient, e->capient, e->nient + 1);
    memset(&e->ient[e->nient], 0, sizeof *e->ient);
    e->ient[e->nient].key = key;
    e->islot[i] = (uint32_t)++e->nient;
    if (e->nient * 2 > e->nislot)
        slots_rebuild(e, e->nislot * 2);
    return &e->ient[e->nient - 1];
}

static void index_add1(cw_engine *e, uint32_t spec, uint32_t value, const cw_case *c,
                       const cw_event *ev, const uint8_t *rec)
{
    cw_ientry *ie = index_slot(e, ikey(spec, value), true);
    uint32_t lo = 0, hi = ie->n, pos, size;

    /* Entries are in (at, seq) order, seqs unique; events come in time
     * order but for replays and late arrivals, so look at the end first. */
    if (hi > 0 && cw_atseq_cmp(ie->v[hi - 1].at, ie->v[hi - 1].seq, ev->at, ev->seq) < 0)
        lo = hi;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cw_atseq_cmp(ie->v[mid].at, ie->v[mid].seq, ev->at, ev->seq) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    pos = lo;
    /* Replays add the same event again: keep one entry, with its record. */
    if (pos < ie->n && ie->v[pos].seq == ev->seq && ie->v[pos].at == ev->at) {
        if (ie->v[pos].rec == NULL) {
            size = cw_rec_size(rec);
            ie->v[pos].rec = cw_xmalloc(size);
            memcpy(ie->v[pos].rec, rec, size);
        }
        return;
    }
    if (ie->n == ie->cap) {
        ie->cap = ie->cap ? ie->cap * 2 : 2;
        ie->v = cw_xrealloc(ie->v, ie->cap * sizeof *ie->v);
    }
    memmove(&ie->v[pos + 1], &ie->v[pos], (ie->n - pos) * sizeof *ie->v);
    size = cw_rec_size(rec);
    ie->v[pos].at = ev->at;
    ie->v[pos].seq = ev->seq;
    ie->v[pos].csid = c->id;
    ie->v[pos].rec = cw_xmalloc(size);
    memcpy(ie->v[pos].rec, rec, size);
    ie->n++;
}

void cw__index_add(cw_engine *e, const cw_case *c, const cw_event *ev, const uint8_t *rec)
{
    const cw_ruleset *rs = e->rs;

    for (size_t s = 0; s < rs->nidx; s++) {
        const cw_fval *f;
        if (rs->idx[s].type != ev->type)
            continue;
        if ((f = cw_event_field(ev, rs->idx[s].fid)) == NULL)
            continue;
        if (f->kind == CW_V_STR)
            index_add1(e, (uint32_t)s, f->v.s, c, ev, rec);
        else if (f->kind == CW_V_LIST)
            for (uint32_t i = 0; i < f->n; i++)
                index_add1(e, (uint32_t)s, f->v.list[i], c, ev, rec);
    }
}

static cw_ientry *spec_entry(cw_engine *e, int type, int fid, uint32_t value)
{
    const cw_ruleset *rs = e->rs;
    size_t s;

    for (s = 0; s < rs->nidx; s++)
        if (rs->idx[s].type == type && rs->idx[s].fid == fid)
            break;
    return s == rs->nidx ? NULL : index_slot(e, ikey((uint32_t)s, value), false);
}

int cw__find_records(cw_engine *e, int type, int fid, uint32_t value, cw_time from, cw_time to,
                     uint32_t only, int (*fn)(void *ud, const cw_case *c, const uint8_t *rec),
                     void *ud)
{
    cw_ientry *ie = spec_entry(e, type, fid, value);
    uint32_t lo = 0, hi;
    int rc = 0;

    if (ie == NULL)
        return 0;
    /* the first ref at or after `from` */
    hi = ie->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ie->v[mid].at < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint32_t i = lo; i < ie->n && ie->v[i].at <= to && rc == 0; i++) {
        const cw_iref *r = &ie->v[i];
        const cw_case *c;
        const uint8_t *rec = r->rec;
        cw_case standin;
        if (only != CW_CASE_GONE && r->csid != only)
            continue;
        if (rec == NULL) {
            /* a stub: its case left memory with the record. Back in
             * memory (a reload judged it without indexing it again), the
             * record is in its timeline; else it comes back after this
             * event and is judged again, so that rules that look across
             * cases see this event again from its side */
            const cw_case *lc = cw__case_live(e, r->csid);
            if (lc == NULL || (rec = cw__case_find(lc, r->at, r->seq)) == NULL) {
                if (!e->rebuilding && cw__case_gone(e, r->csid))
                    cw__defer_revisit(e, r->csid);
                continue;
            }
        }
        /* a case out of memory is named by a stand-in with its id */
        if ((c = cw__case_live(e, r->csid)) == NULL) {
            memset(&standin, 0, sizeof standin);
            standin.id = r->csid;
            standin.idx = UINT32_MAX;
            standin.accepted_at = standin.offence_at = standin.last_at = CW_TIME_NONE;
            c = &standin;
        }
        rc = fn(ud, c, rec);
        /* the callback may have added to this entry: find it again */
        if ((ie = spec_entry(e, type, fid, value)) == NULL)
            break;
    }
    return rc;
}

typedef struct decoded {
    cw_engine *e;
    cw_event_fn fn;
    void *ud;
} decoded;

static int decode_then(void *ud, const cw_case *c, const uint8_t *rec)
{
    decoded *d = ud;
    cw_evbuf *b = cw__evbuf_push(d->e);
    int rc;

    if (b == NULL)
        return -1;
    cw_rec_decode(rec, b);
    b->ev.case_id = c->id;
    rc = d->fn(d->ud, c, &b->ev);
    cw__evbuf_pop(d->e);
    return rc;
}

int cw__find_events(cw_engine *e, int type, int fid, uint32_t value, cw_time from, cw_time to,
                    cw_event_fn fn, void *ud)
{
    decoded d = { e, fn, ud };

    return cw__find_records(e, type, fid, value, from, to, CW_CASE_GONE, decode_then, &d);
}

void cw__revisit_indexed(cw_engine *e, int type, int fid, uint32_t value)
{
    cw_ientry *ie = e->rebuilding ? NULL : spec_entry(e, type, fid, value);

    for (uint32_t i = 0; ie != NULL && i < ie->n; i++)
        cw__defer_revisit(e, ie->v[i].csid);
}

/* Whether entry r of spec s is still needed: within the window, or its
 * case in memory; a kept spec keeps the rest as stubs. */
static bool keep_ref(cw_engine *e, const cw_index_spec *s, cw_iref *r)
{
    /* the tests that read only the entry first: most entries are within
     * their window, or stubs already, and need no look-up of their case */
    if (s->window > 0 && r->at >= e->clock - s->window)
        return true;
    if (s->window == 0 && r->rec == NULL)
        return true;
    if (cw__case_live(e, r->csid) != NULL)
        return true;
    if (s->window == 0) {
        free(r->rec);
        r->rec = NULL;
        return true;
    }
    return false;
}

void cw__index_sweep(cw_engine *e)
{
    size_t k = 0;

    for (size_t i = 0; i < e->nient; i++) {
        cw_ientry *ie = &e->ient[i];
        const cw_index_spec *s = &e->rs->idx[ie->key >> 32];
        uint32_t n = 0;
        for (uint32_t j = 0; j < ie->n; j++) {
            if (keep_ref(e, s, &ie->v[j]))
                ie->v[n++] = ie->v[j];
            else
                free(ie->v[j].rec);
        }
        ie->n = n;
        if (n == 0) {
            free(ie->v);
            continue;
        }
        if (ie->cap > 2 * n) {
            ie->cap = n;
            ie->v = cw_xrealloc(ie->v, n * sizeof *ie->v);
        }
        e->ient[k++] = *ie;
    }
    if (k != e->nient) {
        size_t n = 1024;
        e->nient = k;
        while (n < 2 * k)
            n *= 2;
        slots_rebuild(e, n);
    }
}

void cw__index_clear(cw_engine *e)
{
    for (size_t i = 0; i < e->nient; i++) {
        for (uint32_t j = 0; j < e->ient[i].n; j++)
            free(e->ient[i].v[j].rec);
        free(e->ient[i].v);
    }
    e->nient = 0;
    if (e->islot)
        memset(e->islot, 0, e->nislot * sizeof *e->islot);
}

void cw__index_free(cw_engine *e)
{
    cw__index_clear(e);
    free(e->ient);
    free(e->islot);
    e->ient = NULL;
    e->islot = NULL;
    e->capient = e->nislot = 0;
}

size_t cw__index_memory(const cw_engine *e)
{
    size_t n = e->capient * sizeof *e->ient + e->nislot * sizeof *e->islot;

    for (size_t i = 0; i < e->nient; i++) {
        n += e->ient[i].cap * sizeof *e->ient[i].v;
        for (uint32_t j = 0; j < e->ient[i].n; j++)
            if (e->ient[i].v[j].rec)
                n += cw_rec_size(e->ient[i].v[j].rec) + 16;
    }
    return n;
}

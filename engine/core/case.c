/*
 * Cases: their timelines (compact records in (at, seq) order), their
 * header (kind, cause, acceptance, the unit that owns them), the rules'
 * per-case states, and their life in memory: a case whose findings are
 * settled and stored, and that has been quiet for a while, leaves memory
 * and comes back through the engine's loader when it is needed again.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "core/engine_int.h"
#include "core/timers.h"

/* ---- the table of cases -------------------------------------------------- */

cw_case *cw__case_live(const cw_engine *e, uint32_t sid)
{
    uint32_t v = sid < e->ncase_of ? e->case_of[sid] : 0;

    return v == 0 || v == CW_CASE_GONE ? NULL : e->cases[v - 1];
}

cw_case *cw_engine_case_live(const cw_engine *e, uint32_t sid)
{
    return cw__case_live(e, sid);
}

bool cw__case_gone(const cw_engine *e, uint32_t sid)
{
    return sid < e->ncase_of && e->case_of[sid] == CW_CASE_GONE;
}

cw_case *cw__case_new(cw_engine *e, uint32_t sid)
{
    cw_case *c = cw_xcalloc(1, sizeof *c);
    uint32_t idx;

    if (e->nfree > 0) {
        idx = e->freeidx[--e->nfree];
    } else {
        CW_GROW(e->cases, e->capcases, e->ncases + 1);
        idx = (uint32_t)e->ncases++;
    }
    c->id = sid;
    c->idx = idx;
    c->accepted_at = c->offence_at = CW_TIME_NONE;
    c->last_at = CW_TIME_NONE;
    if (e->foreign != NULL)
        c->foreign = e->foreign(e->foreign_ud, cw_strtab_str(e->w->strs, sid));
    e->cases[idx] = c;
    CW_GROW_ZEROED(e->case_of, e->ncase_of, sid);
    e->case_of[sid] = idx + 1;
    e->nlive++;
    return c;
}

cw_case *cw__case_get(cw_engine *e, uint32_t sid, int *how)
{
    cw_case *c = cw__case_live(e, sid);
    bool gone = cw__case_gone(e, sid);
    cw_case *outer;
    int outer_how;

    *how = CW_GOT_LIVE;
    if (c != NULL)
        return c;
    c = cw__case_new(e, sid);
    if (!gone)
        return c;
    /* back from where it went: its image, or else its events */
    outer = e->loading;
    outer_how = e->loading_how;
    e->loading = c;
    e->loading_how = CW_GOT_EVENTS;
    if (e->offered != NULL && e->offered_sid == sid &&
        cw_engine_load_image(e, e->offered, e->offered_len) == 0)
        ;                       /* the image at hand (cw_engine_offer_image) */
    else if (e->loader.load != NULL &&
             e->loader.load(e->loader.ud, e, cw_strtab_str(e->w->strs, sid)) < 0)
        cw_log(CW_LOG_ERROR, "case %s could not be read back; it is judged on what was read",
               cw_strtab_str(e->w->strs, sid));
    *how = e->loading_how;
    e->loading = outer;
    e->loading_how = outer_how;
    e->loaded++;
    if (*how == CW_GOT_IMAGE) {
        if (e->depth == 0)
            cw__case_rebuild_states(e, c);
        else
            cw__defer_states(e, sid);
    }
    return c;
}

size_t cw_engine_ncases(const cw_engine *e)
{
    return e->ncases;
}

cw_case *cw_engine_case_at(const cw_engine *e, size_t i)
{
    return i < e->ncases ? e->cases[i] : NULL;
}

cw_case *cw_engine_case(const cw_engine *e, const char *id)
{
    uint32_t sid = cw_strtab_find(e->w->strs, id, strlen(id));

    return sid == UINT32_MAX ? NULL : cw__case_live(e, sid);
}

uint32_t cw_engine_case_sid(cw_engine *e, const char *id, size_t len)
{
    return cw_strtab_intern(e->w->strs, id, len);
}

size_t cw_engine_live(const cw_engine *e)
{
    return e->nlive;
}

uint64_t cw_engine_evicted(const cw_engine *e)
{
    return e->evicted;
}

uint64_t cw_engine_loaded(const cw_engine *e)
{
    return e->loaded;
}

/* ---- timelines ---------------------------------------------------------------- */

/* (at, seq) order, the order of a timeline and of everything sorted by time. */
static inline int rec_cmp(const uint8_t *a, cw_time at, uint64_t seq)
{
    return cw_atseq_cmp(cw_rec_at(a), cw_rec_seq(a), at, seq);
}

/* The case's attributes come from its first case.accepted in time,
 * whenever that arrives: a rule scoped to administrative cases judges a
 * summons recorded before the acceptance too. Returns true when they
 * changed. */
static bool take_header(cw_engine *e, cw_case *c, const uint8_t *rec)
{
    const cw_ruleset *rs = e->rs;
    const cw_fval *f;
    cw_evbuf *b;

    if (cw_rec_type(rec) != rs->t_accepted ||
        (c->accepted_at != CW_TIME_NONE && c->accepted_at <= cw_rec_at(rec)))
        return false;
    if ((b = cw__evbuf_push(e)) == NULL)
        return false;
    cw_rec_decode(rec, b);
    c->accepted_at = c->offence_at = b->ev.at;
    c->kind = c->cause = 0;
    if ((f = cw_event_field(&b->ev, rs->f_kind)) != NULL && f->kind == CW_V_STR)
        c->kind = f->v.s;
    if ((f = cw_event_field(&b->ev, rs->f_cause)) != NULL && f->kind == CW_V_STR)
        c->cause = f->v.s;
    if ((f = cw_event_field(&b->ev, rs->f_offence_at)) != NULL && f->kind == CW_V_TIME)
        c->offence_at = f->v.i;
    cw__evbuf_pop(e);
    return true;
}

/* Room for one more record of size bytes. */
static void timeline_room(cw_case *c, uint32_t size)
{
    if (c->cap - c->len < size) {
        size_t cap = c->cap ? c->cap : 64;
        while (cap - c->len < size)
            cap += cap / 2 + 64;
        c->tl = cw_xrealloc(c->tl, cap);
        c->cap = (uint32_t)cap;
    }
    if ((c->nev & (c->nev - 1)) == 0)      /* 0, 1, 2, 4, ...: grow */
        c->offs = cw_xrealloc(c->offs, (c->nev ? c->nev * 2 : 2) * sizeof *c->offs);
}

bool cw__case_put(cw_engine *e, cw_case *c, const uint8_t *rec, bool *in_order)
{
    uint32_t size = cw_rec_size(rec), k = c->nev;
    cw_time at = cw_rec_at(rec);
    uint64_t seq = cw_rec_seq(rec);
    size_t pos = c->len;

    /* Usually the newest: compare with the last record before searching. */
    if (c->nev > 0 && rec_cmp(c->tl + c->offs[c->nev - 1], at, seq) >= 0) {
        uint32_t lo = 0, hi = c->nev;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (rec_cmp(c->tl + c->offs[mid], at, seq) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < c->nev && rec_cmp(c->tl + c->offs[lo], at, seq) == 0) {
            *in_order = true;       /* already here (read back with its case) */
            return false;
        }
        k = lo;
        pos = c->offs[k];
    }
    timeline_room(c, size);
    if (k < c->nev) {
        memmove(c->tl + pos + size, c->tl + pos, c->len - pos);
        memmove(&c->offs[k + 1], &c->offs[k], (c->nev - k) * sizeof *c->offs);
        for (uint32_t i = k + 1; i <= c->nev; i++)
            c->offs[i] += size;
    }
    c->offs[k] = (uint32_t)pos;
    memcpy(c->tl + pos, rec, size);
    c->len += size;
    c->nev++;
    if (c->ngone > 0)
        cw__mark_dirty(e, c);   /* what the store holds is compared at the next flush */
    *in_order = pos >= c->proclen;
    if (!*in_order)
        c->proclen += size;     /* still on a record boundary; a replay follows */
    /* what rules already concluded assumed other attributes: judge again */
    if (take_header(e, c, c->tl + pos) && c->nproc > 0)
        *in_order = false;
    e->stored++;
    return true;
}

void cw_engine_store(cw_engine *e, uint32_t case_sid, const uint8_t *rec, cw_case **out,
                     bool *in_order)
{
    int how;
    cw_case *c = cw__case_get(e, case_sid, &how);

    cw__case_put(e, c, rec, in_order);
    if (how == CW_GOT_EVENTS)
        *in_order = false;
    /* the caller replays it; until then what it concluded is not what its
     * timeline gives, so it must not leave memory with it */
    if (!*in_order)
        c->stale = true;
    *out = c;
}

int cw_engine_load_image(cw_engine *e, const void *image, size_t len)
{
    cw_case *c = e->loading;
    int rc;

    if (c == NULL || c->nev > 0)
        return CW_EINVAL;
    if ((rc = cw__case_from_image(e, c, image, len)) < 0) {
        /* start again from nothing: the loader may give the events */
        for (uint32_t i = 0; i < c->nfr; i++)
            cw__frec_free(&c->fr[i]);
        free(c->tl);
        free(c->offs);
        c->fr = NULL;
        c->tl = NULL;
        c->offs = NULL;
        c->nfr = c->capfr = c->nev = c->nproc = c->len = c->cap = c->proclen = 0;
        return rc;
    }
    e->loading_how = CW_GOT_IMAGE;
    return 0;
}

void cw_engine_load_record(cw_engine *e, const uint8_t *rec)
{
    bool in_order;

    if (e->loading != NULL)
        cw__case_put(e, e->loading, rec, &in_order);
}

int cw_engine_load_json(cw_engine *e, uint64_t seq, const char *json, size_t len)
{
    cw_event_error ee;
    cw_pevent pe;
    cw_err err;

    if (e->loading == NULL)
        return CW_EINVAL;
    if (e->parser == NULL) {
        e->parser = cw_evparser_new();
        cw_evparser_set_now(e->parser, CW_TIME_NONE);
    }
    /* an event the catalogue in force refuses was reported when it came */
    if (cw_evparse(e->parser, e->rs->cat, json, len, &pe, &ee) < 0 ||
        cw_engine_encode(e, &pe, seq, &e->recbuf, &e->reccap, &err) < 0)
        return CW_EEVENT;
    cw_engine_load_record(e, e->recbuf);
    return 0;
}

const uint8_t *cw__case_find(const cw_case *c, cw_time at, uint64_t seq)
{
    uint32_t lo = 0, hi = c->nev;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (rec_cmp(c->tl + c->offs[mid], at, seq) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->nev && rec_cmp(c->tl + c->offs[lo], at, seq) == 0)
        return c->tl + c->offs[lo];
    return NULL;
}

const uint8_t *cw_case_record(const cw_case *c, uint64_t seq)
{
    for (size_t off = 0; off < c->len; off += cw_rec_size(c->tl + off))
        if (cw_rec_seq(c->tl + off) == seq)
            return c->tl + off;
    return NULL;
}

int cw__case_events(cw_engine *e, const cw_case *c, const int *types, size_t ntypes,
                    cw_event_fn fn, void *ud)
{
    cw_evbuf *b = cw__evbuf_push(e);
    uint64_t mask = 0;          /* the types below 64 asked for, as bits */
    bool high = false;          /* a type of 64 or more is asked for */
    int rc = 0;

    if (b == NULL)
        return -1;
    for (size_t i = 0; types != NULL && i < ntypes; i++) {
        if (types[i] >= 0 && types[i] < 64)
            mask |= 1ull << types[i];
        else
            high = true;
    }
    for (size_t off = 0; off < c->proclen && rc == 0; off += cw_rec_size(c->tl + off)) {
        if (types != NULL) {
            int t = cw_rec_type(c->tl + off);
            size_t i;
            if (t < 64 && !((mask >> t) & 1))
                continue;
            if (t >= 64) {
                for (i = 0; high && i < ntypes && types[i] != t; i++)
                    ;
                if (!high || i == ntypes)
                    continue;
            }
        }
        cw_rec_decode(c->tl + off, b);
        b->ev.case_id = c->id;
        rc = fn(ud, c, &b->ev);
    }
    cw__evbuf_pop(e);
    return rc;
}

/* ---- rules' per-case state ------------------------------------------------------ */

void **cw__case_slot(cw_case *c, uint16_t rule)
{
    for (uint16_t i = 0; i < c->nslots; i++)
        if (c->slots[i].rule == rule)
            return &c->slots[i].state;
    if (c->nslots == c->capslots) {
        c->capslots = c->capslots ? (uint16_t)(c->capslots * 2) : 4;
        c->slots = cw_xrealloc(c->slots, c->capslots * sizeof *c->slots);
    }
    c->slots[c->nslots].rule = rule;
    c->slots[c->nslots].state = NULL;
    return &c->slots[c->nslots++].state;
}

void cw__case_free_slots(cw_engine *e, cw_case *c)
{
    for (uint16_t i = 0; i < c->nslots; i++) {
        cw_rule *r = c->slots[i].rule < e->rs->nrules ? e->rs->rules[c->slots[i].rule] : NULL;
        void (*fr)(void *, void *) = r ? cw_model_case_free(r->model) : NULL;
        if (c->slots[i].state != NULL && fr != NULL)
            fr(r->inst, c->slots[i].state);
    }
    free(c->slots);
    c->slots = NULL;
    c->nslots = c->capslots = 0;
}

void cw__case_reset(cw_engine *e, cw_case *c)
{
    cw__case_free_slots(e, c);
    while (c->nfr > 0)
        cw__frec_forget(c, c->nfr - 1);
    cw__mark_dirty(e, c);
    cw__case_rewind(c);
    c->stale = false;
    c->partial = false;
}

void cw__case_rewind(cw_case *c)
{
    c->proclen = 0;
    c->nproc = 0;
    c->has = 0;
    c->unit = 0;
    c->unit_from = 0;
}

void cw__case_free(cw_engine *e, cw_case *c)
{
    cw__case_free_slots(e, c);
    for (uint32_t j = 0; j < c->nfr; j++)
        cw__frec_free(&c->fr[j]);
    free(c->fr);
    free(c->gone);
    free(c->offs);
    free(c->tl);
    free(c);
}

/* ---- leaving memory --------------------------------------------------------------- */

static void wake_up(cw_wake *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].at <= h[i].at)
            break;
        cw_wake t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static void wake_down(cw_wake *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && h[l].at < h[m].at)
            m = l;
        if (l + 1 < n && h[l + 1].at < h[m].at)
            m = l + 1;
        if (m == i)
            return;
        cw_wake t = h[m];
        h[m] = h[i];
        h[i] = t;
        i = m;
    }
}

static void wake_push(cw_engine *e, cw_case *c, cw_time at)
{
    CW_GROW(e->wake, e->capwake, e->nwake + 1);
    e->wake[e->nwake].at = at;
    e->wake[e->nwake].csid = c->id;
    wake_up(e->wake, e->nwake++);
    c->waking = true;
}

void cw__case_touch(cw_engine *e, cw_case *c)
{
    if (e->idle > 0 && !c->waking && c->last_at != CW_TIME_NONE)
        wake_push(e, c, c->last_at + e->idle);
}

/* When c may leave: quiet for idle seconds, and idle seconds after the
 * last time one of its findings changes by time alone. */
static cw_time settled_at(const cw_engine *e, const cw_case *c)
{
    cw_time t = c->last_at + e->idle;

    for (uint32_t i = 0; i < c->nfr; i++) {
        cw_time next = cw__frec_next(&c->fr[i], e->clock);
        if (next != CW_TIME_NONE && next + e->idle > t)
            t = next + e->idle;
    }
    return t;
}

/* Hand c's image to the loader's save, then drop it. */
static bool evict(cw_engine *e, cw_case *c)
{
    e->image.n = 0;
    cw__case_image(e, c, &e->image);
    if (e->loader.save(e->loader.ud, e, cw_strtab_str(e->w->strs, c->id), e->image.p,
                       e->image.n) < 0)
        return false;
    e->case_of[c->id] = CW_CASE_GONE;
    e->cases[c->idx] = NULL;
    CW_GROW(e->freeidx, e->capfree, e->nfree + 1);
    e->freeidx[e->nfree++] = c->idx;
    e->nlive--;
    e->evicted++;
    cw__case_free(e, c);
    return true;
}

size_t cw__sweep(cw_engine *e)
{
    size_t n = 0;

    if (e->loader.load == NULL || e->loader.save == NULL || e->idle <= 0)
        return 0;
    while (e->nwake > 0 && e->wake[0].at <= e->clock) {
        uint32_t sid = e->wake[0].csid;
        cw_case *c;
        cw_time t;
        e->wake[0] = e->wake[--e->nwake];
        wake_down(e->wake, e->nwake, 0);
        if ((c = cw__case_live(e, sid)) == NULL)
            continue;
        c->waking = false;
        t = settled_at(e, c);
        if (t <= e->clock && !c->dirty && !c->stale && c->ngone == 0 && c->proclen == c->len &&
            evict(e, c)) {
            n++;
        } else {
            /* not yet; a case not flushed yet is looked at again soon */
            wake_push(e, c, t > e->clock ? t : e->clock + e->idle / 8 + 1);
        }
    }
    if (!e->noindex)
        cw__index_sweep(e);
    return n;
}

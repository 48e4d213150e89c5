#include "core/engine.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/engine_int.h"
#include "core/timers.h"
#include "base/util.h"

/* ---- cases and timelines ---------------------------------------------- */

static cw_case *case_get(cw_engine *e, uint32_t id)
{
    cw_case *c;

    if (id < e->ncase_of && e->case_of[id] != 0)
        return e->cases[e->case_of[id] - 1];
    if (id >= e->ncase_of) {
        size_t n = e->ncase_of ? e->ncase_of : 1024;
        while (n <= id)
            n *= 2;
        e->case_of = cw_xrealloc(e->case_of, n * sizeof *e->case_of);
        memset(e->case_of + e->ncase_of, 0, (n - e->ncase_of) * sizeof *e->case_of);
        e->ncase_of = n;
    }
    CW_GROW(e->cases, e->capcases, e->ncases + 1);
    c = cw_xcalloc(1, sizeof *c);
    c->id = id;
    c->idx = (uint32_t)e->ncases;
    c->accepted_at = c->offence_at = CW_TIME_NONE;
    e->cases[e->ncases++] = c;
    e->case_of[id] = (uint32_t)e->ncases;
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

    if (sid == UINT32_MAX || sid >= e->ncase_of || e->case_of[sid] == 0)
        return NULL;
    return e->cases[e->case_of[sid] - 1];
}

static inline int rec_cmp(const uint8_t *a, cw_time at, uint64_t seq)
{
    cw_time t = cw_rec_at(a);

    if (t != at)
        return t < at ? -1 : 1;
    return cw_rec_seq(a) < seq ? -1 : cw_rec_seq(a) > seq;
}

int cw_engine_encode(cw_engine *e, const cw_pevent *pe, uint64_t seq, uint8_t **buf,
                     size_t *cap, cw_err *err)
{
    size_t len = 0, size = cw_rec_encode(e->w, pe, seq, buf, &len, cap);

    if (size == 0)
        return cw_err_set(err, CW_ELIMIT, "more than %d data fields or %d list items, or a new "
                          "data field name when 65535 are known", CW_MAX_FIELDS, CW_MAX_ITEMS);
    return (int)size;
}

uint32_t cw_engine_case_sid(cw_engine *e, const char *id, size_t len)
{
    return cw_strtab_intern(e->w->strs, id, len);
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

void cw_engine_store(cw_engine *e, uint32_t case_sid, const uint8_t *rec, cw_case **out,
                     bool *in_order)
{
    cw_case *c = case_get(e, case_sid);
    uint32_t size = cw_rec_size(rec);
    cw_time at = cw_rec_at(rec);
    uint64_t seq = cw_rec_seq(rec);
    size_t pos = c->len;
    uint32_t k = c->nev;

    if (c->cap - c->len < size) {
        size_t cap = c->cap ? c->cap : 64;
        while (cap - c->len < size)
            cap += cap / 2 + 64;
        c->tl = cw_xrealloc(c->tl, cap);
        c->cap = (uint32_t)cap;
    }
    if ((c->nev & (c->nev - 1)) == 0)      /* 0, 1, 2, 4, ...: grow */
        c->offs = cw_xrealloc(c->offs, (c->nev ? c->nev * 2 : 2) * sizeof *c->offs);
    /* Usually the newest: compare with the last record before searching. */
    if (c->nev > 0 && rec_cmp(c->tl + c->offs[c->nev - 1], at, seq) > 0) {
        uint32_t lo = 0, hi = c->nev;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (rec_cmp(c->tl + c->offs[mid], at, seq) > 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        k = lo;
        pos = c->offs[k];
        memmove(c->tl + pos + size, c->tl + pos, c->len - pos);
        memmove(&c->offs[k + 1], &c->offs[k], (c->nev - k) * sizeof *c->offs);
        for (uint32_t i = k + 1; i <= c->nev; i++)
            c->offs[i] += size;
    }
    c->offs[k] = (uint32_t)pos;
    memcpy(c->tl + pos, rec, size);
    c->len += size;
    c->nev++;
    *in_order = pos >= c->proclen;
    if (!*in_order)
        c->proclen += size;     /* still on a record boundary; a replay follows */
    /* what rules already concluded assumed other attributes: judge again */
    if (take_header(e, c, c->tl + pos) && c->nproc > 0)
        *in_order = false;
    *out = c;
    e->stored++;
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

/* ---- decode buffers ----------------------------------------------------- */

cw_evbuf *cw__evbuf_push(cw_engine *e)
{
    if (e->evdepth >= CW_EVBUF_DEPTH)
        return NULL;
    if (e->evbufs[e->evdepth] == NULL)
        e->evbufs[e->evdepth] = cw_xmalloc(sizeof(cw_evbuf));
    return e->evbufs[e->evdepth++];
}

void cw__evbuf_pop(cw_engine *e)
{
    e->evdepth--;
}

/* ---- cross-case indexes --------------------------------------------------- */

static inline uint64_t ikey(uint32_t spec, uint32_t value)
{
    return ((uint64_t)spec << 32) | value;
}

static cw_ientry *index_slot(cw_engine *e, uint64_t key, bool create)
{
    size_t i;

    if (e->nislot == 0) {
        if (!create)
            return NULL;
        e->nislot = 1024;
        e->islot = cw_xcalloc(e->nislot, sizeof *e->islot);
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
    if (e->nient * 2 > e->nislot) {
        size_t n = e->nislot * 2;
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
    return &e->ient[e->nient - 1];
}

static inline bool iref_before(const cw_iref *p, cw_time at, uint64_t seq)
{
    return p->at < at || (p->at == at && p->seq < seq);
}

static void index_add1(cw_engine *e, uint32_t spec, uint32_t value, const cw_case *c,
                       const cw_event *ev)
{
    cw_ientry *ie = index_slot(e, ikey(spec, value), true);
    uint32_t lo = 0, hi = ie->n, pos;

    /* Entries are in (at, seq) order, seqs unique; events come in time
     * order but for replays and late arrivals, so look at the end first. */
    if (hi > 0 && iref_before(&ie->v[hi - 1], ev->at, ev->seq))
        lo = hi;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (iref_before(&ie->v[mid], ev->at, ev->seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    pos = lo;
    /* Replays add the same event again: keep one entry. */
    if (pos < ie->n && ie->v[pos].seq == ev->seq && ie->v[pos].at == ev->at)
        return;
    if (ie->n == ie->cap) {
        ie->cap = ie->cap ? ie->cap * 2 : 2;
        ie->v = cw_xrealloc(ie->v, ie->cap * sizeof *ie->v);
    }
    memmove(&ie->v[pos + 1], &ie->v[pos], (ie->n - pos) * sizeof *ie->v);
    ie->v[pos].at = ev->at;
    ie->v[pos].seq = ev->seq;
    ie->v[pos].cidx = c->idx;
    ie->n++;
}

static void index_add(cw_engine *e, const cw_case *c, const cw_event *ev)
{
    const cw_ruleset *rs = e->rs;

    for (size_t s = 0; s < rs->nidx; s++) {
        const cw_fval *f;
        if (rs->idx[s].type != ev->type)
            continue;
        if ((f = cw_event_field(ev, rs->idx[s].fid)) == NULL)
            continue;
        if (f->kind == CW_V_STR)
            index_add1(e, (uint32_t)s, f->v.s, c, ev);
        else if (f->kind == CW_V_LIST)
            for (uint32_t i = 0; i < f->n; i++)
                index_add1(e, (uint32_t)s, f->v.list[i], c, ev);
    }
}

int cw__find_records(cw_engine *e, int type, int fid, uint32_t value, cw_time from, cw_time to,
                     const cw_case *only, int (*fn)(void *ud, const cw_case *c, const uint8_t *rec),
                     void *ud)
{
    const cw_ruleset *rs = e->rs;
    cw_ientry *ie;
    uint32_t lo = 0, hi;
    size_t s;
    int rc = 0;

    for (s = 0; s < rs->nidx; s++)
        if (rs->idx[s].type == type && rs->idx[s].fid == fid)
            break;
    if (s == rs->nidx || (ie = index_slot(e, ikey((uint32_t)s, value), false)) == NULL)
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
        const cw_case *c = e->cases[ie->v[i].cidx];
        const uint8_t *rec;
        if (only != NULL && c != only)
            continue;
        rec = cw__case_find(c, ie->v[i].at, ie->v[i].seq);
        /* only what has been processed is visible */
        if (rec == NULL || (size_t)(rec - c->tl) >= c->proclen)
            continue;
        rc = fn(ud, c, rec);
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

    return cw__find_records(e, type, fid, value, from, to, NULL, decode_then, &d);
}

int cw__case_events(cw_engine *e, const cw_case *c, const int *types, size_t ntypes,
                    cw_event_fn fn, void *ud)
{
    cw_evbuf *b = cw__evbuf_push(e);
    int rc = 0;

    if (b == NULL)
        return -1;
    for (size_t off = 0; off < c->proclen && rc == 0; off += cw_rec_size(c->tl + off)) {
        if (types != NULL) {
            int t = cw_rec_type(c->tl + off);
            size_t i;
            for (i = 0; i < ntypes && types[i] != t; i++)
                ;
            if (i == ntypes)
                continue;
        }
        cw_rec_decode(c->tl + off, b);
        b->ev.case_id = c->id;
        rc = fn(ud, c, &b->ev);
    }
    cw__evbuf_pop(e);
    return rc;
}

/* ---- findings ------------------------------------------------------------ */

int cw_frec_state(const cw_frec *r, cw_time now, cw_time *raised)
{
    if (r->mode == CW_FM_FIXED) {
        /* a judgement that holds only from a time on (an overlap that
         * passes its limit while both sessions are still open) is nothing
         * before it */
        *raised = r->raised;
        return r->raised != CW_TIME_NONE && now != CW_TIME_NONE && now < r->raised ? CW_ST_NONE
                                                                                    : r->fstate;
    }
    if (r->met != CW_TIME_NONE) {
        if (r->met > r->due) {
            *raised = r->met;
            return CW_ST_LATE;
        }
        if (r->lead > 0 && r->met >= r->due - r->lead) {
            *raised = r->met;
            return CW_ST_CLEARED;
        }
        return CW_ST_NONE;
    }
    if (now > r->due) {
        *raised = r->due + 1;
        return CW_ST_OVERDUE;
    }
    if (r->lead > 0 && now >= r->due - r->lead) {
        *raised = r->due - r->lead;
        return CW_ST_WARNING;
    }
    return CW_ST_NONE;
}

static char *copy_events(const char *const *ids, size_t n)
{
    size_t len = 1;
    char *s, *o;

    if (n == 0)
        return NULL;
    for (size_t i = 0; i < n; i++)
        len += strlen(ids[i]) + 1;
    o = s = cw_xmalloc(len);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(ids[i]);
        memcpy(o, ids[i], l + 1);
        o += l + 1;
    }
    *o = '\0';
    return s;
}

static bool same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool same_events(const char *a, const char *const *ids, size_t n)
{
    size_t i = 0;

    if (a == NULL)
        return n == 0;
    for (; *a && i < n; i++) {
        if (strcmp(a, ids[i]) != 0)
            return false;
        a += strlen(a) + 1;
    }
    return *a == '\0' && i == n;
}

void cw__mark_dirty(cw_engine *e, cw_case *c)
{
    if (c->dirty)
        return;
    c->dirty = true;
    CW_GROW(e->dirty, e->capdirty, e->ndirty + 1);
    e->dirty[e->ndirty++] = c->idx;
}

void cw__frec_free(cw_frec *r)
{
    free(r->msg);
    free(r->evids);
}

/* If the store holds r, leave a tombstone. */
static void frec_keep_gone(cw_case *c, const cw_frec *r)
{
    if (r->whash != 0) {
        if (c->ngone == c->capgone) {
            c->capgone = c->capgone ? c->capgone * 2 : 2;
            c->gone = cw_xrealloc(c->gone, c->capgone * sizeof *c->gone);
        }
        c->gone[c->ngone].rule = r->rule;
        c->gone[c->ngone].subject = r->subject;
        c->gone[c->ngone].whash = r->whash;
        c->gone[c->ngone].settled = false;
        c->ngone++;
    }
}

/* Drop record i of c; if the store holds it, leave a tombstone. */
void cw__frec_forget(cw_case *c, uint32_t i)
{
    frec_keep_gone(c, &c->fr[i]);
    cw__frec_free(&c->fr[i]);
    memmove(&c->fr[i], &c->fr[i + 1], (c->nfr - i - 1) * sizeof *c->fr);
    c->nfr--;
}

/* The record of (rule, subject) on c: records are kept in (rule, subject)
 * order, as big cases hold hundreds. Returns its index, or UINT32_MAX with
 * the place it would go in *pos. */
uint32_t cw__frec_find(const cw_case *c, uint16_t rule, uint32_t subject, uint32_t *pos)
{
    uint32_t lo = 0, hi = c->nfr;
    uint64_t key = (uint64_t)rule << 32 | subject;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (((uint64_t)c->fr[mid].rule << 32 | c->fr[mid].subject) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos)
        *pos = lo;
    if (lo < c->nfr && c->fr[lo].rule == rule && c->fr[lo].subject == subject)
        return lo;
    return UINT32_MAX;
}

#define frec_free cw__frec_free
#define frec_remove cw__frec_forget

/* Add or update the record of (rule, f->subject) on c. Returns the
 * record, or NULL when the finding needs none. */
static cw_frec *frec_put(cw_engine *e, cw_case *c, uint16_t rule, const cw_finding_in *f)
{
    cw_frec *r = NULL;
    bool lazy = f->mode == CW_FM_DEADLINE && f->message == NULL && f->period.unit != CW_PU_NONE;
    const char *msg = lazy ? NULL : f->message ? f->message : "";
    uint32_t pos, i = cw__frec_find(c, rule, f->subject, &pos);
    int32_t lead = (int32_t)(f->lead < 0 ? 0 : f->lead > INT32_MAX ? INT32_MAX : f->lead);

    if (i != UINT32_MAX)
        r = &c->fr[i];
    /* A deadline met before its warning window gives no finding, ever:
     * keep no record of it (most obligations end so). */
    if (f->mode == CW_FM_DEADLINE && f->met != CW_TIME_NONE && f->met <= f->due &&
        !(lead > 0 && f->met >= f->due - lead)) {
        if (r != NULL) {
            frec_remove(c, i);
            cw__mark_dirty(e, c);
        }
        return NULL;
    }
    if (r != NULL && r->mode == f->mode && r->fstate == f->state && r->flags == f->flags &&
        r->due == f->due && r->met == f->met && r->lead == lead &&
        (f->mode == CW_FM_DEADLINE || r->raised == f->raised) && same_str(r->msg, msg) &&
        (!lazy || (r->punit == f->period.unit && r->pn == f->period.n && r->pext == f->period.ext_days &&
                   r->pstart == f->period.start && r->plabel == f->period.label)) &&
        same_events(r->evids, f->events, f->nevents))
        return r;
    if (r == NULL) {
        if (c->nfr == c->capfr) {
            c->capfr = c->capfr ? c->capfr * 2 : 2;
            c->fr = cw_xrealloc(c->fr, c->capfr * sizeof *c->fr);
        }
        memmove(&c->fr[pos + 1], &c->fr[pos], (c->nfr - pos) * sizeof *c->fr);
        c->nfr++;
        r = &c->fr[pos];
        memset(r, 0, sizeof *r);
        r->rule = rule;
        r->subject = f->subject;
    } else {
        frec_free(r);
    }
    /* whash and timer_at stay: they describe the store and the timers */
    r->mode = f->mode;
    r->fstate = f->state;
    r->flags = f->flags;
    r->due = f->due;
    r->met = f->mode == CW_FM_DEADLINE ? f->met : CW_TIME_NONE;
    r->lead = lead;
    r->raised = f->mode == CW_FM_FIXED ? f->raised : CW_TIME_NONE;
    r->msg = msg ? cw_xstrdup(msg) : NULL;
    r->punit = lazy ? f->period.unit : CW_PU_NONE;
    r->plabel = lazy ? f->period.label : 0;
    r->pn = lazy ? f->period.n : 0;
    r->pext = lazy ? f->period.ext_days : 0;
    r->pstart = lazy ? f->period.start : CW_TIME_NONE;
    r->evids = copy_events(f->events, f->nevents);
    r->unit = c->unit;
    cw__mark_dirty(e, c);
    return r;
}

int cw__emit(cw_engine *e, uint16_t rule, cw_case *c, const cw_finding_in *f)
{
    if (f->mode != CW_FM_DEADLINE && f->mode != CW_FM_FIXED)
        return -1;
    if (f->mode == CW_FM_DEADLINE && f->due == CW_TIME_NONE)
        return -1;
    frec_put(e, c, rule, f);
    return 0;
}

int cw__retract(cw_engine *e, uint16_t rule, cw_case *c, uint32_t subject)
{
    uint32_t i = cw__frec_find(c, rule, subject, NULL);

    if (i != UINT32_MAX) {
        frec_remove(c, i);
        cw__mark_dirty(e, c);
    }
    return 0;
}

int cw__sync(cw_engine *e, uint16_t rule, cw_case *c, const cw_finding_in *f, size_t n)
{
    uint32_t lo, hi, k;

    cw__frec_find(c, rule, 0, &lo);
    for (hi = lo; hi < c->nfr && c->fr[hi].rule == rule; hi++)
        c->fr[hi].mark = 0;
    for (size_t j = 0; j < n; j++) {
        uint32_t i;
        if (cw__emit(e, rule, c, &f[j]) < 0)
            return -1;
        if ((i = cw__frec_find(c, rule, f[j].subject, NULL)) != UINT32_MAX)
            c->fr[i].mark = 1;
    }
    /* the rule's records, now with those just added, from lo on */
    for (hi = lo, k = lo; hi < c->nfr && c->fr[hi].rule == rule; hi++) {
        if (c->fr[hi].mark) {
            c->fr[k++] = c->fr[hi];
            continue;
        }
        frec_keep_gone(c, &c->fr[hi]);
        cw__frec_free(&c->fr[hi]);
        cw__mark_dirty(e, c);
    }
    if (hi > k) {
        memmove(&c->fr[k], &c->fr[hi], (c->nfr - hi) * sizeof *c->fr);
        c->nfr -= hi - k;
    }
    return 0;
}

/* ---- processing ------------------------------------------------------------ */

static void update_header(cw_engine *e, cw_case *c, const cw_event *ev)
{
    (void)e;
    c->unit = ev->unit;
}

static void dispatch(cw_engine *e, cw_case *c, const cw_event *ev)
{
    cw_ruleset *rs = e->rs;

    if (ev->type >= rs->nlisten_types)
        return;
    for (uint16_t i = 0; i < rs->nlisten[ev->type]; i++) {
        cw_rule *r = rs->rules[rs->listen[ev->type][i]];
        cw_ctx ctx;
        int rc;

        if (r->status != CW_RULE_ACTIVE || (r->needs & c->has) != r->needs)
            continue;
        cw__ctx_init(&ctx, e, rs, r);
        ctx.ev = ev;
        ctx.now = ev->at;
        r->evals++;
        if (e->timing) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            rc = r->model->on_event(r->inst, &ctx, c, ev);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            r->nanos += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
        } else {
            rc = r->model->on_event(r->inst, &ctx, c, ev);
        }
        if (rc != 0 && r->status == CW_RULE_ACTIVE) {
            char why[320];
            r->errors++;
            snprintf(why, sizeof why, "%s:%d: model %s failed on event %s (case %s)",
                     r->info.file, r->info.line, r->model->name, ev->id,
                     cw_strtab_str(e->w->strs, c->id));
            cw_rule_quarantine(r, why);
        }
    }
}

int cw_engine_process_next(cw_engine *e, cw_case *c)
{
    cw_evbuf *b;
    const uint8_t *rec;

    if (c->proclen >= c->len)
        return 0;
    rec = c->tl + c->proclen;
    b = cw__evbuf_push(e);
    cw_rec_decode(rec, b);
    b->ev.case_id = c->id;
    c->proclen += cw_rec_size(rec);
    c->nproc++;
    update_header(e, c, &b->ev);
    index_add(e, c, &b->ev);
    if ((size_t)b->ev.type < e->rs->nneedbit && e->rs->needbit[b->ev.type])
        c->has |= 1ull << (e->rs->needbit[b->ev.type] - 1);
    dispatch(e, c, &b->ev);
    cw__evbuf_pop(e);
    e->processed++;
    return 1;
}

static void reset_case(cw_engine *e, cw_case *c)
{
    while (c->nfr > 0)
        frec_remove(c, c->nfr - 1);
    cw__mark_dirty(e, c);
    c->proclen = 0;
    c->nproc = 0;
    c->has = 0;
}

void cw_engine_catch_up(cw_engine *e, cw_case *c, bool replay)
{
    if (replay) {
        /* Forget what the rules concluded about this case and see its
         * timeline again from the start. Findings that come out the same
         * are not written again (the tombstones keep their digests). */
        reset_case(e, c);
        e->replays++;
    }
    while (cw_engine_process_next(e, c) > 0)
        ;
}

/* ---- replays ------------------------------------------------------------------ */

typedef struct rord {
    cw_time at;
    uint64_t seq;
    uint32_t cidx;
    uint32_t pad;
} rord;

static int rord_cmp(const void *pa, const void *pb)
{
    const rord *a = pa, *b = pb;

    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}


void cw_engine_replay_all(cw_engine *e)
{
    rord *v;
    size_t n = 0, k = 0;

    for (size_t i = 0; i < e->ncases; i++) {
        reset_case(e, e->cases[i]);
        n += e->cases[i]->nev;
    }
    /* The indexes are rebuilt as events are seen again. */
    for (size_t i = 0; i < e->nient; i++)
        free(e->ient[i].v);
    e->nient = 0;
    if (e->islot)
        memset(e->islot, 0, e->nislot * sizeof *e->islot);
    v = cw_xmalloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < e->ncases; i++) {
        const cw_case *c = e->cases[i];
        for (size_t off = 0; off < c->len; off += cw_rec_size(c->tl + off)) {
            v[k].at = cw_rec_at(c->tl + off);
            v[k].seq = cw_rec_seq(c->tl + off);
            v[k].cidx = (uint32_t)i;
            k++;
        }
    }
    qsort(v, k, sizeof *v, rord_cmp);
    e->gen = cw__next_generation();
    for (size_t i = 0; i < k; i++)
        cw_engine_process_next(e, e->cases[v[i].cidx]);
    free(v);
    e->replays += e->ncases;
}

void cw_engine_set_ruleset(cw_engine *e, cw_ruleset *rs)
{
    cw_ruleset *old = e->rs;

    /* Records and tombstones name rules by their place in the ruleset:
     * forget the records, and move the tombstones to the new places; those
     * of rules that are gone are withdrawn at the next flush. */
    for (size_t i = 0; i < e->ncases; i++) {
        cw_case *c = e->cases[i];
        while (c->nfr > 0)
            frec_remove(c, c->nfr - 1);
        for (uint32_t g = 0; g < c->ngone;) {
            const char *id = c->gone[g].rule < old->nrules ? old->rules[c->gone[g].rule]->info.id : NULL;
            cw_rule *r = id ? cw_ruleset_find(rs, id) : NULL;
            if (r != NULL) {
                c->gone[g++].rule = r->index;
                continue;
            }
            if (id != NULL) {
                CW_GROW(e->orphans, e->caporphans, e->norphans + 1);
                e->orphans[e->norphans].rule = cw_xstrdup(id);
                e->orphans[e->norphans].case_sid = c->id;
                e->orphans[e->norphans].subject = c->gone[g].subject;
                e->norphans++;
            }
            c->gone[g] = c->gone[--c->ngone];
        }
    }
    e->rs = rs;
}

/* ---- engine ---------------------------------------------------------------- */

/* Unique in the process: one ruleset may serve several engines. */
uint64_t cw__next_generation(void)
{
    static uint64_t next;

    return ++next;
}

cw_engine *cw_engine_new(cw_world *w, cw_ruleset *rs)
{
    cw_engine *e = cw_xcalloc(1, sizeof *e);

    e->w = w;
    e->rs = rs;
    e->gen = cw__next_generation();
    return e;
}

void cw_engine_free(cw_engine *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->ncases; i++) {
        cw_case *c = e->cases[i];
        for (uint32_t j = 0; j < c->nfr; j++)
            frec_free(&c->fr[j]);
        free(c->fr);
        free(c->gone);
        free(c->offs);
        free(c->tl);
        free(c);
    }
    cw_timers_free(e->timers);
    free(e->pend);
    for (size_t i = 0; i < e->norphans; i++)
        free(e->orphans[i].rule);
    free(e->orphans);
    for (size_t i = 0; i < e->nient; i++)
        free(e->ient[i].v);
    for (int i = 0; i < CW_EVBUF_DEPTH; i++)
        free(e->evbufs[i]);
    free(e->ient);
    free(e->islot);
    free(e->cases);
    free(e->case_of);
    free(e->dirty);
    free(e);
}

uint64_t cw_engine_replays(const cw_engine *e)
{
    return e->replays;
}

void cw_engine_trim(cw_engine *e)
{
    for (size_t i = 0; i < e->ncases; i++) {
        cw_case *c = e->cases[i];
        if (c->cap > c->len && c->len > 0) {
            c->tl = cw_xrealloc(c->tl, c->len);
            c->cap = c->len;
        }
        if (c->capfr > c->nfr && c->nfr > 0) {
            c->fr = cw_xrealloc(c->fr, c->nfr * sizeof *c->fr);
            c->capfr = c->nfr;
        } else if (c->nfr == 0 && c->fr != NULL) {
            free(c->fr);
            c->fr = NULL;
            c->capfr = 0;
        }
    }
    for (size_t i = 0; i < e->nient; i++) {
        cw_ientry *ie = &e->ient[i];
        if (ie->cap > ie->n && ie->n > 0) {
            ie->v = cw_xrealloc(ie->v, ie->n * sizeof *ie->v);
            ie->cap = ie->n;
        }
    }
}

void cw_engine_time_rules(cw_engine *e, bool on)
{
    e->timing = on;
}

cw_world *cw_engine_world(const cw_engine *e)
{
    return e->w;
}

cw_ruleset *cw_engine_ruleset(const cw_engine *e)
{
    return e->rs;
}

size_t cw_engine_memory(const cw_engine *e)
{
    size_t n = e->capcases * sizeof *e->cases + e->ncase_of * sizeof *e->case_of +
               e->capient * sizeof *e->ient + e->nislot * sizeof *e->islot;

    for (size_t i = 0; i < e->ncases; i++) {
        const cw_case *c = e->cases[i];
        n += sizeof *c + c->cap + c->capfr * sizeof *c->fr;
        for (uint32_t j = 0; j < c->nfr; j++)
            n += (c->fr[j].msg ? strlen(c->fr[j].msg) + 1 : 0) + 16;
    }
    for (size_t i = 0; i < e->nient; i++)
        n += e->ient[i].cap * sizeof *e->ient[i].v;
    return n + cw_strtab_bytes(e->w->strs);
}

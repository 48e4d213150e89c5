/*
 * Finding records: what the rules concluded about a case, keyed by (rule,
 * subject) and kept in that order. A deadline record keeps due, lead and
 * met, and its state is derived at the time asked for; a fixed one keeps
 * its state. Records the store holds leave a tombstone when withdrawn, so
 * that the next flush withdraws them there too.
 */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/engine_int.h"

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
            cw__frec_forget(c, i);
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
        cw__frec_free(r);
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
    if (e->trace != NULL && e->trace->active && f->mode == CW_FM_DEADLINE)
        cw__trace_deadline(e, rule, f);
    frec_put(e, c, rule, f);
    return 0;
}

int cw__retract(cw_engine *e, uint16_t rule, cw_case *c, uint32_t subject)
{
    uint32_t i = cw__frec_find(c, rule, subject, NULL);

    if (i != UINT32_MAX) {
        cw__frec_forget(c, i);
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

cw_time cw__frec_next(const cw_frec *r, cw_time now)
{
    if (r->mode == CW_FM_FIXED)
        return r->raised != CW_TIME_NONE && now < r->raised ? r->raised : CW_TIME_NONE;
    if (r->mode != CW_FM_DEADLINE || r->met != CW_TIME_NONE)
        return CW_TIME_NONE;
    if (r->lead > 0 && now < r->due - r->lead)
        return r->due - r->lead;
    if (now <= r->due)
        return r->due + 1;
    return CW_TIME_NONE;
}

void cw__frec_insert(cw_case *c, const cw_frec *f)
{
    uint32_t pos, i = cw__frec_find(c, f->rule, f->subject, &pos);

    if (i != UINT32_MAX) {
        cw__frec_free(&c->fr[i]);
        c->fr[i] = *f;
        return;
    }
    if (c->nfr == c->capfr) {
        c->capfr = c->capfr ? c->capfr * 2 : 2;
        c->fr = cw_xrealloc(c->fr, c->capfr * sizeof *c->fr);
    }
    memmove(&c->fr[pos + 1], &c->fr[pos], (c->nfr - pos) * sizeof *c->fr);
    c->fr[pos] = *f;
    c->nfr++;
}

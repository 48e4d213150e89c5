/*
 * Findings to a store: which findings changed since they were last
 * written, their digests, tombstones for the withdrawn, and the timers
 * that will change a deadline's state later.
 */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "core/timers.h"
#include "base/util.h"

/* A digest to record once the store has committed. */
typedef struct pending {
    uint32_t csid;
    uint16_t rule;
    uint32_t subject;
    uint64_t whash;          /* 0: the finding was withdrawn */
} pending;

uint64_t cw_finding_digest(const char *rule, const char *case_id, const char *subject,
                           const char *unit, const char *severity, const char *state, cw_time due,
                           cw_time raised, const char *message, const char *basis,
                           const char *events_json)
{
    const char *parts[] = { rule, case_id, subject, unit, severity, state, message, basis,
                            events_json };
    uint64_t h = cw_hash(&due, sizeof due) ^ (cw_hash(&raised, sizeof raised) * 31);

    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        h = (h ^ cw_hash(parts[i], strlen(parts[i]))) * 0x100000001b3ULL + i;
    /* 0 means "nothing stored" */
    return h ? h : 1;
}

void cw_finding_events_json(const cw_finding *f, cw_buf *b)
{
    cw_buf_put(b, "[", 1);
    for (unsigned i = 0; i < f->nevents; i++) {
        if (i)
            cw_buf_put(b, ",", 1);
        cw_buf_json(b, f->events[i], strlen(f->events[i]));
    }
    cw_buf_put(b, "]", 1);
}

static void pend(cw_engine *e, const cw_case *c, uint16_t rule, uint32_t subject, uint64_t h)
{
    CW_GROW(e->pend, e->cappend, e->npend + 1);
    e->pend[e->npend].csid = c->id;
    e->pend[e->npend].rule = rule;
    e->pend[e->npend].subject = subject;
    e->pend[e->npend].whash = h;
    e->npend++;
}

static void arm(cw_engine *e, cw_case *c, cw_frec *r, cw_time now)
{
    cw_time next = cw__frec_next(r, now);

    if (next == CW_TIME_NONE || next == r->timer_at)
        return;
    if (e->timers == NULL)
        e->timers = cw_timers_new(now);
    cw_timers_add(e->timers, next, c->id);
    r->timer_at = next;
}

static int flush_case(cw_engine *e, cw_case *c, cw_time now, const cw_sink *sink, size_t *changes)
{
    const char *case_id = cw_strtab_str(e->w->strs, c->id);
    cw_buf ev = { 0 };
    int rc = 0;

    for (uint32_t i = 0; i < c->nfr && rc == 0; i++) {
        cw_frec *r = &c->fr[i];
        uint64_t old = r->whash, h;
        cw_finding f;
        /* a tombstone for the same key carries what the store holds */
        for (uint32_t g = 0; g < c->ngone; g++)
            if (c->gone[g].rule == r->rule && c->gone[g].subject == r->subject) {
                old = c->gone[g].whash;
                c->gone[g].settled = true;
            }
        if (cw_engine_resolve(e, c, r, now, &f) == CW_ST_NONE) {
            if (old != 0) {
                rc = sink->remove(sink->ud, e->rs->rules[r->rule]->info.id, case_id,
                                  cw_strtab_str(e->w->strs, r->subject));
                pend(e, c, r->rule, r->subject, 0);
                (*changes)++;
            }
            arm(e, c, r, now);
            continue;
        }
        ev.n = 0;
        cw_finding_events_json(&f, &ev);
        h = cw_finding_digest(f.rule->info.id, f.case_id, f.subject, f.unit, f.rule->info.severity,
                              cw_state_name(f.state), f.due, f.raised, f.message, f.rule->info.basis,
                              ev.p);
        if (h != old) {
            rc = sink->upsert(sink->ud, &f, ev.p, h);
            (*changes)++;
        }
        if (h != r->whash)
            pend(e, c, r->rule, r->subject, h);
        cw_finding_clear(&f);
        arm(e, c, r, now);
    }
    for (uint32_t g = 0; g < c->ngone && rc == 0; g++) {
        if (c->gone[g].settled)
            continue;
        if (c->gone[g].rule < e->rs->nrules)
            rc = sink->remove(sink->ud, e->rs->rules[c->gone[g].rule]->info.id, case_id,
                              cw_strtab_str(e->w->strs, c->gone[g].subject));
        (*changes)++;
    }
    cw_buf_free(&ev);
    return rc;
}

int cw_engine_flush(cw_engine *e, cw_time now, const cw_sink *sink, size_t *changes)
{
    int rc = 0;

    *changes = 0;
    e->npend = 0;
    for (size_t i = 0; i < e->norphans && rc == 0; i++) {
        rc = sink->remove(sink->ud, e->orphans[i].rule, cw_strtab_str(e->w->strs, e->orphans[i].case_sid),
                          cw_strtab_str(e->w->strs, e->orphans[i].subject));
        (*changes)++;
    }
    e->nflushed_orphans = e->norphans;
    for (size_t i = 0; i < e->ndirty && rc == 0; i++)
        rc = flush_case(e, e->cases[e->dirty[i]], now, sink, changes);
    e->nflushed = e->ndirty;
    return rc;
}

void cw_engine_flush_end(cw_engine *e, bool stored)
{
    if (stored) {
        for (size_t i = 0; i < e->npend; i++) {
            const pending *p = &e->pend[i];
            cw_case *c = cw__case_live(e, p->csid);
            uint32_t j = c ? cw__frec_find(c, p->rule, p->subject, NULL) : UINT32_MAX;
            if (j != UINT32_MAX)
                c->fr[j].whash = p->whash;
        }
        for (size_t i = 0; i < e->nflushed; i++) {
            cw_case *c = e->cases[e->dirty[i]];
            c->ngone = 0;
            c->dirty = false;
        }
        /* cases marked dirty while the sink worked stay for the next flush */
        if (e->nflushed > 0) {
            memmove(e->dirty, e->dirty + e->nflushed, (e->ndirty - e->nflushed) * sizeof *e->dirty);
            e->ndirty -= e->nflushed;
        }
        for (size_t i = 0; i < e->nflushed_orphans; i++)
            free(e->orphans[i].rule);
        if (e->nflushed_orphans > 0) {
            memmove(e->orphans, e->orphans + e->nflushed_orphans,
                    (e->norphans - e->nflushed_orphans) * sizeof *e->orphans);
            e->norphans -= e->nflushed_orphans;
        }
    } else {
        /* everything is offered again by the next flush */
        for (size_t i = 0; i < e->nflushed; i++) {
            cw_case *c = e->cases[e->dirty[i]];
            for (uint32_t g = 0; g < c->ngone; g++)
                c->gone[g].settled = false;
        }
    }
    e->nflushed_orphans = 0;
    e->npend = 0;
    e->nflushed = 0;
}

void cw_engine_stored(cw_engine *e, const char *rule, const char *case_id, const char *subject,
                      uint64_t digest)
{
    uint32_t sid = cw_strtab_intern(e->w->strs, case_id, strlen(case_id));
    cw_rule *r = cw_ruleset_find(e->rs, rule);
    cw_case *c = NULL;
    int how;

    if (r != NULL && e->loading != NULL && e->loading->id == sid)
        c = e->loading;
    else if (r != NULL && cw__case_gone(e, sid))
        return;     /* its image holds its record of this finding, digest included:
                       compared when the case comes back (not an orphan) */
    else if (r != NULL)
        c = cw__case_get(e, sid, &how);
    if (c == NULL) {
        /* nothing here gives it: withdrawn at the next flush */
        CW_GROW(e->orphans, e->caporphans, e->norphans + 1);
        e->orphans[e->norphans].rule = cw_xstrdup(rule);
        e->orphans[e->norphans].case_sid = cw_strtab_intern(e->w->strs, case_id, strlen(case_id));
        e->orphans[e->norphans].subject = cw_strtab_intern(e->w->strs, subject, strlen(subject));
        e->norphans++;
        return;
    }
    if (c->ngone == c->capgone) {
        c->capgone = c->capgone ? c->capgone * 2 : 2;
        c->gone = cw_xrealloc(c->gone, c->capgone * sizeof *c->gone);
    }
    c->gone[c->ngone].rule = r->index;
    c->gone[c->ngone].subject = cw_strtab_intern(e->w->strs, subject, strlen(subject));
    c->gone[c->ngone].whash = digest;
    c->gone[c->ngone].settled = false;
    c->ngone++;
    /* a case without events yet waits for them before it is flushed
     * (cw__case_put marks it), or for cw_engine_settle_stubs */
    if (c->nev > 0)
        cw__mark_dirty(e, c);
}

/* A timer names a case by its string id: a case that left memory has
 * nothing left that time changes, so it is not brought back for one. */
static void timer_fired(void *ud, uint32_t csid)
{
    cw_engine *e = ud;
    cw_case *c = cw__case_live(e, csid);

    if (c != NULL)
        cw__mark_dirty(e, c);
}

void cw_engine_tick(cw_engine *e, cw_time now)
{
    if (e->timers == NULL)
        e->timers = cw_timers_new(now);
    cw_timers_advance(e->timers, now, timer_fired, e);
}

size_t cw_engine_timers(const cw_engine *e)
{
    return e->timers ? cw_timers_count(e->timers) : 0;
}

size_t cw_engine_dirty(const cw_engine *e)
{
    return e->ndirty;
}

void cw_engine_settle_stubs(cw_engine *e)
{
    for (size_t i = 0; i < e->ncases; i++) {
        cw_case *c = e->cases[i];
        if (c == NULL || c->nev > 0)
            continue;
        for (uint32_t g = 0; g < c->ngone; g++) {
            CW_GROW(e->orphans, e->caporphans, e->norphans + 1);
            e->orphans[e->norphans].rule = cw_xstrdup(e->rs->rules[c->gone[g].rule]->info.id);
            e->orphans[e->norphans].case_sid = c->id;
            e->orphans[e->norphans].subject = c->gone[g].subject;
            e->norphans++;
        }
        c->ngone = 0;
    }
}

/*
 * The engine: events processed in their case's time order and handed to
 * the rules that listen to them; the clock of event time; work deferred
 * until the event under way is done; replays; the ruleset in force.
 */
#include "core/engine.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"
#include "core/engine_int.h"
#include "core/timers.h"

#define SWEEP_EVERY 4096        /* events between looks at quiet cases */

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

int cw_engine_encode(cw_engine *e, const cw_pevent *pe, uint64_t seq, uint8_t **buf,
                     size_t *cap, cw_err *err)
{
    size_t len = 0, size = cw_rec_encode(e->w, pe, seq, buf, &len, cap);

    if (size == 0)
        return cw_err_set(err, CW_ELIMIT, "more than %d data fields or %d list items, or a new "
                          "data field name when 65535 are known", CW_MAX_FIELDS, CW_MAX_ITEMS);
    return (int)size;
}

/* ---- processing ------------------------------------------------------------ */

/*
 * The unit that owns a case (docs/DESIGN.md "Findings"): the receiving
 * unit of its latest case.transferred_unit, else the unit of its first
 * case.accepted, else of its first event. One event of another unit does
 * not move the case into another inspector's scope.
 */
static void take_unit(cw_engine *e, cw_case *c, const cw_event *ev)
{
    uint8_t from = ev->type == e->rs->t_transfer_unit ? 3 : ev->type == e->rs->t_accepted ? 2 : 1;

    if (from == 3 || from > c->unit_from || c->unit == 0) {
        c->unit = ev->unit;
        if (from > c->unit_from)
            c->unit_from = from;
    }
}

void cw_engine_set_cross(cw_engine *e, bool on)
{
    e->no_cross = !on;
}

void cw_engine_set_foreign(cw_engine *e, bool (*fn)(void *ud, const char *case_id), void *ud)
{
    e->foreign = fn;
    e->foreign_ud = ud;
}

bool cw_engine_rule_runs(const cw_engine *e, const cw_rule *r, const cw_case *c)
{
    if (r->status != CW_RULE_ACTIVE)
        return false;
    return r->cross ? !e->no_cross : !c->foreign;
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

        if (!cw_engine_rule_runs(e, r, c) || (r->needs & c->has) != r->needs ||
            (c->partial && e->keep[r->index]))
            continue;
        cw__ctx_init(&ctx, e, rs, r);
        ctx.ev = ev;
        ctx.now = ev->at;
        r->evals++;
        if (e->trace != NULL && e->trace->csid == c->id) {
            e->trace->active = true;
            e->trace->rule = r->index;
            if (r->index < e->trace->nrules)
                e->trace->calls[r->index]++;
        }
        if (e->timing) {
            uint64_t t0 = cw_mono_ns();
            rc = r->model->on_event(r->inst, &ctx, c, ev);
            r->nanos += cw_mono_ns() - t0;
        } else {
            rc = r->model->on_event(r->inst, &ctx, c, ev);
        }
        if (e->trace != NULL)
            e->trace->active = false;
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

static void run_deferred(cw_engine *e);

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
    take_unit(e, c, &b->ev);
    if (!e->noindex)
        cw__index_add(e, c, &b->ev, rec);
    if ((size_t)b->ev.type < e->rs->nneedbit && e->rs->needbit[b->ev.type])
        c->has |= 1ull << (e->rs->needbit[b->ev.type] - 1);
    if (c->last_at == CW_TIME_NONE || b->ev.at > c->last_at)
        c->last_at = b->ev.at;
    if (b->ev.at > e->clock)
        e->clock = b->ev.at;
    e->depth++;
    dispatch(e, c, &b->ev);
    e->depth--;
    if (c->partial && c->proclen >= c->len)
        c->partial = false;     /* every rule has seen all of it */
    cw__evbuf_pop(e);
    cw__case_touch(e, c);
    e->processed++;
    if (e->depth == 0) {
        run_deferred(e);
        if (++e->since_sweep >= SWEEP_EVERY) {
            e->since_sweep = 0;
            cw__sweep(e);
        }
    }
    return 1;
}

void cw_engine_catch_up(cw_engine *e, cw_case *c, bool replay)
{
    if (replay) {
        /* Forget what the rules concluded about this case and see its
         * timeline again from the start. Findings that come out the same
         * are not written again (the tombstones keep their digests). */
        cw__case_reset(e, c);
        e->replays++;
    }
    while (cw_engine_process_next(e, c) > 0)
        ;
}

/* ---- deferred work ------------------------------------------------------------- */

static void defer_add(cw_engine *e, uint32_t sid, bool states_only)
{
    for (size_t i = 0; i < e->ndefer; i++)
        if (e->defer[i].csid == sid) {
            e->defer[i].states_only = e->defer[i].states_only && states_only;
            return;
        }
    CW_GROW(e->defer, e->capdefer, e->ndefer + 1);
    e->defer[e->ndefer].csid = sid;
    e->defer[e->ndefer++].states_only = states_only;
}

void cw__defer_revisit(cw_engine *e, uint32_t sid)
{
    defer_add(e, sid, false);
}

void cw__defer_states(cw_engine *e, uint32_t sid)
{
    defer_add(e, sid, true);
}

void cw__case_rebuild_states(cw_engine *e, cw_case *c)
{
    cw_ruleset *rs = e->rs;
    cw_evbuf *b;

    if (c->nslots == 0 && c->nev == 0)
        return;
    cw__case_free_slots(e, c);
    if ((b = cw__evbuf_push(e)) == NULL)
        return;
    e->depth++;
    e->rebuilding++;        /* no revisits: nothing new is learnt */
    /* the models see the timeline up to each event, as when it came; the
     * case's events are indexed again while it is in memory */
    for (uint32_t end = c->proclen, off = 0; off < end; off += cw_rec_size(c->tl + off)) {
        cw_rec_decode(c->tl + off, b);
        b->ev.case_id = c->id;
        c->proclen = off + cw_rec_size(c->tl + off);
        cw__index_add(e, c, &b->ev, c->tl + off);
        if (b->ev.type >= rs->nlisten_types)
            continue;
        for (uint16_t i = 0; i < rs->nlisten[b->ev.type]; i++) {
            cw_rule *r = rs->rules[rs->listen[b->ev.type][i]];
            cw_ctx ctx;
            if (!cw_engine_rule_runs(e, r, c) || cw_model_case_free(r->model) == NULL ||
                (c->partial && e->keep[r->index]))
                continue;       /* a kept rule's state comes back when it is asked for */
            cw__ctx_init(&ctx, e, rs, r);
            ctx.ev = &b->ev;
            ctx.now = b->ev.at;
            if (e->trace != NULL && e->trace->csid == c->id) {
                e->trace->active = true;
                e->trace->rule = r->index;
            }
            if (r->model->on_event(r->inst, &ctx, c, &b->ev) != 0)
                cw_rule_quarantine(r, "failed while a case's state was rebuilt");
            if (e->trace != NULL)
                e->trace->active = false;
        }
    }
    e->rebuilding--;
    e->depth--;
    cw__evbuf_pop(e);
}

/*
 * After the event under way: judge again from their start the cases
 * asked for, bringing back those out of memory. A rule that reports on
 * another case that is out of memory asks for it so: judged again from
 * its own events, the case gets the finding as a time-ordered run gives
 * it (rules that report across cases derive it from either side, as
 * OFFICER-OVERLAP does). Work this adds is done in the same loop.
 */
static void run_deferred(cw_engine *e)
{
    for (size_t i = 0; i < e->ndefer; i++) {
        int how;
        bool states_only = e->defer[i].states_only;
        cw_case *c;
        e->depth++;             /* this loop drains what the work adds */
        c = cw__case_get(e, e->defer[i].csid, &how);
        if (states_only)
            cw__case_rebuild_states(e, c);
        else
            cw_engine_catch_up(e, c, true);
        e->depth--;
    }
    e->ndefer = 0;
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

    return cw_atseq_cmp(a->at, a->seq, b->at, b->seq);
}

/* Process every case's events from where each stands, in time order
 * across the cases in memory. */
static void replay_ordered(cw_engine *e)
{
    rord *v;
    size_t n = 0, k = 0;

    for (size_t i = 0; i < e->ncases; i++)
        if (e->cases[i] != NULL)
            n += e->cases[i]->nev;
    v = cw_xmalloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < e->ncases; i++) {
        const cw_case *c = e->cases[i];
        for (size_t off = c ? c->proclen : 0; c != NULL && off < c->len; off += cw_rec_size(c->tl + off)) {
            v[k].at = cw_rec_at(c->tl + off);
            v[k].seq = cw_rec_seq(c->tl + off);
            v[k].cidx = (uint32_t)i;
            k++;
        }
    }
    qsort(v, k, sizeof *v, rord_cmp);
    e->gen = cw__next_generation();
    for (size_t i = 0; i < k; i++)
        if (e->cases[v[i].cidx] != NULL)
            cw_engine_process_next(e, e->cases[v[i].cidx]);
    free(v);
}

/* Whether two rulesets index the same (type, field) pairs, in the same
 * places and windows: the entries made for one serve the other. */
static bool same_indexes(const cw_ruleset *a, const cw_ruleset *b)
{
    if (a->nidx != b->nidx)
        return false;
    for (size_t i = 0; i < a->nidx; i++)
        if (a->idx[i].type != b->idx[i].type || a->idx[i].fid != b->idx[i].fid ||
            a->idx[i].window != b->idx[i].window)
            return false;
    return true;
}

static int frec_cmp(const void *pa, const void *pb)
{
    const cw_frec *a = pa, *b = pb;
    uint64_t ka = (uint64_t)a->rule << 32 | a->subject, kb = (uint64_t)b->rule << 32 | b->subject;

    return ka < kb ? -1 : ka > kb;
}

/*
 * Records and tombstones name rules by their place in the ruleset. map
 * (old place -> new place, or UINT16_MAX) says which records stay: those
 * of rules kept move to their new places; the others are forgotten, and
 * their stored findings become tombstones, met again or withdrawn when
 * the case is judged again. Tombstones move to their rule's new place;
 * those of rules that are gone are withdrawn at the next flush.
 */
static void move_case(cw_engine *e, cw_case *c, const cw_ruleset *old, cw_ruleset *rs,
                      const uint16_t *map)
{
    bool forgot = false;

    cw__case_free_slots(e, c);          /* states of the old rules' models */
    for (uint32_t i = c->nfr; i-- > 0;)
        if (map[c->fr[i].rule] == UINT16_MAX) {
            cw__frec_forget(c, i);
            forgot = true;
        }
    for (uint32_t i = 0; i < c->nfr; i++)
        c->fr[i].rule = map[c->fr[i].rule];
    if (c->nfr > 1)
        qsort(c->fr, c->nfr, sizeof *c->fr, frec_cmp);
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
    if (forgot)
        cw__mark_dirty(e, c);
}

size_t cw_engine_set_ruleset_keep(cw_engine *e, cw_ruleset *rs)
{
    cw_ruleset *old = e->rs;
    uint16_t *map = cw_xmalloc((old->nrules + 1) * sizeof *map);
    size_t judge = rs->nrules;

    free(e->keep);
    e->keep = cw_xcalloc(rs->nrules + 1, 1);
    for (size_t i = 0; i < old->nrules; i++) {
        const cw_rule *o = old->rules[i];
        const cw_rule *r = cw_ruleset_find(rs, o->info.id);
        map[i] = UINT16_MAX;
        if (r != NULL && o->status == CW_RULE_ACTIVE && r->status == CW_RULE_ACTIVE &&
            strcmp(o->version, r->version) == 0 && o->cross == r->cross) {
            map[i] = r->index;
            e->keep[r->index] = 1;
            judge--;
        }
    }
    for (size_t i = 0; i < e->ncases; i++)
        if (e->cases[i] != NULL)
            move_case(e, e->cases[i], old, rs, map);
    free(map);
    /* index specs are the ruleset's: their entries go with it, unless the
     * new one indexes the same */
    e->reindex = !same_indexes(old, rs);
    if (e->reindex)
        cw__index_clear(e);
    e->rs = rs;
    return judge;
}

/* Make c ready to be judged again by the rules not kept: their records
 * forgotten (a case back from its image holds what they concluded
 * before), every per-case state dropped (the kept rules' come back when
 * asked for), its events to be seen again from the start. */
static void partial_reset(cw_engine *e, cw_case *c)
{
    bool forgot = false;

    cw__case_free_slots(e, c);
    for (uint32_t i = c->nfr; i-- > 0;)
        if (!e->keep[c->fr[i].rule]) {
            cw__frec_forget(c, i);
            forgot = true;
        }
    if (forgot || c->ngone > 0)
        cw__mark_dirty(e, c);
    cw__case_rewind(c);
    c->partial = c->len > 0;
    e->replays++;
}

/* The case of sid, brought back without rebuilding its rules' states:
 * partial_reset drops them, and the rules judging again rebuild theirs
 * as they see its events (a rebuild of every rule's would run the kept
 * rules over a case whose partners in other cases may have left the
 * indexes). */
static cw_case *bring_back(cw_engine *e, uint32_t sid, int *how)
{
    cw_case *c;

    e->depth++;
    c = cw__case_get(e, sid, how);
    e->depth--;
    for (size_t i = 0; i < e->ndefer; i++)
        if (e->defer[i].csid == sid && e->defer[i].states_only) {
            memmove(&e->defer[i], &e->defer[i + 1], (e->ndefer - i - 1) * sizeof *e->defer);
            e->ndefer--;
            break;
        }
    return c;
}

/* Judge case sid again by the rules not kept, once (replay_changed case
 * by case). Returns 1 when it did. */
static size_t judge_one(cw_engine *e, uint32_t sid)
{
    cw_case *c;
    int how;

    if (sid >= e->njudged || e->judged[sid])
        return 0;
    e->judged[sid] = 1;
    if ((c = bring_back(e, sid, &how)) == NULL)
        return 0;
    if (how == CW_GOT_EVENTS) {
        /* no image: every rule, the indexes too */
        bool noindex = e->noindex;
        e->noindex = false;
        cw_engine_catch_up(e, c, true);
        run_deferred(e);
        e->noindex = noindex;
    } else {
        /* a case judged to its end may leave memory at once: look it up
         * again before each event */
        partial_reset(e, c);
        while ((c = cw__case_live(e, sid)) != NULL && c->proclen < c->len)
            cw_engine_process_next(e, c);
    }
    run_deferred(e);
    return 1;
}

int cw_engine_offer_image(cw_engine *e, const void *image, size_t len)
{
    uint32_t sid;
    int how;

    if (e->gathering) {         /* back to memory only, judged in time order later */
        if ((sid = cw__image_case(e, image, len)) == UINT32_MAX || !cw__case_gone(e, sid))
            return 0;
        e->offered = image;
        e->offered_len = len;
        e->offered_sid = sid;
        bring_back(e, sid, &how);
        e->offered = NULL;
        return 0;
    }
    if (e->judged == NULL)
        return CW_EINVAL;
    sid = cw__image_case(e, image, len);
    if (sid >= e->njudged || e->judged[sid] || !cw__case_gone(e, sid))
        return 0;
    e->offered = image;
    e->offered_len = len;
    e->offered_sid = sid;
    e->noffered += judge_one(e, sid);
    e->offered = NULL;
    return 0;
}

/* The loader's one pass over the images of the cases out of memory, when
 * there are such cases and it has one (cw_engine_offer_image takes each). */
static void offer_gone(cw_engine *e, size_t ncase_of)
{
    size_t ngone = 0;

    for (uint32_t sid = 0; sid < ncase_of; sid++)
        ngone += e->case_of[sid] == CW_CASE_GONE;
    if (ngone > 0 && e->loader.each != NULL && e->loader.each(e->loader.ud, e) < 0)
        cw_log(CW_LOG_ERROR, "the images of the cases out of memory could not be read in one pass; "
               "those still out come back one by one");
    e->offered = NULL;
}

size_t cw_engine_replay_changed(cw_engine *e, uint64_t *events, bool *ordered)
{
    uint64_t before = e->processed;
    size_t judge = 0, n = 0, ncase_of = e->ncase_of;
    bool global = e->reindex;

    if (e->keep == NULL)
        return 0;
    e->noffered = 0;
    for (size_t i = 0; i < e->rs->nrules; i++) {
        const cw_rule *r = e->rs->rules[i];
        if (e->keep[i])
            continue;
        judge++;
        /* a rule that looks at other cases (and runs here) sees them as
         * a start would only in time order, every case in memory */
        if (r->cross ? !e->no_cross : r->indexes)
            global = true;
    }
    if (ordered)
        *ordered = global;
    if (global) {
        /* in time order across all cases, as a start would see them:
         * every case back in memory first, from the loader's pass over
         * the images when it has one, then one by one */
        e->gathering = true;
        offer_gone(e, ncase_of);
        e->gathering = false;
        for (uint32_t sid = 0; sid < ncase_of; sid++) {
            int how;
            if (e->case_of[sid] == CW_CASE_GONE)
                bring_back(e, sid, &how);
        }
        for (size_t i = 0; i < e->ncases; i++)
            if (e->cases[i] != NULL) {
                partial_reset(e, e->cases[i]);
                n++;
            }
        replay_ordered(e);
    } else if (judge > 0) {
        /* case by case: a case judged may leave memory again, and one
         * that left before its turn comes back for it; those out of
         * memory from the loader's pass over the images when it has one.
         * No rule judging again looks at other cases: the indexes stay
         * as they are (a case back from its image leaves its entries
         * stubs; its records are in its timeline while it is in memory) */
        e->noindex = true;
        e->judged = cw_xcalloc(ncase_of + 1, 1);
        e->njudged = (uint32_t)ncase_of;
        for (uint32_t sid = 0; sid < ncase_of; sid++)
            if (cw__case_live(e, sid) != NULL)
                n += judge_one(e, sid);
        offer_gone(e, ncase_of);
        for (uint32_t sid = 0; sid < ncase_of; sid++)
            if (e->case_of[sid] != 0)
                n += judge_one(e, sid);
        n += e->noffered;
        free(e->judged);
        e->judged = NULL;
        e->njudged = 0;
        e->noindex = false;
        cw__index_sweep(e);
    }
    for (size_t i = 0; i < e->ncases; i++)      /* a case with no event */
        if (e->cases[i] != NULL)
            e->cases[i]->partial = false;
    free(e->keep);
    e->keep = NULL;
    e->reindex = false;
    if (events)
        *events = e->processed - before;
    return n;
}

/* ---- engine ---------------------------------------------------------------- */

/* Unique in the process: one ruleset may serve several engines. */
uint64_t cw__next_generation(void)
{
    static uint64_t next;

    /* engines of different rulesets may run in threads of their own (diff) */
    return __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);
}

cw_engine *cw_engine_new(cw_world *w, cw_ruleset *rs)
{
    cw_engine *e = cw_xcalloc(1, sizeof *e);

    e->w = w;
    e->rs = rs;
    e->gen = cw__next_generation();
    e->clock = CW_TIME_NONE;
    return e;
}

void cw_engine_set_loader(cw_engine *e, const cw_loader *l, int64_t idle)
{
    e->loader = l ? *l : (cw_loader){ 0 };
    e->idle = l && l->load ? idle : 0;
}

void cw_engine_free(cw_engine *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->ncases; i++)
        if (e->cases[i] != NULL)
            cw__case_free(e, e->cases[i]);
    cw_engine_trace(e, NULL);
    cw_timers_free(e->timers);
    free(e->pend);
    for (size_t i = 0; i < e->norphans; i++)
        free(e->orphans[i].rule);
    free(e->orphans);
    cw__index_free(e);
    for (int i = 0; i < CW_EVBUF_DEPTH; i++)
        free(e->evbufs[i]);
    free(e->defer);
    free(e->keep);
    free(e->wake);
    free(e->freeidx);
    free(e->cases);
    free(e->case_of);
    free(e->dirty);
    free(e->recbuf);
    cw_buf_free(&e->image);
    cw_evparser_free(e->parser);
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
        if (c == NULL)
            continue;
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
               e->capwake * sizeof *e->wake + cw__index_memory(e);

    for (size_t i = 0; i < e->ncases; i++) {
        const cw_case *c = e->cases[i];
        if (c == NULL)
            continue;
        n += sizeof *c + c->cap + c->capfr * sizeof *c->fr + c->capslots * sizeof *c->slots;
        if (c->nev > 0)
            n += (size_t)1 << (32 - __builtin_clz(c->nev)) << 2;   /* offs */
        for (uint32_t j = 0; j < c->nfr; j++)
            n += (c->fr[j].msg ? strlen(c->fr[j].msg) + 1 : 0) + 16;
    }
    return n + cw_strtab_bytes(e->w->strs);
}

/* ---- reasoning (explain) ------------------------------------------------------ */

static void trace_free(cw_trace *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].kind);
        free(t->v[i].text);
    }
    free(t->v);
    for (size_t i = 0; i < t->nd; i++) {
        free(t->d[i].msg);
        free(t->d[i].evids);
    }
    free(t->d);
    free(t->calls);
    free(t);
}

void cw_engine_trace(cw_engine *e, const char *case_id)
{
    if (e->trace != NULL)
        trace_free(e->trace);
    e->trace = NULL;
    if (case_id == NULL)
        return;
    e->trace = cw_xcalloc(1, sizeof *e->trace);
    e->trace->csid = cw_engine_case_sid(e, case_id, strlen(case_id));
    e->trace->nrules = e->rs->nrules;
    e->trace->calls = cw_xcalloc(e->rs->nrules + 1, sizeof *e->trace->calls);
}

const cw_trace *cw_engine_trace_of(const cw_engine *e)
{
    return e->trace;
}

void cw__trace_step(cw_engine *e, uint16_t rule, uint32_t subject, const char *kind,
                    const char *text)
{
    cw_trace *t = e->trace;

    if (kind == NULL) {
        size_t k = 0;
        for (size_t i = 0; i < t->nd; i++) {
            if (t->d[i].rule == rule) {
                free(t->d[i].msg);
                free(t->d[i].evids);
            } else {
                t->d[k++] = t->d[i];
            }
        }
        t->nd = k;
        k = 0;
        for (size_t i = 0; i < t->n; i++) {
            if (t->v[i].rule == rule) {
                free(t->v[i].kind);
                free(t->v[i].text);
            } else {
                t->v[k++] = t->v[i];
            }
        }
        t->n = k;
        return;
    }
    /* a check that judges its case whole notes the same step at every
     * call: keep it once */
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].rule == rule && t->v[i].subject == subject && strcmp(t->v[i].kind, kind) == 0 &&
            strcmp(t->v[i].text, text) == 0)
            return;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 32;
        t->v = cw_xrealloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n].rule = rule;
    t->v[t->n].subject = subject;
    t->v[t->n].kind = cw_xstrdup(kind);
    t->v[t->n].text = cw_xstrdup(text);
    t->n++;
}

void cw__trace_deadline(cw_engine *e, uint16_t rule, const cw_finding_in *f)
{
    cw_trace *t = e->trace;
    cw_tdead *d = NULL;
    size_t len = 1;
    char *o;

    for (size_t i = 0; i < t->nd; i++)
        if (t->d[i].rule == rule && t->d[i].subject == f->subject)
            d = &t->d[i];
    if (d == NULL) {
        if (t->nd == t->capd) {
            t->capd = t->capd ? 2 * t->capd : 8;
            t->d = cw_xrealloc(t->d, t->capd * sizeof *t->d);
        }
        d = &t->d[t->nd++];
    } else {
        free(d->msg);
        free(d->evids);
    }
    memset(d, 0, sizeof *d);
    d->rule = rule;
    d->subject = f->subject;
    d->label = f->period.label;
    d->unit = f->period.unit;
    d->flags = f->flags;
    d->n = f->period.n;
    d->ext = f->period.ext_days;
    d->lead = f->lead;
    d->start = f->period.start;
    d->due = f->due;
    d->met = f->met;
    d->msg = f->message ? cw_xstrdup(f->message) : NULL;
    for (size_t i = 0; i < f->nevents; i++)
        len += strlen(f->events[i]) + 1;
    d->evids = o = cw_xmalloc(len);
    for (size_t i = 0; i < f->nevents; i++) {
        size_t l = strlen(f->events[i]);
        memcpy(o, f->events[i], l + 1);
        o += l + 1;
    }
    *o = '\0';
}

int cw_engine_rejudge(cw_engine *e, const char *case_id)
{
    uint32_t sid = cw_engine_case_sid(e, case_id, strlen(case_id));
    cw_case *c;
    int how;

    if (cw__case_live(e, sid) == NULL && !cw__case_gone(e, sid))
        return -1;
    if ((c = cw__case_get(e, sid, &how)) == NULL)
        return -1;
    cw_engine_catch_up(e, c, true);
    run_deferred(e);
    return 0;
}

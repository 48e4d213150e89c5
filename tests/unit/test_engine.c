/*
 * The core alone: cases, dispatch, finding records, the state table of a
 * deadline, flushes to a sink with digests and tombstones, timers. The
 * ruleset is built by hand around a model written here, and the binary
 * links the core and the layers below it only (no rules loader, no Lua,
 * no MariaDB): tests/cli/layers.sh checks that it stays so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/timeutil.h"
#include "base/util.h"
#include "core/engine_int.h"
#include "event/evjson.h"

#define T0 1772415000LL             /* 2026-03-02T09:30:00+08:00 */
#define HOUR 3600LL

/* ---- a model: "A then B within one day", A = evidence.seized, B =
 * evidence.stored, subject = the case; and a fixed violation on
 * case.fasttrack. It counts its calls, and fails on demand. ---- */

typedef struct probe {
    int calls;
    bool fail;
    int t_seized, t_stored, t_fast;
} probe;

static int probe_event(void *inst, cw_ctx *ctx, const cw_case *cc, const cw_event *ev)
{
    probe *p = inst;
    cw_case *c = cw_engine_case_at(ctx->e, cc->idx);
    const char *ids[1] = { ev->id };
    cw_finding_in f = { 0 };

    p->calls++;
    if (p->fail)
        return -1;
    f.events = ids;
    f.nevents = 1;
    if (ev->type == p->t_fast) {
        f.mode = CW_FM_FIXED;
        f.state = CW_ST_VIOLATION;
        f.raised = ev->at;
        f.message = "fixed";
        f.subject = cw_strtab_intern(ctx->e->w->strs, "x", 1);
        return cw__emit(ctx->e, ctx->rule->index, c, &f);
    }
    if (ev->type == p->t_seized) {
        f.mode = CW_FM_DEADLINE;
        f.due = ev->at + 24 * HOUR;
        f.lead = 4 * HOUR;
        f.met = CW_TIME_NONE;
        f.message = "seized";
        return cw__emit(ctx->e, ctx->rule->index, c, &f);
    }
    /* stored: meet the open one, if any */
    {
        uint32_t i = cw__frec_find(c, ctx->rule->index, 0, NULL);
        if (i == UINT32_MAX)
            return 0;
        f = (cw_finding_in){ 0 };
        f.mode = CW_FM_DEADLINE;
        f.due = c->fr[i].due;
        f.lead = c->fr[i].lead;
        f.met = ev->at;
        f.message = "seized";
        f.events = ids;
        f.nevents = 1;
        return cw__emit(ctx->e, ctx->rule->index, c, &f);
    }
}

static const cw_model probe_model = {
    .struct_size = sizeof(cw_model), .name = "probe", .on_event = probe_event,
};

/* ---- the fixture: a world, the real catalogue, one rule ---- */

typedef struct fx {
    cw_world *w;
    cw_ruleset rs;
    cw_rule rule, *rules[1];
    probe p;
    cw_engine *e;
    cw_evparser *parser;
    uint8_t *rec;
    size_t cap;
    uint64_t seq;
} fx;

static int setup(void **state)
{
    fx *x = cw_xcalloc(1, sizeof *x);
    cw_err err;

    x->w = cw_world_new();
    assert_int_equal(cw_catalogue_load(&x->rs.cat, CW_SRCDIR "/rules/catalogue.yaml", x->w->names,
                                       &err), 0);
    x->rs.world = x->w;
    x->rs.tz = 480;
    x->rs.t_accepted = cw_catalogue_find(x->rs.cat, "case.accepted", 13)->id;
    x->rs.f_kind = (int)cw_strtab_intern(x->w->names, "kind", 4);
    x->rs.f_cause = (int)cw_strtab_intern(x->w->names, "cause", 5);
    x->rs.f_offence_at = (int)cw_strtab_intern(x->w->names, "offence_at", 10);
    x->rule.info = (cw_rule_info){ "PROBE", "探针", "high", "测试", "test_engine.c", 1 };
    x->rule.model = &probe_model;
    x->rule.inst = &x->p;
    x->rule.from = INT32_MIN;
    x->rule.to = INT32_MAX;
    x->rules[0] = &x->rule;
    x->rs.rules = x->rules;
    x->rs.nrules = 1;
    x->p.t_seized = cw_catalogue_find(x->rs.cat, "evidence.seized", 15)->id;
    x->p.t_stored = cw_catalogue_find(x->rs.cat, "evidence.stored", 15)->id;
    x->p.t_fast = cw_catalogue_find(x->rs.cat, "case.fasttrack", 14)->id;
    assert_int_equal(cw__listen(&x->rs, &x->rule, x->p.t_seized), 0);
    assert_int_equal(cw__listen(&x->rs, &x->rule, x->p.t_stored), 0);
    assert_int_equal(cw__listen(&x->rs, &x->rule, x->p.t_fast), 0);
    x->e = cw_engine_new(x->w, &x->rs);
    x->parser = cw_evparser_new();
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;

    cw_engine_free(x->e);
    cw_evparser_free(x->parser);
    free(x->rec);
    free(x->rule.last_error);
    for (size_t i = 0; i < x->rs.nlisten_types; i++)
        free(x->rs.listen[i]);
    free(x->rs.listen);
    free(x->rs.nlisten);
    cw_catalogue_free(x->rs.cat);
    cw_world_free(x->w);
    free(x);
    return 0;
}

/* Store one event of case cid at T0 + off seconds; returns its case. */
static cw_case *put_in(fx *x, const char *cid, const char *id, const char *type, cw_time off,
                       bool *in_order)
{
    char json[512], at[40];
    cw_event_error ee;
    cw_pevent pe;
    cw_case *c;
    cw_err err;
    bool dummy;

    cw_time_format(T0 + off, 480, at, sizeof at);
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"type\":\"%s\",\"case\":\"%s\",\"unit\":\"370102\","
             "\"at\":\"%s\",\"data\":{%s}}", id, type, cid, at,
             strncmp(type, "evidence", 8) == 0 ? "\"item\":\"K1\"" :
             strcmp(type, "case.fasttrack") == 0 ? "\"consent\":true" : "");
    assert_int_equal(cw_evparse(x->parser, x->rs.cat, json, strlen(json), &pe, &ee), 0);
    assert_true(cw_engine_encode(x->e, &pe, ++x->seq, &x->rec, &x->cap, &err) > 0);
    cw_engine_store(x->e, cw_engine_case_sid(x->e, cid, strlen(cid)), x->rec, &c,
                    in_order ? in_order : &dummy);
    return c;
}

/* Store one event of case C1. */
static cw_case *put(fx *x, const char *id, const char *type, cw_time off, bool *in_order)
{
    return put_in(x, "C1", id, type, off, in_order);
}

static int state_at(fx *x, cw_time now, cw_time *raised)
{
    cw_case *c = cw_engine_case(x->e, "C1");
    uint32_t i = c ? cw__frec_find(c, 0, 0, NULL) : UINT32_MAX;

    if (i == UINT32_MAX)
        return -1;
    return cw_frec_state(&c->fr[i], now, raised);
}

/* DOMAIN.md's state table: nothing before due - lead, warning inside
 * the lead (both ends), overdue one second after due; met in the lead
 * is cleared, met after due is late, met before the lead leaves nothing. */
static void deadline_states(void **state)
{
    fx *x = *state;
    cw_time raised;

    cw_engine_catch_up(x->e, put(x, "a", "evidence.seized", 0, NULL), false);
    assert_int_equal(state_at(x, T0 + 20 * HOUR - 1, &raised), CW_ST_NONE);
    assert_int_equal(state_at(x, T0 + 20 * HOUR, &raised), CW_ST_WARNING);
    assert_int_equal(raised, T0 + 20 * HOUR);
    assert_int_equal(state_at(x, T0 + 24 * HOUR, &raised), CW_ST_WARNING);
    assert_int_equal(state_at(x, T0 + 24 * HOUR + 1, &raised), CW_ST_OVERDUE);
    assert_int_equal(raised, T0 + 24 * HOUR + 1);
    cw_engine_catch_up(x->e, put(x, "b", "evidence.stored", 24 * HOUR + 1, NULL), false);
    assert_int_equal(state_at(x, T0 + 100 * HOUR, &raised), CW_ST_LATE);
    assert_int_equal(raised, T0 + 24 * HOUR + 1);
}

static void met_in_lead_is_cleared(void **state)
{
    fx *x = *state;
    cw_time raised;

    cw_engine_catch_up(x->e, put(x, "a", "evidence.seized", 0, NULL), false);
    cw_engine_catch_up(x->e, put(x, "b", "evidence.stored", 24 * HOUR, NULL), false);
    assert_int_equal(state_at(x, T0 + 100 * HOUR, &raised), CW_ST_CLEARED);
    assert_int_equal(raised, T0 + 24 * HOUR);
}

static void met_early_keeps_no_record(void **state)
{
    fx *x = *state;
    cw_time raised;

    cw_engine_catch_up(x->e, put(x, "a", "evidence.seized", 0, NULL), false);
    cw_engine_catch_up(x->e, put(x, "b", "evidence.stored", HOUR, NULL), false);
    assert_int_equal(state_at(x, T0 + 100 * HOUR, &raised), -1);
}

/* An event behind what the case has seen is stored out of order, and
 * catching up with a replay gives what a time-ordered run gives. */
static void late_event_replays(void **state)
{
    fx *x = *state;
    cw_case *c;
    bool in_order;
    cw_time raised;

    c = put(x, "b", "evidence.stored", 30 * HOUR, &in_order);
    assert_true(in_order);
    cw_engine_catch_up(x->e, c, false);
    c = put(x, "a", "evidence.seized", 0, &in_order);
    assert_false(in_order);
    cw_engine_catch_up(x->e, c, true);
    assert_int_equal(cw_engine_replays(x->e), 1);
    /* the replay saw seized, then stored: late */
    assert_int_equal(state_at(x, T0 + 100 * HOUR, &raised), CW_ST_LATE);
}

/* A model that fails is quarantined and called no more. */
static void failing_model_is_quarantined(void **state)
{
    fx *x = *state;

    x->p.fail = true;
    cw_engine_catch_up(x->e, put(x, "a", "evidence.seized", 0, NULL), false);
    assert_int_equal(x->rule.status, CW_RULE_QUARANTINED);
    assert_non_null(strstr(x->rule.last_error, "test_engine.c:1"));
    assert_non_null(strstr(x->rule.last_error, "event a"));
    cw_engine_catch_up(x->e, put(x, "b", "evidence.stored", HOUR, NULL), false);
    assert_int_equal(x->p.calls, 1);
}

/* ---- flushes ---- */

typedef struct seen {
    int upserts, removes;
    char removed[256];
    char last_state[16];
    uint64_t last_digest;
} seen;

static int on_upsert(void *ud, const cw_finding *f, const char *events_json, uint64_t digest)
{
    seen *s = ud;

    (void)events_json;
    s->upserts++;
    snprintf(s->last_state, sizeof s->last_state, "%s", cw_state_name(f->state));
    s->last_digest = digest;
    return 0;
}

static int on_remove(void *ud, const char *rule, const char *case_id, const char *subject)
{
    seen *s = ud;
    size_t n = strlen(s->removed);

    snprintf(s->removed + n, sizeof s->removed - n, "%s/%s/%s;", rule, case_id, subject);
    s->removes++;
    return 0;
}

/* A loader that keeps the images of the cases that left memory. */
typedef struct shelf {
    uint8_t *image;
    size_t len;
    int saves, loads;
} shelf;

static int shelf_save(void *ud, cw_engine *e, const char *case_id, const void *image, size_t len)
{
    shelf *sh = ud;

    (void)e;
    assert_string_equal(case_id, "C1");
    free(sh->image);
    sh->image = cw_xmalloc(len ? len : 1);
    memcpy(sh->image, image, len);
    sh->len = len;
    sh->saves++;
    return 0;
}

static int shelf_load(void *ud, cw_engine *e, const char *case_id)
{
    shelf *sh = ud;

    assert_string_equal(case_id, "C1");
    sh->loads++;
    return sh->image ? cw_engine_load_image(e, sh->image, sh->len) : 0;
}

/* A case that received an event behind what it had seen waits for its
 * replay in memory: processing other cases in between (a round's other
 * replays and new events) sweeps quiet cases out, and one that left
 * before its replay came back as it was, its late event never judged. */
static void stale_case_stays_until_replayed(void **state)
{
    fx *x = *state;
    shelf sh = { 0 };
    cw_loader l = { shelf_load, shelf_save, &sh, NULL };
    cw_time raised;
    bool in_order;
    cw_case *c;

    cw_engine_set_loader(x->e, &l, HOUR);
    c = put(x, "b", "evidence.stored", 30 * HOUR, &in_order);
    assert_true(in_order);
    cw_engine_catch_up(x->e, c, false);
    c = put(x, "a", "evidence.seized", 0, &in_order);
    assert_false(in_order);
    /* another case moves the clock on, and quiet cases are looked at */
    cw_engine_catch_up(x->e, put_in(x, "C2", "z", "case.fasttrack", 100 * HOUR, NULL), false);
    cw__sweep(x->e);
    assert_int_equal(sh.saves, 0);
    assert_ptr_equal(cw_engine_case(x->e, "C1"), c);
    cw_engine_catch_up(x->e, c, true);
    assert_int_equal(state_at(x, T0 + 100 * HOUR, &raised), CW_ST_LATE);
    /* replayed and written, it may leave, and comes back as it is */
    {
        seen s = { 0 };
        cw_sink sink = { on_upsert, on_remove, &s };
        size_t changes;
        assert_int_equal(cw_engine_flush(x->e, T0 + 100 * HOUR, &sink, &changes), 0);
        cw_engine_flush_end(x->e, true);
        assert_string_equal(s.last_state, "late");
    }
    cw_engine_catch_up(x->e, put_in(x, "C2", "y", "case.fasttrack", 200 * HOUR, NULL), false);
    cw__sweep(x->e);
    assert_int_equal(sh.saves, 1);
    assert_null(cw_engine_case(x->e, "C1"));
    c = put(x, "c", "case.fasttrack", 201 * HOUR, &in_order);
    assert_int_equal(sh.loads, 1);
    cw_engine_catch_up(x->e, c, !in_order);
    assert_int_equal(state_at(x, T0 + 300 * HOUR, &raised), CW_ST_LATE);
    free(sh.image);
}

/* What was stored is not written again; a flush that did not commit is
 * offered again; a timer moves the warning to overdue at due + 1 s. */
static void flush_digests_and_timers(void **state)
{
    fx *x = *state;
    seen s = { 0 };
    cw_sink sink = { on_upsert, on_remove, &s };
    size_t changes;

    cw_engine_catch_up(x->e, put(x, "a", "evidence.seized", 0, NULL), false);
    cw_engine_tick(x->e, T0 + 21 * HOUR);
    assert_int_equal(cw_engine_flush(x->e, T0 + 21 * HOUR, &sink, &changes), 0);
    assert_int_equal(s.upserts, 1);
    assert_string_equal(s.last_state, "warning");
    cw_engine_flush_end(x->e, false);            /* the store did not commit */
    assert_int_equal(cw_engine_flush(x->e, T0 + 21 * HOUR, &sink, &changes), 0);
    assert_int_equal(s.upserts, 2);
    cw_engine_flush_end(x->e, true);
    assert_int_equal(cw_engine_dirty(x->e), 0);
    assert_int_equal(cw_engine_flush(x->e, T0 + 21 * HOUR, &sink, &changes), 0);
    assert_int_equal(changes, 0);
    cw_engine_flush_end(x->e, true);
    /* the timer armed for due + 1 s marks the case again */
    assert_true(cw_engine_timers(x->e) >= 1);
    cw_engine_tick(x->e, T0 + 24 * HOUR);
    assert_int_equal(cw_engine_dirty(x->e), 0);
    cw_engine_tick(x->e, T0 + 24 * HOUR + 1);
    assert_int_equal(cw_engine_dirty(x->e), 1);
    assert_int_equal(cw_engine_flush(x->e, T0 + 24 * HOUR + 1, &sink, &changes), 0);
    assert_string_equal(s.last_state, "overdue");
    cw_engine_flush_end(x->e, true);
}

/* A finding the store holds that the rules do not give is withdrawn; one
 * they give with the same digest is not written again. */
static void stored_findings_settle(void **state)
{
    fx *x = *state;
    seen s = { 0 };
    cw_sink sink = { on_upsert, on_remove, &s };
    size_t changes;

    cw_engine_catch_up(x->e, put(x, "a", "evidence.seized", 0, NULL), false);
    assert_int_equal(cw_engine_flush(x->e, T0 + 30 * HOUR, &sink, &changes), 0);
    cw_engine_flush_end(x->e, true);
    assert_int_equal(s.upserts, 1);
    /* as at a restart: the store says what it holds */
    cw_engine_stored(x->e, "PROBE", "C1", "", s.last_digest);
    cw_engine_stored(x->e, "PROBE", "C1", "gone", 42);
    cw_engine_stored(x->e, "NO-SUCH-RULE", "C9", "", 7);
    s = (seen){ 0 };
    assert_int_equal(cw_engine_flush(x->e, T0 + 30 * HOUR, &sink, &changes), 0);
    cw_engine_flush_end(x->e, true);
    assert_int_equal(s.upserts, 0);
    assert_int_equal(s.removes, 2);
    assert_non_null(strstr(s.removed, "NO-SUCH-RULE/C9/;"));
    assert_non_null(strstr(s.removed, "PROBE/C1/gone;"));
}

/* A partition's cases move to another engine by their images: the case
 * comes back with its deadline and its timers, nothing of the cases left
 * behind comes with it, and what the store holds is not written again. */
typedef struct moved {
    uint8_t *image;
    size_t len;
    int n;
} moved;

static bool keep_c1(void *ud, const char *case_id)
{
    (void)ud;
    return strcmp(case_id, "C1") == 0;
}

static void take_image(void *ud, const char *case_id, const void *image, size_t len)
{
    moved *m = ud;

    assert_string_equal(case_id, "C1");
    m->image = cw_xmalloc(len);
    memcpy(m->image, image, len);
    m->len = len;
    m->n++;
}

static void case_images_move_a_case(void **state)
{
    fx *x = *state;
    moved m = { 0 };
    seen s = { 0 };
    cw_sink sink = { on_upsert, on_remove, &s };
    size_t changes;
    cw_engine *b;
    cw_case *c;
    cw_time raised;
    uint32_t i;
    uint64_t digest;

    cw_engine_catch_up(x->e, put(x, "a", "evidence.seized", 0, NULL), false);
    assert_int_equal(cw_engine_flush(x->e, T0 + 21 * HOUR, &sink, &changes), 0);
    cw_engine_flush_end(x->e, true);
    assert_int_equal(s.upserts, 1);
    digest = s.last_digest;
    cw_engine_catch_up(x->e, put_in(x, "C2", "b", "evidence.seized", 0, NULL), false);
    /* only what is stored moves */
    assert_int_equal(cw_engine_case_images(x->e, keep_c1, take_image, &m), CW_EINVAL);
    assert_int_equal(cw_engine_flush(x->e, T0 + 21 * HOUR, &sink, &changes), 0);
    cw_engine_flush_end(x->e, true);
    assert_int_equal(s.upserts, 2);
    assert_int_equal(cw_engine_case_images(x->e, keep_c1, take_image, &m), 0);
    assert_int_equal(m.n, 1);

    b = cw_engine_new(x->w, &x->rs);
    assert_int_equal(cw_engine_add_image(b, "XXXXnot an image", 16), CW_EPARSE);
    assert_int_equal(cw_engine_add_image(b, m.image, m.len), 0);
    assert_int_equal(cw_engine_add_image(b, m.image, m.len), CW_EINVAL);
    assert_null(cw_engine_case(b, "C2"));
    c = cw_engine_case(b, "C1");
    assert_non_null(c);
    i = cw__frec_find(c, 0, 0, NULL);
    assert_int_not_equal(i, UINT32_MAX);
    assert_int_equal(cw_frec_state(&c->fr[i], T0 + 21 * HOUR, &raised), CW_ST_WARNING);
    /* the store holds the warning: the flush writes nothing, then the
     * timer armed by it turns the warning overdue one second after due */
    cw_engine_stored(b, "PROBE", "C1", "", digest);
    s = (seen){ 0 };
    assert_int_equal(cw_engine_flush(b, T0 + 21 * HOUR, &sink, &changes), 0);
    cw_engine_flush_end(b, true);
    assert_int_equal(s.upserts, 0);
    assert_int_equal(s.removes, 0);
    cw_engine_tick(b, T0 + 24 * HOUR + 1);
    assert_int_equal(cw_engine_dirty(b), 1);
    assert_int_equal(cw_engine_flush(b, T0 + 24 * HOUR + 1, &sink, &changes), 0);
    cw_engine_flush_end(b, true);
    assert_int_equal(s.upserts, 1);
    assert_string_equal(s.last_state, "overdue");
    cw_engine_free(b);
    free(m.image);
}

/* A reload keeps what a rule of the same version concluded, at its new
 * place in the ruleset, and calls only the rules that changed; a rule
 * kept is called again for the next event. */
static void reload_keeps_rules_of_the_same_version(void **state)
{
    fx *x = *state;
    cw_ruleset rs = x->rs;
    cw_rule fresh, kept, *rules[2] = { &fresh, &kept };
    probe pf = x->p, pk = x->p;
    uint64_t events = 0;
    bool ordered = true;
    cw_case *c;
    cw_time raised;
    uint32_t i;

    snprintf(x->rule.version, sizeof x->rule.version, "%s", "0000000000000001");
    cw_engine_catch_up(x->e, put(x, "a", "evidence.seized", 0, NULL), false);
    cw_engine_catch_up(x->e, put_in(x, "C2", "b", "case.fasttrack", HOUR, NULL), false);
    assert_int_equal(x->p.calls, 2);
    /* the new rules: a new one first, then PROBE at another place, of the
     * same version, each with a model instance of its own */
    fresh = kept = x->rule;
    fresh.info.id = "FRESH";
    snprintf(fresh.version, sizeof fresh.version, "%s", "0000000000000002");
    fresh.inst = &pf;
    fresh.index = 0;
    kept.inst = &pk;
    kept.index = 1;
    pf.calls = pk.calls = 0;
    rs.rules = rules;
    rs.nrules = 2;
    rs.listen = NULL;
    rs.nlisten = NULL;
    rs.nlisten_types = 0;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(cw__listen(&rs, rules[k], x->p.t_seized), 0);
        assert_int_equal(cw__listen(&rs, rules[k], x->p.t_stored), 0);
        assert_int_equal(cw__listen(&rs, rules[k], x->p.t_fast), 0);
    }
    assert_int_equal(cw_engine_set_ruleset_keep(x->e, &rs), 1);
    assert_int_equal(cw_engine_replay_changed(x->e, &events, &ordered), 2);
    assert_int_equal(events, 2);
    assert_false(ordered);
    assert_int_equal(pk.calls, 0);      /* kept: not called */
    assert_int_equal(pf.calls, 2);      /* new: saw both events */
    c = cw_engine_case(x->e, "C1");
    assert_non_null(c);
    assert_int_equal(c->nfr, 2);
    i = cw__frec_find(c, 1, 0, NULL);   /* PROBE's record, moved to place 1 */
    assert_int_not_equal(i, UINT32_MAX);
    assert_int_equal(cw_frec_state(&c->fr[i], T0 + 21 * HOUR, &raised), CW_ST_WARNING);
    assert_int_not_equal(cw__frec_find(c, 0, 0, NULL), UINT32_MAX);
    assert_false(c->partial);
    /* the next event reaches every rule again: both deadlines met early */
    cw_engine_catch_up(x->e, put(x, "c", "evidence.stored", 2 * HOUR, NULL), false);
    assert_int_equal(pk.calls, 1);
    assert_int_equal(pf.calls, 3);
    assert_int_equal(c->nfr, 0);
    /* the same rules again: nothing to judge */
    assert_int_equal(cw_engine_set_ruleset_keep(x->e, &rs), 0);
    assert_int_equal(cw_engine_replay_changed(x->e, &events, &ordered), 0);
    assert_int_equal(pk.calls + pf.calls, 4);
    /* back to the fixture's rules before these go */
    cw_engine_set_ruleset_keep(x->e, &x->rs);
    cw_engine_replay_changed(x->e, NULL, NULL);
    for (size_t t = 0; t < rs.nlisten_types; t++)
        free(rs.listen[t]);
    free(rs.listen);
    free(rs.nlisten);
}

/* The digest covers every stored column. */
static void digest_covers_columns(void **state)
{
    uint64_t a = cw_finding_digest("R", "C", "", "370102", "high", "late", 1, 2, "m", "b", "[]");

    (void)state;
    assert_int_not_equal(a, 0);
    assert_int_equal(a, cw_finding_digest("R", "C", "", "370102", "high", "late", 1, 2, "m", "b", "[]"));
    assert_int_not_equal(a, cw_finding_digest("R", "C", "", "370103", "high", "late", 1, 2, "m", "b", "[]"));
    assert_int_not_equal(a, cw_finding_digest("R", "C", "", "370102", "high", "late", 1, 3, "m", "b", "[]"));
    assert_int_not_equal(a, cw_finding_digest("R", "C", "", "370102", "high", "late", 1, 2, "m", "b", "[\"x\"]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(deadline_states, setup, teardown),
        cmocka_unit_test_setup_teardown(met_in_lead_is_cleared, setup, teardown),
        cmocka_unit_test_setup_teardown(met_early_keeps_no_record, setup, teardown),
        cmocka_unit_test_setup_teardown(late_event_replays, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_case_stays_until_replayed, setup, teardown),
        cmocka_unit_test_setup_teardown(failing_model_is_quarantined, setup, teardown),
        cmocka_unit_test_setup_teardown(flush_digests_and_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(stored_findings_settle, setup, teardown),
        cmocka_unit_test_setup_teardown(case_images_move_a_case, setup, teardown),
        cmocka_unit_test_setup_teardown(reload_keeps_rules_of_the_same_version, setup, teardown),
        cmocka_unit_test(digest_covers_columns),
    };

    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}

/*
 * Engine internals shared by engine.c, host.c (the plugin host API) and
 * lua.c. Not for plugins.
 */
#ifndef CW_ENGINE_INT_H
#define CW_ENGINE_INT_H

#include "core/engine.h"

#define CW_EVBUF_DEPTH 8     /* nested decodes: event, timeline walk, index */

/* An indexed event: its case, and its (at, seq) to find its record.
 * An index entry keeps its refs in (at, seq) order. */
typedef struct cw_iref {
    cw_time at;
    uint64_t seq;
    uint32_t cidx;
} cw_iref;

typedef struct cw_ientry {
    uint64_t key;            /* index spec << 32 | value string id */
    cw_iref *v;
    uint32_t n, cap;
} cw_ientry;

struct cw_engine {
    cw_world *w;
    cw_ruleset *rs;
    cw_case **cases;
    size_t ncases, capcases;
    uint32_t *case_of;       /* string id -> case index + 1 */
    size_t ncase_of;
    cw_ientry *ient;
    size_t nient, capient;
    uint32_t *islot;         /* open addressing into ient, + 1 */
    size_t nislot;
    cw_evbuf *evbufs[CW_EVBUF_DEPTH];
    int evdepth;
    uint32_t *dirty;         /* cases whose findings changed */
    size_t ndirty, capdirty;
    struct cw_timers *timers;
    struct pending *pend;    /* digests waiting for the store's commit */
    size_t npend, cappend;
    size_t nflushed;         /* dirty[0..nflushed) went to the sink */
    struct orphan *orphans;  /* stored findings of rules that are gone */
    size_t norphans, caporphans, nflushed_orphans;
    uint64_t stored, processed, replays;
    uint64_t gen;            /* cw_host.generation */
    bool timing;             /* add each rule's time to its nanos */
};

/* A stored finding whose rule left the ruleset: withdrawn at the next
 * flush. */
typedef struct orphan {
    char *rule;
    uint32_t case_sid, subject;
} orphan;

/* The context of one call into a model: configuration (engine NULL) or
 * evaluation of one event. */
struct cw_ctx {
    cw_engine *e;
    cw_ruleset *rs;
    cw_rule *rule;
    const cw_event *ev;
    cw_time now;
    char *err;               /* configuration: where listen() reports */
    size_t errlen;
};

static inline void cw__ctx_init(cw_ctx *ctx, cw_engine *e, cw_ruleset *rs, cw_rule *r)
{
    ctx->e = e;
    ctx->rs = rs;
    ctx->rule = r;
    ctx->ev = NULL;
    ctx->now = CW_TIME_NONE;
    ctx->err = NULL;
    ctx->errlen = 0;
}

cw_evbuf *cw__evbuf_push(cw_engine *e);
void cw__evbuf_pop(cw_engine *e);
int cw__case_events(cw_engine *e, const cw_case *c, const int *types, size_t ntypes,
                    cw_event_fn fn, void *ud);
/* The record of c at (at, seq), or NULL. */
const uint8_t *cw__case_find(const cw_case *c, cw_time at, uint64_t seq);
/* A number no engine run of this process has used (cw_host.generation). */
uint64_t cw__next_generation(void);
/* The same as cw__find_events, handing over records undecoded; only
 * those of case `only` when it is not NULL. */
int cw__find_records(cw_engine *e, int type, int fid, uint32_t value, cw_time from, cw_time to,
                     const cw_case *only, int (*fn)(void *ud, const cw_case *c, const uint8_t *rec),
                     void *ud);
/* Indexed events with type/fid = value and from <= at <= to, oldest first. */
int cw__find_events(cw_engine *e, int type, int fid, uint32_t value, cw_time from, cw_time to,
                    cw_event_fn fn, void *ud);
int cw__emit(cw_engine *e, uint16_t rule, cw_case *c, const cw_finding_in *f);
int cw__sync(cw_engine *e, uint16_t rule, cw_case *c, const cw_finding_in *f, size_t n);
int cw__retract(cw_engine *e, uint16_t rule, cw_case *c, uint32_t subject);
void cw__mark_dirty(cw_engine *e, cw_case *c);
/* The slot of rule on c (created empty), for cw_host.case_slot. */
void **cw__case_slot(cw_case *c, uint16_t rule);
/* Hand every per-case state of c to its model's case_free. */
void cw__case_free_slots(cw_engine *e, cw_case *c);
void cw__frec_free(cw_frec *r);
void cw__frec_forget(cw_case *c, uint32_t i);
/* The index of the record of (rule, subject) on c, or UINT32_MAX with the
 * place it would go in *pos (may be NULL); records are in that order. */
uint32_t cw__frec_find(const cw_case *c, uint16_t rule, uint32_t subject, uint32_t *pos);


#endif

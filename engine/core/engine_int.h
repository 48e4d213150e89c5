/*
 * Engine internals shared by the core's files (engine.c, case.c,
 * index.c, frec.c, finding.c, flush.c) and by the layer above that
 * implements the models' host API (rules/host.c, rules/lua/). Not for
 * plugins.
 */
#ifndef CW_ENGINE_INT_H
#define CW_ENGINE_INT_H

#include "base/util.h"
#include "core/engine.h"

#define CW_EVBUF_DEPTH 8     /* nested decodes: event, timeline walk, index */
#define CW_CASE_GONE UINT32_MAX  /* case_of: the case left memory */

/* An indexed event: its time, seq, case, and a copy of its record (NULL
 * once the entry is only a stub: outside its window and its case out of
 * memory). An index entry keeps its refs in (at, seq) order. */
typedef struct cw_iref {
    cw_time at;
    uint64_t seq;
    uint32_t csid;
    uint8_t *rec;
} cw_iref;

typedef struct cw_ientry {
    uint64_t key;            /* index spec << 32 | value string id */
    cw_iref *v;
    uint32_t n, cap;
} cw_ientry;

/* When a case in memory may be looked at again for leaving it. */
typedef struct cw_wake {
    cw_time at;
    uint32_t csid;
} cw_wake;

/* A case to judge again from its start once the event being dispatched
 * is done (brought back to memory first when it left). */
typedef struct cw_defer {
    uint32_t csid;
    bool states_only;        /* rebuild the per-case states, no more */
} cw_defer;

struct cw_engine {
    cw_world *w;
    cw_ruleset *rs;
    cw_case **cases;         /* NULL: a free place (its case left memory) */
    size_t ncases, capcases;
    uint32_t *freeidx;       /* free places in cases[] */
    size_t nfree, capfree;
    size_t nlive;            /* cases in memory */
    uint32_t *case_of;       /* string id -> case index + 1, or CW_CASE_GONE */
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
    struct orphan *orphans;  /* stored findings of rules or cases gone */
    size_t norphans, caporphans, nflushed_orphans;
    uint64_t stored, processed, replays, evicted, loaded;
    uint64_t gen;            /* cw_host.generation */
    bool timing;             /* add each rule's time to its nanos */
    bool no_cross;           /* the cross-case rules run in another engine */
    bool (*foreign)(void *ud, const char *case_id);    /* cw_engine_set_foreign */
    void *foreign_ud;
    /* leaving memory */
    cw_time clock;           /* the latest event time processed */
    int64_t idle;            /* seconds a quiet case stays; 0: forever */
    cw_wake *wake;           /* a min-heap on at */
    size_t nwake, capwake;
    uint64_t since_sweep;
    cw_loader loader;
    cw_case *loading;        /* the case the loader is bringing back */
    int loading_how;         /* CW_GOT_IMAGE once it read an image */
    cw_buf image;            /* scratch for images going out */
    cw_evparser *parser;     /* for what the loader reads as JSON */
    uint8_t *recbuf;
    size_t reccap;
    /* deferred work */
    cw_defer *defer;
    size_t ndefer, capdefer;
    struct cw_trace *trace;  /* explain: the case whose reasoning is kept */
    int depth;               /* processing calls under way */
    int rebuilding;          /* per-case states being rebuilt */
    /* a reload (cw_engine_set_ruleset_keep): keep[i] for rule i of the
     * ruleset in force, whose earlier conclusions stand; reindex: the
     * cross-case indexes were emptied and are to be filled again */
    uint8_t *keep;
    bool reindex;
    /* cw_engine_replay_changed case by case: judged[sid] once a case was;
     * offered: the image cw_engine_offer_image hands to the case it brings back */
    uint8_t *judged;
    uint32_t njudged;
    const void *offered;
    size_t offered_len;
    uint32_t offered_sid;
    size_t noffered;         /* cases judged from offered images */
    bool gathering;          /* offered images only bring their cases back */
    bool noindex;            /* events seen again add nothing to the indexes,
                                and the sweeps leave them (a reload's rules
                                judging again do not look across cases) */
};

/* A stored finding whose rule or case is gone: withdrawn at the next
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

/* ---- cases (case.c) ---- */

/* A new, empty case of string id sid, in memory. */
cw_case *cw__case_new(cw_engine *e, uint32_t sid);
/* The case of string id sid in memory, or NULL (unknown, or gone). */
cw_case *cw__case_live(const cw_engine *e, uint32_t sid);
/* How cw__case_get found a case. */
enum {
    CW_GOT_LIVE = 0,         /* in memory, or new */
    CW_GOT_IMAGE,            /* back from its image: as it was */
    CW_GOT_EVENTS            /* back from its events: to be judged from its start */
};
/* The case of sid, created when new, brought back when gone; *how says
 * which. The rules' per-case states of a case back from its image are
 * rebuilt (at once, or once the event under way is done). */
cw_case *cw__case_get(cw_engine *e, uint32_t sid, int *how);
/* Whether the case of sid left memory. */
bool cw__case_gone(const cw_engine *e, uint32_t sid);
/* Store rec into c without processing it; false when c already has an
 * event of that seq. *in_order: it lands at or after c's horizon. */
bool cw__case_put(cw_engine *e, cw_case *c, const uint8_t *rec, bool *in_order);
int cw__case_events(cw_engine *e, const cw_case *c, const int *types, size_t ntypes,
                    cw_event_fn fn, void *ud);
/* The record of c at (at, seq), or NULL. */
const uint8_t *cw__case_find(const cw_case *c, cw_time at, uint64_t seq);
/* The slot of rule on c (created empty), for cw_host.case_slot. */
void **cw__case_slot(cw_case *c, uint16_t rule);
/* Hand every per-case state of c to its model's case_free. */
void cw__case_free_slots(cw_engine *e, cw_case *c);
/* Forget what the rules concluded about c (a replay follows). */
void cw__case_reset(cw_engine *e, cw_case *c);
/* Make c's events unseen again (what the rules concluded stays). */
void cw__case_rewind(cw_case *c);
void cw__case_free(cw_engine *e, cw_case *c);
/* Note that c changed at event time at, for leaving memory later. */
void cw__case_touch(cw_engine *e, cw_case *c);
/* Let quiet cases whose findings are settled and stored leave memory
 * (only with a loader). Returns how many left. */
size_t cw__sweep(cw_engine *e);

/* ---- images (image.c) ---- */

/* Append c's image to out. */
void cw__case_image(const cw_engine *e, const cw_case *c, cw_buf *out);
/* Fill c (new, empty, with its id) from an image; its finding records
 * of rules that are gone become orphans. 0 or CW_EPARSE. */
int cw__case_from_image(cw_engine *e, cw_case *c, const uint8_t *p, size_t n);
/* The case an image is of (its string id), or UINT32_MAX. */
uint32_t cw__image_case(cw_engine *e, const uint8_t *p, size_t n);

/* The same for a list of records; fn gets each back (to copy). */
void cw__records_image(const cw_engine *e, const uint8_t *const *recs, size_t n, cw_buf *out);
int cw__records_from_image(cw_engine *e, const uint8_t *p, size_t n,
                           void (*fn)(void *ud, uint32_t i, uint8_t *rec), void *ud);

/* ---- cross-case indexes (index.c) ---- */

void cw__index_add(cw_engine *e, const cw_case *c, const cw_event *ev, const uint8_t *rec);
/* Indexed records with type/fid = value and from <= at <= to, oldest
 * first; only those of case `only` when it is not CW_CASE_GONE. fn gets
 * the case when it is in memory, else a stand-in with its id. */
int cw__find_records(cw_engine *e, int type, int fid, uint32_t value, cw_time from, cw_time to,
                     uint32_t only, int (*fn)(void *ud, const cw_case *c, const uint8_t *rec),
                     void *ud);
int cw__find_events(cw_engine *e, int type, int fid, uint32_t value, cw_time from, cw_time to,
                    cw_event_fn fn, void *ud);
/* Judge again every case with an indexed event of type/fid = value. */
void cw__revisit_indexed(cw_engine *e, int type, int fid, uint32_t value);
/* Drop what fell out of the windows; keep stubs of permanent specs. */
void cw__index_sweep(cw_engine *e);
void cw__index_clear(cw_engine *e);
/* The lookup table again, after entries were put in by hand. */
void cw__index_rehash(cw_engine *e);
void cw__index_free(cw_engine *e);
size_t cw__index_memory(const cw_engine *e);

/* ---- finding records (frec.c) ---- */

int cw__emit(cw_engine *e, uint16_t rule, cw_case *c, const cw_finding_in *f);
int cw__sync(cw_engine *e, uint16_t rule, cw_case *c, const cw_finding_in *f, size_t n);
int cw__retract(cw_engine *e, uint16_t rule, cw_case *c, uint32_t subject);
void cw__mark_dirty(cw_engine *e, cw_case *c);
void cw__frec_free(cw_frec *r);
void cw__frec_forget(cw_case *c, uint32_t i);
/* The index of the record of (rule, subject) on c, or UINT32_MAX with the
 * place it would go in *pos (may be NULL); records are in that order. */
uint32_t cw__frec_find(const cw_case *c, uint16_t rule, uint32_t subject, uint32_t *pos);
/* Put a record made elsewhere (an image) in its place; takes its strings. */
void cw__frec_insert(cw_case *c, const cw_frec *f);
/* The next time record r changes state by itself after now, or
 * CW_TIME_NONE. */
cw_time cw__frec_next(const cw_frec *r, cw_time now);

/* ---- deferred work (engine.c) ---- */

/* Judge case sid again from its start once the event under way is done
 * (bringing it back when it left memory). */
void cw__defer_revisit(cw_engine *e, uint32_t sid);
/* Rebuild the per-case states of case sid once the event under way is
 * done. */
void cw__defer_states(cw_engine *e, uint32_t sid);
/* Give c back the rules' per-case states it had (models with
 * case_free see its timeline again; nothing else runs). */
void cw__case_rebuild_states(cw_engine *e, cw_case *c);

/* A number no engine run of this process has used (cw_host.generation). */
uint64_t cw__next_generation(void);

#endif

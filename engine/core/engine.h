/*
 * The engine: case timelines, the rules run over them event by event, and
 * the findings they keep.
 *
 * Events are stored into their case's timeline (ordered by at, then seq)
 * and then processed in that order; each case has a horizon, the prefix
 * already processed, and what rules see of a case ends there. Storing and
 * processing are separate so that a file can be read whole, ordered, and
 * then replayed in time order across all cases (eval), while the service
 * processes each event as it comes (serve). An event that arrives older
 * than its case's horizon makes the engine replay that case, so the
 * findings are always those of the timeline in time order.
 *
 * Findings are kept per case, keyed by (rule, subject). A deadline
 * finding keeps due, lead and met, and its state is derived at the time
 * asked for, so the same records answer for any `now`.
 *
 * One thread owns an engine.
 */
#ifndef CW_ENGINE_H
#define CW_ENGINE_H

#include <stdbool.h>
#include <stdio.h>

#include "casewarden/plugin.h"
#include "base/err.h"
#include "event/evjson.h"
#include "core/rule.h"
#include "event/record.h"

/* A finding record, as the engine keeps it. */
typedef struct cw_frec {
    /* ordered for size: there is one per obligation and finding */
    uint16_t rule;           /* index in the ruleset */
    uint8_t mode;            /* enum cw_fmode */
    uint8_t fstate;          /* fixed: the state */
    uint8_t flags;           /* CW_FF_* */
    uint8_t mark;            /* scratch for sync */
    uint8_t punit;           /* enum cw_period_unit; 0 = use msg */
    uint32_t subject;        /* string id */
    uint32_t unit;           /* unit of the case when it arose */
    uint32_t plabel;         /* deadline: string id of what started it */
    int32_t lead;            /* seconds (a lead is at most weeks) */
    int32_t pn, pext;
    cw_time due, met, raised;
    cw_time pstart;
    cw_time timer_at;        /* the transition a timer is armed for */
    uint64_t whash;          /* digest of what the sink last stored; 0 = nothing */
    char *msg;               /* fixed: text; deadline: description, or NULL
                                when `period` describes it */
    char *evids;             /* "id\0id\0" ... "\0"; NULL = none */
} cw_frec;

/* A finding the sink stored that the rules no longer give: it must be
 * withdrawn, unless the same key comes back with the same digest. */
typedef struct cw_gone {
    uint16_t rule;
    bool settled;            /* the flush under way met it again */
    uint32_t subject;
    uint64_t whash;
} cw_gone;

/* A rule's per-case state (cw_host.case_slot). */
typedef struct cw_cslot {
    uint16_t rule;
    void *state;
} cw_cslot;

struct cw_case {
    uint32_t id;             /* string id of the case number */
    uint32_t idx;            /* position in the engine */
    uint32_t unit;           /* the unit that owns it (docs/DESIGN.md "Findings") */
    uint32_t kind, cause;    /* from its first case.accepted in time, */
    cw_time accepted_at, offence_at;  /* whenever that arrived */
    uint32_t nev, nproc;     /* events stored, processed */
    uint32_t len, cap, proclen;  /* timeline bytes; proclen = processed */
    uint32_t *offs;          /* offs[i]: offset of the i-th record */
    uint8_t *tl;
    cw_frec *fr;
    uint32_t nfr, capfr;
    cw_gone *gone;
    uint32_t ngone, capgone;
    cw_cslot *slots;         /* rules' per-case states */
    uint16_t nslots, capslots;
    bool dirty;              /* findings changed since the last flush */
    bool foreign;            /* of a partition another engine owns: only the
                                cross-case rules run on it (cw_engine_set_cross) */
    bool waking;             /* in the engine's heap of cases to look at */
    bool stale;              /* an event landed behind what it had seen: to be
                                judged again from its start (stays in memory) */
    bool partial;            /* judged again by the rules a reload changed only
                                (cw_engine_replay_changed): the others saw it all */
    uint8_t unit_from;       /* what gave the unit: 1 an event, 2 case.accepted,
                                3 case.transferred_unit */
    cw_time last_at;         /* its latest event processed */
    uint64_t has;            /* event types processed, as rules' `needs` bits */
};

typedef struct cw_engine cw_engine;

/*
 * Where a case that leaves memory goes, and where it comes back from: the
 * database (serve) or the run's spool (eval). save keeps the case's image
 * (cw_engine_load_image reads it back; the image is the caller's to keep
 * after the call); a case is only dropped once save returned 0. load
 * brings case_id back: cw_engine_load_image with its image, or, without
 * one, cw_engine_load_json / cw_engine_load_record for each of its stored
 * events and cw_engine_stored for each of its stored findings (the case is
 * then judged again from its start). Returns 0 or an error (the case comes
 * back with what was loaded).
 */
typedef struct cw_loader {
    int (*load)(void *ud, cw_engine *e, const char *case_id);
    int (*save)(void *ud, cw_engine *e, const char *case_id, const void *image, size_t len);
    void *ud;
    /* optional: every image kept, in one pass, each handed to
     * cw_engine_offer_image (a reload judges the cases out of memory so,
     * instead of asking load for each) */
    int (*each)(void *ud, cw_engine *e);
} cw_loader;

/* The state of finding r at time now, and when it arose (*raised). */
int cw_frec_state(const cw_frec *r, cw_time now, cw_time *raised);

/* A new engine over w with ruleset rs (both borrowed; rs may be replaced
 * later with cw_engine_set_ruleset_keep). */
cw_engine *cw_engine_new(cw_world *w, cw_ruleset *rs);
void cw_engine_free(cw_engine *e);
cw_world *cw_engine_world(const cw_engine *e);
cw_ruleset *cw_engine_ruleset(const cw_engine *e);

/* Whether e runs the cross-case rules (cw_rule.cross; the default). With
 * several engines one runs them over every case, the cases of the others'
 * partitions marked foreign (cw_case.foreign), and the others run every
 * rule but those on their own cases only: each finding has one writer. */
void cw_engine_set_cross(cw_engine *e, bool on);
/* fn(ud, case number) tells whether a case belongs to another engine's
 * partition; asked once, when e makes the case. NULL: none does. */
void cw_engine_set_foreign(cw_engine *e, bool (*fn)(void *ud, const char *case_id), void *ud);
/* Whether rule r runs on case c in e. */
bool cw_engine_rule_runs(const cw_engine *e, const cw_rule *r, const cw_case *c);

/* Encode a parsed event as a record (interning its strings) into
 * *buf[0..*len), replacing what was there. Returns the record size, or
 * CW_ELIMIT when it exceeds the record limits. */
int cw_engine_encode(cw_engine *e, const cw_pevent *pe, uint64_t seq, uint8_t **buf,
                     size_t *cap, cw_err *err);
/* The string id of a case number (interned). */
uint32_t cw_engine_case_sid(cw_engine *e, const char *id, size_t len);
/* Store a record into case case_sid (created when new, brought back
 * when it left memory), not processed yet. *c receives the case;
 * *in_order is false when the record landed before the case's horizon,
 * or the case was brought back: it must then be caught up with a replay,
 * and it stays in memory until then (other cases' processing may sweep
 * quiet cases out). A record of a seq the case already has is ignored (*c is still set). */
void cw_engine_store(cw_engine *e, uint32_t case_sid, const uint8_t *rec, cw_case **c,
                     bool *in_order);
/* Process the next stored event of c. Returns 1 when one was processed,
 * 0 when c has none left. */
int cw_engine_process_next(cw_engine *e, cw_case *c);
/* Process every stored event of c, replaying c from its start when an
 * event was stored behind its horizon. */
void cw_engine_catch_up(cw_engine *e, cw_case *c, bool replay);

/* Cases: ncases places, case_at(i) NULL for a free place. */
size_t cw_engine_ncases(const cw_engine *e);
cw_case *cw_engine_case_at(const cw_engine *e, size_t i);
/* The case in memory of string id sid, or NULL. */
cw_case *cw_engine_case_live(const cw_engine *e, uint32_t sid);
/* The case in memory of that number, or NULL. */
cw_case *cw_engine_case(const cw_engine *e, const char *id);

/* Let cases leave memory: a case whose findings are settled (no deadline
 * left that changes by time alone), flushed, and quiet for idle seconds
 * of event time is dropped, and brought back through l when an event,
 * another case's rule or a replay needs it. Without a loader (idle 0)
 * every case stays. */
void cw_engine_set_loader(cw_engine *e, const cw_loader *l, int64_t idle);
/* While l->load runs: the case's image; or one stored event of the case,
 * as JSON (parsed and checked against the catalogue; a bad one is
 * skipped) or as a record. */
int cw_engine_load_image(cw_engine *e, const void *image, size_t len);
int cw_engine_load_json(cw_engine *e, uint64_t seq, const char *json, size_t len);
void cw_engine_load_record(cw_engine *e, const uint8_t *rec);
/* Cases in memory, left memory, brought back. */
size_t cw_engine_live(const cw_engine *e);
uint64_t cw_engine_evicted(const cw_engine *e);
uint64_t cw_engine_loaded(const cw_engine *e);

/* Look up an event stored earlier by id (eval's duplicate check): the
 * case and seq of a record whose id equals id, via the caller's map. */
const uint8_t *cw_case_record(const cw_case *c, uint64_t seq);

/* ---- Findings out ---- */

/* A finding resolved for output. */
typedef struct cw_finding {
    const cw_rule *rule;
    const char *case_id;
    const char *subject;
    const char *unit;
    int state;
    cw_time due;             /* CW_TIME_NONE when none */
    cw_time raised;
    int32_t lead;            /* deadline: the warning lead, seconds; 0 none */
    char *message;           /* owned by the holder */
    const char **events;     /* ids of the events it rests on (owned array) */
    unsigned nevents;
    int64_t id;              /* 0 without a database */
    const char *review;      /* "open" without a database */
} cw_finding;

/* Resolve record r of case c at time now into f (f->message allocated;
 * free with cw_finding_clear). Returns the state (CW_ST_NONE: nothing to
 * show, f untouched). */
int cw_engine_resolve(cw_engine *e, const cw_case *c, const cw_frec *r, cw_time now,
                      cw_finding *f);
void cw_finding_clear(cw_finding *f);

/* Findings, resolved (cw_eval_findings collects them). */
typedef struct cw_findings {
    cw_finding *v;
    size_t n, cap;
} cw_findings;
void cw_findings_free(cw_findings *fs);

/* Output: one JSON object (appended to b, no newline) or line, or an
 * aligned table. */
struct cw_buf;
void cw_finding_json(const cw_finding *f, int tz, struct cw_buf *b);
void cw_finding_write_json(const cw_finding *f, int tz, FILE *out);
void cw_findings_write_table(const cw_findings *fs, int tz, FILE *out);

const char *cw_state_name(int state);
int cw_state_parse(const char *name);

/* ---- Findings to a store (the service) ---- */

typedef struct cw_sink {
    /* a finding new or changed; events_json is its `events` array */
    int (*upsert)(void *ud, const cw_finding *f, const char *events_json, uint64_t digest);
    /* a finding the rules no longer give */
    int (*remove)(void *ud, const char *rule, const char *case_id, const char *subject);
    void *ud;
} cw_sink;

/*
 * Hand the changes of every case marked dirty to sink, as of now, and arm
 * the timers for their next state changes. Nothing counts as stored until
 * cw_engine_flush_end(e, true) (after the store committed); with false,
 * the same changes are offered again by the next flush. *changes counts
 * the calls made. Returns 0 or the sink's first error.
 */
int cw_engine_flush(cw_engine *e, cw_time now, const cw_sink *sink, size_t *changes);
void cw_engine_flush_end(cw_engine *e, bool stored);
/* The store already holds this finding (at startup, or for a case the
 * loader brings back): remember it, so an equal one is not written again
 * and a missing one is withdrawn at the next flush. A case not seen yet
 * is made for it, without events (cw_engine_settle_stubs withdraws what
 * such cases still hold once every event was read); a rule that is gone
 * has its finding withdrawn at the next flush. */
void cw_engine_stored(cw_engine *e, const char *rule, const char *case_id, const char *subject,
                      uint64_t digest);
/* After a rebuild from the store: the findings of cases that had no
 * event are withdrawn at the next flush. */
void cw_engine_settle_stubs(cw_engine *e);
/* Move the clock to now: cases whose findings change state by then are
 * marked dirty. */
void cw_engine_tick(cw_engine *e, cw_time now);
size_t cw_engine_timers(const cw_engine *e);
size_t cw_engine_dirty(const cw_engine *e);
/* A rule reload: put rs in force, keeping what the rules of the same
 * version concluded (cw_rule.version under the same id, active in both):
 * their finding records stay; those of the other rules are forgotten,
 * their stored findings met again or withdrawn once judged again. The
 * cross-case indexes stay when rs indexes what the rules in force did.
 * Returns how many rules of rs are to judge history again. */
size_t cw_engine_set_ruleset_keep(cw_engine *e, cw_ruleset *rs);
/* After cw_engine_set_ruleset_keep: every case, in memory or not (brought
 * back through the loader), is judged again by the rules that were not
 * kept, and only by them. Case by case, letting those judged leave memory
 * again; in time order across all cases, with every case in memory, when
 * a rule not kept looks across cases or the indexes were rebuilt.
 * Returns the cases judged again; *events the events seen, *ordered
 * whether in time order across all cases (either may be NULL). */
size_t cw_engine_replay_changed(cw_engine *e, uint64_t *events, bool *ordered);
/* While cw_engine_replay_changed runs the loader's each: a case's image;
 * a case out of memory comes back from it, and is judged now if it is
 * not judged yet (case by case) or later with all (in time order); other
 * images are ignored. 0, or CW_EINVAL outside a replay. */
int cw_engine_offer_image(cw_engine *e, const void *image, size_t len);
/* Give back the room cases' arrays grew ahead of need (after a bulk
 * load: the service's rebuild, eval). */
void cw_engine_trim(cw_engine *e);
/* Time every rule call into cw_rule.nanos (for `check --events`; it
 * costs two clock reads per call). */
void cw_engine_time_rules(cw_engine *e, bool on);

/* ---- The reasoning behind one case's findings (casewarden explain) ---- */

/* One step a rule recorded through cw_host.trace. */
typedef struct cw_tstep {
    uint16_t rule;           /* index in the ruleset */
    uint32_t subject;        /* string id; 0 = the case, or every finding */
    char *kind, *text;
} cw_tstep;

/* The last deadline a rule stated for a subject of the case (met on
 * time before its warning window included, which leaves no record). */
typedef struct cw_tdead {
    uint16_t rule;
    uint32_t subject, label;
    uint8_t unit, flags;     /* enum cw_period_unit; CW_FF_* */
    int32_t n, ext;
    int64_t lead;
    cw_time start, due, met;
    char *msg;               /* the model's own description, or NULL */
    char *evids;             /* "id\0id\0...\0" */
} cw_tdead;

typedef struct cw_trace {
    uint32_t csid;           /* the case explained */
    cw_tdead *d;
    size_t nd, capd;
    bool active;             /* a rule's call on that case is under way */
    uint16_t rule;           /* ... and which rule */
    cw_tstep *v;
    size_t n, cap;
    uint64_t *calls;         /* per rule: the calls it had on the case */
    size_t nrules;
} cw_trace;

/* From now on keep what every rule says of its reasoning on case case_id
 * (NULL: keep nothing again). Only one case at a time; nothing is
 * recorded, and nothing costs, without it. */
void cw_engine_trace(cw_engine *e, const char *case_id);
const cw_trace *cw_engine_trace_of(const cw_engine *e);
/* Judge case case_id again from its start (brought back to memory when it
 * left it), as a late event would: with cw_engine_trace on it, to record
 * the reasoning of a case judged before. Findings that come out the same
 * are not written again. Returns 0, or -1 when the engine has no such
 * case. */
int cw_engine_rejudge(cw_engine *e, const char *case_id);
/* cw_host.trace: record one step (kind NULL: forget the rule's steps). */
void cw__trace_step(cw_engine *e, uint16_t rule, uint32_t subject, const char *kind,
                    const char *text);
/* A deadline a rule states while traced (core/frec.c). */
void cw__trace_deadline(cw_engine *e, uint16_t rule, const cw_finding_in *f);

/* The digest of a finding as stored: the same from an engine finding and
 * from a database row. */
uint64_t cw_finding_digest(const char *rule, const char *case_id, const char *subject,
                           const char *unit, const char *severity, const char *state, cw_time due,
                           cw_time raised, const char *message, const char *basis,
                           const char *events_json);
/* f's events as a JSON array, into b. */
void cw_finding_events_json(const cw_finding *f, struct cw_buf *b);

/* The engine's state as a snapshot (core/snapshot.c), into out; only
 * right after a flush that stored everything (else CW_EINVAL). */
int cw_engine_snapshot(cw_engine *e, struct cw_buf *out);
/* Read a snapshot back into a new engine over the same rules. Returns 0,
 * CW_EPARSE, or CW_ERULE (a model refused its state): the caller then
 * judges the log again in a new engine. */
int cw_engine_restore(cw_engine *e, const void *data, size_t n);

/* The cases in memory that keep() takes, each as its image, to fn: the
 * per-case part of the state (a partition's cases, for the engine that
 * takes the partition over; the cross-case indexes and the models' states
 * are not in it). Only right after a flush that stored everything (else
 * CW_EINVAL). */
int cw_engine_case_images(cw_engine *e, bool (*keep)(void *ud, const char *case_id),
                          void (*fn)(void *ud, const char *case_id, const void *image, size_t len),
                          void *ud);
/* One case from its image, into a running engine that does not hold it:
 * its rules' states rebuilt from its timeline, its timers armed at the
 * next flush. CW_EINVAL when the engine holds the case already, CW_EPARSE
 * for a damaged image (the engine is then not to be used further: the
 * caller judges the log again in a new one). */
int cw_engine_add_image(cw_engine *e, const void *image, size_t len);

/* Bytes held by cases, timelines, findings and indexes. */
size_t cw_engine_memory(const cw_engine *e);
/* Cases replayed from their start because an event arrived behind. */
uint64_t cw_engine_replays(const cw_engine *e);

#endif

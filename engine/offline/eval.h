/*
 * Evaluation without a database (casewarden eval, test, diff and the
 * benches): events from a JSONL file into an engine, ordered by time
 * across all cases, processed, then judged at a given `now`. The engine
 * lets settled cases leave memory meanwhile (their findings are kept by
 * the evaluation, their records in its spool).
 */
#ifndef CW_EVAL_H
#define CW_EVAL_H

#include <stdbool.h>
#include <stdio.h>

#include "core/engine.h"

typedef struct cw_eval_opts {
    cw_time now;             /* events after it have not happened yet */
    bool strict;             /* stop at the first bad line */
    bool parse_only;         /* parse and validate only */
    FILE *errors;            /* one line per bad event; NULL = silent */
    FILE *progress;          /* progress lines for long files; NULL = none */
    /* each bad event, besides the line in `errors` (may be NULL) */
    void (*on_error)(void *ud, size_t line, const cw_event_error *e);
    void *ud;
} cw_eval_opts;

typedef struct cw_eval_stats {
    size_t lines;            /* non-blank lines read */
    size_t accepted;         /* events stored */
    size_t duplicates;       /* the same event again */
    size_t rejected;         /* invalid, or the same id with another body */
    size_t future;           /* after `now`, left out */
    double read_s, process_s;
} cw_eval_stats;

/* An evaluation's own state: the reader, the parser, the id map and the
 * time order. One per engine. */
typedef struct cw_eval cw_eval;

cw_eval *cw_eval_new(cw_engine *e);
void cw_eval_free(cw_eval *ev);

/*
 * Read every event of a JSONL file ("-" = stdin) into the engine. Each
 * bad line is reported as "FILE:LINE: event ID: field 'F': what" and
 * skipped, or with strict ends the read with CW_EEVENT. The same event
 * again (same id and content) is skipped as a duplicate; the same id with
 * other content is rejected as a conflict naming the first line.
 * May be called for several files; events are numbered across them.
 */
int cw_eval_read(cw_eval *ev, const char *path, const cw_eval_opts *o, cw_eval_stats *st,
                 cw_err *err);
/* Read one event given as JSON text (fixtures). name and line are for
 * messages. Returns 0 (stored, or the same event again: counted in
 * st->duplicates, or after `now`: st->future) or CW_EPARSE, CW_EEVENT,
 * CW_ECONFLICT (reported). */
int cw_eval_add(cw_eval *ev, const char *json, size_t len, const char *name, size_t line,
                const cw_eval_opts *o, cw_eval_stats *st, cw_err *err);

/* An event parsed and checked by someone else (the reader of a threaded
 * evaluation, offline/peval.h), stored as event number seq (1, 2, ... in
 * the order of the lines, as cw_eval_add numbers them). Returns 0 or
 * CW_ELIMIT (the record limits: the reader checks them first). */
int cw_eval_add_checked(cw_eval *ev, const cw_pevent *pe, uint64_t seq, cw_err *err);

/* The line reader under cw_eval_read: fn gets every non-blank line of
 * path ("-" = stdin) in order, its number counted from 1; an overlong
 * line is reported (and counted in st) without reaching fn. A negative
 * return from fn with o->strict stops the read. */
typedef int cw_eval_line_fn(void *ud, const char *json, size_t len, const char *name, size_t line,
                            const cw_eval_opts *o, cw_eval_stats *st, cw_err *err);
int cw_eval_lines(const char *path, cw_eval_line_fn *fn, void *ud, const cw_eval_opts *o,
                  cw_eval_stats *st, cw_err *err);
/* One bad event, as cw_eval_read reports it ("NAME:LINE: what"). */
void cw_eval_report(const cw_eval_opts *o, const char *name, size_t line, const cw_event_error *e);

/* Process everything read, in time order across cases, as of o->now. */
void cw_eval_run(cw_eval *ev, const cw_eval_opts *o, cw_eval_stats *st);

/* Every finding as of the run's now, in output order (case, rule,
 * subject), the cases that left memory included. A non-zero return from
 * fn stops and is returned. cw_eval_findings collects copies that
 * outlive the evaluation (free with cw_findings_free). */
int cw_eval_each_finding(cw_eval *ev, int (*fn)(void *ud, const cw_finding *f), void *ud);
void cw_eval_findings(cw_eval *ev, cw_findings *out);

/* Bytes the evaluation itself holds (keys, links, ids, spool in memory,
 * results). */
size_t cw_eval_memory(const cw_eval *ev);

#endif

/*
 * Evaluation without a database: events from JSONL into a case store,
 * then every rule over every case at a given `now`.
 */
#ifndef CW_EVAL_H
#define CW_EVAL_H

#include <stdbool.h>
#include <stdio.h>

#include "cases.h"
#include "ruleset.h"

typedef struct cw_load_stats {
    size_t lines;            /* non-blank lines read */
    size_t accepted;         /* events stored */
    size_t duplicates;       /* same id and same body as an earlier line */
    size_t rejected;         /* invalid, or same id with another body */
} cw_load_stats;

typedef struct cw_load_opts {
    bool strict;             /* stop at the first bad line */
    bool parse_only;         /* parse and validate, store nothing */
    FILE *errors;            /* one line per bad event; NULL = silent */
} cw_load_opts;

/* A new store with the indexes the ruleset's rules asked for. */
int cw_eval_store_new(const cw_ruleset *rs, cw_store **out, cw_err *err);

/* Read events from a JSONL file ("-" = stdin) into st. Each bad line is
 * reported as "FILE:LINE: event ID: field 'F': what" and skipped, or,
 * with strict, ends the load with CW_EEVENT. Duplicate ids: the same
 * bytes again are skipped as duplicates; other bytes are rejected as a
 * conflict naming the first line. */
int cw_eval_load_jsonl(const cw_ruleset *rs, cw_store *st, const char *path,
                       const cw_load_opts *opts, cw_load_stats *stats, cw_err *err);

/* The case kind (case.accepted data.kind), or NULL. */
const char *cw_case_kind(const cw_ruleset *rs, const cw_case *c);

/* Evaluate every rule over one case, or over every case (sorting the
 * timelines first). emit receives each finding; its first error ends the
 * run and is returned. */
int cw_eval_case(const cw_ruleset *rs, const cw_store *st, const cw_case *c,
                 cw_time now, int (*emit)(void *ud, const cw_finding *f), void *ud);
int cw_eval_all(const cw_ruleset *rs, cw_store *st, cw_time now,
                int (*emit)(void *ud, const cw_finding *f), void *ud);

/* An emit callback that appends to a cw_findings (ud). */
int cw_findings_emit(void *ud, const cw_finding *f);

#endif

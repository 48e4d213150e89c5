/*
 * The reasoning behind one case's findings (casewarden explain): what
 * each rule concluded about the case, or why it concluded nothing, step
 * by step, from the finding records, the deadlines the rules stated and
 * the steps they recorded through cw_host.trace while the engine traced
 * that case (cw_engine_trace).
 */
#ifndef CW_EXPLAIN_H
#define CW_EXPLAIN_H

#include <stdio.h>

#include "core/engine.h"

typedef struct cw_xstep {
    char kind[24];           /* events, start, period, extension, refused,
                                calendar, rollover, due, met, state, age,
                                table, peers, condition, scope, ... */
    char *text;
} cw_xstep;

typedef struct cw_xsteps {
    cw_xstep *v;
    size_t n, cap;
} cw_xsteps;

/* One finding, or one subject a rule judged without a finding. */
typedef struct cw_xfind {
    char *subject;
    const char *state;       /* state name, or "none" */
    char *message;           /* NULL for none */
    cw_time due;
    cw_xsteps steps;
} cw_xfind;

typedef struct cw_xrule {
    const cw_rule *rule;
    uint64_t calls;          /* calls the rule had on the case */
    char *absent;            /* why it has nothing to say, or NULL */
    cw_xsteps steps;         /* steps not tied to one finding */
    cw_xfind *f;
    size_t nf;
} cw_xrule;

typedef struct cw_explain {
    char *case_id;
    cw_time now;
    int tz;
    bool found;              /* the case has events */
    cw_xrule *r;
    size_t nr;
    size_t silent;           /* rules left out: nothing to say */
} cw_explain;

/*
 * Explain case case_id as of now, from engine e after it processed the
 * case's events with cw_engine_trace on that case. rule_id and subject
 * (may be NULL) narrow it to one rule (explained even when it said
 * nothing) and one subject.
 */
void cw_explain_build(cw_engine *e, const char *case_id, const char *rule_id,
                      const char *subject, cw_time now, cw_explain *out);
void cw_explain_free(cw_explain *x);
void cw_explain_text(const cw_explain *x, FILE *out);
void cw_explain_json(const cw_explain *x, struct cw_buf *b);

#endif

/*
 * A ruleset: the engine configuration, catalogue, calendar and rules of a
 * rules directory, loaded as one unit so that a reload either replaces
 * the whole of it or nothing.
 *
 *     DIR/engine.yaml       timezone, catalogue and calendar paths (optional)
 *     DIR/catalogue.yaml    event catalogue
 *     DIR/calendar/NNNN.yaml legal calendar, one file per year
 *     DIR/NAME.yaml          rule files: a top-level `rules:` list
 *     DIR/tests/NAME.yaml    fixture tests (casewarden test)
 */
#ifndef CW_RULESET_H
#define CW_RULESET_H

#include <stdbool.h>
#include <stddef.h>

#include "calendar.h"
#include "cases.h"
#include "catalogue.h"
#include "err.h"
#include "finding.h"
#include "yamltree.h"

typedef struct cw_rule cw_rule;
typedef struct cw_ruleset cw_ruleset;

/* What a model sees while it evaluates one case. */
typedef struct cw_evalctx {
    const cw_ruleset *rs;
    const cw_store *store;
    const cw_case *c;
    const char *kind;        /* the case kind from case.accepted, or NULL */
    cw_time now;
    /* Where findings go; the finding is borrowed for the call. */
    int (*emit)(void *ud, const cw_finding *f);
    void *ud;
    int rc;                  /* first error from emit */
} cw_evalctx;

/* A model: reusable logic that rules instantiate with parameters. */
typedef struct cw_model {
    const char *name;
    /* Read the rule's `params` map into r->state. Errors name file:line. */
    int (*configure)(cw_rule *r, cw_ruleset *rs, const cw_ydoc *doc,
                     const cw_ynode *params, cw_err *err);
    /* Judge one case at ctx->now and emit its findings. */
    void (*eval_case)(const cw_rule *r, cw_evalctx *ctx);
    void (*free_state)(void *state);
} cw_model;

struct cw_rule {
    char *id, *title, *severity, *basis;
    char *file;              /* where it was declared */
    int line;
    const cw_model *model;
    void *state;             /* the model's */
    char *kind;              /* scope: case kind, or NULL for any */
    char **units;            /* scope: unit prefixes; none = all */
    size_t nunits;
    cw_day from, to;         /* effective period, inclusive */
};

struct cw_ruleset {
    char *dir;
    int tz;                  /* minutes east of UTC */
    cw_catalogue *cat;
    cw_calendar *cal;
    cw_rule **rules;
    size_t nrules;
    cw_index_spec *indexes;  /* cross-case indexes rules asked for */
    size_t nindexes;
    int t_accepted;          /* type id of case.accepted, or -1 */
};

/* Load everything under dir. All problems are reported through err (the
 * first) and, when `report` is not NULL, each one as a line to report.
 * Caller frees with cw_ruleset_free. */
int cw_ruleset_load(cw_ruleset **out, const char *dir, FILE *report, cw_err *err);
void cw_ruleset_free(cw_ruleset *rs);

const cw_rule *cw_ruleset_find(const cw_ruleset *rs, const char *id);

/* For models at configure time: ask the store for a cross-case index. */
int cw_ruleset_want_index(cw_ruleset *rs, int type, const char *field);
/* A type id by name, with a "file:line: unknown event type" error. */
int cw_ruleset_type(const cw_ruleset *rs, const cw_ydoc *doc, const cw_ynode *n,
                    int *type, cw_err *err);

/* Whether the rule applies to an act or step at time t in a case of the
 * given kind and unit. */
bool cw_rule_applies(const cw_rule *r, const cw_ruleset *rs, const char *kind,
                     const char *unit, cw_time t);

/* Emit a finding prefilled from the rule (rule, severity, basis). */
void cw_rule_emit(const cw_rule *r, cw_evalctx *ctx, cw_finding *f);

/* The models built into the engine. */
extern const cw_model cw_model_deadline;

#endif

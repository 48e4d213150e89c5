/*
 * Reports over the store (DESIGN.md "HTTP API", GET /v1/reports/quality;
 * `casewarden report`): the quality assessment (执法质量考评) of units,
 * officers or rules for a period, with the deductions of
 * rules/scoring.yaml, and the backlog of old open cases (积案).
 *
 * The figures are computed here, once, for every output: JSON (the API,
 * the console), CSV (UTF-8 with a BOM and Chinese headers, for a
 * spreadsheet) and an aligned table (the terminal).
 */
#ifndef CW_REPORT_H
#define CW_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "store/store.h"

/* The rules' judgements a report counts, in this order. */
#define CW_REPORT_NSTATES 6
extern const char *const cw_report_states[CW_REPORT_NSTATES];
/* Their Chinese names. */
extern const char *const cw_report_state_names[CW_REPORT_NSTATES];

#define CW_REPORT_MAXBANDS 8

/* rules/scoring.yaml. */
typedef struct cw_scoring {
    double base, floor;
    double sev[4][CW_REPORT_NSTATES];    /* low, medium, high, critical */
    struct cw_rule_weights {
        char *rule;
        double w[CW_REPORT_NSTATES];     /* < 0: the severity's */
    } *rules;
    size_t nrules;
    double rect_overdue, rect_late, reopened;
    unsigned backlog_days;
    unsigned bands[CW_REPORT_MAXBANDS];
    size_t nbands;
} cw_scoring;

/* Read a scoring file; every problem names path:line. */
int cw_scoring_load(cw_scoring **out, const char *path, cw_err *err);
void cw_scoring_free(cw_scoring *s);
/* The points off for one finding of rule, severity and state. */
double cw_scoring_weight(const cw_scoring *s, const char *rule, const char *severity, const char *state);

/* The deployment's offset (minutes) from a rules directory's
 * engine.yaml (`timezone`), +08:00 when it names none. */
int cw_report_tz(const char *rules_dir, int *tz, cw_err *err);

typedef enum { CW_REPORT_BY_UNIT, CW_REPORT_BY_OFFICER, CW_REPORT_BY_RULE } cw_report_by;
/* "unit", "officer" or "rule" into *out; CW_EINVAL for another. */
int cw_report_by_parse(const char *s, cw_report_by *out);

typedef struct cw_report_opts {
    const char *scope;       /* unit prefix ("" or NULL: all) */
    cw_day from, to;         /* the period: these local days, both included */
    cw_time now;             /* for overdue rectifications and exemptions */
    cw_report_by by;
    unsigned level;          /* by unit: the prefix length of a group (2-12) */
    int tz;                  /* minutes */
} cw_report_opts;

typedef struct cw_report cw_report;

/* Compute the quality report. */
int cw_report_quality(cw_db *db, const cw_scoring *sc, const cw_report_opts *o, cw_report **out,
                      cw_err *err);
void cw_report_free(cw_report *r);
/* Outputs, appended to b. */
void cw_report_json(const cw_report *r, cw_buf *b);
void cw_report_csv(const cw_report *r, cw_buf *b);
void cw_report_table(const cw_report *r, cw_buf *b);

typedef struct cw_backlog cw_backlog;

/* The backlog at o->now (o->from, o->to and o->by unused; by unit at
 * o->level). */
int cw_report_backlog(cw_db *db, const cw_scoring *sc, const cw_report_opts *o, cw_backlog **out,
                      cw_err *err);
void cw_backlog_free(cw_backlog *b);
void cw_backlog_json(const cw_backlog *bl, cw_buf *b);
void cw_backlog_csv(const cw_backlog *bl, cw_buf *b);
void cw_backlog_table(const cw_backlog *bl, cw_buf *b);

#endif

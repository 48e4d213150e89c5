/*
 * Findings: one rule's judgement about one case (and subject), and the
 * ordered set that eval and the fixture runner collect them into.
 */
#ifndef CW_FINDING_H
#define CW_FINDING_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "event.h"
#include "timeutil.h"

#define CW_SUBJECT_MAX 96
#define CW_FINDING_EVENTS 8

#define CW_STATE_MAP(X) \
    X(WARNING, "warning")     \
    X(OVERDUE, "overdue")     \
    X(LATE, "late")           \
    X(VIOLATION, "violation") \
    X(ANOMALY, "anomaly")     \
    X(CLEARED, "cleared")

typedef enum {
#define X(name, text) CW_ST_##name,
    CW_STATE_MAP(X)
#undef X
    CW_ST_COUNT
} cw_state;

const char *cw_state_name(int state);
/* The state for a name, or -1. */
int cw_state_parse(const char *name);

typedef struct cw_finding {
    int64_t id;                          /* 0 without a database */
    const char *rule;                    /* borrowed from the rule */
    const char *severity;                /* borrowed from the rule */
    const char *basis;                   /* borrowed from the rule */
    char case_id[CW_ID_MAX + 1];
    char subject[CW_SUBJECT_MAX + 1];
    char unit[CW_UNIT_MAX + 1];
    int state;                           /* cw_state */
    cw_time due;                         /* CW_TIME_NONE when none */
    cw_time raised;
    char *message;                       /* owned by whoever holds the finding */
    const char *events[CW_FINDING_EVENTS];   /* ids, borrowed from the store */
    uint32_t nevents;
} cw_finding;

/* An ordered, growable set of findings that owns their messages. */
typedef struct cw_findings {
    cw_finding *v;
    size_t n, cap;
} cw_findings;

/* Append a copy of f (its message copied too). */
int cw_findings_add(cw_findings *fs, const cw_finding *f);
/* Order by case, rule, subject: the output order of eval and test. */
void cw_findings_sort(cw_findings *fs);
void cw_findings_clear(cw_findings *fs);

/* One finding as a JSON object on one line (DESIGN.md's fields; "id" only
 * when non-zero). Times at the given UTC offset. */
int cw_finding_write_json(const cw_finding *f, int off_min, FILE *out);
/* All findings as an aligned text table with a header and a count line. */
int cw_findings_write_table(const cw_findings *fs, int off_min, FILE *out);

#endif

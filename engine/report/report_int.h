/*
 * What the report's files share: the computed figures, and the writers'
 * helpers. Only engine/report/ includes this.
 */
#ifndef CW_REPORT_INT_H
#define CW_REPORT_INT_H

#include <stdlib.h>

#include "report/report.h"

/* One group's figures (a unit, an officer or a rule; and, nested, its
 * counts by rule). */
typedef struct cw_rgroup {
    char *key;
    uint64_t n, st[CW_REPORT_NSTATES];
    uint64_t deadline;               /* findings with a due time */
    uint64_t assigned, on_time, rect_late, rect_overdue;
    uint64_t resolved, dismissed, reopened;
    double *hours;                   /* raised → 销号, of the resolved ones */
    size_t nh, caph;
    double median_h, deduction, score;
    unsigned rank;
    struct cw_rgroup *rules;
    size_t nrules, caprules;
} cw_rgroup;

typedef struct cw_rseries {
    char *rule;
    uint64_t *c;                     /* per bucket */
} cw_rseries;

struct cw_report {
    cw_report_opts o;
    char scope[16];
    double base, floor;
    cw_rgroup *g;
    size_t ng, capg;
    cw_rgroup total;
    /* findings per rule over the period */
    bool weekly;
    cw_day first;
    size_t nbuckets;
    cw_rseries *series;
    size_t nseries, capseries;
};

void cw__rgroup_clear(cw_rgroup *g);

/* qsort, but for nothing (whose array may be NULL) it does nothing. */
static inline void cw__sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

/* Writers: a column of a table (width in terminal cells), CSV fields. */
size_t cw__display_width(const char *s);
void cw__pad(cw_buf *b, const char *s, size_t width, bool right);
void cw__csv_field(cw_buf *b, const char *s, bool last);
/* "50.0%" for a ratio, "" when there is no denominator. */
void cw__percent(char *buf, size_t size, uint64_t num, uint64_t den);
/* A ratio to 4 decimals as JSON, or null. */
void cw__json_ratio(cw_buf *b, uint64_t num, uint64_t den);

#endif

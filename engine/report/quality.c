/*
 * The quality assessment (执法质量考评) of a period, per unit (at a prefix
 * level), officer (the rectification's assignee) or rule: what the rules
 * found, how the rectification loop went, and a score with the
 * deductions of rules/scoring.yaml, ranked. docs/SERVICE.md defines
 * every figure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

static int state_index(const char *s)
{
    for (int i = 0; i < CW_REPORT_NSTATES; i++)
        if (strcmp(cw_report_states[i], s) == 0)
            return i;
    return -1;
}

static cw_rgroup *group_of(cw_rgroup **v, size_t *n, size_t *cap, const char *key)
{
    for (size_t i = *n; i > 0; i--)
        if (strcmp((*v)[i - 1].key, key) == 0)
            return &(*v)[i - 1];
    CW_GROW(*v, *cap, *n + 1);
    memset(&(*v)[*n], 0, sizeof **v);
    (*v)[*n].key = cw_xstrdup(key);
    return &(*v)[(*n)++];
}

static void count(cw_rgroup *g, const cw_report *rp, const cw_store_report_row *x, double off)
{
    int st = state_index(x->state);
    cw_rgroup *rule;

    g->n++;
    if (st >= 0)
        g->st[st]++;
    if (x->due != CW_TIME_NONE)
        g->deadline++;
    if (x->rect_due != CW_TIME_NONE) {
        g->assigned++;
        if (x->resolved_at != CW_TIME_NONE && x->resolved_at <= x->rect_due)
            g->on_time++;
        else if (x->resolved_at != CW_TIME_NONE)
            g->rect_late++;
        else if (strcmp(x->review, "assigned") == 0 && x->rect_due < rp->o.now)
            g->rect_overdue++;
    }
    if (strcmp(x->review, "resolved") == 0) {
        g->resolved++;
        if (x->resolved_at != CW_TIME_NONE) {
            CW_GROW(g->hours, g->caph, g->nh + 1);
            g->hours[g->nh++] = (double)(x->resolved_at - x->raised) / 3600.0;
        }
    } else if (strcmp(x->review, "dismissed") == 0) {
        g->dismissed++;
    } else if (strcmp(x->review, "reopened") == 0) {
        g->reopened++;
    }
    g->deduction += off;
    rule = group_of(&g->rules, &g->nrules, &g->caprules, x->rule);
    rule->n++;
    if (st >= 0)
        rule->st[st]++;
}

/* The points a finding costs: its judgement, and the loop. */
static double deduction(const cw_scoring *sc, const cw_report *rp, const cw_store_report_row *x)
{
    double off = cw_scoring_weight(sc, x->rule, x->severity, x->state);

    if (x->rect_due != CW_TIME_NONE && x->resolved_at == CW_TIME_NONE && strcmp(x->review, "assigned") == 0 &&
        x->rect_due < rp->o.now)
        off += sc->rect_overdue;
    if (x->rect_due != CW_TIME_NONE && x->resolved_at != CW_TIME_NONE && x->resolved_at > x->rect_due)
        off += sc->rect_late;
    if (strcmp(x->review, "reopened") == 0)
        off += sc->reopened;
    return off;
}

static void series_add(cw_report *rp, const cw_store_report_row *x)
{
    cw_day d = cw_time_day(x->raised, rp->o.tz);
    size_t b;
    cw_rseries *s = NULL;

    if (d < rp->first)
        return;
    b = (size_t)(d - rp->first) / (rp->weekly ? 7 : 1);
    if (b >= rp->nbuckets)
        return;
    for (size_t i = 0; i < rp->nseries; i++)
        if (strcmp(rp->series[i].rule, x->rule) == 0)
            s = &rp->series[i];
    if (s == NULL) {
        CW_GROW(rp->series, rp->capseries, rp->nseries + 1);
        s = &rp->series[rp->nseries++];
        s->rule = cw_xstrdup(x->rule);
        s->c = cw_xcalloc(rp->nbuckets, sizeof *s->c);
    }
    s->c[b]++;
}

typedef struct collect {
    cw_report *rp;
    const cw_scoring *sc;
} collect;

static int take_row(void *ud, const cw_store_report_row *x)
{
    collect *c = ud;
    cw_report *rp = c->rp;
    char key[80];
    double off = deduction(c->sc, rp, x);

    switch (rp->o.by) {
    case CW_REPORT_BY_UNIT:
        snprintf(key, sizeof key, "%.*s", (int)rp->o.level, x->unit);
        break;
    case CW_REPORT_BY_OFFICER:
        snprintf(key, sizeof key, "%s",
                 x->assignee && x->assignee_kind && strcmp(x->assignee_kind, "officer") == 0 ? x->assignee : "");
        break;
    default:
        snprintf(key, sizeof key, "%s", x->rule);
        break;
    }
    count(group_of(&rp->g, &rp->ng, &rp->capg, key), rp, x, off);
    count(&rp->total, rp, x, off);
    series_add(rp, x);
    return 0;
}

static int by_hours(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void settle(cw_rgroup *g, const cw_scoring *sc)
{
    g->score = sc->base - g->deduction;
    if (g->score < sc->floor)
        g->score = sc->floor;
    /* one decimal, as the weights */
    g->score = round(g->score * 10) / 10;
    g->deduction = round(g->deduction * 10) / 10;
    if (g->nh > 0) {
        cw__sort(g->hours, g->nh, sizeof *g->hours, by_hours);
        g->median_h = g->nh % 2 ? g->hours[g->nh / 2] : (g->hours[g->nh / 2 - 1] + g->hours[g->nh / 2]) / 2;
    }
}

/* Ranked: the higher score first; equal scores share a rank, and are
 * listed by key. */
static int by_score(const void *a, const void *b)
{
    const cw_rgroup *x = a, *y = b;

    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->key, y->key);
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const cw_rgroup *)a)->key, ((const cw_rgroup *)b)->key);
}

int cw_report_quality(cw_db *db, const cw_scoring *sc, const cw_report_opts *o, cw_report **out,
                      cw_err *err)
{
    cw_report *rp = cw_xcalloc(1, sizeof *rp);
    collect c = { rp, sc };
    int rc;

    *out = NULL;
    rp->o = *o;
    snprintf(rp->scope, sizeof rp->scope, "%s", o->scope ? o->scope : "");
    rp->o.scope = rp->scope;
    rp->total.key = cw_xstrdup("");
    /* by day up to two months, else by ISO week (from Monday) */
    rp->weekly = o->to - o->from >= 62;
    rp->first = rp->weekly ? o->from - cw_day_weekday(o->from) : o->from;
    rp->nbuckets = (size_t)(o->to - rp->first) / (rp->weekly ? 7 : 1) + 1;
    rc = cw_store_report_rows(db, o->scope, cw_day_start(o->from, o->tz), cw_day_start(o->to + 1, o->tz),
                              o->now, take_row, &c, err);
    if (rc < 0) {
        cw_report_free(rp);
        return rc;
    }
    for (size_t i = 0; i < rp->ng; i++) {
        settle(&rp->g[i], sc);
        cw__sort(rp->g[i].rules, rp->g[i].nrules, sizeof *rp->g[i].rules, by_key);
    }
    settle(&rp->total, sc);
    cw__sort(rp->total.rules, rp->total.nrules, sizeof *rp->total.rules, by_key);
    cw__sort(rp->g, rp->ng, sizeof *rp->g, by_score);
    for (size_t i = 0; i < rp->ng; i++)
        rp->g[i].rank = i > 0 && rp->g[i].score == rp->g[i - 1].score ? rp->g[i - 1].rank : (unsigned)i + 1;
    rp->base = sc->base;
    rp->floor = sc->floor;
    *out = rp;
    return 0;
}

static void group_free(cw_rgroup *g)
{
    for (size_t i = 0; i < g->nrules; i++)
        cw__rgroup_clear(&g->rules[i]);
    cw__rgroup_clear(g);
}

void cw__rgroup_clear(cw_rgroup *g)
{
    free(g->key);
    free(g->hours);
    free(g->rules);
}

void cw_report_free(cw_report *rp)
{
    if (rp == NULL)
        return;
    for (size_t i = 0; i < rp->ng; i++)
        group_free(&rp->g[i]);
    free(rp->g);
    group_free(&rp->total);
    for (size_t i = 0; i < rp->nseries; i++) {
        free(rp->series[i].rule);
        free(rp->series[i].c);
    }
    free(rp->series);
    free(rp);
}

/*
 * rules/scoring.yaml: the deductions of the quality assessment, and the
 * backlog's age bands. The shipped file documents every weight.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/yamltree.h"
#include "report/report.h"

const char *const cw_report_states[CW_REPORT_NSTATES] = {
    "warning", "overdue", "late", "violation", "anomaly", "cleared"
};
const char *const cw_report_state_names[CW_REPORT_NSTATES] = {
    "预警", "超期", "逾期完成", "违规", "异常", "按期完成"
};
static const char *const severities[4] = { "low", "medium", "high", "critical" };

static int find(const char *const *set, size_t n, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(set[i], v) == 0)
            return (int)i;
    return -1;
}

typedef struct sc_rd {
    const cw_ydoc *d;
    cw_err *err;
    int rc;
} sc_rd;

static void bad(sc_rd *r, const cw_ynode *n, const char *what, const char *name)
{
    if (r->rc == 0)
        r->rc = cw_err_set(r->err, CW_ECONFIG, "%s:%d: %s%s", r->d->path, n ? n->line : 1, what,
                           name ? name : "");
}

/* Points: a number from 0 to 100, at most one decimal. */
static void points(sc_rd *r, const cw_ynode *v, double *out)
{
    char *end;
    double x;

    if (v == NULL || v->type != CW_Y_SCALAR || v->quoted || (x = strtod(v->text, &end), *end) ||
        x < 0 || x > 100 || fabs(x * 10 - round(x * 10)) > 1e-9) {
        bad(r, v, "expected points from 0 to 100 with at most one decimal", NULL);
        return;
    }
    *out = x;
}

/* A map of state: points into w. */
static void weights(sc_rd *r, const cw_ynode *m, double *w)
{
    if (m->type != CW_Y_MAP) {
        bad(r, m, "expected a map of state: points", NULL);
        return;
    }
    for (size_t i = 0; i < cw_ymap_size(m) && r->rc == 0; i++) {
        const cw_ynode *k = cw_ymap_key(m, i);
        int s = find(cw_report_states, CW_REPORT_NSTATES, k->text);
        if (s < 0) {
            bad(r, k, "unknown state (warning, overdue, late, violation, anomaly, cleared): ", k->text);
            return;
        }
        points(r, cw_ymap_val(m, i), &w[s]);
    }
}

static bool only(sc_rd *r, const cw_ynode *m, const char *const *keys)
{
    for (size_t i = 0; i < cw_ymap_size(m); i++) {
        const cw_ynode *k = cw_ymap_key(m, i);
        int j;
        for (j = 0; keys[j] && strcmp(keys[j], k->text) != 0; j++)
            ;
        if (keys[j] == NULL) {
            bad(r, k, "unknown key ", k->text);
            return false;
        }
    }
    return true;
}

static void backlog(sc_rd *r, cw_scoring *s, const cw_ynode *m)
{
    static const char *const keys[] = { "age_days", "bands", NULL };
    const cw_ynode *v;
    int64_t n;

    if (m->type != CW_Y_MAP || !only(r, m, keys))
        return bad(r, m, "backlog: expected {age_days, bands}", NULL);
    if ((v = cw_ymap_get(m, "age_days")) != NULL) {
        if (cw_ynode_int(r->d, v, "age_days", &n, r->err) < 0 || n < 1 || n > 3650)
            return bad(r, v, "backlog.age_days: expected 1 to 3650", NULL);
        s->backlog_days = (unsigned)n;
    }
    if ((v = cw_ymap_get(m, "bands")) != NULL) {
        if (v->type != CW_Y_SEQ || v->n == 0 || v->n > CW_REPORT_MAXBANDS)
            return bad(r, v, "backlog.bands: expected a list of 1 to 8 day counts", NULL);
        s->nbands = 0;
        for (size_t i = 0; i < v->n; i++) {
            if (cw_ynode_int(r->d, v->kids[i], "bands", &n, r->err) < 0 || n < 1 || n > 3650 ||
                (i > 0 && (unsigned)n <= s->bands[i - 1]))
                return bad(r, v->kids[i], "backlog.bands: expected growing day counts from 1 to 3650",
                           NULL);
            s->bands[s->nbands++] = (unsigned)n;
        }
    }
}

static void read_doc(sc_rd *r, cw_scoring *s, const cw_ynode *root)
{
    static const char *const top[] = { "base", "floor", "severity", "rules", "loop", "backlog", NULL };
    static const char *const loop[] = { "rect_overdue", "rect_late", "reopened", NULL };
    const cw_ynode *v;

    if (root == NULL || root->type != CW_Y_MAP)
        return bad(r, root, "expected a map of settings", NULL);
    if (!only(r, root, top))
        return;
    if ((v = cw_ymap_get(root, "base")) != NULL)
        points(r, v, &s->base);
    if ((v = cw_ymap_get(root, "floor")) != NULL)
        points(r, v, &s->floor);
    if ((v = cw_ymap_get(root, "severity")) != NULL) {
        if (v->type != CW_Y_MAP)
            return bad(r, v, "severity: expected a map of severity: {state: points}", NULL);
        for (size_t i = 0; i < cw_ymap_size(v) && r->rc == 0; i++) {
            const cw_ynode *k = cw_ymap_key(v, i);
            int sv = find(severities, 4, k->text);
            if (sv < 0)
                return bad(r, k, "unknown severity (low, medium, high, critical): ", k->text);
            weights(r, cw_ymap_val(v, i), s->sev[sv]);
        }
    }
    if ((v = cw_ymap_get(root, "rules")) != NULL) {
        if (v->type != CW_Y_MAP)
            return bad(r, v, "rules: expected a map of rule id: {state: points}", NULL);
        s->rules = cw_xcalloc(cw_ymap_size(v) + 1, sizeof *s->rules);
        for (size_t i = 0; i < cw_ymap_size(v) && r->rc == 0; i++) {
            struct cw_rule_weights *w = &s->rules[s->nrules++];
            w->rule = cw_xstrdup(cw_ymap_key(v, i)->text);
            for (int k = 0; k < CW_REPORT_NSTATES; k++)
                w->w[k] = -1;
            weights(r, cw_ymap_val(v, i), w->w);
        }
    }
    if ((v = cw_ymap_get(root, "loop")) != NULL) {
        if (v->type != CW_Y_MAP || !only(r, v, loop))
            return bad(r, v, "loop: expected {rect_overdue, rect_late, reopened}", NULL);
        if (cw_ymap_get(v, "rect_overdue"))
            points(r, cw_ymap_get(v, "rect_overdue"), &s->rect_overdue);
        if (cw_ymap_get(v, "rect_late"))
            points(r, cw_ymap_get(v, "rect_late"), &s->rect_late);
        if (cw_ymap_get(v, "reopened"))
            points(r, cw_ymap_get(v, "reopened"), &s->reopened);
    }
    if ((v = cw_ymap_get(root, "backlog")) != NULL)
        backlog(r, s, v);
    if (r->rc == 0 && s->floor > s->base)
        bad(r, cw_ymap_get(root, "floor"), "floor is above base", NULL);
}

int cw_scoring_load(cw_scoring **out, const char *path, cw_err *err)
{
    cw_scoring *s = cw_xcalloc(1, sizeof *s);
    cw_ydoc *d;
    sc_rd r = { NULL, err, 0 };

    *out = NULL;
    s->base = 100;
    s->backlog_days = 60;
    s->bands[0] = 60;
    s->nbands = 1;
    if (cw_ydoc_load(&d, path, err) < 0) {
        cw_scoring_free(s);
        return CW_ECONFIG;
    }
    r.d = d;
    read_doc(&r, s, d->root);
    cw_ydoc_free(d);
    if (r.rc < 0) {
        cw_scoring_free(s);
        return r.rc;
    }
    if (s->bands[0] > s->backlog_days)
        s->backlog_days = s->bands[0];
    *out = s;
    return 0;
}

void cw_scoring_free(cw_scoring *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nrules; i++)
        free(s->rules[i].rule);
    free(s->rules);
    free(s);
}

double cw_scoring_weight(const cw_scoring *s, const char *rule, const char *severity, const char *state)
{
    int st = find(cw_report_states, CW_REPORT_NSTATES, state), sv = find(severities, 4, severity);

    if (st < 0)
        return 0;
    for (size_t i = 0; i < s->nrules; i++)
        if (strcmp(s->rules[i].rule, rule) == 0 && s->rules[i].w[st] >= 0)
            return s->rules[i].w[st];
    return sv < 0 ? 0 : s->sev[sv][st];
}

int cw_report_tz(const char *rules_dir, int *tz, cw_err *err)
{
    char *path = cw_path_join(rules_dir, "engine.yaml");
    const cw_ynode *v;
    cw_ydoc *d;
    int rc = 0;

    *tz = 8 * 60;
    if (cw_ydoc_load(&d, path, err) < 0) {
        free(path);
        return CW_ECONFIG;
    }
    v = d->root ? cw_ymap_get(d->root, "timezone") : NULL;
    if (v && (v->type != CW_Y_SCALAR || cw_tz_parse(v->text, tz) < 0))
        rc = cw_err_set(err, CW_ECONFIG, "%s:%d: timezone: expected +HH:MM", path, v->line);
    cw_ydoc_free(d);
    free(path);
    return rc;
}
